"""Feed-forward activations under their Hugging Face names."""
import functools
import math

import keras
import tensorflow as tf

_SQRT_HALF = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_SCALE = math.sqrt(2.0 / math.pi)


def _gelu_exact_derivative(x):
    return 0.5 * (1.0 + tf.math.erf(x * _SQRT_HALF)) + x * tf.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _gelu_tanh_derivative(x):
    t = tf.tanh(_TANH_SCALE * (x + 0.044715 * x * x * x))
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _TANH_SCALE * (1.0 + 3 * 0.044715 * x * x)


def _in_float32(activation, derivative):
    """`activation` for any dtype: float32 inputs go to Keras as they are; 16-bit ones
    are computed in float32 and rounded once, forward and backward, each direction one
    XLA-compiled kernel.

    On CPU, TensorFlow's bfloat16 `erf` runs element by element, and GELU's forward and
    backward are chains of about a dozen elementwise passes over `[tokens,
    intermediate]` plus the casts around them. Compiled, each direction is one pass
    that reads 16-bit values and computes in float32 registers: forward and backward of
    `[4096, 1536]` take 13-15 ms against 37-45 ms for the casts around Keras's GELU
    (one thread). The gradient is GELU's closed-form derivative, in float32, then
    rounded. float32 stays on Keras's ops, bit for bit.
    """
    @tf.function(jit_compile=True, autograph=False)
    def forward(x):
        return tf.cast(activation(tf.cast(x, tf.float32)), x.dtype)

    @tf.function(jit_compile=True, autograph=False)
    def backward(x, upstream):
        grad = tf.cast(upstream, tf.float32) * derivative(tf.cast(x, tf.float32))
        return tf.cast(grad, x.dtype)

    @tf.custom_gradient
    def compiled(x):
        return forward(x), lambda upstream: backward(x, upstream)

    @functools.wraps(activation)
    def wrapped(x):
        if keras.backend.standardize_dtype(x.dtype) == "float32":
            return activation(x)
        return compiled(x)
    return wrapped


def _keras_gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def _keras_gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


_gelu_exact = _in_float32(_keras_gelu_exact, _gelu_exact_derivative)
_gelu_tanh = _in_float32(_keras_gelu_tanh, _gelu_tanh_derivative)


ACTIVATIONS = {
    "gelu": _gelu_exact,
    "gelu_new": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "relu": keras.activations.relu,
    "silu": keras.activations.silu,
}


# The same functions in the compute dtype. Right after a 2-D Dense, TensorFlow's
# oneDNN remapper fuses these GELUs into the MatMul (computed in float32 inside
# the kernel, then rounded once), which the casts of `_in_float32` would prevent.
# Only where no gradient is taken: training needs the pre-activation, so the
# remapper leaves the GELU unfused there and the float32 path is the faster.
_FUSABLE = {
    "gelu": functools.partial(keras.activations.gelu, approximate=False),
    "gelu_new": functools.partial(keras.activations.gelu, approximate=True),
    "gelu_pytorch_tanh": functools.partial(keras.activations.gelu, approximate=True),
}


def get_activation(name, fusable=False):
    """The activation called `name`; `fusable=True` gives the inference form (see `_FUSABLE`)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; valid: {sorted(ACTIVATIONS)}.")
    if fusable:
        return _FUSABLE.get(name, ACTIVATIONS[name])
    return ACTIVATIONS[name]
