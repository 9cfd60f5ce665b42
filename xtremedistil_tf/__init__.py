"""xtremedistil_tf: distil BERT-family encoders into small universal students."""
from xtremedistil_tf.checkpoints import from_hf, from_hf_task, to_hf, to_hf_task
from xtremedistil_tf.models import PRESETS, Encoder, EncoderConfig, get_preset
from xtremedistil_tf.tokenizers import GraphTokenizer, Tokenizer

__version__ = "0.1.0"
__all__ = ["Encoder", "EncoderConfig", "GraphTokenizer", "PRESETS", "Tokenizer", "from_hf",
           "from_hf_task", "get_preset", "to_hf", "to_hf_task"]
