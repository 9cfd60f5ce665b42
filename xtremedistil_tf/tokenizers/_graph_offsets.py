"""Where each token of the in-graph tokenizer came from in the original text.

Offsets are UTF-8 byte positions in the text the token was read from (end
exclusive), so that the same numbers cut the original string with
tensorflow-text's `ByteSplitter.split_by_offsets`, in a SavedModel and in
LiteRT alike. The exact WordPiece mode follows every normalized code point
back to the code point it was mapped from; the LiteRT mode uses
`FastBertNormalizer`'s offset map. SentencePiece has no offsets op
(`FastSentencepieceTokenizer` only tokenizes), so it has no offsets here.
"""
import tensorflow as tf
import tensorflow_text as tf_text

from xtremedistil_tf.tokenizers import _graph_ops
from xtremedistil_tf.tokenizers.tokenizer import longest_first_lengths


def _plain_with_offsets(layer, texts):
    """`(ids, splits, byte_starts, byte_ends)` of strings `[N]`, no special tokens."""
    if layer.tflite_compatible:
        normalized, offsets = layer._bert_normalizer.normalize_with_offsets(texts)
        pieces, starts, ends = layer._bert_wordpiece.tokenize_with_offsets(normalized)
        # Row-wise gather by flat index arithmetic: ragged gather needs RaggedRange,
        # which LiteRT has no kernel for.
        row = tf.repeat(tf.range(tf.size(pieces.row_splits, out_type=tf.int64) - 1),
                        pieces.row_lengths())
        base = tf.gather(offsets.row_splits, row)
        return (pieces.flat_values, tf.cast(pieces.row_splits, tf.int64),
                tf.gather(offsets.flat_values, base + starts.flat_values),
                tf.gather(offsets.flat_values, base + ends.flat_values))
    words, word_splits, locate = _graph_ops.normalize_and_split_words_with_offsets(
        texts, *layer._char_table)
    too_long = tf.strings.length(words, unit="UTF8_CHAR") > layer.max_input_chars_per_word
    pieces, starts, ends = layer._wordpiece.tokenize_with_offsets(
        tf.where(too_long, layer.unk_token, words))
    piece_splits = tf.cast(pieces.row_splits, tf.int64)
    word = tf.repeat(tf.range(tf.size(words, out_type=tf.int64)), _graph_ops.lengths_of(
        piece_splits))
    # A too-long word became the unknown token: it spans the whole word.
    whole = tf.gather(too_long, word)
    word_bytes = tf.gather(tf.cast(tf.strings.length(words), tf.int64), word)
    starts = tf.where(whole, tf.zeros_like(word_bytes), tf.cast(starts.flat_values, tf.int64))
    ends = tf.where(whole, word_bytes, tf.cast(ends.flat_values, tf.int64))
    source_starts, source_ends = locate(word, starts, ends)
    return (pieces.flat_values, tf.gather(piece_splits, word_splits), source_starts,
            source_ends)


def _with_offsets(layer, texts):
    if layer._special_pattern is None:
        return _plain_with_offsets(layer, texts)
    # As GraphTokenizer._tokenize, plus where each piece starts in its text.
    pieces, flat, special_id = layer._split_specials(texts)
    piece_bytes = tf.cast(tf.strings.length(flat), tf.int64)
    cumulative = tf.cumsum(piece_bytes, exclusive=True)
    piece_splits = tf.cast(pieces.row_splits, tf.int64)
    piece_row = tf.repeat(tf.range(tf.size(piece_splits, out_type=tf.int64) - 1),
                          _graph_ops.lengths_of(piece_splits))
    # Pieces of a text lay it out end to end: a piece starts where the ones before it end.
    piece_start = cumulative - tf.gather(cumulative, tf.gather(piece_splits, piece_row))
    values, splits, starts, ends = _plain_with_offsets(layer, flat)
    lengths = tf.where(special_id >= 0, tf.ones_like(splits[1:]), _graph_ops.lengths_of(splits))
    token_piece = tf.repeat(tf.range(tf.size(lengths, out_type=tf.int64)), lengths)
    new_ids, new_splits = _graph_ops.take_rows(values, splits, lengths, fill=special_id)
    new_starts, _ = _graph_ops.take_rows(starts, splits, lengths)
    new_ends, _ = _graph_ops.take_rows(ends, splits, lengths)
    is_special = tf.gather(special_id, token_piece) >= 0
    offset = tf.gather(piece_start, token_piece)
    new_starts = tf.where(is_special, tf.zeros_like(new_starts), new_starts) + offset
    new_ends = tf.where(is_special, tf.gather(piece_bytes, token_piece), new_ends) + offset
    return new_ids, tf.gather(new_splits, piece_splits), new_starts, new_ends


def tokenize_with_offsets(layer, texts, text_pairs=None):
    """`GraphTokenizer.call` plus, per position, where the token came from.

    Returns the model inputs and int32 `[batch, max_length]` tensors
    `token_start`, `token_end` (UTF-8 byte offsets in the token's own text, end
    exclusive) and `token_segment` (0: `texts`, 1: `text_pairs`); all three are
    -1 on special tokens and padding.
    """
    first = _with_offsets(layer, texts)
    lengths1 = _graph_ops.lengths_of(first[1])
    if text_pairs is None:
        budget = layer.max_length - layer._num_special("single")
        keep = {"A": tf.minimum(lengths1, tf.cast(budget, lengths1.dtype))}
        segments = {"A": first}
        layout = layer.special_token_layout["single"]
    else:
        second = _with_offsets(layer, text_pairs)
        budget = layer.max_length - layer._num_special("pair")
        keep1, keep2 = longest_first_lengths(lengths1, _graph_ops.lengths_of(second[1]),
                                             tf.cast(budget, lengths1.dtype), ops=tf)
        keep = {"A": keep1, "B": keep2}
        segments = {"A": first, "B": second}
        layout = layer.special_token_layout["pair"]
    ids, extras = {}, {"token_start": {}, "token_end": {}, "token_segment": {}}
    for name, (values, splits, starts, ends) in segments.items():
        ids[name] = _graph_ops.take_rows(values, splits, keep[name])
        extras["token_start"][name] = _graph_ops.take_rows(starts, splits, keep[name])[0]
        extras["token_end"][name] = _graph_ops.take_rows(ends, splits, keep[name])[0]
        extras["token_segment"][name] = tf.fill(tf.shape(ids[name][0]), 0 if name == "A" else 1)
    return _graph_ops.assemble_and_pad(ids, layout, layer.max_length, layer.pad_token_id,
                                       extras=extras)


def split_words(texts):
    """Whitespace-separated words of strings `[batch]`, as the user wrote them.

    Returns `words` (string `[batch, max_words]`, "" after a text's last word),
    `word_start`, `word_end` (int32 UTF-8 byte offsets, -1 after the last word)
    and `num_words` (int32 `[batch]`). Uses only ops LiteRT runs (the
    tensorflow-text whitespace tokenizer and builtins).
    """
    words, starts, ends = tf_text.WhitespaceTokenizer().tokenize_with_offsets(texts)
    splits = tf.cast(words.row_splits, tf.int32)
    counts = splits[1:] - splits[:-1]
    width = tf.reduce_max(tf.concat([counts, [0]], 0))
    column = tf.range(width)[None, :]
    inside = column < counts[:, None]
    index = tf.where(inside, splits[:-1, None] + column, splits[-1])

    def dense(values):
        return tf.gather(tf.concat([tf.cast(values, tf.int32), [-1]], 0), index)

    word_start, word_end = dense(starts.flat_values), dense(ends.flat_values)
    # Cut the words again from the texts (empty past the last word): LiteRT has no
    # string concat to pad the tokenizer's words with.
    rows = tf.fill(tf.shape(counts), width)
    cut = tf_text.ByteSplitter().split_by_offsets(
        texts, tf.RaggedTensor.from_row_lengths(tf.reshape(tf.maximum(word_start, 0), [-1]),
                                                tf.cast(rows, tf.int64)),
        tf.RaggedTensor.from_row_lengths(tf.reshape(tf.maximum(word_end, 0), [-1]),
                                         tf.cast(rows, tf.int64)))
    return {"words": tf.reshape(cut.flat_values, tf.shape(word_start)),
            "word_start": word_start, "word_end": word_end, "num_words": counts}
