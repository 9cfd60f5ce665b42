"""Dropout from 16-bit draws: rate, unbiased scale, seeded, and a gradient through the mask."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf.layers.dropout import Dropout

SHAPE = (3, 5, 37, 41)  # odd element count: the last 16-bit half is dropped


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_drops_at_the_rate_and_keeps_the_mean(policy):
    layer = Dropout(0.1, dtype=policy, seed=7, cheap_draw=True)
    x = tf.ones(SHAPE, layer.compute_dtype)
    y = layer(x, training=True)
    assert y.dtype == x.dtype and y.shape == SHAPE
    dropped = float(tf.reduce_mean(tf.cast(y == 0, "float32")))
    assert abs(dropped - 0.1) < 0.005
    kept = tf.boolean_mask(tf.cast(y, "float32"), y != 0)
    np.testing.assert_allclose(kept, 1 / (1 - round(0.1 * 65536) / 65536),
                               rtol=1e-7 if policy == "float32" else 4e-3)


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
