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


def _map_codepoints(flat, run_starts, run_modes, run_rows, rows):
    """Each code point's normalized code points, `width` per input, -1 for none.

    Returns `(mapped, width)`: `mapped` is flat `[len(flat) * width]`.
    """
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
    return mapped, width


def normalize_and_split_words(texts, run_starts, run_modes, run_rows, rows):
    """BERT normalization + pre-tokenization of strings `[N]`.

    Returns `(words, splits)`: the words of all texts and where each text's start.
    """
    codepoints = tf.strings.unicode_decode(texts, "UTF-8", errors="replace",
                                           replacement_char=0xFFFD)
    flat, splits = codepoints.flat_values, codepoints.row_splits
    mapped, width = _map_codepoints(flat, run_starts, run_modes, run_rows, rows)
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


def assemble_and_pad(segments, layout, max_length, pad_token_id, extras=None):
    """Dense model inputs from segments and a special-token layout.

    Args:
        segments: {"A": (values, splits), "B": ...}, already truncated to fit.
        layout: items `[token_id, type_id]` or `["A" | "B", type_id]`.
        extras: optional `{name: {"A": values, "B": values}}`, more per-token
            values laid out like the ids (same splits); special tokens and
            padding get -1.

    Returns int32 `input_ids`, `attention_mask`, `token_type_ids` `[batch, max_length]`
    and, per extra, an int32 `[batch, max_length]` tensor under its name.
    """
    extras = extras or {}
    splits_a = segments["A"][1]
    batch = tf.shape(splits_a)[0] - 1
    laid_out = {name: -tf.ones([batch, max_length], tf.int32) for name in extras}
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
            index = tf.clip_by_value(source, 0, tf.size(values, out_type=source.dtype))
            value = tf.gather(padded, index)
        else:
            length = tf.ones_like(start)
            value = tf.constant(what, tf.int32)
        inside = tf.logical_and(position >= start, position < start + length)
        for name, by_segment in extras.items():
            if what in segments:
                extra = tf.concat([tf.cast(by_segment[what], tf.int32), [-1]], axis=0)
                laid_out[name] = tf.where(inside, tf.gather(extra, index), laid_out[name])
        input_ids = tf.where(inside, value, input_ids)
        token_type_ids = tf.where(inside, tf.constant(type_id, tf.int32), token_type_ids)
        start = start + length
    attention_mask = tf.cast(position < start, tf.int32)
    return {"input_ids": input_ids, "attention_mask": attention_mask,
            "token_type_ids": token_type_ids, **laid_out}


def _utf8_lengths(codepoints):
    """Bytes each code point takes in UTF-8."""
    one = tf.ones_like(codepoints)
    return (one + tf.cast(codepoints >= 0x80, codepoints.dtype)
            + tf.cast(codepoints >= 0x800, codepoints.dtype)
            + tf.cast(codepoints >= 0x10000, codepoints.dtype))


def normalize_and_split_words_with_offsets(texts, run_starts, run_modes, run_rows, rows):
    """`normalize_and_split_words` that also says where each word's characters came from.

    The same words, found by splitting the normalized code points on spaces
    (what `tf.strings.split` on " " does to their UTF-8), so that every code
    point of a word keeps the original code point it was mapped from.

    Returns `(words, splits, locate)`: `words` and `splits` as
    `normalize_and_split_words`, and `locate(word, byte_start, byte_end)` which
    turns byte offsets inside the normalized words (int64 `[P]`, end
    exclusive) into byte offsets inside the original texts.
    """
    codepoints, byte_starts = tf.strings.unicode_decode_with_offsets(
        texts, "UTF-8", errors="replace", replacement_char=0xFFFD)
    flat, splits = codepoints.flat_values, codepoints.row_splits
    starts = byte_starts.flat_values
    # A code point ends where the next of its text starts, the last one at the text's end.
    row = tf.repeat(tf.range(tf.size(splits, out_type=tf.int64) - 1), lengths_of(splits))
    index = tf.range(tf.size(flat, out_type=tf.int64))
    is_last = tf.equal(index + 1, tf.gather(splits[1:], row))
    next_start = tf.gather(tf.concat([starts, tf.zeros([1], starts.dtype)], 0), index + 1)
    ends = tf.where(is_last, tf.gather(tf.cast(tf.strings.length(texts), tf.int64), row),
                    next_start)
    mapped, width = _map_codepoints(flat, run_starts, run_modes, run_rows, rows)
    keep = mapped >= 0
    kept = tf.boolean_mask(mapped, keep)
    kept_source = tf.boolean_mask(tf.range(tf.size(mapped, out_type=tf.int64)) // width, keep)
    kept_splits = masked_splits(splits * width, keep)
    # Words: maximal runs of non-space code points inside one text.
    position = tf.range(tf.size(kept, out_type=tf.int64))
    kept_row = tf.repeat(tf.range(tf.size(kept_splits, out_type=tf.int64) - 1),
                         lengths_of(kept_splits))
    after_space = tf.concat([[True], tf.equal(kept[:-1], 32)], axis=0)[:tf.size(kept)]
    text_start = tf.equal(position, tf.gather(kept_splits, kept_row))
    letter = tf.not_equal(kept, 32)
    word_start = tf.logical_and(letter, tf.logical_or(after_space, text_start))
    letters = tf.boolean_mask(kept, letter)
    letter_source = tf.boolean_mask(kept_source, letter)
    first_letter = tf.where(tf.boolean_mask(word_start, letter))[:, 0]
    letter_splits = tf.concat([first_letter, tf.size(letters, out_type=tf.int64)[None]], 0)
    words = tf.strings.unicode_encode(
        tf.RaggedTensor.from_row_splits(letters, letter_splits, validate=False), "UTF-8")
    word_splits = masked_splits(kept_splits, word_start)
    # Byte position of every letter inside the words laid end to end.
    letter_bytes = tf.cast(_utf8_lengths(letters), tf.int64)
    letter_offset = tf.cumsum(letter_bytes, exclusive=True)
    word_offset = tf.gather(tf.concat([letter_offset, tf.reduce_sum(letter_bytes)[None]], 0),
                            letter_splits)

    def locate(word, byte_start, byte_end):
        base = tf.gather(word_offset, word)
        first = tf.searchsorted(letter_offset, base + byte_start, side="right") - 1
        last = tf.searchsorted(letter_offset, base + byte_end - 1, side="right") - 1
        return (tf.gather(starts, tf.gather(letter_source, first)),
                tf.gather(ends, tf.gather(letter_source, last)))

    return words, word_splits, locate
