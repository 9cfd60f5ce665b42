"""A student with a smaller head size: within-head neurons, the query scale, init info."""
import json
import math

import numpy as np
import pytest

from xtremedistil_tf.etd import (StudentInitConfig, WidthSelection, extract_student,
                                 init_student, random_selection)

from tests.etd.helpers import (BATCH, SMALL_HEADS, batches, head_columns, scale_head_neurons,
                               tiny_config, tiny_teacher)

TEACHER_HEAD = 8


def _full_selection(config, qk, vo):
    layers = config.num_hidden_layers
    heads = tuple(range(config.num_attention_heads))
    return WidthSelection(
        layers=tuple(range(layers)), hidden=tuple(range(config.hidden_size)),
        heads=(heads,) * layers, ffn=(tuple(range(config.intermediate_size)),) * layers,
        qk_neurons=(qk,) * layers, vo_neurons=(vo,) * layers)


@pytest.mark.parametrize("method", ["etd_rand", "etd_impt"])
def test_smaller_head_size_student_builds_runs_and_records_its_neurons(rng, method):
    teacher = tiny_teacher()
    student_config = tiny_config(**SMALL_HEADS)
    student, info = init_student(StudentInitConfig(method, seed=3, importance_batches=2),
                                 student_config, teacher=teacher, batches=batches(2, rng))
    assert student.config == student_config and student.config.head_size == 6
    outputs = student(BATCH)
    assert outputs["sequence_output"].shape == (2, 7, 24)
    assert outputs["attention_probs"][0].shape == (2, 4, 7, 7)
    assert np.all(np.isfinite(outputs["pooled_output"]))
    assert info["query_scale"] == pytest.approx(math.sqrt(6 / 8))
    sel = json.loads(json.dumps(info["selection"]))
    for name in ("qk_neurons", "vo_neurons"):
        assert len(sel[name]) == 2
        for per_head in sel[name]:
            assert len(per_head) == 4
            for neurons in per_head:
                assert len(neurons) == 6 and neurons == sorted(set(neurons))
                assert 0 <= min(neurons) and max(neurons) < TEACHER_HEAD

    hidden = sel["hidden"]
    for j, i in enumerate(sel["layers"]):
        t_att, s_att = teacher.encoder_layers[i].attention, student.encoder_layers[j].attention
        qk = head_columns(sel["heads"][j], sel["qk_neurons"][j], TEACHER_HEAD)
        vo = head_columns(sel["heads"][j], sel["vo_neurons"][j], TEACHER_HEAD)
        scale = np.float32(math.sqrt(6 / 8))
        np.testing.assert_array_equal(s_att.query.kernel.numpy(),
                                      t_att.query.kernel.numpy()[np.ix_(hidden, qk)] * scale)
        np.testing.assert_array_equal(s_att.query.bias.numpy(),
                                      t_att.query.bias.numpy()[qk] * scale)
        np.testing.assert_array_equal(s_att.key.kernel.numpy(),
                                      t_att.key.kernel.numpy()[np.ix_(hidden, qk)])
        np.testing.assert_array_equal(s_att.value.kernel.numpy(),
                                      t_att.value.kernel.numpy()[np.ix_(hidden, vo)])
        np.testing.assert_array_equal(s_att.output_dense.kernel.numpy(),
                                      t_att.output_dense.kernel.numpy()[np.ix_(vo, hidden)])

    # The recorded selection rebuilds the same student.
    again = extract_student(teacher, student_config, WidthSelection(**sel))
    np.testing.assert_array_equal(again(BATCH)["sequence_output"], outputs["sequence_output"])


def test_within_head_path_keeping_every_neuron_reproduces_the_teacher():
    teacher = tiny_teacher()
    config = teacher.config
    identity = (tuple(range(TEACHER_HEAD)),) * 4
    student = extract_student(teacher, config, _full_selection(config, identity, identity))
    expected, got = teacher(BATCH), student(BATCH)
    np.testing.assert_array_equal(got["sequence_output"], expected["sequence_output"])
    for a, b in zip(got["attention_probs"], expected["attention_probs"]):
        np.testing.assert_array_equal(a, b)
    # Reordering a head's neurons, q and k together and v and o together, changes
    # nothing but the order of the sums: a swapped q/k or v/o pairing would.
    rng = np.random.default_rng(4)
    qk = tuple(tuple(int(n) for n in rng.permutation(TEACHER_HEAD)) for _ in range(4))
    vo = tuple(tuple(int(n) for n in rng.permutation(TEACHER_HEAD)) for _ in range(4))
    shuffled = extract_student(teacher, config, _full_selection(config, qk, vo))(BATCH)
    np.testing.assert_allclose(shuffled["sequence_output"], expected["sequence_output"],
                               atol=1e-5)
    for a, b in zip(shuffled["attention_probs"], expected["attention_probs"]):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("shape", [SMALL_HEADS, dict(hidden_size=18, num_attention_heads=3,
                                                     intermediate_size=20)])
def test_dropping_dead_neurons_keeps_the_teachers_attention(shape):
    teacher = tiny_teacher()
    student_config = tiny_config(**shape)
    sel = random_selection(teacher.config, student_config, seed=6)
    # Kill every neuron the student drops, so only the kept ones shape the scores.
    for j, i in enumerate(sel.layers):
        for h, qk, vo in zip(sel.heads[j], sel.qk_neurons[j], sel.vo_neurons[j]):
            scale_head_neurons(teacher, i, "qk", h, sorted(set(range(8)) - set(qk)), 0.0)
            scale_head_neurons(teacher, i, "vo", h, sorted(set(range(8)) - set(vo)), 0.0)
    student = extract_student(teacher, student_config, sel)
    hidden = list(sel.hidden)
    # Large inputs so that the logits are far from 0 and a wrong scale shows.
    x = 4.0 * np.random.default_rng(0).normal(size=(2, 7, 32)).astype(np.float32)
    zeroed = np.zeros_like(x)
    zeroed[:, :, hidden] = x[:, :, hidden]
    for j, i in enumerate(sel.layers):
        heads = list(sel.heads[j])
        head_mask = np.zeros(4, np.float32)
        head_mask[heads] = 1.0
        t_att, s_att = teacher.encoder_layers[i].attention, student.encoder_layers[j].attention
        expected, expected_probs, _ = t_att(zeroed, BATCH["attention_mask"], head_mask=head_mask)
        got, probs, _ = s_att(x[:, :, hidden], BATCH["attention_mask"])
        np.testing.assert_allclose(probs, np.asarray(expected_probs)[:, heads], atol=1e-6)
        np.testing.assert_allclose(got, np.asarray(expected)[:, :, hidden], atol=1e-5)
        # Without the sqrt(6/8) on the query the scores would be off.
        s_att.query.kernel.assign(s_att.query.kernel.numpy() / math.sqrt(6 / 8))
        s_att.query.bias.assign(s_att.query.bias.numpy() / math.sqrt(6 / 8))
        _, unscaled, _ = s_att(x[:, :, hidden], BATCH["attention_mask"])
        assert np.max(np.abs(unscaled - np.asarray(expected_probs)[:, heads])) > 2e-3


def test_selection_without_neurons_for_smaller_heads_is_refused():
    teacher = tiny_teacher()
    student_config = tiny_config(**SMALL_HEADS)
    sel = random_selection(teacher.config, student_config, seed=0)
    whole = WidthSelection(sel.layers, sel.hidden, sel.heads, sel.ffn)
    with pytest.raises(ValueError, match="must name the kept neurons of each head in qk_neurons"):
        extract_student(teacher, student_config, whole)
    short = ((sel.qk_neurons[0][0][:-1],) + sel.qk_neurons[0][1:],) + sel.qk_neurons[1:]
    with pytest.raises(ValueError, match="keeps 5 qk_neurons units but the student config "
                                         "needs 6"):
        extract_student(teacher, student_config, WidthSelection(
            sel.layers, sel.hidden, sel.heads, sel.ffn, short, sel.vo_neurons))
    outside = (tuple((0, 1, 2, 3, 4, 8) for _ in range(4)),) * 2
    with pytest.raises(ValueError, match=r"vo_neurons indices .* outside the teacher's \[0, 8\)"):
        extract_student(teacher, student_config, WidthSelection(
            sel.layers, sel.hidden, sel.heads, sel.ffn, sel.qk_neurons, outside))
