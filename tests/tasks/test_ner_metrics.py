"""Entity F1 against seqeval, strict and conlleval, BIO and IOBES."""
import warnings

import pytest
from seqeval.metrics import f1_score, precision_score, recall_score
from seqeval.scheme import IOB2, IOBES

from xtremedistil_tf.tasks.metrics.ner_metrics import (conlleval_entities, entity_scores,
                                                       strict_entities)


def _random_tags(rng, prefixes, n_sentences):
    tags = ["O"] + [f"{p}-{t}" for p in prefixes for t in ("PER", "LOC")]
    gold = [[str(rng.choice(tags)) for _ in range(int(rng.integers(1, 9)))]
            for _ in range(n_sentences)]
    pred = [[str(rng.choice(tags)) if rng.random() < 0.4 else t for t in s] for s in gold]
    return gold, pred


@pytest.mark.parametrize("scheme,seqeval_scheme,prefixes", [
    ("IOB2", IOB2, "BI"), ("IOBES", IOBES, "BIES")])
@pytest.mark.parametrize("mode", ["strict", "conlleval"])
def test_matches_seqeval_on_random_tags(rng, scheme, seqeval_scheme, prefixes, mode):
    kwargs = {"mode": "strict", "scheme": seqeval_scheme} if mode == "strict" else {}
    for _ in range(60):
        gold, pred = _random_tags(rng, prefixes, int(rng.integers(1, 6)))
        ours = entity_scores(gold, pred, scheme, mode)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seqeval warns on zero divisions.
            expected = (precision_score(gold, pred, **kwargs),
                        recall_score(gold, pred, **kwargs), f1_score(gold, pred, **kwargs))
        assert (ours["precision"], ours["recall"], ours["f1"]) == pytest.approx(expected)


def test_strict_and_lenient_differ_on_ill_formed_entities():
    tags = ["O", "I-PER", "I-PER", "O", "B-LOC", "I-LOC"]
    assert strict_entities(tags, "BIO") == [("LOC", 4, 6)]
    assert conlleval_entities(tags) == [("PER", 1, 3), ("LOC", 4, 6)]
    # IOBES: a B- without its E- is no entity in strict mode.
    assert strict_entities(["B-PER", "I-PER", "O", "S-LOC"], "IOBES") == [("LOC", 3, 4)]


def test_per_type_scores():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "I-PER", "O", "B-ORG"]]
    out = entity_scores(gold, pred, "IOB2")
    assert out["per_type"]["PER"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert out["per_type"]["LOC"]["recall"] == 0.0 and out["per_type"]["ORG"]["support"] == 0
    assert out["f1"] == pytest.approx(0.5)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="'S-PER' at position 0 is not valid in the IOB2"):
        strict_entities(["S-PER"], "IOB2")
    with pytest.raises(ValueError, match="Sentence 0 has 2 gold tags but 1 predicted"):
        entity_scores([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="Unknown tagging scheme 'BILOU'"):
        entity_scores([["O"]], [["O"]], scheme="BILOU")
