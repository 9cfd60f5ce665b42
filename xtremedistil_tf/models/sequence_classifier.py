"""An encoder with a dense head on the pooled output: classification or regression."""
import keras
from keras import ops

from xtremedistil_tf.models.task_model import TaskModel

PROBLEM_TYPES = ("single_label_classification", "regression")


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class SequenceClassifier(TaskModel):
    """Scores a text (or text pair) from the encoder's pooled output.

    The head is dropout followed by one plain `Dense` layer, so export and
    task transfer see nothing but the encoder and a matrix.

    Args:
        encoder: an `Encoder` backbone (its weights are trained with the head).
        num_labels: output width; 1 for regression.
        label_names: names of the classes in logit order, saved with the model
            so that predictions can be written as names. `None` for regression.
        problem_type: one of `PROBLEM_TYPES`.
        dropout: dropout rate on the pooled output; `None` means the encoder's
            `hidden_dropout_prob`.
        **kwargs: `keras.Model` arguments such as `name`.

    Call returns a dict with `logits` (float32 `[batch, num_labels]`) and the
    encoder outputs passed through: `sequence_output`, `pooled_output`,
    `hidden_states` and `attention_probs`.

    Examples:
    >>> model = SequenceClassifier(Encoder(get_preset("tiny")), num_labels=3,
    ...                            label_names=["a", "b", "c"])
    >>> model({"input_ids": np.array([[2, 5, 3]])})["logits"].shape
    TensorShape([1, 3])
    """

    def __init__(self, encoder, num_labels, label_names=None,
                 problem_type="single_label_classification", dropout=None, **kwargs):
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
        super().__init__(encoder, dropout=dropout, **kwargs)
        self.num_labels = int(num_labels)
        self.label_names = None if label_names is None else [str(n) for n in label_names]
        self.problem_type = problem_type
        self.classifier = self._dense_head(self.num_labels, "classifier")

    def build_head(self):
        self.classifier.build((None, self.encoder.config.hidden_size))

    def call(self, inputs, training=False):
        outputs = dict(self.encoder(inputs, training=training))
        pooled = self.head_dropout(outputs["pooled_output"], training=training)
        outputs["logits"] = ops.cast(self.classifier(pooled), "float32")
        return outputs

    def get_config(self):
        base = super().get_config()
        base.update(num_labels=self.num_labels, label_names=self.label_names,
                    problem_type=self.problem_type)
        return base
