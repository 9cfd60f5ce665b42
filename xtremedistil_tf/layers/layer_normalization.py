"""LayerNorm computed in the order that survives full-integer LiteRT quantization."""
import keras
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
        x = ops.cast(inputs, "float32")
        centred = x - ops.mean(x, axis=-1, keepdims=True)
        variance = ops.mean(centred * centred, axis=-1, keepdims=True)
        scale = ops.rsqrt(variance + self.epsilon) * ops.cast(self.gamma, "float32")
        outputs = centred * scale + ops.cast(self.beta, "float32")
        return ops.cast(outputs, self.compute_dtype)
