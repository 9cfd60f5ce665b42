"""Host-side and in-graph tokenizers that give identical ids."""
from xtremedistil_tf.tokenizers.graph_tokenizer import GraphTokenizer
from xtremedistil_tf.tokenizers.tokenizer import Tokenizer

__all__ = ["GraphTokenizer", "Tokenizer"]
