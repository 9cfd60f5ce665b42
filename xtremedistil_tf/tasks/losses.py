"""Fine-tuning losses: pure functions of labels and head outputs, masks explicit."""
from keras import ops

IGNORE_INDEX = -100


def classification_loss(labels, logits):
    """Mean softmax cross-entropy. labels: int `[batch]`; logits: `[batch, classes]`."""
    labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
    return ops.mean(ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))


def regression_loss(labels, logits):
    """Mean squared error. labels: float `[batch]`; logits: `[batch, 1]`."""
    labels = ops.cast(ops.reshape(labels, (-1,)), "float32")
    return ops.mean(ops.square(ops.reshape(logits, (-1,)) - labels))


def token_classification_loss(labels, logits, ignore_index=IGNORE_INDEX):
    """Cross-entropy averaged over tokens whose label is not `ignore_index`.

    labels: int `[batch, seq]` (special tokens, padding and non-first subwords
    carry `ignore_index`); logits: `[batch, seq, classes]`. A batch with no
    labelled token has loss 0.
    """
    labels = ops.cast(labels, "int32")
    mask = ops.cast(ops.not_equal(labels, ignore_index), "float32")
    safe_labels = ops.where(ops.equal(labels, ignore_index), 0, labels)
    per_token = ops.sparse_categorical_crossentropy(safe_labels, logits, from_logits=True)
    return ops.sum(per_token * mask) / ops.maximum(ops.sum(mask), 1.0)


def span_loss(start_positions, end_positions, start_logits, end_logits, mask=None):
    """Mean of the start and end cross-entropies over sequence positions.

    start_positions, end_positions: int `[batch]`; start_logits, end_logits:
    `[batch, seq]`. `mask` (`[batch, seq]`, 1 = may be chosen) keeps padding
    out of the softmax.
    """
    if mask is not None:
        penalty = (1.0 - ops.cast(mask, "float32")) * -1e9
        start_logits = start_logits + penalty
        end_logits = end_logits + penalty
    start = ops.sparse_categorical_crossentropy(
        ops.cast(start_positions, "int32"), start_logits, from_logits=True)
    end = ops.sparse_categorical_crossentropy(
        ops.cast(end_positions, "int32"), end_logits, from_logits=True)
    return ops.mean((start + end) / 2.0)
