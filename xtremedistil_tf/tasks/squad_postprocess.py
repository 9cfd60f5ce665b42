"""From start/end logits of every window to each question's n-best answer spans."""
import numpy as np


def _top(logits, first, last, n):
    """Positions in `[first, last)` with the `n` highest logits, best first."""
    if last <= first:
        return []
    part = logits[first:last]
    order = np.argsort(-part, kind="stable")[:n]
    return [first + int(i) for i in order]


def example_nbest(context, offsets, windows, outputs, n_best_size, max_answer_length):
    """The n-best answers of one question and its no-answer score.

    Args:
        context: the context string.
        offsets: character offsets of the context tokens.
        windows: the question's `Window`s.
        outputs: the model outputs of those windows (`start_logits`, `end_logits`).
        n_best_size: start and end candidates per window, and answers kept.
        max_answer_length: longest span in tokens.

    Returns `(nbest, null_score)`. `nbest` is a list of dicts with `text`,
    `start_logit`, `end_logit`, `score` and `probability` (softmax over the
    list), best first, one entry per distinct text; `null_score` is the lowest
    first-token start+end score over the windows.
    """
    candidates, null_score = [], None
    for window, output in zip(windows, outputs):
        start_logits, end_logits = output["start_logits"], output["end_logits"]
        score = float(start_logits[0] + end_logits[0])
        null_score = score if null_score is None else min(null_score, score)
        first = window.context_position
        last = first + window.length
        for s in _top(start_logits, first, last, n_best_size):
            if not window.max_context[s - first]:
                continue  # Another window sees this token with more context around it.
            for e in _top(end_logits, first, last, n_best_size):
                if e < s or e - s + 1 > max_answer_length:
                    continue
                a = offsets[window.start + s - first][0]
                b = offsets[window.start + e - first][1]
                candidates.append({"text": context[a:b], "start_logit": float(start_logits[s]),
                                   "end_logit": float(end_logits[e]),
                                   "score": float(start_logits[s] + end_logits[e])})
    candidates.sort(key=lambda c: -c["score"])
    nbest, seen = [], set()
    for candidate in candidates:
        if candidate["text"] in seen:
            continue
        seen.add(candidate["text"])
        nbest.append(candidate)
        if len(nbest) == n_best_size:
            break
    if nbest:
        scores = np.array([c["score"] for c in nbest])
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        for candidate, p in zip(nbest, probs):
            candidate["probability"] = float(p)
    return nbest, null_score


def squad_nbest(examples, features, outputs, n_best_size, max_answer_length):
    """`example_nbest` for every example; returns `{qid: (nbest, null_score)}`."""
    by_example = {}
    for window, output in zip(features.meta["windows"], outputs):
        by_example.setdefault(window.example_index, []).append((window, output))
    results = {}
    for index, example in enumerate(examples):
        pairs = by_example.get(index, [])
        results[example.qid] = example_nbest(
            example.context, features.meta["offsets"][index], [w for w, _ in pairs],
            [o for _, o in pairs], n_best_size, max_answer_length)
    return results
