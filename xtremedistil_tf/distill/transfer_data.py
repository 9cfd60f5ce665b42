"""Reads unlabelled transfer text and carves it into train, dev and held-out splits."""
import ast
import dataclasses
import glob
import os
import re
import sysconfig

import numpy as np

from xtremedistil_tf.distill.overlap_pairs import graded_pairs, overlap_pairs
from xtremedistil_tf.distill.wikipedia_texts import article_texts
from xtremedistil_tf.utils.text_files import read_text

# Packs sentences into examples of about this many words: long enough to fill a
# 64-token window, short enough that little is cut off.
WORDS_PER_EXAMPLE = 40


@dataclasses.dataclass
class TransferTexts:
    """Texts (and optional second texts and integer labels) of one source."""

    texts: list
    text_pairs: list | None = None
    labels: np.ndarray | None = None

    def __len__(self):
        return len(self.texts)

    def subset(self, indices):
        pick = lambda seq: None if seq is None else [seq[i] for i in indices]  # noqa: E731
        labels = None if self.labels is None else self.labels[indices]
        return TransferTexts(pick(self.texts), pick(self.text_pairs), labels)


def prose_examples(text, words_per_example=WORDS_PER_EXAMPLE):
    """Paragraphs of `text` without code (indented) or headings, packed into examples.

    Whole sentences are joined until an example has `words_per_example` words; a
    paragraph's leftover of at least 6 words is an example too.
    """
    paragraphs, current = [], []
    for line in text.splitlines() + [""]:
        stripped = line.strip()
        if not stripped or line.startswith((" ", "\t", ">>>")) or set(stripped) <= set("*=-~"):
            if current:
                paragraphs.append(" ".join(current))
            current = []
            continue
        current.append(stripped)
    examples = []
    for paragraph in paragraphs:
        letters = sum(c.isalpha() or c == " " for c in paragraph)
        if len(paragraph.split()) < 6 or letters < 0.85 * len(paragraph):
            continue
        chunk = []
        for sentence in re.split(r"(?<=[.!?])\s+", paragraph):
            chunk.append(sentence)
            if sum(len(s.split()) for s in chunk) >= words_per_example:
                examples.append(" ".join(chunk))
                chunk = []
        if chunk and sum(len(s.split()) for s in chunk) >= 6:
            examples.append(" ".join(chunk))
    return examples


def _stdlib_docstrings():
    """Docstrings of the pure-Python standard library, read with `ast` (nothing imported)."""
    lib = sysconfig.get_paths()["stdlib"]
    files = sorted(glob.glob(os.path.join(lib, "*.py")) + glob.glob(os.path.join(lib, "*", "*.py")))
    skip = ("test", "idlelib", "lib2to3", "site-packages", "dist-packages")
    for path in files:
        if any(part in os.path.relpath(path, lib).split(os.sep)[0] for part in skip):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
        except (SyntaxError, UnicodeDecodeError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc:
                    yield doc


def python_docs_texts():
    """English prose that ships inside every CPython install.

    The language reference `help()` shows (`pydoc_data.topics`, about 460k
    characters) and the docstrings of the standard library (about 1.5M
    characters). Code, doctests and headings are dropped; sentences are packed
    into examples of about `WORDS_PER_EXAMPLE` words; duplicates are removed.
    """
    from pydoc_data import topics

    sources = [topics.topics[name] for name in sorted(topics.topics)]
    sources.extend(_stdlib_docstrings())
    return _unique_examples(sources)


def _unique_examples(texts):
    """`prose_examples` of every text, first occurrence of each kept, in order."""
    return list(dict.fromkeys(example for text in texts for example in prose_examples(text)))


def wikipedia_examples(path=None, seed=0):
    """The Wikipedia excerpt that ships with gensim, packed like the Python docs, in one
    fixed shuffled order across articles, so a `--max_train_samples` prefix covers
    every article."""
    return _shuffled_passages(article_texts(path), seed)


def _shuffled_passages(articles, seed):
    examples = _unique_examples(articles)
    order = np.random.default_rng(seed).permutation(len(examples))
    return [examples[i] for i in order]


def wikipedia_pairs(path=None, seed=0):
    """Sentence pairs mined by word overlap within each article of the same excerpt
    (`overlap_pairs`: MRPC-style candidates, read as text pairs)."""
    return _pair_texts(article_texts(path), seed)


def _pair_texts(articles, seed, mine=overlap_pairs):
    pairs = mine(articles, seed=seed)
    return TransferTexts([first for first, _ in pairs], [second for _, second in pairs])


def wikipedia_mixed(path=None, seed=0):
    """`wikipedia_examples` passages and `wikipedia_pairs` pairs alternating (a passage
    has an empty second text), so every prefix holds both halves."""
    articles = list(article_texts(path))  # the dump is parsed once for both halves
    return _alternate(_shuffled_passages(articles, seed), _pair_texts(articles, seed))


def wikipedia_graded_pairs(path=None, seed=0):
    """Sentence pairs of the same excerpt from near-paraphrase to unrelated
    (`graded_pairs`: the mined pairs, pairs within an article, pairs across articles),
    for the `pair_score` loss, which needs pairs the teacher scores high and low."""
    return _pair_texts(article_texts(path), seed, graded_pairs)


def wikipedia_passages_graded_pairs(path=None, seed=0):
    """`wikipedia_examples` passages and `wikipedia_graded_pairs` pairs alternating."""
    articles = list(article_texts(path))
    return _alternate(_shuffled_passages(articles, seed), _pair_texts(articles, seed, graded_pairs))


def _alternate(passages, pairs):
    texts, seconds = [], []
    for i in range(max(len(passages), len(pairs))):
        if i < len(passages):
            texts.append(passages[i])
            seconds.append("")
        if i < len(pairs):
            texts.append(pairs.texts[i])
            seconds.append(pairs.text_pairs[i])
    return TransferTexts(texts, seconds)


# builtin:<name> transfer sources: text every install has, read without network. Each
# returns a list of texts or a `TransferTexts` (for pairs).
BUILTIN_SOURCES = {"python_docs": python_docs_texts, "wikipedia": wikipedia_examples,
                   "wikipedia_pairs": wikipedia_pairs, "wikipedia_mixed": wikipedia_mixed,
                   "wikipedia_graded_pairs": wikipedia_graded_pairs,
                   "wikipedia_passages_graded_pairs": wikipedia_passages_graded_pairs}


def _read_file(path):
    if not os.path.isfile(path):
        raise ValueError(
            f"transfer_data file {path!r} does not exist; give a .txt/.tsv file (relative "
            "paths are from the repository root) or one of "
            f"{', '.join('builtin:' + name for name in BUILTIN_SOURCES)}.")
    # read_text names the file and line of a byte that is not UTF-8.
    lines = [line.rstrip("\r") for line in read_text(path).split("\n") if line.strip()]
    if not path.endswith(".tsv"):
        return TransferTexts([line.strip() for line in lines])
    rows = [line.split("\t") for line in lines]
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ValueError(f"transfer_data {path!r}: rows have different column counts {sorted(widths)}.")
    width = widths.pop() if widths else 1
    if width > 3:
        raise ValueError(
            f"transfer_data {path!r} has {width} tab-separated columns; a .tsv is read as text, "
            "optional second text, optional integer label. Keep only those columns, e.g. for "
            "GLUE MRPC: tail -n +2 MRPC/train.tsv | cut -f4,5 > mrpc_pairs.tsv")
    if width == 2 and all(re.fullmatch(r"-?\d+", row[1].strip()) for row in rows[1:] or rows):
        raise ValueError(
            f"transfer_data {path!r}: its second column holds only integers, which look like "
            "labels, but a two-column .tsv is read as text pairs; give the texts alone as a "
            ".txt (one per line), e.g. tail -n +2 SST-2/train.tsv | cut -f1 > sst2.txt")
    texts = [row[0] for row in rows]
    pairs = [row[1] for row in rows] if width >= 2 else None
    labels = None
    if width == 3:
        try:
            labels = np.array([int(row[2]) for row in rows], dtype=np.int32)
        except ValueError:
            raise ValueError(
                f"transfer_data {path!r}: the third column must hold integer labels.") from None
    return TransferTexts(texts, pairs, labels)


def _read_tfds(spec):
    import tensorflow_datasets as tfds

    try:
        name, split, features = spec.split(":")
    except ValueError:
        raise ValueError(
            f"transfer_data=tfds:{spec!r} must look like tfds:<name>:<split>:<feature>[,<feature>], "
            "e.g. tfds:glue/mnli:train:premise,hypothesis.") from None
    features = features.split(",")
    texts, pairs = [], []
    for example in tfds.as_numpy(tfds.load(name, split=split)):
        texts.append(example[features[0]].decode("utf-8"))
        if len(features) > 1:
            pairs.append(example[features[1]].decode("utf-8"))
    return TransferTexts(texts, pairs or None)


def load_transfer_texts(source, max_examples=0):
    """Reads `source` (see `DistillConfig.transfer_data`); raises ValueError when empty."""
    if source.startswith("builtin:"):
        name = source[len("builtin:"):]
        if name not in BUILTIN_SOURCES:
            raise ValueError(f"Unknown builtin transfer data {name!r}; valid: {sorted(BUILTIN_SOURCES)}.")
        data = BUILTIN_SOURCES[name]()
        if not isinstance(data, TransferTexts):
            data = TransferTexts(data)
    elif source.startswith("tfds:"):
        data = _read_tfds(source[len("tfds:"):])
    else:
        data = _read_file(source)
    if not len(data):
        raise ValueError(f"transfer_data {source!r} holds no text; give a file with one text per line.")
    if max_examples and len(data) > max_examples:
        data = data.subset(list(range(max_examples)))
    return data


def split_indices(num_examples, dev_fraction, heldout_examples, seed):
    """Shuffles once with `seed` and returns `(train, dev, heldout)` index arrays."""
    order = np.random.default_rng(seed).permutation(num_examples)
    heldout = order[:heldout_examples]
    rest = order[heldout_examples:]
    num_dev = int(round(dev_fraction * len(rest)))
    if dev_fraction > 0:
        num_dev = max(num_dev, 1)
    dev, train = rest[:num_dev], rest[num_dev:]
    if len(train) == 0:
        raise ValueError(
            f"The transfer data has {num_examples} examples, too few for "
            f"heldout_examples={heldout_examples} and dev_fraction={dev_fraction}; add text "
            "or lower those.")
    return np.sort(train), np.sort(dev), np.sort(heldout)
