"""Entity-level precision, recall and F1 with conlleval / seqeval semantics."""
import collections

SCHEMES = ("IOB2", "IOBES")
MODES = ("strict", "conlleval")
# "BIO" is the common name of IOB2: every entity starts with B-.
_SCHEME_ALIASES = {"BIO": "IOB2", "IOB2": "IOB2", "IOBES": "IOBES", "BIOES": "IOBES"}
_STRICT_RULES = {
    "IOB2": {"allowed": set("IOB"), "starts": set("B"),
             "inside": {("B", "I"), ("I", "I")}, "closers": set("BI")},
    "IOBES": {"allowed": set("IOBES"), "starts": set("BS"),
              "inside": {("B", "I"), ("B", "E"), ("I", "I"), ("I", "E")},
              "closers": set("ES")},
}


def _split(tag):
    if tag == "O":
        return "O", ""
    prefix, _, kind = tag.partition("-")
    return prefix[:1], kind or "_"


def _chunk_ends(prev_prefix, prefix, prev_kind, kind):
    if prev_prefix in ("E", "S"):
        return True
    if prev_prefix in ("B", "I") and prefix in ("B", "S", "O"):
        return True
    return prev_prefix != "O" and prev_kind != kind


def _chunk_starts(prev_prefix, prefix, prev_kind, kind):
    if prefix in ("B", "S"):
        return True
    if prefix in ("I", "E") and prev_prefix in ("E", "S", "O"):
        return True
    return prefix != "O" and prev_kind != kind


def conlleval_entities(tags):
    """Entities `(type, start, end_exclusive)` read the lenient conlleval way.

    An I- (or E-) tag after O or after another type opens a new entity, so
    every non-O tag belongs to some entity.
    """
    entities, start = [], None
    prev_prefix, prev_kind = "O", ""
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, kind = _split(tag)
        if start is not None and _chunk_ends(prev_prefix, prefix, prev_kind, kind):
            entities.append((prev_kind, start, i))
            start = None
        if _chunk_starts(prev_prefix, prefix, prev_kind, kind):
            start = i
        prev_prefix, prev_kind = prefix, kind
    return entities


def strict_entities(tags, scheme="IOB2"):
    """Entities `(type, start, end_exclusive)` that are well formed under `scheme`.

    IOB2: B-X followed by any I-X. IOBES: S-X alone, or B-X, I-X..., E-X. A tag
    sequence that breaks the pattern (I-X after O, B-X without E-X in IOBES)
    forms no entity.
    """
    rules = _STRICT_RULES[_canonical_scheme(scheme)]
    parsed = [_split(t) for t in tags] + [("O", "")]
    for position, (prefix, _) in enumerate(parsed[:-1]):
        if prefix not in rules["allowed"]:
            raise ValueError(f"Tag {tags[position]!r} at position {position} is not valid in "
                             f"the {scheme} scheme (prefixes {sorted(rules['allowed'])}); "
                             "pick the scheme your tags use.")
    entities, i = [], 0
    while i < len(tags):
        prefix, kind = parsed[i]
        if prefix not in rules["starts"]:
            i += 1
            continue
        j, prev = i + 1, parsed[i]
        while (prev[0], parsed[j][0]) in rules["inside"] and parsed[j][1] == kind:
            prev, j = parsed[j], j + 1
        if prev[0] in rules["closers"]:
            entities.append((kind, i, j))
        i = j
    return entities


def _canonical_scheme(scheme):
    if scheme not in _SCHEME_ALIASES:
        raise ValueError(f"Unknown tagging scheme {scheme!r}; valid: {sorted(_SCHEME_ALIASES)}.")
    return _SCHEME_ALIASES[scheme]


def _prf(correct, predicted, gold):
    precision = correct / predicted if predicted else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def entity_scores(true_sequences, pred_sequences, scheme="IOB2", mode="strict"):
    """Micro-averaged entity precision, recall and F1 over sentences.

    Args:
        true_sequences: list of gold tag lists, one per sentence.
        pred_sequences: list of predicted tag lists, aligned with the gold ones.
        scheme: "IOB2" (alias "BIO") or "IOBES".
        mode: "strict" (seqeval `mode="strict"`: only well-formed entities
            count) or "conlleval" (seqeval's default, the conlleval script).

    Returns a dict with `precision`, `recall`, `f1` (fractions) and `per_type`,
    a dict of type to its `precision`, `recall`, `f1` and `support`.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown mode {mode!r}; valid: {list(MODES)}.")
    if len(true_sequences) != len(pred_sequences):
        raise ValueError(f"{len(true_sequences)} gold sentences but {len(pred_sequences)} "
                         "predicted; they must pair up one to one.")
    gold, pred = set(), set()
    for index, (tags, guess) in enumerate(zip(true_sequences, pred_sequences)):
        if len(tags) != len(guess):
            raise ValueError(f"Sentence {index} has {len(tags)} gold tags but {len(guess)} "
                             "predicted; predict one tag per word.")
        if mode == "strict":
            gold.update((index,) + e for e in strict_entities(tags, scheme))
            pred.update((index,) + e for e in strict_entities(guess, scheme))
        else:
            gold.update((index,) + e for e in conlleval_entities(tags))
            pred.update((index,) + e for e in conlleval_entities(guess))
    correct = gold & pred
    precision, recall, f1 = _prf(len(correct), len(pred), len(gold))
    counts = {name: collections.Counter(e[1] for e in group)
              for name, group in (("correct", correct), ("pred", pred), ("gold", gold))}
    per_type = {}
    for kind in sorted(set(counts["gold"]) | set(counts["pred"])):
        p, r, f = _prf(counts["correct"][kind], counts["pred"][kind], counts["gold"][kind])
        per_type[kind] = {"precision": p, "recall": r, "f1": f, "support": counts["gold"][kind]}
    return {"precision": precision, "recall": recall, "f1": f1, "per_type": per_type}
