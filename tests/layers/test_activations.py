"""Feed-forward activations: names, and GELU computed in float32 under mixed precision."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf.layers.activations import get_activation

# Odd shape, values across GELU's curved region and its tails.
X = np.linspace(-6.0, 5.0, 3 * 37, dtype=np.float32).reshape(3, 37)


@pytest.mark.parametrize("name, approximate", [("gelu", False), ("gelu_new", True),
                                               ("gelu_pytorch_tanh", True)])
def test_float32_is_keras_gelu_bit_for_bit(name, approximate):
    out = get_activation(name)(tf.constant(X))
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out, keras.activations.gelu(X, approximate=approximate))


def _gelu64(x, approximate):
    """GELU and its derivative in float64, from the definitions."""
    x = np.asarray(x, np.float64)
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        t = np.tanh(c * (x + 0.044715 * x ** 3))
        return 0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2.0)))
    return x * cdf, cdf + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize("name, approximate", [("gelu", False), ("gelu_new", True)])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_gelu_and_gradient_are_float64_rounded_once(name, approximate, dtype):
    x = tf.cast(X, dtype)
    upstream = tf.cast(np.linspace(0.5, 2.0, X.size).reshape(X.shape), dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = get_activation(name)(x)
    grad = tape.gradient(out, x, output_gradients=upstream)
    assert out.dtype == dtype and grad.dtype == dtype
    value, derivative = _gelu64(tf.cast(x, "float64"), approximate)
    # Rounded once to 16 bits: within a unit in the last place (2^-8 of the value for
    # bfloat16, 2^-11 for float16), plus float32's own cancellation in the far tail.
    rtol = {"bfloat16": 2.0 ** -8, "float16": 2.0 ** -11}[dtype]
    np.testing.assert_allclose(tf.cast(out, "float64"), value, rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(tf.cast(grad, "float64"),
                               tf.cast(upstream, "float64") * derivative, rtol=rtol, atol=5e-6)


def test_low_precision_gelu_works_inside_a_traced_step_with_any_batch():
    layer = get_activation("gelu")

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            total = tf.reduce_sum(tf.cast(y, "float32"))
        return y, tape.gradient(total, x)

    for rows in (3, 5):
        x = tf.cast(np.linspace(-3, 3, rows * 8).reshape(rows, 8), "bfloat16")
        y, grad = step(x)
        assert y.shape == (rows, 8) and grad.dtype == tf.bfloat16
        np.testing.assert_allclose(tf.cast(grad, "float64"), _gelu64(x, False)[1], rtol=2.0 ** -7,
                                   atol=1e-6)


def test_relu_keeps_the_input_dtype_without_casts():
    x = tf.cast(X, "bfloat16")
    np.testing.assert_array_equal(get_activation("relu")(x), tf.nn.relu(x))


def test_unknown_activation_lists_valid_ones():
    with pytest.raises(ValueError, match="valid:.*gelu"):
        get_activation("swish2")


@pytest.mark.parametrize("name", ["gelu", "gelu_new", "relu"])
def test_fusable_form_is_the_same_function_in_float32_and_keeps_bfloat16(name):
    x = tf.constant(X)
    np.testing.assert_array_equal(get_activation(name, fusable=True)(x), get_activation(name)(x))
    low = get_activation(name, fusable=True)(tf.cast(x, "bfloat16"))
    assert low.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(low, "float32"), get_activation(name)(x), atol=0.05)
