"""How similar the teacher finds the two texts of a pair when it reads them apart.

A sentence-embedding teacher (all-MiniLM-L6-v2) scores a pair by the cosine of
its two sentence vectors, each text encoded alone. The `pair_score` loss asks
the student to predict that score from one joint pass over `[CLS] A [SEP] B
[SEP]`, through a small head: the student has to compare the two texts with
its own attention, which is what fine-tuning on a paraphrase task such as MRPC
builds on. The head is trained with the stage and dropped at export.

`teacher_pair_scores` derives both single-text inputs from the joint batch, so
the scores live beside the other teacher outputs (and in the teacher cache)
under the key `pair_cosine/<pooling>`: per row `(cosine, 1.0)` for a pair and
`(0.0, 0.0)` for a single text, which the loss skips.
"""
from keras import ops

from xtremedistil_tf.distill.output_spec import extract

KEY_PREFIX = "pair_cosine"


def is_pair_key(key):
    return key.partition("/")[0] == KEY_PREFIX


def segment_inputs(inputs):
    """`(first, second, has_pair)`: model inputs of each text alone, as if tokenized alone.

    The first text keeps its positions (`[CLS] A [SEP]`, the rest masked); the
    second text's tokens (token type 1, with its `[SEP]`) move to the front
    behind the row's `[CLS]`. Rows without a second text get an empty second
    input (`[CLS]` only) and `has_pair` 0.
    """
    ids = ops.convert_to_tensor(inputs["input_ids"])
    real = ops.convert_to_tensor(inputs["attention_mask"]) > 0
    types = ops.convert_to_tensor(inputs["token_type_ids"])
    in_second = ops.logical_and(real, ops.equal(types, 1))
    zeros = ops.zeros_like(ids)
    first = {"input_ids": ids,
             "attention_mask": ops.cast(ops.logical_and(real, ops.logical_not(in_second)), ids.dtype),
             "token_type_ids": zeros}
    seq = ops.shape(ids)[1]
    position = ops.expand_dims(ops.arange(seq, dtype="int32"), 0)
    # Second-text tokens first, in order; everything else after them.
    order = ops.argsort(ops.where(in_second, position, position + seq), axis=1)
    moved_ids = ops.take_along_axis(ids, order, axis=1)
    moved_mask = ops.cast(ops.take_along_axis(in_second, order, axis=1), ids.dtype)
    second = {"input_ids": ops.concatenate([ids[:, :1], moved_ids[:, :-1]], axis=1),
              "attention_mask": ops.concatenate([ops.ones_like(ids[:, :1]), moved_mask[:, :-1]],
                                                axis=1),
              "token_type_ids": zeros}
    has_pair = ops.cast(ops.any(in_second, axis=1), "float32")
    return first, second, has_pair


def teacher_pair_scores(run_teacher, inputs, pooling):
    """`[batch, 2]` float32: the cosine of the teacher's vectors of the two texts, and
    whether the row is a pair. `run_teacher(inputs)` returns the teacher's output dict."""
    first, second, has_pair = segment_inputs(inputs)
    key = f"pooled/{pooling}"
    a = ops.cast(extract(run_teacher(first), key, first["attention_mask"]), "float32")
    b = ops.cast(extract(run_teacher(second), key, second["attention_mask"]), "float32")
    a = a / ops.maximum(ops.norm(a, axis=-1, keepdims=True), 1e-9)
    b = b / ops.maximum(ops.norm(b, axis=-1, keepdims=True), 1e-9)
    cosine = ops.sum(a * b, axis=-1) * has_pair
    return ops.stack([cosine, has_pair], axis=-1)

