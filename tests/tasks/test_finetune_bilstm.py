"""A BiLSTM student fine-tunes through the same loop as a transformer, on every task type."""
import json

import keras
import numpy as np

from tests.tasks.conftest import (ner_sentences, sentiment_rows, squad_articles, write_conll,
                                  write_json, write_tsv)
from xtremedistil_tf.models import BiLSTMStudent, SequenceClassifier
from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, finetune, get_task
from xtremedistil_tf.tasks.init_checkpoint import load_init_checkpoint

FAST = dict(learning_rate=3e-2, batch_size=16, warmup_ratio=0.0, verbose=0)


def _student(**kwargs):
    return BiLSTMStudent(**{"vocab_size": 99, "embedding_size": 15, "hidden_size": 22,
                            "dropout": 0.0, "name": "encoder", **kwargs})


def _run(task, model, tokenizer, out, num_train_epochs=4):
    config = FinetuneConfig(output_dir=str(out), num_train_epochs=num_train_epochs, **FAST)
    return finetune(task, model, tokenizer, config, run_info={"init_checkpoint": "bilstm"})


def _losses(results):
    return [e["train_loss"] for e in results["epochs"]]


def _pair_rows(n, rng):
    """RTE-style pairs whose label is carried by the second text's sentiment word."""
    firsts = [text for text, _ in sentiment_rows(n, rng)]
    return [(i, first, second, "entailment" if label else "not_entailment")
            for i, (first, (second, label)) in enumerate(zip(firsts, sentiment_rows(n, rng)))]


def test_single_text_classification_trains_saves_and_reloads(tmp_path, tokenizer, data_rng):
    write_tsv(tmp_path / "SST-2" / "train.tsv", ["sentence", "label"],
              sentiment_rows(160, data_rng))
    write_tsv(tmp_path / "SST-2" / "dev.tsv", ["sentence", "label"],
              sentiment_rows(24, data_rng))
    task = get_task("sst2", TaskConfig(data_dir=str(tmp_path), max_seq_length=12))
    res = _run(task, _student(), tokenizer, tmp_path / "out")
    losses = _losses(res)
    assert losses[-1] < 0.5 * losses[0]
    assert res["eval"]["dev"]["accuracy"] >= 0.9 and res["new_head"]
    assert "on a bilstm encoder (1 layer, hidden 22" in res["summary"]
    model = keras.models.load_model(tmp_path / "out" / "model.keras")
    assert isinstance(model, SequenceClassifier) and isinstance(model.encoder, BiLSTMStudent)
    # The saved model evaluates to the same dev numbers without training.
    again, _ = load_init_checkpoint(str(tmp_path / "out"))
    evaluated = _run(task, again, tokenizer, tmp_path / "eval", num_train_epochs=0)
    assert evaluated["eval"]["dev"] == res["eval"]["dev"] and not evaluated["new_head"]


def test_pair_classification_trains_on_text_pairs(tmp_path, tokenizer, data_rng):
    header = ["index", "sentence1", "sentence2", "label"]
    write_tsv(tmp_path / "RTE" / "train.tsv", header, _pair_rows(240, data_rng))
    write_tsv(tmp_path / "RTE" / "dev.tsv", header, _pair_rows(32, data_rng))
    task = get_task("rte", TaskConfig(data_dir=str(tmp_path), max_seq_length=16))
    res = _run(task, _student(), tokenizer, tmp_path / "out")
    assert _losses(res)[-1] < 0.5 * _losses(res)[0]
    assert res["eval"]["dev"]["accuracy"] >= 0.8
    assert res["label_names"] == ["entailment", "not_entailment"]


def test_token_and_span_heads_read_the_bilstm_states(tmp_path, tokenizer, data_rng):
    write_conll(tmp_path / "ner" / "train.txt", ner_sentences(120, data_rng))
    write_conll(tmp_path / "ner" / "valid.txt", ner_sentences(20, data_rng))
    ner = get_task("conll2003", TaskConfig(data_dir=str(tmp_path / "ner"), max_seq_length=16))
    res = _run(ner, _student(), tokenizer, tmp_path / "ner_out", num_train_epochs=6)
    assert _losses(res)[-1] < 0.5 * _losses(res)[0] and res["eval"]["dev"]["f1"] > 0.5
    write_json(tmp_path / "qa" / "train-v1.1.json", squad_articles(90, data_rng))
    write_json(tmp_path / "qa" / "dev-v1.1.json", squad_articles(12, data_rng))
    qa = get_task("squad_v1", TaskConfig(data_dir=str(tmp_path / "qa"), max_seq_length=24,
                                         doc_stride=6, max_query_length=8))
    res = _run(qa, _student(), tokenizer, tmp_path / "qa_out")
    assert _losses(res)[-1] < 0.8 * _losses(res)[0]
    assert set(json.loads((tmp_path / "qa_out" / "predictions.json").read_text()))


def test_a_student_with_its_own_head_keeps_its_body(tmp_path, tokenizer):
    student = _student(num_labels=3)
    student.build()
    student.save(tmp_path / "student.keras")
    tokenizer.save(str(tmp_path))
    model, _ = load_init_checkpoint(str(tmp_path / "student.keras"), max_seq_length=4096)
    assert isinstance(model, BiLSTMStudent) and model.classifier is None
    ids = {"input_ids": np.array([[2, 7, 9, 3, 0]], np.int32)}
    np.testing.assert_array_equal(model(ids)["pooled_output"], student(ids)["pooled_output"])
    assert model.config.max_sequence_length is None and model.config.hidden_size == 22


def test_learning_rate_default_for_a_bilstm():
    from xtremedistil_tf.tasks.finetune_config import default_learning_rate

    assert default_learning_rate(_student().config) == 1e-3
