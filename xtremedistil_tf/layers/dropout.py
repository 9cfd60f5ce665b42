"""Dropout that can draw 8 or 16 random bits per element instead of a float32 uniform."""
import keras
import tensorflow as tf

# A keep decision compares 8 random bits with round(rate * 2**8) when that drawn
# rate is within 2% of the rate asked for (0.1 draws 26/256 = 0.1016), else 16
# bits with round(rate * 2**16) (exact to 2**-17). The scale uses the rate
# actually drawn, so the expected output equals the input.
_RATE_TOLERANCE = 0.02


def _draw(rate):
    """`(bits per element, threshold)`: an element is dropped when its bits are below."""
    bits = 8 if abs(round(rate * 2 ** 8) / 2 ** 8 - rate) <= _RATE_TOLERANCE * rate else 16
    return bits, min(max(round(rate * 2 ** bits), 1), 2 ** bits - 1)


def draw_bits(rate):
    """How many random bits a cheap dropout draw spends per element at `rate`."""
    return _draw(rate)[0]


def drawn_rate(rate):
    """The rate a cheap dropout draw actually drops at (what its scale corrects for)."""
    bits, threshold = _draw(rate)
    return threshold / 2 ** bits


class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` (same config, seed generator and checkpoint state), cheaper.

    Keras draws one float32 uniform per element; on CPU, TensorFlow's Philox
    generator is most of dropout's cost (and of the bf16 training step's
    elementwise work over `[batch, heads, seq, seq]` attention probabilities).
    This splits each 32-bit draw into four 8-bit (or two 16-bit) parts, a
    quarter (a half) of the generator's work, at a rate rounded as `drawn_rate`
    says, and applies the mask as one multiply, whose gradient is one multiply.
    A `noise_shape` falls back to Keras's dropout.

    Only with `cheap_draw=True`, which the encoder layers set under mixed
    precision: float32 training keeps Keras's draws, bit for bit. There the mask
    is applied in one XLA-compiled pass each way, which can also cast the result
    (`cast_to`: attention drops its float32 probabilities and hands bfloat16
    weights on), instead of TensorFlow's compare, select, multiply and cast, which
    run element by element in bfloat16 on CPU (forward and backward over the
    `[32, 8, 128, 128]` probabilities: 16 ms -> 10 ms with the draw, one thread).
    """

    def __init__(self, rate, cheap_draw=False, cast_to=None, **kwargs):
        super().__init__(rate, **kwargs)
        self.cheap_draw = bool(cheap_draw)
        self.cast_to = cast_to

    def get_config(self):
        return {**super().get_config(), "cheap_draw": self.cheap_draw, "cast_to": self.cast_to}

    def draw(self, inputs, training=False):
        """The cheap draw's mask for `inputs`, or None where `call` would not use it.

        Returns `(draws, threshold, scale)`: an element is dropped where its draw is
        below `threshold`, the rest are multiplied by `scale`. Each call advances the
        seed generator, as `call` does. The transformer layers pass it to
        `LayerNormalization.add_and_normalize`, which applies it inside its own pass.
        """
        if (not self.cheap_draw or not training or not 0 < self.rate < 1
                or self.noise_shape is not None):
            return None
        seed = keras.random.SeedGenerator.next(self.seed_generator)
        seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
        shape = tf.shape(inputs)
        count = tf.reduce_prod(shape)
        bits, threshold = _draw(self.rate)
        per_word = 32 // bits
        unit = tf.uint8 if bits == 8 else tf.uint16
        words = tf.random.stateless_uniform(
            [(count + per_word - 1) // per_word], seed=seed, minval=None, maxval=None,
            dtype=tf.uint32)
        draws = tf.reshape(tf.reshape(tf.bitcast(words, unit), [-1])[:count], shape)
        return (draws, tf.constant(threshold, unit),
                tf.constant(2 ** bits / (2 ** bits - threshold), tf.float32))

    def call(self, inputs, training=False):
        drawn = self.draw(inputs, training=training)
        if drawn is None:
            return super().call(inputs, training=training)
        return _apply(inputs, drawn, tf.as_dtype(self.cast_to or inputs.dtype))


def apply_draw(values, drawn):
    """`values` in float32 with `drawn`'s mask and scale applied (`Dropout.draw`):
    the elementwise step, for use inside a compiled pass."""
    draws, threshold, scale = drawn
    kept = tf.cast(values, tf.float32) * scale
    return tf.where(draws >= threshold, kept, tf.zeros_like(kept))


@tf.function(jit_compile=True, autograph=False)
def masked(values, drawn, dtype):
    """`apply_draw` as one compiled pass, the result cast to `dtype`."""
    return tf.cast(apply_draw(values, drawn), dtype)


def _apply(inputs, drawn, dtype):
    """`inputs` with the elements whose draw is under `threshold` zeroed, the rest
    times `scale`, in `dtype`; the gradient is the same mask on the way back."""
    @tf.custom_gradient
    def apply(inputs):
        return (masked(inputs, drawn, dtype),
                lambda upstream: masked(upstream, drawn, inputs.dtype))
    return apply(inputs)


def set_dropout_rate(model, rate):
    """Sets the rate of every dropout layer in `model` (nested layers included).

    The encoders build their dropout layers from the checkpoint's config; fine-tuning
    with another rate (`run_finetune.py --dropout`) changes them in place before the
    first step. Returns how many layers were set.
    """
    layers = [layer for layer in model._flatten_layers(include_self=True)
              if isinstance(layer, keras.layers.Dropout)]
    for layer in layers:
        layer.rate = float(rate)
    return len(layers)
