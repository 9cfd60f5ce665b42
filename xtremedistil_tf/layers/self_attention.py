"""Multi-head self-attention that also returns its probabilities and Q/K/V."""
import math

import keras
import tensorflow as tf
from keras import ops

from xtremedistil_tf.layers.dropout import Dropout, apply_draw, masked
from xtremedistil_tf.layers.layer_normalization import row_sum

# Added to the logits of padded keys (logits and softmax always run in float32):
# a padded key keeps a weight below exp(-100) ~ 4e-44 of a real one. Small, so that
# full-integer LiteRT's per-tensor range of the masked logits stays near the real
# logits' (with -1e4 an int8 step spans ~40 logits and attention goes uniform).
_MASK_BIAS = -100.0


class SelfAttention(keras.layers.Layer):
    """BERT self-attention: Q/K/V projections, scaled dot product, output dense.

    Logits and softmax run in float32 whatever the dtype policy, so that mixed
    precision neither overflows the mask nor loses the small probabilities that
    attention-distillation losses compare.

    Args:
        config: an `EncoderConfig`.

    Call returns `(output, probs, (query, key, value))`, with `probs` of shape
    `[batch, heads, seq, seq]` in float32 and Q/K/V of shape `[batch, seq, hidden]`.
    """

    def __init__(self, config, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        init = keras.initializers.TruncatedNormal(stddev=0.02)

        def dense(name):
            return keras.layers.Dense(config.hidden_size, kernel_initializer=init,
                                      dtype=self.dtype_policy, name=name)

        self.query = dense("query")
        self.key = dense("key")
        self.value = dense("value")
        self.output_dense = dense("output")
        # float32 whatever the policy: it drops the float32 probabilities before they
        # are cast, because TensorFlow's bfloat16 random-compare-select runs element
        # by element on CPU (several times the float32 cost over [batch, heads, seq, seq]).
        # Under mixed precision it draws 8 or 16 bits per element and casts its output
        # to the compute dtype in the same compiled pass (`layers/dropout.py`).
        mixed = self.dtype_policy.compute_dtype != "float32"
        self.dropout = Dropout(config.attention_probs_dropout_prob, dtype="float32",
                               cheap_draw=mixed,
                               cast_to=self.dtype_policy.compute_dtype if mixed else None)

    def build(self, input_shape=None):
        shape = (None, None, self.config.hidden_size)
        for layer in (self.query, self.key, self.value, self.output_dense):
            layer.build(shape)
        self.built = True

    def _split_heads(self, x):
        batch, seq = ops.shape(x)[0], ops.shape(x)[1]
        heads = self.config.num_attention_heads
        x = ops.reshape(x, (batch, seq, heads, self.config.head_size))
        return ops.transpose(x, (0, 2, 1, 3))

    def _probabilities_and_weights(self, logits, training):
        """float32 softmax of `logits`, and its dropout in the compute dtype.

        With the cheap draw (mixed precision, training), the backward of both is one
        compiled pass: dropout's mask, softmax's gradient and the probabilities'
        own upstream gradient together, instead of a compiled mask and TensorFlow's
        four softmax-gradient ops over `[batch, heads, seq, seq]` in float32.
        """
        drawn = self.dropout.draw(logits, training=training)
        if drawn is None:
            probs = ops.softmax(logits, axis=-1)
            return probs, ops.cast(self.dropout(probs, training=training), self.compute_dtype)
        return _softmax_dropout(logits, drawn, tf.as_dtype(self.compute_dtype))

    def call(self, x, attention_mask, head_mask=None, training=False):
        """`attention_mask` is int `[batch, seq]`: 1 for real keys, 0 for padding.

        The mask stays an int tensor on the way in because Keras would cast a float
        one to the compute dtype, where the bias overflows float16.
        """
        mask_bias = (1.0 - ops.cast(attention_mask, "float32")) * _MASK_BIAS
        batch, seq = ops.shape(x)[0], ops.shape(x)[1]
        hidden = self.config.hidden_size
        # The projections run on [tokens, hidden]: a 2-D MatMul lets TensorFlow's
        # oneDNN remapper fuse the bias add into it; a 3-D one goes through Tensordot.
        tokens = ops.reshape(x, (-1, hidden))

        def project(dense):
            return ops.reshape(dense(tokens), (batch, seq, hidden))

        query, key, value = project(self.query), project(self.key), project(self.value)
        # The 1/sqrt(head_size) scale goes on the queries, [batch, seq, hidden], not on
        # the logits, [batch, heads, seq, seq]: one pass over a tensor seq/head_size
        # times smaller, forward and backward (float32 results change by rounding only).
        scaled = query * ops.cast(1.0 / math.sqrt(self.config.head_size), query.dtype)
        q, k, v = self._split_heads(scaled), self._split_heads(key), self._split_heads(value)
        logits = ops.cast(ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))), "float32")
        # expand_dims, not [:, None, None, :]: LiteRT cannot convert that slice at
        # dynamic sequence length.
        logits = logits + ops.expand_dims(ops.expand_dims(mask_bias, 1), 1)
        probs, weights = self._probabilities_and_weights(logits, training)
        if head_mask is not None:
            weights = weights * ops.cast(head_mask, self.compute_dtype)[None, :, None, None]
        context = ops.matmul(weights, v)
        context = ops.reshape(ops.transpose(context, (0, 2, 1, 3)), (-1, hidden))
        output = ops.reshape(self.output_dense(context), (batch, seq, hidden))
        return output, probs, (query, key, value)


def _softmax_dropout(logits, drawn, dtype):
    """`(softmax(logits), dropout(softmax(logits)) as dtype)` with `drawn`'s mask."""
    @tf.custom_gradient
    def run(logits):
        probs = tf.nn.softmax(logits)

        def grad(grad_probs, grad_weights):
            return _softmax_dropout_backward(probs, grad_probs, grad_weights, drawn)
        return (probs, masked(probs, drawn, dtype)), grad
    return run(logits)


@tf.function(jit_compile=True, autograph=False)
def _softmax_dropout_backward(probs, grad_probs, grad_weights, drawn):
    grad = apply_draw(grad_weights, drawn)
    if grad_probs is not None:
        grad = grad + grad_probs
    return probs * (grad - row_sum(grad * probs))
