"""Task transfer (XtremeDistilTransformers): a source-task teacher teaches a student
over a transfer set, and the student's encoder becomes a task-agnostic checkpoint."""
import os
import time

import keras
import numpy as np

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.distill.student_builder import resolve_teacher
from xtremedistil_tf.distill.transfer_data import load_transfer_texts
from xtremedistil_tf.etd.extract import extract_head
from xtremedistil_tf.etd.student_init import init_student
from xtremedistil_tf.etd.width_selection import WidthSelection
from xtremedistil_tf.mkd.encoder_export import save_encoder
from xtremedistil_tf.mkd.task_transfer_config import parse_losses
from xtremedistil_tf.mkd.transfer_set import augmentation_examples, is_pairwise, unlabelled
from xtremedistil_tf.models.encoder_config import get_preset
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, finetune, get_task
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer
from xtremedistil_tf.training.optimization import create_optimizer
from xtremedistil_tf.utils.atomic_io import atomic_path, write_json


def student_config_for(config, teacher_encoder_config):
    """The student's `EncoderConfig`: the preset's shape on the teacher's vocabulary."""
    t = teacher_encoder_config
    fields = {"vocab_size": t.vocab_size, "type_vocab_size": t.type_vocab_size,
              "pad_token_id": t.pad_token_id, "model_type": t.model_type,
              "hidden_act": t.hidden_act}
    fields.update(dict(config.student_overrides))
    return get_preset(config.student, **fields)


def build_transfer_set(task, config, tokenizer):
    """Source-task inputs plus augmentation inputs, all unlabelled, as `Features`.

    Returns `(train_features, dev_features, counts)`; the dev features are the
    source task's dev inputs, on which the distillation loss is tracked.
    """
    source = task.subsample(task.load_examples("train"), "train")
    extra = []
    if config.augmentation_examples:
        texts = load_transfer_texts(config.augmentation_data).texts
        extra = augmentation_examples(texts, config.augmentation_examples,
                                      pairwise=is_pairwise(source), seed=config.seed)
    train = task.build_features(unlabelled(source) + extra, tokenizer, training=False)
    dev_split = task.eval_splits[0]
    dev_examples = task.subsample(task.load_examples(dev_split), dev_split)
    dev = task.build_features(unlabelled(dev_examples), tokenizer, training=False)
    counts = {"source_examples": len(source), "augmentation_examples": len(extra),
              "pairwise": is_pairwise(source), "dev_examples": len(dev_examples)}
    return train, dev, counts


def distill_with_curve(teacher, student, train_dataset, dev_dataset, losses, loss_settings,
                       steps, learning_rate, warmup_steps=0, eval_every=50, verbose=0):
    """Distils `teacher` into `student` for `steps`, scoring the dev loss on the way.

    Returns a dict with `curve` (a list of `(step, dev_loss)`, step 0 first),
    `curve_parts` (the dev losses by name at the same steps), `train_loss`
    (mean per `eval_every` steps) and `seconds` of training.
    """
    distiller = Distiller(teacher=teacher, student=student, losses=losses,
                          loss_settings=loss_settings)
    distiller.compile(optimizer=create_optimizer(learning_rate, steps, warmup_steps))
    curve, parts = [], []

    def score(step):
        logs = distiller.evaluate(dev_dataset, verbose=0, return_dict=True)
        curve.append((step, float(logs["loss"])))
        parts.append({k: float(v) for k, v in logs.items()})

    score(0)
    history = {"curve": curve, "curve_parts": parts, "train_loss": []}
    start, done = time.time(), 0
    while done < steps:
        chunk = min(eval_every, steps - done)
        fit = distiller.fit(train_dataset, steps_per_epoch=chunk, epochs=1, verbose=verbose,
                            shuffle=False)
        done += chunk
        history["train_loss"].append((done, float(fit.history["loss"][-1])))
        score(done)
    history["seconds"] = time.time() - start
    return history


def steps_to_reach(curve, target):
    """First step of `curve` whose loss is at most `target`, or None."""
    for step, loss in curve:
        if loss <= target:
            return step
    return None


def _log(config, message):
    if config.verbose:
        print(message, flush=True)


def run_task_transfer(config):
    """Runs the recipe that `config` (a `TaskTransferConfig`) describes.

    1. Fine-tunes the base teacher on the source task (or loads a fine-tuned one).
    2. Builds the transfer set: source inputs plus augmentation text, made
       into sentence pairs for a pairwise task; the teacher labels all of it
       softly during distillation (the teacher runs on every batch).
    3. Initialises the student (`student_init`) and distils with the named
       losses through the `Distiller`.
    4. Saves the student's encoder without its head as `student.keras` and
       `student_hf/` (with the tokenizer), ready for `run_finetune.py`.

    Returns the results dict also written to `<output_dir>/metrics.json`.
    """
    config = config.validate()
    start = time.time()
    keras.utils.set_random_seed(config.seed)
    out = config.output_dir
    os.makedirs(out, exist_ok=True)
    write_json(os.path.join(out, "config.json"), config.to_dict())
    base_encoder, tokenizer = from_hf(resolve_teacher(config.teacher))
    task = get_task(config.source_task, TaskConfig(
        data_dir=config.data_dir, data_source=config.data_source,
        max_seq_length=config.max_seq_length, max_train_samples=config.max_train_samples,
        max_eval_samples=config.max_eval_samples, seed=config.seed))
    results = {"source_task": config.source_task}

    # 1. The teacher.
    t0 = time.time()
    if config.teacher_checkpoint:
        teacher = keras.models.load_model(config.teacher_checkpoint)
        task.prepare([], model=teacher)
    else:
        _log(config, f"Fine-tuning the teacher on {config.source_task} ...")
        tuned = finetune(task, base_encoder, tokenizer, FinetuneConfig(
            output_dir=os.path.join(out, "teacher"), epochs=config.teacher_epochs,
            learning_rate=config.teacher_learning_rate, batch_size=config.batch_size,
            seed=config.seed, verbose=config.verbose))
        teacher = tuned["model"]
        results["teacher_eval"] = tuned["eval"]
    if not isinstance(teacher, SequenceClassifier):
        raise ValueError(f"Task transfer needs a classification teacher; {config.source_task!r} "
                         f"gave a {type(teacher).__name__}. Use a GLUE-style source task.")
    results["teacher_seconds"] = round(time.time() - t0, 1)

    # 2. The transfer set.
    task_tokenizer = TaskTokenizer(tokenizer)
    train_features, dev_features, counts = build_transfer_set(task, config, task_tokenizer)
    results["transfer_set"] = counts
    pad_id = teacher.encoder.config.pad_token_id
    train_ds = task.build_dataset(train_features, config.batch_size, pad_id, shuffle=True,
                                  seed=config.seed, with_labels=False).repeat()
    dev_ds = task.build_dataset(dev_features, config.batch_size, pad_id, with_labels=False)

    # 3. The student.
    student_config = student_config_for(config, teacher.encoder.config)
    encoder, init_info = init_student(config.student_init, student_config, teacher=teacher,
                                      batches=train_ds.take(config.student_init.importance_batches))
    student = SequenceClassifier(encoder, teacher.num_labels, label_names=teacher.label_names,
                                 problem_type=teacher.problem_type, name="student_classifier")
    student.build()
    if "selection" in init_info:
        # ETD extracts the head too: the student starts as a slice of the whole teacher.
        extract_head(teacher.classifier, student.classifier,
                     WidthSelection(**init_info["selection"]))
    results["student_init"] = init_info
    _log(config, f"Distilling into a {student_config.num_hidden_layers}-layer, "
                 f"{student_config.hidden_size}-wide student ({config.student_init.method}) "
                 f"for {config.distill_steps} steps on {len(train_features)} transfer inputs ...")
    settings = LossSettings(layer_map=config.layer_map, temperature=config.temperature)
    warmup = int(config.distill_steps * config.warmup_proportion)
    history = distill_with_curve(
        teacher, student, train_ds, dev_ds, parse_losses(config.losses), settings,
        config.distill_steps, config.learning_rate, warmup, config.eval_every,
        verbose=1 if config.verbose else 0)
    results["distill_curve"] = history["curve"]
    results["distill_seconds"] = round(history["seconds"], 1)

    # How well the distilled student (with its head) does on the source task itself.
    dev_split = task.eval_splits[0]
    dev_examples = task.subsample(task.load_examples(dev_split), dev_split)
    labelled_dev = task.build_features(dev_examples, task_tokenizer, training=False)
    outputs = task.predict(student, labelled_dev, pad_token_id=pad_id, verbose=0)
    results["student_source_eval"], _ = task.evaluate(dev_examples, labelled_dev, outputs)

    # 4. The task-agnostic checkpoint, and the student with its source head.
    paths = save_encoder(encoder, tokenizer, out, name="student")
    with atomic_path(os.path.join(out, "student_source_task.keras")) as tmp:
        student.save(tmp)
    paths["source_task_model"] = os.path.join(out, "student_source_task.keras")
    results["outputs"] = paths
    results["parameters"] = {"teacher": teacher.encoder.count_params(),
                             "student": encoder.count_params()}
    results["wall_time_seconds"] = round(time.time() - start, 1)
    write_json(os.path.join(out, "metrics.json"), results)
    _log(config, summarize(results))
    return results


def summarize(results):
    curve = results["distill_curve"]
    params = results["parameters"]
    lines = ["=" * 28 + " task-transfer summary " + "=" * 28,
             f"Source task: {results['source_task']}; transfer set {results['transfer_set']}",
             f"Teacher dev: {results.get('teacher_eval', 'given fine-tuned')}",
             f"Student init: {results['student_init']['method']}; parameters "
             f"{params['student'] / 1e6:.2f}M vs teacher {params['teacher'] / 1e6:.2f}M",
             f"Distillation dev loss: {curve[0][1]:.4f} at step 0 -> {curve[-1][1]:.4f} at "
             f"step {curve[-1][0]} ({results['distill_seconds']}s)",
             f"Student on the source task's dev set: {results['student_source_eval']}",
             f"Task-agnostic checkpoint: {results['outputs']['hf']} and "
             f"{results['outputs']['keras']} (fine-tune it with run_scripts/run_finetune.py "
             "--init_checkpoint=...)",
             f"Wall time: {results['wall_time_seconds']}s"]
    if not np.isfinite(curve[-1][1]):
        lines.append("WARNING: the distillation loss is NaN; lower the learning rate.")
    return "\n".join(lines)
