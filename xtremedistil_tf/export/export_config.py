"""What an export writes and how strictly it is checked, validated before any work."""
import dataclasses
import re

# Every format an export can write, with what it is. Text formats tokenize in the graph.
FORMATS = {
    "saved_model": "SavedModel for TF Serving: token-ids signature plus text signatures",
    "saved_model_ids": "SavedModel for TF Serving with the token-ids signature only",
    "litert_fp32": "LiteRT float32, token ids in, builtin ops only",
    "litert_fp16": "LiteRT with float16 weights, token ids in",
    "litert_int8": "LiteRT with dynamic-range int8 weights, token ids in",
    "litert_int8_full": "LiteRT full-integer int8 (representative data), token ids in",
    "litert_int16x8": "LiteRT int16 activations, int8 weights (representative data), ids in",
    "litert_text_fp32": "LiteRT float32, raw text in (tensorflow-text custom ops)",
    "litert_text_fp16": "LiteRT with float16 weights, raw text in (custom ops)",
    "litert_text_int8": "LiteRT with dynamic-range int8 weights, raw text in (custom ops)",
}
TEXT_FORMATS = ("saved_model", "litert_text_fp32", "litert_text_fp16", "litert_text_int8")
# The token-ids format to suggest when a text format cannot be built.
IDS_VARIANT = {"saved_model": "saved_model_ids", "litert_text_fp32": "litert_fp32",
               "litert_text_fp16": "litert_fp16", "litert_text_int8": "litert_int8"}
FLOAT32_FORMATS = ("saved_model", "saved_model_ids", "litert_fp32", "litert_text_fp32")
# Formats calibrated on representative data.
FULL_INTEGER_FORMATS = ("litert_int8_full", "litert_int16x8")
DEFAULT_FORMATS = ("saved_model", "litert_fp32", "litert_fp16", "litert_int8")
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """An export run.

    Args:
        output_dir: base folder. The SavedModel goes to
            `<output_dir>/<model_name>/<version>/` (TF Serving's layout), LiteRT
            files to `<output_dir>/<model_name>/litert/<version>/` and the report
            to `<output_dir>/<model_name>/reports/<version>/export_report.json`.
        model_name: the name TF Serving serves the model under.
        version: a positive integer; `None` takes the next free version.
        formats: names from `FORMATS`.
        max_seq_length: tokens per example for text signatures and LiteRT
            models (LiteRT inputs have this fixed width; the SavedModel token-ids
            signature accepts any width up to the position table).
        overwrite: replace an existing version instead of refusing.
        float32_tolerance: the largest max-abs difference from Keras a float32
            artifact may show; a worse one fails the export.
        num_parity_examples: examples every artifact is run on for parity.
        num_representative_examples: examples calibrating full-integer int8.
        num_dev_examples: examples of the dev sample the metric change is
            measured on (only when labelled dev data is given).
        max_answer_length: longest answer span, in tokens, for question answering.
        null_score_threshold: question answering with a no-answer option (SQuAD
            v2, baked into the export): answer "" (`has_answer` False) when the
            no-answer score beats the best span by more than this (0.0 as BERT
            and HF). `None`: always answer (SQuAD v1 models).
        seed: seeds the probe split and synthetic inputs.
    """

    output_dir: str
    model_name: str = "model"
    version: int | None = None
    formats: tuple = DEFAULT_FORMATS
    max_seq_length: int = 128
    overwrite: bool = False
    float32_tolerance: float = 1e-4
    num_parity_examples: int = 16
    num_representative_examples: int = 100
    num_dev_examples: int = 256
    max_answer_length: int = 30
    null_score_threshold: float | None = None
    seed: int = 0

    def validate(self):
        """Raises `ValueError` naming the first field out of range."""
        if not self.output_dir:
            raise ValueError("output_dir is empty; give the base folder to export into.")
        if not _MODEL_NAME.fullmatch(self.model_name or ""):
            raise ValueError(f"model_name={self.model_name!r} must be letters, digits, '_', "
                             "'.' or '-' (it becomes a folder name and the TF Serving name).")
        if self.version is not None and (not isinstance(self.version, int)
                                         or self.version < 1):
            raise ValueError(f"version={self.version!r} must be a positive integer "
                             "(TF Serving only loads numeric version folders), or None.")
        if not self.formats:
            raise ValueError(f"formats is empty; give one or more of {list(FORMATS)}.")
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown:
            raise ValueError(f"formats has unknown entries {unknown}; valid formats: "
                             f"{list(FORMATS)}.")
        if len(set(self.formats)) != len(self.formats):
            raise ValueError(f"formats={list(self.formats)} repeats a format.")
        if "saved_model" in self.formats and "saved_model_ids" in self.formats:
            raise ValueError("formats holds both saved_model and saved_model_ids; they are "
                             "the same SavedModel with and without text signatures, pick one.")
        if not isinstance(self.max_seq_length, int) or self.max_seq_length < 3:
            raise ValueError(f"max_seq_length={self.max_seq_length!r} must be an integer >= 3 "
                             "([CLS], one token, [SEP]).")
        if not 0.0 < self.float32_tolerance < 1.0:
            raise ValueError(f"float32_tolerance={self.float32_tolerance} must be in (0, 1).")
        for name in ("num_parity_examples", "num_representative_examples",
                     "num_dev_examples", "max_answer_length"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer.")
        threshold = self.null_score_threshold
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(
                threshold, (int, float)) or threshold != threshold):
            raise ValueError(f"null_score_threshold={threshold!r} must be a number (0.0 as "
                             "BERT and HF for SQuAD v2), or None to always answer.")
        return self

    @property
    def text_formats(self):
        return tuple(f for f in self.formats if f in TEXT_FORMATS)

    @property
    def litert_formats(self):
        return tuple(f for f in self.formats if f.startswith("litert_"))

    def to_dict(self):
        return dataclasses.asdict(self)
