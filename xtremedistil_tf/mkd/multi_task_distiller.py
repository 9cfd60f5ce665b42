"""Multi-task distillation: one student, a head and a teacher per task, sampled batches."""
import time

import tensorflow as tf

from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel, check_task_names

DEFAULT_LOSSES = {"logits_kl": 1.0}
# A one-output (regression) head has no distribution to match: its logit is matched.
REGRESSION_LOSSES = {"logits_mse": 1.0}


def _split_batch(batch):
    if isinstance(batch, (tuple, list)):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    return batch, None


class MultiTaskDistiller:
    """Distils per-task teachers into the heads of one shared `MultiTaskModel`.

    Each step draws a task (see `TaskSampler`), takes that task's next batch
    and runs the single-task `Distiller` of that task: its teacher against
    `student.for_task(task)`. All tasks share one optimizer, so the shared
    encoder's moments see every task's gradients; each head moves only on its
    own task's batches.

    Args:
        student: a `MultiTaskModel`.
        teachers: dict of task name to a model whose output dict has `logits`
            (e.g. a fine-tuned `SequenceClassifier`), or one `MultiTaskModel`
            with a head for every task (a multi-task teacher).
        losses: loss weights for classification tasks, as for `Distiller`
            (e.g. `{"logits_kl": 1.0, "labels_ce": 0.5}`; `labels_ce` needs
            labelled batches). Regression tasks use `REGRESSION_LOSSES`.
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
        if isinstance(teachers, MultiTaskModel):
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
        self.distillers = {}
        for task in self.tasks:
            task_losses = REGRESSION_LOSSES if student.tasks[task] == 1 else self.losses
            self.distillers[task] = Distiller(
                teacher=teachers[task], student=student.for_task(task), losses=task_losses,
                loss_settings=loss_settings, global_clipnorm=global_clipnorm,
                name=f"distiller_{task}")
        self._steps = {}

    @property
    def trainable_variables(self):
        """The student's and every task's projections, each once."""
        seen, out = set(), []
        for distiller in self.distillers.values():
            for variable in distiller.all_trainable_variables:
                if id(variable) not in seen:
                    seen.add(id(variable))
                    out.append(variable)
        return out

    def compile(self, optimizer, run_eagerly=False):
        """Shares `optimizer` between the tasks; builds its slots for every variable.

        Each task's step is traced once into a `tf.function`; `run_eagerly`
        skips tracing (for debugging, or tiny models where tracing dominates).
        """
        optimizer.build(self.trainable_variables)
        for distiller in self.distillers.values():
            distiller.compile(optimizer=optimizer)
        self.optimizer = optimizer
        wrap = (lambda f: f) if run_eagerly else (
            lambda f: tf.function(f, reduce_retracing=True))
        self._steps = {task: wrap(self._make_step(task)) for task in self.tasks}

    def _make_step(self, task):
        distiller = self.distillers[task]

        def step(inputs, labels):
            targets = {"labels": labels} if labels is not None else None
            total, parts = distiller.train_on_batch_replica((inputs, targets))
            return total, parts

        return step

    def _targets(self, task, labels):
        return labels if self.distillers[task].needs_labels else None

    def train_step(self, task, batch):
        """One update on `task`'s `batch` (inputs, or `(inputs, labels)`)."""
        if not self._steps:
            raise ValueError("Call compile(optimizer) before training.")
        inputs, labels = _split_batch(batch)
        if self.distillers[task].needs_labels and labels is None:
            raise ValueError(f"Task {task!r} uses 'labels_ce' but its batches carry no "
                             "labels; drop 'labels_ce' or give labelled data.")
        total, parts = self._steps[task](inputs, self._targets(task, labels))
        return float(total), {k: float(v) for k, v in parts.items()}

    def fit(self, datasets, sampler, steps, log_every=0, log=print):
        """Runs `steps` updates, each on a task drawn by `sampler`.

        Args:
            datasets: dict of task name to an iterable of batches that repeats
                (e.g. `tf.data.Dataset.repeat()`).
            sampler: a `TaskSampler` over (a subset of) this student's tasks.
            steps: number of updates.
            log_every: print a line every this many steps (0: never).
            log: where lines go.

        Returns a history dict: `steps` (task per step), `loss` (total per step),
        `task_steps` (count per task) and `seconds`.
        """
        unknown = [t for t in sampler.names if t not in self.distillers]
        if unknown:
            raise ValueError(f"The sampler draws tasks {unknown} that the student has no "
                             f"head for; its tasks are {self.tasks}.")
        missing = [t for t in sampler.names if t not in datasets]
        if missing:
            raise ValueError(f"No data for tasks {missing}; give a dataset per task.")
        iterators = {t: iter(datasets[t]) for t in sampler.names}
        history = {"steps": [], "loss": [], "task_steps": {t: 0 for t in sampler.names}}
        start = time.time()
        for step, task in enumerate(sampler.schedule(steps), start=1):
            try:
                batch = next(iterators[task])
            except StopIteration:
                raise ValueError(f"The dataset of task {task!r} ran out at step {step}; "
                                 "repeat it (dataset.repeat()).") from None
            total, _ = self.train_step(task, batch)
            history["steps"].append(task)
            history["loss"].append(total)
            history["task_steps"][task] += 1
            if log_every and step % log_every == 0:
                recent = history["loss"][-log_every:]
                log(f"step {step}/{steps}: mean loss {sum(recent) / len(recent):.4f} "
                    f"(task counts {history['task_steps']})")
        history["seconds"] = time.time() - start
        return history

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
