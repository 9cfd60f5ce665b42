"""Batches of variable-length encodings, padded to the longest input of each batch."""
import numpy as np
import tensorflow as tf

IGNORE_INDEX = -100


def _ragged(lists, dtype):
    lengths = np.fromiter((len(x) for x in lists), np.int64, count=len(lists))
    flat = np.fromiter((v for x in lists for v in x), dtype, count=int(lengths.sum()))
    return tf.RaggedTensor.from_row_lengths(flat, lengths)


def length_grouped_order(lengths, batch_size, seed, pool_batches=50):
    """A random order in which each batch holds inputs of similar length.

    Shuffles, sorts each pool of `pool_batches` batches by length, cuts the
    pools into batches and shuffles the batches; the one short batch goes
    last so that every other batch stays whole. Padding then costs little.
    """
    rng = np.random.default_rng(seed)
    lengths = np.asarray(lengths)
    perm = rng.permutation(len(lengths))
    pool = batch_size * pool_batches
    full, partial = [], []
    for i in range(0, len(perm), pool):
        chunk = perm[i:i + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        for j in range(0, len(chunk), batch_size):
            (full if len(chunk[j:j + batch_size]) == batch_size else partial).append(
                chunk[j:j + batch_size])
    batches = [full[k] for k in rng.permutation(len(full))] + partial
    return np.concatenate(batches) if batches else perm


def make_dataset(inputs, labels=None, batch_size=32, pad_token_id=0, order=None):
    """A `tf.data.Dataset` of `(inputs, labels)` batches padded per batch.

    Padding each batch only to its longest member keeps short-text tasks cheap;
    the attention mask is built here from the lengths.

    Args:
        inputs: dict with `input_ids` and `token_type_ids`, lists of int lists.
        labels: `None`; an array `[n]` (class ids or scores); a list of int
            lists aligned with the tokens (padded with `IGNORE_INDEX`); or a
            dict of `[n]` arrays (span positions).
        batch_size: examples per batch.
        pad_token_id: the model's padding id (RoBERTa position ids depend on it).
        order: the order to visit inputs in (e.g. `length_grouped_order`);
            `None` keeps theirs.
    """
    if order is not None:
        inputs = {k: [v[i] for i in order] for k, v in inputs.items()}
        if isinstance(labels, dict):
            labels = {k: np.asarray(v)[order] for k, v in labels.items()}
        elif isinstance(labels, np.ndarray):
            labels = labels[order]
        elif labels is not None:
            labels = [labels[i] for i in order]
    ids = inputs["input_ids"]
    features = {
        "input_ids": _ragged(ids, np.int32),
        "attention_mask": _ragged([[1] * len(x) for x in ids], np.int32),
        "token_type_ids": _ragged(inputs["token_type_ids"], np.int32),
    }
    padding = {"input_ids": np.int32(pad_token_id), "attention_mask": np.int32(0),
               "token_type_ids": np.int32(0)}
    if labels is None:
        elements, pad_values = features, padding
    elif isinstance(labels, dict):
        elements = (features, {k: np.asarray(v) for k, v in labels.items()})
        pad_values = (padding, {k: np.asarray(v).dtype.type(0) for k, v in labels.items()})
    elif isinstance(labels, np.ndarray):
        elements, pad_values = (features, labels), (padding, labels.dtype.type(0))
    else:
        elements = (features, _ragged(labels, np.int32))
        pad_values = (padding, np.int32(IGNORE_INDEX))
    dataset = tf.data.Dataset.from_tensor_slices(elements)
    dataset = dataset.ragged_batch(batch_size)

    def densify(value, pad):
        if isinstance(value, tf.RaggedTensor):
            return value.to_tensor(default_value=pad)
        return value

    def pad_batch(*batch):
        batch = batch[0] if len(batch) == 1 else batch
        return tf.nest.map_structure(densify, batch, pad_values)

    dataset = dataset.map(pad_batch, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
