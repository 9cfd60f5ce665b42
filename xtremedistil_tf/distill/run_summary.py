"""The plain-text summary a distillation run ends with."""


def _fmt(value, digits=4):
    return "n/a" if value is None else f"{value:.{digits}f}"


def format_summary(metrics, config):
    lines = ["", "=" * 72, "Distillation summary", "=" * 72]
    for name, stage in metrics["stages"].items():
        train = ", ".join(f"{k}={v:.4f}" for k, v in sorted(stage.get("train", {}).items()))
        lines.append(f"stage {name}: {stage.get('last_step')}/{stage.get('total_steps')} steps "
                     f"(teacher {stage.get('teacher', 'live')}, "
                     f"{stage.get('seconds', 0):.0f}s{', stopped early' if stage.get('stopped_early') else ''})")
        lines.append(f"  train mean losses: {train}")
        final_dev = stage.get("final_dev")
        if final_dev:
            dev = ", ".join(f"{k}={v:.4f}" for k, v in sorted(final_dev.items()))
            lines.append(f"  dev losses (best weights): {dev}")
    params = metrics["params"]
    lines.append(f"parameters: teacher {params['teacher']:,}, student {params['student']:,} "
                 f"(student/teacher {params['student'] / params['teacher']:.2f})")
    report = metrics["agreement"]
    if not report:
        lines.append("agreement: not measured (heldout_examples < 2)")
    else:
        latency = report["latency_ms_batch8"]
        lines.append(f"latency (batch 8 x {config.max_length} tokens, this machine): teacher "
                     f"{latency['teacher']:.1f} ms, student {latency['student']:.1f} ms")
        distilled, random = report["distilled"], report["random"]
        heldout = metrics["splits"]["heldout"]
        lines.append(f"agreement with the teacher on {heldout} held-out texts "
                     f"({config.loss_settings.pooling}-pooled sentence vectors):")
        lines.append(f"  {'':28s}{'distilled':>12s}{'random init':>14s}")
        lines.append(f"  {'linear-probe cosine':28s}{_fmt(distilled['probe_cosine']):>12s}"
                     f"{_fmt(random['probe_cosine']):>14s}")
        lines.append(f"  {'similarity correlation':28s}"
                     f"{_fmt(distilled['similarity_correlation']):>12s}"
                     f"{_fmt(random['similarity_correlation']):>14s}")
        if "projected_cosine" in distilled:
            lines.append(f"  {'cosine via learned proj.':28s}"
                         f"{_fmt(distilled['projected_cosine']):>12s}{'-':>14s}")
    outputs = metrics["outputs"]
    lines.append(f"outputs in {outputs['dir']}:")
    lines.append(f"  student (Keras): {outputs['keras']}")
    lines.append(f"  student (HF folder): {outputs['hf']}")
    lines.append(f"  flags: {outputs['flags']}  metrics: {outputs['metrics']}")
    lines.append(f"  TensorBoard: tensorboard --logdir {outputs['logs']}")
    lines.append(f"wall time: {metrics['wall_seconds']:.0f}s")
    lines.append("=" * 72)
    return "\n".join(lines)
