"""A BiLSTM student with attention pooling, for model-agnostic distillation."""
import keras
from keras import ops

from xtremedistil_tf.models.bilstm_config import BiLSTMConfig

# Added to the pooling scores of padded tokens; exp() of it is 0 in float32.
_MASK_BIAS = -1e9


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class BiLSTMStudent(keras.Model):
    """Embeddings, one bidirectional LSTM, attention pooling and an optional head.

    It takes the same input dict as `Encoder` and returns the keys the logit
    and sentence-vector distillation losses read, so it runs through the same
    `Distiller` and multi-task path as a transformer student. It has no
    `hidden_states`, attention or Q/K/V: the representation losses of a
    transformer do not apply to it. Built without a head it is an encoder like
    any other: `config` gives its shape under `EncoderConfig`'s names, so task
    models (`SequenceClassifier`, `TokenClassifier`, `QuestionAnswerer`),
    fine-tuning and export take it in place of an `Encoder`.

    Args:
        vocab_size: rows of the word-embedding table (the teacher's vocabulary).
        embedding_size: width of the word and token-type embeddings.
        hidden_size: width of the BiLSTM output (both directions together, so
            each direction has `hidden_size // 2` units); must be even.
        num_labels: width of the classification head, or None for no head
            (an encoder, e.g. the shared body of a multi-task student).
        attention_size: width of the attention-pooling scorer.
        dropout: dropout on embeddings and on the pooled output.
        type_vocab_size: rows of the token-type table (text pairs use 2).
        pad_token_id: used only when `attention_mask` is not given.
        **kwargs: `keras.Model` arguments such as `name` and `dtype`.

    Call:
        inputs: a dict with `input_ids` `[batch, seq]` and optionally
            `attention_mask` and `token_type_ids`.
        output_qkv: accepted for call compatibility with `Encoder`; this model
            has no queries, keys or values and returns none.

    Returns a dict with `sequence_output` `[batch, seq, hidden_size]`,
    `pooled_output` `[batch, hidden_size]` and, with a head, float32 `logits`
    `[batch, num_labels]`.

    Examples:
    >>> student = BiLSTMStudent(vocab_size=99, embedding_size=16, hidden_size=24,
    ...                         num_labels=3)
    >>> student({"input_ids": np.array([[2, 5, 3, 0]])})["logits"].shape
    TensorShape([1, 3])
    """

    def __init__(self, vocab_size, embedding_size=128, hidden_size=256, num_labels=None,
                 attention_size=None, dropout=0.1, type_vocab_size=2, pad_token_id=0,
                 **kwargs):
        for name, value in (("vocab_size", vocab_size), ("embedding_size", embedding_size),
                            ("hidden_size", hidden_size), ("type_vocab_size", type_vocab_size)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer.")
        if hidden_size % 2:
            raise ValueError(f"hidden_size={hidden_size} must be even: it is split between "
                             "the forward and the backward LSTM.")
        if num_labels is not None and (not isinstance(num_labels, int) or num_labels < 1):
            raise ValueError(f"num_labels={num_labels!r} must be a positive integer or None.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout} must be in [0, 1).")
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.hidden_size = hidden_size
        self.num_labels = num_labels
        self.attention_size = attention_size or hidden_size
        self.dropout_rate = float(dropout)
        self.type_vocab_size = type_vocab_size
        self.pad_token_id = pad_token_id
        policy = self.dtype_policy
        init = keras.initializers.TruncatedNormal(stddev=0.02)
        # Layers.
        self.word_embeddings = keras.layers.Embedding(
            vocab_size, embedding_size, embeddings_initializer=init, dtype=policy,
            name="word_embeddings")
        self.token_type_embeddings = keras.layers.Embedding(
            type_vocab_size, embedding_size, embeddings_initializer=init, dtype=policy,
            name="token_type_embeddings")
        self.embedding_dropout = keras.layers.Dropout(self.dropout_rate, dtype=policy)
        self.bilstm = keras.layers.Bidirectional(
            keras.layers.LSTM(hidden_size // 2, return_sequences=True, dtype=policy),
            dtype=policy, name="bilstm")
        self.attention_hidden = keras.layers.Dense(
            self.attention_size, activation="tanh", dtype=policy, name="attention_hidden")
        self.attention_score = keras.layers.Dense(
            1, use_bias=False, dtype=policy, name="attention_score")
        self.head_dropout = keras.layers.Dropout(self.dropout_rate, dtype=policy)
        self.classifier = None
        if num_labels is not None:
            self.classifier = keras.layers.Dense(
                num_labels, kernel_initializer=init, dtype=policy, name="classifier")

    def build(self, input_shape=None):
        self.word_embeddings.build((None, None))
        self.token_type_embeddings.build((None, None))
        self.bilstm.build((None, None, self.embedding_size))
        self.attention_hidden.build((None, None, self.hidden_size))
        self.attention_score.build((None, None, self.attention_size))
        if self.classifier is not None:
            self.classifier.build((None, self.hidden_size))
        self.built = True

    def build_from_config(self, config):
        # Inputs are a dict whose shapes Keras cannot replay; the weights need none.
        self.build()

    def call(self, inputs, training=False, output_qkv=False):
        input_ids = ops.cast(inputs["input_ids"], "int32")
        attention_mask = inputs.get("attention_mask")
        if attention_mask is None:
            attention_mask = ops.not_equal(input_ids, self.pad_token_id)
        token_type_ids = inputs.get("token_type_ids")
        if token_type_ids is None:
            token_type_ids = ops.zeros_like(input_ids)
        mask = ops.cast(attention_mask, "bool")

        # Wiring.
        x = self.word_embeddings(input_ids)
        x = x + self.token_type_embeddings(ops.cast(token_type_ids, "int32"))
        x = self.embedding_dropout(x, training=training)
        sequence = self.bilstm(x, mask=mask, training=training)
        scores = ops.cast(self.attention_score(self.attention_hidden(sequence))[..., 0],
                          "float32")
        scores = scores + (1.0 - ops.cast(mask, "float32")) * _MASK_BIAS
        weights = ops.cast(ops.softmax(scores, axis=-1), sequence.dtype)
        pooled = ops.sum(sequence * weights[..., None], axis=1)
        outputs = {"sequence_output": sequence, "pooled_output": pooled}
        if self.classifier is not None:
            logits = self.classifier(self.head_dropout(pooled, training=training))
            outputs["logits"] = ops.cast(logits, "float32")
        return outputs

    @property
    def config(self):
        """A `BiLSTMConfig`: this model's shape under `EncoderConfig`'s field names."""
        return BiLSTMConfig(
            vocab_size=self.vocab_size, embedding_size=self.embedding_size,
            hidden_size=self.hidden_size, attention_size=self.attention_size,
            type_vocab_size=self.type_vocab_size, pad_token_id=self.pad_token_id,
            hidden_dropout_prob=self.dropout_rate)

    def without_head(self):
        """A headless copy (same weights, no `classifier`), to put a task head on."""
        if self.classifier is None:
            return self
        if not self.built:
            self.build()
        body = type(self).from_config({**self.get_config(), "num_labels": None})
        body.build()
        for name in ("word_embeddings", "token_type_embeddings", "bilstm",
                     "attention_hidden", "attention_score"):
            getattr(body, name).set_weights(getattr(self, name).get_weights())
        return body

    # Config.
    def get_config(self):
        base = super().get_config()
        base.update(vocab_size=self.vocab_size, embedding_size=self.embedding_size,
                    hidden_size=self.hidden_size, num_labels=self.num_labels,
                    attention_size=self.attention_size, dropout=self.dropout_rate,
                    type_vocab_size=self.type_vocab_size, pad_token_id=self.pad_token_id)
        return base
