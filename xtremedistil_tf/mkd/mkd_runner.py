"""An MKD run: teachers (per task or one multi-task), one multi-task student, a
task-agnostic encoder."""
import functools
import os
import time

import keras
import numpy as np
import tensorflow as tf

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.distill.distill_data import pad_features
from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.distill.stage_config import StageConfig, parse_losses
from xtremedistil_tf.distill.stage_runner import StageRunner, phase_seed
from xtremedistil_tf.distill.step_data import ExampleSource
from xtremedistil_tf.distill.student_builder import resolve_teacher
from xtremedistil_tf.distill.task_mixture import TaskMixture
from xtremedistil_tf.distill.task_teacher import finished_teacher
from xtremedistil_tf.distill.teacher_cache import TeacherCache, fingerprint_variables
from xtremedistil_tf.etd.student_init import init_student
from xtremedistil_tf.mkd.encoder_export import save_encoder
from xtremedistil_tf.mkd.multi_task_distiller import MultiTaskDistiller
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel
from xtremedistil_tf.mkd.multi_task_teacher import (
    finetune_multi_task_teacher, num_outputs, save_multi_task_teacher, teacher_run_info)
from xtremedistil_tf.mkd.task_sampler import TaskSampler
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent
from xtremedistil_tf.models.encoder_config import get_preset
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, finetune, get_task
from xtremedistil_tf.tasks.classification_task import ClassificationTask
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer
from xtremedistil_tf.training.checkpoint_manager import CheckpointManager
from xtremedistil_tf.training.strategy import build_strategy, is_chief, set_precision
from xtremedistil_tf.utils.atomic_io import atomic_path, write_json, write_text


def _log(config, message):
    if config.verbose:
        print(message, flush=True)


def _dev_scores(tasks, dev_examples, model_for, tokenizer, pad_id):
    """Dev metrics per task of `model_for(task name)`."""
    out = {}
    for name, task in tasks.items():
        features = task.build_features(dev_examples[name], tokenizer, training=False)
        outputs = task.predict(model_for(name), features, pad_token_id=pad_id, verbose=0)
        out[name], _ = task.evaluate(dev_examples[name], features, outputs)
    return out


def _multi_task_teacher(config, tasks, train_examples, dev_examples, tokenizer, pad_id,
                        strategy, chief):
    """The given multi-task teacher, or one fine-tuned now (or earlier, and reused)."""
    if config.multi_task_teacher:
        with strategy.scope():
            teacher = keras.models.load_model(config.multi_task_teacher)
        if not isinstance(teacher, MultiTaskModel):
            raise ValueError(f"multi_task_teacher {config.multi_task_teacher!r} holds a "
                             f"{type(teacher).__name__}, not a MultiTaskModel.")
        return teacher, {}
    labelled = [{}, {}]
    for name, task in tasks.items():
        for part, examples in zip(labelled, (train_examples[name], dev_examples[name])):
            _, part[name] = _source(task, examples, tokenizer, config, pad_id,
                                    np.arange(len(examples)), None, (), True)
    heads = {name: num_outputs(task) for name, task in tasks.items()}
    teacher, info = finetune_multi_task_teacher(
        config, heads, *labelled, strategy, chief=chief, log=functools.partial(_log, config),
        verbose=bool(config.verbose))
    if info["reused"]:
        return teacher, info["eval"]
    split = {name: task.eval_splits[0] for name, task in tasks.items()}
    scores = _dev_scores(tasks, dev_examples, teacher.for_task, tokenizer, pad_id)
    evals = {name: {split[name]: metrics} for name, metrics in scores.items()}
    if chief:
        save_multi_task_teacher(teacher, info, evals, teacher_run_info(config))
    return teacher, evals


def _load_teachers(config, tasks, train_examples, tokenizer):
    """A dict task -> teacher with `logits`; each missing one fine-tuned into
    `<output_dir>/teachers/<task>`, or reused from there on rerun."""
    teachers, evals = {}, {}
    given = dict(config.teacher_checkpoints)
    for name, task in tasks.items():
        if name in given:
            teachers[name] = keras.models.load_model(given[name])
            continue
        if not config.teacher_finetune_epochs:
            raise ValueError(f"No teacher for task {name!r}: give it in teacher_checkpoints "
                             "or set teacher_finetune_epochs >= 1 to fine-tune one.")
        folder = os.path.join(config.output_dir, "teachers", name)
        expected = {"teacher": config.teacher, "source_task": name,
                    "epochs": config.teacher_finetune_epochs,
                    "learning_rate": config.teacher_learning_rate,
                    "batch_size": config.batch_size,
                    "max_train_samples": config.max_train_samples,
                    "max_seq_length": config.max_seq_length, "seed": config.seed}
        done = finished_teacher(folder, expected)
        if done is not None:
            _log(config, f"Reusing the teacher of {name} fine-tuned in {folder}")
            teachers[name] = keras.models.load_model(os.path.join(folder, "model.keras"))
            evals[name] = done["eval"]
            continue
        _log(config, f"Fine-tuning the teacher of {name} ...")
        encoder, _ = from_hf(resolve_teacher(config.teacher), load_tokenizer=False)
        tuned = finetune(task, encoder, tokenizer, FinetuneConfig(
            output_dir=folder, num_train_epochs=config.teacher_finetune_epochs,
            learning_rate=config.teacher_learning_rate,
            batch_size=config.batch_size, seed=config.seed, verbose=config.verbose),
            run_info=expected)
        teachers[name] = tuned["model"]
        evals[name] = tuned["eval"]
    for name, teacher in teachers.items():
        if not isinstance(teacher, SequenceClassifier):
            raise ValueError(f"The teacher of {name!r} is a {type(teacher).__name__}; MKD "
                             "distils classification or regression teachers only.")
    return teachers, evals


def _student_config(config, teacher_config):
    """The transformer student's `EncoderConfig`: the preset's shape on the teacher's vocabulary."""
    t = teacher_config
    fields = {"vocab_size": t.vocab_size, "type_vocab_size": t.type_vocab_size,
              "pad_token_id": t.pad_token_id, "model_type": t.model_type,
              "hidden_act": t.hidden_act}
    fields.update(dict(config.student_overrides))
    return get_preset(config.student, **fields)


def _build_encoder(config, teachers, task, examples, tokenizer, base_config):
    """`(encoder, init info)`: a BiLSTM, or a transformer initialised from the first task's
    teacher as `config.student_init` says."""
    pad_id = base_config.pad_token_id
    if config.student_type == "bilstm":
        encoder = BiLSTMStudent(base_config.vocab_size, config.bilstm_embedding_size,
                                config.bilstm_hidden_size, pad_token_id=pad_id, name="encoder")
        return encoder, {"method": "random"}
    teacher = (teachers.for_task(task.name) if isinstance(teachers, MultiTaskModel)
               else teachers[task.name])
    features = task.build_features(examples, tokenizer, False)
    arrays = pad_features(features.inputs, config.max_seq_length, pad_id)
    size = config.batch_size
    batches = [({k: v[i:i + size] for k, v in arrays.items()}, features.labels[i:i + size])
               for i in range(0, len(features), size)]
    return init_student(config.student_init, _student_config(config, base_config),
                        teacher=teacher, batches=batches[:config.student_init.importance_batches])


def _num_outputs(teachers, name):
    if isinstance(teachers, MultiTaskModel):
        return teachers.tasks[name]
    return teachers[name].num_labels


def _source(task, examples, tokenizer, config, pad_id, ids, cache, keys, with_labels):
    features = task.build_features(examples, tokenizer, training=False)
    arrays = pad_features(features.inputs, config.max_seq_length, pad_id)
    labels = features.labels if with_labels else None
    return arrays, ExampleSource(arrays, ids, labels, cache, keys)


def _task_sources(config, mkd, tasks, train_examples, all_dev_examples, tokenizer, pad_id,
                  log):
    """Per task: a training and a dev `ExampleSource`, teacher logits cached once."""
    train, dev = {}, {}
    with_labels = mkd.needs_labels
    for name, task in tasks.items():
        dev_examples = all_dev_examples[name]
        num_train, num_dev = len(train_examples[name]), len(dev_examples)
        cache, keys = None, ()
        if config.teacher_cache == "outputs":
            distiller = mkd.distillers[name]
            keys = distiller.teacher_keys
            inputs = [pad_features(task.build_features(ex, tokenizer, training=False).inputs,
                                   config.max_seq_length, pad_id)
                      for ex in (train_examples[name], dev_examples)]
            inputs = {k: np.concatenate([part[k] for part in inputs]) for k in inputs[0]}
            cache = TeacherCache.build(
                os.path.join(config.output_dir, "teacher_cache", name),
                functools.partial(distiller.teacher_targets, keys=keys), inputs, keys,
                fingerprint_variables(distiller.teacher.weights), log=log)
        _, train[name] = _source(task, train_examples[name], tokenizer, config, pad_id,
                                 np.arange(num_train), cache, keys, with_labels)
        _, dev[name] = _source(task, dev_examples, tokenizer, config, pad_id,
                               np.arange(num_train, num_train + num_dev), cache, keys,
                               with_labels)
    return train, dev


def run_mkd(config, flags_text=None):
    """Runs multi-task distillation as `config` (an `MKDConfig`) says.

    Training runs through `StageRunner` (checkpoints, resume, TensorBoard,
    NaN stops, dev selection) with a `TaskMixture` as its data. Returns the
    results dict also written to `<output_dir>/metrics.json`; the shared
    encoder is saved as `encoder.keras` (and `encoder_hf/` for a transformer),
    the whole student as `multi_task_student.keras`. Rerun to resume.
    """
    config = config.validate()
    start = time.time()
    keras.utils.set_random_seed(config.seed)
    set_precision(config.precision)
    strategy = build_strategy(config.strategy, config.tpu)
    chief = is_chief(strategy)
    out = config.output_dir
    if chief:
        tf.io.gfile.makedirs(out)  # any gfile path, e.g. gs://
    log = (lambda message: print(message, flush=True)) if config.verbose else (lambda _: None)
    base_encoder, tokenizer = from_hf(resolve_teacher(config.teacher))
    task_config = TaskConfig(data_dir=config.data_dir, data_source=config.data_source,
                             max_seq_length=config.max_seq_length,
                             max_train_samples=config.max_train_samples,
                             max_eval_samples=config.max_eval_samples, seed=config.seed)
    tasks, train_examples, dev_examples = {}, {}, {}
    for name in config.tasks:
        task = get_task(name, task_config)
        if not isinstance(task, ClassificationTask):
            raise ValueError(f"Task {name!r} is a {type(task).__name__}; MKD distils "
                             "classification and regression tasks (GLUE, text_classification).")
        train_examples[name] = task.subsample(task.load_examples("train"), "train")
        task.prepare(train_examples[name])
        split = task.eval_splits[0]
        dev_examples[name] = task.subsample(task.load_examples(split), split)
        tasks[name] = task
    task_tokenizer = TaskTokenizer(tokenizer)
    pad_id = base_encoder.config.pad_token_id
    first = config.tasks[0]
    losses = dict(parse_losses(config.losses, "losses"))
    if config.teacher_mode == "multi_task":  # trained on the step loop, in its own scope
        teachers, teacher_evals = _multi_task_teacher(
            config, tasks, train_examples, dev_examples, task_tokenizer, pad_id, strategy, chief)
    with strategy.scope():
        if config.teacher_mode == "per_task":
            teachers, teacher_evals = _load_teachers(config, tasks, train_examples, tokenizer)
        encoder, init_info = _build_encoder(config, teachers, tasks[first],
                                            train_examples[first], task_tokenizer,
                                            base_encoder.config)
        student = MultiTaskModel(encoder, {n: _num_outputs(teachers, n) for n in config.tasks},
                                 name="multi_task_student")
        mkd = MultiTaskDistiller(student, teachers, losses=losses,
                                 loss_settings=LossSettings(temperature=config.temperature),
                                 global_clipnorm=config.global_clipnorm or None)
    train, dev = _task_sources(config, mkd, tasks, train_examples, dev_examples,
                               task_tokenizer, pad_id, log)

    def write_run_files():
        # With the first checkpoint: a run failing before it leaves an earlier run's files.
        if flags_text is not None:
            write_text(os.path.join(out, "flags.cfg"), flags_text)
        write_json(os.path.join(out, "config.json"), config.to_dict())

    stage = StageConfig("mkd", tuple(losses.items()), max_steps=config.max_steps,
                        learning_rate=config.learning_rate, warmup_ratio=config.warmup_ratio,
                        unfreeze=config.unfreeze, eval_every=config.eval_every,
                        patience=config.patience).validate()
    mixture = TaskMixture(train, tau=config.tau)
    sizes = {name: len(source) for name, source in train.items()}
    log(f"MKD over {sizes} with task probabilities "
        f"{TaskSampler(sizes, tau=config.tau).probabilities}")
    checkpoints = CheckpointManager(os.path.join(out, "checkpoint"), is_chief=chief)
    state = checkpoints.read_state() if checkpoints.exists() else None
    writer = tf.summary.create_file_writer(os.path.join(out, "logs")) if chief else None
    runner = StageRunner(mkd, strategy, checkpoints, config.checkpoint_every, writer=writer,
                         is_chief=chief,
                         log_every=config.log_every, verbose=bool(config.verbose),
                         on_save=write_run_files)
    if state is not None and state["done"]:
        with strategy.scope():
            mkd.set_losses(losses)
        checkpoints.restore({"model": runner.model_variables()})
        history = state["history"]
        log(f"MKD: already done in {checkpoints.folder}; re-exporting")
    else:
        if state is not None:
            log(f"MKD: resuming at step {state['step']}")
        history = runner.run(stage, 0, mixture, dev, config.batch_size, config.seed, state)

    task_steps = {}
    for record in history["phases"]:
        counts = mixture.counts(phase_seed(config.seed, 0, record["phase"] - 1),
                                record["last_step"])
        for name, count in counts.items():
            task_steps[name] = task_steps.get(name, 0) + count
    results = {"tasks": list(config.tasks), "teacher_mode": config.teacher_mode,
               "task_sizes": sizes,
               "task_probabilities": TaskSampler(sizes, tau=config.tau).probabilities,
               "task_steps": task_steps, "student_init": init_info,
               "train_seconds": round(history["seconds"], 1), "teacher_eval": teacher_evals,
               "stage": history,
               "student_eval": _dev_scores(tasks, dev_examples, student.for_task,
                                           task_tokenizer, pad_id)}

    results["outputs"] = paths = {}
    if chief:  # one writer under multi-worker training
        write_run_files()
        paths.update(save_encoder(encoder, tokenizer, out, name="encoder"))
        with atomic_path(os.path.join(out, "multi_task_student.keras")) as tmp:
            student.save(tmp)
        paths["multi_task_student"] = os.path.join(out, "multi_task_student.keras")
    results["wall_time_seconds"] = round(time.time() - start, 1)
    if chief:
        write_json(os.path.join(out, "metrics.json"), results)
    log("\n".join([
        "=" * 30 + " MKD summary " + "=" * 30,
        f"Tasks and steps: {task_steps} (tau={config.tau})",
        f"Dev loss (mean over tasks): {history.get('start_dev_loss')} at the start -> "
        f"{history.get('best_dev_loss')} (best weights kept)",
        f"Student ({config.student_type}, init {init_info['method']}) on dev: "
        f"{results['student_eval']}",
        f"Teachers ({config.teacher_mode}) on dev: {teacher_evals or 'given'}",
        f"Task-agnostic encoder: {paths}",
        f"Wall time: {results['wall_time_seconds']}s"]))
    return results
