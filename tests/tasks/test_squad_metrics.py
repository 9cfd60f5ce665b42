"""SQuAD EM/F1 against hand-worked cases and a fixture scored by the official rules."""
import json
import os

import pytest

from xtremedistil_tf.tasks.metrics.squad_metrics import (
    best_null_threshold, best_null_thresholds, exact_match, f1_score, normalize_answer,
    squad_v1_metrics, squad_v2_metrics)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


@pytest.mark.parametrize("raw,expected", [
    ("The  Eiffel Tower!", "eiffel tower"),
    ("an apple, a pear and THE plum.", "apple pear and plum"),
    ("theater anthem", "theater anthem"),  # Articles only as whole words.
    ("  Denver   Broncos\t", "denver broncos"),
    ("U.S.-based", "usbased"),
])
def test_normalization(raw, expected):
    assert normalize_answer(raw) == expected


def test_exact_and_f1_by_hand():
    assert exact_match("the Broncos", "Broncos.") == 1.0
    # pred {denver, broncos, team}, gold {broncos}: P=1/3, R=1, F1=0.5.
    assert f1_score("Denver Broncos team", "Broncos") == pytest.approx(0.5)
    # Repeated words count with multiplicity: pred {a:2} vs gold {a:1} after normalisation.
    assert f1_score("cat cat", "cat dog") == pytest.approx(2 * 0.5 * 0.5 / 1.0)
    assert f1_score("", "") == 1.0
    assert f1_score("", "paris") == 0.0


def test_v1_takes_the_best_gold_answer():
    gold = {"q1": ["Denver Broncos", "The Broncos", "Broncos"],
            "q2": ["Santa Clara, California", "Levi's Stadium"]}
    preds = {"q1": "broncos", "q2": "Levi's Stadium in Santa Clara"}
    out = squad_v1_metrics(gold, preds)
    # q1 exact with "Broncos"; q2: best F1 is vs "Levi's Stadium":
    # pred {levis, stadium, in, santa, clara} vs gold {levis, stadium}: P=2/5, R=1, F1=4/7.
    # vs "Santa Clara, California": P=2/5, R=2/3, F1=0.5. So max is 4/7.
    assert out["exact_match"] == pytest.approx(50.0)
    assert out["f1"] == pytest.approx(100 * (1 + 4 / 7) / 2)
    assert out["total"] == 2


def test_v1_missing_prediction_is_an_error():
    with pytest.raises(ValueError, match="No prediction for question id 'q2'"):
        squad_v1_metrics({"q1": ["a b"], "q2": ["c"]}, {"q1": "a b"})


def test_v2_empty_prediction_on_unanswerable_and_breakdown():
    gold = {"has1": ["Paris"], "has2": ["the red car"], "no1": [], "no2": []}
    preds = {"has1": "Paris", "has2": "", "no1": "", "no2": "London"}
    out = squad_v2_metrics(gold, preds)
    assert out["HasAns_exact"] == 50.0 and out["HasAns_total"] == 2
    assert out["NoAns_exact"] == 50.0 and out["NoAns_f1"] == 50.0 and out["NoAns_total"] == 2
    assert out["exact"] == 50.0 and out["f1"] == 50.0


def test_v2_gold_that_normalises_to_nothing_is_scored_against_no_answer():
    # The official script scores '' against it, but files it under HasAns (its list is
    # not empty).
    out = squad_v2_metrics({"q": ["The", "a"]}, {"q": ""})
    assert out["HasAns_total"] == 1 and out["exact"] == 100.0 and "NoAns_total" not in out


def test_v1_and_v2_differ_on_an_empty_answer_pair():
    # v1.1 gives F1 0 without a shared word, even when both sides normalise to nothing.
    assert squad_v1_metrics({"q": ["The"]}, {"q": "a"}) == {
        "exact_match": 100.0, "f1": 0.0, "total": 1}
    assert f1_score("a", "The", v2=False) == 0.0 and f1_score("a", "The") == 1.0


def _official_gold(dataset):
    """Question id -> gold answer texts, read as the official scripts read the dataset."""
    return {qa["id"]: [a["text"] for a in qa["answers"]]
            for article in dataset["data"] for paragraph in article["paragraphs"]
            for qa in paragraph["qas"]}


def test_fixture_scored_by_the_official_rules():
    """fixtures/squad_official_rules.json holds SQuAD-format files, predictions and the
    numbers evaluate-v1.1.py / evaluate-v2.0.py report for them, worked out by their
    rules (v2.0: `null_diffs` stand in for the no-answer probabilities):

    q1 exact; q2 best F1 4/7 (vs "Levi's Stadium": P 2/5, R 1); q3 "cat" vs "cat cat"
    F1 2/3; q4 '' on an unanswerable 1; q5 a span on an unanswerable 0; q6 gold "The"
    dropped in v2.0, "song" vs "1990s song" F1 2/3; q7 '' on an answerable 0; q8 gold
    only "The": v1.1 EM 1 F1 0, v2.0 '' scores 1 and counts as HasAns. v2.0 totals:
    EM 3/8, F1 (2 + 4/7 + 4/3 + 1)/8 = (103/21)/8. Threshold search (sorted by diff,
    from 2 = everything abstains): F1 peaks at 103/21 after q7 (diff 2.0).
    """
    with open(os.path.join(FIXTURES, "squad_official_rules.json"), encoding="utf-8") as f:
        fixture = json.load(f)
    v1 = fixture["v1.1"]
    got = squad_v1_metrics(_official_gold(v1["dataset"]), v1["predictions"])
    assert {k: got[k] for k in v1["expected"]} == pytest.approx(v1["expected"])
    v2 = fixture["v2.0"]
    gold = _official_gold(v2["dataset"])
    got = {**squad_v2_metrics(gold, v2["predictions"]),
           **best_null_thresholds(gold, v2["span_predictions"], v2["null_diffs"])}
    assert got == pytest.approx(v2["expected"])


def test_no_answer_threshold_by_hand():
    # Answered with its span, each question would score: a=1, b=1, c=0 (answerable);
    # d=0 (unanswerable, a span is wrong). Abstaining scores 1 only for d.
    scores = {"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.0}
    predictions = {"a": "x", "b": "y", "c": "z", "d": "w"}
    has_answer = {"a": True, "b": True, "c": True, "d": False}
    diffs = {"a": -3.0, "b": -1.0, "c": 0.5, "d": 2.0}
    # Threshold t answers every question whose diff <= t:
    # t<-3: 1/4; t=-3: 2/4; t=-1: 3/4; t=0.5: 3/4 (c adds 0); t=2: 2/4 (d loses 1).
    best, threshold = best_null_threshold(scores, predictions, diffs, has_answer)
    assert best == pytest.approx(75.0)
    assert threshold == -1.0


def test_nothing_beats_abstaining_reports_threshold_zero():
    # As evaluate-v2.0.py: the sweep starts at "all unanswered" with threshold 0.0.
    best, threshold = best_null_threshold({"a": 0.0, "b": 0.0}, {"a": "x", "b": "y"},
                                          {"a": -5.0, "b": 3.0}, {"a": True, "b": False})
    assert (best, threshold) == (50.0, 0.0)


def test_ties_are_swept_one_question_at_a_time_in_id_order():
    # Both at 0.0: a (answerable, right) then b (unanswerable, given a span). Like the
    # official script, the best is recorded after a alone, inside the tie: 2/2 at 0.0,
    # although no threshold separates a from b. In the other id order it is never
    # better than all abstaining.
    has_answer = {"a": True, "b": False}
    predictions = {"a": "paris", "b": "london"}
    scores = {"a": 1.0, "b": 0.0}
    assert best_null_threshold(scores, predictions, {"a": 0.0, "b": 0.0}, has_answer) == (
        100.0, 0.0)
    swapped = {"b": True, "a": False}
    assert best_null_threshold({"b": 1.0, "a": 0.0}, {"b": "paris", "a": "london"},
                               {"a": 0.0, "b": 0.0}, swapped) == (50.0, 0.0)


def test_best_thresholds_keep_the_predictions_as_given():
    # a is answerable but was answered '' (its null won at the fixed threshold): the
    # sweep cannot give it its span back. b, unanswerable and answered '', stays right
    # at every threshold; c, unanswerable with a span, is right only while abstaining.
    gold = {"a": ["Paris"], "b": [], "c": []}
    predictions = {"a": "", "b": "", "c": "Rome"}
    out = best_null_thresholds(gold, predictions, {"a": 1.5, "b": 2.0, "c": -1.0})
    # All abstain: b and c right, 2/3. Answering c (-1.0) loses 1; a, b add nothing.
    assert out == {"best_exact": pytest.approx(200 / 3), "best_exact_thresh": 0.0,
                   "best_f1": pytest.approx(200 / 3), "best_f1_thresh": 0.0}
    with pytest.raises(ValueError, match="No null-score difference for question id 'c'"):
        best_null_thresholds(gold, predictions, {"a": 1.5, "b": 2.0})
