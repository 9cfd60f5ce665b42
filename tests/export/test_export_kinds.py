"""Every model kind exports, reloads from disk and matches Keras with its own outputs."""
import numpy as np
import pytest
import tensorflow as tf
from xtremedistil_tf.export import (
    ExportConfig, ExportData, LiteRTModel, ServingHead, export_model)
from xtremedistil_tf.models.question_answerer import QuestionAnswerer
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.models.token_classifier import TokenClassifier

from tests.export.conftest import PAIRS, SEQ, TEXTS, tiny_encoder

# kind: (model builder, dev labels, expected dev metric, formats). The encoder and the
# classifier head reach LiteRT in other tests; QA and tagging decode in the graph here.
CASES = {
    "encoder": (lambda: tiny_encoder(), ["pos", "neg"] * 4, "probe_accuracy",
                ("saved_model_ids",)),
    "regression": (lambda: SequenceClassifier(tiny_encoder(), 1, problem_type="regression"),
                   [0.1, 0.9, 0.4, 0.3, 0.8, 0.5, 0.2, 0.7], "pearson", ("saved_model_ids",)),
    "question_answering": (lambda: QuestionAnswerer(tiny_encoder()), None,
                           "agreement_with_keras", ("saved_model_ids", "litert_fp32")),
    "token_classification": (lambda: TokenClassifier(tiny_encoder(), 3, ["O", "B-X", "I-X"]),
                             None, "agreement_with_keras", ("saved_model_ids", "litert_fp32")),
}


@pytest.mark.parametrize("kind", sorted(CASES))
def test_kind_exports_and_matches_keras(kind, tmp_path, tokenizer):
    build, labels, metric, formats = CASES[kind]
    model = build()
    model.build()
    dev = ExportData(TEXTS, PAIRS if kind == "question_answering" else None, labels)
    report = export_model(model, ExportConfig(str(tmp_path), model_name=kind,
                                              max_seq_length=SEQ,
                                              formats=formats),
                          tokenizer=tokenizer, dev_data=dev, verbose=False)
    assert report["kind"] == kind and report["passed"]
    assert report["dev_sample"]["metric"] == metric
    for artifact in report["artifacts"].values():
        assert artifact["max_abs_diff"] <= 1e-5
        # Pearson of near-constant random-init scores amplifies float noise a little.
        assert artifact["dev_metric_change"] == pytest.approx(0.0, abs=1e-3)
        if kind in ("question_answering", "token_classification"):
            assert artifact["agreement"] == 1.0

    ids = tokenizer(TEXTS, dev.text_pairs, max_length=SEQ)
    expected = {k: v.numpy() for k, v in ServingHead(model)(ids).items()}
    loaded = tf.saved_model.load(report["paths"]["saved_model"])
    from_saved = loaded.signatures["serving_default"](**{k: tf.constant(v)
                                                         for k, v in ids.items()})
    results = [{k: v.numpy() for k, v in from_saved.items()}]
    if "litert_fp32" in formats:
        lite = LiteRTModel(report["artifacts"]["litert_fp32"]["path"])
        results.append(lite("serving_default", **ids))
    for result in results:
        assert set(result) == set(expected)
    for name, value in expected.items():
        for got in (result[name] for result in results):
            if value.dtype.kind == "f":
                np.testing.assert_allclose(got, value, atol=1e-5, err_msg=name)
            else:
                np.testing.assert_array_equal(got, value, err_msg=name)
