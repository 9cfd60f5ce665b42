"""The token arrays a distillation run reads, and which rows serve which purpose.

Task-agnostic runs tokenize the transfer text and carve dev and held-out rows
out of it. Task transfer reads the source task's labelled training data, adds
unlabelled augmentation made from the transfer text (sentence pairs for a pair
task, whitespace-split sentences for a token task such as NER) and scores on
the source task's dev split.
"""
import dataclasses

import numpy as np

from xtremedistil_tf.distill.transfer_data import load_transfer_texts, split_indices
from xtremedistil_tf.tasks.data.batching import IGNORE_INDEX

INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


@dataclasses.dataclass
class DistillData:
    """Every example of a run as `[num_rows, seq]` arrays, and the rows of each split.

    Args:
        inputs: dict of int32 arrays keyed by `INPUT_KEYS`.
        labels: one label per row (`[num_rows]`), or one per token
            (`[num_rows, seq]`, -100 where no tag is read), or None; rows
            outside `labelled` and `dev` hold a filler.
        train: rows the stages train on (labelled and unlabelled).
        labelled: training rows with gold labels (a stage with a label loss
            trains on these only).
        dev: rows of the dev split (early stopping, best weights).
        heldout: rows of the agreement report.
        counts: what the summary says about the data.
        pair_train, pair_dev: rows of `pair_data` (after every other row), on which a
            stage whose losses all read pairs (`pair_score`) trains and keeps its best
            weights; empty without `pair_data`.
    """

    inputs: dict
    labels: np.ndarray | None
    train: np.ndarray
    labelled: np.ndarray
    dev: np.ndarray
    heldout: np.ndarray
    counts: dict
    pair_train: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    pair_dev: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def num_transfer_rows(self):
        """Rows before the `pair_data` rows (all of them without pair data)."""
        return len(self.inputs["input_ids"]) - len(self.pair_train) - len(self.pair_dev)

    def subset(self, rows):
        return {k: v[rows] for k, v in self.inputs.items()}


def encode_transfer_texts(tokenizer, data, max_length):
    """`TransferTexts` as padded int32 model inputs. A row whose second text is empty is
    encoded as a single text (`[CLS] A [SEP]`), so single texts and pairs can share a
    source (`builtin:wikipedia_mixed`, or a .tsv with an empty second column)."""
    pairs = data.text_pairs or [""] * len(data)
    inputs = {k: np.zeros((len(data), max_length), np.int32) for k in INPUT_KEYS}
    single = [i for i, pair in enumerate(pairs) if not pair]
    paired = [i for i, pair in enumerate(pairs) if pair]
    for rows, second in ((single, None), (paired, [pairs[i] for i in paired])):
        if rows:
            encoded = tokenizer([data.texts[i] for i in rows], second, max_length=max_length,
                                padding="max_length")
            for k in INPUT_KEYS:
                inputs[k][rows] = encoded[k]
    return inputs


def agnostic_data(config, tokenizer, log=print):
    """Transfer text split into train, dev and held-out rows (`config.dev_fraction`, ...)."""
    data = load_transfer_texts(config.transfer_data, config.max_train_samples or 0)
    log(f"Transfer data: {len(data)} examples from {config.transfer_data}")
    inputs = encode_transfer_texts(tokenizer, data, config.max_seq_length)
    train, dev, heldout = split_indices(len(data), config.dev_fraction,
                                        config.heldout_examples, config.seed)
    labelled = train if data.labels is not None else np.zeros(0, np.int64)
    return DistillData(inputs, data.labels, train, labelled, dev, heldout,
                       {"transfer_examples": len(data)})


def with_pair_data(data, config, tokenizer, log=print):
    """`data` with the text pairs of `config.pair_data` appended as `pair_train` and
    `pair_dev` rows (split like the transfer text, without held-out rows)."""
    pairs = load_transfer_texts(config.pair_data, config.max_train_samples or 0)
    if not pairs.text_pairs or not all(pairs.text_pairs):
        raise ValueError(
            f"pair_data {config.pair_data!r} holds single texts; it must be text pairs (a "
            ".tsv of two tab-separated columns, or builtin:wikipedia_graded_pairs).")
    log(f"Pair data: {len(pairs)} pairs from {config.pair_data}")
    inputs = encode_transfer_texts(tokenizer, pairs, config.max_seq_length)
    train, dev, _ = split_indices(len(pairs), config.dev_fraction, 0, config.seed)
    offset = len(data.inputs["input_ids"])
    labels = data.labels
    if labels is not None:
        labels = np.concatenate([labels, _filler(labels, len(pairs))])
    return dataclasses.replace(
        data, inputs={k: np.concatenate([data.inputs[k], inputs[k]]) for k in INPUT_KEYS},
        labels=labels, pair_train=train + offset, pair_dev=dev + offset,
        counts={**data.counts, "pair_examples": len(pairs)})


def has_pairs(data, rows):
    """Whether any of `rows` holds a second text (a token of type 1)."""
    return bool(len(rows)) and bool((data.inputs["token_type_ids"][rows] > 0).any())


def pad_features(inputs, max_seq_length, pad_token_id):
    """Lists of token-id lists (unpadded task features) as `[n, max_seq_length]` arrays."""
    ids = inputs["input_ids"]
    out = {"input_ids": np.full((len(ids), max_seq_length), pad_token_id, np.int32),
           "attention_mask": np.zeros((len(ids), max_seq_length), np.int32),
           "token_type_ids": np.zeros((len(ids), max_seq_length), np.int32)}
    for row, (tokens, types) in enumerate(zip(ids, inputs["token_type_ids"])):
        out["input_ids"][row, :len(tokens)] = tokens
        out["attention_mask"][row, :len(tokens)] = 1
        out["token_type_ids"][row, :len(types)] = types
    return out


def _filler(labels, count):
    if labels.ndim > 1:  # per-token tags: ignored everywhere, should a loss read them
        return np.full((count,) + labels.shape[1:], IGNORE_INDEX, labels.dtype)
    return np.zeros((count,) + labels.shape[1:], labels.dtype)


def pad_token_labels(labels, max_seq_length):
    """Per-token label lists (NER features) as an int32 `[n, max_seq_length]` array.

    Positions past a row's tokens get `IGNORE_INDEX`, like the tokens the task
    itself leaves untagged (special tokens, later subwords of a word).
    """
    out = np.full((len(labels), max_seq_length), IGNORE_INDEX, np.int32)
    for row, tags in enumerate(labels):
        out[row, :len(tags)] = tags
    return out


def _token_examples(examples):
    """Augmentation sentences as unlabelled `TokenExample`s (words split on whitespace)."""
    from xtremedistil_tf.tasks.data.examples import TokenExample

    return [TokenExample(e.guid, tuple(e.text.split()), None, e.source) for e in examples]


def task_data(config, task, tokenizer, pad_token_id, log=print):
    """Source-task train rows (labelled), augmentation rows and source dev rows.

    `task` is prepared (its labels fixed) already. Returns `(data, dev_examples,
    dev_features)`; the last two score models on the source task's dev split.
    """
    from xtremedistil_tf.mkd.transfer_set import augmentation_examples, is_pairwise
    from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer

    task_tokenizer = TaskTokenizer(tokenizer)
    source = task.subsample(task.load_examples("train"), "train")
    dev_split = task.eval_splits[0]
    dev_examples = task.subsample(task.load_examples(dev_split), dev_split)
    # The label set is the teacher's: point at a label it never learnt, not a KeyError.
    task.check_labels(source)
    task.check_labels(dev_examples)
    per_token = task.per_token_outputs
    pairwise = not per_token and is_pairwise(source)
    extra = []
    if config.augmentation_examples:
        texts = load_transfer_texts(config.transfer_data).texts
        extra = augmentation_examples(texts, config.augmentation_examples,
                                      pairwise=pairwise, seed=config.seed)
        if per_token:
            extra = _token_examples(extra)
    train_features = task.build_features(source, task_tokenizer, training=False)
    dev_features = task.build_features(dev_examples, task_tokenizer, training=False)
    if train_features.labels is None or dev_features.labels is None:
        raise ValueError(f"source_task={task.name!r}: its train and {dev_split} splits need "
                         "labels for task transfer.")
    parts = [train_features.inputs]
    if extra:
        parts.append(task.build_features(extra, task_tokenizer, training=False).inputs)
    parts.append(dev_features.inputs)
    arrays = [pad_features(p, config.max_seq_length, pad_token_id) for p in parts]
    inputs = {k: np.concatenate([a[k] for a in arrays]) for k in INPUT_KEYS}
    num_source, num_extra, num_dev = len(source), len(extra), len(dev_examples)
    train_labels, dev_labels = train_features.labels, dev_features.labels
    if per_token:
        train_labels = pad_token_labels(train_labels, config.max_seq_length)
        dev_labels = pad_token_labels(dev_labels, config.max_seq_length)
    labels = np.concatenate([train_labels, _filler(train_labels, num_extra), dev_labels])
    train = np.arange(num_source + num_extra)
    labelled = np.arange(num_source)
    dev = np.arange(num_source + num_extra, num_source + num_extra + num_dev)
    counts = {"source_examples": num_source, "augmentation_examples": num_extra,
              "pairwise": pairwise, "dev_examples": num_dev,
              "dev_split": dev_split, "truncated": {
                  "train": train_features.stats.get("truncated", 0),
                  "dev": dev_features.stats.get("truncated", 0)}}
    log(f"Source task {task.name}: {num_source} labelled train examples, {num_extra} "
        f"augmentation examples from {config.transfer_data}, {num_dev} {dev_split} examples")
    data = DistillData(inputs, labels, train, labelled, dev, dev, counts)
    return data, dev_examples, dev_features
