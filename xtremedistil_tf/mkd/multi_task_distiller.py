"""Multi-task distillation: one student, a head and a teacher per task.

Training runs through `StageRunner` like every other recipe, with a
`TaskMixture` as its data: each step draws a task and runs that task's
`Distiller`. This class gives the runner the same interface a `Distiller` has
(losses, layer groups for gradual unfreezing, the variables to checkpoint, one
optimiser) over the per-task distillers.
"""
import tensorflow as tf

from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel, check_task_names

DEFAULT_LOSSES = {"logits_kl": 1.0}


def _split_batch(batch):
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


def _unique(variables):
    seen, out = set(), []
    for variable in variables:
        if id(variable) not in seen:
            seen.add(id(variable))
            out.append(variable)
    return out


def task_losses(losses, num_outputs):
    """A one-output (regression) head has no distribution: its logits are matched
    with `logits_mse`, and `labels_ce` becomes the MSE to the gold score."""
    if num_outputs != 1:
        return dict(losses)
    out = {}
    for name, weight in losses.items():
        name = "logits_mse" if name == "logits_kl" else name
        out[name] = out.get(name, 0.0) + weight
    return out


class MultiTaskDistiller:
    """Distils per-task teachers into the heads of one shared `MultiTaskModel`.

    Each task has a `Distiller`: its teacher against `student.for_task(task)`.
    All tasks share one optimizer, so the shared encoder's moments see every
    task's gradients; each head moves only on its own task's batches.

    Args:
        student: a `MultiTaskModel`.
        teachers: dict of task name to a model whose output dict has `logits`
            (e.g. a fine-tuned `SequenceClassifier`), or one `MultiTaskModel`
            with a head for every task (a multi-task teacher), or None with
            labels_ce as the only loss: the heads are then fine-tuned on gold
            labels (how a multi-task teacher is trained, `multi_task_teacher.py`).
        losses: loss weights, as for `Distiller` (e.g. `{"logits_kl": 1.0,
            "labels_ce": 0.5}`; `labels_ce` needs labelled batches); regression
            tasks use them through `task_losses`.
        loss_settings: a `LossSettings` (temperature, ...).
        global_clipnorm: gradient clipping of each step, or None.
    """

    def __init__(self, student, teachers, losses=None, loss_settings=None,
                 global_clipnorm=None):
        if not isinstance(student, MultiTaskModel):
            raise ValueError(f"The MKD student must be a MultiTaskModel, not a "
                             f"{type(student).__name__}.")
        if not student.built:
            student.build()
        self.student = student
        self.tasks = list(student.tasks)
        if teachers is None:
            teachers, missing = dict.fromkeys(self.tasks), []
        elif isinstance(teachers, MultiTaskModel):
            missing = [t for t in self.tasks if t not in teachers.tasks]
            teachers = {t: teachers.for_task(t) for t in self.tasks if t in teachers.tasks}
        else:
            check_task_names(list(teachers))
            missing = [t for t in self.tasks if t not in teachers]
        if missing:
            raise ValueError(f"No teacher for the student's tasks {missing}; give one teacher "
                             f"per task (have {sorted(teachers)}) or a multi-task teacher "
                             "with a head for each.")
        self.losses = dict(losses or DEFAULT_LOSSES)
        self.distillers = {
            task: Distiller(teacher=teachers[task], student=student.for_task(task),
                            losses=task_losses(self.losses, student.tasks[task]),
                            loss_settings=loss_settings, global_clipnorm=global_clipnorm,
                            name=f"distiller_{task}")
            for task in self.tasks}
        self.optimizer = None
        self._steps = {}

    # The Distiller interface StageRunner uses.
    def set_losses(self, losses):
        self.losses = dict(losses)
        for task, distiller in self.distillers.items():
            distiller.set_losses(task_losses(self.losses, self.student.tasks[task]))

    @property
    def needs_labels(self):
        return any(d.needs_labels for d in self.distillers.values())

    @property
    def projections(self):
        return {f"{task}/{name}": layer for task, d in self.distillers.items()
                for name, layer in d.projections.items()}

    def layer_groups(self):
        """Every task's head (and the pooler) first, then the shared encoder's groups."""
        per_task = [d.layer_groups() for d in self.distillers.values()]
        heads = _unique(v for groups in per_task for v in groups[0])
        return [heads] + per_task[0][1:]

    def set_unfrozen_groups(self, count):
        for distiller in self.distillers.values():
            distiller.set_unfrozen_groups(count)

    @property
    def train_variables(self):
        return _unique(v for d in self.distillers.values() for v in d.train_variables)

    @property
    def student_variables(self):
        """Every variable training may change: the whole student's and the projections'."""
        extra = [v for layer in self.projections.values() for v in layer.variables]
        return _unique(list(self.student.variables) + extra)

    @property
    def all_trainable_variables(self):
        extra = [v for layer in self.projections.values() for v in layer.trainable_variables]
        return _unique(list(self.student.trainable_variables) + extra)

    trainable_variables = all_trainable_variables

    def compile(self, optimizer, run_eagerly=False):
        """Shares `optimizer` between the tasks.

        `train_step` traces each task's step once into a `tf.function`;
        `run_eagerly` skips tracing (for debugging, or tiny models).
        """
        for distiller in self.distillers.values():
            distiller.compile(optimizer=optimizer)
        self.optimizer = optimizer
        wrap = (lambda f: f) if run_eagerly else (
            lambda f: tf.function(f, reduce_retracing=True))
        self._steps = {task: wrap(self.distillers[task].train_on_batch_replica)
                       for task in self.tasks}

    # One update or one measurement outside a run (StageRunner trains).
    def train_step(self, task, batch):
        """One update on `task`'s `batch` (inputs, or `(inputs, labels)`)."""
        if not self._steps:
            raise ValueError("Call compile(optimizer) before training.")
        if not self.optimizer.built:
            self.optimizer.build(self.all_trainable_variables)
        inputs, labels = _split_batch(batch)
        distiller = self.distillers[task]
        if distiller.needs_labels and labels is None:
            raise ValueError(f"Task {task!r} uses 'labels_ce' but its batches carry no "
                             "labels; drop 'labels_ce' or give labelled data.")
        targets = {"labels": labels} if distiller.needs_labels else None
        total, parts = self._steps[task]((inputs, targets))
        return float(total), {k: float(v) for k, v in parts.items()}

    def evaluate(self, datasets, steps=None):
        """Mean distillation loss per task over `datasets` (dict of task to batches)."""
        out = {}
        for task, dataset in datasets.items():
            distiller = self.distillers[task]
            total, count = 0.0, 0
            for i, batch in enumerate(dataset):
                if steps is not None and i >= steps:
                    break
                inputs, labels = _split_batch(batch)
                targets = {"labels": labels} if distiller.needs_labels else None
                loss, _ = distiller.compute_losses(inputs, targets, training=False)
                total, count = total + float(loss), count + 1
            out[task] = total / max(count, 1)
        return out
