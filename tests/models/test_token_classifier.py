"""TokenClassifier: outputs, config round trip and .keras files."""
import keras
import numpy as np
import pytest

from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.models.token_classifier import TokenClassifier
from tests.models.test_sequence_classifier import BATCH

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def test_logits_per_token_and_passthrough():
    model = TokenClassifier(Encoder(get_preset("tiny")), 5, TAGS)
    out = model(BATCH)
    assert out["logits"].shape == (2, 7, 5) and out["logits"].dtype == "float32"
    assert out["sequence_output"].shape == (2, 7, 32) and model.encoder is not None


def test_keras_file_round_trip(tmp_path):
    model = TokenClassifier(Encoder(get_preset("tiny")), 5, TAGS, name="tagger")
    expected = model(BATCH)["logits"]
    clone = TokenClassifier.from_config(model.get_config())
    assert clone.label_names == TAGS and clone.num_labels == 5
    model.save(tmp_path / "t.keras")
    loaded = keras.models.load_model(tmp_path / "t.keras")
    assert loaded.label_names == TAGS and loaded.name == "tagger"
    np.testing.assert_array_equal(loaded(BATCH)["logits"], expected)


def test_label_count_mismatch():
    with pytest.raises(ValueError, match="label_names has 2 names but num_labels=5"):
        TokenClassifier(Encoder(get_preset("tiny")), 5, ["O", "B-X"])
