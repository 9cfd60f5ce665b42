"""Hugging Face checkpoints in and out: bare encoders and task models with their heads."""
from xtremedistil_tf.checkpoints.hf_loader import from_hf, load_encoder, read_state_dict
from xtremedistil_tf.checkpoints.hf_task_loader import from_hf_task
from xtremedistil_tf.checkpoints.hf_task_writer import task_state_dict, to_hf_task
from xtremedistil_tf.checkpoints.hf_writer import state_dict, to_hf
from xtremedistil_tf.checkpoints.sentence_pooling import read_pooling, write_pooling

__all__ = ["from_hf", "from_hf_task", "load_encoder", "read_state_dict", "state_dict",
           "read_pooling", "task_state_dict", "to_hf", "to_hf_task", "write_pooling"]
