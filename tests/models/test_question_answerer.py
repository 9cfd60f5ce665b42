"""QuestionAnswerer: span logits, config round trip and .keras files."""
import keras
import numpy as np

from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.models.question_answerer import QuestionAnswerer
from tests.models.test_sequence_classifier import BATCH


def test_start_and_end_logits_per_token():
    model = QuestionAnswerer(Encoder(get_preset("tiny")))
    out = model(BATCH)
    assert out["start_logits"].shape == out["end_logits"].shape == (2, 7)
    assert not np.allclose(out["start_logits"], out["end_logits"])
    assert model.head_output_names == ("start_logits", "end_logits")
    assert len(out["attention_probs"]) == 2


def test_keras_file_round_trip(tmp_path):
    model = QuestionAnswerer(Encoder(get_preset("tiny", model_type="electra",
                                                embedding_size=16, use_pooler=False)),
                             dropout=0.0, name="qa")
    expected = model(BATCH)
    clone = QuestionAnswerer.from_config(model.get_config())
    assert clone.dropout_rate == 0.0 and clone.encoder.config == model.encoder.config
    model.save(tmp_path / "qa.keras")
    loaded = keras.models.load_model(tmp_path / "qa.keras")
    out = loaded(BATCH)
    np.testing.assert_array_equal(out["start_logits"], expected["start_logits"])
    np.testing.assert_array_equal(out["end_logits"], expected["end_logits"])
