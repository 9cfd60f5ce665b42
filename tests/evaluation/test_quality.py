"""Quality yardsticks on tiny GLUE-layout files: probes, pair-cosine AUC, the table."""
import numpy as np
import pytest
from tests.tasks.conftest import make_tokenizer, sentiment_rows, write_tsv
from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.evaluation import (
    QualityConfig, choose_shipped, embed, evaluate_model, format_quality_table, load_task_data,
    mean_score, selection_score)


def _glue(tmp_path, rng):
    root = tmp_path / "glue"
    write_tsv(root / "SST-2" / "train.tsv", ["sentence", "label"], sentiment_rows(160, rng))
    write_tsv(root / "SST-2" / "dev.tsv", ["sentence", "label"], sentiment_rows(60, rng))
    # Paraphrases are the same sentence twice; others pair unrelated sentences.
    texts = ["the dog sat on the car", "mary went to paris", "the cat is red",
             "john works at acme corp", "the house is blue", "a film was dull"]
    rows = []
    for i in range(40):
        a = texts[i % len(texts)]
        same = i % 2 == 0
        b = a if same else texts[(i + 1 + i // len(texts)) % len(texts)]
        if not same and b == a:
            b = texts[(i + 2) % len(texts)]
        rows.append((int(same), i, i + 100, a, b))
    header = ["Quality", "#1 ID", "#2 ID", "#1 String", "#2 String"]
    write_tsv(root / "MRPC" / "train.tsv", header, rows)
    write_tsv(root / "MRPC" / "dev.tsv", header, rows[:20])
    return root


@pytest.fixture
def encoder():
    return Encoder(get_preset("tiny", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))


def test_probe_reads_a_signal_the_embeddings_carry(tmp_path, encoder):
    config = QualityConfig(tasks=("sst2", "mrpc"), data_dir=str(tmp_path / "glue"),
                           max_seq_length=16, batch_size=16).validate()
    _glue(tmp_path, np.random.default_rng(3))
    result = evaluate_model(encoder, make_tokenizer(), config, log=None)
    # One sentiment word decides the label; even a random encoder's mean vector keeps it.
    assert result["sst2"]["probe_mean"] > 0.8
    assert result["sst2"]["probe_mean_train_cv"] > 0.8
    assert selection_score(result) == pytest.approx(np.mean(
        [result["sst2"]["probe_mean_train_cv"], result["mrpc"]["probe_mean_train_cv"]]))
    assert 0.0 <= result["sst2"]["probe_cls"] <= 1.0
    # Identical sentences have cosine 1: the paraphrases rank first.
    assert result["mrpc"]["cosine_auc"] == pytest.approx(1.0)
    assert "cosine_auc" not in result["sst2"]


def test_embeddings_do_not_depend_on_batching_or_padding(encoder):
    tokenizer = make_tokenizer()
    texts = ["the film was good", "a movie", "the plot is very very dull and bad"]
    mean_a, cls_a = embed(encoder, tokenizer, texts, batch_size=1)
    mean_b, cls_b = embed(encoder, tokenizer, texts, batch_size=3)
    np.testing.assert_allclose(mean_a, mean_b, atol=1e-5)
    np.testing.assert_allclose(cls_a, cls_b, atol=1e-5)


def test_data_is_read_once_and_shared(tmp_path, encoder):
    _glue(tmp_path, np.random.default_rng(4))
    config = QualityConfig(tasks=("sst2",), data_dir=str(tmp_path / "glue"), max_seq_length=16,
                           max_train_samples=50)
    data = load_task_data(config)
    assert len(data["sst2"].train) == 50 and len(data["sst2"].dev) == 60
    first = evaluate_model(encoder, make_tokenizer(), config, data=data, log=None)
    again = evaluate_model(encoder, make_tokenizer(), config, data=data, log=None)
    assert first == again


def test_table_has_a_column_per_model_and_means():
    results = {"teacher": {"sst2": {"probe_mean": 0.9, "probe_mean_train_cv": 0.5}, "mrpc": {"probe_mean": 0.7,
                                                                 "cosine_auc": 0.8}},
               "student": {"sst2": {"probe_mean": 0.8}, "mrpc": {"probe_mean": 0.6,
                                                                 "cosine_auc": 0.75}}}
    table = format_quality_table(results)
    header, *rows = table.splitlines()
    assert header.split() == ["teacher", "student"]
    assert "train_cv" not in table
    assert any(r.startswith("mean probe_mean") and "0.8000" in r and "0.7000" in r for r in rows)
    assert mean_score(results["student"], "cosine_auc") == pytest.approx(0.75)


@pytest.mark.parametrize("changes, words", [
    ({"tasks": ("stsb",)}, "eval_tasks names ['stsb']"),
    ({"tasks": ("sst2",), "data_dir": ""}, "eval_data_dir"),
    ({"tasks": ("sst2",), "data_dir": "x", "max_train_samples": 0}, "max_train_samples=0"),
])
def test_bad_settings_name_the_field(changes, words):
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        QualityConfig(**changes).validate()


def test_missing_split_file_names_the_path(tmp_path):
    (tmp_path / "glue" / "SST-2").mkdir(parents=True)
    config = QualityConfig(tasks=("sst2",), data_dir=str(tmp_path / "glue"))
    with pytest.raises(Exception, match="SST-2"):
        load_task_data(config)


def test_probe_ignores_constant_features():
    from xtremedistil_tf.evaluation.quality import _probe_accuracy

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    x[:, 2] = 3.0  # a dead dimension: its float32 variance is ~1e-14, not 0
    y = (x[:, 0] > 0).astype(int)
    assert min(_probe_accuracy(x[:150], y[:150], x[150:], y[150:], seed=0)) > 0.9


def test_choose_shipped_keeps_the_start_only_when_it_scores_higher():
    def result(*accuracies):
        return {f"task{i}": {"probe_mean": 0.5, "probe_mean_train_cv": a}
                for i, a in enumerate(accuracies)}

    # Chosen on the training-split figures; the dev figures (all 0.5 here) play no part.
    assert choose_shipped(result(0.8, 0.7), result(0.7, 0.7)) == (
        "start", {"start": pytest.approx(0.75), "distilled": pytest.approx(0.7)})
    assert choose_shipped(result(0.7, 0.7), result(0.8, 0.7))[0] == "distilled"
    # A tie keeps the trained student; no training split leaves nothing to choose by.
    assert choose_shipped(result(0.7), result(0.7))[0] == "distilled"
    no_probe = {"qnli": {"cosine_auc": 0.9}}
    assert choose_shipped(no_probe, no_probe) == ("distilled", {"start": None, "distilled": None})
