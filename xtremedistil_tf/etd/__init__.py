"""Extract-Then-Distill: a student's first weights cut out of its teacher.

The student keeps uniformly spaced teacher layers and a subset of the hidden
dimensions, whole heads and FFN neurons, chosen at random (etd_rand) or by
importance (etd_impt). A student whose head size (hidden_size /
num_attention_heads) is smaller than the teacher's, such as the released
l6h384 (12 heads of 32) from bert-base (12 heads of 64), also keeps a subset of
the neurons within each kept head, one for query/key and one for value/output,
with the query rescaled so the attention scores keep the teacher's scale. A
student deeper or wider than its teacher, or with a larger head size, is
refused with the reason.
"""
from xtremedistil_tf.etd.extract import extract_head, extract_student, query_scale_for
from xtremedistil_tf.etd.importance import (
    ImportanceScores, combine_importance, compute_importance, default_importance_loss,
    representation_norm_loss, self_label_loss, sentence_contrast_loss, token_self_label_loss)
from xtremedistil_tf.etd.student_init import init_student, load_student_checkpoint
from xtremedistil_tf.etd.student_init_config import STUDENT_INIT_CHOICES, StudentInitConfig
from xtremedistil_tf.etd.width_selection import (
    WidthSelection, check_extractable, importance_selection, random_selection, uniform_layers)

__all__ = [
    "ImportanceScores", "STUDENT_INIT_CHOICES", "StudentInitConfig", "WidthSelection",
    "check_extractable", "combine_importance", "compute_importance", "default_importance_loss",
    "extract_head", "extract_student", "importance_selection", "init_student",
    "load_student_checkpoint", "query_scale_for", "random_selection", "representation_norm_loss",
    "self_label_loss", "sentence_contrast_loss", "token_self_label_loss", "uniform_layers",
]
