"""Compares an exported artifact's outputs with the Keras model's on the same inputs."""
import numpy as np

from xtremedistil_tf.export.serving_head import DECISION_OUTPUTS, NUMERIC_OUTPUTS


class ParityError(RuntimeError):
    """A float32 artifact disagrees with Keras by more than the tolerance."""


def _cosine(a, b):
    a = a.reshape(a.shape[0], -1).astype(np.float64)
    b = b.reshape(b.shape[0], -1).astype(np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)


def cosine_summary(reference, candidate):
    """`{"mean", "min"}` of the per-row cosine between two `[n, ...]` arrays."""
    cos = _cosine(np.asarray(reference), np.asarray(candidate))
    return {"mean": float(cos.mean()), "min": float(cos.min())}


def compare_outputs(kind, reference, candidate, attention_mask):
    """Differences between two output dicts of a `ServingHead` of `kind`.

    Returns a dict with `max_abs_diff` (over every numeric output),
    `max_abs_diff_per_output`, `agreement` (share of equal decisions: argmax
    for a classifier, the whole span for QA, tags on real tokens for tagging;
    `None` for kinds without decisions) and, for an encoder, `min_cosine` of the
    embeddings.
    """
    mask = np.asarray(attention_mask) > 0
    per_output = {}
    for name in NUMERIC_OUTPUTS[kind]:
        ref, got = np.asarray(reference[name]), np.asarray(candidate[name])
        if ref.shape != got.shape:
            raise ParityError(f"Output {name!r} has shape {got.shape} in the artifact but "
                              f"{ref.shape} in Keras.")
        diff = np.abs(ref.astype(np.float64) - got.astype(np.float64))
        if kind in ("question_answering", "token_classification") and ref.ndim >= 2:
            # Logits on padding are never used; a quantized model may differ there freely.
            diff = diff[mask]
        per_output[name] = float(diff.max()) if diff.size else 0.0
    report = {"max_abs_diff": max(per_output.values()),
              "max_abs_diff_per_output": per_output, "agreement": None}
    decisions = DECISION_OUTPUTS[kind]
    if decisions:
        equal = [np.asarray(reference[n]) == np.asarray(candidate[n]) for n in decisions]
        if kind == "token_classification":
            report["agreement"] = float(equal[0][mask].mean())
        else:
            report["agreement"] = float(np.logical_and.reduce(equal).mean())
    if kind == "encoder":
        report["min_cosine"] = float(min(
            _cosine(np.asarray(reference[n]), np.asarray(candidate[n])).min()
            for n in NUMERIC_OUTPUTS[kind]))
    return report
