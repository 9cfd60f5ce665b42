"""LayerNorm under mixed precision: the float32 function, forward and backward, rounded once."""
import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf.layers.layer_normalization import LayerNormalization

RNG = np.random.default_rng(0)
# batch 2, seq 5, hidden 24; one outlier dimension as on a real residual stream.
X = (RNG.normal(size=(2, 5, 24)) * 2 + 0.5).astype(np.float32)
X[..., 3] *= 40.0
UPSTREAM = RNG.normal(size=X.shape).astype(np.float32)


def _layer(dtype):
    layer = LayerNormalization(epsilon=1e-12, dtype=dtype)
    layer.build(X.shape)
    layer.gamma.assign(RNG.normal(size=24).astype(np.float32) + 1.0)
    layer.beta.assign(RNG.normal(size=24).astype(np.float32))
    return layer


def _grads(layer, x):
    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            out = layer(x)
            loss = tf.reduce_sum(tf.cast(out, "float32") * UPSTREAM)
        return (out,) + tuple(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    return run(x)


@pytest.mark.parametrize("policy, rtol", [("mixed_bfloat16", 2.0 ** -7),
                                          ("mixed_float16", 2.0 ** -10)])
def test_16_bit_layer_norm_matches_float32_forward_and_backward(policy, rtol):
    layer32 = _layer("float32")
    low = LayerNormalization(epsilon=1e-12, dtype=policy)
    low.build(X.shape)
    low.set_weights(layer32.get_weights())
    dtype = low.compute_dtype
    x_low = tf.cast(X, dtype)
    # The float32 reference sees the same (rounded) input.
    ref = _grads(layer32, tf.cast(x_low, "float32"))
    got = _grads(low, x_low)
    assert got[0].dtype == dtype and got[1].dtype == dtype
    assert got[2].dtype == tf.float32 and got[3].dtype == tf.float32
    for name, want, have in zip(["output", "d input", "d gamma", "d beta"], ref, got):
        want, have = np.asarray(want, np.float64), np.asarray(tf.cast(have, "float64"))
        scale = np.abs(want).max()
        np.testing.assert_allclose(have, want, rtol=rtol, atol=rtol * scale, err_msg=name)


def test_16_bit_layer_norm_trains_its_variables_in_a_keras_model():
    import keras
    inputs = keras.Input((5, 24), dtype="float32")
    outputs = LayerNormalization(epsilon=1e-12, dtype="mixed_bfloat16")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(X, UPSTREAM, epochs=1, batch_size=2, verbose=0)
    after = model.get_weights()
    assert all(np.abs(a - b).max() > 1e-4 for a, b in zip(after, before))


def _reference_residual(layer32, x, update, drawn):
    """float32 LayerNorm of `x + dropout(update)` with the mask of `drawn`, and its gradients."""
    draws, threshold, scale = drawn
    keep = tf.cast(draws >= threshold, "float32") * scale

    @tf.function
    def run(x, update):
        with tf.GradientTape() as tape:
            tape.watch([x, update])
            out = layer32(x + update * keep)
            loss = tf.reduce_sum(out * UPSTREAM)
        return (out,) + tuple(tape.gradient(loss, [x, update, layer32.gamma, layer32.beta]))
    return run(x, update), keep


def test_16_bit_add_and_normalize_applies_the_mask_and_matches_float32():
    from xtremedistil_tf.layers.dropout import Dropout
    layer32 = _layer("float32")
    low = LayerNormalization(epsilon=1e-12, dtype="mixed_bfloat16")
    low.build(X.shape)
    low.set_weights(layer32.get_weights())
    x = tf.cast(X, "bfloat16")
    update = tf.cast(RNG.normal(size=X.shape) * 3, "bfloat16")
    # Two layers with one seed draw the same mask: one shows it, one is applied.
    shown, applied = (Dropout(0.3, seed=5, dtype="mixed_bfloat16", cheap_draw=True)
                      for _ in range(2))
    drawn = shown.draw(update, training=True)
    ref, keep = _reference_residual(layer32, tf.cast(x, "float32"), tf.cast(update, "float32"),
                                    drawn)
    assert 0.15 < float(tf.reduce_mean(tf.cast(keep == 0, "float32"))) < 0.45

    @tf.function
    def run(x, update):
        with tf.GradientTape() as tape:
            tape.watch([x, update])
            out = low.add_and_normalize(x, update, applied, training=True)
            loss = tf.reduce_sum(tf.cast(out, "float32") * UPSTREAM)
        return (out,) + tuple(tape.gradient(loss, [x, update, low.gamma, low.beta]))
    got = run(x, update)
    assert [t.dtype for t in got] == [tf.bfloat16] * 3 + [tf.float32] * 2
    # Dropped elements of the update get no gradient.
    assert np.all(np.asarray(tf.cast(got[2], "float32"))[np.asarray(keep) == 0] == 0)
    rtol = 2.0 ** -7
    for name, want, have in zip(["output", "d x", "d update", "d gamma", "d beta"], ref, got):
        want, have = np.asarray(want, np.float64), np.asarray(tf.cast(have, "float64"))
        np.testing.assert_allclose(have, want, rtol=rtol, atol=rtol * np.abs(want).max(),
                                   err_msg=name)


@pytest.mark.parametrize("policy, training", [("float32", True), ("mixed_bfloat16", False)])
def test_add_and_normalize_is_the_plain_residual_step_elsewhere(policy, training):
    # float32 training (Keras's own draws) and inference take the unfused path, exactly.
    from xtremedistil_tf.layers.dropout import Dropout
    layer = LayerNormalization(epsilon=1e-12, dtype=policy)
    layer.build(X.shape)
    dtype = layer.compute_dtype
    x, update = tf.cast(X, dtype), tf.cast(UPSTREAM * 3, dtype)
    first, second = (Dropout(0.3, seed=9, dtype=policy, cheap_draw=policy != "float32")
                     for _ in range(2))
    want = layer(x + first(update, training=training))
    got = layer.add_and_normalize(x, update, second, training=training)
    assert got.dtype == dtype
    np.testing.assert_array_equal(np.asarray(tf.cast(got, "float32")),
                                  np.asarray(tf.cast(want, "float32")))
    if training:
        assert not np.array_equal(np.asarray(want), np.asarray(layer(x + update)))
