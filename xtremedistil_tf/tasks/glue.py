"""The nine GLUE tasks, from `glue_data/<TASK>/*.tsv` or TFDS `glue/*`."""
import collections
import os

from xtremedistil_tf.tasks.classification_task import ClassificationTask
from xtremedistil_tf.tasks.data.examples import TextExample
from xtremedistil_tf.tasks.data.table_reader import read_table
from xtremedistil_tf.tasks.data.tfds_loader import load_tfds
from xtremedistil_tf.tasks.metrics.glue_metrics import glue_metrics
from xtremedistil_tf.utils.data_error import DataError

GlueSpec = collections.namedtuple("GlueSpec", [
    "folder",        # folder name inside glue_data
    "text", "text_pair", "label",  # train/dev columns: header names, or indices
    "test_text", "test_text_pair",  # test.tsv columns (its header differs)
    "header",        # whether train/dev TSVs start with a header
    "labels",        # label strings as the TSVs spell them; None = regression
    "tfds_text", "tfds_text_pair",  # TFDS feature names
    "tfds_labels",   # our label string for each TFDS class index
    "eval_files", "test_files",  # split name -> file name
])

_DEV = {"dev": "dev.tsv"}
_TEST = {"test": "test.tsv"}
_BINARY = ["0", "1"]
_ENTAIL = ["entailment", "not_entailment"]

GLUE_TASKS = {
    "cola": GlueSpec("CoLA", 3, None, 1, "sentence", None, False, _BINARY,
                     "sentence", None, _BINARY, _DEV, _TEST),
    "sst2": GlueSpec("SST-2", "sentence", None, "label", "sentence", None, True, _BINARY,
                     "sentence", None, _BINARY, _DEV, _TEST),
    "mrpc": GlueSpec("MRPC", "#1 String", "#2 String", "Quality", "#1 String", "#2 String",
                     True, _BINARY, "sentence1", "sentence2", _BINARY, _DEV, _TEST),
    "stsb": GlueSpec("STS-B", "sentence1", "sentence2", "score", "sentence1", "sentence2",
                     True, None, "sentence1", "sentence2", None, _DEV, _TEST),
    "qqp": GlueSpec("QQP", "question1", "question2", "is_duplicate", "question1", "question2",
                    True, _BINARY, "question1", "question2", _BINARY, _DEV, _TEST),
    "mnli": GlueSpec("MNLI", "sentence1", "sentence2", "gold_label", "sentence1", "sentence2",
                     True, ["contradiction", "entailment", "neutral"], "premise", "hypothesis",
                     ["entailment", "neutral", "contradiction"],
                     {"dev_matched": "dev_matched.tsv", "dev_mismatched": "dev_mismatched.tsv"},
                     {"test_matched": "test_matched.tsv",
                      "test_mismatched": "test_mismatched.tsv"}),
    "qnli": GlueSpec("QNLI", "question", "sentence", "label", "question", "sentence", True,
                     _ENTAIL, "question", "sentence", _ENTAIL, _DEV, _TEST),
    "rte": GlueSpec("RTE", "sentence1", "sentence2", "label", "sentence1", "sentence2", True,
                    _ENTAIL, "sentence1", "sentence2", _ENTAIL, _DEV, _TEST),
    "wnli": GlueSpec("WNLI", "sentence1", "sentence2", "label", "sentence1", "sentence2", True,
                     _BINARY, "sentence1", "sentence2", _BINARY, _DEV, _TEST),
}
# TFDS split names for ours.
_TFDS_SPLITS = {"train": "train", "dev": "validation", "test": "test",
                "dev_matched": "validation_matched", "dev_mismatched": "validation_mismatched",
                "test_matched": "test_matched", "test_mismatched": "test_mismatched"}


class GlueTask(ClassificationTask):
    """One of the nine GLUE tasks, scored exactly as the GLUE leaderboard scores it.

    Local data is the standard `glue_data` layout: `config.data_dir` is either
    `glue_data` (holding `SST-2/`, `MRPC/`, ...) or the task folder itself.
    TSVs are split on tabs only (GLUE texts contain unbalanced quotes). With
    `data_source="tfds"` the examples come from TFDS `glue/<name>`. Test sets
    have no labels: the task writes predictions in GLUE's submission format.

    Args:
        name: one of `GLUE_TASKS` (cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli).
        config: a `TaskConfig`.

    Examples:
    >>> task = GlueTask("sst2", TaskConfig(data_dir="glue_data"))
    >>> train = task.load_examples("train")
    """

    def __init__(self, name, config):
        if name not in GLUE_TASKS:
            raise ValueError(f"Unknown GLUE task {name!r}; valid: {sorted(GLUE_TASKS)}.")
        spec = GLUE_TASKS[name]
        super().__init__(name, config, regression=spec.labels is None, label_names=spec.labels)
        self.spec = spec
        self.eval_splits = tuple(spec.eval_files)
        self.test_splits = tuple(spec.test_files)

    def _task_dir(self):
        inside = os.path.join(self.config.data_dir, self.spec.folder)
        return inside if os.path.isdir(inside) else self.config.data_dir

    def _file(self, split):
        overrides = {"train": self.config.train_file, "test": self.config.test_file}
        overrides.update({s: self.config.eval_file for s in self.eval_splits[:1]})
        if overrides.get(split):
            return overrides[split]
        names = {"train": "train.tsv", **self.spec.eval_files, **self.spec.test_files}
        if split not in names:
            raise ValueError(f"GLUE task {self.name!r} has no split {split!r}; valid: "
                             f"{sorted(names)}.")
        return os.path.join(self._task_dir(), names[split])

    def has_split(self, split):
        if self.config.data_source == "tfds":
            return True
        return os.path.isfile(self._file(split))

    def load_examples(self, split):
        if self.config.data_source == "tfds":
            examples = self._load_tfds(split)
        else:
            examples = self._load_tsv(split)
        examples = self.subsample(examples, split)
        if split != "train" and not split.startswith("test"):
            self.check_labels(examples)
        return examples

    def _load_tsv(self, split):
        path = self._file(split)
        if not os.path.isfile(path) and os.path.dirname(path) == self._task_dir():
            name = os.path.basename(path)
            expected = os.path.join(self.config.data_dir, self.spec.folder, name)
            raise DataError(expected, None, (
                f"not found; --data_dir should be the GLUE folder in the standard layout "
                f"<data_dir>/{self.spec.folder}/{name} (or the {self.spec.folder} folder "
                "itself), or pass the file flags."))
        is_test = split.startswith("test")
        spec = self.spec
        table = read_table(path, "tsv", has_header=spec.header or is_test)
        text = spec.test_text if is_test else spec.text
        pair = spec.test_text_pair if is_test else spec.text_pair
        texts = table.values(text)
        pairs = table.values(pair) if pair is not None else [(None, None)] * len(texts)
        labels = [(None, None)] * len(texts) if is_test else table.values(spec.label)
        examples = []
        for (line, a), (_, b), (_, label) in zip(texts, pairs, labels):
            if label is not None and not self.regression and label not in spec.labels:
                raise DataError(path, line, f"label {label!r} is not a {self.name} label; "
                                f"valid: {spec.labels}.")
            examples.append(TextExample(f"{split}-{len(examples)}", a, b, label,
                                        f"{path}:{line}"))
        return examples

    def _load_tfds(self, split):
        spec = self.spec
        name = f"glue/{self.name}"
        examples = []
        for i, record in enumerate(load_tfds(name, _TFDS_SPLITS[split], self.config.data_dir)):
            label = record["label"]
            if split.startswith("test") or label < 0:  # TFDS marks hidden labels -1.
                label = None
            elif self.regression:
                label = float(label)
            else:
                label = spec.tfds_labels[label]
            pair = record[spec.tfds_text_pair] if spec.tfds_text_pair else None
            examples.append(TextExample(f"{split}-{record.get('idx', i)}",
                                        record[spec.tfds_text], pair, label,
                                        f"tfds:{name}/{split}#{i}"))
        return examples

    def metrics(self, labels, predictions):
        return glue_metrics(self.name, labels, predictions)

    def describe(self):
        return f"GLUE {self.name} ({'regression' if self.regression else 'classification'})"
