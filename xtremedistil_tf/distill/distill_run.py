"""A whole distillation run: load, split, cache, run the stages, export, report."""
import dataclasses
import functools
import os
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from xtremedistil_tf.distill import agreement
from xtremedistil_tf.distill.distill_data import (
    agnostic_data, has_pairs, task_data, with_pair_data)
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.output_spec import is_token_level
from xtremedistil_tf.distill.run_reports import Reporter, combine, write_report_scalars
from xtremedistil_tf.distill.run_summary import format_summary
from xtremedistil_tf.distill.stage_runner import StageRunner
from xtremedistil_tf.distill.step_data import ExampleSource
from xtremedistil_tf.distill.student_builder import (
    build_student, encoder_of, load_teacher, random_twin)
from xtremedistil_tf.distill.teacher_cache import TeacherCache, fingerprint_variables
from xtremedistil_tf.evaluation.quality import choose_shipped
from xtremedistil_tf.models import PRESETS
from xtremedistil_tf.training.checkpoint_manager import CheckpointManager
from xtremedistil_tf.training.strategy import build_strategy, is_chief, set_precision
from xtremedistil_tf.utils.atomic_io import atomic_path, write_json, write_text


def _stage_needs(distiller, config):
    """Per stage: `(teacher keys its terms read, whether it needs labels, whether its
    terms all read pairs only)`."""
    needs = []
    for stage in config.stages:
        distiller.set_losses(dict(stage.losses))
        needs.append((distiller.teacher_keys, distiller.needs_labels, distiller.pairs_only))
    return needs


def _stage_rows(data, needs_labels, pairs_only):
    """`(group, train rows, dev rows)` of a stage: the `pair_data` rows for a stage of
    pair losses when there are any, else the transfer rows (the labelled ones for a label
    loss). `group` names the teacher cache the rows are in."""
    if pairs_only and len(data.pair_train):
        return "pairs", data.pair_train, data.pair_dev
    return "transfer", data.labelled if needs_labels else data.train, data.dev


def _group_rows(data, group):
    """The rows of one teacher-cache group, in order: it indexes them from 0."""
    total = len(data.inputs["input_ids"])
    if group == "pairs":
        return np.arange(data.num_transfer_rows, total)
    return np.arange(data.num_transfer_rows)


def _cached_keys(config, needs):
    if config.teacher_cache == "none":
        return [set() for _ in needs]
    out = []
    for stage_keys, *_ in needs:
        if config.teacher_cache == "outputs" and any(is_token_level(k) for k in stage_keys):
            out.append(set())  # this stage runs the teacher live
        else:
            out.append(set(stage_keys))
    return out


def _load(config, strategy, log, verbose):
    """`(teacher, tokenizer, data, reporter source or None, teacher info)`."""
    if not config.source_task:
        with strategy.scope():
            teacher, tokenizer = load_teacher(config.teacher, config.precision)
        return teacher, tokenizer, agnostic_data(config, tokenizer, log), None, {}
    from xtremedistil_tf.distill.task_teacher import (
        finetune_teacher, load_task_teacher, source_task)

    task = source_task(config)
    path, info = config.teacher, {"teacher": config.teacher}
    if config.teacher_finetune_epochs:
        path, finetune_eval = finetune_teacher(config, task, log, verbose,
                                               chief=is_chief(strategy))
        info = {"teacher": config.teacher, "fine_tuned": path, "finetune_eval": finetune_eval}
    with strategy.scope():
        teacher, tokenizer = load_task_teacher(path, task, config.precision)
    if getattr(teacher, "problem_type", None) == "regression":
        for stage in config.stages:
            if any(name == "logits_kl" for name, _ in stage.losses):
                raise ValueError(
                    f"source_task={config.source_task!r} is a regression task with one output, "
                    f"which has no distribution for logits_kl (stage {stage.name!r}); use "
                    "logits_mse.")
    pad_id = encoder_of(teacher).config.pad_token_id
    data, dev_examples, dev_features = task_data(config, task, tokenizer, pad_id, log)
    source = (task, dev_examples, dev_features, max(config.batch_size, 64), pad_id)
    return teacher, tokenizer, data, source, info


def _importance_batches(data, config):
    rows = data.labelled if len(data.labelled) else data.train
    rows = rows[:config.importance_batches * config.batch_size]
    batches = []
    for i in range(0, len(rows), config.batch_size):
        part = rows[i:i + config.batch_size]
        inputs = data.subset(part)
        batches.append((inputs, data.labels[part]) if len(data.labelled) else inputs)
    return batches


def _extra_importance_batches(config, tokenizer, log):
    """`_importance_batches` of each text in `config.importance_extra_data`, split as the
    transfer data is (same seed and sizes), so its first training rows are scored."""
    reads_batches = config.student_init == "etd_impt" or (
        config.student_init == "etd_rand" and config.etd_refit)
    if not (config.importance_extra_data and config.student in PRESETS and reads_batches):
        return []
    loaded = {}  # a text listed twice is loaded once and given twice (twice the say)
    for text in config.importance_extra_data:
        if text not in loaded:
            extra = dataclasses.replace(config, transfer_data=text)
            loaded[text] = _importance_batches(agnostic_data(extra, tokenizer, log), extra)
    return [loaded[text] for text in config.importance_extra_data]


def run_distillation(config, flags_text=None, log=print, verbose=True, on_evaluate=None):
    """Runs `config` (a `DistillConfig`) end to end; returns the metrics dict.

    `on_evaluate(student, stage_name, phase, step, total_step)`, if given, is
    called after every dev evaluation (see `StageRunner`).

    Rerunning the same config after a crash resumes from the last checkpoint in
    `<output_dir>/checkpoint`.
    """
    config.validate()
    started = time.time()
    keras.utils.set_random_seed(config.seed)
    set_precision(config.precision)
    strategy = build_strategy(config.strategy, config.tpu)
    chief = is_chief(strategy)
    out = config.output_dir
    # Only the chief writes into `out`; another worker writes what it must (a
    # teacher cache the chief has not finished) into a folder of its own.
    scratch = None if chief else tempfile.TemporaryDirectory(prefix="xtremedistil_worker_")
    if chief:
        tf.io.gfile.makedirs(out)  # any gfile path, e.g. gs://

    teacher, tokenizer, data, source, teacher_info = _load(config, strategy, log, verbose)
    if config.pair_data:
        data = with_pair_data(data, config, tokenizer, log)
    log(f"Splits: {len(data.train)} train ({len(data.labelled)} labelled), {len(data.dev)} "
        f"dev, {len(data.heldout)} held-out"
        + (f"; pairs {len(data.pair_train)} train, {len(data.pair_dev)} dev"
           if config.pair_data else ""))
    with strategy.scope():
        student, init_info = build_student(
            config, teacher, tokenizer, _importance_batches(data, config),
            _extra_importance_batches(config, tokenizer, log))
        if "not_applied" in init_info:
            log(f"Note: {init_info['not_applied']}")
        distiller = Distiller(teacher=teacher, student=student,
                              losses=dict(config.stages[0].losses),
                              loss_settings=config.loss_settings,
                              global_clipnorm=config.global_clipnorm or None)
        needs = _stage_needs(distiller, config)
    # Rebuilt the same way on resume, so the student is still the start here.
    if config.save_start and chief:
        _save_start(student, tokenizer, out, _declared_pooling(config.teacher))
    choose = bool(config.quality.tasks) and config.select_on_eval_tasks
    start_weights = [w.numpy() for w in student.weights] if choose else None
    rows = [_stage_rows(data, needs_labels, pairs_only) for _, needs_labels, pairs_only in needs]
    for stage, (_, needs_labels, _), (_, train_rows, _) in zip(config.stages, needs, rows):
        if needs_labels and not len(data.labelled):
            raise ValueError(
                f"Stage {stage.name!r} uses a label loss but the training data has no labels; "
                "set source_task, use a .tsv with a label column, or drop the loss.")
        if any(name == "pair_score" for name, _ in stage.losses) and not has_pairs(
                data, train_rows):
            raise ValueError(
                f"Stage {stage.name!r} uses pair_score, which reads text pairs, but its "
                "training rows hold single texts; give --pair_data=builtin:wikipedia_graded_pairs "
                "(or a .tsv of two columns), or drop the loss.")

    def write_run_files():
        # Written with the first checkpoint, so that a run failing before it has
        # anything to resume (bad inputs, a NaN at once) leaves an earlier run's files.
        if flags_text is not None:
            write_text(os.path.join(out, "flags.cfg"), flags_text)
        write_json(os.path.join(out, "config.json"), config.to_dict())
    cached = _cached_keys(config, needs)
    # One cache per group of rows (the transfer text; the pair data), holding the keys of
    # the stages that read that group, so no teacher pass is spent on rows no stage reads.
    caches = {}
    for group in dict.fromkeys(group for group, _, _ in rows):
        keys = sorted(set().union(*(keys for keys, (g, _, _) in zip(cached, rows) if g == group)))
        if keys:
            group_rows = _group_rows(data, group)
            caches[group] = (TeacherCache.build(
                config.teacher_cache_dir or os.path.join(out, "teacher_cache"),
                functools.partial(distiller.teacher_targets, keys=keys), data.subset(group_rows),
                keys,
                fingerprint_variables(teacher.weights), config.teacher_cache_dtype, log=log,
                scratch_root=scratch.name if scratch is not None else None), group_rows[0])

    # Every worker reads the shared folder; only the chief's saves land in it.
    checkpoints = CheckpointManager(os.path.join(out, "checkpoint"), is_chief=chief)
    state = checkpoints.read_state() if checkpoints.exists() else None
    quality = (config.quality, tokenizer) if config.quality.tasks else None
    reporter = Reporter(teacher, data, config.loss_settings.pooling, source, quality)
    if state is not None and "start_report" in state:
        start_report = state["start_report"]
    else:
        # Before any step, so that it is the true starting point; kept in every checkpoint.
        log("Scoring the teacher and the student's starting point ...")
        start_report = {"student": reporter(student), "teacher": reporter.teacher_report()}
    writer = tf.summary.create_file_writer(os.path.join(out, "logs")) if chief else None
    runner = StageRunner(distiller, strategy, checkpoints, config.checkpoint_every,
                         config.jit_compile, writer, config.log_every, verbose, chief,
                         on_save=write_run_files, on_evaluate=on_evaluate)
    stage_metrics = state.get("stage_metrics", {}) if state is not None else {}
    for index, stage in enumerate(config.stages):
        done_before = state is not None and (
            index < state["stage_index"] or (index == state["stage_index"] and state["done"]))
        if done_before:
            with strategy.scope():
                distiller.set_losses(dict(stage.losses))
            if index == state["stage_index"]:
                checkpoints.restore({"model": runner.model_variables()})
            log(f"Stage {stage.name!r}: already done in {checkpoints.folder}, skipped")
            continue
        resume = state if state is not None and index == state["stage_index"] else None
        if resume is not None:
            log(f"Stage {stage.name!r}: resuming at phase {resume.get('phase', 0) + 1}, "
                f"step {resume['step']}")
        needs_labels = needs[index][1]
        group, train_rows, dev_rows = rows[index]
        log(f"Stage {stage.name!r}: losses {dict(stage.losses)}"
            + (" on the labelled rows" if needs_labels else "")
            + (" on the pair data" if group == "pairs" else ""))
        cache, first_row = caches.get(group, (None, 0))

        def source_of(rows, keys=cached[index], with_labels=needs_labels):
            labels = data.labels[rows] if with_labels else None
            # A group's cache numbers its rows from 0; its rows are contiguous.
            return ExampleSource(data.subset(rows), rows - first_row, labels, cache, keys)

        runner.extra_state = {"stage_metrics": stage_metrics, "start_report": start_report}
        history = runner.run(stage, index, source_of(train_rows),
                             source_of(dev_rows) if len(dev_rows) else None,
                             config.batch_size, config.seed, resume)
        history["teacher"] = ("cache" if cached[index] else "live") if needs[index][0] \
            else "unused"
        if group == "pairs":
            history["rows"] = "pair_data"
        stage_metrics[stage.name] = history
        # Every worker saves, as in the stage loop (saving may need them all); the
        # state of this worker's own last save, which the chief's may not yet be.
        state_now = dict(checkpoints.last_state)
        state_now["stage_metrics"] = stage_metrics
        checkpoints.save(state_now, {"model": runner.model_variables()})
        state = None

    if chief:
        write_run_files()
    projection = next((p for name, p in distiller.projections.items()
                       if name.startswith("projection_pooled_")), None)
    with strategy.scope():
        twin = random_twin(student, config.seed + 1)
    reports = {"start": start_report["student"], "distilled": reporter(student, projection),
               "random": reporter(twin)}
    if start_report["teacher"]:
        reports["teacher"] = start_report["teacher"]
    shipped = None
    if choose:
        # Real tasks, not the transfer text's dev loss, decide what ships; the
        # distilled weights stay in the checkpoint either way.
        name, scores = choose_shipped(reports["start"]["quality"],
                                      reports["distilled"]["quality"])
        shipped = {"model": name, "selection_score": scores}
        if name == "start":
            for variable, value in zip(student.weights, start_weights):
                variable.assign(value)
    paths = _export(student, tokenizer, out, chief, _declared_pooling(config.teacher))
    metrics = {
        "stages": stage_metrics,
        "params": {"teacher": agreement.count_params(teacher),
                   "student": agreement.count_params(student)},
        "student_init": init_info,
        "teacher": teacher_info,
        "splits": {"train": len(data.train), "labelled": len(data.labelled),
                   "dev": len(data.dev), "heldout": len(data.heldout)},
        "data": data.counts,
        "outputs": {**paths, **({"hf_start": os.path.join(out, "hf_start")}
                                if config.save_start else {}), "dir": out, "logs": os.path.join(out, "logs"),
                    "flags": os.path.join(out, "flags.cfg"),
                    "metrics": os.path.join(out, "metrics.json")},
        **combine(reports),
    }
    if shipped is not None:
        metrics["shipped"] = shipped
    if "agreement" in metrics:
        metrics["agreement"]["latency_ms_batch8"] = reporter.latency(student)
    if source is not None:
        metrics["source_task"].update(task=config.source_task, split=data.counts["dev_split"],
                                      examples=len(data.dev))
    metrics["wall_seconds"] = round(time.time() - started, 1)
    if chief:
        write_json(os.path.join(out, "metrics.json"), metrics)
        if writer is not None:
            last = sum(stage.get("last_step", 0) for stage in stage_metrics.values())
            write_report_scalars(writer, metrics, last)
    log(format_summary(metrics, config) if chief else
        "Done; the chief (worker 0) wrote the outputs and prints the summary.")
    return metrics


def _declared_pooling(teacher):
    """The sentence vector the teacher's folder declares (sentence-transformers files), or None.

    A student distilled from a sentence-embedding teacher carries the same
    declaration, so fine-tuning puts its head on that vector by default.
    """
    from xtremedistil_tf.checkpoints import read_pooling
    from xtremedistil_tf.distill.student_builder import resolve_teacher

    folder = resolve_teacher(teacher)
    return read_pooling(folder) if os.path.isdir(folder) else None


def _save_start(student, tokenizer, out, pooling):
    from xtremedistil_tf.checkpoints import to_hf

    folder = os.path.join(out, "hf_start")
    if not tf.io.gfile.exists(os.path.join(folder, "config.json")):
        to_hf(encoder_of(student), tokenizer, folder, pooling=pooling)


def _export(student, tokenizer, out, chief, pooling=None):
    """Writes the student; returns the paths. A task student also gives its encoder alone."""
    from xtremedistil_tf.checkpoints import to_hf, to_hf_task

    paths = {"keras": os.path.join(out, "student.keras"), "hf": os.path.join(out, "hf_student")}
    task_model = student is not encoder_of(student)
    if task_model:
        paths["hf_task"] = os.path.join(out, "hf_task_student")
    if not chief:
        return paths
    with atomic_path(paths["keras"]) as tmp:
        student.save(tmp)
    # The universal checkpoint: the encoder without any head.
    to_hf(encoder_of(student), tokenizer, paths["hf"], pooling=pooling)
    if task_model:
        to_hf_task(student, tokenizer, paths["hf_task"])
    return paths
