"""`--etd_refit`: least-squares refit of an extracted student to its teacher's layers."""
import numpy as np
import pytest

from xtremedistil_tf.etd import StudentInitConfig, extract_student, init_student, random_selection
from xtremedistil_tf.etd.refit import refit_student

from tests.etd.helpers import BATCH, SMALL_HEADS, batches, tiny_config, tiny_teacher

NARROW = dict(hidden_size=16, num_attention_heads=2, intermediate_size=24)


def _errors(teacher, student, selection, data):
    """Relative error of each student layer output against the teacher's kept dims."""
    hidden, out = np.asarray(selection.hidden), []
    for j, t in enumerate([0] + [i + 1 for i in selection.layers]):
        num = den = 0.0
        for batch in data:
            mask = batch["attention_mask"].astype(bool)
            want = np.asarray(teacher(batch)["hidden_states"][t])[mask][:, hidden]
            got = np.asarray(student(batch)["hidden_states"][j])[mask]
            num, den = num + ((got - want) ** 2).sum(), den + (want ** 2).sum()
        out.append(np.sqrt(num / den))
    return np.array(out)


def test_a_student_of_the_teachers_shape_stays_the_teacher():
    teacher = tiny_teacher()
    selection = random_selection(teacher.config, teacher.config, seed=1)
    student = extract_student(teacher, teacher.config, selection)
    info = refit_student(student, teacher, selection, batches(4, np.random.default_rng(0)))
    assert max(info["relative_error_before"]) < 1e-6
    assert max(info["relative_error_after"]) < 1e-3
    np.testing.assert_allclose(student(BATCH)["sequence_output"],
                               teacher(BATCH)["sequence_output"], atol=1e-3)


@pytest.mark.parametrize("shape", [NARROW, SMALL_HEADS], ids=["narrow", "smaller_heads"])
def test_refit_brings_a_narrow_student_closer_to_the_teacher_on_new_text(shape):
    teacher = tiny_teacher(num_hidden_layers=3)
    student_config = tiny_config(num_hidden_layers=2, **shape)
    selection = random_selection(teacher.config, student_config, seed=3)
    student = extract_student(teacher, student_config, selection)
    fit = batches(12, np.random.default_rng(0), batch_size=8)
    held_out = batches(4, np.random.default_rng(1), batch_size=8)
    before = _errors(teacher, student, selection, held_out)
    info = refit_student(student, teacher, selection, fit)
    after = _errors(teacher, student, selection, held_out)
    # The fit's own report agrees in direction, and text it never saw gets closer too.
    assert info["relative_error_after"][-1] < info["relative_error_before"][-1]
    assert after[-1] < 0.9 * before[-1], (before, after)
    assert info["tokens"] == sum(int(b["attention_mask"].sum()) for b in fit)


def test_init_student_refits_when_asked_and_reports_it():
    teacher = tiny_teacher()
    data = batches(3, np.random.default_rng(0))
    config = StudentInitConfig(method="etd_impt", importance_batches=2, refit=True)
    student, info = init_student(config, tiny_config(**NARROW), teacher=teacher, batches=data)
    assert info["refit"]["batches"] == 2
    plain, _ = init_student(StudentInitConfig(method="etd_impt", importance_batches=2),
                            tiny_config(**NARROW), teacher=teacher, batches=data)
    # Same units kept, different weights.
    assert not np.allclose(student(BATCH)["sequence_output"], plain(BATCH)["sequence_output"])


def test_inits_that_extract_nothing_ignore_refit():
    # A flagfile that sets etd_refit must still run with --student_init=random.
    config = StudentInitConfig(method="random", refit=True).validate()
    student, info = init_student(config, tiny_config(**NARROW))
    assert "refit" not in info and student.config.hidden_size == NARROW["hidden_size"]
