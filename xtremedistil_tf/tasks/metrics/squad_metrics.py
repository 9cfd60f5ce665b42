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


def best_null_threshold(scores, null_diffs, has_answer):
    """The threshold on `null_diffs` that maximises the mean score.

    A question is answered '' when its null-score difference (no-answer score
    minus best span score) is above the threshold. Answered with its span it
    earns `scores[qid]`; abstaining earns 1 exactly when it has no gold answer.

    Returns `(best_score_percent, threshold)`.
    """
    qids = sorted(scores, key=lambda q: null_diffs[q])
    if not qids:
        raise ValueError("No questions to tune a no-answer threshold on.")
    # Below every difference, every question abstains.
    current = sum(0.0 if has_answer[q] else 1.0 for q in qids)
    best, best_threshold = current, null_diffs[qids[0]] - 1.0
    for i, qid in enumerate(qids):
        current += scores[qid] - (0.0 if has_answer[qid] else 1.0)
        # Equal differences flip together, so only score the end of a tie.
        last_of_tie = i + 1 == len(qids) or null_diffs[qids[i + 1]] != null_diffs[qid]
        if last_of_tie and current > best:
            best, best_threshold = current, null_diffs[qid]
    return 100.0 * best / len(qids), float(best_threshold)


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


def tune_null_threshold(gold, span_predictions, null_diffs):
    """Best EM and F1 over no-answer thresholds, as the official v2 script reports.

    Args:
        gold: dict of question id to its gold answer strings.
        span_predictions: dict of question id to the best non-empty span.
        null_diffs: dict of question id to no-answer score minus best span score.

    Returns `best_exact`, `best_exact_thresh`, `best_f1`, `best_f1_thresh`.
    """
    exact, f1 = _question_scores(gold, span_predictions)
    has_answer = _has_answer(gold)
    diffs = {q: float(null_diffs[q]) for q in gold}
    best_exact, exact_thresh = best_null_threshold(exact, diffs, has_answer)
    best_f1, f1_thresh = best_null_threshold(f1, diffs, has_answer)
    return {"best_exact": best_exact, "best_exact_thresh": exact_thresh,
            "best_f1": best_f1, "best_f1_thresh": f1_thresh}


def _has_answer(gold):
    # As the official script: by the gold list itself, even when every answer in it
    # normalises to nothing (then neither a span nor abstaining scores).
    return {q: bool(answers) for q, answers in gold.items()}
