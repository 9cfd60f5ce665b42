"""Keras layers that make up the BERT-family encoder."""
from xtremedistil_tf.layers.embeddings import Embeddings
from xtremedistil_tf.layers.self_attention import SelfAttention
from xtremedistil_tf.layers.transformer_layer import TransformerLayer

__all__ = ["Embeddings", "SelfAttention", "TransformerLayer"]
