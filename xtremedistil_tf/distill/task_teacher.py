"""The teacher of task transfer: a source-task model, given or fine-tuned first."""
import json
import os
import time

from xtremedistil_tf.distill.student_builder import resolve_teacher
from xtremedistil_tf.tasks import TaskConfig, get_task


def source_task(config):
    """The `Task` of `config.source_task` with the run's data settings."""
    return get_task(config.source_task, TaskConfig(
        data_dir=config.data_dir, data_source=config.data_source,
        max_seq_length=config.max_seq_length, max_train_samples=config.max_train_samples,
        max_eval_samples=config.max_eval_samples, seed=config.seed))


def _finetune_info(config):
    # The settings that make a teacher in <output_dir>/teacher reusable.
    return {"teacher": config.teacher, "source_task": config.source_task,
            "epochs": config.teacher_finetune_epochs,
            "learning_rate": config.teacher_learning_rate,
            "max_train_samples": config.max_train_samples,
            "max_seq_length": config.max_seq_length, "seed": config.seed}


def finished_teacher(folder, expected):
    """The results of a complete fine-tuning in `folder`, None if there is none yet.

    `expected` holds the settings that make it reusable; a folder whose
    `run_info` differs in any of them is an error, never silently reused.
    """
    results_path = os.path.join(folder, "results.json")
    if not (os.path.isfile(results_path) and os.path.isfile(os.path.join(folder, "model.keras"))):
        return None
    with open(results_path, encoding="utf-8") as f:
        results = json.load(f)
    found = {k: results.get("run_info", {}).get(k) for k in expected}
    if found != expected:
        changed = sorted(k for k in expected if found[k] != expected[k])
        raise ValueError(
            f"{folder} holds a teacher fine-tuned with other settings ({changed}: "
            f"{[found[k] for k in changed]}, now {[expected[k] for k in changed]}); use "
            "another output_dir, or delete that folder to fine-tune again.")
    return results


def finetune_teacher(config, task, log=print, verbose=True, chief=True, poll_seconds=10):
    """Fine-tunes the base teacher on the source task into `<output_dir>/teacher`.

    A rerun finds the folder complete (`results.json` is written last) and
    reuses it; a folder fine-tuned with other settings is an error, never
    silently reused. Returns `(folder, dev metrics of the teacher)`.

    A worker of a cluster other than the chief (`chief=False`) does not
    fine-tune: it waits for the chief's teacher to appear in the shared
    `output_dir`, so that every worker distils from the same weights.
    """
    from xtremedistil_tf.tasks import FinetuneConfig, finetune
    from xtremedistil_tf.tasks.init_checkpoint import load_init_checkpoint

    folder = os.path.join(config.output_dir, "teacher")
    expected = _finetune_info(config)
    results = finished_teacher(folder, expected)
    if results is None and not chief:
        log(f"Teacher: waiting for the chief to fine-tune it into {folder}")
        while results is None:
            time.sleep(poll_seconds)
            results = finished_teacher(folder, expected)
    if results is not None:
        log(f"Teacher: reusing the teacher fine-tuned on {config.source_task} in {folder}")
        return folder, results["eval"]
    log(f"Teacher: fine-tuning {config.teacher} on {config.source_task} for "
        f"{config.teacher_finetune_epochs} epoch(s) into {folder}")
    model, tokenizer = load_init_checkpoint(resolve_teacher(config.teacher))
    results = finetune(task, model, tokenizer, FinetuneConfig(
        output_dir=folder, num_train_epochs=config.teacher_finetune_epochs,
        learning_rate=config.teacher_learning_rate, batch_size=config.batch_size,
        seed=config.seed, verbose=2 if verbose else 0), run_info=expected)
    return folder, results["eval"]


def load_task_teacher(path, task, precision="float32"):
    """`(teacher, tokenizer)`: the task model at `path`, checked against `task`'s labels."""
    from xtremedistil_tf.checkpoints import from_hf_task

    try:
        teacher, tokenizer = from_hf_task(resolve_teacher(path),
                                          dtype=None if precision == "float32" else precision)
    except ValueError as error:
        if "head" not in str(error):
            raise
        raise ValueError(
            f"teacher={path!r} has no task head ({error}). Give a model fine-tuned on "
            f"{task.name}, or set teacher_finetune_epochs >= 1 to fine-tune it first.") from None
    teacher.trainable = False
    # Fixes the task's label set (GLUE's is fixed already; user data takes the teacher's).
    task.prepare([], model=teacher)
    if not task.accepts_model(teacher):
        raise ValueError(
            f"The teacher {path!r} does not fit source_task={task.name!r}: its head has "
            f"labels {getattr(teacher, 'label_names', None)} (problem type "
            f"{getattr(teacher, 'problem_type', None)}), the task "
            f"{getattr(task, 'label_names', None)}. Give a teacher fine-tuned on this task.")
    return teacher, tokenizer


def score(task, model, examples, features, batch_size, pad_token_id):
    """The task's dev metrics of `model` (e.g. accuracy, F1, Pearson)."""
    outputs = task.predict(model, features, batch_size, pad_token_id, verbose=0)
    metrics, _ = task.evaluate(examples, features, outputs)
    return {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))}
