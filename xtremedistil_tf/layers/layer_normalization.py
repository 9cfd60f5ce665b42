"""LayerNorm computed in the order that survives full-integer LiteRT quantization."""
import keras
import tensorflow as tf
from keras import ops


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


# Mixed precision: the same function on 16-bit activations, forward and backward
# each one XLA-compiled pass computing in float32. TensorFlow's CPU kernels run the
# casts, reductions and elementwise chain of `call` (and their gradients, a dozen
# more passes) one op at a time; compiled, the [4096, 256] LayerNorm's forward and
# backward take 6.5 ms against 9.5 ms (one thread). The backward recomputes the
# normalised input rather than keeping it.
def _standardize(x, epsilon):
    centred = x - tf.reduce_mean(x, axis=-1, keepdims=True)
    inverse = tf.math.rsqrt(tf.reduce_mean(centred * centred, axis=-1, keepdims=True) + epsilon)
    return centred * inverse, inverse


@tf.function(jit_compile=True, autograph=False)
def _forward(x, gamma, beta, epsilon):
    normalized, _ = _standardize(tf.cast(x, tf.float32), epsilon)
    return tf.cast(normalized * gamma + beta, x.dtype)


@tf.function(jit_compile=True, autograph=False)
def _backward(x, gamma, upstream, epsilon):
    normalized, inverse = _standardize(tf.cast(x, tf.float32), epsilon)
    upstream = tf.cast(upstream, tf.float32)
    scaled = upstream * gamma
    grad_x = inverse * (scaled - tf.reduce_mean(scaled, axis=-1, keepdims=True)
                        - normalized * tf.reduce_mean(scaled * normalized, axis=-1, keepdims=True))
    rows = tf.range(tf.rank(upstream) - 1)
    return (tf.cast(grad_x, x.dtype), tf.reduce_sum(upstream * normalized, axis=rows),
            tf.reduce_sum(upstream, axis=rows))


def _normalize_16_bit(x, gamma, beta, epsilon):
    epsilon = tf.constant(epsilon, tf.float32)

    @tf.custom_gradient
    def normalize(x, gamma, beta):
        return _forward(x, gamma, beta, epsilon), lambda up: _backward(x, gamma, up, epsilon)
    return normalize(x, gamma, beta)
