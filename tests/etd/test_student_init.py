"""`init_student` for every `--student_init` choice, and its errors."""
import numpy as np
import pytest

from xtremedistil_tf.checkpoints import to_hf
from xtremedistil_tf.etd import StudentInitConfig, init_student

from tests.etd.helpers import BATCH, tiny_config, tiny_teacher

STUDENT = dict(hidden_size=24, num_attention_heads=3, intermediate_size=20)


def test_random_is_seeded_and_etd_rand_copies_the_teacher():
    teacher = tiny_teacher()
    a, info = init_student(StudentInitConfig("random", seed=1), tiny_config(**STUDENT))
    b, _ = init_student(StudentInitConfig("random", seed=1), tiny_config(**STUDENT))
    assert info == {"method": "random"}
    np.testing.assert_array_equal(a(BATCH)["pooled_output"], b(BATCH)["pooled_output"])
    same, info = init_student(StudentInitConfig("etd_rand", seed=1), teacher.config,
                              teacher=teacher)
    np.testing.assert_array_equal(same(BATCH)["pooled_output"], teacher(BATCH)["pooled_output"])
    assert info["selection"]["layers"] == [0, 1]


@pytest.mark.parametrize("fmt", ["keras", "hf"])
def test_checkpoint_loads_either_format(tmp_path, fmt):
    teacher = tiny_teacher()
    path = tmp_path / "student.keras"
    if fmt == "keras":
        teacher.save(path)
    else:
        path = to_hf(teacher, None, tmp_path / "hf")
    student, info = init_student(StudentInitConfig("checkpoint", checkpoint=str(path)),
                                 tiny_config())
    assert info["checkpoint"] == str(path)
    np.testing.assert_allclose(student(BATCH)["pooled_output"], teacher(BATCH)["pooled_output"],
                               atol=1e-6)
    with pytest.raises(ValueError, match="has shape .* differs from the requested student"):
        init_student(StudentInitConfig("checkpoint", checkpoint=str(path)),
                     tiny_config(**STUDENT))


@pytest.mark.parametrize("config,match", [
    (StudentInitConfig("etd"), r"student_init='etd' is not supported; use one of \['random'"),
    (StudentInitConfig("checkpoint"), "give a checkpoint exactly when"),
    (StudentInitConfig("random", checkpoint="x"), "give a checkpoint exactly when"),
    (StudentInitConfig("etd_impt", importance_batches=0), "importance_batches=0"),
])
def test_bad_settings_are_named(config, match):
    with pytest.raises(ValueError, match=match):
        init_student(config, tiny_config())


def test_etd_needs_teacher_and_batches():
    with pytest.raises(ValueError, match="pass the teacher"):
        init_student(StudentInitConfig("etd_rand"), tiny_config())
    with pytest.raises(ValueError, match="pass `batches`"):
        init_student(StudentInitConfig("etd_impt"), tiny_config(), teacher=tiny_teacher())
    with pytest.raises(ValueError, match="num_hidden_layers=3 is larger"):
        init_student(StudentInitConfig("etd_impt"), tiny_config(num_hidden_layers=3),
                     teacher=tiny_teacher(), batches=[BATCH])
