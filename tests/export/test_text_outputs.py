"""Answers and tags as text from the SavedModel and text-in LiteRT signatures.

The models' heads are solved (least squares on the encoder's hidden states of
the test inputs) so that their logits pick known spans and tags; the exported
signatures must then cut those spans from the caller's own strings.
"""
import json

import numpy as np
import pytest
import tensorflow as tf
from xtremedistil_tf.export import ExportConfig, LiteRTModel, export_model
from xtremedistil_tf.models import Encoder, get_preset
from xtremedistil_tf.models.question_answerer import QuestionAnswerer
from xtremedistil_tf.models.token_classifier import TokenClassifier

from tests.export.conftest import make_tokenizer

SEQ = 16
# 64 hidden units: more unknowns than constrained tokens, so the head solves exactly.
HIDDEN = 64
QUESTIONS = ["who ?", "what ?", "where ?", "who ?"]
CONTEXTS = ["John Smiths visited PARIS, the Café-cat.", "the Café-cat sat on John!",
            "it is fine", "RED dog and blue cat"]
# The answers the head is forced to pick (None: [CLS], no answer), as character spans.
ANSWER_TEXTS = ["Smiths visited PARIS", "Café-cat", None, "RED"]
ANSWERS = [None if a is None else (c.index(a), c.index(a) + len(a))
           for c, a in zip(CONTEXTS, ANSWER_TEXTS)]
TAGS = ["O", "B-PER", "I-PER", "B-LOC"]
NER_TEXTS = ["John Smiths visited PARIS, the Café-cat ok", "Ok  RED\tdog !", "",
             "a b c d e f g h i j k l m n o p q"]


def _encoder():
    return Encoder(get_preset("tiny", hidden_size=HIDDEN, hidden_dropout_prob=0.0,
                              attention_probs_dropout_prob=0.0))


def _solve_head(dense, hidden, rows, targets):
    """Sets `dense`'s kernel and bias so that `hidden[rows] @ W + b == targets`."""
    x = np.concatenate([hidden[rows], np.ones((len(rows), 1))], axis=1).astype(np.float64)
    solution, *_ = np.linalg.lstsq(x, targets.astype(np.float64), rcond=None)
    dense.kernel.assign(solution[:-1].astype(np.float32))
    dense.bias.assign(solution[-1].astype(np.float32))
    got = x @ solution
    assert np.abs(got - targets).max() < 1e-3  # the forcing itself worked


def _qa_model(tok):
    """A QuestionAnswerer whose logits point at `ANSWERS` (and [CLS] for None)."""
    model = QuestionAnswerer(_encoder())
    model.build()
    ids = tok(QUESTIONS, CONTEXTS, max_length=SEQ)
    hidden = model.encoder(ids)["sequence_output"].numpy()
    rows, targets = [], []
    for b, (question, context) in enumerate(zip(QUESTIONS, CONTEXTS)):
        encoding = tok.backend.encode(question, context)
        for t, (segment, (lo, hi)) in enumerate(zip(encoding.sequence_ids, encoding.offsets)):
            if t >= SEQ or (t > 0 and segment != 1):
                continue
            start = end = -8.0
            if t == 0:  # [CLS]: the no-answer score
                start = end = 9.0 if ANSWERS[b] is None else -8.0
            elif ANSWERS[b] is not None:
                start = 8.0 if lo == ANSWERS[b][0] else -8.0
                end = 8.0 if hi == ANSWERS[b][1] else -8.0
            rows.append(b * SEQ + t)
            targets.append([start, end])
    _solve_head(model.span_head, hidden.reshape(-1, HIDDEN), rows, np.array(targets))
    return model


def _word_pieces(tok, text):
    return [len(tok.backend.encode(word, add_special_tokens=False).ids) for word in text.split()]


def _expected_word_tags(text):
    """A tag per word that the first piece carries; later pieces carry another one."""
    return [TAGS[(3 * i + len(word)) % len(TAGS)] for i, word in enumerate(text.split())]


def _ner_model(tok):
    model = TokenClassifier(_encoder(), len(TAGS), TAGS)
    model.build()
    ids = tok(NER_TEXTS, max_length=SEQ)
    hidden = model.encoder(ids)["sequence_output"].numpy().reshape(-1, HIDDEN)
    rows, targets = [], []
    for b, text in enumerate(NER_TEXTS):
        position = 1
        for pieces, tag in zip(_word_pieces(tok, text), _expected_word_tags(text)):
            for k in range(pieces):
                if position < SEQ - 1:
                    label = TAGS.index(tag) if k == 0 else (TAGS.index(tag) + 1) % len(TAGS)
                    rows.append(b * SEQ + position)
                    targets.append(np.eye(len(TAGS))[label] * 16 - 8)
                position += 1
    _solve_head(model.classifier, hidden, rows, np.array(targets))
    return model


def _export(model, tok, out, formats=("saved_model", "litert_text_fp32"), **config):
    # The solved heads have large weights (logits of +-8 from tiny hidden states), which
    # magnify float32 rounding in LiteRT beyond the default 1e-4.
    report = export_model(model, ExportConfig(
        str(out), max_seq_length=SEQ, formats=formats, float32_tolerance=1e-3, **config),
        tokenizer=tok, verbose=False)
    import tensorflow_text  # noqa: F401  (the text signatures' ops)

    saved = tf.saved_model.load(report["paths"]["saved_model"])
    lite = None
    if "litert_text_fp32" in formats:
        lite = LiteRTModel(report["artifacts"]["litert_text_fp32"]["path"], custom_ops=True)
    return report, saved, lite


@pytest.fixture(scope="module")
def qa_exports(tmp_path_factory):
    tok = make_tokenizer()
    model = _qa_model(tok)
    out = tmp_path_factory.mktemp("qa")
    v2 = _export(model, tok, out / "v2", null_score_threshold=0.0)
    v1 = _export(model, tok, out / "v1")
    return {"v2": v2, "v1": v1}


def _run(saved, lite, signature, **inputs):
    via_saved = saved.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})
    return ({k: v.numpy() for k, v in via_saved.items()}, lite(signature, **inputs))


def _texts(values):
    return [v.decode("utf-8") for v in values]


def test_question_answering_answers_with_the_contexts_own_substring(qa_exports):
    report, saved, lite = qa_exports["v2"]
    assert report["artifacts"]["saved_model"]["agreement"] == 1.0
    for out in _run(saved, lite, "serve_text_pair", text=QUESTIONS, text_pair=CONTEXTS):
        expected = ["" if a is None else c[a[0]:a[1]] for c, a in zip(CONTEXTS, ANSWERS)]
        # Case, accents and punctuation as the caller wrote them.
        assert _texts(out["answer"]) == ["Smiths visited PARIS", "Café-cat", "", "RED"]
        assert _texts(out["answer"]) == expected
        starts = [-1 if a is None else a[0] for a in ANSWERS]
        ends = [-1 if a is None else a[1] for a in ANSWERS]
        np.testing.assert_array_equal(out["answer_start"], starts)
        np.testing.assert_array_equal(out["answer_end"], ends)
        np.testing.assert_array_equal(out["has_answer"], [a is not None for a in ANSWERS])
        # Token positions stay beside the text, as before.
        assert out["start_index"].shape == out["end_index"].shape == (len(QUESTIONS),)


def test_no_answer_needs_the_threshold_and_the_ids_signature_reports_it(qa_exports):
    _, saved_v1, lite_v1 = qa_exports["v1"]
    for out in _run(saved_v1, lite_v1, "serve_text_pair", text=QUESTIONS, text_pair=CONTEXTS):
        assert out["has_answer"].all() and _texts(out["answer"])[2] != ""
        assert out["answer_start"][2] >= 0
        np.testing.assert_allclose(out["null_score"][2], 18.0, atol=1e-2)
    _, saved_v2, _ = qa_exports["v2"]
    ids = make_tokenizer()(QUESTIONS, CONTEXTS, max_length=SEQ)
    out = saved_v2.signatures["serving_default"](**{k: tf.constant(v) for k, v in ids.items()})
    np.testing.assert_array_equal(out["has_answer"].numpy(), [True, True, False, True])
    assert "answer" not in out  # token ids carry no text to cut from


def test_token_classification_gives_one_tag_per_word(tmp_path):
    tok = make_tokenizer()
    pieces = _word_pieces(tok, NER_TEXTS[0])
    assert max(pieces) >= 3 and pieces.count(2) >= 2  # words of several word pieces
    report, saved, lite = _export(_ner_model(tok), tok, tmp_path)
    assert report["artifacts"]["litert_text_fp32"]["agreement"] == 1.0
    for out in _run(saved, lite, "serve_text", text=NER_TEXTS):
        for b, text in enumerate(NER_TEXTS):
            words = text.split()
            n = len(words)
            assert out["num_words"][b] == n
            assert _texts(out["words"][b][:n]) == words
            assert set(_texts(out["words"][b][n:])) <= {""}
            # Words whose first piece fits in the max_length window are tagged.
            room = SEQ - 2
            fits = np.cumsum([0] + _word_pieces(tok, text))[:n] < room
            expected = [t if f else "" for t, f in zip(_expected_word_tags(text), fits)]
            assert _texts(out["word_tags"][b][:n]) == expected, text
            ids = [TAGS.index(t) if t else -1 for t in expected]
            np.testing.assert_array_equal(out["word_tag_ids"][b][:n], ids)
        assert out["tags"].shape == (len(NER_TEXTS), SEQ)  # per-token tags stay


def test_offsets_follow_the_original_text_through_normalization():
    tok = make_tokenizer()
    pairs = ["ÉLAN was great!", "who", "red"]
    for tflite in (False, True):
        # LiteRT's tokenizer reads a literal "[SEP]" as text (export refuses such data).
        special = "" if tflite else " [SEP]"
        texts = [f"Smiths\tvisited  PARIS, the Café-cat{special} ok", "a" * 150 + " dog", ""]
        layer = tok.graph_tokenizer(max_length=24, tflite_compatible=tflite)
        for second in (None, pairs):
            got = layer.tokenize_with_offsets(tf.constant(texts),
                                              None if second is None else tf.constant(second))
            same = layer(tf.constant(texts), None if second is None else tf.constant(second))
            for name, value in same.items():
                np.testing.assert_array_equal(got[name].numpy(), value.numpy())
            for b in range(len(texts)):
                encoding = tok.backend.encode(texts[b], None if second is None else second[b])
                n = min(len(encoding.ids), 24)
                for t in range(n):
                    segment = got["token_segment"][b, t].numpy()
                    if encoding.sequence_ids[t] is None:
                        assert segment == -1
                        continue
                    assert segment == encoding.sequence_ids[t]
                    source = (texts if segment == 0 else second)[b]
                    lo, hi = encoding.offsets[t]
                    byte = [len(source[:lo].encode()), len(source[:hi].encode())]
                    assert [got["token_start"][b, t].numpy(), got["token_end"][b, t].numpy()] \
                        == byte, (tflite, b, t)


def test_rest_requests_in_the_readme_return_answers_and_word_tags(qa_exports, tmp_path):
    from tests.export.serving_request import predict

    _, saved, _ = qa_exports["v2"]
    body = {"signature_name": "serve_text_pair",
            "instances": [{"text": QUESTIONS[1], "text_pair": CONTEXTS[1]},
                          {"text": QUESTIONS[2], "text_pair": CONTEXTS[2]}]}
    rows = predict(saved, json.loads(json.dumps(body)))["predictions"]
    assert [(r["answer"], r["answer_start"], r["answer_end"], r["has_answer"]) for r in rows] \
        == [("Café-cat", 4, 12, True), ("", -1, -1, False)]
    ids = make_tokenizer()(QUESTIONS[:1], CONTEXTS[:1], max_length=SEQ)
    body = {"instances": [{k: v[0].tolist() for k, v in ids.items()}]}
    row = predict(saved, json.loads(json.dumps(body)))["predictions"][0]
    assert row["has_answer"] and 0 < row["start_index"] <= row["end_index"]
    tok = make_tokenizer()
    _, ner, _ = _export(_ner_model(tok), tok, tmp_path, formats=("saved_model",))
    body = {"signature_name": "serve_text", "inputs": {"text": NER_TEXTS[:1]}}
    outputs = predict(ner, json.loads(json.dumps(body)))["outputs"]
    assert outputs["words"][0] == NER_TEXTS[0].split()
    assert outputs["word_tags"][0] == _expected_word_tags(NER_TEXTS[0])
