"""LayerNorm computed in the order that survives full-integer LiteRT quantization."""
import keras
import tensorflow as tf
from keras import ops

from xtremedistil_tf.layers.dropout import apply_draw


class LayerNormalization(keras.layers.LayerNormalization):
    """`keras.layers.LayerNormalization` (same weights and config), centred first.

    Keras computes `x * inv + (beta - mean * inv)`: two large terms that cancel
    on the residual stream's outlier dimensions, which per-tensor integer
    activations cannot represent (full-integer LiteRT then loses the model), and
    `squared_difference` / `neg` ops that LiteRT's int16 kernels lack. This
    computes `(x - mean) * (rsqrt(var + eps) * gamma) + beta` with the variance
    as `mean(c * c)`: the same function in float (to rounding), built from
    SUB/MUL/MEAN/RSQRT/ADD, all of which have int8 and int16 kernels.

    Only the default use is supported: normalise the last axis with a scale and
    a centre, no RMS scaling.
    """

    def build(self, input_shape):
        if self.axis not in (-1, [-1], (-1,)) or not (self.scale and self.center) or \
                self.rms_scaling:
            raise ValueError(f"LayerNormalization(axis={self.axis}, scale={self.scale}, "
                             f"center={self.center}, rms_scaling={self.rms_scaling}) is not "
                             "supported; use axis=-1 with scale and center.")
        super().build(input_shape)

    def call(self, inputs):
        if self.compute_dtype != "float32":
            return _normalize_16_bit(inputs, ops.cast(self.gamma, "float32"),
                                     ops.cast(self.beta, "float32"), self.epsilon)
        x = ops.cast(inputs, "float32")
        centred = x - ops.mean(x, axis=-1, keepdims=True)
        variance = ops.mean(centred * centred, axis=-1, keepdims=True)
        scale = ops.rsqrt(variance + self.epsilon) * ops.cast(self.gamma, "float32")
        outputs = centred * scale + ops.cast(self.beta, "float32")
        return ops.cast(outputs, self.compute_dtype)

    def add_and_normalize(self, x, update, dropout, training=False):
        """`self(x + dropout(update))`, the residual step of a post-LayerNorm block.

        Under mixed precision, in training, with `dropout`'s cheap draw
        (`layers/dropout.py`), the dropout mask, the residual add and the
        normalisation run as one compiled pass each way, in float32 and rounded
        once; otherwise (float32, inference, no cheap draw) it is exactly
        `self(x + dropout(update, training=training))`.
        """
        drawn = dropout.draw(update, training=training) if self.compute_dtype != "float32" \
            else None
        if drawn is None:
            return self(x + dropout(update, training=training))
        return _add_normalize_16_bit(x, update, drawn, ops.cast(self.gamma, "float32"),
                                     ops.cast(self.beta, "float32"), self.epsilon)


# Mixed precision: the same function on 16-bit activations, forward and backward
# each one XLA-compiled pass computing in float32. TensorFlow's CPU kernels run the
# casts, reductions and elementwise chain of `call` (and their gradients, a dozen
# more passes) one op at a time; compiled, the [4096, 256] LayerNorm's forward and
# backward take 6.5 ms against 9.5 ms (one thread). The backward recomputes the
# normalised input rather than keeping it. `add_and_normalize` also takes the
# residual add and the dropout mask into the same passes.
def row_sum(x):
    """The sum over the last axis of `x` (kept, size 1), as a matrix product: inside
    XLA-compiled passes on CPU, row reductions are slow (a [4096, 256] LayerNorm
    forward takes 2.1 ms with them, 0.8 ms with products)."""
    size = tf.shape(x)[-1]
    sums = tf.matmul(tf.reshape(x, [-1, size]), tf.ones([size, 1], x.dtype))
    return tf.reshape(sums, tf.concat([tf.shape(x)[:-1], [1]], axis=0))


def _row_mean(x):
    return row_sum(x) * (1.0 / x.shape[-1])


def _standardize(x, epsilon):
    centred = x - _row_mean(x)
    inverse = tf.math.rsqrt(_row_mean(centred * centred) + epsilon)
    return centred * inverse, inverse


def _normalized(x, gamma, beta, epsilon):
    return _standardize(x, epsilon)[0] * gamma + beta


def _gradients(x, gamma, upstream, epsilon):
    """float32 gradients of `_normalized` at 2-D float32 `x`: input, gamma, beta."""
    normalized, inverse = _standardize(x, epsilon)
    upstream = tf.cast(upstream, tf.float32)
    scaled = upstream * gamma
    grad_x = inverse * (scaled - _row_mean(scaled) - normalized * _row_mean(scaled * normalized))
    return grad_x, tf.reduce_sum(upstream * normalized, axis=0), tf.reduce_sum(upstream, axis=0)


def _rows(*tensors):
    """Each tensor as [tokens, hidden] (the compiled passes work on rows)."""
    return [tf.reshape(t, [-1, t.shape[-1]]) for t in tensors]


@tf.function(jit_compile=True, autograph=False)
def _forward(x, gamma, beta, epsilon):
    (rows,) = _rows(x)
    out = _normalized(tf.cast(rows, tf.float32), gamma, beta, epsilon)
    return tf.reshape(tf.cast(out, x.dtype), tf.shape(x))


@tf.function(jit_compile=True, autograph=False)
def _backward(x, gamma, upstream, epsilon):
    rows, upstream = _rows(x, upstream)
    grad_x, grad_gamma, grad_beta = _gradients(tf.cast(rows, tf.float32), gamma, upstream, epsilon)
    return tf.reshape(tf.cast(grad_x, x.dtype), tf.shape(x)), grad_gamma, grad_beta


def _residual(x, update, drawn):
    """float32 rows of `x + dropout(update)`, and `drawn` with its draws as rows."""
    rows, update, draws = _rows(x, update, drawn[0])
    drawn = (draws,) + tuple(drawn[1:])
    return tf.cast(rows, tf.float32) + apply_draw(update, drawn), drawn


@tf.function(jit_compile=True, autograph=False)
def _sum_forward(x, update, drawn, gamma, beta, epsilon):
    out = _normalized(_residual(x, update, drawn)[0], gamma, beta, epsilon)
    return tf.reshape(tf.cast(out, x.dtype), tf.shape(x))


@tf.function(jit_compile=True, autograph=False)
def _sum_backward(x, update, drawn, gamma, upstream, epsilon):
    total, drawn = _residual(x, update, drawn)
    (upstream,) = _rows(upstream)
    grad_total, grad_gamma, grad_beta = _gradients(total, gamma, upstream, epsilon)
    return (tf.reshape(tf.cast(grad_total, x.dtype), tf.shape(x)),
            tf.reshape(tf.cast(apply_draw(grad_total, drawn), update.dtype), tf.shape(update)),
            grad_gamma, grad_beta)


def _normalize_16_bit(x, gamma, beta, epsilon):
    epsilon = tf.constant(epsilon, tf.float32)

    @tf.custom_gradient
    def normalize(x, gamma, beta):
        return _forward(x, gamma, beta, epsilon), lambda up: _backward(x, gamma, up, epsilon)
    return normalize(x, gamma, beta)


def _add_normalize_16_bit(x, update, drawn, gamma, beta, epsilon):
    """LayerNorm of `x + update` with `drawn`'s dropout mask on `update`."""
    epsilon = tf.constant(epsilon, tf.float32)

    @tf.custom_gradient
    def add_normalize(x, update, gamma, beta):
        return (_sum_forward(x, update, drawn, gamma, beta, epsilon),
                lambda up: _sum_backward(x, update, drawn, gamma, up, epsilon))
    return add_normalize(x, update, gamma, beta)
