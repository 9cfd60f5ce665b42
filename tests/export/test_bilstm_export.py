"""A BiLSTM classifier exports to SavedModel and token-ids LiteRT; other LiteRT forms refuse."""
import numpy as np
import pytest

from tests.export.conftest import LABELS, TEXTS, make_tokenizer
from xtremedistil_tf.export import ExportConfig, ExportData, export_model
from xtremedistil_tf.export.litert_model import LiteRTModel
from xtremedistil_tf.models import BiLSTMStudent, SequenceClassifier

SEQ = 13


def _classifier():
    model = SequenceClassifier(BiLSTMStudent(99, 15, 22, dropout=0.0, name="encoder"), 3,
                               LABELS)
    model.build()
    kernel = model.classifier.kernel
    kernel.assign(np.random.default_rng(3).normal(0, 1.0, kernel.shape).astype("float32"))
    return model


@pytest.mark.slow
def test_saved_model_and_litert_match_keras(tmp_path):
    model, tokenizer = _classifier(), make_tokenizer()
    config = ExportConfig(str(tmp_path), model_name="bilstm", version=1, max_seq_length=SEQ,
                          formats=("saved_model", "litert_fp32", "litert_int8"))
    report = export_model(model, config, tokenizer=tokenizer, dev_data=ExportData(TEXTS),
                          verbose=False)
    assert report["kind"] == "classifier" and report["passed"]
    assert report["artifacts"]["litert_fp32"]["max_abs_diff"] < 1e-5
    assert report["artifacts"]["litert_int8"]["agreement"] is not None
    # The LiteRT model takes one example at a time; a batch runs row by row.
    lite = LiteRTModel(report["artifacts"]["litert_fp32"]["path"])
    assert lite.input_details("serving_default")["input_ids"]["shape_signature"][0] == 1
    ids = tokenizer(TEXTS, max_length=SEQ, padding="max_length")
    np.testing.assert_allclose(lite("serving_default", **ids)["logits"],
                               model(ids)["logits"].numpy(), atol=1e-5)


@pytest.mark.parametrize("fmt", ["litert_int8_full", "litert_text_fp32"])
def test_litert_forms_a_bilstm_cannot_take_are_refused_up_front(tmp_path, fmt):
    config = ExportConfig(str(tmp_path), model_name="bilstm", version=1, max_seq_length=SEQ,
                          formats=("saved_model", fmt))
    with pytest.raises(ValueError, match=f"'{fmt}'.*cannot be built for a BiLSTM model"):
        export_model(_classifier(), config, tokenizer=make_tokenizer(),
                     representative_data=ExportData(TEXTS), verbose=False)
    assert not any(tmp_path.iterdir())


def test_a_bare_bilstm_exports_as_an_encoder(tmp_path):
    from xtremedistil_tf.export.serving_head import ServingHead

    head = ServingHead(BiLSTMStudent(99, 15, 22, dropout=0.0))
    ids = make_tokenizer()(TEXTS[:3], max_length=SEQ, padding="max_length")
    outputs = head(ids)
    assert head.kind == "encoder"
    assert outputs["pooled_output"].shape == outputs["mean_pooled_output"].shape == (3, 22)
