"""The BiLSTM student: outputs, padding, config round trip, logit distillation."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

BATCH = {"input_ids": np.array([[2, 5, 9, 3, 0, 0, 0], [2, 7, 8, 11, 13, 4, 3]], np.int32),
         "attention_mask": np.array([[1, 1, 1, 1, 0, 0, 0], [1] * 7], np.int32),
         "token_type_ids": np.array([[0, 0, 1, 1, 0, 0, 0], [0] * 7], np.int32)}


def _student(**kwargs):
    args = dict(vocab_size=99, embedding_size=15, hidden_size=22, num_labels=3, dropout=0.0)
    args.update(kwargs)
    return BiLSTMStudent(**args)


def test_outputs_and_padding_invariance():
    student = _student()
    out = student(BATCH)
    assert out["sequence_output"].shape == (2, 7, 22)
    assert out["pooled_output"].shape == (2, 22)
    assert out["logits"].shape == (2, 3) and out["logits"].dtype == "float32"
    short = {k: v[:1, :4] for k, v in BATCH.items()}
    np.testing.assert_allclose(student(short)["pooled_output"], out["pooled_output"][:1],
                               atol=1e-6)
    assert "logits" not in _student(num_labels=None)(BATCH)


def test_config_round_trip_and_keras_file(tmp_path):
    student = _student(attention_size=9, type_vocab_size=3, name="bilstm")
    clone = BiLSTMStudent.from_config(student.get_config())
    assert clone.get_config() == student.get_config()
    expected = student(BATCH)["logits"]
    student.save(tmp_path / "s.keras")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "s.keras")(BATCH)["logits"],
                                  expected)


@pytest.mark.parametrize("kwargs,match", [({"hidden_size": 21}, "hidden_size=21 must be even"),
                                          ({"num_labels": 0}, "num_labels=0"),
                                          ({"vocab_size": 0}, "vocab_size=0")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _student(**kwargs)


def _teacher():
    encoder = Encoder(get_preset("tiny", hidden_dropout_prob=0.0,
                                 attention_probs_dropout_prob=0.0))
    teacher = SequenceClassifier(encoder, num_labels=3, dropout=0.0)
    teacher.build()
    # Sharper teacher logits give the student a clear target.
    teacher.classifier.kernel.assign(teacher.classifier.kernel * 50.0)
    return teacher


def test_trains_under_logit_distillation():
    teacher, student = _teacher(), _student()
    ids = np.random.default_rng(0).integers(1, 99, size=(16, 7)).astype(np.int32)
    data = tf.data.Dataset.from_tensor_slices(
        {"input_ids": ids, "attention_mask": np.ones_like(ids)}).batch(8).repeat()
    distiller = Distiller(teacher=teacher, student=student,
                          losses={"logits_kl": 1.0, "logits_mse": 0.1})
    distiller.compile(optimizer=keras.optimizers.Adam(3e-2))
    teacher_before = [w.numpy().copy() for w in teacher.weights]
    first = distiller.evaluate(data, steps=2, verbose=0, return_dict=True)["loss"]
    distiller.fit(data, steps_per_epoch=40, epochs=1, verbose=0, shuffle=False)
    last = distiller.evaluate(data, steps=2, verbose=0, return_dict=True)["loss"]
    assert last < 0.3 * first
    for before, after in zip(teacher_before, teacher.weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_representation_losses_are_refused_with_a_hint():
    with pytest.raises(ValueError, match="needs hidden_states, but the student returns none"):
        Distiller(teacher=_teacher(), student=_student(), losses={"hidden_mse": 1.0})
