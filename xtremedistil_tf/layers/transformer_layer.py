"""One post-LayerNorm transformer layer as in BERT."""
import keras

from xtremedistil_tf.layers.activations import get_activation
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
        self.attention_dropout = keras.layers.Dropout(config.hidden_dropout_prob, dtype=policy)
        self.attention_norm = LayerNormalization(
            epsilon=config.layer_norm_eps, dtype=policy, name="attention_norm")
        self.intermediate = keras.layers.Dense(
            config.intermediate_size, kernel_initializer=init, dtype=policy,
            name="intermediate")
        self.activation = get_activation(config.hidden_act)
        self.ffn_output = keras.layers.Dense(
            config.hidden_size, kernel_initializer=init, dtype=policy, name="ffn_output")
        self.ffn_dropout = keras.layers.Dropout(config.hidden_dropout_prob, dtype=policy)
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
        x = self.attention_norm(x + self.attention_dropout(attended, training=training))
        ffn = self.ffn_output(self.activation(self.intermediate(x)))
        x = self.ffn_norm(x + self.ffn_dropout(ffn, training=training))
        return x, probs, qkv
