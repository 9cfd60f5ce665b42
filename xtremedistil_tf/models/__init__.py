"""Encoder models, their configs, and task models that wrap an encoder."""
from xtremedistil_tf.models.bilstm_config import BiLSTMConfig
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent
from xtremedistil_tf.models.encoder import Encoder
from xtremedistil_tf.models.encoder_config import PRESETS, EncoderConfig, get_preset
from xtremedistil_tf.models.question_answerer import QuestionAnswerer
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.models.task_model import TaskModel
from xtremedistil_tf.models.token_classifier import TokenClassifier

# What a task model's `encoder` may be: a transformer, or a BiLSTM student built
# without a head (MKD's `encoder.keras`).
ENCODER_TYPES = (Encoder, BiLSTMStudent)

__all__ = ["BiLSTMConfig", "BiLSTMStudent", "ENCODER_TYPES", "Encoder", "EncoderConfig",
           "PRESETS", "QuestionAnswerer", "SequenceClassifier", "TaskModel", "TokenClassifier",
           "get_preset"]
