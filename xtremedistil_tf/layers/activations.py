"""Feed-forward activations under their Hugging Face names."""
import functools

import keras
from keras import ops


def _in_float32(activation):
    """Runs `activation` in float32 and casts back; float32 inputs pass straight through.

    On CPU, TensorFlow's bfloat16 `erfc` (inside exact GELU) and GELU's chain of
    elementwise ops run element by element, about 3x slower than casting the
    `[tokens, intermediate]` tensor to float32, computing there and casting back;
    the float32 result is also the more exact one.
    """
    @functools.wraps(activation)
    def wrapped(x):
        dtype = keras.backend.standardize_dtype(x.dtype)
        if dtype == "float32":
            return activation(x)
        return ops.cast(activation(ops.cast(x, "float32")), dtype)
    return wrapped


@_in_float32
def _gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


@_in_float32
def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


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
