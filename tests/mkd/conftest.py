"""A tiny HF teacher folder and tiny GLUE-layout data, made fresh for each test."""
import os

import numpy as np
import pytest

from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.checkpoints import to_hf
from xtremedistil_tf.tokenizers import Tokenizer

WORDS = ("the a cat dog sat ran on mat good bad film was very not it is and of to in "
         "fun dull plot great awful actor we saw".split())
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _write(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def _sentence(rng, n=6):
    return " ".join(rng.choice(WORDS, size=n))


@pytest.fixture
def workspace(tmp_path):
    rng = np.random.default_rng(0)
    tokenizer = Tokenizer.from_vocab(SPECIAL + WORDS + [".", ","])
    teacher = Encoder(get_preset("tiny", vocab_size=tokenizer.vocab_size), name="encoder")
    teacher.build()
    to_hf(teacher, tokenizer, tmp_path / "teacher")
    sst = tmp_path / "glue" / "SST-2"
    _write(sst / "train.tsv", ["sentence\tlabel"] + [
        f"{_sentence(rng)}\t{i % 2}" for i in range(24)])
    _write(sst / "dev.tsv", ["sentence\tlabel"] + [
        f"{_sentence(rng)}\t{i % 2}" for i in range(10)])
    rte = tmp_path / "glue" / "RTE"
    _write(rte / "train.tsv", ["index\tsentence1\tsentence2\tlabel"] + [
        f"{i}\t{_sentence(rng)}\t{_sentence(rng)}\t{('entailment', 'not_entailment')[i % 2]}"
        for i in range(16)])
    _write(rte / "dev.tsv", ["index\tsentence1\tsentence2\tlabel"] + [
        f"{i}\t{_sentence(rng)}\t{_sentence(rng)}\t{('entailment', 'not_entailment')[i % 2]}"
        for i in range(8)])
    _write(tmp_path / "unlabelled.txt", [" = Heading = "] + [
        ". ".join(_sentence(rng) for _ in range(3)) + "." for _ in range(20)])
    return tmp_path
