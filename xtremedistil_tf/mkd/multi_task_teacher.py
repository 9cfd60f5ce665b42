"""MKD's teacher refined by multi-task learning: one encoder, a head per task.

MKD (Liu et al., 2019) fine-tunes its teacher on all tasks together before
distilling it. The teacher here trains on the same step loop as every recipe
(`StageRunner`): a `MultiTaskDistiller` without teachers and `labels_ce` as its
only loss, fed by the `TaskMixture` that draws tasks by size**tau as the
student's distillation does. So checkpoints, resume, clipping, NaN stops and
dev selection behave as in every other stage.

The teacher trains for `teacher_finetune_epochs` passes over all tasks' data
(as many updates as the per-task teachers take together), is evaluated on dev
after each pass, and keeps its weights of lowest mean dev loss. It is saved
under `<output_dir>/teacher_multi_task` (`model.keras`, then `results.json`)
and reused on rerun when the settings that made it are the same.
"""
import math
import os

import keras
import tensorflow as tf

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.distill.stage_config import StageConfig
from xtremedistil_tf.distill.stage_runner import StageRunner, phase_seed
from xtremedistil_tf.distill.student_builder import resolve_teacher
from xtremedistil_tf.distill.task_mixture import TaskMixture
from xtremedistil_tf.distill.task_teacher import finished_teacher
from xtremedistil_tf.mkd.multi_task_distiller import MultiTaskDistiller
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel
from xtremedistil_tf.training.checkpoint_manager import CheckpointManager
from xtremedistil_tf.utils.atomic_io import atomic_path, write_json

FOLDER = "teacher_multi_task"
LOSSES = (("labels_ce", 1.0),)


def teacher_run_info(config):
    """The settings that make a multi-task teacher in its folder reusable."""
    return {"teacher": config.teacher, "tasks": list(config.tasks),
            "epochs": config.teacher_finetune_epochs,
            "learning_rate": config.teacher_learning_rate, "tau": config.tau,
            "batch_size": config.batch_size, "max_train_samples": config.max_train_samples,
            "max_seq_length": config.max_seq_length, "seed": config.seed}


def num_outputs(task):
    """Outputs of a `ClassificationTask`'s head: 1 for regression, else one per label."""
    return 1 if task.regression else len(task.label_names)


def finetune_multi_task_teacher(config, heads, train, dev, strategy, chief=True, log=print,
                                verbose=True):
    """The multi-task teacher of an MKD run: fine-tuned now, or reused from its folder.

    Args:
        config: the run's `MKDConfig` (teacher, tasks, tau, teacher_* settings).
        heads: dict of task name to its number of outputs (`num_outputs`).
        train, dev: dicts of task name to a labelled `ExampleSource`.
        strategy: the run's `tf.distribute.Strategy`.
        chief: whether this worker writes the teacher's files.
        log: where progress lines go.
        verbose: show the step loop's progress bar.

    Returns `(MultiTaskModel, info)`; `info` says whether it was `reused`, its
    folder, and for a new teacher the step loop's `stage` history and the
    steps each task got (`task_steps`).
    """
    folder = os.path.join(config.output_dir, FOLDER)
    expected = teacher_run_info(config)
    results = finished_teacher(folder, expected)
    if results is not None:
        log(f"Multi-task teacher: reusing the teacher fine-tuned in {folder}")
        with strategy.scope():
            model = keras.models.load_model(os.path.join(folder, "model.keras"))
        return model, {"reused": True, "folder": folder, **results}
    log(f"Multi-task teacher: fine-tuning {config.teacher} on {list(heads)} for "
        f"{config.teacher_finetune_epochs} epoch(s) with tau={config.tau} into {folder}")
    with strategy.scope():
        encoder, _ = from_hf(resolve_teacher(config.teacher), load_tokenizer=False)
        model = MultiTaskModel(encoder, heads, name="multi_task_teacher")
        trainer = MultiTaskDistiller(model, None, losses=dict(LOSSES),
                                     global_clipnorm=config.global_clipnorm or None)
    mixture = TaskMixture(train, tau=config.tau)
    stage = StageConfig(
        "multi_task_teacher", LOSSES, num_train_epochs=float(config.teacher_finetune_epochs),
        learning_rate=config.teacher_learning_rate,
        # A dev evaluation after each pass over the data, like epoch selection.
        eval_every=math.ceil(len(mixture) / config.batch_size)).validate()
    checkpoints = CheckpointManager(os.path.join(folder, "checkpoint"), is_chief=chief)
    state = checkpoints.read_state() if checkpoints.exists() else None
    writer = tf.summary.create_file_writer(os.path.join(folder, "logs")) if chief else None
    runner = StageRunner(trainer, strategy, checkpoints, config.checkpoint_every,
                         writer=writer, is_chief=chief, log_every=config.log_every,
                         verbose=verbose)
    if state is not None and state["done"]:
        checkpoints.restore({"model": runner.model_variables()})
        history = state["history"]
    else:
        if state is not None:
            log(f"Multi-task teacher: resuming at step {state['step']}")
        history = runner.run(stage, 0, mixture, dev, config.batch_size, config.seed, state)
    task_steps = mixture.counts(phase_seed(config.seed, 0, 0), history["last_step"])
    return model, {"reused": False, "folder": folder, "stage": history,
                   "task_steps": task_steps}


def save_multi_task_teacher(model, info, evals, run_info):
    """Writes `model.keras`, then `results.json` (last: it marks the folder complete)."""
    folder = info["folder"]
    tf.io.gfile.makedirs(folder)
    with atomic_path(os.path.join(folder, "model.keras")) as tmp:
        model.save(tmp)
    results = {"run_info": run_info, "eval": evals, "task_steps": info.get("task_steps"),
               "stage": info.get("stage")}
    write_json(os.path.join(folder, "results.json"), results)
    return results
