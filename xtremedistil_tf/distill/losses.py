"""Distillation losses as pure functions: tensors in, float32 scalar out.

Every function casts its inputs to float32 (so mixed precision never reaches a
reduction) and takes masks explicitly: `mask` is `[batch, seq]` with 1 for real
tokens and 0 for padding. The `Distiller` only selects, weights and sums them.
"""
import math

from keras import ops

# Keeps log() finite where a probability is exactly 0 (masked keys).
_EPS = 1e-12
# Added to the logits of masked keys before a softmax; exp() of it is 0 in float32.
_MASK_BIAS = -1e9


def _f32(x):
    return ops.cast(x, "float32")


def _masked_mean(values, mask):
    """Mean of `values` over the positions where `mask` is 1 (all when mask is None)."""
    values = _f32(values)
    if mask is None:
        return ops.mean(values)
    mask = ops.broadcast_to(_f32(mask), ops.shape(values))
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)


def masked_mean_pool(sequence, mask=None):
    """Mean of `sequence` `[batch, seq, width]` over real tokens -> `[batch, width]`."""
    sequence = _f32(sequence)
    if mask is None:
        return ops.mean(sequence, axis=1)
    mask = _f32(mask)[:, :, None]
    return ops.sum(sequence * mask, axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)


def hidden_mse(teacher, student, mask=None):
    """Mean squared error between hidden states of equal width.

    Args:
        teacher, student: `[..., width]` (e.g. `[batch, seq, width]`, or
            `[batch, width]` for the first token only). Project the student
            first when the widths differ.
        mask: optional, the leading shape of the inputs; positions with 0 are
            left out of the mean.
    """
    per_position = ops.mean(ops.square(_f32(teacher) - _f32(student)), axis=-1)
    return _masked_mean(per_position, mask)


def hidden_cosine(teacher, student, mask=None):
    """Mean of `1 - cosine(teacher, student)` over positions; inputs as in `hidden_mse`."""
    teacher, student = _f32(teacher), _f32(student)
    dot = ops.sum(teacher * student, axis=-1)
    norms = ops.sqrt(ops.sum(ops.square(teacher), axis=-1) * ops.sum(ops.square(student), axis=-1))
    return _masked_mean(1.0 - dot / ops.maximum(norms, _EPS), mask)


def _check_heads(teacher_probs, student_probs):
    teacher_heads, student_heads = teacher_probs.shape[1], student_probs.shape[1]
    if teacher_heads is not None and student_heads is not None and teacher_heads != student_heads:
        raise ValueError(
            f"Attention losses compare head by head, but the teacher has {teacher_heads} "
            f"heads and the student {student_heads}. Use the self-attention relation loss "
            "('relation'), which works across head counts and widths, instead of "
            "'attention_kl'/'attention_mse'.")


def attention_kl(teacher_probs, student_probs, mask=None):
    """KL(teacher || student) between attention distributions, per query row.

    Args:
        teacher_probs, student_probs: `[batch, heads, seq, seq]` probabilities over
            the last axis (keys), with the same head count.
        mask: `[batch, seq]`; padded query rows are left out. Padded keys carry
            zero teacher probability and so add nothing.
    """
    _check_heads(teacher_probs, student_probs)
    teacher, student = _f32(teacher_probs), _f32(student_probs)
    per_row = ops.sum(teacher * (ops.log(teacher + _EPS) - ops.log(student + _EPS)), axis=-1)
    row_mask = None if mask is None else _f32(mask)[:, None, :]
    return _masked_mean(per_row, row_mask)


def attention_mse(teacher_probs, student_probs, mask=None):
    """MSE between attention probabilities over pairs of real (query, key) tokens."""
    _check_heads(teacher_probs, student_probs)
    pair_mask = None
    if mask is not None:
        mask = _f32(mask)
        pair_mask = (mask[:, :, None] * mask[:, None, :])[:, None, :, :]
    return _masked_mean(ops.square(_f32(teacher_probs) - _f32(student_probs)), pair_mask)


def _relation_probs(x, num_relation_heads, mask):
    """Softmax of scaled dot products of `x` with itself, split into relation heads."""
    x = _f32(x)
    width = x.shape[-1]
    if width % num_relation_heads:
        raise ValueError(
            f"num_relation_heads={num_relation_heads} does not divide the width {width}; "
            "pick a relation head count that divides the teacher's and the student's "
            "hidden size.")
    head = width // num_relation_heads
    batch, seq = ops.shape(x)[0], ops.shape(x)[1]
    x = ops.transpose(ops.reshape(x, (batch, seq, num_relation_heads, head)), (0, 2, 1, 3))
    logits = ops.matmul(x, ops.transpose(x, (0, 1, 3, 2))) / math.sqrt(head)
    if mask is not None:
        logits = logits + (1.0 - _f32(mask))[:, None, None, :] * _MASK_BIAS
    return ops.softmax(logits, axis=-1)


def relation_kl(teacher, student, num_relation_heads, mask=None):
    """MiniLMv2 relation loss for one of Q, K or V.

    Both sides are split into the same number of relation heads, so widths and
    attention head counts may differ; the `[seq, seq]` relations then compare.

    Args:
        teacher: `[batch, seq, teacher_width]`; student: `[batch, seq, student_width]`.
        num_relation_heads: must divide both widths.
        mask: `[batch, seq]`; padded keys get no probability, padded queries are
            left out of the mean.
    """
    teacher_rel = _relation_probs(teacher, num_relation_heads, mask)
    student_rel = _relation_probs(student, num_relation_heads, mask)
    return attention_kl(teacher_rel, student_rel, mask)


def self_attention_relation_loss(teacher_qkv, student_qkv, num_relation_heads, mask=None):
    """Sum of the Q-Q, K-K and V-V relation losses; `*_qkv` are (query, key, value)."""
    return sum(relation_kl(t, s, num_relation_heads, mask)
               for t, s in zip(teacher_qkv, student_qkv))


def logits_kl(teacher_logits, student_logits, temperature=1.0, mask=None):
    """`T^2 * KL(softmax(teacher/T) || softmax(student/T))`, averaged over examples.

    The `T^2` keeps gradient sizes independent of the temperature (Hinton et al.).
    Token-level logits `[batch, seq, classes]` take a `[batch, seq]` mask.
    """
    if temperature <= 0:
        raise ValueError(f"temperature={temperature} must be positive.")
    teacher = ops.log_softmax(_f32(teacher_logits) / temperature, axis=-1)
    student = ops.log_softmax(_f32(student_logits) / temperature, axis=-1)
    per_example = ops.sum(ops.exp(teacher) * (teacher - student), axis=-1)
    return temperature ** 2 * _masked_mean(per_example, mask)


def logits_mse(teacher_logits, student_logits, mask=None):
    """MSE between raw logits, XtremeDistil's logit loss; mask as in `logits_kl`."""
    per_example = ops.mean(ops.square(_f32(teacher_logits) - _f32(student_logits)), axis=-1)
    return _masked_mean(per_example, mask)


def hard_label_cross_entropy(labels, logits, mask=None):
    """Sparse softmax cross-entropy against integer labels.

    Labels below 0 (e.g. -100 on sub-word continuations) are ignored, as are
    positions where `mask` is 0.
    """
    labels = ops.cast(labels, "int32")
    valid = _f32(labels >= 0)
    if mask is not None:
        valid = valid * _f32(mask)
    log_probs = ops.log_softmax(_f32(logits), axis=-1)
    picked = ops.take_along_axis(log_probs, ops.maximum(labels, 0)[..., None], axis=-1)[..., 0]
    return _masked_mean(-picked, valid)


def label_mse(labels, logits):
    """Mean squared error of a one-output (regression) head against float scores.

    Args:
        labels: `[batch]` scores; logits: `[batch, 1]`.
    """
    return ops.mean(ops.square(_f32(logits)[..., 0] - _f32(labels)))


def similarity_mse(teacher, student):
    """MSE between the in-batch cosine-similarity matrices of two sets of vectors.

    Args:
        teacher, student: `[batch, width]` each; the widths may differ, since only
            each set's own pairwise cosines are compared (no projection needed).

    The sentence-similarity structure a sentence-embedding teacher encodes is
    what ranking and retrieval read; matching it directly needs no learned map.
    """
    def cosines(x):
        x = _f32(x)
        x = x / ops.maximum(ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True)), _EPS)
        return ops.matmul(x, ops.transpose(x))

    return ops.mean(ops.square(cosines(teacher) - cosines(student)))


def pair_score_mse(teacher_scores, student_scores):
    """Mean squared error of a pair-score head over the pairs of the batch (0 without any).

    Args:
        teacher_scores: `[batch, 2]`: the teacher's score of each row and whether the
            row is a pair (`pair_scores.teacher_pair_scores`).
        student_scores: `[batch]` predictions of the student's head.
    """
    teacher_scores = _f32(teacher_scores)
    target, weight = teacher_scores[:, 0], teacher_scores[:, 1]
    error = ops.square(_f32(student_scores) - target) * weight
    return ops.sum(error) / ops.maximum(ops.sum(weight), 1.0)
