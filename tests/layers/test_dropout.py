"""Dropout from 8- and 16-bit draws: rate, unbiased scale, seeded, and a gradient through the mask."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf.layers.dropout import Dropout, draw_bits, drawn_rate

SHAPE = (3, 5, 37, 41)  # odd element count: the last 8- or 16-bit parts are dropped


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("rate", [0.1, 0.3, 0.01])
def test_drops_at_the_rate_and_keeps_the_mean(policy, rate):
    layer = Dropout(rate, dtype=policy, seed=7, cheap_draw=True)
    x = tf.ones(SHAPE, layer.compute_dtype)
    y = layer(x, training=True)
    assert y.dtype == x.dtype and y.shape == SHAPE
    dropped = float(tf.reduce_mean(tf.cast(y == 0, "float32")))
    assert abs(dropped - drawn_rate(rate)) < 4 * (rate / np.prod(SHAPE)) ** 0.5
    assert abs(drawn_rate(rate) - rate) <= 0.02 * rate
    kept = tf.boolean_mask(tf.cast(y, "float32"), y != 0)
    np.testing.assert_allclose(kept, 1 / (1 - drawn_rate(rate)),
                               rtol=1e-7 if policy == "float32" else 4e-3)


def test_bits_per_draw_follow_the_rate():
    # 8 bits where rounding to 1/256 keeps the rate within 2%; 16 where it would not.
    assert draw_bits(0.1) == 8 and drawn_rate(0.1) == 26 / 256
    assert draw_bits(0.5) == 8 and drawn_rate(0.5) == 0.5
    assert draw_bits(0.01) == 16 and drawn_rate(0.01) == 655 / 65536
    assert draw_bits(0.001) == 16 and abs(drawn_rate(0.001) - 0.001) < 1e-5


def test_seeded_calls_repeat_across_layers_and_differ_within_one():
    x = tf.ones(SHAPE)
    first, second = (Dropout(0.3, seed=11, cheap_draw=True),
                     Dropout(0.3, seed=11, cheap_draw=True))
    a = first(x, training=True)
    np.testing.assert_array_equal(a, second(x, training=True))
    assert not np.array_equal(a, first(x, training=True))


def test_gradient_is_the_mask():
    layer = Dropout(0.5, seed=5, cheap_draw=True)
    x = tf.random.normal(SHAPE, seed=1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
    grad = tape.gradient(y, x)
    np.testing.assert_allclose(grad, np.where(y.numpy() != 0, 2.0, 0.0), rtol=1e-6)


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_inference_and_edge_rates_match_keras(rate):
    x = tf.random.normal(SHAPE, seed=2)
    np.testing.assert_array_equal(Dropout(0.4)(x, training=False), x)
    np.testing.assert_array_equal(Dropout(rate, cheap_draw=True)(x, training=True),
                                  keras.layers.Dropout(rate)(x, training=True))


def test_without_cheap_draw_it_is_keras_dropout_bit_for_bit():
    x = tf.random.normal(SHAPE, seed=3)
    ours, theirs = Dropout(0.3, seed=13), keras.layers.Dropout(0.3, seed=13)
    np.testing.assert_array_equal(ours(x, training=True), theirs(x, training=True))
    assert Dropout.from_config(Dropout(0.2, cheap_draw=True).get_config()).cheap_draw


def test_cast_to_drops_in_float32_and_hands_on_16_bits_inside_a_traced_step():
    layer = Dropout(0.3, seed=9, cheap_draw=True, cast_to="bfloat16", dtype="float32")
    x = tf.random.uniform(SHAPE, 0.5, 1.5, seed=3)
    upstream = tf.cast(tf.random.normal(SHAPE, seed=4), "bfloat16")

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        return y, tape.gradient(y, x, output_gradients=upstream)

    y, grad = step(x)
    assert y.dtype == tf.bfloat16 and grad.dtype == tf.float32
    kept = y.numpy() != 0
    assert 0.2 < 1 - kept.mean() < 0.4
    scale = 1 / (1 - drawn_rate(0.3))
    np.testing.assert_array_equal(y, tf.cast(np.where(kept, x * scale, 0.0), "bfloat16"))
    np.testing.assert_allclose(grad, np.where(kept, tf.cast(upstream, "float32") * scale, 0.0),
                               rtol=1e-6)
    assert Dropout.from_config(layer.get_config()).cast_to == "bfloat16"
