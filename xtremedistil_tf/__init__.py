"""xtremedistil_tf: distil BERT-family encoders into small universal students."""
from xtremedistil_tf.models import PRESETS, Encoder, EncoderConfig, get_preset

__version__ = "0.1.0"
__all__ = ["Encoder", "EncoderConfig", "PRESETS", "get_preset"]
