"""Feed-forward activations: names, and GELU computed in float32 under mixed precision."""
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


@pytest.mark.parametrize("name, approximate", [("gelu", False), ("gelu_new", True)])
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_gelu_is_float32_gelu_rounded_once(name, approximate, dtype):
    x = tf.cast(X, dtype)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = get_activation(name)(x)
    assert out.dtype == dtype
    exact = keras.activations.gelu(tf.cast(x, "float32"), approximate=approximate)
    np.testing.assert_array_equal(out, tf.cast(exact, dtype))
    grad = tape.gradient(out, x)
    assert grad.dtype == dtype
    with tf.GradientTape() as tape32:
        x32 = tf.cast(x, "float32")
        tape32.watch(x32)
        expected = tape32.gradient(keras.activations.gelu(x32, approximate=approximate), x32)
    np.testing.assert_array_equal(grad, tf.cast(expected, dtype))


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
