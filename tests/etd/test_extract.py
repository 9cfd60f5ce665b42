"""Slicing a teacher into a student: exact copies, head blocks, masks, saving."""
import keras
import numpy as np
import pytest

from xtremedistil_tf.checkpoints import from_hf, to_hf
from xtremedistil_tf.etd import WidthSelection, extract_student, random_selection

from tests.etd.helpers import BATCH, tiny_config, tiny_teacher


def _full_selection(config):
    return WidthSelection(
        layers=tuple(range(config.num_hidden_layers)), hidden=tuple(range(config.hidden_size)),
        heads=(tuple(range(config.num_attention_heads)),) * config.num_hidden_layers,
        ffn=(tuple(range(config.intermediate_size)),) * config.num_hidden_layers)


@pytest.mark.parametrize("overrides", [{}, {"model_type": "electra", "embedding_size": 16,
                                            "use_pooler": False}])
def test_student_of_teacher_shape_reproduces_teacher_exactly(overrides):
    teacher = tiny_teacher(**overrides)
    selection = random_selection(teacher.config, teacher.config, seed=5)
    assert selection == _full_selection(teacher.config)
    student = extract_student(teacher, teacher.config, selection)
    expected, got = teacher(BATCH), student(BATCH)
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_array_equal(got[key], expected[key])
    for a, b in zip(got["attention_probs"], expected["attention_probs"]):
        np.testing.assert_array_equal(a, b)


def test_sliced_attention_equals_teacher_attention_with_masked_heads_and_dims():
    teacher = tiny_teacher()
    student_config = tiny_config(hidden_size=16, num_attention_heads=2)
    sel = random_selection(teacher.config, student_config, seed=7)
    student = extract_student(teacher, student_config, sel)
    hidden = list(sel.hidden)
    x = np.random.default_rng(0).normal(size=(2, 7, 32)).astype(np.float32)
    # Zeroing the dropped hidden dims on the way in and masking the dropped heads
    # is what slicing them away does; the kept output dims must then agree.
    zeroed = np.zeros_like(x)
    zeroed[:, :, hidden] = x[:, :, hidden]
    head_mask = np.zeros(4, np.float32)
    head_mask[list(sel.heads[1])] = 1.0
    expected, _, _ = teacher.encoder_layers[sel.layers[1]].attention(
        zeroed, BATCH["attention_mask"], head_mask=head_mask)
    got, _, _ = student.encoder_layers[1].attention(x[:, :, hidden], BATCH["attention_mask"])
    np.testing.assert_allclose(got, np.asarray(expected)[:, :, hidden], atol=1e-5)


def test_narrow_student_weights_are_teacher_slices():
    teacher = tiny_teacher()
    student_config = tiny_config(hidden_size=24, num_attention_heads=3, intermediate_size=20,
                                 num_hidden_layers=1, max_position_embeddings=40)
    sel = random_selection(teacher.config, student_config, seed=2)
    student = extract_student(teacher, student_config, sel)
    hidden, heads, ffn = list(sel.hidden), list(sel.heads[0]), list(sel.ffn[0])
    cols = np.concatenate([np.arange(h * 8, h * 8 + 8) for h in heads])
    t_layer, s_layer = teacher.encoder_layers[sel.layers[0]], student.encoder_layers[0]
    np.testing.assert_array_equal(
        s_layer.attention.query.kernel.numpy(),
        t_layer.attention.query.kernel.numpy()[np.ix_(hidden, cols)])
    np.testing.assert_array_equal(
        s_layer.attention.output_dense.kernel.numpy(),
        t_layer.attention.output_dense.kernel.numpy()[np.ix_(cols, hidden)])
    np.testing.assert_array_equal(s_layer.intermediate.kernel.numpy(),
                                  t_layer.intermediate.kernel.numpy()[np.ix_(hidden, ffn)])
    np.testing.assert_array_equal(s_layer.ffn_output.kernel.numpy(),
                                  t_layer.ffn_output.kernel.numpy()[np.ix_(ffn, hidden)])
    np.testing.assert_array_equal(s_layer.ffn_norm.gamma.numpy(),
                                  t_layer.ffn_norm.gamma.numpy()[hidden])
    emb_t, emb_s = teacher.embeddings, student.embeddings
    np.testing.assert_array_equal(emb_s.word_embeddings.embeddings.numpy(),
                                  emb_t.word_embeddings.embeddings.numpy()[:, hidden])
    np.testing.assert_array_equal(emb_s.position_embeddings.embeddings.numpy(),
                                  emb_t.position_embeddings.embeddings.numpy()[:40, hidden])
    np.testing.assert_array_equal(student.pooler.kernel.numpy(),
                                  teacher.pooler.kernel.numpy()[np.ix_(hidden, hidden)])


def test_extracted_student_saves_loads_and_trains(tmp_path):
    teacher = tiny_teacher()
    student_config = tiny_config(hidden_size=24, num_attention_heads=3, intermediate_size=20)
    student = extract_student(teacher, student_config,
                              random_selection(teacher.config, student_config, seed=0))
    expected = np.asarray(student(BATCH)["sequence_output"])
    student.save(tmp_path / "student.keras")
    np.testing.assert_array_equal(
        keras.models.load_model(tmp_path / "student.keras")(BATCH)["sequence_output"], expected)
    to_hf(student, None, tmp_path / "hf")
    reloaded, _ = from_hf(tmp_path / "hf", load_tokenizer=False)
    assert reloaded.config == student.config
    np.testing.assert_allclose(reloaded(BATCH)["sequence_output"], expected, atol=1e-6)

    target = np.random.default_rng(0).normal(size=(2, 24)).astype(np.float32)
    optimizer = keras.optimizers.Adam(1e-2)
    import tensorflow as tf

    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((student(BATCH, training=True)["pooled_output"] - target) ** 2)
        grads = tape.gradient(loss, student.trainable_variables)
        optimizer.apply(grads, student.trainable_variables)
        return float(loss)

    losses = [step() for _ in range(15)]
    assert losses[-1] < 0.5 * losses[0]


def test_selection_that_does_not_match_student_is_refused():
    teacher = tiny_teacher()
    student_config = tiny_config(hidden_size=24, num_attention_heads=3)
    sel = random_selection(teacher.config, student_config, seed=0)
    bad = WidthSelection(sel.layers, sel.hidden[:-1] + (sel.hidden[0],), sel.heads, sel.ffn)
    with pytest.raises(ValueError, match="hidden indices .* repeat a unit"):
        extract_student(teacher, student_config, bad)
    with pytest.raises(ValueError, match="keeps 3 heads units but the student config needs 4"):
        extract_student(teacher, tiny_config(), WidthSelection(
            (0, 1), tuple(range(32)), ((0, 1, 2),) * 2, (tuple(range(37)),) * 2))


def test_extracted_head_reproduces_a_task_teacher_of_the_same_shape():
    from xtremedistil_tf.etd import extract_head
    from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

    teacher = SequenceClassifier(tiny_teacher(), num_labels=3, dropout=0.0)
    teacher.build()
    config = teacher.encoder.config
    selection = random_selection(config, config, seed=1)
    student = SequenceClassifier(extract_student(teacher.encoder, config, selection),
                                 num_labels=3, dropout=0.0)
    student.build()
    extract_head(teacher.classifier, student.classifier, selection)
    np.testing.assert_array_equal(student(BATCH)["logits"], teacher(BATCH)["logits"])
    narrow = tiny_config(hidden_size=24, num_attention_heads=3)
    selection = random_selection(config, narrow, seed=1)
    small = SequenceClassifier(extract_student(teacher.encoder, narrow, selection), 3)
    small.build()
    extract_head(teacher.classifier, small.classifier, selection)
    np.testing.assert_array_equal(small.classifier.kernel.numpy(),
                                  teacher.classifier.kernel.numpy()[list(selection.hidden)])
    with pytest.raises(ValueError, match="both need the same outputs"):
        extract_head(teacher.classifier, _built_head(small.encoder, 2), selection)


def _built_head(encoder, units):
    from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

    model = SequenceClassifier(encoder, units)
    model.build()
    return model.classifier
