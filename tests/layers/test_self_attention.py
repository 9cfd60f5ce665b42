"""Self-attention under mixed precision: float32 probabilities and attention dropout."""
import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf import get_preset
from xtremedistil_tf.layers import SelfAttention
from xtremedistil_tf.layers.dropout import Dropout

# batch 3, seq 7, hidden 32 (tiny preset: 4 heads).
X = np.random.default_rng(0).normal(size=(3, 7, 32)).astype(np.float32)
MASK = np.array([[1] * 7, [1] * 4 + [0] * 3, [1] * 6 + [0]], np.int32)


def _attention(dtype, rate):
    layer = SelfAttention(get_preset("tiny", attention_probs_dropout_prob=rate), dtype=dtype)
    layer.build()
    return layer


def test_dropout_runs_in_float32_under_mixed_bfloat16():
    layer = _attention("mixed_bfloat16", 0.4)
    assert layer.compute_dtype == "bfloat16"
    assert layer.dropout.compute_dtype == "float32"
    output, probs, _ = layer(tf.constant(X, "bfloat16"), MASK, training=True)
    assert output.dtype == tf.bfloat16 and probs.dtype == tf.float32


def test_float32_dropout_draws_the_same_weights_as_a_dropout_layer_on_the_probs():
    rate = 0.4
    layer = _attention("float32", rate)
    # Same seed state before each draw: the layer's dropout and a copy of it.
    reference = Dropout(rate, dtype="float32")
    reference.seed_generator.state.assign(layer.dropout.seed_generator.state.value)
    inputs = tf.constant(X)
    output, probs, (_, _, value) = layer(inputs, MASK, training=True)
    weights = reference(probs, training=True)
    assert 0 < np.mean(np.asarray(weights) == 0) < 1  # Some, not all, weights dropped.
    heads = tf.transpose(tf.reshape(value, (3, 7, 4, 8)), (0, 2, 1, 3))
    context = tf.reshape(tf.transpose(weights @ heads, (0, 2, 1, 3)), (3, 7, 32))
    np.testing.assert_allclose(output, layer.output_dense(context), atol=1e-6)


def test_mixed_bfloat16_matches_float32_without_dropout():
    reference, mixed = _attention("float32", 0.0), _attention("mixed_bfloat16", 0.0)
    mixed.set_weights(reference.get_weights())
    expected, expected_probs, _ = reference(tf.constant(X), MASK)
    output, probs, _ = mixed(tf.constant(X, "bfloat16"), MASK)
    np.testing.assert_allclose(np.asarray(tf.cast(output, "float32")), expected, atol=0.05)
    np.testing.assert_allclose(probs, expected_probs, atol=0.02)


def test_mixed_bfloat16_gradients_match_float32_and_skip_padded_keys():
    reference, mixed = _attention("float32", 0.0), _attention("mixed_bfloat16", 0.0)
    mixed.set_weights(reference.get_weights())
    upstream = np.random.default_rng(1).normal(size=(3, 4, 7, 7)).astype(np.float32)

    def grads(layer, x):
        @tf.function
        def run(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                _, probs, _ = layer(x, MASK)
                loss = tf.reduce_sum(probs * upstream)
            return probs, tape.gradient(loss, [x, layer.query.kernel, layer.key.kernel])
        return run(x)

    expected_probs, expected = grads(reference, tf.constant(X))
    probs, got = grads(mixed, tf.constant(X, "bfloat16"))
    assert probs.dtype == tf.float32 and got[0].dtype == tf.bfloat16
    # Padded keys get (almost) no weight in either precision.
    assert float(tf.reduce_max(probs[1, :, :, 4:])) < 1e-30
    np.testing.assert_allclose(probs, expected_probs, atol=0.02)
    for want, have in zip(expected, got):
        want = np.asarray(want)
        np.testing.assert_allclose(np.asarray(tf.cast(have, "float32")), want,
                                   atol=0.03 * np.abs(want).max())


@pytest.mark.parametrize("probs_in_loss", [True, False])
def test_softmax_and_dropout_backward_in_one_pass_matches_autodiff(probs_in_loss):
    # The mixed-precision training path: softmax, then the cheap dropout's mask and a
    # bfloat16 cast, with the gradient of both outputs computed in one compiled pass.
    from xtremedistil_tf.layers.self_attention import _softmax_dropout
    rng = np.random.default_rng(2)
    logits = tf.constant(rng.normal(size=(2, 3, 5, 6)) * 3, tf.float32)
    up_weights = tf.constant(rng.normal(size=logits.shape), tf.bfloat16)
    up_probs = tf.constant(rng.normal(size=logits.shape), tf.float32)
    drawn = Dropout(0.3, seed=4, cheap_draw=True).draw(logits, training=True)
    keep = tf.cast(drawn[0] >= drawn[1], tf.float64) * tf.cast(drawn[2], tf.float64)
    assert 0 < float(tf.reduce_mean(tf.cast(keep == 0, tf.float32))) < 1

    def loss(probs, weights):
        total = tf.reduce_sum(tf.cast(weights, tf.float64) * tf.cast(up_weights, tf.float64))
        if probs_in_loss:
            total += tf.reduce_sum(tf.cast(probs, tf.float64) * tf.cast(up_probs, tf.float64))
        return total

    @tf.function
    def fused(logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            probs, weights = _softmax_dropout(logits, drawn, tf.bfloat16)
            value = loss(probs, weights)
        return probs, weights, tape.gradient(value, logits)

    logits64 = tf.cast(logits, tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(logits64)
        probs64 = tf.nn.softmax(logits64)
        want_grad = tape.gradient(loss(probs64, probs64 * keep), logits64)
    probs, weights, grad = fused(logits)
    assert weights.dtype == tf.bfloat16 and probs.dtype == tf.float32
    np.testing.assert_allclose(probs, probs64, atol=1e-6)
    np.testing.assert_allclose(np.asarray(tf.cast(weights, tf.float64)), probs64 * keep,
                               rtol=2 ** -8, atol=1e-6)
    np.testing.assert_allclose(grad, want_grad, atol=1e-5 * np.abs(want_grad).max() + 1e-6)
