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
