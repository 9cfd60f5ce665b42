"""The base of every task model: an `Encoder` backbone plus a small dense head."""
import keras


class TaskModel(keras.Model):
    """An encoder with a head; subclasses add the head and its outputs.

    Every task model returns a dict holding its head outputs (`logits`, or
    `start_logits` and `end_logits`) and, passed through, the encoder outputs
    `sequence_output`, `pooled_output`, `hidden_states` and `attention_probs`, so
    a distiller can compare any of them. `model.encoder` is the backbone.

    Args:
        encoder: an `Encoder`, or a `BiLSTMStudent` built without a head (its
            `config` carries the same field names the heads read).
        dropout: dropout rate before the head; `None` means the encoder's
            `hidden_dropout_prob`.
        **kwargs: `keras.Model` arguments such as `name`.
    """

    #: Names of the head outputs in the dict `call` returns.
    head_output_names = ("logits",)

    def __init__(self, encoder, dropout=None, **kwargs):
        super().__init__(**kwargs)
        if dropout is None:
            dropout = encoder.config.hidden_dropout_prob
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout} must be in [0, 1).")
        self.encoder = encoder
        self.dropout_rate = float(dropout)
        self.head_dropout = keras.layers.Dropout(self.dropout_rate, dtype=encoder.dtype_policy,
                                                 name="head_dropout")

    def _dense_head(self, units, name):
        return keras.layers.Dense(
            units, kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            dtype=self.encoder.dtype_policy, name=name)

    def build_head(self):
        """Builds the head's layers; the encoder is built already."""
        raise NotImplementedError

    def build(self, input_shape=None):
        # A deserialised encoder arrives built; building it twice would add weights.
        if not self.encoder.built:
            self.encoder.build()
        self.build_head()
        self.built = True

    def build_from_config(self, config):
        # Inputs are a dict whose shapes Keras cannot replay; the weights need none.
        self.build()

    def get_config(self):
        base = super().get_config()
        base.update(encoder=keras.saving.serialize_keras_object(self.encoder),
                    dropout=self.dropout_rate)
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
