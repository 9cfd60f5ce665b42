"""The plain-text summary a distillation run ends with."""
from collections import Counter


def _fmt(value, digits=4):
    return "n/a" if value is None else f"{value:.{digits}f}"


def _table(title, rows, columns, reports):
    """Rows of metrics (name, key) by columns of reports; columns without data are left out."""
    columns = [c for c in columns if c in reports]
    lines = [title, "  " + " " * 26 + "".join(f"{c:>12s}" for c in columns)]
    for label, key in rows:
        if not any(key in reports[c] for c in columns):
            continue
        lines.append(f"  {label:26s}" + "".join(
            f"{_fmt(reports[c].get(key)) if key in reports[c] else '-':>12s}" for c in columns))
    return lines


def _stage_lines(name, stage):
    lines = [f"stage {name}: {stage.get('last_step')}/{stage.get('total_steps')} steps "
             f"(teacher {stage.get('teacher', 'live')}, {stage.get('seconds', 0):.0f}s"
             f"{', stopped early' if stage.get('stopped_early') else ''})"]
    train = ", ".join(f"{k}={v:.4f}" for k, v in sorted(stage.get("train", {}).items()))
    lines.append(f"  train mean losses: {train}")
    start, best = stage.get("start_dev_loss"), stage.get("best_dev_loss")
    if stage.get("kept_start"):
        lines.append(f"  dev loss {_fmt(start)} at the start was never beaten: the stage "
                     "kept its starting weights")
    elif best is not None:
        lines.append(f"  dev loss {_fmt(start)} at the start -> {_fmt(best)} (best weights kept)")
    phases = stage.get("phases", [])
    if len(phases) > 1:
        for phase in phases:
            dev = phase["dev"]
            where = (f"best at step {phase['best_step']}" if phase["best_step"] else
                     "kept its start")
            lines.append(
                f"  phase {phase['phase']}/{len(phases)} {phase['label']}: "
                f"{phase['last_step']} steps, dev {_fmt(dev[0]['loss'] if dev else None)} -> "
                f"{_fmt(phase['best_dev_loss'])} ({where}"
                f"{', stopped early' if phase['stopped_early'] else ''})")
    final_dev = stage.get("final_dev")
    if final_dev:
        dev = ", ".join(f"{k}={v:.4f}" for k, v in sorted(final_dev.items()))
        lines.append(f"  dev losses (best weights): {dev}")
    return lines


def _shipped_lines(shipped):
    """Which model the outputs hold, when the eval tasks chose it."""
    if not shipped:
        return []
    scores = shipped["selection_score"]
    if None in scores.values():
        return ["shipped: the distilled student (the eval tasks have no training split to "
                "choose by)"]
    figures = (f"mean training-split probe accuracy: start {_fmt(scores['start'])}, "
               f"distilled {_fmt(scores['distilled'])}; dev not used")
    if shipped["model"] == "start":
        return ["shipped: THE START, not the distilled student: the stages lowered quality on "
                "the eval tasks", f"  ({figures}); the distilled weights stay in checkpoint/"]
    return [f"shipped: the distilled student ({figures})"]


def format_summary(metrics, config):
    mode = f"task transfer from {config.source_task}" if config.source_task else "task-agnostic"
    lines = ["", "=" * 72, f"Distillation summary ({mode})", "=" * 72]
    init = metrics.get("student_init") or {}
    if init.get("method") == "etd_impt" and "importance_batches" in init:
        texts = [config.transfer_data] if not config.source_task else ["the training rows"]
        texts += init.get("importance_extra_data", [])
        # A text listed twice has two shares.
        named = [text if n == 1 else f"{n} x {text}" for text, n in Counter(texts).items()]
        lines.append(f"ETD-Impt units scored on {init['importance_batches']} batches of "
                     f"{' + '.join(named)}")
    refit = init.get("refit")
    if refit:
        lines.append(f"ETD refit on {refit['tokens']:,} tokens: last-layer relative error to the "
                     f"teacher {refit['relative_error_before'][-1]:.3f} -> "
                     f"{refit['relative_error_after'][-1]:.3f} ({refit['seconds']:.0f} s)")
    # In the order they ran: metrics.json (and a resumed run's state) sort their keys.
    order = [stage.name for stage in config.stages if stage.name in metrics["stages"]]
    for name in order + sorted(set(metrics["stages"]) - set(order)):
        lines.extend(_stage_lines(name, metrics["stages"][name]))
    params = metrics["params"]
    lines.append(f"parameters: teacher {params['teacher']:,}, student {params['student']:,} "
                 f"(student/teacher {params['student'] / params['teacher']:.2f})")
    scores = metrics.get("source_task")
    if scores:
        keys = sorted({k for name in ("teacher", "distilled") for k in scores.get(name, {})})
        lines.extend(_table(
            f"source task {scores['task']} ({scores['split']}, {scores['examples']} examples):",
            [(k, k) for k in keys], ("teacher", "start", "distilled", "random"), scores))
    quality = metrics.get("quality")
    if quality:
        from xtremedistil_tf.evaluation.quality import format_quality_table

        lines.append("quality on real labelled tasks (frozen features; probes and pair cosine):")
        lines.extend("  " + line for line in format_quality_table(
            quality, ["teacher", "start", "distilled", "random"]).splitlines())
    lines.extend(_shipped_lines(metrics.get("shipped")))
    report = metrics.get("agreement")
    if not report:
        lines.append("agreement: not measured (fewer than 2 held-out examples)")
    else:
        latency = report["latency_ms_batch8"]
        lines.append(f"latency (batch 8 x {config.max_seq_length} tokens, this machine): "
                     f"teacher {latency['teacher']:.1f} ms, student {latency['student']:.1f} ms")
        heldout = metrics["splits"]["heldout"]
        lines.extend(_table(
            f"agreement with the teacher on {heldout} held-out texts "
            f"({config.loss_settings.pooling}-pooled sentence vectors):",
            [("linear-probe cosine", "probe_cosine"),
             ("similarity correlation", "similarity_correlation"),
             ("cosine via learned proj.", "projected_cosine")],
            ("start", "distilled", "random"), report))
    outputs = metrics["outputs"]
    lines.append(f"outputs in {outputs['dir']}:")
    lines.append(f"  student (Keras): {outputs['keras']}")
    lines.append(f"  student encoder, the universal checkpoint (HF folder): {outputs['hf']}")
    if "hf_task" in outputs:
        lines.append(f"  student with its task head (HF folder): {outputs['hf_task']}")
    if "hf_start" in outputs:
        lines.append(f"  the starting point, before any step (HF folder): {outputs['hf_start']}")
    lines.append(f"  flags: {outputs['flags']}  metrics: {outputs['metrics']}")
    lines.append(f"  TensorBoard: tensorboard --logdir {outputs['logs']}")
    lines.append(f"wall time: {metrics['wall_seconds']:.0f}s")
    lines.append("=" * 72)
    return "\n".join(lines)
