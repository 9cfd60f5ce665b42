"""Which teacher layers, hidden dimensions, heads, head neurons and FFN neurons a student keeps.

Heads are chosen whole. When the student's head size (hidden_size /
num_attention_heads) is smaller than the teacher's, each kept head then keeps
`student head size` of its teacher neurons: one subset for query and key
(shared, since q.k runs over the same dimensions) and one for value and the
output projection. A student head size larger than the teacher's is refused:
a head cannot be widened by keeping a subset.
"""
import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class WidthSelection:
    """The teacher units an Extract-Then-Distill student is cut from.

    All indices are 0-based teacher indices, sorted ascending, so that a student
    of the teacher's own shape gets the identity and reproduces the teacher.

    Args:
        layers: for each student layer, the teacher layer it copies.
        hidden: the teacher's residual-stream dimensions kept. One set serves
            the embeddings and every layer, because each layer adds its output
            to the same residual stream.
        heads: for each student layer, the teacher heads kept.
        ffn: for each student layer, the teacher FFN neurons kept.
        qk_neurons: None to keep whole heads (student head size equal to the
            teacher's); else for each student layer, for each kept head (in
            the order of `heads`), the neurons within that teacher head kept
            in query and key, each in `[0, teacher head size)`.
        vo_neurons: the same for value and the attention output projection.
    """

    layers: tuple
    hidden: tuple
    heads: tuple
    ffn: tuple
    qk_neurons: tuple | None = None
    vo_neurons: tuple | None = None

    def to_dict(self):
        out = {"layers": list(self.layers), "hidden": list(self.hidden),
               "heads": [list(h) for h in self.heads], "ffn": [list(f) for f in self.ffn]}
        # Absent for whole heads, so such selections read as they always have.
        for name in ("qk_neurons", "vo_neurons"):
            neurons = getattr(self, name)
            if neurons is not None:
                out[name] = [[list(n) for n in layer] for layer in neurons]
        return out


def check_extractable(teacher_config, student_config):
    """Raises `ValueError` when `student_config` cannot be cut out of the teacher.

    A student must be no deeper or wider than its teacher, share its vocabulary,
    token types, activation and model type, and have a head size no larger than
    the teacher's, since a head keeps a subset of its teacher head's neurons.
    """
    student_config.validate()
    t, s = teacher_config, student_config
    for name in ("model_type", "hidden_act", "vocab_size", "type_vocab_size"):
        if getattr(s, name) != getattr(t, name):
            raise ValueError(
                f"The student's {name}={getattr(s, name)!r} differs from the teacher's "
                f"{getattr(t, name)!r}; Extract-Then-Distill copies the teacher's weights, "
                f"so set the student's {name} to {getattr(t, name)!r}.")
    for name in ("num_hidden_layers", "hidden_size", "num_attention_heads",
                 "intermediate_size", "max_position_embeddings"):
        if getattr(s, name) > getattr(t, name):
            raise ValueError(
                f"The student's {name}={getattr(s, name)} is larger than the teacher's "
                f"{getattr(t, name)}; Extract-Then-Distill can only keep a subset of the "
                f"teacher's units. Use {name} <= {getattr(t, name)}, or "
                "--student_init=random for a student larger than its teacher.")
    if s.head_size > t.head_size:
        raise ValueError(
            f"The student's head size hidden_size/num_attention_heads = {s.hidden_size}/"
            f"{s.num_attention_heads} = {s.head_size} is larger than the teacher's "
            f"{t.hidden_size}/{t.num_attention_heads} = {t.head_size}. Extract-Then-Distill "
            "keeps a subset of each teacher head's neurons and cannot widen a head: use "
            f"{_head_count_hint(t, s)}, or --student_init=random.")
    teacher_projects = t.embedding_width != t.hidden_size
    student_projects = s.embedding_width != s.hidden_size
    if teacher_projects != student_projects or (
            teacher_projects and s.embedding_width != t.embedding_width):
        raise ValueError(
            f"The student's embedding_size={s.embedding_size} does not fit the teacher's "
            f"embedding_size={t.embedding_size} (hidden_size={t.hidden_size}). Keep the "
            "teacher's embedding width when it has an embedding projection, and none "
            "otherwise.")
    if s.use_pooler and not t.use_pooler:
        raise ValueError("The student has a pooler but the teacher has none to copy; "
                         "set use_pooler=False for the student.")


def _head_count_hint(t, s):
    counts = [n for n in range(1, t.num_attention_heads + 1)
              if s.hidden_size % n == 0 and s.hidden_size // n <= t.head_size]
    if counts:
        return f"num_attention_heads={counts[0]} with hidden_size={s.hidden_size}"
    return (f"a hidden_size that at most {t.num_attention_heads} heads divide into heads of "
            f"at most {t.head_size}")


def uniform_layers(teacher_layers, student_layers):
    """Every `teacher_layers/student_layers`-th teacher layer, ending at the top one.

    >>> uniform_layers(12, 6)
    (1, 3, 5, 7, 9, 11)
    """
    if not 1 <= student_layers <= teacher_layers:
        raise ValueError(
            f"A student of {student_layers} layers cannot be taken from a teacher of "
            f"{teacher_layers}; use 1 <= num_hidden_layers <= {teacher_layers}.")
    return tuple((j + 1) * teacher_layers // student_layers - 1 for j in range(student_layers))


def _random_subset(rng, total, keep):
    return tuple(int(i) for i in np.sort(rng.choice(total, size=keep, replace=False)))


def _random_head_neurons(rng, heads, teacher_head_size, keep):
    return tuple(tuple(_random_subset(rng, teacher_head_size, keep) for _ in kept)
                 for kept in heads)


def random_selection(teacher_config, student_config, seed=0):
    """ETD-Rand: uniform layers, and a random subset of every other kind of unit.

    Within-head neurons are drawn only for a student with a smaller head size,
    and after every other unit, so whole-head selections do not depend on them.
    """
    check_extractable(teacher_config, student_config)
    rng = np.random.default_rng(seed)
    t, s = teacher_config, student_config
    layers = uniform_layers(t.num_hidden_layers, s.num_hidden_layers)
    hidden = _random_subset(rng, t.hidden_size, s.hidden_size)
    heads = tuple(_random_subset(rng, t.num_attention_heads, s.num_attention_heads)
                  for _ in layers)
    ffn = tuple(_random_subset(rng, t.intermediate_size, s.intermediate_size) for _ in layers)
    qk = vo = None
    if s.head_size < t.head_size:
        qk = _random_head_neurons(rng, heads, t.head_size, s.head_size)
        vo = _random_head_neurons(rng, heads, t.head_size, s.head_size)
    return WidthSelection(layers=layers, hidden=hidden, heads=heads, ffn=ffn,
                          qk_neurons=qk, vo_neurons=vo)


def _top(scores, keep):
    # Stable, so equal scores keep the lower index and results are reproducible.
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")[:keep]
    return tuple(int(i) for i in np.sort(order))


def _top_in_heads(scores, layers, heads, keep):
    # scores[teacher_layer, teacher_head, neuron]; heads[j] are teacher heads of student layer j.
    return tuple(tuple(_top(scores[i][h], keep) for h in kept)
                 for i, kept in zip(layers, heads, strict=True))


def importance_selection(scores, teacher_config, student_config):
    """ETD-Impt: uniform layers, and the highest-scoring units of each kind.

    Heads are chosen whole by their score; for a student with a smaller head
    size, each kept head then keeps its highest-scoring query/key neurons and,
    separately, its highest-scoring value/output neurons.

    Args:
        scores: an `ImportanceScores` computed on the teacher.
    """
    check_extractable(teacher_config, student_config)
    t, s = teacher_config, student_config
    layers = uniform_layers(t.num_hidden_layers, s.num_hidden_layers)
    heads = tuple(_top(scores.heads[i], s.num_attention_heads) for i in layers)
    qk = vo = None
    if s.head_size < t.head_size:
        if scores.qk_neurons is None or scores.vo_neurons is None:
            raise ValueError(
                f"The student's head size {s.head_size} is smaller than the teacher's "
                f"{t.head_size}, but the importance scores have no within-head neuron scores "
                "(qk_neurons, vo_neurons); compute them with compute_importance.")
        qk = _top_in_heads(scores.qk_neurons, layers, heads, s.head_size)
        vo = _top_in_heads(scores.vo_neurons, layers, heads, s.head_size)
    return WidthSelection(
        layers=layers,
        hidden=_top(scores.hidden, s.hidden_size),
        heads=heads,
        ffn=tuple(_top(scores.ffn[i], s.intermediate_size) for i in layers),
        qk_neurons=qk, vo_neurons=vo,
    )
