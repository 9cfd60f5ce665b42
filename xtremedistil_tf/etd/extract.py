"""Cuts a student `Encoder` out of a teacher's weights (Extract-Then-Distill).

Heads are copied whole when the student's head size equals the teacher's.
When it is smaller, each kept head keeps the selected neurons: query and key
one subset, value and the output projection another. The student divides q.k
by sqrt(student head size) where the teacher divided by sqrt(teacher head
size), so the kept query weights and bias are scaled by
sqrt(student head size / teacher head size): the attention scores are then the
teacher's exactly when the dropped neurons contributed nothing to them.
"""
import math

import numpy as np

from xtremedistil_tf.etd.unit_axes import FFN, HEADS, HIDDEN, QK, unit_axes
from xtremedistil_tf.etd.width_selection import check_extractable
from xtremedistil_tf.models.encoder import Encoder

_QUERY = "layer/attention/query/"


def _head_columns(heads, neurons, head_size):
    """Teacher Q/K/V columns (or output rows) of the kept heads' kept neurons, head-major."""
    if neurons is None:  # Whole heads.
        neurons = [range(head_size)] * len(heads)
    return np.concatenate([h * head_size + np.asarray(n, np.int64)
                           for h, n in zip(heads, neurons, strict=True)])


def _unit_indices(kind, entry, selection, head_size):
    layer = entry.layer
    if kind == HIDDEN:
        return np.asarray(selection.hidden)
    if kind == HEADS:
        neurons = selection.qk_neurons if entry.head_group == QK else selection.vo_neurons
        return _head_columns(selection.heads[layer], None if neurons is None else neurons[layer],
                             head_size)
    if kind == FFN:
        return np.asarray(selection.ffn[layer])
    raise ValueError(f"Unknown unit kind {kind!r}.")


def _check_units(name, group, size, limit):
    group = list(group)
    if size is not None and len(group) != size:
        raise ValueError(f"The selection keeps {len(group)} {name} units but the "
                         f"student config needs {size}.")
    if group and (min(group) < 0 or max(group) >= limit):
        raise ValueError(f"The selection's {name} indices {group} fall outside the "
                         f"teacher's [0, {limit}).")
    if name != "layers" and len(set(group)) != len(group):
        raise ValueError(f"The selection's {name} indices {group} repeat a unit.")


def _check_selection(selection, teacher_config, student_config):
    t, s = teacher_config, student_config
    for name in ("layers", "heads", "ffn"):
        if len(getattr(selection, name)) != s.num_hidden_layers:
            raise ValueError(f"The selection's {name} names {len(getattr(selection, name))} "
                             f"layers but the student has num_hidden_layers="
                             f"{s.num_hidden_layers}.")
    checks = [("hidden", [selection.hidden], s.hidden_size, t.hidden_size),
              ("heads", selection.heads, s.num_attention_heads, t.num_attention_heads),
              ("ffn", selection.ffn, s.intermediate_size, t.intermediate_size),
              ("layers", [selection.layers], None, t.num_hidden_layers)]
    for name in ("qk_neurons", "vo_neurons"):
        neurons = getattr(selection, name)
        if neurons is None:
            if s.head_size != t.head_size:
                raise ValueError(
                    f"The student's head size {s.head_size} is smaller than the teacher's "
                    f"{t.head_size}, so the selection must name the kept neurons of each "
                    f"head in {name}; build it with random_selection or "
                    "importance_selection.")
            continue
        if len(neurons) != s.num_hidden_layers:
            raise ValueError(f"The selection's {name} names {len(neurons)} layers but the "
                             f"student has num_hidden_layers={s.num_hidden_layers}.")
        for layer, (heads, per_head) in enumerate(zip(selection.heads, neurons)):
            if len(per_head) != len(heads):
                raise ValueError(f"The selection's {name} for student layer {layer} names "
                                 f"{len(per_head)} heads but it keeps {len(heads)}.")
            checks.append((name, per_head, s.head_size, t.head_size))
    for name, groups, size, limit in checks:
        for group in groups:
            _check_units(name, group, size, limit)


def extract_student(teacher, student_config, selection, dtype=None, name="encoder"):
    """Builds a student `Encoder` whose weights are slices of the teacher's.

    Student layer `j` copies teacher layer `selection.layers[j]`; its Q/K/V
    output columns and attention-output rows are those of the selected heads
    (and, for a smaller head size, of the selected neurons within them, the
    query scaled as the module docstring says), its FFN those of the selected
    neurons, and every hidden-indexed axis (embedding columns, LayerNorm
    parameters, dense inputs and outputs, pooler) keeps `selection.hidden`. A
    shorter position table keeps the first rows.

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
    query_scale = query_scale_for(teacher.config, student_config)
    for source, target in zip(teacher_entries, student_entries, strict=True):
        if source.name != target.name:
            raise RuntimeError(f"Teacher weight {source.name} paired with {target.name}.")
        value = np.asarray(source.variable.numpy(), np.float32)
        for axis, kind in enumerate(target.axes):
            if kind is not None:
                value = np.take(value, _unit_indices(kind, target, selection, head_size),
                                axis=axis)
            elif value.shape[axis] > target.variable.shape[axis]:
                value = np.take(value, np.arange(target.variable.shape[axis]), axis=axis)
        if query_scale != 1.0 and target.name.startswith(_QUERY):
            value = value * np.float32(query_scale)
        target.variable.assign(value)
    return student


def query_scale_for(teacher_config, student_config):
    """sqrt(student head size / teacher head size): the factor on the kept query weights."""
    return math.sqrt(student_config.head_size / teacher_config.head_size)


def extract_head(teacher_head, student_head, selection):
    """Copies a dense head on the pooled output (or on every token), keeping the selected
    hidden rows.

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
