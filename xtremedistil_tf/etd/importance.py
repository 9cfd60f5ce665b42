"""Gradient-based importance of a teacher's heads, head neurons, FFN neurons and hidden dims.

ETD-Impt keeps the units whose removal would change a loss the most, to first
order: a head's score is |dL/d mask| for its entry of the head mask (Michel et
al., 2019); an FFN neuron's or hidden dimension's is the sum over every weight
attached to it of |w * dL/dw|. Neurons within a head are scored the same way,
twice, because a student with a smaller head size keeps two subsets of them:
a query/key neuron's score sums over its query and key columns and biases, a
value/output neuron's over its value column and bias and its output-projection
row. Scores are summed over batches, each batch's absolute values first, so
that opposite signs in different batches do not cancel.

Which loss? The importance loss is an argument. The defaults (see
`default_importance_loss`) need no labels:
  - a teacher with a classification head: cross-entropy of its logits against
    its own argmax predictions (or against labels when the batches carry them),
    i.e. the hard-label distillation loss of a student equal to the teacher.
    The soft KL of the teacher against itself is 0 with zero gradient, which is
    why it is not used.
  - a teacher with a token-classification (NER) head: the same per token, over
    real tokens (`attention_mask`); with labels, over the tagged tokens only
    (labels below 0, e.g. -100 on later subwords, are left out).
  - a bare encoder: `sentence_contrast_loss`, the in-batch contrastive loss of
    its mean-pooled sentence vectors against themselves (each sentence's own
    vector is the positive, the batch's other sentences the negatives). It
    scores a unit by how much it keeps sentences apart, which is what cosine
    similarity, retrieval and linear probes on the vectors use; it needs at
    least 2 sentences per batch. The squared norm of the sentence vector
    (`representation_norm_loss`, the earlier default) only measures changes
    along the vector itself, which cosine ignores: measured on GLUE (README,
    "Quality on real tasks"), the contrastive loss picks students with the
    same SST-2 probe and higher pair-cosine AUCs (QNLI 0.749 vs 0.722, MRPC
    0.776 vs 0.754). Pass a task or distillation loss when one is available.

Scores from several texts (`combine_importance`) are each normalised to sum 1 per
kind of unit before they are added, so that a text whose loss has larger
gradients does not outvote the others: the README's "Both sources" measurements
(Wikipedia passages and mined sentence pairs) pick a student that keeps more of
MRPC than passages alone and more of SST-2 than pairs alone.
"""
import dataclasses

import numpy as np
import tensorflow as tf
from keras import ops

from xtremedistil_tf.distill import losses
from xtremedistil_tf.etd.unit_axes import FFN, HEADS, HIDDEN, QK, unit_axes
from xtremedistil_tf.models.token_classifier import TokenClassifier


@dataclasses.dataclass(frozen=True)
class ImportanceScores:
    """Importance of each unit of a teacher encoder; higher means keep.

    Args:
        hidden: `[hidden_size]`, one score per residual-stream dimension.
        heads: `[num_hidden_layers, num_attention_heads]`.
        ffn: `[num_hidden_layers, intermediate_size]`.
        num_batches: how many batches the scores were summed over.
        qk_neurons: `[num_hidden_layers, num_attention_heads, head_size]`, the
            query/key neurons within each head; None when not computed.
        vo_neurons: the same for the value/output-projection neurons.
    """

    hidden: np.ndarray
    heads: np.ndarray
    ffn: np.ndarray
    num_batches: int
    qk_neurons: np.ndarray | None = None
    vo_neurons: np.ndarray | None = None


def representation_norm_loss(outputs, inputs, labels=None):
    """Mean squared norm of the mean-pooled `sequence_output` over real tokens."""
    pooled = losses.masked_mean_pool(outputs["sequence_output"], inputs.get("attention_mask"))
    return ops.mean(ops.sum(ops.square(pooled), axis=-1))


def sentence_contrast_loss(outputs, inputs, labels=None, temperature=0.05):
    """In-batch InfoNCE of the mean-pooled, L2-normalised sentence vectors.

    Row i of the logits is sentence i's cosine to every sentence of the batch
    over `temperature` (SimCSE's 0.05); its target is i itself. The diagonal is
    constant (cosine 1), so the gradient comes from the other sentences: units
    that keep sentences apart score high. A batch of one sentence has no
    negatives and gives a zero loss.
    """
    pooled = ops.cast(losses.masked_mean_pool(outputs["sequence_output"],
                                              inputs.get("attention_mask")), "float32")
    unit = pooled / (ops.sqrt(ops.sum(ops.square(pooled), axis=-1, keepdims=True)) + 1e-6)
    logits = ops.matmul(unit, ops.transpose(unit)) / temperature
    return losses.hard_label_cross_entropy(ops.arange(ops.shape(unit)[0]), logits)


def self_label_loss(head):
    """A loss on `head(pooled_output)` against labels, or the head's own predictions.

    Args:
        head: a callable from `pooled_output` to logits, e.g. a
            `SequenceClassifier`'s `classifier` layer. A one-output head is a
            regressor: its loss is the MSE to the labels, or half the squared
            output without labels.
    """

    def loss(outputs, inputs, labels=None):
        logits = ops.cast(head(outputs["pooled_output"]), "float32")
        if logits.shape[-1] == 1:
            target = 0.0 if labels is None else ops.reshape(ops.cast(labels, "float32"), (-1, 1))
            return 0.5 * ops.mean(ops.square(logits - target))
        if labels is None:
            labels = ops.argmax(ops.stop_gradient(logits), axis=-1)
        return losses.hard_label_cross_entropy(labels, logits)

    return loss


def token_self_label_loss(head):
    """`self_label_loss` for a head on every token (`head(sequence_output)`).

    Args:
        head: a callable from `sequence_output` `[batch, seq, width]` to logits
            `[batch, seq, num_labels]`, e.g. a `TokenClassifier`'s `classifier`.

    The loss is the cross-entropy over real tokens against `[batch, seq]`
    labels (negative ones ignored), or against the head's own argmax.
    """

    def loss(outputs, inputs, labels=None):
        logits = ops.cast(head(outputs["sequence_output"]), "float32")
        if labels is None:
            labels = ops.argmax(ops.stop_gradient(logits), axis=-1)
        return losses.hard_label_cross_entropy(labels, logits, inputs.get("attention_mask"))

    return loss


def default_importance_loss(model):
    """`self_label_loss` on a model's head, else `sentence_contrast_loss`.

    The head is a `SequenceClassifier`'s `classifier` or a multi-task view's
    `head`; a `TokenClassifier`'s `classifier` takes `token_self_label_loss`.
    """
    if isinstance(model, TokenClassifier):
        return token_self_label_loss(model.classifier)
    head = getattr(model, "classifier", None) or getattr(model, "head", None)
    return self_label_loss(head) if head is not None else sentence_contrast_loss


def _split(batch):
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _reduce_to_axis(contribution, axis):
    other = tuple(a for a in range(contribution.ndim) if a != axis)
    return contribution.sum(axis=other) if other else contribution


def compute_importance(encoder, batches, loss_fn=sentence_contrast_loss, max_batches=None):
    """Scores every head, head neuron, FFN neuron and hidden dimension of `encoder`.

    Args:
        encoder: the teacher `Encoder`; run with `training=False`.
        batches: an iterable of input dicts, or `(inputs, labels)` pairs.
        loss_fn: `loss_fn(encoder_outputs, inputs, labels) -> scalar`; see the
            module docstring for the defaults.
        max_batches: stop after this many batches.

    A teacher built in a `tf.distribute.Strategy` scope is scored in that scope:
    a tape cannot differentiate distributed variables in cross-replica context,
    so each batch runs through `strategy.run`, whole on every replica, and the
    first local replica's gradients are kept. Every replica and worker then
    scores exactly as one device would, with no collectives. Outside any scope
    the default strategy runs the batch as is.

    Returns an `ImportanceScores`.
    """
    config = encoder.config
    entries = unit_axes(encoder)
    variables = [e.variable for e in entries]
    hidden = np.zeros(config.hidden_size, np.float64)
    heads = np.zeros((config.num_hidden_layers, config.num_attention_heads), np.float64)
    ffn = np.zeros((config.num_hidden_layers, config.intermediate_size), np.float64)
    per_head = (config.num_hidden_layers, config.num_attention_heads, config.head_size)
    qk, vo = np.zeros(per_head, np.float64), np.zeros(per_head, np.float64)

    def batch_gradients(inputs, labels):
        head_mask = tf.ones(heads.shape, tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(head_mask)
            outputs = encoder(inputs, training=False, head_mask=head_mask)
            loss = ops.cast(loss_fn(outputs, inputs, labels), "float32")
        grads = tape.gradient(loss, [head_mask] + variables)
        # Replica results must be tensors: embedding gradients arrive as IndexedSlices,
        # and a weight the loss does not reach (a pooler) contributes zeros.
        return [tf.zeros(v.shape, v.dtype) if g is None else tf.convert_to_tensor(g)
                for v, g in zip([head_mask] + variables, grads)]

    strategy = tf.distribute.get_strategy()
    count = 0
    for batch in batches:
        if max_batches is not None and count >= max_batches:
            break
        inputs, labels = _split(batch)
        grads = [strategy.experimental_local_results(g)[0]
                 for g in strategy.run(batch_gradients, args=(inputs, labels))]
        heads += np.abs(np.asarray(grads[0], np.float64))
        for entry, grad in zip(entries, grads[1:]):
            contribution = np.abs(np.asarray(entry.variable.numpy(), np.float64)
                                  * np.asarray(grad, np.float64))
            for axis, kind in enumerate(entry.axes):
                if kind == HIDDEN:
                    hidden += _reduce_to_axis(contribution, axis)
                elif kind == FFN:
                    ffn[entry.layer] += _reduce_to_axis(contribution, axis)
                elif kind == HEADS:
                    # Columns are head-major: head h owns columns h*head_size ... +head_size.
                    target = qk if entry.head_group == QK else vo
                    target[entry.layer] += _reduce_to_axis(contribution, axis).reshape(
                        per_head[1:])
        count += 1
    if count == 0:
        raise ValueError("compute_importance got no batches; pass at least one batch of "
                         "inputs to score the teacher's units on.")
    return ImportanceScores(hidden=hidden, heads=heads, ffn=ffn, num_batches=count,
                            qk_neurons=qk, vo_neurons=vo)


def combine_importance(scores):
    """One `ImportanceScores` from several (one per text): each kind normalised, then added.

    Each score array (hidden, heads, ffn and the head neurons) of each input is
    divided by its own sum, so every text has the same say in every kind of
    unit; `num_batches` is the total. One input is returned as it is.
    """
    scores = list(scores)
    if not scores:
        raise ValueError("combine_importance got no scores; pass at least one ImportanceScores.")
    if len(scores) == 1:
        return scores[0]

    def summed(name):
        arrays = [getattr(s, name) for s in scores]
        if any(a is None for a in arrays):
            return None
        return sum(np.asarray(a, np.float64) / max(float(np.sum(a)), 1e-30) for a in arrays)

    return ImportanceScores(
        hidden=summed("hidden"), heads=summed("heads"), ffn=summed("ffn"),
        num_batches=sum(s.num_batches for s in scores),
        qk_neurons=summed("qk_neurons"), vo_neurons=summed("vo_neurons"))
