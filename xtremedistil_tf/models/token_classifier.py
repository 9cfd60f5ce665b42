"""An encoder with a dense head on every token: tagging such as NER."""
import keras
from keras import ops

from xtremedistil_tf.models.task_model import TaskModel


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class TokenClassifier(TaskModel):
    """Labels every token from the encoder's sequence output.

    Args:
        encoder: an `Encoder` backbone.
        num_labels: number of tags.
        label_names: tag names in logit order (e.g. `["O", "B-PER", "I-PER"]`),
            saved with the model.
        dropout: dropout rate on the sequence output; `None` means the encoder's
            `hidden_dropout_prob`.
        **kwargs: `keras.Model` arguments such as `name`.

    Call returns a dict with `logits` (float32 `[batch, seq, num_labels]`) and
    the encoder outputs passed through.

    Examples:
    >>> model = TokenClassifier(Encoder(get_preset("tiny")), 3, ["O", "B-X", "I-X"])
    >>> model({"input_ids": np.array([[2, 5, 3]])})["logits"].shape
    TensorShape([1, 3, 3])
    """

    def __init__(self, encoder, num_labels, label_names=None, dropout=None, **kwargs):
        if num_labels < 1:
            raise ValueError(f"num_labels={num_labels} must be at least 1.")
        if label_names is not None and len(label_names) != num_labels:
            raise ValueError(f"label_names has {len(label_names)} names but num_labels="
                             f"{num_labels}; give one name per tag.")
        super().__init__(encoder, dropout=dropout, **kwargs)
        self.num_labels = int(num_labels)
        self.label_names = None if label_names is None else [str(n) for n in label_names]
        self.classifier = self._dense_head(self.num_labels, "classifier")

    def build_head(self):
        self.classifier.build((None, None, self.encoder.config.hidden_size))

    def call(self, inputs, training=False):
        outputs = dict(self.encoder(inputs, training=training))
        sequence = self.head_dropout(outputs["sequence_output"], training=training)
        outputs["logits"] = ops.cast(self.classifier(sequence), "float32")
        return outputs

    def get_config(self):
        base = super().get_config()
        base.update(num_labels=self.num_labels, label_names=self.label_names)
        return base
