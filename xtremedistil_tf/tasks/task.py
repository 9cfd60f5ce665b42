"""The interface every fine-tuning task implements."""
import math
import os

import keras
import numpy as np
import tensorflow as tf

from xtremedistil_tf.tasks.data.batching import length_grouped_order, make_dataset
from xtremedistil_tf.utils.data_error import DataError


class Task:
    """A downstream task: its data, model head, loss, metrics and predictions.

    Every task has the same few methods, so the fine-tuning loop (and the
    distillers of later issues) never branch on the task:

    - `load_examples(split)`: read `"train"`, an eval split or a test split.
    - `prepare(train_examples, model=None)`: fix the label set.
    - `build_model(encoder, pooling)`: the Keras task model (encoder plus head).
    - `build_features(examples, tokenizer, training)`: token ids and labels.
    - `build_dataset(features, ...)`: padded `tf.data` batches.
    - `compute_loss(labels, outputs)`: the loss, a pure function of tensors.
    - `predict(model, features, ...)`: the head outputs, one entry per feature.
    - `evaluate(examples, features, outputs)`: `(metrics, predictions)`;
      `metrics["score"]` selects the model on dev.
    - `write_predictions(folder, split, examples, predictions)`: prediction files.

    Args:
        name: the registry name this task was built for (e.g. "sst2").
        config: a `TaskConfig`.
    """

    #: Splits scored during training; the first one selects the model.
    eval_splits = ("dev",)
    #: Splits predicted after training.
    test_splits = ("test",)
    #: Whether the test splits carry labels (CoNLL) or not (GLUE).
    test_has_labels = False
    #: Whether head outputs have one row per token (NER, QA) or per input.
    per_token_outputs = False

    def __init__(self, name, config):
        self.name = name
        self.config = config.validate()
        self._predict_steps = {}

    # Data.
    def load_examples(self, split):
        raise NotImplementedError

    def has_split(self, split):
        """Whether `split` can be loaded (test files are optional)."""
        return True

    def subsample(self, examples, split):
        """Applies `max_train_samples` (seeded random), `max_eval_samples` or
        `max_test_samples` (first N)."""
        if split == "train":
            limit = self.config.max_train_samples
            if limit is not None and limit < len(examples):
                rng = np.random.default_rng(self.config.seed)
                keep = np.sort(rng.choice(len(examples), limit, replace=False))
                return [examples[i] for i in keep]
            return examples
        is_test = split in self.test_splits
        limit = self.config.max_test_samples if is_test else self.config.max_eval_samples
        return examples if limit is None else examples[:limit]

    def prepare(self, train_examples, model=None):
        """Fixes label names from the training data (or from a loaded model)."""

    def check_labels(self, examples):
        """Raises `DataError` at an example whose label training never saw."""

    def local_path(self, default_names, override=None):
        """The first existing `data_dir/<name>`, or `override` when given."""
        if override:
            return override
        data_dir = self.config.data_dir
        for name in default_names:
            path = os.path.join(data_dir, name)
            if os.path.isfile(path):
                return path
        raise DataError(os.path.join(data_dir, default_names[0]), None,
                        f"not found (looked for {list(default_names)} in {data_dir!r}); "
                        "set --data_dir to the folder that holds them or pass the file flags.")

    # Model.
    def build_model(self, encoder, pooling=None):
        """The task model on `encoder`; `pooling` picks a sentence-level head's input
        ("pooled_output", "first" or "mean"; token and span heads ignore it)."""
        raise NotImplementedError

    def accepts_model(self, model):
        """Whether a loaded task model can be fine-tuned or evaluated as it is."""
        return False

    # Features.
    def build_features(self, examples, tokenizer, training):
        raise NotImplementedError

    def build_dataset(self, features, batch_size, pad_token_id=0, shuffle=False, seed=0,
                      with_labels=True):
        """Padded batches; `shuffle` draws a new length-grouped order from `seed`."""
        labels = features.labels if with_labels else None
        order = None
        if shuffle:
            lengths = [len(x) for x in features.inputs["input_ids"]]
            order = length_grouped_order(lengths, batch_size, seed)
        return make_dataset(features.inputs, labels, batch_size=batch_size,
                            pad_token_id=pad_token_id, order=order)

    # Loss.
    def compute_loss(self, labels, outputs, inputs=None):
        raise NotImplementedError

    # Evaluation.
    def predict(self, model, features, batch_size=64, pad_token_id=0, verbose=1):
        """Runs `model` over `features`; returns one dict of numpy outputs per feature.

        Token-level outputs are cut back to each feature's own length, so
        batches padded to different lengths never need to be concatenated.
        """
        step = self._predict_steps.get(id(model))
        if step is None:
            names = model.head_output_names

            # One trace per model, kept across epochs, for batches of any length.
            spec = tf.TensorSpec([None, None], tf.int32)
            signature = [{k: spec for k in ("input_ids", "attention_mask", "token_type_ids")}]

            @tf.function(input_signature=signature)
            def step(inputs):
                outputs = model(inputs, training=False)
                return {k: outputs[k] for k in names}

            self._predict_steps = {id(model): step}

        # Shortest first, so each batch pads little; results go back in input order.
        order = np.argsort([len(x) for x in features.inputs["input_ids"]], kind="stable")
        dataset = make_dataset(features.inputs, None, batch_size, pad_token_id, order=order)
        steps = math.ceil(len(features) / batch_size)
        bar = keras.utils.Progbar(steps, verbose=verbose, unit_name="batch") if verbose else None
        results = [None] * len(features)
        position = 0
        for i, inputs in enumerate(dataset):
            batch = {k: v.numpy() for k, v in step(inputs).items()}
            lengths = inputs["attention_mask"].numpy().sum(axis=1)
            for row, length in enumerate(lengths):
                if self.per_token_outputs:
                    result = {k: v[row, :length] for k, v in batch.items()}
                else:
                    result = {k: v[row] for k, v in batch.items()}
                results[order[position]] = result
                position += 1
            if bar is not None:
                bar.update(i + 1)
        return results

    def evaluate(self, examples, features, outputs):
        raise NotImplementedError

    def write_predictions(self, folder, split, examples, predictions):
        """Writes prediction files for `split`; returns their paths."""
        raise NotImplementedError

    def describe(self):
        """One line for the run summary."""
        return self.name
