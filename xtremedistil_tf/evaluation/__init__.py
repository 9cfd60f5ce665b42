"""Quality of encoders on real labelled tasks (probes and pair-cosine ranking)."""
from xtremedistil_tf.evaluation.quality import (
    QUALITY_TASKS, QualityConfig, choose_shipped, embed, evaluate_model, format_quality_table,
    load_task_data, mean_score, selection_score)

__all__ = ["QUALITY_TASKS", "QualityConfig", "choose_shipped", "embed", "evaluate_model",
           "format_quality_table", "load_task_data", "mean_score", "selection_score"]
