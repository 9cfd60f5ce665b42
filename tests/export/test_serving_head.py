"""Per-kind serving outputs: spans, pooling, labels, and kind detection."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from xtremedistil_tf.export import ServingHead, compare_outputs, detect_kind
from xtremedistil_tf.models.question_answerer import QuestionAnswerer
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.models.token_classifier import TokenClassifier

from tests.export.conftest import tiny_encoder


def _inputs(rng, batch=3, seq=7, pair=False):
    ids = rng.integers(5, 99, size=(batch, seq)).astype(np.int32)
    lengths = np.array([seq, 5, 4])[:batch]
    mask = (np.arange(seq)[None] < lengths[:, None]).astype(np.int32)
    types = np.zeros_like(ids)
    if pair:
        types = ((np.arange(seq)[None] >= 2) & (mask > 0)).astype(np.int32)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def test_kinds_are_detected_from_the_model_class():
    enc = tiny_encoder()
    assert detect_kind(enc) == "encoder"
    assert detect_kind(SequenceClassifier(enc, 2)) == "classifier"
    assert detect_kind(SequenceClassifier(enc, 1, problem_type="regression")) == "regression"
    assert detect_kind(QuestionAnswerer(enc)) == "question_answering"
    assert detect_kind(TokenClassifier(enc, 5)) == "token_classification"
    with pytest.raises(ValueError, match="Encoder, BiLSTMStudent, SequenceClassifier"):
        detect_kind(keras.Sequential([keras.layers.Dense(2)]))


def test_encoder_mean_pooling_ignores_padding(rng):
    enc = tiny_encoder()
    inputs = _inputs(rng)
    out = ServingHead(enc)(inputs)
    sequence = enc(inputs)["sequence_output"].numpy()
    mask = inputs["attention_mask"][..., None]
    expected = (sequence * mask).sum(1) / mask.sum(1)
    np.testing.assert_allclose(out["mean_pooled_output"].numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["pooled_output"].numpy(),
                               enc(inputs)["pooled_output"].numpy(), atol=1e-6)


def test_classifier_without_label_names_uses_hf_style_names(rng):
    head = ServingHead(SequenceClassifier(tiny_encoder(), 3))
    out = head(_inputs(rng))
    assert head.label_names == ["LABEL_0", "LABEL_1", "LABEL_2"]
    index = out["predicted_index"].numpy()
    np.testing.assert_array_equal(index, out["logits"].numpy().argmax(-1))
    assert [x.decode() for x in out["predicted_label"].numpy()] == [f"LABEL_{i}" for i in index]
    np.testing.assert_allclose(out["probabilities"].numpy().sum(-1), 1.0, rtol=1e-6)


def test_question_answering_span_is_the_best_valid_pair(rng):
    model = QuestionAnswerer(tiny_encoder())
    # Large random head weights spread the logits so the argmax is not a tie.
    model.build()
    model.span_head.kernel.assign(rng.normal(0, 3, model.span_head.kernel.shape))
    head = ServingHead(model, max_answer_length=3)
    inputs = _inputs(rng, pair=True)
    out = {k: v.numpy() for k, v in head(inputs).items()}
    for b in range(3):
        start, end = out["start_logits"][b], out["end_logits"][b]
        length = inputs["attention_mask"][b].sum()
        best, best_span = -np.inf, None
        for i in range(1, length - 1):
            for j in range(i, min(i + 3, length - 1)):
                if inputs["token_type_ids"][b, i] and inputs["token_type_ids"][b, j]:
                    if start[i] + end[j] > best:
                        best, best_span = start[i] + end[j], (i, j)
        assert (out["start_index"][b], out["end_index"][b]) == best_span
        np.testing.assert_allclose(out["span_score"][b], best, rtol=1e-5)


def test_question_answering_no_answer_when_the_null_score_wins_by_the_threshold(rng):
    model = QuestionAnswerer(tiny_encoder())
    model.build()
    model.span_head.kernel.assign(rng.normal(0, 3, model.span_head.kernel.shape))
    inputs = _inputs(rng, pair=True)
    always = {k: v.numpy() for k, v in ServingHead(model)(inputs).items()}
    null = always["start_logits"][:, 0] + always["end_logits"][:, 0]
    np.testing.assert_allclose(always["null_score"], null, rtol=1e-6)
    assert always["has_answer"].all()
    gap = null - always["span_score"]
    # A threshold between two rows' gaps answers exactly the rows below it.
    threshold = float(np.sort(gap)[1])
    out = ServingHead(model, null_score_threshold=threshold)(inputs)
    np.testing.assert_array_equal(out["has_answer"].numpy(), gap <= threshold)
    assert 0 < out["has_answer"].numpy().sum() < 3


def test_token_classification_tags_and_parity_counts_only_real_tokens(rng):
    model = TokenClassifier(tiny_encoder(), 3, ["O", "B-X", "I-X"])
    head = ServingHead(model)
    inputs = _inputs(rng)
    out = {k: v.numpy() for k, v in head(inputs).items()}
    np.testing.assert_array_equal(out["tag_ids"], out["logits"].argmax(-1))
    assert out["tags"][0, 0].decode() == ["O", "B-X", "I-X"][out["tag_ids"][0, 0]]
    # A difference on padding only is not a difference.
    changed = dict(out, logits=out["logits"].copy(), tag_ids=out["tag_ids"].copy())
    changed["logits"][1, 6] += 5.0
    changed["tag_ids"][1, 6] = (changed["tag_ids"][1, 6] + 1) % 3
    same = compare_outputs("token_classification", out, changed, inputs["attention_mask"])
    assert same["max_abs_diff"] == 0.0 and same["agreement"] == 1.0
    changed["tag_ids"][0, 0] = (changed["tag_ids"][0, 0] + 1) % 3
    report = compare_outputs("token_classification", out, changed, inputs["attention_mask"])
    assert report["agreement"] == pytest.approx(1 - 1 / inputs["attention_mask"].sum())


def test_regression_outputs_a_score(rng):
    model = SequenceClassifier(tiny_encoder(), 1, problem_type="regression")
    inputs = _inputs(rng)
    out = ServingHead(model)(inputs)
    np.testing.assert_allclose(out["score"].numpy(), model(inputs)["logits"].numpy()[:, 0],
                               atol=1e-6)
    assert out["score"].dtype == tf.float32
