"""Exported artifacts load, match Keras, land in TF Serving's layout, and errors are clear."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from xtremedistil_tf.export import (
    EmptyRepresentativeDataError, ExportConfig, ExportData, ExportLayout, LiteRTModel,
    ParityError, VersionExistsError, export_model)
from xtremedistil_tf.tokenizers import Tokenizer

from tests.export.conftest import LABELS, PAIRS, SEQ, TEXTS, TOLERANCE, tiny_encoder


def _keras(model, ids):
    probabilities = tf.nn.softmax(model(ids)["logits"], axis=-1).numpy()
    return probabilities, probabilities.argmax(-1)


def test_report_records_every_artifact_within_tolerance(exported):
    report = exported["report"]
    assert report["passed"] and report["kind"] == "classifier"
    assert report["label_names"] == LABELS
    assert set(report["artifacts"]) == set(TOLERANCE)
    for name, artifact in report["artifacts"].items():
        assert artifact["max_abs_diff"] <= TOLERANCE[name], name
        assert os.path.exists(artifact["path"]) and artifact["size_bytes"] > 0
        assert "dev_metric" in artifact and "dev_metric_change" in artifact
    for name in ("saved_model", "litert_fp32", "litert_text_fp32"):
        assert report["artifacts"][name]["agreement"] == 1.0
        assert report["artifacts"][name]["dev_metric_change"] == 0.0
    assert report["dev_sample"]["metric"] == "accuracy"
    assert report["litert_text_tokenizer_equal_to_host"] == {"single": 1.0, "pair": 1.0}
    # Quantization shrinks the file.
    sizes = {n: a["size_bytes"] for n, a in report["artifacts"].items()}
    assert sizes["litert_int8"] < sizes["litert_fp16"] < sizes["litert_fp32"]
    with open(report["paths"]["report"], encoding="utf-8") as f:
        assert json.load(f)["artifacts"].keys() == report["artifacts"].keys()


def test_tf_serving_layout(exported):
    base = exported["base"] / "clf"
    assert (base / "1" / "saved_model.pb").is_file()
    assert (base / "1" / "variables" / "variables.index").is_file()
    names = sorted(os.listdir(base / "litert" / "1"))
    assert names == ["labels.txt", "model_fp16.tflite", "model_fp32.tflite", "model_int8.tflite",
                     "model_int8_full.tflite", "model_text_fp32.tflite"]
    assert (base / "litert" / "1" / "labels.txt").read_text().split() == LABELS
    assert not [n for n in os.listdir(base) if n.startswith(".staging")]


def test_saved_model_reloads_and_matches_keras(exported):
    import tensorflow_text  # noqa: F401  (needed to load the text signatures' ops)

    loaded = tf.saved_model.load(exported["saved_model"])
    ids = exported["tokenizer"](TEXTS, PAIRS, max_length=SEQ)
    out = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in ids.items()})
    probabilities, argmax = _keras(exported["model"], ids)
    np.testing.assert_allclose(out["probabilities"].numpy(), probabilities, atol=1e-5)
    np.testing.assert_array_equal(out["predicted_index"].numpy(), argmax)
    assert [x.decode() for x in out["predicted_label"].numpy()] == [LABELS[i] for i in argmax]
    assert out["label_names"].shape == (len(TEXTS), 3)
    # Any width works in the SavedModel, not only max_seq_length.
    short = exported["tokenizer"](TEXTS[:2], max_length=7)
    out = loaded.signatures["serving_default"](**{k: tf.constant(v) for k, v in short.items()})
    np.testing.assert_allclose(out["probabilities"].numpy(), _keras(exported["model"], short)[0],
                               atol=1e-5)


@pytest.mark.parametrize("fmt", ["litert_fp32", "litert_fp16", "litert_int8", "litert_int8_full"])
def test_litert_reloads_from_disk_and_matches_keras(exported, fmt):
    lite = LiteRTModel(exported["report"]["artifacts"][fmt]["path"])
    assert list(lite.signatures) == ["serving_default"]
    ids = exported["tokenizer"](TEXTS, max_length=SEQ)
    out = lite("serving_default", **ids)
    probabilities, argmax = _keras(exported["model"], ids)
    assert np.abs(out["probabilities"] - probabilities).max() <= TOLERANCE[fmt]
    if fmt != "litert_int8_full":
        np.testing.assert_array_equal(out["predicted_index"], argmax)


def test_text_signatures_equal_host_tokenization_then_ids_signature(exported):
    import tensorflow_text  # noqa: F401

    loaded = tf.saved_model.load(exported["saved_model"])
    tok = exported["tokenizer"]
    ids_fn = loaded.signatures["serving_default"]
    for pairs in (None, PAIRS):
        ids = tok(TEXTS, pairs, max_length=SEQ)
        via_ids = ids_fn(**{k: tf.constant(v) for k, v in ids.items()})
        if pairs is None:
            via_text = loaded.signatures["serve_text"](text=tf.constant(TEXTS))
        else:
            via_text = loaded.signatures["serve_text_pair"](text=tf.constant(TEXTS),
                                                            text_pair=tf.constant(pairs))
        for name in ("probabilities", "predicted_index"):
            np.testing.assert_allclose(via_text[name].numpy(), via_ids[name].numpy(), atol=1e-6)


def test_litert_text_model_equals_host_tokenization_then_ids_model(exported):
    text_model = LiteRTModel(exported["report"]["artifacts"]["litert_text_fp32"]["path"],
                             custom_ops=True)
    ids_model = LiteRTModel(exported["report"]["artifacts"]["litert_fp32"]["path"])
    assert sorted(text_model.signatures) == ["serve_text", "serve_text_pair"]
    tok = exported["tokenizer"]
    for pairs in (None, PAIRS):
        via_ids = ids_model("serving_default", **tok(TEXTS, pairs, max_length=SEQ))
        if pairs is None:
            via_text = text_model("serve_text", text=TEXTS)
        else:
            via_text = text_model("serve_text_pair", text=TEXTS, text_pair=pairs)
        np.testing.assert_allclose(via_text["probabilities"], via_ids["probabilities"], atol=1e-6)


def _cheap_config(out, **kw):
    return ExportConfig(str(out), model_name="enc", max_seq_length=8,
                        formats=kw.pop("formats", ("saved_model_ids",)), **kw)


def test_existing_version_needs_overwrite_and_versions_count_up(tmp_path):
    encoder = tiny_encoder()
    first = export_model(encoder, _cheap_config(tmp_path), verbose=False)
    assert first["version"] == 1 and first["parity_sample"]["source"] == "synthetic token ids"
    with pytest.raises(VersionExistsError, match="--overwrite"):
        export_model(encoder, _cheap_config(tmp_path, version=1), verbose=False)
    assert ExportLayout(str(tmp_path), "enc").version == 2
    again = export_model(encoder, _cheap_config(tmp_path, version=1, overwrite=True),
                         verbose=False)
    assert again["version"] == 1 and (tmp_path / "enc" / "1" / "saved_model.pb").is_file()


def test_publish_replaces_a_version_whole(tmp_path):
    layout = ExportLayout(str(tmp_path), "m", version=3)
    for folder in layout.final_dirs():
        os.makedirs(folder)
        open(os.path.join(folder, "old.txt"), "w").close()
    staging = layout.make_staging()
    new = os.path.join(staging, "saved")
    os.makedirs(new)
    open(os.path.join(new, "saved_model.pb"), "w").close()
    layout.check_free(overwrite=True)
    layout.publish({layout.saved_model_dir: new})
    assert os.listdir(layout.saved_model_dir) == ["saved_model.pb"]
    # Folders of the old export that the new one does not write are gone, not stale.
    assert not os.path.exists(layout.litert_dir) and not os.path.exists(layout.report_dir)
    assert ExportLayout(str(tmp_path), "m").version == 4


@pytest.mark.parametrize("data", [ExportData([]), None])
def test_empty_representative_dataset_is_refused_before_any_work(tmp_path, tokenizer, data):
    with pytest.raises(EmptyRepresentativeDataError, match="representative"):
        export_model(tiny_encoder(), _cheap_config(tmp_path, formats=("litert_int8_full",)),
                     tokenizer=tokenizer, representative_data=data, verbose=False)
    assert not (tmp_path / "enc" / "litert").exists()


def test_text_export_for_bpe_tokenizer_names_the_token_ids_variant(tmp_path):
    bpe = Tokenizer("bpe", ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "a", "b", "ab"],
                    merges=[("a", "b")], model_type="roberta")
    for fmt, variant in (("saved_model", "saved_model_ids"), ("litert_text_fp32", "litert_fp32")):
        with pytest.raises(ValueError, match=f"--formats={variant}") as err:
            export_model(tiny_encoder(), _cheap_config(tmp_path, formats=(fmt,)),
                         tokenizer=bpe, verbose=False)
        assert "'bpe'" in str(err.value)
    assert not (tmp_path / "enc").exists() or not os.listdir(tmp_path / "enc")


def test_float32_parity_failure_refuses_and_writes_nothing(tmp_path, monkeypatch):
    from xtremedistil_tf.export import exporter

    real = exporter.compare_outputs

    def off_by_a_bit(*args):
        result = real(*args)
        result["max_abs_diff"] += 1e-3
        return result

    monkeypatch.setattr(exporter, "compare_outputs", off_by_a_bit)
    with pytest.raises(ParityError, match="saved_model_ids"):
        export_model(tiny_encoder(), _cheap_config(tmp_path), verbose=False)
    assert not (tmp_path / "enc" / "1").exists()
    assert not [n for n in os.listdir(tmp_path / "enc") if n.startswith(".staging")]


def test_text_litert_export_refuses_when_its_tokenizer_differs_from_host(tmp_path, tokenizer):
    from tests.export.conftest import tiny_classifier

    # The host tokenizer matches the literal "[SEP]" as the special token; the LiteRT
    # tokenizer (GraphTokenizer with tflite_compatible=True) reads it as text.
    dev = ExportData(["the film [SEP] was good", "a dull plot"])
    with pytest.raises(ParityError, match="does not reproduce the host tokenizer.*SEP"):
        export_model(tiny_classifier(), ExportConfig(str(tmp_path), max_seq_length=12,
                                                     formats=("litert_text_fp32",)),
                     tokenizer=tokenizer, dev_data=dev, verbose=False)
    assert not (tmp_path / "model" / "litert").exists()
