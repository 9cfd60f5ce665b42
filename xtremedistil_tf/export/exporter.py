"""Exports a model to SavedModel and LiteRT, checks every artifact against Keras, reports."""
import json
import os
import shutil
import time

import numpy as np
import tensorflow as tf
import tensorflow_text  # noqa: F401  (loads the ops of SavedModels with text signatures)

from xtremedistil_tf.export.dev_metric import DevMetric
from xtremedistil_tf.export.export_config import (
    FLOAT32_FORMATS, FULL_INTEGER_FORMATS, IDS_VARIANT)
from xtremedistil_tf.export.export_layout import ExportLayout
from xtremedistil_tf.export.export_samples import ExportSamples, run_batched
from xtremedistil_tf.export.litert_converter import convert_saved_model
from xtremedistil_tf.export.litert_model import LiteRTModel
from xtremedistil_tf.export.parity import ParityError, compare_outputs, cosine_summary
from xtremedistil_tf.export.serving_head import ServingHead
from xtremedistil_tf.export.serving_signatures import (
    SIGNATURE_IDS, SIGNATURE_TEXT, SIGNATURE_TEXT_PAIR, TEXT_SIGNATURES, build_archive)
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent
from xtremedistil_tf.utils.atomic_io import write_json, write_text


def _text_tokenizers(tokenizer, config):
    """In-graph tokenizers for the text formats, `(saved_model, litert)`, or a clear refusal.

    Both are `GraphTokenizer`s: the SavedModel's is exact, LiteRT's is built with
    `tflite_compatible=True` (ops with LiteRT kernels) and is compared with the
    host tokenizer on the parity sample before export.
    """
    if not config.text_formats:
        return None, None
    variants = ",".join(IDS_VARIANT[f] for f in config.text_formats)
    if tokenizer is None:
        raise ValueError(
            f"Formats {list(config.text_formats)} take raw text, but no tokenizer was found "
            f"beside the model. Put the tokenizer files next to it, or export the token-ids "
            f"variants instead: --formats={variants}.")
    try:
        graph = litert = None
        if "saved_model" in config.formats:
            graph = tokenizer.graph_tokenizer(max_length=config.max_seq_length)
        if any(f.startswith("litert_text_") for f in config.formats):
            litert = tokenizer.graph_tokenizer(max_length=config.max_seq_length,
                                               tflite_compatible=True)
    except ValueError as err:
        raise ValueError(
            f"Formats {list(config.text_formats)} tokenize text inside the graph, which this "
            f"{tokenizer.family!r} tokenizer cannot do ({err}). Export the token-ids variants "
            f"instead: --formats={variants}, and tokenize on the host with "
            "Tokenizer.from_pretrained(<model folder>).") from err
    return graph, litert


def _tokenizer_agreement(layer, samples):
    """Share of parity rows where an in-graph tokenizer gives the host's ids exactly,
    per input form, and the first text where it does not."""
    shares = {}
    for pair in (False, True):
        inputs = samples.parity_set(pair=pair)
        if inputs is None or inputs["text"] is None:
            continue
        text = inputs["text"]
        got = layer(tf.constant(text["text"].astype(str)),
                    tf.constant(text["text_pair"].astype(str)) if pair else None)
        same = np.ones(len(inputs["mask"]), bool)
        for name, value in inputs["ids"].items():
            same &= np.all(got[name].numpy() == value, axis=1)
        shares["pair" if pair else "single"] = float(same.mean())
        if not same.all() and "first_difference" not in shares:
            shares["first_difference"] = str(text["text"][int(np.argmin(same))])
    return shares


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def _signature_schema(loaded):
    schema = {}
    for name, fn in loaded.signatures.items():
        spec = lambda s: {"dtype": s.dtype.name, "shape": s.shape.as_list()}  # noqa: E731
        schema[name] = {"inputs": {k: spec(s) for k, s in
                                   sorted(fn.structured_input_signature[1].items())},
                        "outputs": {k: spec(s) for k, s in sorted(fn.structured_outputs.items())}}
    return schema


class _Checker:
    """Runs one artifact's signatures on the samples and records the comparisons."""

    def __init__(self, samples, dev_metric, keras_dev_score):
        self.samples, self.dev_metric, self.keras_dev_score = samples, dev_metric, keras_dev_score
        self.kind = samples.head.kind

    def signature_inputs(self, signature):
        if signature == SIGNATURE_IDS:
            inputs = self.samples.parity_set()
            return inputs, inputs["ids"]
        inputs = self.samples.parity_set(pair=signature == SIGNATURE_TEXT_PAIR)
        return inputs, inputs["text"]

    def check(self, run, signatures, dev_signature):
        """`run(signature, **inputs)` -> numpy dict; returns the artifact's report."""
        report = {"signatures": {}}
        for signature in signatures:
            inputs, feed = self.signature_inputs(signature)
            got = run_batched(lambda **b: run(signature, **b), feed)
            report["signatures"][signature] = compare_outputs(
                self.kind, self.samples.reference(inputs), got, inputs["mask"])
        report["max_abs_diff"] = max(s["max_abs_diff"] for s in report["signatures"].values())
        agreements = [s["agreement"] for s in report["signatures"].values()
                      if s["agreement"] is not None]
        report["agreement"] = min(agreements) if agreements else None
        dev = self.samples.dev_set()
        if dev is not None and self.dev_metric is not None:
            feed = dev["ids"] if dev_signature == SIGNATURE_IDS else dev["text"]
            if dev_signature == SIGNATURE_TEXT and "text_pair" in feed:
                dev_signature = SIGNATURE_TEXT_PAIR
            outputs = run_batched(lambda **b: run(dev_signature, **b), feed)
            score = self.dev_metric(outputs)
            report["dev_metric"] = score
            report["dev_metric_change"] = score - self.keras_dev_score
            if self.kind == "encoder":
                # Every dev sentence's sentence embedding, not only the parity sample's.
                report["dev_mean_pooled_cosine"] = cosine_summary(
                    self.samples.reference(dev)["mean_pooled_output"],
                    outputs["mean_pooled_output"])
        return report


def _require_parity(fmt, entry, config):
    """Stops the export as soon as a float32 artifact strays from Keras."""
    if fmt not in FLOAT32_FORMATS or entry["max_abs_diff"] <= config.float32_tolerance:
        return
    worst = {name: sig["max_abs_diff_per_output"] for name, sig in entry["signatures"].items()}
    raise ParityError(
        f"{fmt} differs from the Keras model by {entry['max_abs_diff']:.3g} (max abs diff), "
        f"more than float32_tolerance={config.float32_tolerance:g}; nothing was written. "
        f"Per signature and output: {json.dumps(worst)}. A float32 export should match to "
        "about 1e-6; a larger gap means the graph computes something else (check custom "
        "layers and the Keras and TensorFlow versions).")


def _require_same_tokens(agreement):
    """Refuses a text-in LiteRT model whose tokenizer gives other ids than the host."""
    if "first_difference" not in agreement:
        return
    shares = {k: v for k, v in agreement.items() if k != "first_difference"}
    raise ParityError(
        "The text-in LiteRT tokenizer (tensorflow-text FastBertNormalizer / SentencePiece "
        f"ops) does not reproduce the host tokenizer on the parity texts (rows with equal ids: "
        f"{shares}; first difference on {agreement['first_difference'][:80]!r}), so a "
        "litert_text_* model would not match the Keras model. Nothing was written. Export "
        "litert_fp32 (token ids in) and tokenize on the host, or use the SavedModel's text "
        "signatures, which tokenize exactly.")


class _ExportRun:
    """One export: builds artifacts in a staging folder, checks each, then publishes."""

    def __init__(self, head, config, tokenizer, representative_data, dev_data, model_path,
                 log):
        self.head, self.config, self.log = head, config, log
        self.started = time.time()
        self.layout = ExportLayout(config.output_dir, config.model_name, config.version)
        self.layout.check_free(config.overwrite)
        self.graph_tokenizer, self.litert_tokenizer = _text_tokenizers(tokenizer, config)
        self.samples = ExportSamples(head, tokenizer, config, representative_data, dev_data)
        self.token_agreement = None
        if self.litert_tokenizer is not None:
            self.token_agreement = _tokenizer_agreement(self.litert_tokenizer, self.samples)
            _require_same_tokens(self.token_agreement)
        self.representative = (self.samples.representative_examples()
                               if set(FULL_INTEGER_FORMATS) & set(config.formats) else None)
        dev = self.samples.dev_set()
        dev_metric = keras_score = None
        if dev is not None:
            dev_metric = DevMetric(head.kind, self.samples.reference(dev),
                                   self.samples.dev_data.labels, head.label_names, dev["mask"],
                                   seed=config.seed)
            keras_score = dev_metric(self.samples.reference(dev))
        self.checker = _Checker(self.samples, dev_metric, keras_score)
        self.text_signatures = TEXT_SIGNATURES[head.kind] if config.text_formats else ()
        layout = self.layout
        self.report = {
            "model": model_path, "kind": head.kind, "label_names": head.label_names,
            "model_name": config.model_name, "version": layout.version,
            "config": config.to_dict(),
            "paths": {"saved_model": layout.saved_model_dir, "litert": layout.litert_dir,
                      "report": layout.report_path},
            "parity_sample": {"source": self.samples.parity_source,
                              "examples": len(self.samples.parity_set()["mask"])},
            "dev_sample": None if dev is None else {
                "source": self.samples.dev_data.source, "examples": len(dev["mask"]),
                "metric": dev_metric.name, "keras": keras_score},
            "tolerance": {"float32_max_abs_diff": config.float32_tolerance},
            "artifacts": {},
        }
        self.staged = {}

    def _record(self, fmt, entry):
        _require_parity(fmt, entry, self.config)
        self.report["artifacts"][fmt] = entry

    def saved_model(self, staging, fmt):
        self.log(f"[export] {fmt} ...")
        path = os.path.join(staging, "saved_model")
        signatures = self.text_signatures if fmt == "saved_model" else ()
        build_archive(self.head, self.graph_tokenizer if signatures else None,
                      text_signatures=signatures).write_out(path, verbose=False)
        loaded = tf.saved_model.load(path)
        self.report["signatures"] = _signature_schema(loaded)

        def run(signature, **inputs):
            return loaded.signatures[signature](**{k: tf.constant(v) for k, v in inputs.items()})

        entry = self.checker.check(run, (SIGNATURE_IDS,) + tuple(signatures), SIGNATURE_IDS)
        entry.update(path=self.layout.saved_model_dir, size_bytes=_size(path))
        self._record(fmt, entry)
        self.staged[self.layout.saved_model_dir] = path

    def litert(self, staging):
        config, head = self.config, self.head
        litert_dir = os.path.join(staging, "litert")
        os.makedirs(litert_dir)
        # LiteRT gets its own SavedModel with a fixed width: the converter cannot lower
        # the encoder's attention-mask broadcast for an unknown sequence length. A
        # BiLSTM's loop state (a TensorList of [batch, units]) lowers to builtin ops
        # only with a static shape, so its LiteRT model takes one example at a time.
        source = os.path.join(staging, "litert_source")
        text = self.litert_tokenizer is not None
        if text:
            self.report["litert_text_tokenizer_equal_to_host"] = self.token_agreement
        batch_size = 1 if isinstance(head.encoder, BiLSTMStudent) else None
        self.report["litert_batch_size"] = batch_size
        build_archive(head, self.litert_tokenizer, seq_length=config.max_seq_length,
                      text_signatures=self.text_signatures if text else (),
                      batch_size=batch_size).write_out(source, verbose=False)
        for fmt in config.litert_formats:
            self.log(f"[export] {fmt} ...")
            is_text = fmt.startswith("litert_text_")
            signatures = self.text_signatures if is_text else (SIGNATURE_IDS,)
            flatbuffer = convert_saved_model(source, signatures,
                                             fmt[len("litert_"):].replace("text_", ""),
                                             self.representative, custom_ops=is_text)
            name = fmt.replace("litert_", "model_") + ".tflite"
            with open(os.path.join(litert_dir, name), "wb") as f:
                f.write(flatbuffer)
            entry = self.checker.check(LiteRTModel(flatbuffer, custom_ops=is_text), signatures,
                                       SIGNATURE_TEXT if is_text else SIGNATURE_IDS)
            entry.update(path=os.path.join(self.layout.litert_dir, name),
                         size_bytes=len(flatbuffer), custom_ops=is_text)
            self._record(fmt, entry)
        if head.label_names:
            write_text(os.path.join(litert_dir, "labels.txt"), "\n".join(head.label_names) + "\n")
        self.staged[self.layout.litert_dir] = litert_dir

    def run(self):
        staging = self.layout.make_staging()
        try:
            saved = next((f for f in self.config.formats if f.startswith("saved_model")), None)
            if saved:
                self.saved_model(staging, saved)
            if self.config.litert_formats:
                self.litert(staging)
            self.report["passed"] = True
            self.report["wall_seconds"] = round(time.time() - self.started, 1)
            report_dir = os.path.join(staging, "report")
            write_json(os.path.join(report_dir, "export_report.json"), self.report)
            self.staged[self.layout.report_dir] = report_dir
            self.layout.publish(self.staged)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.report


# LiteRT formats a BiLSTM cannot take: the converter cannot lower its recurrence
# behind the in-graph tokenizer (no static batch) and crashes calibrating it for int8.
_NOT_FOR_RECURRENT = ("litert_int8_full", "litert_int16x8", "litert_text_fp32",
                      "litert_text_fp16", "litert_text_int8")


def _check_recurrent_formats(head, config):
    refused = [f for f in config.formats if f in _NOT_FOR_RECURRENT]
    if refused and isinstance(head.encoder, BiLSTMStudent):
        raise ValueError(f"--formats {refused} cannot be built for a BiLSTM model (the "
                         "LiteRT converter cannot lower its LSTM loop behind the text "
                         "tokenizer, nor calibrate it for full int8); use saved_model, "
                         "litert_fp32, litert_fp16 or litert_int8.")


def export_model(model, config, tokenizer=None, representative_data=None, dev_data=None,
                 model_path="", verbose=True):
    """Writes the SavedModel and LiteRT models of `config.formats`, checked against Keras.

    Args:
        model: an `Encoder` or task model.
        config: an `ExportConfig`.
        tokenizer: the host `Tokenizer`; needed for text formats, int8 calibration
            and parity on real text (without it parity uses random token ids).
        representative_data: `ExportData` calibrating `litert_int8_full`.
        dev_data: `ExportData` for the dev-sample metric (labelled or not); also
            the parity sample when given.
        model_path: recorded in the report.
        verbose: print progress.

    Returns the report dict, also written to `export_report.json`. Nothing is
    moved into the output folder unless every float32 artifact is within
    `config.float32_tolerance` of Keras; otherwise raises `ParityError`.
    """
    config.validate()
    started = time.time()

    def log(message):
        if verbose:
            print(f"{time.time() - started:7.1f}s {message}", flush=True)

    head = ServingHead(model, max_answer_length=config.max_answer_length,
                       null_score_threshold=config.null_score_threshold)
    if config.null_score_threshold is not None and head.kind != "question_answering":
        raise ValueError(f"null_score_threshold={config.null_score_threshold} applies to "
                         f"question answering models, and this one is a {head.kind}; drop it.")
    limit = head.encoder.config.max_sequence_length  # None: no position table (a BiLSTM)
    if limit is not None and config.max_seq_length > limit:
        raise ValueError(f"max_seq_length={config.max_seq_length} exceeds what the model's "
                         f"position table embeds ({limit}); use --max_seq_length<={limit}.")
    _check_recurrent_formats(head, config)
    run = _ExportRun(head, config, tokenizer, representative_data, dev_data, model_path, log)
    report = run.run()
    log(f"[export] done: {run.layout.model_dir} version {run.layout.version}")
    return report
