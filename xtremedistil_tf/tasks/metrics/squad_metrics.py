"""SQuAD v1.1 / v2.0 exact match and F1 by the rules of the official evaluation scripts.

The official `evaluate-v1.1.py` and `evaluate-v2.0.py` are scripts, not a
package we could depend on, so their rules are written out here: the answer
normalisation, v2.0 dropping gold answers that normalise to nothing, and the
one place the two versions score differently (an empty prediction against an
empty gold answer: F1 0 in v1.1, 1 in v2.0).
"""
import collections
import re
import string

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text):
    """Lowercases, drops punctuation and the articles a/an/the, collapses whitespace."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction, gold):
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction, gold, v2=True):
    """Bag-of-words F1 between normalised answers.

    With `v2`, an empty side scores 1 exactly when both are empty (no answer
    predicted for an unanswerable question); v1.1 scores anything without a
    shared word 0.
    """
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if v2 and (not pred_tokens or not gold_tokens):
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def gold_texts(answers):
    """Gold answer strings; an unanswerable question's only gold answer is ''."""
    texts = [a for a in answers if normalize_answer(a)]
    return texts or [""]


def _question_scores(gold, predictions, v2=True):
    exact, f1 = {}, {}
    for qid, answers in gold.items():
        if qid not in predictions:
            raise ValueError(f"No prediction for question id {qid!r}; every gold question "
                             "needs one (use '' for no answer).")
        # v1.1 compares against every gold string as given; v2.0 first drops
        # golds that normalise to nothing.
        golds = gold_texts(answers) if v2 else list(answers)
        if not golds:
            raise ValueError(f"Question {qid!r} has no gold answer; SQuAD v1.1 scoring needs "
                             "at least one (score unanswerable questions as SQuAD v2.0).")
        exact[qid] = max(exact_match(predictions[qid], g) for g in golds)
        f1[qid] = max(f1_score(predictions[qid], g, v2) for g in golds)
    return exact, f1


def _mean(scores, qids):
    return 100.0 * sum(scores[q] for q in qids) / len(qids)


def squad_v1_metrics(gold, predictions):
    """Official v1.1 numbers: `exact_match` and `f1` in percent.

    Args:
        gold: dict of question id to a list of gold answer strings.
        predictions: dict of question id to the predicted answer string.
    """
    if not gold:
        raise ValueError("No gold questions to score.")
    exact, f1 = _question_scores(gold, predictions, v2=False)
    qids = list(gold)
    return {"exact_match": _mean(exact, qids), "f1": _mean(f1, qids), "total": len(qids)}


def best_null_threshold(scores, predictions, na_probs, has_answer):
    """The best mean score over no-answer thresholds, by evaluate-v2.0.py's sweep.

    A question counts as unanswered when its `na_probs` value (no-answer
    score minus best span score) is above the threshold; unanswered, it earns
    1 exactly when it has no gold answer. The sweep is the official one, so
    that `--na-prob-file` figures match it to the digit: it starts with every
    question unanswered (threshold 0.0 if nothing beats that) and answers the
    questions one by one in order of `na_probs`, ties in order of question id
    (the order of a `null_odds.json` written with sorted keys). Answered, a
    question keeps the score of its prediction *as given*: a question already
    answered '' gains nothing; one answered with text that normalises to
    nothing (say '.') loses its point on an unanswerable question, although
    EM/F1 score that text as "no answer" (so `best_f1` can fall below the
    headline `f1`); and the best is recorded after each question, even inside
    a run of tied values.

    Args:
        scores: dict of question id to the EM or F1 (0..1) of its prediction.
        predictions: dict of question id to the predicted string ('' = no answer).
        na_probs: dict of question id to its null-score difference.
        has_answer: dict of question id to whether gold has an answer.

    Returns `(best_score_percent, threshold)`.
    """
    if not scores:
        raise ValueError("No questions to tune a no-answer threshold on.")
    current = sum(0.0 if has_answer[q] else 1.0 for q in scores)
    best, best_threshold = current, 0.0
    for qid in sorted(sorted(na_probs), key=lambda q: na_probs[q]):
        if qid not in scores:
            continue
        if has_answer[qid]:
            current += scores[qid]
        elif predictions[qid]:
            current -= 1.0
        if current > best:
            best, best_threshold = current, na_probs[qid]
    return 100.0 * best / len(scores), float(best_threshold)


def squad_v2_metrics(gold, predictions):
    """Official v2.0 numbers, in percent, with the HasAns/NoAns breakdown.

    Args:
        gold: dict of question id to its gold answer strings ([] when unanswerable).
        predictions: dict of question id to the predicted string ('' = no answer).
    """
    if not gold:
        raise ValueError("No gold questions to score.")
    exact, f1 = _question_scores(gold, predictions)
    has_answer = _has_answer(gold)
    qids = list(gold)
    out = {"exact": _mean(exact, qids), "f1": _mean(f1, qids), "total": len(qids)}
    for name, keep in (("HasAns", True), ("NoAns", False)):
        subset = [q for q in qids if has_answer[q] == keep]
        if subset:
            out[f"{name}_exact"] = _mean(exact, subset)
            out[f"{name}_f1"] = _mean(f1, subset)
            out[f"{name}_total"] = len(subset)
    return out


def best_null_thresholds(gold, predictions, na_probs):
    """`best_exact`, `best_f1` and their thresholds, as evaluate-v2.0.py reports them
    when given `na_probs` through `--na-prob-file` (see `best_null_threshold`).

    Args:
        gold: dict of question id to its gold answer strings.
        predictions: dict of question id to the predicted string ('' = no answer),
            the contents of `predictions.json`.
        na_probs: dict of question id to no-answer score minus best span score,
            the contents of `null_odds.json`.

    Returns `best_exact`, `best_exact_thresh`, `best_f1`, `best_f1_thresh`.
    """
    exact, f1 = _question_scores(gold, predictions)
    missing = sorted(set(gold) - set(na_probs))
    if missing:
        raise ValueError(f"No null-score difference for question id {missing[0]!r}; "
                         "na_probs needs one for every gold question.")
    has_answer = _has_answer(gold)
    na_probs = {q: float(v) for q, v in na_probs.items()}
    best_exact, exact_thresh = best_null_threshold(exact, predictions, na_probs, has_answer)
    best_f1, f1_thresh = best_null_threshold(f1, predictions, na_probs, has_answer)
    return {"best_exact": best_exact, "best_exact_thresh": exact_thresh,
            "best_f1": best_f1, "best_f1_thresh": f1_thresh}


def _has_answer(gold):
    # As the official script: by the gold list itself, even when every answer in it
    # normalises to nothing (then neither a span nor abstaining scores).
    return {q: bool(answers) for q, answers in gold.items()}
