"""Entity scores: seqeval's strict and default (conlleval) modes, IOB2 and IOBES, by hand."""
import pytest

from xtremedistil_tf.tasks.metrics.ner_metrics import entity_scores


def _prf(out):
    return out["precision"], out["recall"], out["f1"]


def test_strict_iob2_drops_entities_that_start_with_i():
    # Gold: PER(1,3) written I- I- (ill-formed), LOC(4,6). Prediction finds LOC and a B-PER.
    gold = [["O", "I-PER", "I-PER", "O", "B-LOC", "I-LOC"]]
    pred = [["O", "B-PER", "I-PER", "O", "B-LOC", "I-LOC"]]
    # Strict: gold {LOC}, predicted {PER, LOC}: P = 1/2, R = 1/1.
    assert _prf(entity_scores(gold, pred, "IOB2")) == pytest.approx((0.5, 1.0, 2 / 3))
    # conlleval: I-PER after O opens PER(1,3), equal to the predicted span: all correct.
    assert _prf(entity_scores(gold, pred, "BIO", mode="conlleval")) == (1.0, 1.0, 1.0)


def test_strict_iobes_needs_the_closing_tag():
    gold = [["B-PER", "E-PER", "O", "S-LOC"], ["B-ORG", "I-ORG", "E-ORG"]]
    pred = [["B-PER", "I-PER", "O", "S-LOC"], ["B-ORG", "I-ORG", "E-ORG"]]
    # Strict: the predicted B-PER I-PER has no E-PER and is no entity: 2 of 3 found, P = 1.
    assert _prf(entity_scores(gold, pred, "IOBES")) == pytest.approx((1.0, 2 / 3, 0.8))
    # conlleval: B-PER I-PER still reads as PER(0,2), the gold span.
    assert _prf(entity_scores(gold, pred, "IOBES", mode="conlleval")) == (1.0, 1.0, 1.0)


def test_type_and_boundary_must_both_match():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    pred = [["B-PER", "O", "O", "B-ORG"], ["B-ORG", "O"]]
    # Gold {PER(0,2), LOC(3,4), ORG}; predicted {PER(0,1), ORG(3,4), ORG}: 1 correct of 3 and 3.
    out = entity_scores(gold, pred)
    assert _prf(out) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert out["per_type"] == {
        "LOC": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1},
        "ORG": {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1},
        "PER": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}}


def test_no_entities_scores_zero():
    assert _prf(entity_scores([["O", "O"]], [["O", "O"]])) == (0.0, 0.0, 0.0)
    assert entity_scores([["O"]], [["B-PER"]])["per_type"]["PER"]["support"] == 0


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"Predicted tag 'S-PER' \(sentence 0, position 1\) "
                                         r"is not valid in the IOB2 scheme"):
        entity_scores([["O", "B-PER"]], [["O", "S-PER"]], "IOB2")
    with pytest.raises(ValueError, match="Gold tag 'PER'"):
        entity_scores([["PER"]], [["O"]], "IOBES")
    with pytest.raises(ValueError, match="Sentence 0 has 2 gold tags but 1 predicted"):
        entity_scores([["O", "O"]], [["O"]])
    with pytest.raises(ValueError, match="1 gold sentences but 2 predicted"):
        entity_scores([["O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="Unknown tagging scheme 'BILOU'"):
        entity_scores([["O"]], [["O"]], scheme="BILOU")
    with pytest.raises(ValueError, match="Unknown mode 'lenient'"):
        entity_scores([["O"]], [["O"]], mode="lenient")
