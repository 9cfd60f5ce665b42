"""TensorFlow pieces of the in-graph tokenizer.

Ragged data travels as `(values, row_splits)` pairs with int64 splits, and rows
are rebuilt by index arithmetic (position -> row -> source index -> gather).
`tf.RaggedTensor` helpers such as `boolean_mask`, `concat` and slicing add
hundreds of ops each; with them a pair tokenizer traced to ~3,600 ops and took
seconds to trace, this way it is a few hundred.
"""
import tensorflow as tf

from xtremedistil_tf.tokenizers._char_table import IDENTITY, SPACED
from xtremedistil_tf.tokenizers.tokenizer import longest_first_lengths


def lengths_of(splits):
    return splits[1:] - splits[:-1]


def splits_of(lengths):
    return tf.concat([tf.zeros([1], lengths.dtype), tf.cumsum(lengths)], axis=0)


def masked_splits(splits, mask):
    """Row splits after dropping the values where `mask` is False."""
    kept = splits_of(tf.cast(mask, splits.dtype))
    return tf.gather(kept, splits)


def take_rows(values, splits, new_lengths, fill=None):
    """Row r becomes its first `new_lengths[r]` values, or `[fill[r]]` if `fill[r] >= 0`.

    Returns `(values, splits)`.
    """
    new_splits = splits_of(new_lengths)
    position = tf.range(new_splits[-1])
    # tf.repeat, unlike tf.searchsorted, converts to TFLite builtins.
    row = tf.repeat(tf.range(tf.size(new_lengths, out_type=splits.dtype)), new_lengths)
    source = tf.gather(splits, row) + position - tf.gather(new_splits, row)
    # One extra value so that rows made only of `fill` can gather anything.
    padded = tf.concat([values, tf.zeros([1], values.dtype)], axis=0)
    out = tf.gather(padded, tf.minimum(source, tf.size(values, out_type=source.dtype)))
    if fill is not None:
        row_fill = tf.cast(tf.gather(fill, row), values.dtype)
        out = tf.where(row_fill >= 0, row_fill, out)
    return out, new_splits


def normalize_and_split_words(texts, run_starts, run_modes, run_rows, rows):
    """BERT normalization + pre-tokenization of strings `[N]`.

    Returns `(words, splits)`: the words of all texts and where each text's start.
    """
    codepoints = tf.strings.unicode_decode(texts, "UTF-8", errors="replace",
                                           replacement_char=0xFFFD)
    flat, splits = codepoints.flat_values, codepoints.row_splits
    run = tf.searchsorted(run_starts, flat, side="right") - 1
    mode = tf.gather(run_modes, run)[:, None]
    width = rows.shape[1]
    none = -tf.ones_like(flat)
    space = tf.fill(tf.shape(flat), 32)
    identity = tf.stack([flat] + [none] * (width - 1), axis=1)
    spaced = tf.stack([space, flat, space] + [none] * (width - 3), axis=1)
    from_rows = tf.gather(rows, tf.gather(run_rows, run))
    mapped = tf.reshape(
        tf.where(mode == IDENTITY, identity, tf.where(mode == SPACED, spaced, from_rows)), [-1])
    keep = mapped >= 0
    normalized = tf.strings.unicode_encode(
        tf.RaggedTensor.from_row_splits(tf.boolean_mask(mapped, keep),
                                        masked_splits(splits * width, keep), validate=False),
        "UTF-8")
    words = tf.strings.split(normalized, sep=" ")
    nonempty = tf.strings.length(words.flat_values) > 0
    return (tf.boolean_mask(words.flat_values, nonempty),
            masked_splits(words.row_splits, nonempty))


def truncate_longest_first(first, second, budget):
    """HF `longest_first` truncation of pairs to `budget` tokens in all.

    `first`, `second`: `(values, splits)`; returns the two truncated pairs.
    """
    n1, n2 = lengths_of(first[1]), lengths_of(second[1])
    keep1, keep2 = longest_first_lengths(n1, n2, tf.cast(budget, n1.dtype), ops=tf)
    return take_rows(*first, keep1), take_rows(*second, keep2)


def truncate_single(tokens, budget):
    lengths = lengths_of(tokens[1])
    return take_rows(*tokens, tf.minimum(lengths, tf.cast(budget, lengths.dtype)))


def assemble_and_pad(segments, layout, max_length, pad_token_id):
    """Dense model inputs from segments and a special-token layout.

    Args:
        segments: {"A": (values, splits), "B": ...}, already truncated to fit.
        layout: items `[token_id, type_id]` or `["A" | "B", type_id]`.

    Returns int32 `input_ids`, `attention_mask`, `token_type_ids` `[batch, max_length]`.
    """
    splits_a = segments["A"][1]
    batch = tf.shape(splits_a)[0] - 1
    position = tf.range(max_length, dtype=splits_a.dtype)[None, :]
    start = tf.zeros([batch, 1], splits_a.dtype)
    input_ids = tf.fill([batch, max_length], tf.constant(pad_token_id, tf.int32))
    token_type_ids = tf.zeros([batch, max_length], tf.int32)
    for what, type_id in layout:
        if what in segments:
            values, splits = segments[what]
            length = lengths_of(splits)[:, None]
            source = splits[:-1, None] + position - start
            padded = tf.concat([values, tf.zeros([1], values.dtype)], axis=0)
            value = tf.gather(padded, tf.clip_by_value(
                source, 0, tf.size(values, out_type=source.dtype)))
        else:
            length = tf.ones_like(start)
            value = tf.constant(what, tf.int32)
        inside = tf.logical_and(position >= start, position < start + length)
        input_ids = tf.where(inside, value, input_ids)
        token_type_ids = tf.where(inside, tf.constant(type_id, tf.int32), token_type_ids)
        start = start + length
    attention_mask = tf.cast(position < start, tf.int32)
    return {"input_ids": input_ids, "attention_mask": attention_mask,
            "token_type_ids": token_type_ids}
