"""One post-LayerNorm transformer layer as in BERT."""
import keras
from keras import ops

from xtremedistil_tf.layers.activations import get_activation
from xtremedistil_tf.layers.dropout import Dropout
from xtremedistil_tf.layers.layer_normalization import LayerNormalization
from xtremedistil_tf.layers.self_attention import SelfAttention


class TransformerLayer(keras.layers.Layer):
    """Self-attention and feed-forward blocks, each with residual and LayerNorm.

    Args:
        config: an `EncoderConfig`.

    Call returns `(hidden, probs, qkv)`; see `SelfAttention`.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        policy = self.dtype_policy
        self.attention = SelfAttention(config, dtype=policy, name="attention")
        # Mixed precision: 16-bit dropout draws and, at inference, a GELU oneDNN fuses
        # into the MatMul. float32 keeps Keras's draws and the exact GELU path.
        mixed = policy.compute_dtype != "float32"
        self.attention_dropout = Dropout(config.hidden_dropout_prob, dtype=policy,
                                         cheap_draw=mixed)
        self.attention_norm = LayerNormalization(
            epsilon=config.layer_norm_eps, dtype=policy, name="attention_norm")
        self.intermediate = keras.layers.Dense(
            config.intermediate_size, kernel_initializer=init, dtype=policy,
            name="intermediate")
        self.activation = get_activation(config.hidden_act)
        self.inference_activation = get_activation(config.hidden_act, fusable=mixed)
        self.ffn_output = keras.layers.Dense(
            config.hidden_size, kernel_initializer=init, dtype=policy, name="ffn_output")
        self.ffn_dropout = Dropout(config.hidden_dropout_prob, dtype=policy, cheap_draw=mixed)
        self.ffn_norm = LayerNormalization(
            epsilon=config.layer_norm_eps, dtype=policy, name="ffn_norm")

    def build(self, input_shape=None):
        hidden = (None, None, self.config.hidden_size)
        self.attention.build(hidden)
        self.attention_norm.build(hidden)
        self.intermediate.build(hidden)
        self.ffn_output.build((None, None, self.config.intermediate_size))
        self.ffn_norm.build(hidden)
        self.built = True

    def call(self, x, attention_mask, head_mask=None, training=False):
        attended, probs, qkv = self.attention(x, attention_mask, head_mask=head_mask,
                                              training=training)
        x = self.attention_norm.add_and_normalize(x, attended, self.attention_dropout,
                                                training=training)
        # On [tokens, hidden], as in `SelfAttention`, so the bias adds fuse into the MatMuls.
        tokens = ops.reshape(x, (-1, self.config.hidden_size))
        activation = self.activation if training else self.inference_activation
        ffn = self.ffn_output(activation(self.intermediate(tokens)))
        ffn = ops.reshape(ffn, ops.shape(x))
        x = self.ffn_norm.add_and_normalize(x, ffn, self.ffn_dropout, training=training)
        return x, probs, qkv
