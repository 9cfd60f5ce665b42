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


def test_mean_pooling_averages_real_tokens_only():
    model = _model(pooling="mean", dropout=0.0)
    out = model(BATCH)
    sequence = np.asarray(out["sequence_output"])
    mask = BATCH["attention_mask"][..., None]
    mean = (sequence * mask).sum(1) / mask.sum(1)
    kernel, bias = model.classifier.get_weights()
    np.testing.assert_allclose(out["logits"], mean @ kernel + bias, rtol=1e-5, atol=1e-5)
    # Changing a padded token's id changes nothing.
    changed = dict(BATCH, input_ids=BATCH["input_ids"].copy())
    changed["input_ids"][0, 5] = 42
    np.testing.assert_allclose(model(changed)["logits"], out["logits"], atol=1e-6)


def test_first_token_with_hidden_dense():
    model = _model(pooling="first", head_activation="gelu", dropout=0.0)
    out = model(BATCH)
    first = np.asarray(out["sequence_output"])[:, 0]
    kernel, bias = model.head_dense.get_weights()
    hidden = keras.activations.gelu(first @ kernel + bias, approximate=False)
    kernel, bias = model.classifier.get_weights()
    np.testing.assert_allclose(out["logits"], np.asarray(hidden) @ kernel + bias,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pooling,activation", [("mean", None), ("first", "tanh")])
def test_pooling_and_head_round_trip(pooling, activation, tmp_path):
    model = _model(pooling=pooling, head_activation=activation)
    expected = model(BATCH)["logits"]
    clone = SequenceClassifier.from_config(model.get_config())
    assert (clone.pooling, clone.head_activation) == (pooling, activation)
    assert (clone.head_dense is None) == (activation is None)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert (loaded.pooling, loaded.head_activation) == (pooling, activation)
    np.testing.assert_array_equal(loaded(BATCH)["logits"], expected)


def test_keras_file_saved_before_pooling_existed_loads(tmp_path):
    """Files written before `pooling`/`head_activation` lack them in their config."""
    import json
    import zipfile

    model = _model()
    expected = model(BATCH)["logits"]
    model.save(tmp_path / "new.keras")
    with zipfile.ZipFile(tmp_path / "new.keras") as src, \
            zipfile.ZipFile(tmp_path / "old.keras", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                del config["config"]["pooling"], config["config"]["head_activation"]
                data = json.dumps(config).encode()
            dst.writestr(item, data)
    loaded = keras.models.load_model(tmp_path / "old.keras")
    assert (loaded.pooling, loaded.head_activation) == ("pooled_output", None)
    np.testing.assert_array_equal(loaded(BATCH)["logits"], expected)


@pytest.mark.parametrize("kwargs,message", [
    ({"pooling": "max"}, r"pooling='max' is not supported; use one of \['pooled_output'"),
    ({"head_activation": "relu"}, r"head_activation='relu' is not supported"),
])
def test_bad_head_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SequenceClassifier(Encoder(get_preset("tiny")), 2, **kwargs)


def test_mean_pooling_under_mixed_precision():
    full = _model(pooling="mean", dropout=0.0)
    full.build()
    mixed = SequenceClassifier(Encoder(get_preset("tiny"), dtype="mixed_bfloat16"), 3,
                               pooling="mean", dropout=0.0)
    mixed.build()
    mixed.set_weights(full.get_weights())
    logits = mixed(BATCH)["logits"]
    assert logits.dtype == "float32"
    np.testing.assert_allclose(logits, full(BATCH)["logits"], atol=0.05)
