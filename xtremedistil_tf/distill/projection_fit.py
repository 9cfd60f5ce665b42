"""Starts each learned projection at its least-squares fit instead of at random.

A student extracted from its teacher (ETD) already computes most of what the
teacher computes. A randomly initialised projection between their widths makes
the first hidden-state or sentence-vector losses large and meaningless, and
their gradients, flowing into the student, undo the extraction within a few
hundred steps. Fitting each projection in closed form on a few batches
(ridge regression of teacher features on student features, with a bias) makes
the loss at step 0 measure how far the student really is from the teacher, so
training moves the student only where it differs, and the dev loss before the
first step is a fair point of comparison for best-weights selection.
"""
import numpy as np
from keras import ops

from xtremedistil_tf.distill.output_spec import extract

# Ridge strength relative to the mean diagonal of the student features' Gram matrix:
# light for per-token rows (thousands per batch), strong for per-example rows
# (sentence vectors), where a few hundred rows would otherwise overfit. On
# all-MiniLM-L6-v2 -> ETD l6h256 sentence vectors fitted on 512 texts, held-out
# cosine is 0.52 at 1e-3 and 0.61 at 0.1.
_RIDGE = 1e-3
_RIDGE_FEW_ROWS = 0.1
_ROWS_PER_FEATURE = 20


def _rows(tensor, mask):
    """Per-token features at real tokens (3-D tensors), or per-example rows (2-D)."""
    value = np.asarray(ops.convert_to_numpy(ops.cast(tensor, "float32")), np.float64)
    if value.ndim == 3:
        keep = np.asarray(ops.convert_to_numpy(mask)).astype(bool)
        return value[keep]
    return value


def _pairs(term):
    """(projection, student key, teacher key, tokens) for each projected pair of a term."""
    if hasattr(term, "pairs") and hasattr(term, "projections"):
        cls_only = term.settings.tokens == "cls"
        return [(proj, f"hidden_states/{s}", f"hidden_states/{t}", cls_only)
                for (s, t), proj in zip(term.pairs, term.projections) if proj is not None]
    if getattr(term, "projection", None) is not None:
        return [(term.projection, term.key, term.key, False)]
    return []


def solve_ridge(student_rows, teacher_rows, ridge=_RIDGE):
    """Kernel `[in, out]` and bias `[out]` minimising |S W + b - T|^2 + ridge * |W|^2."""
    s_mean, t_mean = student_rows.mean(0), teacher_rows.mean(0)
    s, t = student_rows - s_mean, teacher_rows - t_mean
    gram = s.T @ s
    gram += np.eye(gram.shape[0]) * ridge * max(np.trace(gram) / gram.shape[0], 1e-12)
    kernel = np.linalg.solve(gram, s.T @ t)
    return kernel, t_mean - s_mean @ kernel


def fit_projections(distiller, batches, skip=()):
    """Sets every projection the current terms use to its ridge fit on `batches`.

    Args:
        distiller: a `Distiller` after `set_losses`.
        batches: input dicts (e.g. the first few training batches).
        skip: names of projections to leave as they are (already trained).

    Returns the names of the projections it fitted.
    """
    pairs = {}
    for term in distiller.terms:
        for proj, s_key, t_key, cls_only in _pairs(term):
            if proj.name not in skip and proj.name not in pairs:
                pairs[proj.name] = (proj, s_key, t_key, cls_only)
    if not pairs:
        return []
    student_rows = {name: [] for name in pairs}
    teacher_rows = {name: [] for name in pairs}
    for inputs in batches:
        mask = inputs["attention_mask"]
        s_out = distiller.student(inputs, training=False)
        t_out = distiller.teacher(inputs, training=False)
        for name, (_, s_key, t_key, cls_only) in pairs.items():
            s_val, t_val = extract(s_out, s_key, mask), extract(t_out, t_key, mask)
            if cls_only:
                s_val, t_val = s_val[:, 0], t_val[:, 0]
            student_rows[name].append(_rows(s_val, mask))
            teacher_rows[name].append(_rows(t_val, mask))
    for name, (proj, _, _, _) in pairs.items():
        rows = np.concatenate(student_rows[name])
        few = rows.shape[0] < _ROWS_PER_FEATURE * rows.shape[1]
        kernel, bias = solve_ridge(rows, np.concatenate(teacher_rows[name]),
                                   _RIDGE_FEW_ROWS if few else _RIDGE)
        proj.kernel.assign(kernel.astype(np.float32))
        proj.bias.assign(bias.astype(np.float32))
    return sorted(pairs)
