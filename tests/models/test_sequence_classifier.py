"""SequenceClassifier: outputs, errors, config round trip and .keras files."""
import keras
import numpy as np
import pytest

from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

BATCH = {"input_ids": np.array([[2, 5, 9, 3, 0, 0, 0], [2, 7, 8, 11, 13, 4, 3]], np.int32),
         "attention_mask": np.array([[1, 1, 1, 1, 0, 0, 0], [1] * 7], np.int32),
         "token_type_ids": np.array([[0, 0, 1, 1, 0, 0, 0], [0] * 7], np.int32)}


def _model(**kwargs):
    args = {"num_labels": 3, "label_names": ["neg", "neu", "pos"], **kwargs}
    return SequenceClassifier(Encoder(get_preset("tiny")), **args)


def test_outputs_include_logits_and_encoder_outputs():
    out = _model()(BATCH)
    assert out["logits"].shape == (2, 3) and out["logits"].dtype == "float32"
    assert out["pooled_output"].shape == (2, 32) and out["sequence_output"].shape == (2, 7, 32)
    assert len(out["hidden_states"]) == 3 and len(out["attention_probs"]) == 2


def test_dropout_only_in_training():
    model = _model(dropout=0.5)
    a, b = model(BATCH)["logits"], model(BATCH)["logits"]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(model(BATCH, training=True)["logits"], a)


def test_config_round_trip_and_keras_file(tmp_path):
    model = _model(name="sentiment")
    expected = model(BATCH)["logits"]
    clone = SequenceClassifier.from_config(model.get_config())
    assert (clone.num_labels, clone.label_names, clone.name) == (3, ["neg", "neu", "pos"],
                                                                 "sentiment")
    assert clone.encoder.config == model.encoder.config
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded, SequenceClassifier) and loaded.label_names == model.label_names
    np.testing.assert_array_equal(loaded(BATCH)["logits"], expected)


def test_regression_has_one_output():
    model = SequenceClassifier(Encoder(get_preset("tiny")), 1, problem_type="regression")
    assert model(BATCH)["logits"].shape == (2, 1)


@pytest.mark.parametrize("kwargs,message", [
    ({"num_labels": 2, "problem_type": "regression"}, "regression has exactly one output"),
    ({"num_labels": 2, "label_names": ["a"]}, "label_names has 1 names but num_labels=2"),
    ({"num_labels": 2, "problem_type": "multi"}, "problem_type='multi' is not supported"),
    ({"num_labels": 0}, "num_labels=0 must be at least 1"),
    ({"num_labels": 2, "dropout": 1.5}, r"dropout=1.5 must be in \[0, 1\)"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SequenceClassifier(Encoder(get_preset("tiny")), **kwargs)


def test_mixed_precision_logits_are_float32_and_close():
    full = _model(dropout=0.0)
    full.build()
    mixed = SequenceClassifier(Encoder(get_preset("tiny"), dtype="mixed_bfloat16"), 3,
                               dropout=0.0)
    mixed.build()
    mixed.set_weights(full.get_weights())
    logits = mixed(BATCH)["logits"]
    assert logits.dtype == "float32"
    np.testing.assert_allclose(logits, full(BATCH)["logits"], atol=0.05)
