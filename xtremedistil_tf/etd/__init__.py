"""Extract-Then-Distill: a student's first weights cut out of its teacher."""
from xtremedistil_tf.etd.extract import extract_head, extract_student
from xtremedistil_tf.etd.importance import (
    ImportanceScores, compute_importance, default_importance_loss, representation_norm_loss,
    self_label_loss)
from xtremedistil_tf.etd.student_init import init_student, load_student_checkpoint
from xtremedistil_tf.etd.student_init_config import STUDENT_INIT_CHOICES, StudentInitConfig
from xtremedistil_tf.etd.width_selection import (
    WidthSelection, check_extractable, importance_selection, random_selection, uniform_layers)

__all__ = [
    "ImportanceScores", "STUDENT_INIT_CHOICES", "StudentInitConfig", "WidthSelection",
    "check_extractable", "compute_importance", "default_importance_loss", "extract_head",
    "extract_student",
    "importance_selection", "init_student", "load_student_checkpoint", "random_selection",
    "representation_norm_loss", "self_label_loss", "uniform_layers",
]
