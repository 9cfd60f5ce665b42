"""The inputs export checks artifacts on, tokenized once, with the Keras outputs on them."""
import numpy as np

from xtremedistil_tf.export.export_data import ExportData
from xtremedistil_tf.export.litert_converter import EmptyRepresentativeDataError

_BATCH = 32
# Parity texts when the user gives none: plain, accented, punctuated, long and empty.
_BUILTIN_TEXTS = (
    "The film was a delight from start to finish.",
    "I would not watch it again, even for free!",
    "Café owners in São Paulo say prices rose 12% in 2023.",
    "Who wrote the report, and when was it published?",
    "a",
    "",
    "Transformers read whole sentences at once; distillation makes them small enough "
    "for phones, and quantization shrinks them further without much loss in accuracy. " * 4,
    "It's well-made, but the second half drags.",
)


def run_batched(fn, inputs, batch_size=_BATCH):
    """Calls `fn(**batch)` over slices of `inputs` and concatenates the numpy outputs."""
    size = len(next(iter(inputs.values())))
    parts = []
    for start in range(0, size, batch_size):
        batch = {k: v[start:start + batch_size] for k, v in inputs.items()}
        parts.append({k: np.asarray(v) for k, v in fn(**batch).items()})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def with_extreme_lengths(data, max_seq_length):
    """`data` plus an empty text and one that fills `max_seq_length`.

    Mean pooling weighs tokens by 1 / count; calibrated only on the user's texts, the
    quantized weights and count span just their lengths, so a shorter text's weights
    (or a longer text's count) saturate and its sentence vector comes out scaled.
    """
    words = " ".join(data.texts).split() or ["a"]
    long = " ".join((words * (max_seq_length // len(words) + 1))[:max_seq_length])
    pairs = None if data.text_pairs is None else data.text_pairs + ("", long)
    return ExportData(data.texts + ("", long), pairs, source=data.source)


class ExportSamples:
    """Parity, dev and calibration inputs, and the Keras model's outputs on them.

    Args:
        head: the `ServingHead` being exported.
        tokenizer: the host `Tokenizer`, or `None` (then parity uses random ids).
        config: the `ExportConfig`.
        representative_data: `ExportData` for full-integer calibration, or `None`.
        dev_data: labelled (or not) `ExportData` for the metric change, or `None`.

    Each input set is a dict with `ids` (the three int32 `[n, max_seq_length]`
    arrays), `text` (string inputs for text signatures, or `None`) and `mask`.
    """

    def __init__(self, head, tokenizer, config, representative_data=None, dev_data=None):
        self.head, self.tokenizer, self.config = head, tokenizer, config
        self.representative_data = representative_data
        self.dev_data = None if dev_data is None else dev_data.head(config.num_dev_examples)
        self._references = {}
        source = dev_data if dev_data is not None and len(dev_data) else representative_data
        if tokenizer is not None and (source is None or not len(source)):
            source = ExportData(_BUILTIN_TEXTS, source="built-in sentences")
        if tokenizer is not None:
            self.parity_data = source.head(config.num_parity_examples)
            self.parity_source = source.source or "user data"
        else:
            self.parity_data = None
            self.parity_source = "synthetic token ids"

    # Inputs.
    def _pairs(self, data):
        """Second texts: the data's own, else (for QA, which needs two) the texts rotated."""
        if data.text_pairs is not None:
            return list(data.text_pairs)
        if self.head.kind == "question_answering":
            return list(data.texts[1:] + data.texts[:1])
        return None

    def _tokenize(self, texts, pairs):
        return self.tokenizer(list(texts), pairs, max_length=self.config.max_seq_length,
                              padding="max_length")

    def _text_inputs(self, texts, pairs):
        out = {"text": np.asarray(list(texts), dtype=object)}
        if pairs is not None:
            out["text_pair"] = np.asarray(list(pairs), dtype=object)
        return out

    def _synthetic(self):
        config = self.head.encoder.config
        rng = np.random.default_rng(self.config.seed)
        n, width = self.config.num_parity_examples, self.config.max_seq_length
        low = min(config.pad_token_id + 1, config.vocab_size - 1)
        ids = rng.integers(low, config.vocab_size, size=(n, width)).astype(np.int32)
        lengths = rng.integers(3, width + 1, size=n)
        lengths[0] = width
        mask = (np.arange(width)[None, :] < lengths[:, None]).astype(np.int32)
        types = np.zeros_like(ids)
        if self.head.kind == "question_answering" and config.type_vocab_size > 1:
            types = ((np.arange(width)[None, :] >= lengths[:, None] // 2) & (mask > 0))
        ids = np.where(mask > 0, ids, config.pad_token_id).astype(np.int32)
        return {"input_ids": ids, "attention_mask": mask,
                "token_type_ids": types.astype(np.int32)}

    def parity_set(self, pair=None):
        """Parity inputs; `pair` True/False forces the two-text/one-text form."""
        if self.parity_data is None:
            if pair:
                return None
            ids = self._synthetic()
            return {"name": "synthetic", "ids": ids, "text": None, "mask": ids["attention_mask"]}
        data = self.parity_data
        pairs = self._pairs(data)
        if pair is True and pairs is None:
            pairs = list(data.texts[1:] + data.texts[:1])
        if pair is False:
            pairs = None
        ids = self._tokenize(data.texts, pairs)
        return {"name": "pair" if pairs is not None else "single", "ids": ids,
                "text": self._text_inputs(data.texts, pairs), "mask": ids["attention_mask"]}

    def dev_set(self):
        if self.dev_data is None or not len(self.dev_data) or self.tokenizer is None:
            return None
        pairs = self._pairs(self.dev_data)
        ids = self._tokenize(self.dev_data.texts, pairs)
        return {"name": "dev", "ids": ids, "text": self._text_inputs(self.dev_data.texts, pairs),
                "mask": ids["attention_mask"]}

    def representative_examples(self):
        """Batch-1 input dicts calibrating the full-integer kinds: the user's texts, then
        an empty and a full-length one (`with_extreme_lengths`)."""
        data = self.representative_data
        if data is None or not len(data):
            message = ("The representative dataset for litert_int8_full is empty"
                       if data is not None else "litert_int8_full needs a representative "
                       "dataset and none was given")
            raise EmptyRepresentativeDataError(
                f"{message}. Pass a file of your own texts with --representative_file (a "
                "hundred or more calibrate well), or use litert_int8 (dynamic range), which "
                "needs none.")
        if self.tokenizer is None:
            raise ValueError("litert_int8_full calibrates on tokenized texts, but no tokenizer "
                             "was found beside the model; put the tokenizer files next to it.")
        data = with_extreme_lengths(data.head(self.config.num_representative_examples),
                                     self.config.max_seq_length)
        ids = self._tokenize(data.texts, self._pairs(data))
        return [{k: v[i:i + 1] for k, v in ids.items()} for i in range(len(data))]

    # Keras reference.
    def reference(self, inputs):
        """The Keras model's outputs (eager, through the same head) on an input set."""
        key = (inputs["name"], len(inputs["mask"]))
        if key not in self._references:
            def call(**batch):
                return {k: v.numpy() for k, v in self.head(batch).items()}

            self._references[key] = run_batched(call, inputs["ids"])
        return self._references[key]
