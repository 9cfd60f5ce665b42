"""Hugging Face checkpoints in and out."""
from xtremedistil_tf.checkpoints.hf_loader import from_hf, load_encoder, read_state_dict
from xtremedistil_tf.checkpoints.hf_writer import state_dict, to_hf

__all__ = ["from_hf", "load_encoder", "read_state_dict", "state_dict", "to_hf"]
