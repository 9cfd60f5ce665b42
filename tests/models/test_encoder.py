"""The encoder's outputs, config round trip, saving and mixed precision."""
import keras
import numpy as np
import pytest

from xtremedistil_tf import Encoder, EncoderConfig, get_preset

BATCH = {"input_ids": np.array([[2, 5, 9, 3, 0, 0, 0], [2, 7, 8, 11, 13, 4, 3]], np.int32),
         "attention_mask": np.array([[1, 1, 1, 1, 0, 0, 0], [1] * 7], np.int32),
         "token_type_ids": np.array([[0, 0, 1, 1, 0, 0, 0], [0] * 7], np.int32)}


def test_output_names_and_shapes():
    encoder = Encoder(get_preset("tiny"))
    out = encoder(BATCH, output_qkv=True)
    assert out["sequence_output"].shape == (2, 7, 32)
    assert out["pooled_output"].shape == (2, 32)
    assert len(out["hidden_states"]) == 3
    assert [a.shape for a in out["attention_probs"]] == [(2, 4, 7, 7)] * 2
    assert [q.shape for q in out["queries"]] == [(2, 7, 32)] * 2
    assert len(out["keys"]) == len(out["values"]) == 2
    probs = np.asarray(out["attention_probs"][0])
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)
    assert np.all(probs[0, :, :, 4:] == 0.0)  # Padded keys get no attention.


def test_padding_does_not_change_real_positions():
    encoder = Encoder(get_preset("tiny"))
    short = {k: v[:1, :4] for k, v in BATCH.items()}
    np.testing.assert_allclose(encoder(BATCH)["sequence_output"][0, :4],
                               encoder(short)["sequence_output"][0], atol=1e-5)


def test_head_mask_zero_removes_attention_contribution():
    encoder = Encoder(get_preset("tiny", hidden_dropout_prob=0.0))
    full = encoder(BATCH)["sequence_output"]
    masked = encoder(BATCH, head_mask=np.zeros((2, 4), np.float32))["sequence_output"]
    assert np.abs(np.asarray(full) - np.asarray(masked)).max() > 1e-3
    ones = encoder(BATCH, head_mask=np.ones((2, 4), np.float32))["sequence_output"]
    np.testing.assert_allclose(full, ones, atol=1e-6)


def test_get_config_round_trip():
    encoder = Encoder(get_preset("tiny", model_type="electra", embedding_size=16,
                                 use_pooler=False), name="student")
    clone = Encoder.from_config(encoder.get_config())
    assert clone.config == encoder.config
    assert clone.name == "student"


def test_keras_file_save_and_load(tmp_path):
    encoder = Encoder(get_preset("tiny"))
    expected = encoder(BATCH)["sequence_output"]
    encoder.save(tmp_path / "encoder.keras")
    loaded = keras.models.load_model(tmp_path / "encoder.keras")
    np.testing.assert_array_equal(loaded(BATCH)["sequence_output"], expected)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_matches_float32(policy):
    reference = Encoder(get_preset("tiny"))
    reference.build()
    mixed = Encoder(get_preset("tiny"), dtype=policy)
    mixed.build()
    mixed.set_weights(reference.get_weights())
    assert all(w.dtype == "float32" for w in mixed.weights)  # Master weights stay float32.
    out = mixed(BATCH)
    assert out["sequence_output"].dtype == policy.split("_")[1]
    assert out["attention_probs"][0].dtype == "float32"
    tolerance = 0.05 if policy == "mixed_bfloat16" else 0.01
    np.testing.assert_allclose(np.asarray(out["sequence_output"], np.float32),
                               reference(BATCH)["sequence_output"], atol=tolerance)


@pytest.mark.parametrize("preset, millions", [("l6h256", 12.75), ("l6h384", 22.71),
                                              ("l12h384", 33.36)])
def test_released_shapes_have_paper_sizes(preset, millions):
    encoder = Encoder(get_preset(preset))
    encoder.build()
    assert round(encoder.count_params() / 1e6, 2) == millions


@pytest.mark.parametrize("field, value, message", [
    ("num_attention_heads", 5, "does not divide hidden_size=32"),
    ("model_type", "gpt2", "use one of"),
    ("hidden_act", "swish2", "use one of"),
    ("hidden_dropout_prob", 1.5, r"must be in \[0, 1\)"),
])
def test_config_validation_names_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        get_preset("tiny", **{field: value})


def test_unknown_preset_lists_valid_ones():
    with pytest.raises(ValueError, match="valid presets.*l6h256"):
        get_preset("l7h999")


def test_config_dict_rejects_unknown_fields():
    with pytest.raises(ValueError, match="Unknown EncoderConfig fields"):
        EncoderConfig.from_dict({"hidden_size": 32, "num_layers": 2})
