"""Word, position and token-type embeddings, LayerNorm, and ELECTRA's projection."""
import keras
import tensorflow as tf
from keras import ops

from xtremedistil_tf.layers.dropout import Dropout
from xtremedistil_tf.layers.layer_normalization import LayerNormalization


def _lookup(table, ids):
    """Rows of an `Embedding` layer's table, without the layer's negative-index wrap.

    `keras.ops.take` adds `where(ids < 0, ids + n, ids)` on the int ids; LiteRT's
    16x8 quantizer (litert_int16x8) cannot calibrate those int32 ops and refuses the
    model. Token ids are never negative, so a plain gather gives the same rows.
    """
    return ops.cast(tf.gather(table.embeddings, ids), table.compute_dtype)


class Embeddings(keras.layers.Layer):
    """Sums word, position and token-type embeddings and normalises them.

    Args:
        config: an `EncoderConfig`. RoBERTa-style models derive position ids from
            the non-padding tokens, starting at `pad_token_id + 1`, as HF does.
            When `config.embedding_size` differs from `hidden_size` (ELECTRA) a
            dense projection maps the normalised embeddings to `hidden_size`.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        width = config.embedding_width
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        self.word_embeddings = keras.layers.Embedding(
            config.vocab_size, width, embeddings_initializer=init,
            dtype=self.dtype_policy, name="word_embeddings")
        self.position_embeddings = keras.layers.Embedding(
            config.max_position_embeddings, width, embeddings_initializer=init,
            dtype=self.dtype_policy, name="position_embeddings")
        self.token_type_embeddings = keras.layers.Embedding(
            config.type_vocab_size, width, embeddings_initializer=init,
            dtype=self.dtype_policy, name="token_type_embeddings")
        self.layer_norm = LayerNormalization(
            epsilon=config.layer_norm_eps, dtype=self.dtype_policy, name="layer_norm")
        self.dropout = Dropout(config.hidden_dropout_prob, dtype=self.dtype_policy,
                               cheap_draw=self.dtype_policy.compute_dtype != "float32")
        self.projection = None
        if width != config.hidden_size:
            self.projection = keras.layers.Dense(
                config.hidden_size, kernel_initializer=init,
                dtype=self.dtype_policy, name="projection")

    def build(self, input_shape=None):
        width = self.config.embedding_width
        self.word_embeddings.build((None, None))
        self.position_embeddings.build((None, None))
        self.token_type_embeddings.build((None, None))
        self.layer_norm.build((None, None, width))
        if self.projection is not None:
            self.projection.build((None, None, width))
        self.built = True

    def position_ids(self, input_ids):
        if self.config.position_offset:
            pad = self.config.pad_token_id
            not_pad = ops.cast(ops.not_equal(input_ids, pad), "int32")
            return ops.cumsum(not_pad, axis=1) * not_pad + pad
        seq_len = ops.shape(input_ids)[1]
        return ops.expand_dims(ops.arange(seq_len, dtype="int32"), 0)

    def call(self, input_ids, token_type_ids, training=False):
        x = _lookup(self.word_embeddings, input_ids)
        x = x + _lookup(self.position_embeddings, self.position_ids(input_ids))
        x = x + _lookup(self.token_type_embeddings, token_type_ids)
        x = self.layer_norm(x)
        x = self.dropout(x, training=training)
        if self.projection is not None:
            x = self.projection(x)
        return x
