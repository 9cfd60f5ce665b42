"""A whole distillation run: load, split, cache, run the stages, export, report."""
import os
import time

import keras
import numpy as np
import tensorflow as tf

from xtremedistil_tf.distill import agreement
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.output_spec import is_token_level
from xtremedistil_tf.distill.run_summary import format_summary
from xtremedistil_tf.distill.stage_runner import StageRunner
from xtremedistil_tf.distill.step_data import ExampleSource
from xtremedistil_tf.distill.student_builder import build_student, load_teacher, random_twin
from xtremedistil_tf.distill.teacher_cache import TeacherCache, fingerprint_variables
from xtremedistil_tf.distill.transfer_data import load_transfer_texts, split_indices
from xtremedistil_tf.training.checkpoint_manager import CheckpointManager
from xtremedistil_tf.training.strategy import build_strategy, is_chief, set_precision
from xtremedistil_tf.utils.atomic_io import atomic_path, write_json, write_text

# Rows of the training split used to fit the linear probe of the agreement report.
_PROBE_FIT_EXAMPLES = 1024


def _subset(inputs, rows):
    return {k: v[rows] for k, v in inputs.items()}


def _stage_teacher_keys(distiller, config):
    """Per stage: the teacher keys its terms read (set_losses in order, as training will)."""
    keys = []
    for stage in config.stages:
        distiller.set_losses(dict(stage.losses))
        keys.append(distiller.teacher_keys)
    return keys


def _cached_keys(config, keys):
    if config.teacher_cache == "none":
        return [set() for _ in keys]
    out = []
    for stage_keys in keys:
        if config.teacher_cache == "outputs" and any(is_token_level(k) for k in stage_keys):
            out.append(set())  # this stage runs the teacher live
        else:
            out.append(set(stage_keys))
    return out


def run_distillation(config, flags_text=None, log=print, verbose=True):
    """Runs `config` (a `DistillConfig`) end to end; returns the metrics dict.

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
    if chief:
        os.makedirs(out, exist_ok=True)
        if flags_text is not None:
            write_text(os.path.join(out, "flags.cfg"), flags_text)
        write_json(os.path.join(out, "config.json"), config.to_dict())

    data = load_transfer_texts(config.transfer_data, config.max_examples)
    with strategy.scope():
        teacher, tokenizer = load_teacher(config.teacher, config.precision)
    log(f"Transfer data: {len(data)} examples from {config.transfer_data}")
    inputs = tokenizer(data.texts, data.text_pairs, max_length=config.max_length,
                       padding="max_length")
    inputs = {k: np.asarray(inputs[k], dtype=np.int32)
              for k in ("input_ids", "attention_mask", "token_type_ids")}
    train, dev, heldout = split_indices(len(data), config.dev_fraction,
                                        config.heldout_examples, config.seed)
    log(f"Splits: {len(train)} train, {len(dev)} dev, {len(heldout)} held-out")
    importance_batches = [_subset(inputs, train[i:i + config.batch_size])
                          for i in range(0, min(len(train), 8 * config.batch_size),
                                         config.batch_size)]
    with strategy.scope():
        student = build_student(config, teacher, tokenizer, importance_batches)

    with strategy.scope():
        distiller = Distiller(teacher=teacher, student=student,
                              losses=dict(config.stages[0].losses),
                              loss_settings=config.loss_settings,
                              global_clipnorm=config.global_clipnorm or None)
        stage_keys = _stage_teacher_keys(distiller, config)
    cached = _cached_keys(config, stage_keys)
    cache = None
    if any(cached):
        cache_root = config.teacher_cache_dir or os.path.join(out, "teacher_cache")
        cache = TeacherCache.build(
            cache_root, distiller.teacher_targets, inputs, sorted(set().union(*cached)),
            fingerprint_variables(teacher.variables), config.teacher_cache_dtype, log=log)

    checkpoints = CheckpointManager(os.path.join(out, "checkpoint"))
    state = checkpoints.read_state() if checkpoints.exists() else None
    writer = tf.summary.create_file_writer(os.path.join(out, "logs")) if chief else None
    runner = StageRunner(distiller, strategy, checkpoints, config.checkpoint_every,
                         config.jit_compile, writer, config.log_every, verbose, chief)
    stage_metrics = {}
    if state is not None:
        stage_metrics = state.get("stage_metrics", {})
    for index, stage in enumerate(config.stages):
        done_before = state is not None and (
            index < state["stage_index"] or (index == state["stage_index"] and state["done"]))
        if done_before:
            with strategy.scope():
                distiller.set_losses(dict(stage.losses))
            if index == state["stage_index"]:
                checkpoints.restore({"model": distiller.student_variables})
            log(f"Stage {stage.name!r}: already done in {checkpoints.folder}, skipped")
            continue
        resume = state if state is not None and index == state["stage_index"] else None
        if resume is not None:
            log(f"Stage {stage.name!r}: resuming at step {resume['step']}")
        log(f"Stage {stage.name!r}: losses {dict(stage.losses)}")

        def source(rows, keys=cached[index]):
            return ExampleSource(_subset(inputs, rows), rows,
                                 None if data.labels is None else data.labels[rows],
                                 cache, keys)

        runner.extra_state = {"stage_metrics": stage_metrics}
        history = runner.run(stage, index, source(train), source(dev) if len(dev) else None,
                             config.batch_size, config.seed, resume)
        history["teacher"] = "cache" if cached[index] else "live"
        stage_metrics[stage.name] = history
        if chief:
            state_now = checkpoints.read_state()
            state_now["stage_metrics"] = stage_metrics
            checkpoints.save(state_now, {"model": distiller.student_variables})
        state = None

    # Outputs.
    hf_dir = os.path.join(out, "hf_student")
    keras_path = os.path.join(out, "student.keras")
    if chief:
        with atomic_path(keras_path) as tmp:
            student.save(tmp)
        from xtremedistil_tf.checkpoints import to_hf

        to_hf(student, tokenizer, hf_dir)

    # Report.
    pooling = config.loss_settings.pooling
    fit_rows = train[:_PROBE_FIT_EXAMPLES]
    eval_inputs, fit_inputs = _subset(inputs, heldout), _subset(inputs, fit_rows)
    projection = next((p for name, p in distiller.projections.items()
                       if name.startswith("projection_pooled_")), None)
    report = {}
    if len(heldout) > 1:
        with strategy.scope():
            twin = random_twin(student, config.seed + 1)
        report["distilled"] = agreement.agreement_report(
            teacher, student, fit_inputs, eval_inputs, pooling, projection)
        report["random"] = agreement.agreement_report(
            teacher, twin, fit_inputs, eval_inputs, pooling)
        sample = _subset(inputs, heldout[:8])
        report["latency_ms_batch8"] = {"teacher": agreement.latency_ms(teacher, sample),
                                       "student": agreement.latency_ms(student, sample)}
    metrics = {
        "stages": stage_metrics,
        "params": {"teacher": agreement.count_params(teacher),
                   "student": agreement.count_params(student)},
        "agreement": report,
        "splits": {"train": len(train), "dev": len(dev), "heldout": len(heldout)},
        "outputs": {"dir": out, "keras": keras_path, "hf": hf_dir,
                    "logs": os.path.join(out, "logs"), "flags": os.path.join(out, "flags.cfg"),
                    "metrics": os.path.join(out, "metrics.json")},
        "wall_seconds": round(time.time() - started, 1),
    }
    if chief:
        write_json(os.path.join(out, "metrics.json"), metrics)
    log(format_summary(metrics, config))
    return metrics
