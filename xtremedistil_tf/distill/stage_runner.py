"""Runs one distillation stage as a loop of `strategy.run` over the Distiller's step.

One loop serves every strategy, MultiWorkerMirroredStrategy included (Keras
`fit` does not work there: keras-team/keras#20585), so checkpoints, resume,
early stopping and NaN handling behave the same everywhere.
"""
import math
import time

import keras
import tensorflow as tf

from xtremedistil_tf.distill.step_data import StepPlan, distributed_dataset
from xtremedistil_tf.training.optimization import create_optimizer
from xtremedistil_tf.training.scalar_log import write_scalars


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


class StageRunner:
    """Trains `distiller` through one `StageConfig`, resuming from a checkpoint.

    Args:
        distiller: a `Distiller` built inside `strategy.scope()`.
        strategy: the `tf.distribute.Strategy`.
        checkpoints: a `CheckpointManager`, or None for no checkpoints.
        checkpoint_every: save every this many steps (0: only at the stage end).
        jit_compile: compile the per-replica step with XLA.
        writer: a `tf.summary` writer, or None.
        log_every: TensorBoard interval in steps.
        verbose: show a progress bar.
        is_chief: whether this worker writes checkpoints and logs.
    """

    def __init__(self, distiller, strategy, checkpoints=None, checkpoint_every=0,
                 jit_compile=False, writer=None, log_every=10, verbose=True, is_chief=True):
        self.distiller = distiller
        self.strategy = strategy
        self.checkpoints = checkpoints
        self.checkpoint_every = checkpoint_every
        self.jit_compile = jit_compile
        self.writer = writer
        self.log_every = max(int(log_every), 1)
        self.verbose = verbose
        self.is_chief = is_chief
        # Merged into every checkpoint state (e.g. metrics of earlier stages).
        self.extra_state = {}

    # Setup.
    def _prepare(self, stage, total_steps):
        distiller = self.distiller
        with self.strategy.scope():
            distiller.set_losses(dict(stage.losses))
            optimizer = create_optimizer(
                stage.learning_rate, total_steps, int(stage.warmup_fraction * total_steps),
                weight_decay=stage.weight_decay, clipnorm=None)
            distiller.compile(optimizer=optimizer)
            distiller.optimizer.build(distiller.all_trainable_variables)
        self._eval_step = None

    def _step_function(self, train):
        distiller, strategy = self.distiller, self.strategy
        replica_fn = distiller.train_on_batch_replica if train else self._eval_replica
        if self.jit_compile:
            replica_fn = tf.function(replica_fn, jit_compile=True)

        @tf.function
        def step(batch):
            total, parts = strategy.run(replica_fn, args=(batch,))
            reduce = lambda v: strategy.reduce("MEAN", v, axis=None)  # noqa: E731
            return reduce(total), {k: reduce(v) for k, v in parts.items()}

        return step

    def _eval_replica(self, data):
        inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.distiller.compute_losses(inputs, targets, training=False)

    # State.
    def _save(self, state, best):
        if self.checkpoints is None:
            return
        groups = {"model": self.distiller.student_variables,
                  "optimizer": self.distiller.optimizer.variables}
        if best is not None:
            groups["best"] = best
        if self.is_chief:
            self.checkpoints.save({**self.extra_state, **state}, groups)

    def evaluate(self, source, batch_size):
        """Mean dev losses over whole batches of `source` (in order)."""
        if source is None or len(source) < batch_size:
            return None
        plan = StepPlan(len(source), batch_size, seed=0, shuffle=False)
        if getattr(self, "_eval_step", None) is None:
            self._eval_step = self._step_function(train=False)
        step_fn = self._eval_step
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
        stage (its weights and optimizer are restored here), else None.
        """
        distiller = self.distiller
        total_steps = stage.total_steps(len(train_source), batch_size)
        self._prepare(stage, total_steps)
        start, best, history = 0, None, {"best_dev_loss": None, "evals_since_best": 0,
                                         "dev": [], "train": {}}
        if resume is not None:
            groups = {"model": distiller.student_variables,
                      "optimizer": distiller.optimizer.variables}
            self.checkpoints.restore(groups)
            best = self.checkpoints.read_group("best")
            start, history = resume["step"], resume["history"]
        plan = StepPlan(len(train_source), batch_size, seed=seed * 1000 + stage_index)
        unfrozen = None
        step_fn = None
        sums, count = {}, 0
        progbar = keras.utils.Progbar(total_steps, verbose=1 if self.verbose and self.is_chief else 0)
        started = time.time()
        batches = iter(distributed_dataset(self.strategy, train_source, plan, start, total_steps))
        step = start
        stopped_early = False
        while step < total_steps:
            wanted = (1 + step // stage.unfreeze_every) if stage.unfreeze_every else None
            if step_fn is None or wanted != unfrozen:
                unfrozen = wanted
                distiller.set_unfrozen_groups(unfrozen)
                step_fn = self._step_function(train=True)
            total, parts = step_fn(next(batches))
            values = {"loss": float(total), **{k: float(v) for k, v in parts.items()}}
            if not all(math.isfinite(v) for v in values.values()):
                where = (f"the last good checkpoint is kept in {self.checkpoints.folder}"
                         if self.checkpoints is not None and self.checkpoints.exists()
                         else "no checkpoint had been written")
                raise NonFiniteLossError(
                    f"Stage {stage.name!r}: the loss became {values['loss']} at step {step + 1} "
                    f"(losses {values}); stopped, and {where}. Lower the learning rate, use "
                    "float32 or check the data, then rerun to resume.")
            step += 1
            for name, value in values.items():
                sums[name] = sums.get(name, 0.0) + value
            count += 1
            progbar.update(step, list(values.items()))
            if self.writer is not None and self.is_chief and step % self.log_every == 0:
                write_scalars(self.writer, step, values, f"{stage.name}/train_")
            if stage.eval_every and (step % stage.eval_every == 0 or step == total_steps):
                dev = self.evaluate(dev_source, batch_size)
                if dev is not None:
                    history["dev"].append({"step": step, **dev})
                    if self.writer is not None and self.is_chief:
                        write_scalars(self.writer, step, dev, f"{stage.name}/dev_")
                    if history["best_dev_loss"] is None or dev["loss"] < history["best_dev_loss"]:
                        history["best_dev_loss"] = dev["loss"]
                        history["best_step"] = step
                        history["evals_since_best"] = 0
                        best = [v.numpy() for v in distiller.student_variables]
                    else:
                        history["evals_since_best"] += 1
                    if stage.patience and history["evals_since_best"] >= stage.patience:
                        stopped_early = True
            history["train"] = {name: value / count for name, value in sums.items()}
            if self.checkpoint_every and step % self.checkpoint_every == 0 and step < total_steps:
                self._save({"stage_index": stage_index, "stage": stage.name, "step": step,
                            "done": False, "history": history}, best)
            if stopped_early:
                break
        if best is not None:
            for variable, value in zip(distiller.student_variables, best):
                variable.assign(value)
        if self.writer is not None:
            self.writer.flush()
        history.update(steps_run=step - start, last_step=step, total_steps=total_steps,
                       resumed_from=start if resume is not None else None,
                       stopped_early=stopped_early, seconds=round(time.time() - started, 2))
        history["final_dev"] = self.evaluate(dev_source, batch_size) if stage.eval_every else None
        self._save({"stage_index": stage_index, "stage": stage.name, "step": step,
                    "done": True, "history": history}, None)
        return history

