"""Turns a Keras model's raw outputs into the named predictions a server returns."""
import tensorflow as tf

from xtremedistil_tf.models.bilstm_student import BiLSTMStudent
from xtremedistil_tf.models.encoder import Encoder

KINDS = ("encoder", "classifier", "regression", "question_answering", "token_classification")
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# Low enough that no real logit sum reaches it, high enough to stay finite in float16.
_NEG = -1e4

# Per kind: the outputs, and which of them parity compares as numbers or as labels.
OUTPUTS = {
    "encoder": ("pooled_output", "mean_pooled_output"),
    "classifier": ("logits", "probabilities", "predicted_index", "predicted_label",
                   "label_names"),
    "regression": ("score",),
    "question_answering": ("start_logits", "end_logits", "start_index", "end_index",
                           "span_score", "null_score", "has_answer"),
    "token_classification": ("logits", "probabilities", "tag_ids", "tags"),
}
NUMERIC_OUTPUTS = {
    "encoder": ("pooled_output", "mean_pooled_output"),
    "classifier": ("logits", "probabilities"),
    "regression": ("score",),
    "question_answering": ("start_logits", "end_logits"),
    "token_classification": ("logits", "probabilities"),
}
DECISION_OUTPUTS = {
    "encoder": (),
    "classifier": ("predicted_index",),
    "regression": (),
    "question_answering": ("start_index", "end_index", "has_answer"),
    "token_classification": ("tag_ids",),
}


def detect_kind(model):
    """The export kind of `model`, read from its class and config."""
    # Imported here so that exporting a bare encoder never needs the task modules.
    from xtremedistil_tf.models.question_answerer import QuestionAnswerer
    from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
    from xtremedistil_tf.models.token_classifier import TokenClassifier

    if isinstance(model, (Encoder, BiLSTMStudent)):
        return "encoder"
    if isinstance(model, SequenceClassifier):
        return "regression" if model.problem_type == "regression" else "classifier"
    if isinstance(model, QuestionAnswerer):
        return "question_answering"
    if isinstance(model, TokenClassifier):
        return "token_classification"
    raise ValueError(
        f"Cannot export a {type(model).__name__}: export knows Encoder, BiLSTMStudent, "
        "SequenceClassifier, QuestionAnswerer and TokenClassifier (kinds "
        + ", ".join(KINDS) + "). Save the model as one of these classes.")


def _label_names(model, kind):
    if kind not in ("classifier", "token_classification"):
        return None
    names = getattr(model, "label_names", None)
    if names:
        return [str(n) for n in names]
    return [f"LABEL_{i}" for i in range(model.num_labels)]


class ServingHead:
    """Calls a Keras model on token ids and returns the predictions of its kind.

    The same object defines every signature (token ids, text, LiteRT) and the
    Keras reference that parity compares them with, so they cannot drift apart.

    Args:
        model: an encoder (`Encoder`, headless `BiLSTMStudent`) or a task model
            (`SequenceClassifier`, `QuestionAnswerer`, `TokenClassifier`) on one.
        kind: one of `KINDS`; `None` detects it from the model.
        max_answer_length: longest span, in tokens, for question answering.
        null_score_threshold: question answering with a no-answer option
            (SQuAD v2): `has_answer` is False when the first token's score
            (`null_score`) beats the best span's by more than this. `None`:
            always answer (SQuAD v1).

    Call takes a dict of int32 `[batch, seq]` `input_ids`, `attention_mask`,
    `token_type_ids` and returns, by kind:
        encoder: `pooled_output` and `mean_pooled_output` (masked mean of the
            last layer), float32 `[batch, hidden]`.
        classifier: `logits`, `probabilities` float32 `[batch, labels]`,
            `predicted_index` int32 `[batch]`, `predicted_label` string
            `[batch]` and `label_names` string `[batch, labels]` (repeated per
            row so that TF Serving's row format can return it).
        regression: `score` float32 `[batch]`.
        question_answering: `start_logits`, `end_logits` float32
            `[batch, seq]`, the best span `start_index`, `end_index` int32
            `[batch]` (token positions, inclusive) and its `span_score`, the
            no-answer score `null_score` (first token's start + end logits) and
            `has_answer` bool `[batch]`.
        token_classification: `logits`, `probabilities` float32
            `[batch, seq, labels]`, `tag_ids` int32 and `tags` string `[batch, seq]`.

    Examples:
    >>> head = ServingHead(SequenceClassifier(Encoder(get_preset("tiny")), 2))
    >>> head(encoder.dummy_inputs())["probabilities"].shape
    TensorShape([2, 2])
    """

    def __init__(self, model, kind=None, max_answer_length=30, null_score_threshold=None):
        self.model = model
        self.kind = kind or detect_kind(model)
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r} is unknown; valid kinds: {list(KINDS)}.")
        self.max_answer_length = int(max_answer_length)
        self.null_score_threshold = (None if null_score_threshold is None
                                     else float(null_score_threshold))
        self.label_names = _label_names(model, self.kind)
        self.encoder = model if self.kind == "encoder" else model.encoder

    @property
    def output_names(self):
        return OUTPUTS[self.kind]

    def __call__(self, inputs):
        inputs = {name: tf.cast(inputs[name], tf.int32) for name in INPUT_NAMES}
        outputs = self.model(inputs, training=False)
        return getattr(self, f"_{self.kind}")(outputs, inputs)

    def _encoder(self, outputs, inputs):
        sequence = tf.cast(outputs["sequence_output"], tf.float32)
        mask = tf.expand_dims(tf.cast(inputs["attention_mask"], tf.float32), -1)
        # The token count as mask^T mask, not a SUM: litert_int16x8 gave the SUM its
        # input's scale (the mask's, range 1), so the count saturated at 1 and the mean
        # became a sum beyond the calibrated range; a matmul gets a calibrated scale.
        count = tf.maximum(tf.matmul(mask, mask, transpose_a=True), 1.0)
        # A [1, seq] x [seq, hidden] matmul with the weights mask / count, not a masked
        # sum then a division: it keeps full-integer LiteRT (litert_int16x8) accurate,
        # where a quantized SUM over the sequence loses the mean pooled output.
        weights = tf.transpose(mask, (0, 2, 1)) / count
        return {"pooled_output": tf.cast(outputs["pooled_output"], tf.float32),
                "mean_pooled_output": tf.squeeze(tf.matmul(weights, sequence), 1)}

    def _classifier(self, outputs, inputs):
        logits = tf.cast(outputs["logits"], tf.float32)
        probabilities = tf.nn.softmax(logits, axis=-1)
        index = tf.argmax(logits, axis=-1, output_type=tf.int32)
        names = tf.constant(self.label_names)
        batch = tf.shape(logits)[0]
        return {"logits": logits, "probabilities": probabilities, "predicted_index": index,
                "predicted_label": tf.gather(names, index),
                "label_names": tf.tile(tf.expand_dims(names, 0), tf.stack([batch, 1]))}

    def _regression(self, outputs, inputs):
        return {"score": tf.cast(outputs["logits"], tf.float32)[:, 0]}

    def _token_classification(self, outputs, inputs):
        logits = tf.cast(outputs["logits"], tf.float32)
        tag_ids = tf.argmax(logits, axis=-1, output_type=tf.int32)
        return {"logits": logits, "probabilities": tf.nn.softmax(logits, axis=-1),
                "tag_ids": tag_ids, "tags": tf.gather(tf.constant(self.label_names), tag_ids)}

    def _question_answering(self, outputs, inputs):
        start = tf.cast(outputs["start_logits"], tf.float32)
        end = tf.cast(outputs["end_logits"], tf.float32)
        valid = self._answer_positions(inputs)
        start_masked = tf.where(valid, start, _NEG)
        end_masked = tf.where(valid, end, _NEG)
        # scores[b, i, j]: a span from token i to token j.
        scores = tf.expand_dims(start_masked, 2) + tf.expand_dims(end_masked, 1)
        length = tf.shape(start)[1]
        positions = tf.range(length)
        width = tf.expand_dims(positions, 0) - tf.expand_dims(positions, 1)
        band = tf.logical_and(width >= 0, width < self.max_answer_length)
        scores = tf.where(tf.expand_dims(band, 0), scores, 4 * _NEG)
        flat = tf.reshape(scores, tf.stack([tf.shape(scores)[0], length * length]))
        best = tf.argmax(flat, axis=-1, output_type=tf.int32)
        span_score = tf.reduce_max(flat, axis=-1)
        null_score = start[:, 0] + end[:, 0]
        if self.null_score_threshold is None:
            has_answer = tf.ones_like(null_score, tf.bool)
        else:
            has_answer = null_score - span_score <= self.null_score_threshold
        return {"start_logits": start, "end_logits": end,
                "start_index": best // length, "end_index": best % length,
                "span_score": span_score, "null_score": null_score, "has_answer": has_answer}

    @staticmethod
    def _answer_positions(inputs):
        """Tokens an answer may use: the second segment if there is one, never specials."""
        mask = tf.cast(inputs["attention_mask"], tf.int32)
        segment = tf.cast(inputs["token_type_ids"], tf.int32)
        positions = tf.expand_dims(tf.range(tf.shape(mask)[1]), 0)
        lengths = tf.reduce_sum(mask, axis=1, keepdims=True)
        inside = tf.logical_and(positions > 0, positions < lengths - 1)
        in_context = segment > 0
        has_context = tf.reduce_any(in_context, axis=1, keepdims=True)
        # RoBERTa-style pairs carry no segment ids: then any inner token may answer.
        allowed = tf.logical_or(in_context, tf.logical_not(has_context))
        return tf.logical_and(tf.logical_and(inside, allowed), mask > 0)
