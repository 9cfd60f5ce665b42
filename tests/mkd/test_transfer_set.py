"""Augmentation inputs for the task-transfer set."""
import pytest

from xtremedistil_tf.mkd.transfer_set import (augmentation_examples, is_pairwise,
                                              split_sentences, unlabelled)
from xtremedistil_tf.tasks.data.examples import TextExample


def test_pairwise_augmentation_makes_pairs_from_sentences():
    texts = ["= Title =", "One two three four. Five six seven eight! Nine ten eleven twelve?",
             "Thirteen fourteen fifteen sixteen. Short."]
    pairs = augmentation_examples(texts, 20, pairwise=True, seed=0)
    sentences = {"One two three four.", "Five six seven eight!", "Nine ten eleven twelve?",
                 "Thirteen fourteen fifteen sixteen."}
    assert len(pairs) == 20 and all(p.label is None for p in pairs)
    assert all(p.text in sentences and p.text_pair in sentences for p in pairs)
    assert all(p.text != p.text_pair for p in pairs)
    singles = augmentation_examples(texts, 10, pairwise=False)
    assert len(singles) == 4 and all(s.text_pair is None for s in singles)
    with pytest.raises(ValueError, match="1 usable sentences"):
        augmentation_examples(["Only one sentence here."], 5, pairwise=True)


def test_sentences_and_labels_are_stripped():
    assert split_sentences([" = Heading = ", "Too short. This one has five words."]) == [
        "This one has five words."]
    examples = [TextExample("1", "a b", "c d", "entailment", "f:2")]
    assert is_pairwise(examples) and not is_pairwise([TextExample("2", "x")])
    assert unlabelled(examples) == [TextExample("1", "a b", "c d", None, "f:2")]
