"""litert_int16x8: a tiny encoder exported with int16 activations runs integer-only."""
import os

import keras
import numpy as np
import pytest
from xtremedistil_tf.export import ExportConfig, ExportData, LiteRTModel, export_model
from xtremedistil_tf.export.litert_converter import (EmptyRepresentativeDataError,
                                                     convert_saved_model)

from tests.export.conftest import SEQ, TEXTS, make_tokenizer, tiny_encoder

CALIBRATION = [t for t in TEXTS if t] * 4


@pytest.fixture(scope="module")
def int16x8_export(tmp_path_factory):
    keras.utils.set_random_seed(3)
    encoder = tiny_encoder()
    encoder.build()
    out = tmp_path_factory.mktemp("int16x8")
    config = ExportConfig(str(out), model_name="enc", version=1, max_seq_length=SEQ,
                          formats=("litert_fp32", "litert_int16x8"),
                          num_representative_examples=len(CALIBRATION))
    report = export_model(encoder, config, tokenizer=make_tokenizer(),
                          representative_data=ExportData(CALIBRATION),
                          dev_data=ExportData(TEXTS), verbose=False)
    return report


def _model(report, fmt):
    return LiteRTModel(report["artifacts"][fmt]["path"])


def test_output_is_close_to_float(int16x8_export):
    entry = int16x8_export["artifacts"]["litert_int16x8"]
    # Worst row over both pooled outputs on the parity texts.
    assert entry["signatures"]["serving_default"]["min_cosine"] > 0.999
    assert entry["dev_mean_pooled_cosine"]["min"] > 0.9999
    # Magnitude too, on every text: the token count once saturated (a quantized SUM
    # kept the mask's scale), and the empty text, shorter than every calibration
    # text, got its mean pooled vector scaled by 0.4 (about 1.0 off here).
    diffs = entry["signatures"]["serving_default"]["max_abs_diff_per_output"]
    assert diffs["mean_pooled_output"] < 0.01, diffs
    assert entry["size_bytes"] < int16x8_export["artifacts"]["litert_fp32"]["size_bytes"]


def test_activations_and_weights_are_integers(int16x8_export):
    details = _model(int16x8_export, "litert_int16x8").interpreter.get_tensor_details()
    types = {d["dtype"] for d in details}
    assert np.int16 in types and np.int8 in types
    # Every [batch, seq, width] activation (embeddings, attention, feed-forward,
    # LayerNorm) and every weight matrix is an integer; float32 is left only to the
    # float outputs and the mask bookkeeping of mean pooling ([1, seq], [1, seq, 1]):
    # batch 1 here, so no float tensor has more than one dimension above 1.
    floats = [(d["name"], tuple(d["shape"])) for d in details if d["dtype"] == np.float32]
    assert floats, "the float outputs should stay float32"
    assert all(sum(n > 1 for n in shape) <= 1 for _, shape in floats), floats
    fp32 = _model(int16x8_export, "litert_fp32").interpreter.get_tensor_details()
    assert sum(d["dtype"] == np.float32 for d in fp32) > 10 * len(floats)


def test_runs_on_new_text_in_ai_edge_litert(int16x8_export):
    tok = make_tokenizer()
    ids = tok(["the dog sat on a red cat"], None, max_length=SEQ, padding="max_length")
    out = _model(int16x8_export, "litert_int16x8")("serving_default", **ids)
    ref = _model(int16x8_export, "litert_fp32")("serving_default", **ids)
    a, b = out["mean_pooled_output"][0], ref["mean_pooled_output"][0]
    assert np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b) > 0.98


def test_needs_representative_data(tmp_path):
    with pytest.raises(EmptyRepresentativeDataError, match="representative"):
        convert_saved_model(os.fspath(tmp_path), ["serving_default"], "int16x8", [])
