"""The task-transfer set: a source task's inputs plus unlabelled augmentation text."""
import re

import numpy as np

from xtremedistil_tf.tasks.data.examples import TextExample

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Sentences shorter than this carry too little for a teacher's label to mean much.
_MIN_WORDS = 4


def split_sentences(texts, max_words=60):
    """Sentences of `texts` with at least 4 words, headings ("= Title =") dropped."""
    out = []
    for text in texts:
        text = text.strip()
        if not text or text.startswith("="):
            continue
        for sentence in _SENTENCE_END.split(text):
            words = sentence.split()
            if len(words) >= _MIN_WORDS:
                out.append(" ".join(words[:max_words]))
    return out


def augmentation_examples(texts, count, pairwise, seed=0):
    """Unlabelled `TextExample`s made from raw text, for the teacher to label softly.

    Args:
        texts: unlabelled texts (lines, paragraphs); they are split into sentences.
        count: how many examples to make (fewer when single sentences run out).
        pairwise: make sentence pairs, for a source task on text pairs (NLI,
            paraphrase). Half of the pairs are neighbouring sentences, which are
            related the way a premise and a hypothesis often are; the other half
            pair random sentences, which are mostly unrelated. The teacher's soft
            labels then span its classes instead of collapsing onto one.
        seed: seed of the sentence choice.
    """
    sentences = split_sentences(texts)
    if len(sentences) < 2:
        raise ValueError(f"The augmentation text holds {len(sentences)} usable sentences "
                         f"(of at least {_MIN_WORDS} words); give more unlabelled text.")
    rng = np.random.default_rng(seed)
    examples = []
    if not pairwise:
        picks = rng.permutation(len(sentences))[:count]
        for k, i in enumerate(picks):
            examples.append(TextExample(f"aug-{k}", sentences[i], None, None,
                                        f"augmentation:{i}"))
        return examples
    for k in range(count):
        i = int(rng.integers(len(sentences) - 1))
        j = i + 1 if rng.random() < 0.5 else int(rng.integers(len(sentences)))
        if j == i:
            j = i + 1
        examples.append(TextExample(f"aug-{k}", sentences[i], sentences[j], None,
                                    f"augmentation:{i}+{j}"))
    return examples


def is_pairwise(examples):
    """Whether a task's examples are text pairs."""
    return any(e.text_pair is not None for e in examples)


def unlabelled(examples):
    """The same inputs without labels: in the transfer set only the teacher labels."""
    return [TextExample(e.guid, e.text, e.text_pair, None, e.source) for e in examples]
