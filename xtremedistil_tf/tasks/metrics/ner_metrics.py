"""Entity-level precision, recall and F1 through seqeval, strict or conlleval-style."""
import warnings

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2, IOBES

# "BIO" is the common name of IOB2: every entity starts with B-.
SCHEMES = {"IOB2": IOB2, "BIO": IOB2, "IOBES": IOBES, "BIOES": IOBES}
MODES = ("strict", "conlleval")
_PREFIXES = {IOB2: ("B", "I"), IOBES: ("B", "I", "E", "S")}
_AVERAGES = ("micro avg", "macro avg", "weighted avg")


def _check_tags(sequences, scheme, name):
    """seqeval's strict mode fails on a tag outside `scheme` without saying where."""
    allowed = _PREFIXES[SCHEMES[scheme]]
    for index, tags in enumerate(sequences):
        for position, tag in enumerate(tags):
            prefix, dash, _ = tag.partition("-")
            if tag != "O" and not (dash and prefix in allowed):
                raise ValueError(f"{name} tag {tag!r} (sentence {index}, position {position}) "
                                 f"is not valid in the {scheme} scheme, whose tags are O and "
                                 f"{'/'.join(allowed)}-<type>; pick the "
                                 "scheme your tags use.")


def entity_scores(true_sequences, pred_sequences, scheme="IOB2", mode="strict"):
    """Micro-averaged entity precision, recall and F1 over sentences.

    Args:
        true_sequences: list of gold tag lists, one per sentence.
        pred_sequences: list of predicted tag lists, aligned with the gold ones.
        scheme: "IOB2" (alias "BIO") or "IOBES" (alias "BIOES").
        mode: "strict" (seqeval `mode="strict"`: only entities well formed
            under `scheme` count) or "conlleval" (seqeval's default, which
            reads tags the way the CoNLL `conlleval` script does: an I- tag after
            O opens an entity).

    Returns a dict with `precision`, `recall`, `f1` (fractions) and `per_type`,
    a dict of type to its `precision`, `recall`, `f1` and `support` (gold count).
    """
    if mode not in MODES:
        raise ValueError(f"Unknown mode {mode!r}; valid: {list(MODES)}.")
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown tagging scheme {scheme!r}; valid: {sorted(SCHEMES)}.")
    if len(true_sequences) != len(pred_sequences):
        raise ValueError(f"{len(true_sequences)} gold sentences but {len(pred_sequences)} "
                         "predicted; they must pair up one to one.")
    gold = [list(tags) for tags in true_sequences]
    pred = [list(tags) for tags in pred_sequences]
    for index, (tags, guess) in enumerate(zip(gold, pred)):
        if len(tags) != len(guess):
            raise ValueError(f"Sentence {index} has {len(tags)} gold tags but {len(guess)} "
                             "predicted; predict one tag per word.")
    kwargs = {}
    if mode == "strict":
        _check_tags(gold, scheme, "Gold")
        _check_tags(pred, scheme, "Predicted")
        kwargs = {"mode": "strict", "scheme": SCHEMES[scheme]}
    with warnings.catch_warnings():
        # Averages over no entity type at all warn about empty means.
        warnings.simplefilter("ignore", RuntimeWarning)
        report = classification_report(gold, pred, output_dict=True, zero_division=0, **kwargs)
    micro = report["micro avg"]
    per_type = {kind: {"precision": float(row["precision"]), "recall": float(row["recall"]),
                       "f1": float(row["f1-score"]), "support": int(row["support"])}
                for kind, row in sorted(report.items()) if kind not in _AVERAGES}
    return {"precision": float(micro["precision"]), "recall": float(micro["recall"]),
            "f1": float(micro["f1-score"]), "per_type": per_type}
