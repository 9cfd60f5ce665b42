"""Tiny task-transfer inputs: HF encoders and task teachers, GLUE-layout SST-2, CoNLL NER."""
import os

import numpy as np

from tests.distill import helpers

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [f"word{i}" for i in range(helpers.VOCAB - len(SPECIAL))]
# Sentences with more of the first ten words than of the next ten are positive.
POSITIVE, NEGATIVE = WORDS[:10], WORDS[10:20]


def _sentence(rng):
    return " ".join(rng.choice(WORDS[:40], size=rng.integers(4, 10)))


def _label(sentence):
    words = sentence.split()
    return int(sum(w in POSITIVE for w in words) > sum(w in NEGATIVE for w in words))


def _write(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def make_task_setup(root, train=64, dev=24):
    """Writes `teacher/` (a bare encoder), `task_teacher/` (an SST-2 classifier),
    `glue/SST-2/{train,dev}.tsv` and `unlabelled.txt` under `root`."""
    from xtremedistil_tf.checkpoints import to_hf, to_hf_task
    from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
    from xtremedistil_tf.tokenizers import Tokenizer

    tokenizer = Tokenizer.from_vocab(SPECIAL + WORDS)
    # 6 heads of width 8, so that a tiny student (4 heads of width 8) can be cut out of it.
    encoder = helpers.tiny_teacher(num_attention_heads=6)
    to_hf(encoder, tokenizer, str(root / "teacher"))
    classifier = SequenceClassifier(encoder, 2, label_names=["0", "1"], dropout=0.0,
                                    name="teacher_classifier")
    classifier.build()
    rng = np.random.default_rng(0)
    # Large head weights give sharp, varied teacher logits.
    classifier.classifier.kernel.assign(rng.normal(0, 1.0, classifier.classifier.kernel.shape))
    to_hf_task(classifier, tokenizer, str(root / "task_teacher"))
    rows = {"train": [_sentence(rng) for _ in range(train)],
            "dev": [_sentence(rng) for _ in range(dev)]}
    for split, sentences in rows.items():
        _write(str(root / "glue" / "SST-2" / f"{split}.tsv"),
               ["sentence\tlabel"] + [f"{s}\t{_label(s)}" for s in sentences])
    _write(str(root / "unlabelled.txt"),
           [". ".join(_sentence(rng) for _ in range(3)) + "." for _ in range(30)])
    return root


def make_stsb(root, train=40, dev=16):
    """Writes `stsb_teacher/` (a regression head) and `glue/STS-B/{train,dev}.tsv` under `root`."""
    from xtremedistil_tf.checkpoints import to_hf_task
    from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
    from xtremedistil_tf.tokenizers import Tokenizer

    tokenizer = Tokenizer.from_vocab(SPECIAL + WORDS)
    regressor = SequenceClassifier(helpers.tiny_teacher(num_attention_heads=6), 1,
                                   problem_type="regression", dropout=0.0, name="stsb_teacher")
    regressor.build()
    to_hf_task(regressor, tokenizer, str(root / "stsb_teacher"))
    rng = np.random.default_rng(1)
    for split, count in (("train", train), ("dev", dev)):
        rows = [f"{_sentence(rng)}\t{_sentence(rng)}\t{rng.uniform(0, 5):.2f}"
                for _ in range(count)]
        _write(str(root / "glue" / "STS-B" / f"{split}.tsv"),
               ["sentence1\tsentence2\tscore"] + rows)
    return root


# NER: the last two vocabulary slots are suffixes, so that "word3s" is two wordpieces and
# only its first carries a tag.
NER_VOCAB = SPECIAL + WORDS[:-2] + ["##s", "##ed"]
NER_TYPES = {**{w: "PER" for w in WORDS[:5]}, **{w: "LOC" for w in WORDS[5:10]}}
NER_LABELS = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def _tagged_sentence(rng):
    words = [str(w) + ("s" if rng.random() < 0.2 else "")
             for w in rng.choice(WORDS[:30], size=rng.integers(3, 9))]
    tags, previous = [], None
    for word in words:
        kind = NER_TYPES.get(word[:-1] if word.endswith("s") else word)
        tags.append("O" if kind is None else ("I-" if kind == previous else "B-") + kind)
        previous = kind
    return [f"{w} X X {t}" for w, t in zip(words, tags)]


def make_ner_setup(root, train=64, dev=24):
    """Writes `ner_base/` (a bare encoder), `ner_teacher/` (an HF token-classification
    folder), `ner_student/` (a tiny encoder without dropout, whose dev losses follow its
    training losses), `conll/{train,valid}.txt` and `unlabelled.txt` under `root`."""
    from xtremedistil_tf.checkpoints import to_hf, to_hf_task
    from xtremedistil_tf.models.token_classifier import TokenClassifier
    from xtremedistil_tf.tokenizers import Tokenizer

    tokenizer = Tokenizer.from_vocab(NER_VOCAB)
    encoder = helpers.tiny_teacher(num_attention_heads=6)
    to_hf(encoder, tokenizer, str(root / "ner_base"))
    to_hf(helpers.tiny_student(), tokenizer, str(root / "ner_student"))
    tagger = TokenClassifier(encoder, len(NER_LABELS), NER_LABELS, dropout=0.0,
                             name="teacher_tagger")
    tagger.build()
    rng = np.random.default_rng(2)
    tagger.classifier.kernel.assign(rng.normal(0, 1.0, tagger.classifier.kernel.shape))
    to_hf_task(tagger, tokenizer, str(root / "ner_teacher"))
    for split, count in (("train", train), ("valid", dev)):
        lines = ["-DOCSTART- -X- -X- O", ""]
        for _ in range(count):
            lines += _tagged_sentence(rng) + [""]
        _write(str(root / "conll" / f"{split}.txt"), lines)
    _write(str(root / "unlabelled.txt"),
           [". ".join(_sentence(rng) for _ in range(3)) + "." for _ in range(30)])
    return root
