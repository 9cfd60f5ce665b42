"""Cuts a student `Encoder` out of a teacher's weights (Extract-Then-Distill)."""
import numpy as np

from xtremedistil_tf.etd.unit_axes import FFN, HEADS, HIDDEN, unit_axes
from xtremedistil_tf.etd.width_selection import check_extractable
from xtremedistil_tf.models.encoder import Encoder


def _unit_indices(kind, student_layer, selection, head_size):
    if kind == HIDDEN:
        return np.asarray(selection.hidden)
    if kind == HEADS:
        heads = np.asarray(selection.heads[student_layer])
        # A head owns `head_size` consecutive columns of Q/K/V and rows of the output.
        return (heads[:, None] * head_size + np.arange(head_size)[None, :]).reshape(-1)
    if kind == FFN:
        return np.asarray(selection.ffn[student_layer])
    raise ValueError(f"Unknown unit kind {kind!r}.")


def _check_selection(selection, teacher_config, student_config):
    t, s = teacher_config, student_config
    if len(selection.layers) != s.num_hidden_layers:
        raise ValueError(f"The selection names {len(selection.layers)} layers but the student "
                         f"has num_hidden_layers={s.num_hidden_layers}.")
    checks = [("hidden", [selection.hidden], s.hidden_size, t.hidden_size),
              ("heads", selection.heads, s.num_attention_heads, t.num_attention_heads),
              ("ffn", selection.ffn, s.intermediate_size, t.intermediate_size),
              ("layers", [selection.layers], None, t.num_hidden_layers)]
    for name, groups, size, limit in checks:
        for group in groups:
            group = list(group)
            if size is not None and len(group) != size:
                raise ValueError(f"The selection keeps {len(group)} {name} units but the "
                                 f"student config needs {size}.")
            if group and (min(group) < 0 or max(group) >= limit):
                raise ValueError(f"The selection's {name} indices {group} fall outside the "
                                 f"teacher's [0, {limit}).")
            if name != "layers" and len(set(group)) != len(group):
                raise ValueError(f"The selection's {name} indices {group} repeat a unit.")


def extract_student(teacher, student_config, selection, dtype=None, name="encoder"):
    """Builds a student `Encoder` whose weights are slices of the teacher's.

    Student layer `j` copies teacher layer `selection.layers[j]`; its Q/K/V
    output columns and attention-output rows are those of the selected heads,
    its FFN those of the selected neurons, and every hidden-indexed axis
    (embedding columns, LayerNorm parameters, dense inputs and outputs, pooler)
    keeps `selection.hidden`. A shorter position table keeps the first rows.

    Args:
        teacher: the teacher `Encoder` (built).
        student_config: the student's `EncoderConfig`.
        selection: a `WidthSelection` from `random_selection` or
            `importance_selection`.
        dtype: the student's Keras dtype policy; default the teacher's.
        name: the student's name.

    Returns the built student `Encoder`.
    """
    check_extractable(teacher.config, student_config)
    _check_selection(selection, teacher.config, student_config)
    student = Encoder(student_config, dtype=dtype or teacher.dtype_policy, name=name)
    student.build()
    teacher_entries = unit_axes(teacher, layers=selection.layers)
    if student.pooler is None:
        teacher_entries = [e for e in teacher_entries if not e.name.startswith("pooler/")]
    student_entries = unit_axes(student)
    head_size = teacher.config.head_size
    for source, target in zip(teacher_entries, student_entries, strict=True):
        if source.name != target.name:
            raise RuntimeError(f"Teacher weight {source.name} paired with {target.name}.")
        value = np.asarray(source.variable.numpy(), np.float32)
        for axis, kind in enumerate(target.axes):
            if kind is not None:
                value = np.take(value, _unit_indices(kind, target.layer, selection, head_size),
                                axis=axis)
            elif value.shape[axis] > target.variable.shape[axis]:
                value = np.take(value, np.arange(target.variable.shape[axis]), axis=axis)
        target.variable.assign(value)
    return student


def extract_head(teacher_head, student_head, selection):
    """Copies a dense head on the pooled output, keeping the selected hidden rows.

    A teacher's classifier reads `hidden_size` inputs; the student's reads the
    kept hidden dimensions, so its kernel is the teacher's rows
    `selection.hidden` and its bias the teacher's bias.
    """
    kernel = np.asarray(teacher_head.kernel.numpy())[np.asarray(selection.hidden)]
    if tuple(kernel.shape) != tuple(student_head.kernel.shape):
        raise ValueError(f"The teacher head gives a {kernel.shape} kernel but the student head "
                         f"has {tuple(student_head.kernel.shape)}; both need the same outputs.")
    student_head.kernel.assign(kernel)
    student_head.bias.assign(teacher_head.bias.numpy())
