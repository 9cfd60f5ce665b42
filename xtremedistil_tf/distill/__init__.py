"""Distillation: pure losses, the Distiller model, stages, teacher cache and whole runs
(task-agnostic, task transfer; MKD trains on the same StageRunner)."""
from xtremedistil_tf.distill import losses
from xtremedistil_tf.distill.distill_config import DistillConfig
from xtremedistil_tf.distill.distill_run import run_distillation
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.layer_map import build_layer_map
from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.distill.loss_terms import LOSSES, LossTerm
from xtremedistil_tf.distill.stage_config import StageConfig, parse_losses
from xtremedistil_tf.distill.stage_runner import NonFiniteLossError, StageRunner
from xtremedistil_tf.distill.step_data import ExampleSource, StepPlan
from xtremedistil_tf.distill.task_mixture import TaskMixture
from xtremedistil_tf.distill.teacher_cache import TeacherCache

__all__ = [
    "DistillConfig", "Distiller", "ExampleSource", "LOSSES", "LossSettings", "LossTerm",
    "NonFiniteLossError", "StageConfig", "StageRunner", "StepPlan", "TaskMixture", "TeacherCache",
    "build_layer_map", "losses", "parse_losses", "run_distillation",
]
