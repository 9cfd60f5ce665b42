"""Which teacher layers, hidden dimensions, heads and FFN neurons a student keeps."""
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
    """

    layers: tuple
    hidden: tuple
    heads: tuple
    ffn: tuple

    def to_dict(self):
        return {"layers": list(self.layers), "hidden": list(self.hidden),
                "heads": [list(h) for h in self.heads], "ffn": [list(f) for f in self.ffn]}


def check_extractable(teacher_config, student_config):
    """Raises `ValueError` when `student_config` cannot be cut out of the teacher.

    A student must be no deeper or wider than its teacher, share its vocabulary,
    token types, activation and model type, and keep the teacher's head size,
    since heads are copied whole.
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
    if s.head_size != t.head_size:
        best_heads = s.hidden_size // t.head_size
        raise ValueError(
            f"The student's head size hidden_size/num_attention_heads = {s.hidden_size}/"
            f"{s.num_attention_heads} = {s.head_size} differs from the teacher's "
            f"{t.hidden_size}/{t.num_attention_heads} = {t.head_size}. Heads are copied "
            "whole, so the student's attention width (num_attention_heads x head size) must "
            f"equal its hidden_size with the teacher's head size: use "
            f"num_attention_heads={best_heads} with hidden_size="
            f"{best_heads * t.head_size}, or --student_init=random.")
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


def random_selection(teacher_config, student_config, seed=0):
    """ETD-Rand: uniform layers, and a random subset of every other kind of unit."""
    check_extractable(teacher_config, student_config)
    rng = np.random.default_rng(seed)
    t, s = teacher_config, student_config
    layers = uniform_layers(t.num_hidden_layers, s.num_hidden_layers)
    return WidthSelection(
        layers=layers,
        hidden=_random_subset(rng, t.hidden_size, s.hidden_size),
        heads=tuple(_random_subset(rng, t.num_attention_heads, s.num_attention_heads)
                    for _ in layers),
        ffn=tuple(_random_subset(rng, t.intermediate_size, s.intermediate_size)
                  for _ in layers),
    )


def _top(scores, keep):
    # Stable, so equal scores keep the lower index and results are reproducible.
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")[:keep]
    return tuple(int(i) for i in np.sort(order))


def importance_selection(scores, teacher_config, student_config):
    """ETD-Impt: uniform layers, and the highest-scoring units of each kind.

    Args:
        scores: an `ImportanceScores` computed on the teacher.
    """
    check_extractable(teacher_config, student_config)
    t, s = teacher_config, student_config
    layers = uniform_layers(t.num_hidden_layers, s.num_hidden_layers)
    return WidthSelection(
        layers=layers,
        hidden=_top(scores.hidden, s.hidden_size),
        heads=tuple(_top(scores.heads[i], s.num_attention_heads) for i in layers),
        ffn=tuple(_top(scores.ffn[i], s.intermediate_size) for i in layers),
    )
