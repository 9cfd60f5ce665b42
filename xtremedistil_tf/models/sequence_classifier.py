"""An encoder with a dense head on a pooled text vector: classification or regression."""
import keras
from keras import ops

from xtremedistil_tf.models.task_model import TaskModel

PROBLEM_TYPES = ("single_label_classification", "regression")
# "pooled_output": the encoder's own (the pooler on the first token, or the first
# token when it has no pooler); "first": the first token's final hidden state;
# "mean": the mean of the real tokens' final hidden states.
POOLINGS = ("pooled_output", "first", "mean")
# None: one Dense. Otherwise a hidden Dense with this activation comes first, as in
# the RoBERTa/XLM-R (tanh) and ELECTRA (gelu) classification heads.
HEAD_ACTIVATIONS = (None, "tanh", "gelu")


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class SequenceClassifier(TaskModel):
    """Scores a text (or text pair) from one vector pooled from the encoder.

    By default the head is dropout followed by one plain `Dense` layer on the
    encoder's `pooled_output`, so export and task transfer see nothing but the
    encoder and a matrix. `pooling` and `head_activation` express the other
    heads found in Hugging Face checkpoints and a mean-pooled head for students.

    Args:
        encoder: an `Encoder` backbone (its weights are trained with the head).
        num_labels: output width; 1 for regression.
        label_names: names of the classes in logit order, saved with the model
            so that predictions can be written as names. `None` for regression.
        problem_type: one of `PROBLEM_TYPES`.
        dropout: dropout rate before each dense layer of the head; `None` means
            the encoder's `hidden_dropout_prob`.
        pooling: one of `POOLINGS`: "pooled_output" (the encoder's), "first"
            (the first token's final hidden state) or "mean" (the mean over
            tokens where `attention_mask` is 1).
        head_activation: one of `HEAD_ACTIVATIONS`. When set, a hidden
            `Dense(hidden_size, head_activation)` (attribute `head_dense`) runs
            before the output layer.
        **kwargs: `keras.Model` arguments such as `name`.

    Call returns a dict with `logits` (float32 `[batch, num_labels]`) and the
    encoder outputs passed through: `sequence_output`, `pooled_output`,
    `hidden_states` and `attention_probs`.

    Examples:
    >>> model = SequenceClassifier(Encoder(get_preset("tiny")), num_labels=3,
    ...                            label_names=["a", "b", "c"])
    >>> model({"input_ids": np.array([[2, 5, 3]])})["logits"].shape
    TensorShape([1, 3])
    >>> roberta_style = SequenceClassifier(encoder, 2, pooling="first",
    ...                                    head_activation="tanh")
    """

    def __init__(self, encoder, num_labels, label_names=None,
                 problem_type="single_label_classification", dropout=None,
                 pooling="pooled_output", head_activation=None, **kwargs):
        if problem_type not in PROBLEM_TYPES:
            raise ValueError(f"problem_type={problem_type!r} is not supported; "
                             f"use one of {list(PROBLEM_TYPES)}.")
        if num_labels < 1:
            raise ValueError(f"num_labels={num_labels} must be at least 1.")
        if problem_type == "regression" and num_labels != 1:
            raise ValueError(f"num_labels={num_labels} with problem_type='regression'; "
                             "regression has exactly one output, set num_labels=1.")
        if label_names is not None and len(label_names) != num_labels:
            raise ValueError(f"label_names has {len(label_names)} names but num_labels="
                             f"{num_labels}; give one name per output.")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling={pooling!r} is not supported; use one of "
                             f"{list(POOLINGS)}.")
        if head_activation not in HEAD_ACTIVATIONS:
            raise ValueError(f"head_activation={head_activation!r} is not supported; use one "
                             f"of {list(HEAD_ACTIVATIONS)}.")
        super().__init__(encoder, dropout=dropout, **kwargs)
        self.num_labels = int(num_labels)
        self.label_names = None if label_names is None else [str(n) for n in label_names]
        self.problem_type = problem_type
        self.pooling = pooling
        self.head_activation = head_activation
        # Layers.
        self.head_dense = None
        if head_activation is not None:
            self.head_dense = keras.layers.Dense(
                encoder.config.hidden_size, activation=head_activation,
                kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
                dtype=encoder.dtype_policy, name="head_dense")
        self.classifier = self._dense_head(self.num_labels, "classifier")

    def build_head(self):
        width = self.encoder.config.hidden_size
        if self.head_dense is not None:
            self.head_dense.build((None, width))
        self.classifier.build((None, width))

    def _pool(self, inputs, outputs):
        if self.pooling == "pooled_output":
            return outputs["pooled_output"]
        sequence = outputs["sequence_output"]
        if self.pooling == "first":
            return sequence[:, 0]
        # Summed in float32: a bfloat16 sum over a long text loses the small terms.
        sequence = ops.cast(sequence, "float32")
        mask = inputs.get("attention_mask")
        if mask is None:
            mask = ops.ones(ops.shape(sequence)[:2], dtype="float32")
        mask = ops.expand_dims(ops.cast(mask, "float32"), -1)
        count = ops.maximum(ops.sum(mask, axis=1), 1.0)
        return ops.sum(sequence * mask, axis=1) / count

    def call(self, inputs, training=False):
        # Wiring.
        outputs = dict(self.encoder(inputs, training=training))
        x = self.head_dropout(self._pool(inputs, outputs), training=training)
        if self.head_dense is not None:
            x = self.head_dropout(self.head_dense(x), training=training)
        outputs["logits"] = ops.cast(self.classifier(x), "float32")
        return outputs

    # Config.
    def get_config(self):
        base = super().get_config()
        base.update(num_labels=self.num_labels, label_names=self.label_names,
                    problem_type=self.problem_type, pooling=self.pooling,
                    head_activation=self.head_activation)
        return base
