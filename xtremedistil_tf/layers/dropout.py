"""Dropout that can draw 16 random bits per element instead of a float32 uniform."""
import keras
import tensorflow as tf

# A keep decision compares 16 random bits with round(rate * 2**16); the rate is
# then exact to 2**-17, and the scale uses the rate actually drawn, so the
# expected output equals the input.
_BITS = 16


class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` (same config, seed generator and checkpoint state), cheaper.

    Keras draws one float32 uniform per element; on CPU, TensorFlow's Philox
    generator is most of dropout's cost (and of the bf16 training step's
    elementwise work over `[batch, heads, seq, seq]` attention probabilities).
    This splits each 32-bit draw into two 16-bit halves, halving the generator's
    work, and applies the mask as one multiply, whose gradient is one multiply.
    A `noise_shape` falls back to Keras's dropout.

    Only with `cheap_draw=True`, which the encoder layers set under mixed
    precision: float32 training keeps Keras's draws, bit for bit.
    """

    def __init__(self, rate, cheap_draw=False, **kwargs):
        super().__init__(rate, **kwargs)
        self.cheap_draw = bool(cheap_draw)

    def get_config(self):
        return {**super().get_config(), "cheap_draw": self.cheap_draw}

    def call(self, inputs, training=False):
        if (not self.cheap_draw or not training or not 0 < self.rate < 1
                or self.noise_shape is not None):
            return super().call(inputs, training=training)
        seed = keras.random.SeedGenerator.next(self.seed_generator)
        seed = tf.cast(tf.math.floormod(seed, tf.int32.max - 1), tf.int32)
        shape = tf.shape(inputs)
        count = tf.reduce_prod(shape)
        words = tf.random.stateless_uniform(
            [(count + 1) // 2], seed=seed, minval=None, maxval=None, dtype=tf.uint32)
        bits = tf.reshape(tf.bitcast(words, tf.uint16), [-1])[:count]
        threshold = min(max(round(self.rate * 2 ** _BITS), 1), 2 ** _BITS - 1)
        keep = tf.reshape(bits >= tf.constant(threshold, tf.uint16), shape)
        scale = 2 ** _BITS / (2 ** _BITS - threshold)
        mask = tf.where(keep, tf.constant(scale, inputs.dtype), tf.zeros([], inputs.dtype))
        return inputs * mask
