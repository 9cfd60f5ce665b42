"""An encoder with a span head: extractive question answering (SQuAD)."""
import keras
from keras import ops

from xtremedistil_tf.models.task_model import TaskModel


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class QuestionAnswerer(TaskModel):
    """Scores every token as the start and the end of the answer span.

    A single `Dense(2)` maps each token's final hidden state to a start and an
    end logit. For SQuAD v2 the first token (`[CLS]`) stands for "no answer".

    Args:
        encoder: an `Encoder` backbone.
        dropout: dropout rate on the sequence output; `None` means the encoder's
            `hidden_dropout_prob`.
        **kwargs: `keras.Model` arguments such as `name`.

    Call returns a dict with `start_logits` and `end_logits` (float32
    `[batch, seq]`) and the encoder outputs passed through.

    Examples:
    >>> model = QuestionAnswerer(Encoder(get_preset("tiny")))
    >>> model({"input_ids": np.array([[2, 5, 3, 7, 3]])})["start_logits"].shape
    TensorShape([1, 5])
    """

    head_output_names = ("start_logits", "end_logits")

    def __init__(self, encoder, dropout=None, **kwargs):
        super().__init__(encoder, dropout=dropout, **kwargs)
        self.span_head = self._dense_head(2, "span_head")

    def build_head(self):
        self.span_head.build((None, None, self.encoder.config.hidden_size))

    def call(self, inputs, training=False):
        outputs = dict(self.encoder(inputs, training=training))
        sequence = self.head_dropout(outputs["sequence_output"], training=training)
        logits = ops.cast(self.span_head(sequence), "float32")
        outputs["start_logits"] = logits[..., 0]
        outputs["end_logits"] = logits[..., 1]
        return outputs
