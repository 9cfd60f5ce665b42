"""Fine-tuning every task type on tiny data: training runs, loss falls, outputs fit."""
import json

import keras
import numpy as np
import pytest

from tests.tasks.conftest import (ner_sentences, sentiment_rows, squad_articles, write_conll,
                                  write_json, write_tsv)
from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, finetune, get_task
from xtremedistil_tf.tasks.data.examples import TextExample, TokenExample
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer

FAST = dict(learning_rate=1e-2, batch_size=16, warmup_ratio=0.0, verbose=0)


def _run(task, encoder, tokenizer, out, num_train_epochs=3, **kwargs):
    config = FinetuneConfig(output_dir=str(out), num_train_epochs=num_train_epochs,
                            **{**FAST, **kwargs})
    return finetune(task, encoder, tokenizer, config, run_info={"init_checkpoint": "tiny"})


def _losses(results):
    return [e["train_loss"] for e in results["epochs"]]


def test_glue_sst2_trains_selects_and_reloads(tmp_path, encoder, tokenizer, data_rng):
    write_tsv(tmp_path / "SST-2" / "train.tsv", ["sentence", "label"],
              sentiment_rows(200, data_rng))
    write_tsv(tmp_path / "SST-2" / "dev.tsv", ["sentence", "label"],
              sentiment_rows(24, data_rng))
    write_tsv(tmp_path / "SST-2" / "test.tsv", ["index", "sentence"],
              [(i, t) for i, (t, _) in enumerate(sentiment_rows(5, data_rng))])
    task = get_task("sst2", TaskConfig(data_dir=str(tmp_path), max_seq_length=12))
    res = _run(task, encoder, tokenizer, tmp_path / "out", num_train_epochs=4,
               predict_test=True)
    losses = _losses(res)
    assert losses[-1] < 0.5 * losses[0]
    assert res["eval"]["dev"]["accuracy"] >= 0.9
    best = max(res["epochs"], key=lambda e: e["dev"]["score"])["epoch"]
    assert res["best_epoch"] == best
    assert res["counts"]["train"] == {"examples": 200, "inputs": 200, "truncated": 0}
    model = res["model"]
    out = model(model.encoder.dummy_inputs(batch_size=3, seq_len=7))
    assert out["logits"].shape == (3, 2) and len(out["hidden_states"]) == 3
    assert len((tmp_path / "out" / "test_predictions.tsv").read_text().splitlines()) == 6
    written = json.loads((tmp_path / "out" / "results.json").read_text())
    assert written["eval"]["dev"] == res["eval"]["dev"] and "summary" in written

    # The saved model evaluates to the same dev numbers without training.
    loaded = keras.models.load_model(tmp_path / "out" / "model.keras")
    again = _run(get_task("sst2", TaskConfig(data_dir=str(tmp_path), max_seq_length=12)),
                 loaded, TaskTokenizer(str(tmp_path / "out")), tmp_path / "eval",
                 num_train_epochs=0)
    assert again["eval"]["dev"] == res["eval"]["dev"] and not again["new_head"]


def test_truncation_is_counted(tokenizer):
    task = get_task("sst2", TaskConfig(max_seq_length=8))
    examples = [TextExample("a", "the film was very very very good", label="1"),
                TextExample("b", "good", label="1")]
    features = task.build_features(examples, TaskTokenizer(tokenizer), training=True)
    assert features.stats == {"truncated": 1}
    assert [len(x) for x in features.inputs["input_ids"]] == [8, 3]


def test_stsb_regression(tmp_path, encoder, tokenizer, data_rng):
    header = ["index", "sentence1", "sentence2", "score"]
    rows = []
    for i, (text, label) in enumerate(sentiment_rows(180, data_rng)):
        rows.append((i, text, "the film", f"{1.0 + 3.0 * label:.3f}"))
    write_tsv(tmp_path / "train.tsv", header, rows[:160])
    write_tsv(tmp_path / "dev.tsv", header, rows[160:])
    task = get_task("stsb", TaskConfig(data_dir=str(tmp_path), max_seq_length=16))
    res = _run(task, encoder, tokenizer, tmp_path / "out", num_train_epochs=4)
    losses = _losses(res)
    assert losses[-1] < 0.5 * losses[0]
    assert set(res["eval"]["dev"]) == {"pearson", "spearman", "score"}
    assert res["model"].classifier.units == 1


def test_user_jsonl_pair_classification(tmp_path, encoder, tokenizer, data_rng):
    def rows(n):
        out = []
        for text, label in sentiment_rows(n, data_rng):
            out.append(json.dumps({"review": text, "topic": "film",
                                   "stars": ["low", "high"][label]}))
        return "\n".join(out)

    (tmp_path / "train.jsonl").write_text(rows(120))
    (tmp_path / "dev.jsonl").write_text(rows(20))
    config = TaskConfig(data_dir=str(tmp_path), text_column="review",
                        text_pair_column="topic", label_column="stars", max_seq_length=16)
    res = _run(get_task("text_classification", config), encoder, tokenizer, tmp_path / "o",
               num_train_epochs=3)
    assert _losses(res)[-1] < _losses(res)[0]
    assert res["label_names"] == ["high", "low"]
    lines = (tmp_path / "o" / "dev_predictions.tsv").read_text().splitlines()
    assert lines[0] == "index\tprediction\tlabel" and len(lines) == 21


def test_ner_conll(tmp_path, encoder, tokenizer, data_rng):
    write_conll(tmp_path / "train.txt", ner_sentences(120, data_rng))
    write_conll(tmp_path / "valid.txt", ner_sentences(20, data_rng))
    write_conll(tmp_path / "test.txt", ner_sentences(20, data_rng))
    task = get_task("conll2003", TaskConfig(data_dir=str(tmp_path), max_seq_length=16))
    res = _run(task, encoder, tokenizer, tmp_path / "out", num_train_epochs=3)
    losses = _losses(res)
    assert losses[-1] < 0.5 * losses[0]
    assert res["test"]["test"]["f1"] > 0.8 and "conlleval_f1" in res["test"]["test"]
    assert res["label_names"][0] == "O" and task.scheme == "IOB2"
    out = res["model"](res["model"].encoder.dummy_inputs(batch_size=2, seq_len=7))
    assert out["logits"].shape == (2, 7, len(res["label_names"]))
    lines = (tmp_path / "out" / "test_predictions.txt").read_text().split("\n\n")
    assert len([s for s in lines if s.strip()]) == 20


@pytest.mark.parametrize("version", ["squad_v1", "squad_v2"])
def test_squad(tmp_path, encoder, tokenizer, data_rng, version):
    suffix = "v2.0" if version == "squad_v2" else "v1.1"
    impossible = 0.4 if version == "squad_v2" else 0.0
    write_json(tmp_path / f"train-{suffix}.json", squad_articles(90, data_rng, impossible))
    write_json(tmp_path / f"dev-{suffix}.json", squad_articles(12, data_rng, impossible))
    task = get_task(version, TaskConfig(data_dir=str(tmp_path), max_seq_length=24,
                                        doc_stride=6, max_query_length=8))
    res = _run(task, encoder, tokenizer, tmp_path / "out", num_train_epochs=3)
    losses = _losses(res)
    assert losses[-1] < 0.7 * losses[0]
    assert res["counts"]["train"]["examples_windowed"] > 0
    predictions = json.loads((tmp_path / "out" / "predictions.json").read_text())
    assert set(predictions) == {f"q{i}" for i in range(res["counts"]["dev"]["examples"])} \
        or len(predictions) == res["counts"]["dev"]["examples"]
    assert all(isinstance(v, str) for v in predictions.values())
    out = res["model"](res["model"].encoder.dummy_inputs(batch_size=2, seq_len=7))
    assert out["start_logits"].shape == out["end_logits"].shape == (2, 7)
    dev = res["eval"]["dev"]
    if version == "squad_v2":
        assert {"HasAns_f1", "NoAns_f1", "best_f1_thresh"} <= set(dev)
        # The headline is at the fixed threshold 0.0; the dev-tuned figure is beside it.
        assert dev["null_score_threshold"] == 0.0 and dev["score"] == dev["f1"]
        assert {"best_exact", "best_exact_thresh", "best_f1"} <= set(dev)
        # The epoch is chosen by the headline, not by the dev-tuned best_f1.
        headline = [e["dev"]["f1"] for e in res["epochs"]]
        assert res["best_epoch"] == 1 + headline.index(max(headline))
        assert dev == res["epochs"][res["best_epoch"] - 1]["dev"]
        assert (tmp_path / "out" / "null_odds.json").exists()
    else:
        assert set(dev) == {"exact_match", "f1", "total", "score"}


def test_epochs_zero_needs_a_trained_head(tmp_path, encoder, tokenizer, data_rng):
    write_tsv(tmp_path / "dev.tsv", ["sentence", "label"], sentiment_rows(4, data_rng))
    task = get_task("sst2", TaskConfig(data_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="num_train_epochs=0 only evaluates"):
        _run(task, encoder, tokenizer, tmp_path / "out", num_train_epochs=0)


def test_unknown_task_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown task 'sst5'; valid tasks: \['cola', "
                                         r"'conll'"):
        get_task("sst5", TaskConfig())


def test_every_registered_task_builds(encoder):
    from xtremedistil_tf.tasks import TASKS
    for name in TASKS:
        task = get_task(name, TaskConfig(max_seq_length=128))
        assert task.name == name and task.eval_splits


def test_prediction_trims_token_outputs_per_feature(encoder, tokenizer):
    task = get_task("conll2003", TaskConfig(max_seq_length=16))
    task.label_names, task.scheme = ["O", "B-PER"], "IOB2"
    model = task.build_model(encoder)
    features = task.build_features(
        [TokenExample(str(i), tuple(w)) for i, w in enumerate(
            (["john", "smith", "visited"], ["john"], ["john", "smith"]))],
        TaskTokenizer(tokenizer), training=False)
    # Batches are formed shortest first; results must come back in input order.
    outputs = task.predict(model, features, batch_size=2, verbose=0)
    assert [o["logits"].shape for o in outputs] == [(5, 2), (3, 2), (4, 2)]
    alone = task.predict(model, features, batch_size=1, verbose=0)
    for a, b in zip(outputs, alone):
        np.testing.assert_allclose(a["logits"], b["logits"], atol=1e-5)


def test_mean_pooling_head_trains_and_is_saved(tmp_path, encoder, tokenizer, data_rng):
    write_tsv(tmp_path / "SST-2" / "train.tsv", ["sentence", "label"],
              sentiment_rows(120, data_rng))
    write_tsv(tmp_path / "SST-2" / "dev.tsv", ["sentence", "label"],
              sentiment_rows(24, data_rng))
    task = get_task("sst2", TaskConfig(data_dir=str(tmp_path), max_seq_length=12))
    res = _run(task, encoder, tokenizer, tmp_path / "out", num_train_epochs=3, pooling="mean")
    assert res["model"].pooling == "mean"
    assert res["eval"]["dev"]["accuracy"] >= 0.9
    assert "head on mean" in res["summary"]
    loaded = keras.models.load_model(tmp_path / "out" / "model.keras")
    assert loaded.pooling == "mean"


def test_pooling_must_be_known():
    with pytest.raises(ValueError, match="pooling='max'"):
        FinetuneConfig(output_dir="x", pooling="max").validate()


def test_learning_rate_follows_the_encoder_width(tmp_path, encoder, tokenizer, data_rng):
    from xtremedistil_tf.models.encoder_config import get_preset
    from xtremedistil_tf.tasks.finetune_config import default_learning_rate

    assert default_learning_rate(get_preset("l6h256")) == 1e-4
    assert default_learning_rate(get_preset("l6h384")) == 1e-4
    assert default_learning_rate(get_preset("l6h384", hidden_size=768)) == 5e-5
    write_tsv(tmp_path / "SST-2" / "train.tsv", ["sentence", "label"],
              sentiment_rows(32, data_rng))
    write_tsv(tmp_path / "SST-2" / "dev.tsv", ["sentence", "label"],
              sentiment_rows(8, data_rng))
    task = get_task("sst2", TaskConfig(data_dir=str(tmp_path), max_seq_length=12))
    res = _run(task, encoder, tokenizer, tmp_path / "out", num_train_epochs=1,
               learning_rate=None)
    assert res["finetune_config"]["learning_rate"] == 1e-4
    assert "learning rate 0.0001" in res["summary"]


def test_dropout_flag_sets_every_dropout_layer(tmp_path, tokenizer, data_rng):
    """--dropout=0 makes a training-mode pass of a dropout-0.3 model equal to inference,
    in the encoder and the head; unset, the checkpoint's rates stay."""
    from xtremedistil_tf.layers.dropout import set_dropout_rate
    from xtremedistil_tf.models import Encoder
    from xtremedistil_tf.models.encoder_config import get_preset

    noisy = Encoder(get_preset("tiny", hidden_dropout_prob=0.3,
                               attention_probs_dropout_prob=0.3))
    write_tsv(tmp_path / "SST-2" / "train.tsv", ["sentence", "label"],
              sentiment_rows(32, data_rng))
    write_tsv(tmp_path / "SST-2" / "dev.tsv", ["sentence", "label"],
              sentiment_rows(8, data_rng))
    task = get_task("sst2", TaskConfig(data_dir=str(tmp_path), max_seq_length=12))
    kept = _run(task, noisy, tokenizer, tmp_path / "kept", num_train_epochs=1, save_model=False)
    rates = {layer.rate for layer in kept["model"]._flatten_layers()
             if isinstance(layer, keras.layers.Dropout)}
    assert rates == {0.3} and ", dropout " not in kept["summary"]
    res = _run(task, noisy, tokenizer, tmp_path / "out", num_train_epochs=1, dropout=0.0,
               save_model=False)
    model = res["model"]
    assert res["finetune_config"]["dropout"] == 0.0 and ", dropout 0.0" in res["summary"]
    assert {layer.rate for layer in model._flatten_layers()
            if isinstance(layer, keras.layers.Dropout)} == {0.0}
    ids = np.array([[2, 7, 8, 9, 3, 0]], dtype=np.int32)
    inputs = {"input_ids": ids, "attention_mask": (ids > 0).astype(np.int32),
              "token_type_ids": np.zeros_like(ids)}
    np.testing.assert_array_equal(model(inputs, training=True)["logits"],
                                  model(inputs, training=False)["logits"])
    # The helper counts what it set, and a rate can be put back.
    assert set_dropout_rate(model, 0.3) >= 3 * noisy.config.num_hidden_layers


def test_dropout_must_be_a_rate():
    with pytest.raises(ValueError, match="dropout=1.0 must be in"):
        FinetuneConfig(output_dir="x", dropout=1.0).validate()
