"""The task metric each artifact scores on a dev sample, so quantization's cost shows."""
import numpy as np


def _label_ids(labels, label_names):
    index = {name: i for i, name in enumerate(label_names or [])}
    out = []
    for label in labels:
        text = str(label)
        if text in index:
            out.append(index[text])
        elif text.lstrip("-").isdigit():
            out.append(int(text))
        else:
            raise ValueError(f"Dev label {label!r} is neither a label name of the model "
                             f"({label_names}) nor an integer class id; check the label column.")
    return np.asarray(out)


class DevMetric:
    """Scores output dicts of a `ServingHead` on a dev sample.

    With labels: accuracy for a classifier, Pearson correlation for regression,
    and for a bare encoder the accuracy of a logistic-regression probe fitted on
    the Keras model's `mean_pooled_output` of the first half of the sample and
    applied to each artifact's embeddings of the second half. Without labels (or
    for QA and tagging, whose dev labels need the task's own decoding) the metric
    compares with the Keras outputs: mean cosine of embeddings, Pearson with the
    Keras scores, or agreement of decisions.

    Args:
        kind: the head's kind.
        reference: the Keras model's outputs on the sample.
        labels: one label per example (class names or ids, or floats), or `None`.
        label_names: the model's label names (classifier).
        attention_mask: the sample's mask, for per-token agreement.
        seed: seeds the probe.
    """

    def __init__(self, kind, reference, labels=None, label_names=None, attention_mask=None,
                 seed=0):
        self.kind = kind
        self.reference = reference
        self.mask = None if attention_mask is None else np.asarray(attention_mask) > 0
        self.labels = None
        self.probe = None
        if labels is not None and kind == "classifier":
            self.labels = _label_ids(labels, label_names)
            self.name = "accuracy"
        elif labels is not None and kind == "regression":
            self.labels = np.asarray(labels, dtype=np.float64)
            self.name = "pearson"
        elif labels is not None and kind == "encoder" and len(set(map(str, labels))) > 1:
            self._fit_probe(labels, seed)
        else:
            self.name = {"encoder": "mean_cosine_to_keras",
                         "regression": "pearson_to_keras"}.get(kind, "agreement_with_keras")

    def _fit_probe(self, labels, seed):
        labels = np.asarray([str(x) for x in labels])
        half = len(labels) // 2
        train_x = self.reference["mean_pooled_output"][:half]
        try:
            from sklearn.linear_model import LogisticRegression
        except ImportError:  # scikit-learn is a test extra; without it, compare embeddings.
            LogisticRegression = None
        if LogisticRegression is None or half < 2 or len(set(labels[:half])) < 2:
            self.name = "mean_cosine_to_keras"
            return
        self.probe = LogisticRegression(max_iter=2000, random_state=seed)
        self.probe.fit(train_x, labels[:half])
        self.labels = labels[half:]
        self.name = "probe_accuracy"

    def __call__(self, outputs):
        kind, ref = self.kind, self.reference
        if self.name == "accuracy":
            return float((np.asarray(outputs["predicted_index"]) == self.labels).mean())
        if self.name == "pearson":
            return float(np.corrcoef(np.asarray(outputs["score"]), self.labels)[0, 1])
        if self.name == "probe_accuracy":
            half = len(ref["mean_pooled_output"]) - len(self.labels)
            predicted = self.probe.predict(np.asarray(outputs["mean_pooled_output"])[half:])
            return float((predicted == self.labels).mean())
        if self.name == "mean_cosine_to_keras":
            a = np.asarray(ref["mean_pooled_output"], np.float64)
            b = np.asarray(outputs["mean_pooled_output"], np.float64)
            cos = np.sum(a * b, 1) / np.maximum(
                np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
            return float(cos.mean())
        if self.name == "pearson_to_keras":
            return float(np.corrcoef(np.asarray(outputs["score"]), ref["score"])[0, 1])
        if kind == "question_answering":
            same = ((np.asarray(outputs["start_index"]) == ref["start_index"])
                    & (np.asarray(outputs["end_index"]) == ref["end_index"]))
            return float(same.mean())
        if kind == "token_classification":
            same = np.asarray(outputs["tag_ids"]) == ref["tag_ids"]
            return float(same[self.mask].mean() if self.mask is not None else same.mean())
        return float((np.asarray(outputs["predicted_index"]) == ref["predicted_index"]).mean())
