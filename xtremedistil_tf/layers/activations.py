"""Feed-forward activations under their Hugging Face names."""
import keras


def _gelu_exact(x):
    return keras.activations.gelu(x, approximate=False)


def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


ACTIVATIONS = {
    "gelu": _gelu_exact,
    "gelu_new": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "relu": keras.activations.relu,
    "silu": keras.activations.silu,
}


def get_activation(name):
    if name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation {name!r}; valid: {sorted(ACTIVATIONS)}.")
    return ACTIVATIONS[name]
