"""Runs one distillation stage as a loop of `strategy.run` over the Distiller's step.

One loop serves every strategy, MultiWorkerMirroredStrategy included (Keras
`fit` does not work there: keras-team/keras#20585), so checkpoints, resume,
early stopping and NaN handling behave the same everywhere.

A stage is one or more phases (gradual unfreezing: the head, then one layer
group more at a time). Each phase evaluates the dev split before its first
step, every `eval_every` steps and at its end, stops early on `patience`, and
ends on the weights of its best evaluation, its start included.
"""
import math
import time

import keras
import tensorflow as tf

from xtremedistil_tf.distill.projection_fit import fit_projections
from xtremedistil_tf.distill.step_data import StepPlan, distributed_dataset
from xtremedistil_tf.distill.task_mixture import TaskMixture, single_feed
from xtremedistil_tf.distill.unfreeze_phases import unfreeze_phases
from xtremedistil_tf.training.checkpoint_manager import (
    optimizer_variables, variables_by_structure)
from xtremedistil_tf.training.optimization import create_optimizer
from xtremedistil_tf.training.scalar_log import write_scalars

# Training batches the first stage fits its projections on.
_FIT_BATCHES = 16


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def phase_seed(seed, stage_index, phase_index):
    """The seed of a phase's batch order: the run seed, the stage and the phase."""
    return (seed * 1000 + stage_index, phase_index)


def _new_phase(index, count, label):
    return {"phase": index + 1, "label": label, "unfrozen_groups": count, "dev": [],
            "train": {}, "train_counts": {}, "train_steps": 0, "best_dev_loss": None, "best_step": None,
            "best_dev": None, "evals_since_best": 0, "last_step": 0, "stopped_early": False}


class StageRunner:
    """Trains `distiller` through one `StageConfig`, resuming from a checkpoint.

    The training data is an `ExampleSource`, or a `TaskMixture` (one task per
    step, for a `MultiTaskDistiller`, whose `distillers[task]` then trains).

    Args:
        distiller: a `Distiller` (or `MultiTaskDistiller`) built inside
            `strategy.scope()`.
        strategy: the `tf.distribute.Strategy`.
        checkpoints: a `CheckpointManager`, or None for no checkpoints.
        checkpoint_every: save every this many steps (0: only at phase and stage ends).
        jit_compile: compile the per-replica step with XLA.
        writer: a `tf.summary` writer, or None.
        log_every: TensorBoard interval in steps.
        verbose: show a progress bar.
        is_chief: whether this worker writes logs. Every worker calls the
            checkpoint manager's `save` (its own `is_chief` decides where).
        on_save: called (on the chief) before each checkpoint is written, e.g. to
            write the run's flags once it has something to resume.
        on_evaluate: called after each dev evaluation as
            `on_evaluate(student, stage_name, phase, step, total_step)`, e.g. to
            score the student on real tasks along the way
            (run_scripts/benchmarks/benchmark_time_to_quality.py).
    """

    def __init__(self, distiller, strategy, checkpoints=None, checkpoint_every=0,
                 jit_compile=False, writer=None, log_every=10, verbose=True, is_chief=True,
                 on_save=None, on_evaluate=None):
        self.distiller = distiller
        self.strategy = strategy
        self.checkpoints = checkpoints
        self.checkpoint_every = checkpoint_every
        self.jit_compile = jit_compile
        self.writer = writer
        self.log_every = max(int(log_every), 1)
        self.verbose = verbose
        self.is_chief = is_chief
        self.on_save = on_save
        self.on_evaluate = on_evaluate
        # Merged into every checkpoint state (e.g. metrics of earlier stages).
        self.extra_state = {}
        self._eval_steps = {}

    # Setup.
    def _prepare_phase(self, stage, phase_steps, unfrozen):
        distiller = self.distiller
        with self.strategy.scope():
            distiller.set_unfrozen_groups(unfrozen)
            optimizer = create_optimizer(
                stage.learning_rate, phase_steps, int(stage.warmup_ratio * phase_steps),
                weight_decay=stage.weight_decay, clipnorm=None)
            distiller.compile(optimizer=optimizer)
            if not distiller.optimizer.built:
                distiller.optimizer.build(distiller.all_trainable_variables)
        return {}

    def _task_distiller(self, task):
        return self.distiller if task is None else self.distiller.distillers[task]

    def _step_function(self, train, task=None):
        distiller, strategy = self._task_distiller(task), self.strategy

        def eval_replica(data):
            inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
            return distiller.compute_losses(inputs, targets, training=False)

        replica_fn = distiller.train_on_batch_replica if train else eval_replica
        if self.jit_compile:
            replica_fn = tf.function(replica_fn, jit_compile=True)

        @tf.function
        def step(batch):
            total, parts = strategy.run(replica_fn, args=(batch,))
            reduce = lambda v: strategy.reduce("MEAN", v, axis=None)  # noqa: E731
            return reduce(total), {k: reduce(v) for k, v in parts.items()}

        return step

    # State.
    def model_variables(self):
        """The student's and the projections' variables by stable name (checkpoint keys)."""
        return model_variables(self.distiller)

    def _groups(self):
        model = self.model_variables()
        return {"model": model,
                "optimizer": optimizer_variables(self.distiller.optimizer, model)}

    def _save(self, state, best):
        if self.checkpoints is None:
            return
        groups = self._groups()
        if best is not None:
            groups["best"] = best
        if self.is_chief and self.on_save is not None:
            self.on_save()
        self.checkpoints.save({**self.extra_state, **state}, groups)

    def _snapshot(self):
        return {key: v.numpy() for key, v in self.model_variables().items()}

    def evaluate(self, source, batch_size):
        """Mean dev losses over whole batches of `source` (in order; one smaller
        batch when `source` holds fewer examples than `batch_size`).

        `source` may be a dict of task to source: the loss is then the mean over
        tasks, and each task's losses are reported as `<task>/<name>`.
        """
        if isinstance(source, dict):
            results = {t: self._evaluate(s, batch_size, t) for t, s in source.items()}
            results = {t: r for t, r in results.items() if r is not None}
            if not results:
                return None
            out = {"loss": sum(r["loss"] for r in results.values()) / len(results)}
            for task, result in results.items():
                out.update({f"{task}/{k}": v for k, v in result.items()})
            return out
        return self._evaluate(source, batch_size, None)

    def _evaluate(self, source, batch_size, task):
        if source is None:
            return None
        if len(source) < batch_size:
            # A dev split smaller than one training batch is scored as one smaller
            # batch (a whole number per replica) rather than not at all.
            replicas = self.strategy.num_replicas_in_sync
            batch_size = len(source) // replicas * replicas
            if batch_size == 0:
                return None
        plan = StepPlan(len(source), batch_size, seed=0, shuffle=False)
        if task not in self._eval_steps:
            self._eval_steps[task] = self._step_function(train=False, task=task)
        step_fn = self._eval_steps[task]
        sums = {}
        for batch in distributed_dataset(self.strategy, source, plan, 0, plan.steps_per_epoch):
            total, parts = step_fn(batch)
            for name, value in [("loss", total)] + list(parts.items()):
                sums[name] = sums.get(name, 0.0) + float(value)
        return {name: value / plan.steps_per_epoch for name, value in sums.items()}

    # Loop.
    def run(self, stage, stage_index, train_source, dev_source, batch_size, seed, resume=None):
        """Runs the stage; returns a dict of its metrics.

        `resume` is the checkpoint state when the checkpoint belongs to this
        stage (its weights, optimizer and phase are restored here), else None.
        """
        with self.strategy.scope():
            self.distiller.set_losses(dict(stage.losses))
        if resume is None and stage_index == 0 and hasattr(train_source, "inputs"):
            # Projections start at their least-squares fit, so that the dev loss
            # before the first step is a fair point of comparison (projection_fit.py).
            # Only in the first stage: later stages' projections are then a
            # function of the checkpoint alone, and resuming stays exact.
            rows = min(_FIT_BATCHES * batch_size, len(train_source))
            fit_projections(self.distiller, [
                {k: v[i:i + batch_size] for k, v in train_source.inputs.items()}
                for i in range(0, rows, batch_size)])
        self._eval_steps = {}
        phases = unfreeze_phases(self.distiller.layer_groups(), stage.unfreeze)
        phase_steps = stage.total_steps(len(train_source), batch_size)
        started = time.time()
        if resume is None:
            history = {"unfreeze": stage.unfreeze, "phases": [], "dev": [], "last_step": 0}
            first_phase, first_step = 0, 0
        else:
            history = resume["history"]
            first_phase, first_step = resume.get("phase", 0), resume["step"]
        resumed_from = history["last_step"] if resume is not None else None
        for index in range(first_phase, len(phases)):
            restore = resume if index == first_phase else None
            self._run_phase(stage, stage_index, index, phases, phase_steps, train_source,
                            dev_source, batch_size, seed, history,
                            restore, first_step if restore is not None else 0)
        if self.writer is not None:
            self.writer.flush()
        records = history["phases"]
        sums, counts = {}, {}
        for record in records:
            for name, value in record["train"].items():
                sums[name] = sums.get(name, 0.0) + value * record["train_counts"][name]
                counts[name] = counts.get(name, 0) + record["train_counts"][name]
        train = {name: value / counts[name] for name, value in sums.items()}
        last = records[-1]
        history.update(
            train=train, total_steps=phase_steps * len(phases),
            steps_run=history["last_step"] - (resumed_from or 0), resumed_from=resumed_from,
            stopped_early=any(r["stopped_early"] for r in records),
            best_dev_loss=last["best_dev_loss"], final_dev=last["best_dev"],
            start_dev_loss=records[0]["dev"][0]["loss"] if records[0]["dev"] else None,
            kept_start=bool(records[0]["dev"]) and all(r["best_step"] == 0 for r in records),
            seconds=round(time.time() - started, 2))
        if len(records) == 1:
            history["best_step"] = last["best_step"]
        self._save({"stage_index": stage_index, "stage": stage.name, "phase": len(phases),
                    "step": history["last_step"], "done": True, "history": history}, None)
        return history

    def _evaluate_into(self, record, history, step, dev_source, batch_size, stage):
        dev = self.evaluate(dev_source, batch_size)
        if dev is None:
            return False
        record["dev"].append({"step": step, **dev})
        history["dev"].append({"phase": record["phase"], "step": history["last_step"], **dev})
        if self.on_evaluate is not None:
            self.on_evaluate(getattr(self.distiller, "student", None), stage.name,
                             record["phase"], step, history["last_step"])
        if self.writer is not None and self.is_chief:
            write_scalars(self.writer, history["last_step"], dev, f"{stage.name}/dev_")
        if record["best_dev_loss"] is None or dev["loss"] < record["best_dev_loss"]:
            record.update(best_dev_loss=dev["loss"], best_step=step, best_dev=dev,
                          evals_since_best=0)
            return True
        record["evals_since_best"] += 1
        return False

    def _run_phase(self, stage, stage_index, index, phases, phase_steps, train_source,
                   dev_source, batch_size, seed, history, resume, start):
        count, label = phases[index]
        step_fns = self._prepare_phase(stage, phase_steps, count)
        best = None
        if resume is not None and start > 0:
            self.checkpoints.restore(self._groups())
            best = self.checkpoints.read_group("best")
            record = history["phases"][index]
        else:
            if resume is not None:  # a phase boundary: weights only, a fresh optimiser
                self.checkpoints.restore({"model": self.model_variables()})
            record = _new_phase(index, count, label)
            history["phases"].append(record)
            if self._evaluate_into(record, history, 0, dev_source, batch_size, stage):
                best = self._snapshot()
        if self.writer is not None and self.is_chief and len(phases) > 1:
            write_scalars(self.writer, history["last_step"], {"unfrozen_groups": count},
                          f"{stage.name}/")
        seeds = phase_seed(seed, stage_index, index)
        if isinstance(train_source, TaskMixture):
            feed = train_source.feed(self.strategy, batch_size, seeds, start, phase_steps)
        else:
            feed = single_feed(train_source, self.strategy, batch_size, seeds, start, phase_steps)
        counts = record["train_counts"]
        sums = {k: v * counts[k] for k, v in record["train"].items()}
        progbar = keras.utils.Progbar(
            phase_steps, verbose=1 if self.verbose and self.is_chief else 0)
        step = start
        while step < phase_steps:
            task, batch = next(feed)
            if task not in step_fns:
                step_fns[task] = self._step_function(train=True, task=task)
            total, parts = step_fns[task](batch)
            if task is not None:
                parts = {f"{task}/{k}": v for k, v in parts.items()}
            values = {"loss": float(total), **{k: float(v) for k, v in parts.items()}}
            if not all(math.isfinite(v) for v in values.values()):
                where = (f"the last good checkpoint is kept in {self.checkpoints.folder}"
                         if self.checkpoints is not None and self.checkpoints.exists()
                         else "no checkpoint had been written")
                raise NonFiniteLossError(
                    f"Stage {stage.name!r}: the loss became {values['loss']} at step {step + 1} "
                    f"of phase {index + 1} (losses {values}); stopped, and {where}. Lower "
                    "the learning rate, use float32 or check the data, then rerun to resume.")
            step += 1
            history["last_step"] += 1
            record["last_step"] = step
            record["train_steps"] += 1
            for name, value in values.items():
                sums[name] = sums.get(name, 0.0) + value
                counts[name] = counts.get(name, 0) + 1
            record["train"] = {k: v / counts[k] for k, v in sums.items()}
            progbar.update(step, list(values.items()))
            if self.writer is not None and self.is_chief and \
                    history["last_step"] % self.log_every == 0:
                write_scalars(self.writer, history["last_step"], values, f"{stage.name}/train_")
            if (stage.eval_every and step % stage.eval_every == 0) or step == phase_steps:
                if self._evaluate_into(record, history, step, dev_source, batch_size, stage):
                    best = self._snapshot()
                if stage.patience and record["evals_since_best"] >= stage.patience:
                    record["stopped_early"] = True
                    break
            if self.checkpoint_every and step % self.checkpoint_every == 0 \
                    and step < phase_steps:
                self._save({"stage_index": stage_index, "stage": stage.name, "phase": index,
                            "step": step, "done": False, "history": history}, best)
        if best is not None:
            for key, variable in self.model_variables().items():
                variable.assign(best[key])
        if index + 1 < len(phases):
            self._save({"stage_index": stage_index, "stage": stage.name, "phase": index + 1,
                        "step": 0, "done": False, "history": history}, None)


def model_variables(distiller):
    """`distiller`'s student and projection variables keyed by name, not position.

    Student variables by attribute path (`variables_by_structure`); a
    projection's by its name in `distiller.projections` (which carries the task
    under MKD) and its own name.
    """
    out = {f"student/{k}": v for k, v in variables_by_structure(distiller.student).items()}
    for name, layer in distiller.projections.items():
        for variable in layer.variables:
            out[f"projection/{name}/{variable.name}"] = variable
    return out
