"""Sentence pairs mined from documents by word overlap, the way paraphrase corpora
such as MRPC collect their candidates.

Within each document, every sentence of 8-40 words is paired with the other
sentence that shares the most of its words (Jaccard similarity of the sets of
lowercased words longer than three characters); a pair at or above `min_overlap`
is kept once, its two sentences in a random order. Such pairs look like MRPC's:
two sentences about the same thing, often restating each other, read in one input
with segment B. Distilling on them (`--transfer_data=builtin:wikipedia_pairs`)
lets the importance scores, the refit and the losses see cross-sentence attention,
which a student distilled on single passages never does.
"""
import random
import re

MIN_WORDS, MAX_WORDS = 8, 40
MIN_OVERLAP = 0.15
_SENTENCE_END = re.compile(r'(?<=[.!?])\s+(?=["A-Z])')
_WORD = re.compile(r"[a-z0-9]+")


def _content_words(sentence):
    return {word for word in _WORD.findall(sentence.lower()) if len(word) > 3}


def sentences(document):
    """The document's sentences of `MIN_WORDS` to `MAX_WORDS` words, in order."""
    parts = _SENTENCE_END.split(document.replace("\n\n", " "))
    return [part.strip() for part in parts if MIN_WORDS <= len(part.split()) <= MAX_WORDS]


def overlap_pairs(documents, min_overlap=MIN_OVERLAP, seed=0):
    """`(first, second)` sentence pairs of `documents` (an iterable of strings), shuffled
    with `seed`; tabs inside a sentence become spaces."""
    rng = random.Random(seed)
    pairs = []
    for document in documents:
        sents = sentences(document)
        words = [_content_words(sentence) for sentence in sents]
        seen = set()
        for i, sentence in enumerate(sents):
            best, best_overlap = None, 0.0
            for j in range(len(sents)):
                if j == i or not words[i] or not words[j]:
                    continue
                overlap = len(words[i] & words[j]) / len(words[i] | words[j])
                if overlap > best_overlap:
                    best, best_overlap = j, overlap
            if best is None or best_overlap < min_overlap:
                continue
            key = (min(i, best), max(i, best))
            if key in seen:
                continue
            seen.add(key)
            first, second = sentence, sents[best]
            if rng.random() < 0.5:
                first, second = second, first
            pairs.append((first.replace("\t", " "), second.replace("\t", " ")))
    rng.shuffle(pairs)
    return pairs


def graded_pairs(documents, seed=0, same_document_share=0.6):
    """Pairs from near-paraphrase to unrelated, for a loss that scores pairs
    (`pair_score`): every `overlap_pairs` pair; for each sentence, with probability
    `same_document_share`, another sentence of its document drawn at random (same
    topic, mostly not a restatement); and half as many pairs as mined of two sentences
    drawn from anywhere (mostly unrelated). Shuffled with `seed`."""
    documents = list(documents)
    rng = random.Random(seed)
    pairs = overlap_pairs(documents, seed=seed)
    mined = len(pairs)
    per_document = [sentences(document) for document in documents]
    for sents in per_document:
        for i, sentence in enumerate(sents):
            if len(sents) > 1 and rng.random() < same_document_share:
                j = rng.randrange(len(sents) - 1)
                pairs.append((sentence, sents[j + (j >= i)]))
    everything = [sentence for sents in per_document for sentence in sents]
    if everything:
        for _ in range(mined // 2):
            pairs.append((rng.choice(everything), rng.choice(everything)))
    pairs = [(a.replace("\t", " "), b.replace("\t", " ")) for a, b in pairs]
    rng.shuffle(pairs)
    return pairs
