"""Encoder models and their configs."""
from xtremedistil_tf.models.encoder import Encoder
from xtremedistil_tf.models.encoder_config import PRESETS, EncoderConfig, get_preset

__all__ = ["Encoder", "EncoderConfig", "PRESETS", "get_preset"]
