"""What GLUE and user-data classification (or regression) tasks share."""
import os

import numpy as np

from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.tasks import losses
from xtremedistil_tf.tasks.data.examples import Features
from xtremedistil_tf.tasks.task import Task
from xtremedistil_tf.utils.atomic_io import write_text
from xtremedistil_tf.utils.data_error import DataError


def _label_sort_key(label):
    # Numeric labels ("2" before "10") in numeric order, the rest alphabetically.
    try:
        return (0, float(label), "")
    except ValueError:
        return (1, 0.0, label)


def _score(example):
    try:
        return float(example.label)
    except ValueError:
        raise DataError.at(example.source, f"label {example.label!r} is not a number; a "
                           "regression task needs numeric scores.") from None


class ClassificationTask(Task):
    """Single texts or text pairs scored with a `SequenceClassifier`.

    Subclasses read examples and pick the metrics; this class handles labels,
    features, the loss, predictions and their files.

    Args:
        name: registry name.
        config: a `TaskConfig`.
        regression: predict a float score instead of a class.
        label_names: a fixed label set (GLUE); `None` takes the labels seen in
            training, sorted.
    """

    def __init__(self, name, config, regression=False, label_names=None):
        super().__init__(name, config)
        self.regression = regression
        self.label_names = None if label_names is None else list(label_names)

    # Labels.
    def prepare(self, train_examples, model=None):
        if self.regression:
            return
        if model is not None and getattr(model, "label_names", None):
            if self.label_names is None:
                self.label_names = list(model.label_names)
        if self.label_names is None:
            if not train_examples:
                raise ValueError(f"Task {self.name!r} learns its labels from training data; "
                                 "give training data or a model that stores label names.")
            seen = {e.label for e in train_examples if e.label is not None}
            self.label_names = sorted(seen, key=_label_sort_key)
        self.check_labels(train_examples)

    def check_labels(self, examples):
        """Raises `DataError` at the first example whose label is not a known class."""
        if self.regression:
            return
        known = set(self.label_names)
        for example in examples:
            if example.label is not None and example.label not in known:
                raise DataError.at(example.source, (
                    f"label {example.label!r} does not occur in the training data, whose "
                    f"labels are {self.label_names}; fix the label or add training examples "
                    "with it."))

    # Model.
    def build_model(self, encoder, pooling=None):
        pooling = pooling or "pooled_output"
        if self.regression:
            return SequenceClassifier(encoder, 1, problem_type="regression", pooling=pooling,
                                      name=f"{self.name}_regressor")
        return SequenceClassifier(encoder, len(self.label_names), self.label_names,
                                  pooling=pooling, name=f"{self.name}_classifier")

    def accepts_model(self, model):
        if not isinstance(model, SequenceClassifier):
            return False
        if self.regression:
            return model.problem_type == "regression"
        return model.label_names == self.label_names

    # Features.
    def build_features(self, examples, tokenizer, training):
        texts = [e.text for e in examples]
        pairs = None
        if any(e.text_pair is not None for e in examples):
            pairs = [e.text_pair or "" for e in examples]
        inputs, truncated = tokenizer.encode_texts(texts, pairs, self.config.max_seq_length)
        labels = None
        if examples and all(e.label is not None for e in examples):
            if self.regression:
                labels = np.array([_score(e) for e in examples], np.float32)
            else:
                index = {name: i for i, name in enumerate(self.label_names)}
                labels = np.array([index[e.label] for e in examples], np.int32)
        return Features(inputs, labels, len(examples), {"truncated": truncated})

    def compute_loss(self, labels, outputs, inputs=None):
        if self.regression:
            return losses.regression_loss(labels, outputs["logits"])
        return losses.classification_loss(labels, outputs["logits"])

    # Evaluation.
    def predictions_from(self, outputs):
        logits = np.stack([o["logits"] for o in outputs]) if outputs else np.zeros((0, 1))
        if self.regression:
            return logits[:, 0]
        return logits.argmax(axis=-1)

    def metrics(self, labels, predictions):
        raise NotImplementedError

    def evaluate(self, examples, features, outputs):
        predictions = self.predictions_from(outputs)
        metrics = None
        if features.labels is not None:
            metrics = self.metrics(features.labels, predictions)
        return metrics, predictions

    def write_predictions(self, folder, split, examples, predictions):
        def show(value):
            return f"{value:.6g}" if self.regression else self.label_names[int(value)]

        has_labels = examples and all(e.label is not None for e in examples)
        lines = ["index\tprediction" + ("\tlabel" if has_labels else "")]
        for i, (example, value) in enumerate(zip(examples, predictions)):
            row = f"{i}\t{show(value)}"
            if has_labels:
                gold = float(example.label) if self.regression else example.label
                row += f"\t{gold:.6g}" if self.regression else f"\t{gold}"
            lines.append(row)
        path = os.path.join(folder, f"{split}_predictions.tsv")
        write_text(path, "\n".join(lines) + "\n")
        return [path]
