"""A student given as an HF folder starts from its own weights, and says which
extraction flags it did not apply (ETD needs a preset shape to cut the teacher to)."""
import numpy as np
import pytest

from tests.distill import helpers
from xtremedistil_tf.checkpoints import to_hf
from xtremedistil_tf.distill.distill_config import DistillConfig
from xtremedistil_tf.distill.student_builder import build_student
from xtremedistil_tf.tokenizers import Tokenizer

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture(scope="module")
def folder_student(tmp_path_factory):
    tokenizer = Tokenizer.from_vocab(
        SPECIAL + [f"word{i}" for i in range(helpers.VOCAB - len(SPECIAL))])
    student = helpers.tiny_student()
    folder = tmp_path_factory.mktemp("folder_student") / "student"
    to_hf(student, tokenizer, str(folder))
    return str(folder), student, tokenizer


@pytest.mark.parametrize("flags, named", [
    (dict(student_init="etd_impt", etd_refit=True),
     ["--student_init=etd_impt", "--etd_refit", "--importance_batches=8"]),
    (dict(student_init="etd_rand"), ["--student_init=etd_rand"]),
    (dict(student_init="random", etd_refit=True),
     ["--student_init=random", "--etd_refit", "--importance_batches=8"]),
])
def test_extraction_flags_on_a_folder_student_are_named(folder_student, tmp_path, flags, named):
    folder, original, tokenizer = folder_student
    config = DistillConfig(student=folder, output_dir=str(tmp_path), **flags)
    student, info = build_student(config, helpers.tiny_teacher(), tokenizer)
    assert info["method"] == "folder"
    for flag in named:
        assert flag in info["not_applied"]
    if "--etd_refit" not in named:
        assert "--etd_refit" not in info["not_applied"]
    # Nothing was extracted or refitted: the weights are the folder's.
    for got, want in zip(student.weights, original.weights):
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_no_note_when_no_extraction_was_asked(folder_student, tmp_path):
    folder, _, tokenizer = folder_student
    config = DistillConfig(student=folder, output_dir=str(tmp_path), student_init="random")
    _, info = build_student(config, helpers.tiny_teacher(), tokenizer)
    assert "not_applied" not in info
