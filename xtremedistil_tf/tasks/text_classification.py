"""Classification or regression of user texts (or pairs) from TSV, CSV or JSONL files."""
import numpy as np

from xtremedistil_tf.tasks.classification_task import ClassificationTask
from xtremedistil_tf.tasks.data.examples import TextExample
from xtremedistil_tf.tasks.data.table_reader import read_table
from xtremedistil_tf.tasks.metrics.glue_metrics import accuracy, pearson, spearman
from xtremedistil_tf.utils.data_error import DataError

_EXTENSIONS = ("tsv", "csv", "jsonl")
_SPLIT_NAMES = {"train": ("train",), "dev": ("dev", "validation", "valid"), "test": ("test",)}


def macro_f1(labels, predictions):
    """Unweighted mean of the per-class F1 over the classes in `labels` or `predictions`."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    scores = []
    for cls in np.union1d(labels, predictions):
        true_pos = np.sum((labels == cls) & (predictions == cls))
        denom = np.sum(labels == cls) + np.sum(predictions == cls)
        scores.append(2.0 * true_pos / denom if denom else 0.0)
    return float(np.mean(scores))


class TextClassificationTask(ClassificationTask):
    """Your own single-text or text-pair data, as classes or as scores.

    Files come from `config.train_file` / `eval_file` / `test_file`, or else
    from `train`, `dev` (or `validation`) and `test` with a `.tsv`, `.csv` or
    `.jsonl` extension inside `config.data_dir`. Columns are
    `config.text_column`, `text_pair_column` (optional) and `label_column`,
    as header names (JSONL keys) or 0-based indices. Class names are the labels
    seen in training; a dev label outside them is an error naming its line.

    Args:
        name: "text_classification" or "text_regression".
        config: a `TaskConfig`.

    Examples:
    >>> config = TaskConfig(train_file="train.csv", eval_file="dev.csv",
    ...                     text_column="review", label_column="stars")
    >>> task = TextClassificationTask("text_classification", config)
    """

    def __init__(self, name, config):
        if name not in ("text_classification", "text_regression"):
            raise ValueError(f"TextClassificationTask serves 'text_classification' and "
                             f"'text_regression', not {name!r}.")
        super().__init__(name, config, regression=name == "text_regression")

    def _file(self, split):
        override = {"train": self.config.train_file, "dev": self.config.eval_file,
                    "test": self.config.test_file}[split]
        names = [f"{base}.{ext}" for base in _SPLIT_NAMES[split] for ext in _EXTENSIONS]
        return self.local_path(names, override)

    def has_split(self, split):
        try:
            self._file(split)
        except DataError:
            return False
        return True

    def load_examples(self, split):
        path = self._file(split)
        config = self.config
        table = read_table(path, config.file_format, config.has_header)
        texts = table.values(config.text_column)
        pairs = ([(None, None)] * len(texts) if config.text_pair_column is None
                 else table.values(config.text_pair_column))
        labels = table.values(config.label_column, allow_missing=split == "test")
        examples = []
        for (line, text), (_, pair), (_, label) in zip(texts, pairs, labels):
            if label is not None and not self.regression:
                label = str(label)
            examples.append(TextExample(f"{split}-{len(examples)}", str(text),
                                        None if pair is None else str(pair), label,
                                        f"{path}:{line}"))
        examples = self.subsample(examples, split)
        if split != "train" and self.label_names is not None:
            self.check_labels(examples)
        return examples

    def metrics(self, labels, predictions):
        if self.regression:
            mse = float(np.mean((np.asarray(labels) - np.asarray(predictions)) ** 2))
            out = {"pearson": pearson(labels, predictions),
                   "spearman": spearman(labels, predictions), "mse": mse}
            out["score"] = out["pearson"]
            return out
        out = {"accuracy": accuracy(labels, predictions),
               "macro_f1": macro_f1(labels, predictions)}
        out["score"] = out["accuracy"]
        return out

    def describe(self):
        kind = "regression" if self.regression else f"{len(self.label_names or [])}-way " \
            "classification"
        return f"user data {kind} ({self.config.train_file or self.config.data_dir})"
