"""Converts SavedModel signatures to LiteRT flatbuffers, float or quantized."""
import contextlib
import io
import warnings

import tensorflow as tf

QUANTIZATIONS = ("fp32", "fp16", "int8", "int8_full", "int16x8")
# Quantizations calibrated on representative data (activations become integers).
FULL_INTEGER = ("int8_full", "int16x8")


class EmptyRepresentativeDataError(ValueError):
    """Full-integer quantization got no calibration examples."""


def _checked_representative(representative_data):
    """Materialises the calibration examples, refusing an empty set up front.

    An empty generator would otherwise surface deep in the converter as an
    unrelated calibration error.
    """
    if representative_data is None:
        raise EmptyRepresentativeDataError(
            "litert_int8_full needs a representative dataset, and none was given. Pass "
            "examples from your own data (run_export.py: --representative_file), or drop "
            "litert_int8_full from --formats and use litert_int8 (dynamic range), which "
            "needs none.")
    examples = list(representative_data)
    if not examples:
        raise EmptyRepresentativeDataError(
            "The representative dataset for litert_int8_full is empty: it yielded no "
            "examples. Point --representative_file at a file with at least one text (a "
            "hundred or more calibrate better), or use litert_int8, which needs none.")
    return examples


def convert_saved_model(saved_model_dir, signature_keys, quantization="fp32",
                        representative_data=None, custom_ops=False):
    """Returns the LiteRT flatbuffer (bytes) for some signatures of a SavedModel.

    Args:
        saved_model_dir: a SavedModel written by `ExportArchive`.
        signature_keys: the signatures to convert; each becomes a LiteRT
            signature of the same name.
        quantization: one of `QUANTIZATIONS`: "fp32" (no quantization), "fp16"
            (float16 weights), "int8" (dynamic range: int8 weights, float
            activations) or "int8_full" (int8 weights and activations, calibrated
            on `representative_data`; inputs and outputs keep their types) or
            "int16x8" (int8 weights, int16 activations, calibrated the same way;
            ops without an int16 kernel, here only the mean-pooling division,
            stay float).
        representative_data: for "int8_full" and "int16x8", an iterable of dicts mapping the
            signature's input names to numpy arrays of batch 1.
        custom_ops: allow ops outside the builtin set (the tensorflow-text
            tokenizer ops); the model then needs their registrar at run time.

    Raises `EmptyRepresentativeDataError` for a full-integer kind without examples.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization={quantization!r} is unknown; valid: "
                         f"{list(QUANTIZATIONS)}.")
    examples = None
    if quantization in FULL_INTEGER:
        examples = _checked_representative(representative_data)
    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model_dir, signature_keys=list(signature_keys))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = bool(custom_ops)
    if quantization != "fp32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    if quantization == "int8_full":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.representative_dataset = lambda: iter(examples)
    if quantization == "int16x8":
        # TFLITE_BUILTINS lets the few ops without an int16 kernel (DIV) stay float.
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS]
        converter.representative_dataset = lambda: iter(examples)
    # Calibration runs the deprecated tf.lite.Interpreter inside the converter and
    # prints its warnings; they are about TF internals, not the user's model.
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return converter.convert()
