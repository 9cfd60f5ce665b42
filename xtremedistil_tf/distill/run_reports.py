"""What a run measures about a model: agreement with the teacher and source-task scores.

The same report is taken of the student before its first step (stored in the
checkpoint, so a resumed run does not recompute it), of the distilled student
and of a random twin, so the summary shows them side by side.
"""
from xtremedistil_tf.distill import agreement

# Rows of the training split used to fit the linear probe of the agreement report.
_PROBE_FIT_EXAMPLES = 1024


class Reporter:
    """Measures models against one teacher on one run's data.

    Args:
        teacher: the teacher model.
        data: the run's `DistillData` (held-out rows, training rows for the probe).
        pooling: sentence vector of the agreement report.
        source: for task transfer, `(task, dev_examples, dev_features, batch_size,
            pad_token_id)`; None otherwise.
        quality: `(QualityConfig, tokenizer)` to score models on real labelled
            tasks (`xtremedistil_tf.evaluation`), or None.
    """

    def __init__(self, teacher, data, pooling, source=None, quality=None):
        self.teacher = teacher
        self.data = data
        self.pooling = pooling
        self.source = source
        self.quality = quality
        self._quality_data = None

    def __call__(self, model, projection=None):
        """`{"agreement": ..., "source_task": ...}` of `model` (parts that apply)."""
        out = {}
        data = self.data
        if len(data.heldout) > 1:
            fit = data.subset(data.train[:_PROBE_FIT_EXAMPLES])
            out["agreement"] = agreement.agreement_report(
                self.teacher, model, fit, data.subset(data.heldout), self.pooling, projection)
        if self.source is not None:
            out["source_task"] = self.score(model)
        if self.quality is not None:
            out["quality"] = self.score_quality(model)
        return out

    def teacher_report(self):
        """The teacher's source-task and quality scores (agreement with itself is moot)."""
        out = {}
        if self.source is not None:
            out["source_task"] = self.score(self.teacher)
        if self.quality is not None:
            out["quality"] = self.score_quality(self.teacher)
        return out

    def score_quality(self, model):
        from xtremedistil_tf.evaluation.quality import evaluate_model, load_task_data

        config, tokenizer = self.quality
        if self._quality_data is None:
            self._quality_data = load_task_data(config)
        return evaluate_model(model, tokenizer, config, data=self._quality_data, log=None)

    def score(self, model):
        from xtremedistil_tf.distill.task_teacher import score

        task, examples, features, batch_size, pad_id = self.source
        return score(task, model, examples, features, batch_size, pad_id)

    def latency(self, student):
        sample = self.data.subset(self.data.heldout[:8])
        return {"teacher": agreement.latency_ms(self.teacher, sample),
                "student": agreement.latency_ms(student, sample)}


def combine(reports):
    """`{"agreement": {name: ...}, "source_task": {name: ...}}` from `{name: report}`."""
    out = {}
    for name, report in reports.items():
        for kind, values in report.items():
            out.setdefault(kind, {})[name] = values
    return out


def write_report_scalars(writer, metrics, last_step):
    """Source-task and quality scores as TensorBoard scalars (start at step 0)."""
    from xtremedistil_tf.training.scalar_log import write_scalars

    for kind in ("source_task", "quality"):
        for name, values in metrics.get(kind, {}).items():
            if not isinstance(values, dict):
                continue
            flat = {}
            for key, value in values.items():
                if isinstance(value, dict):  # quality: {task: {metric: value}}
                    flat.update({f"{key}_{m}": v for m, v in value.items()})
                elif isinstance(value, (int, float)):
                    flat[key] = value
            step = 0 if name in ("start", "teacher") else last_step
            write_scalars(writer, step, flat, f"{kind}/{name}/")
    writer.flush()
