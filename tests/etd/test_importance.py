"""Importance scores: planted dead units score zero and ETD-Impt drops them."""
import numpy as np
import pytest

from xtremedistil_tf.etd import (StudentInitConfig, compute_importance, init_student,
                                 representation_norm_loss)
from xtremedistil_tf.etd.unit_axes import FFN, HEADS, HIDDEN, unit_axes
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

from tests.etd.helpers import batches, tiny_config, tiny_teacher

DEAD_HEADS = {0: [1], 1: [2]}
DEAD_FFN = {0: list(range(0, 34, 2)), 1: list(range(5, 22))}  # 17 of 37 per layer.
DEAD_HIDDEN = [0, 3, 4, 10, 17, 20, 29, 31]


def _plant(encoder):
    """Zeroes every weight of the dead units, so no gradient can reach them."""
    hs = encoder.config.head_size
    for entry in unit_axes(encoder):
        value = entry.variable.numpy()
        for axis, kind in enumerate(entry.axes):
            index = []
            if kind == HIDDEN:
                index = DEAD_HIDDEN
            elif kind == FFN:
                index = DEAD_FFN[entry.layer]
            elif kind == HEADS and entry.name == "layer/attention/output/kernel":
                index = [h * hs + k for h in DEAD_HEADS[entry.layer] for k in range(hs)]
            if index:
                slicer = [slice(None)] * value.ndim
                slicer[axis] = index
                value[tuple(slicer)] = 0.0
        entry.variable.assign(value)


def _alive(total, dead):
    return tuple(i for i in range(total) if i not in dead)


def test_planted_dead_units_score_zero_and_live_ones_do_not(rng):
    teacher = tiny_teacher()
    _plant(teacher)
    scores = compute_importance(teacher, batches(2, rng), representation_norm_loss)
    assert scores.num_batches == 2
    assert np.all(scores.hidden[DEAD_HIDDEN] == 0)
    assert np.all(np.delete(scores.hidden, DEAD_HIDDEN) > 0)
    for layer in range(2):
        assert np.all(scores.heads[layer, DEAD_HEADS[layer]] == 0)
        assert np.all(np.delete(scores.heads[layer], DEAD_HEADS[layer]) > 0)
        assert np.all(scores.ffn[layer, DEAD_FFN[layer]] == 0)
        assert np.all(np.delete(scores.ffn[layer], DEAD_FFN[layer]) > 0)


@pytest.mark.parametrize("with_head", [False, True])
def test_etd_impt_student_keeps_the_live_units(rng, with_head):
    teacher = tiny_teacher()
    _plant(teacher)
    model = teacher
    if with_head:
        model = SequenceClassifier(teacher, num_labels=3, dropout=0.0)
        model.build()
    student_config = tiny_config(hidden_size=24, num_attention_heads=3, intermediate_size=20)
    student, info = init_student(StudentInitConfig(method="etd_impt", importance_batches=2),
                                 student_config, teacher=model, batches=batches(5, rng))
    assert info["importance_batches"] == 2
    sel = info["selection"]
    assert tuple(sel["hidden"]) == _alive(32, DEAD_HIDDEN)
    for layer in range(2):
        assert tuple(sel["heads"][layer]) == _alive(4, DEAD_HEADS[layer])
        assert tuple(sel["ffn"][layer]) == _alive(37, DEAD_FFN[layer])
    assert student.config == student_config


def test_no_batches_is_an_error():
    with pytest.raises(ValueError, match="got no batches"):
        compute_importance(tiny_teacher(), [])
