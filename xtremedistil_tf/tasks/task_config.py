"""What a task reads and how it turns text into model inputs."""
import dataclasses
import math

DATA_SOURCES = ("local", "tfds")
FILE_FORMATS = ("tsv", "csv", "jsonl")
TAG_SCHEMES = ("auto", "IOB2", "BIO", "IOBES")


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Data and preprocessing settings shared by every task.

    Args:
        data_dir: local folder in the task's standard layout (`glue_data` or
            `glue_data/<TASK>`, a SQuAD folder with `train-v1.1.json` /
            `dev-v1.1.json`, a CoNLL folder with `train.txt` / `valid.txt` /
            `test.txt`); with `data_source="tfds"`, the TFDS data folder.
        data_source: "local" files or "tfds" (TensorFlow Datasets).
        train_file, eval_file, test_file: explicit files, overriding the
            standard names inside `data_dir`.
        max_seq_length: longest input in tokens; longer inputs are truncated
            (classification, NER) or split into windows (QA).
        max_train_samples: keep a seeded random subset of this many training
            examples (`None` keeps all).
        max_eval_samples: keep the first this-many examples of each dev split.
        max_test_samples: keep the first this-many examples of each test split.
        seed: seed of the training subset.
        file_format: "tsv", "csv" or "jsonl" for user data; `None` infers it
            from the file extension.
        has_header: whether user TSV/CSV files start with a header line.
        text_column, text_pair_column, label_column: columns of user data, as
            header names or 0-based indices; `text_pair_column=None` for single texts.
        doc_stride: QA, tokens between the starts of consecutive windows.
        max_query_length: QA, questions are cut to this many tokens.
        max_answer_length: QA, longest answer span in tokens.
        n_best_size: QA, start and end candidates kept per window.
        null_score_threshold: SQuAD v2, answer '' when the no-answer score
            beats the best span by more than this (0.0 as in BERT's and HF's
            SQuAD scripts). The headline `exact`/`f1` use it; the dev-tuned
            `best_exact`/`best_f1` are reported beside them.
        tag_scheme: NER tagging scheme for strict entity scoring, "IOB2" (= "BIO")
            or "IOBES"; "auto" picks IOBES when the tags hold E- or S-.
        language: NER language for TFDS `wikiann/<language>` and XTREME PAN-X.
    """

    data_dir: str = ""
    data_source: str = "local"
    train_file: str | None = None
    eval_file: str | None = None
    test_file: str | None = None
    max_seq_length: int = 128
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    max_test_samples: int | None = None
    seed: int = 0
    file_format: str | None = None
    has_header: bool = True
    text_column: str = "sentence"
    text_pair_column: str | None = None
    label_column: str = "label"
    doc_stride: int = 128
    max_query_length: int = 64
    max_answer_length: int = 30
    n_best_size: int = 20
    null_score_threshold: float = 0.0
    tag_scheme: str = "auto"
    language: str = "en"

    def validate(self):
        """Raises `ValueError` naming the first field out of range."""
        if self.data_source not in DATA_SOURCES:
            raise ValueError(f"data_source={self.data_source!r}; use one of {list(DATA_SOURCES)}.")
        if self.file_format is not None and self.file_format not in FILE_FORMATS:
            raise ValueError(f"file_format={self.file_format!r}; use one of "
                             f"{list(FILE_FORMATS)} or None to infer it from the extension.")
        if self.tag_scheme not in TAG_SCHEMES:
            raise ValueError(f"tag_scheme={self.tag_scheme!r}; use one of {list(TAG_SCHEMES)}.")
        for name, low in (("max_seq_length", 8), ("doc_stride", 1), ("max_query_length", 1),
                          ("max_answer_length", 1), ("n_best_size", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise ValueError(f"{name}={value!r} must be an integer >= {low}.")
        for name in ("max_train_samples", "max_eval_samples", "max_test_samples"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name}={value!r} must be a positive integer or None (all).")
        threshold = self.null_score_threshold
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or \
                not math.isfinite(threshold):
            raise ValueError(f"null_score_threshold={threshold!r} must be a finite number "
                             "(0.0 as BERT and HF; the dev-tuned threshold is reported as "
                             "best_f1_thresh).")
        return self

    def replace(self, **changes):
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self):
        return dataclasses.asdict(self)
