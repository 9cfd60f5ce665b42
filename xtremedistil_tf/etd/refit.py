"""`--etd_refit`: an extracted student's layers refit to its teacher's by least squares.

Extraction drops residual dimensions, heads and FFN neurons, and every kept
weight still reads and writes as if the dropped ones were there: a student
LayerNorm normalises over the kept dimensions only, a projection that read a
dropped dimension loses that term, a head that is gone no longer adds its share
to the attention output. Refitting restores what a linear map can, layer by
layer from the embeddings up, on the student's own inputs (so each layer also
absorbs the error of the layers below it):

- each LayerNorm's scale and centre, per dimension, so that the student's
  normalised values match the teacher's LayerNorm output on the kept dimensions;
- the query, key and value projections, so that from the student's hidden states
  they give the teacher's projections of the kept heads (from all of the teacher's);
- the attention output and FFN output projections, so that from the student's
  attention context and FFN activations they give the teacher's full output
  (all heads, all neurons) on the kept dimensions;
- the FFN input projection, to the teacher's pre-activations of the kept neurons;
- the pooler, when both have one, to the teacher's pre-tanh pooler output.

Each fit is ridge regression pulled towards the extracted weights (the penalty
scaled by the mean diagonal of the inputs' Gram matrix), over the real tokens of
a few batches of the transfer data, in float64, one closed-form solve per weight.
The teacher's targets come from its own forward pass, so teacher layers skipped
by a shallower student are folded into the next kept layer's targets.
"""
import time

import numpy as np
import tensorflow as tf

from xtremedistil_tf.etd.extract import _head_columns, query_scale_for

DEFAULT_RIDGE = 1e-3


def _rows(tensor, mask):
    """Real-token rows of a `[batch, seq, width]` tensor as float64 `[tokens, width]`."""
    return np.asarray(tf.cast(tensor, "float32"), np.float64)[mask]


def _stack(tensors, masks):
    return np.concatenate([_rows(t, m) for t, m in zip(tensors, masks)])


def _ridge_to(inputs, targets, kernel, bias, ridge):
    """Weights minimising |[X 1] W - Y|^2 + lam |W - [kernel; bias]|^2."""
    x = np.concatenate([inputs, np.ones((len(inputs), 1))], axis=1)
    gram = x.T @ x
    lam = ridge * np.trace(gram) / len(gram)
    prior = np.concatenate([kernel, bias[None]], axis=0)
    solved = np.linalg.solve(gram + lam * np.eye(len(gram)), x.T @ targets + lam * prior)
    return solved[:-1], solved[-1]


def _refit_dense(dense, inputs, targets, ridge):
    kernel, bias = _ridge_to(inputs, targets, np.asarray(dense.kernel, np.float64),
                             np.asarray(dense.bias, np.float64), ridge)
    dense.kernel.assign(kernel.astype(np.float32))
    dense.bias.assign(bias.astype(np.float32))


def _normalised(norm, run):
    """`run()`'s output with `norm` at unit scale and zero centre: the normalised values."""
    gamma, beta = norm.gamma.numpy(), norm.beta.numpy()
    norm.gamma.assign(np.ones_like(gamma))
    norm.beta.assign(np.zeros_like(beta))
    try:
        return run()
    finally:
        norm.gamma.assign(gamma)
        norm.beta.assign(beta)


def _refit_norm(norm, normalised, targets):
    """Per dimension, the scale and centre that best map normalised values to targets."""
    z_mean, y_mean = normalised.mean(0), targets.mean(0)
    z, y = normalised - z_mean, targets - y_mean
    variance = (z * z).mean(0)
    scale = np.where(variance > 1e-12, (z * y).mean(0) / np.maximum(variance, 1e-12), 1.0)
    norm.gamma.assign(scale.astype(np.float32))
    norm.beta.assign((y_mean - scale * z_mean).astype(np.float32))


def _context(attention, x, mask):
    """The attention context (input of the output projection) `[batch, seq, hidden]`."""
    _, probs, (_, _, value) = attention(x, mask)
    v = attention._split_heads(value)
    context = tf.matmul(tf.cast(probs, v.dtype), v)
    shape = tf.shape(x)
    return tf.reshape(tf.transpose(context, (0, 2, 1, 3)),
                      (shape[0], shape[1], attention.config.hidden_size))


def _relative_error(teacher_states, student_states, masks, hidden):
    """sqrt(|student - teacher[:, hidden]|^2 / |teacher[:, hidden]|^2) over real tokens."""
    t = _stack(teacher_states, masks)[:, hidden]
    s = _stack(student_states, masks)
    return float(np.sqrt(((s - t) ** 2).sum() / max((t ** 2).sum(), 1e-30)))


def _inputs(batch):
    inputs = batch[0] if isinstance(batch, (tuple, list)) else batch
    ids = tf.cast(inputs["input_ids"], "int32")
    mask = inputs.get("attention_mask")
    mask = tf.ones_like(ids) if mask is None else tf.cast(mask, "int32")
    types = inputs.get("token_type_ids")
    types = tf.zeros_like(ids) if types is None else tf.cast(types, "int32")
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def refit_student(student, teacher, selection, batches, ridge=DEFAULT_RIDGE):
    """Refits `student` (extracted from `teacher` with `selection`) in place.

    Args:
        student: the extracted student `Encoder`.
        teacher: the teacher `Encoder` it was cut from.
        selection: the `WidthSelection` it was cut with.
        batches: input dicts (or `(inputs, labels)` pairs) of transfer data.
        ridge: pull towards the extracted weights, relative to the inputs' scale.

    Returns a JSON-ready dict: the batches and tokens used and, per student layer
    output (the embeddings first), its relative error against the teacher's on
    the kept dimensions over those tokens, before and after; and the seconds taken.
    """
    started = time.time()
    inputs = [_inputs(b) for b in batches]
    if not inputs:
        raise ValueError("Refitting an extracted student needs transfer batches; pass some.")
    masks = [np.asarray(i["attention_mask"]).astype(bool) for i in inputs]
    hidden = np.asarray(selection.hidden)
    teacher_out = [teacher(i) for i in inputs]
    layers = list(selection.layers)
    # The teacher state each student layer's output stands for (hidden_states[0] = embeddings).
    targets_at = [0] + [t + 1 for t in layers]

    def errors():
        student_out = [student(i) for i in inputs]
        return [_relative_error([o["hidden_states"][t] for o in teacher_out],
                                [o["hidden_states"][j] for o in student_out], masks, hidden)
                for j, t in enumerate(targets_at)]

    before = errors()
    emb = student.embeddings
    if emb.projection is None:
        z = [_normalised(emb.layer_norm, lambda i=i: emb(i["input_ids"], i["token_type_ids"]))
             for i in inputs]
        _refit_norm(emb.layer_norm, _stack(z, masks),
                    _stack([o["hidden_states"][0] for o in teacher_out], masks)[:, hidden])
    xs = [emb(i["input_ids"], i["token_type_ids"]) for i in inputs]
    attention_masks = [i["attention_mask"] for i in inputs]
    head_size = teacher.config.head_size
    query_scale = query_scale_for(teacher.config, student.config)
    for j, (t, layer) in enumerate(zip(layers, student.encoder_layers, strict=True)):
        tl = teacher.encoder_layers[t]
        xt = [o["hidden_states"][t] for o in teacher_out]
        qk = None if selection.qk_neurons is None else selection.qk_neurons[j]
        vo = None if selection.vo_neurons is None else selection.vo_neurons[j]
        qk_cols = _head_columns(selection.heads[j], qk, head_size)
        vo_cols = _head_columns(selection.heads[j], vo, head_size)
        x = _stack(xs, masks)
        # The teacher's attention: (output, probabilities, (query, key, value)) per batch.
        teacher_attention = [tl.attention(h, m) for h, m in zip(xt, attention_masks)]
        for index, (name, cols, scale) in enumerate((("query", qk_cols, query_scale),
                                                     ("key", qk_cols, 1.0),
                                                     ("value", vo_cols, 1.0))):
            target = _stack([a[2][index] for a in teacher_attention], masks)[:, cols]
            _refit_dense(getattr(layer.attention, name), x, target * scale, ridge)
        attended_t = [a[0] for a in teacher_attention]
        contexts = [_context(layer.attention, h, m) for h, m in zip(xs, attention_masks)]
        _refit_dense(layer.attention.output_dense, _stack(contexts, masks),
                     _stack(attended_t, masks)[:, hidden], ridge)
        h1_t = [tl.attention_norm(h + a) for h, a in zip(xt, attended_t)]
        residual = [h + layer.attention.output_dense(c) for h, c in zip(xs, contexts)]
        _refit_norm(layer.attention_norm,
                    _stack(_normalised(layer.attention_norm,
                                       lambda: [layer.attention_norm(r) for r in residual]),
                           masks),
                    _stack(h1_t, masks)[:, hidden])
        h1_s = [layer.attention_norm(r) for r in residual]
        pre_t = [tl.intermediate(h) for h in h1_t]
        _refit_dense(layer.intermediate, _stack(h1_s, masks),
                     _stack(pre_t, masks)[:, np.asarray(selection.ffn[j])], ridge)
        ffn_t = [tl.ffn_output(tl.activation(p)) for p in pre_t]
        acts = [layer.activation(layer.intermediate(h)) for h in h1_s]
        _refit_dense(layer.ffn_output, _stack(acts, masks), _stack(ffn_t, masks)[:, hidden],
                     ridge)
        residual = [h + layer.ffn_output(a) for h, a in zip(h1_s, acts)]
        _refit_norm(layer.ffn_norm,
                    _stack(_normalised(layer.ffn_norm,
                                       lambda: [layer.ffn_norm(r) for r in residual]), masks),
                    _stack([o["hidden_states"][t + 1] for o in teacher_out], masks)[:, hidden])
        xs = [layer.ffn_norm(r) for r in residual]
    if student.pooler is not None and teacher.pooler is not None:
        first = [np.ones((m.shape[0], 1), bool) for m in masks]
        cls_s = _stack([x[:, :1] for x in xs], first)
        cls_t = np.concatenate([np.asarray(o["sequence_output"][:, 0], np.float64)
                                for o in teacher_out])
        pre_t = cls_t @ np.asarray(teacher.pooler.kernel, np.float64) + np.asarray(
            teacher.pooler.bias, np.float64)
        _refit_dense(student.pooler, cls_s, pre_t[:, hidden], ridge)
    after = errors()
    return {"batches": len(inputs), "tokens": int(sum(m.sum() for m in masks)), "ridge": ridge,
            "relative_error_before": [round(e, 4) for e in before],
            "relative_error_after": [round(e, 4) for e in after],
            "seconds": round(time.time() - started, 1)}
