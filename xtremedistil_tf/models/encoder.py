"""The BERT-family encoder shared by teachers, students and every task."""
import keras
from keras import ops

from xtremedistil_tf.layers import Embeddings, TransformerLayer
from xtremedistil_tf.models.encoder_config import EncoderConfig

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class Encoder(keras.Model):
    """A BERT / RoBERTa / XLM-R / ELECTRA encoder that reproduces HF checkpoints.

    Args:
        config: an `EncoderConfig` (or its dict form, as `from_config` passes it).
        **kwargs: `keras.Model` arguments such as `name` and `dtype`; a
            mixed-precision `dtype` policy is honoured by every sub-layer.

    Call:
        inputs: a dict with `input_ids` (int `[batch, seq]`) and optionally
            `attention_mask` (1 for real tokens, default all ones) and
            `token_type_ids` (default all zeros).
        output_qkv: also return every layer's queries, keys and values.
        head_mask: optional float `[num_layers, num_heads]` multiplied into the
            attention weights (used to score head importance).

    Returns a dict:
        `sequence_output` `[batch, seq, hidden]`; `pooled_output` `[batch, hidden]`;
        `hidden_states`, a tuple of `num_layers + 1` tensors, the embeddings
        output first; `attention_probs`, a tuple of `num_layers` float32
        `[batch, heads, seq, seq]`; with `output_qkv`, `queries`, `keys` and
        `values`, tuples of `num_layers` `[batch, seq, hidden]`.

    Examples:
    >>> encoder = Encoder(get_preset("tiny"))
    >>> out = encoder({"input_ids": np.array([[2, 5, 3]])})
    >>> out["sequence_output"].shape
    TensorShape([1, 3, 32])
    """

    def __init__(self, config, **kwargs):
        if isinstance(config, dict):
            config = EncoderConfig.from_dict(config)
        config.validate()
        super().__init__(**kwargs)
        self.config = config
        policy = self.dtype_policy
        # Layers.
        self.embeddings = Embeddings(config, dtype=policy, name="embeddings")
        self.encoder_layers = [
            TransformerLayer(config, dtype=policy, name=f"layer_{i}")
            for i in range(config.num_hidden_layers)
        ]
        self.pooler = None
        if config.use_pooler:
            self.pooler = keras.layers.Dense(
                config.hidden_size, activation="tanh",
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                dtype=policy, name="pooler")

    def build(self, input_shape=None):
        self.embeddings.build()
        for layer in self.encoder_layers:
            layer.build()
        if self.pooler is not None:
            self.pooler.build((None, self.config.hidden_size))
        self.built = True

    def call(self, inputs, training=False, output_qkv=False, head_mask=None):
        input_ids = ops.cast(inputs["input_ids"], "int32")
        attention_mask = inputs.get("attention_mask")
        if attention_mask is None:
            attention_mask = ops.ones_like(input_ids)
        token_type_ids = inputs.get("token_type_ids")
        if token_type_ids is None:
            token_type_ids = ops.zeros_like(input_ids)
        token_type_ids = ops.cast(token_type_ids, "int32")
        attention_mask = ops.cast(attention_mask, "int32")

        # Wiring.
        x = self.embeddings(input_ids, token_type_ids, training=training)
        hidden_states, attention_probs, queries, keys, values = [x], [], [], [], []
        for i, layer in enumerate(self.encoder_layers):
            layer_head_mask = None if head_mask is None else head_mask[i]
            x, probs, (query, key, value) = layer(
                x, attention_mask, head_mask=layer_head_mask, training=training)
            hidden_states.append(x)
            attention_probs.append(probs)
            queries.append(query)
            keys.append(key)
            values.append(value)
        first_token = x[:, 0]
        pooled = self.pooler(first_token) if self.pooler is not None else first_token
        outputs = {
            "sequence_output": x,
            "pooled_output": pooled,
            "hidden_states": tuple(hidden_states),
            "attention_probs": tuple(attention_probs),
        }
        if output_qkv:
            outputs.update(queries=tuple(queries), keys=tuple(keys), values=tuple(values))
        return outputs

    # Config.
    def get_config(self):
        base = super().get_config()
        base["config"] = self.config.to_dict()
        return base

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder_config = config.pop("config")
        return cls(EncoderConfig.from_dict(encoder_config), **config)

    def dummy_inputs(self, batch_size=2, seq_len=7):
        """A small valid input dict, used to build and trace the model."""
        ids = ops.full((batch_size, seq_len), self.config.pad_token_id + 1, dtype="int32")
        return {"input_ids": ids, "attention_mask": ops.ones_like(ids),
                "token_type_ids": ops.zeros_like(ids)}
