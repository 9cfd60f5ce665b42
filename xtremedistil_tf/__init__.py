"""xtremedistil_tf: distil BERT-family encoders into small universal students."""
from xtremedistil_tf.checkpoints import from_hf, to_hf
from xtremedistil_tf.models import PRESETS, Encoder, EncoderConfig, get_preset

__version__ = "0.1.0"
__all__ = ["Encoder", "EncoderConfig", "PRESETS", "from_hf", "get_preset", "to_hf"]
