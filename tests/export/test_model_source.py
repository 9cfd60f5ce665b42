"""`--model` accepts a .keras file, a fine-tuning/distillation folder, or an HF folder."""
import numpy as np
import pytest
from xtremedistil_tf.checkpoints import to_hf
from xtremedistil_tf.export import load_model_source
from xtremedistil_tf.models import Encoder
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

from tests.export.conftest import LABELS, tiny_classifier, tiny_encoder


@pytest.fixture(scope="module")
def saved_classifier(tmp_path_factory):
    """A fine-tuning-style folder: model.keras beside the tokenizer files."""
    from tests.export.conftest import make_tokenizer

    folder = tmp_path_factory.mktemp("finetuned")
    model = tiny_classifier()
    model.save(folder / "model.keras")
    make_tokenizer().save(str(folder))
    return folder, model


def _same_outputs(a, b):
    ids = a.encoder.dummy_inputs() if hasattr(a, "encoder") else a.dummy_inputs()
    key = "logits" if "logits" in a(ids) else "pooled_output"
    np.testing.assert_allclose(a(ids)[key].numpy(), b(ids)[key].numpy(), atol=1e-6)


def test_finetuning_folder_and_keras_file(saved_classifier):
    folder, model = saved_classifier
    for path in (folder, folder / "model.keras"):
        source = load_model_source(path)
        assert isinstance(source.model, SequenceClassifier)
        assert source.model.label_names == LABELS
        assert source.tokenizer is not None and source.tokenizer.vocab_size == 99
        assert source.model_path.endswith("model.keras")
        _same_outputs(model, source.model)


def test_distillation_folder_finds_tokenizer_in_hf_subfolder(tmp_path):
    from tests.export.conftest import make_tokenizer

    student = tiny_encoder()
    student.build()
    student.save(tmp_path / "student.keras")
    to_hf(student, make_tokenizer(), str(tmp_path / "hf_student"))
    source = load_model_source(tmp_path)
    assert isinstance(source.model, Encoder)
    assert source.tokenizer_folder.endswith("hf_student")
    _same_outputs(student, source.model)
    # The HF folder alone exports as a bare encoder with the same weights.
    hf = load_model_source(tmp_path / "hf_student")
    assert isinstance(hf.model, Encoder) and hf.tokenizer is not None
    _same_outputs(student, hf.model)


def test_missing_or_unusable_paths_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model_source(tmp_path / "nothing")
    with pytest.raises(FileNotFoundError, match="no .keras file"):
        load_model_source(tmp_path)
    (tmp_path / "weights.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="not a .keras model"):
        load_model_source(tmp_path / "weights.h5")
    (tmp_path / "a.keras").write_bytes(b"")
    (tmp_path / "b.keras").write_bytes(b"")
    with pytest.raises(ValueError, match="several Keras files"):
        load_model_source(tmp_path)
