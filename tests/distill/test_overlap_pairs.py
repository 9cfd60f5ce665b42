"""Overlap-mined sentence pairs: which sentences pair up, once each, within a document."""
import re

from xtremedistil_tf.distill.overlap_pairs import graded_pairs, overlap_pairs, sentences
from xtremedistil_tf.distill.transfer_data import load_transfer_texts

_DOC_A = ("The council approved the new budget for public schools on Monday evening. "
          "Critics said the new budget for public schools was approved far too quickly. "
          "Heavy rain flooded several roads near the river during the long weekend. "
          "Too short to keep.")
_DOC_B = ("Engineers finished the northern bridge across the wide river after three years. "
          "The northern bridge across the river was finished by engineers this spring. "
          "A local bakery won a national prize for its traditional rye bread recipe.")


def _words(text):
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 3}


def _jaccard(first, second):
    return len(_words(first) & _words(second)) / len(_words(first) | _words(second))


def test_each_sentence_pairs_with_its_most_overlapping_neighbour_once():
    pairs = overlap_pairs([_DOC_A, _DOC_B], seed=0)
    as_sets = [frozenset(pair) for pair in pairs]
    budget = frozenset(sentences(_DOC_A)[:2])
    bridge = frozenset(sentences(_DOC_B)[:2])
    # Two pairs only: each restating pair once; the rain and bakery sentences share too
    # few words with anything in their document, and nothing pairs across documents.
    assert sorted(as_sets, key=sorted) == sorted([budget, bridge], key=sorted)
    assert "Too short to keep." not in sentences(_DOC_A)


def test_threshold_order_and_seed():
    assert overlap_pairs([_DOC_A, _DOC_B], min_overlap=0.99) == []
    # Sentences sharing no word never pair, whatever the threshold.
    assert len(overlap_pairs([_DOC_A, _DOC_B], min_overlap=0.0)) == 2
    budget, bridge = (frozenset(sentences(doc)[:2]) for doc in (_DOC_A, _DOC_B))
    overlaps = {pair: _jaccard(*pair) for pair in (budget, bridge)}
    between = sum(overlaps.values()) / 2  # drops the pair with the lower overlap only
    kept = [frozenset(pair) for pair in overlap_pairs([_DOC_A, _DOC_B], min_overlap=between)]
    assert kept == [max(overlaps, key=overlaps.get)]
    assert overlap_pairs([_DOC_A, _DOC_B], seed=3) == overlap_pairs([_DOC_A, _DOC_B], seed=3)
    orders = {tuple(overlap_pairs([_DOC_A, _DOC_B] * 3, min_overlap=0.0, seed=s)) for s in range(6)}
    assert len(orders) > 1


def test_builtin_wikipedia_pairs_are_overlapping_sentence_pairs():
    data = load_transfer_texts("builtin:wikipedia_pairs")
    assert len(data) > 4000 and data.text_pairs is not None and data.labels is None
    assert len(data.text_pairs) == len(data.texts)
    for first, second in zip(data.texts[:200], data.text_pairs[:200]):
        assert first != second and "\t" not in first + second
        assert 8 <= len(first.split()) <= 40 and 8 <= len(second.split()) <= 40
        assert _jaccard(first, second) >= 0.15


def test_builtin_wikipedia_mixed_alternates_passages_and_pairs():
    mixed = load_transfer_texts("builtin:wikipedia_mixed", max_examples=400)
    passages = load_transfer_texts("builtin:wikipedia", max_examples=200)
    pairs = load_transfer_texts("builtin:wikipedia_pairs", max_examples=200)
    assert mixed.texts[0::2] == passages.texts and set(mixed.text_pairs[0::2]) == {""}
    assert mixed.texts[1::2] == pairs.texts and mixed.text_pairs[1::2] == pairs.text_pairs


def test_graded_pairs_hold_the_mined_pairs_then_same_and_cross_document_ones():
    docs = [_DOC_A, _DOC_B] * 2
    mined = {frozenset(pair) for pair in overlap_pairs(docs, seed=0)}
    graded = graded_pairs(docs, seed=0, same_document_share=1.0)
    as_sets = [frozenset(pair) for pair in graded]
    assert mined <= set(as_sets)
    doc_of = {s: i % 2 for i, doc in enumerate([_DOC_A, _DOC_B]) for s in sentences(doc)}
    # With share 1.0 every sentence gets one partner from its own document (never itself).
    same = [p for p in graded if doc_of[p[0]] == doc_of[p[1]] and frozenset(p) not in mined]
    num_mined = len(overlap_pairs(docs, seed=0))
    num_sentences = sum(len(sentences(doc)) for doc in docs)
    assert len(graded) == num_mined + num_sentences + num_mined // 2  # mined, same, across
    assert same and all(a != b for a, b in same)
    assert graded == graded_pairs(docs, seed=0, same_document_share=1.0)
    assert graded_pairs(docs, seed=0, same_document_share=0.0) != graded


def test_builtin_graded_pairs_range_from_overlapping_to_unrelated():
    data = load_transfer_texts("builtin:wikipedia_graded_pairs")
    assert len(data) > 10000 and data.labels is None  # about 3x the 5,013 mined pairs
    overlaps = [_jaccard(a, b) if _words(a) | _words(b) else 0.0
                for a, b in zip(data.texts[:2000], data.text_pairs[:2000])]
    assert sum(o >= 0.15 for o in overlaps) > 200 and sum(o == 0.0 for o in overlaps) > 200
    mixed = load_transfer_texts("builtin:wikipedia_passages_graded_pairs", max_examples=400)
    assert [bool(p) for p in mixed.text_pairs] == [False, True] * 200
