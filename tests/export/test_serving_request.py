"""TF Serving REST predict bodies (row and columnar) reach the signatures correctly."""
import base64
import json

import numpy as np
import pytest
import tensorflow as tf

from tests.export.conftest import LABELS, PAIRS, SEQ, TEXTS
from tests.export.serving_request import ServingRequestError, predict


@pytest.fixture(scope="module")
def loaded(exported):
    import tensorflow_text  # noqa: F401

    return tf.saved_model.load(exported["saved_model"])


def _direct(loaded, tokenizer, texts, pairs=None):
    ids = tokenizer(texts, pairs, max_length=SEQ)
    out = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in ids.items()})
    return ids, {k: v.numpy() for k, v in out.items()}


def _roundtrip(body):
    """What travels over HTTP is JSON text, not python objects."""
    return json.loads(json.dumps(body))


def test_row_format_token_ids(loaded, exported):
    ids, expected = _direct(loaded, exported["tokenizer"], TEXTS[:3])
    instances = [{name: ids[name][i].tolist() for name in ids} for i in range(3)]
    response = predict(loaded, _roundtrip({"signature_name": "serving_default",
                                           "instances": instances}))
    predictions = response["predictions"]
    assert len(predictions) == 3
    for i, row in enumerate(predictions):
        np.testing.assert_allclose(row["probabilities"], expected["probabilities"][i], atol=1e-6)
        assert row["predicted_label"] == LABELS[int(expected["predicted_index"][i])]
        assert row["label_names"] == LABELS


def test_default_signature_is_token_ids_and_columnar_format(loaded, exported):
    ids, expected = _direct(loaded, exported["tokenizer"], TEXTS[:2])
    response = predict(loaded, _roundtrip({"inputs": {k: v.tolist() for k, v in ids.items()}}))
    outputs = response["outputs"]
    np.testing.assert_allclose(outputs["probabilities"], expected["probabilities"], atol=1e-6)
    assert outputs["predicted_index"] == expected["predicted_index"].tolist()


def test_text_signatures_with_bare_strings_dicts_and_b64(loaded, exported):
    tokenizer = exported["tokenizer"]
    _, single = _direct(loaded, tokenizer, TEXTS[:3])
    body = {"signature_name": "serve_text", "instances": TEXTS[:3]}
    rows = predict(loaded, _roundtrip(body))["predictions"]
    np.testing.assert_allclose([r["probabilities"] for r in rows], single["probabilities"],
                               atol=1e-6)
    encoded = [{"b64": base64.b64encode(t.encode()).decode()} for t in TEXTS[:3]]
    rows = predict(loaded, _roundtrip({"signature_name": "serve_text",
                                       "instances": encoded}))["predictions"]
    np.testing.assert_allclose([r["probabilities"] for r in rows], single["probabilities"],
                               atol=1e-6)
    _, paired = _direct(loaded, tokenizer, TEXTS[:3], PAIRS[:3])
    instances = [{"text": t, "text_pair": p} for t, p in zip(TEXTS[:3], PAIRS[:3])]
    rows = predict(loaded, _roundtrip({"signature_name": "serve_text_pair",
                                       "instances": instances}))["predictions"]
    np.testing.assert_allclose([r["probabilities"] for r in rows], paired["probabilities"],
                               atol=1e-6)
    columns = predict(loaded, _roundtrip({"signature_name": "serve_text_pair",
                                          "inputs": {"text": TEXTS[:3],
                                                     "text_pair": PAIRS[:3]}}))["outputs"]
    np.testing.assert_allclose(columns["probabilities"], paired["probabilities"], atol=1e-6)


@pytest.mark.parametrize("body, message", [
    ({"instances": [], "inputs": {}}, "exactly one of"),
    ({"signature_name": "nope", "instances": ["a"]}, "not found"),
    ({"signature_name": "serve_text_pair", "instances": [{"text": "a"}]}, "exactly those"),
    ({"signature_name": "serve_text_pair", "instances": ["a"]}, "each instance must be"),
    ({"instances": [{"input_ids": [1], "attention_mask": [1], "token_type_ids": ["x"]}]},
     "int32"),
])
def test_malformed_requests_are_rejected_like_tf_serving(loaded, body, message):
    with pytest.raises(ServingRequestError, match=message):
        predict(loaded, body)
