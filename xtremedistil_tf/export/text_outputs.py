"""Answers and tags as text: what the text signatures add to a `ServingHead`'s outputs.

The in-graph tokenizer says where every token came from (UTF-8 byte offsets,
`GraphTokenizer.tokenize_with_offsets`), so the answer is cut from the
caller's own context string (its case, accents and punctuation kept, not the
lower-cased word pieces) and tags are read off the first piece of every
whitespace-separated word. Only tensorflow-text ops with LiteRT kernels
(`ByteSplitter`, `WhitespaceTokenizer`) and builtins are used, so the same
outputs come out of the text-in LiteRT models.
"""
import tensorflow as tf
import tensorflow_text as tf_text

# Per kind: the outputs the text signatures add (the token-ids signature cannot
# have them: it never sees the text).
TEXT_OUTPUTS = {
    "question_answering": ("answer", "answer_start", "answer_end"),
    "token_classification": ("words", "word_tags", "word_tag_ids", "num_words"),
}


def _one_per_row(values):
    """`[batch]` values as a ragged `[batch, 1]` (what `split_by_offsets` takes)."""
    return tf.RaggedTensor.from_row_lengths(values, tf.ones_like(values, tf.int64))


def char_offsets(texts, byte_offsets):
    """Code point (Python `str`) positions of UTF-8 byte offsets `[batch, k]` in `texts`."""
    data = tf_text.ByteSplitter().split(texts)
    splits = tf.cast(data.row_splits, tf.int32)
    value = tf.cast(data.flat_values, tf.int32)
    # A character starts at every byte that is not a continuation byte (10xxxxxx).
    starts = tf.cast(tf.logical_or(value < 0x80, value >= 0xC0), tf.int32)
    before = tf.concat([tf.cumsum(starts, exclusive=True), tf.reduce_sum(starts)[None]], 0)
    row_start = splits[:-1, None]
    at = tf.gather(before, row_start + tf.maximum(byte_offsets, 0))
    return at - tf.gather(before, row_start)


def question_answering_text(outputs, encoded, context, context_segment):
    """`answer` (string `[batch]`, "" for no answer) and its `answer_start`,
    `answer_end` (int32 character offsets in `context`, end exclusive, -1 for no
    answer)."""
    start_index, end_index = outputs["start_index"], outputs["end_index"]
    start = tf.gather(encoded["token_start"], start_index, batch_dims=1)
    end = tf.gather(encoded["token_end"], end_index, batch_dims=1)
    in_context = tf.logical_and(
        tf.equal(tf.gather(encoded["token_segment"], start_index, batch_dims=1),
                 context_segment),
        tf.equal(tf.gather(encoded["token_segment"], end_index, batch_dims=1),
                 context_segment))
    valid = tf.logical_and(tf.logical_and(outputs["has_answer"], in_context), end > start)
    start = tf.where(valid, start, 0)
    end = tf.where(valid, end, 0)
    answer = tf_text.ByteSplitter().split_by_offsets(
        context, _one_per_row(start), _one_per_row(end)).flat_values
    chars = char_offsets(context, tf.stack([start, end], axis=1))
    return {"answer": answer,
            "answer_start": tf.where(valid, chars[:, 0], -1),
            "answer_end": tf.where(valid, chars[:, 1], -1)}


def token_classification_text(outputs, encoded, words, label_names):
    """One tag per whitespace-separated word: the tag of its first word piece.

    `words` is `GraphTokenizer.split_words`'s dict. Returns `words` (string
    `[batch, max_words]`, "" after the last word), `word_tags` ("" for words
    cut off by `max_length` and after the last word), `word_tag_ids` (-1 there)
    and `num_words` `[batch]`.
    """
    # expand_dims, not [:, None, :]: LiteRT has no kernel for that strided slice.
    token_start = tf.expand_dims(encoded["token_start"], 2)
    word_start = tf.expand_dims(words["word_start"], 1)
    word_end = tf.expand_dims(words["word_end"], 1)
    # member[b, t, w]: token t begins inside word w.
    member = tf.logical_and(tf.logical_and(token_start >= word_start, token_start < word_end),
                            token_start >= 0)
    tagged = tf.reduce_any(member, axis=1)
    first = tf.argmax(tf.cast(member, tf.int32), axis=1, output_type=tf.int32)
    tag_ids = tf.where(tagged, tf.gather(outputs["tag_ids"], first, batch_dims=1), -1)
    names = tf.constant(list(label_names) + [""])
    tags = tf.gather(names, tf.where(tagged, tag_ids, len(label_names)))
    return {"words": words["words"], "word_tags": tags, "word_tag_ids": tag_ids,
            "num_words": words["num_words"]}
