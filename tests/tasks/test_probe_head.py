"""--head_init=probe: a new head starts at the closed-form linear probe of the frozen encoder."""
import numpy as np
import pytest

from tests.tasks.conftest import sentiment_rows, write_tsv
from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, finetune, get_task
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer
from xtremedistil_tf.tasks.probe_head import fit_probe, init_head_from_probe


@pytest.mark.parametrize("num_labels", [2, 3])
def test_fit_probe_folds_the_scaling_into_the_kernel(num_labels):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(num_labels, 6)) * 3.0
    y = rng.integers(num_labels, size=300)
    # Columns on different scales and offsets: the returned weights act on raw x.
    x = (centres[y] + rng.normal(size=(300, 6))) * np.array([1, 10, 0.1, 5, 1, 2]) + 7.0
    kernel, bias = fit_probe(x, y, regression=False, num_labels=num_labels)
    assert kernel.shape == (6, num_labels) and bias.shape == (num_labels,)
    from sklearn.linear_model import LogisticRegression
    z = (x - x.mean(axis=0)) / x.std(axis=0).mean()
    reference = LogisticRegression(C=1.0, max_iter=1000).fit(z, y)
    np.testing.assert_array_equal((x @ kernel + bias).argmax(axis=1), reference.predict(z))
    assert ((x @ kernel + bias).argmax(axis=1) == y).mean() > 0.9


def test_fit_probe_regression_matches_least_squares():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 4)) * np.array([1.0, 4.0, 0.5, 3.0]) + 5.0
    y = x @ np.array([0.5, 0.2, 3.0, -1.0]) + 2.0
    kernel, bias = fit_probe(x, y, regression=True, num_labels=1)
    predicted = (x @ kernel + bias)[:, 0]
    assert np.corrcoef(predicted, y)[0, 1] > 0.999


def _sst2(tmp_path, data_rng, n_train=160):
    write_tsv(tmp_path / "SST-2" / "train.tsv", ["sentence", "label"],
              sentiment_rows(n_train, data_rng))
    write_tsv(tmp_path / "SST-2" / "dev.tsv", ["sentence", "label"],
              sentiment_rows(40, data_rng))
    return get_task("sst2", TaskConfig(data_dir=str(tmp_path), max_seq_length=12))


def test_head_predicts_what_the_probe_fitted(tmp_path, encoder, tokenizer, data_rng):
    task = _sst2(tmp_path, data_rng)
    train = task.load_examples("train")
    task.prepare(train)
    model = task.build_model(encoder, "mean")
    features = task.build_features(train, TaskTokenizer(tokenizer), training=True)
    before = np.stack([o["logits"] for o in task.predict(model, features, verbose=0)])
    fit = init_head_from_probe(model, task, features, 32, 0)
    after = np.stack([o["logits"] for o in task.predict(model, features, verbose=0)])
    accuracy = float((after.argmax(axis=1) == features.labels).mean())
    assert accuracy == pytest.approx(fit, abs=1e-6)
    # The tiny random encoder still separates one sentiment word among fillers well
    # enough for a linear model; the random head does not.
    assert fit > 0.8 and fit > (before.argmax(axis=1) == features.labels).mean() + 0.2


def test_finetune_with_probe_head_reports_it(tmp_path, encoder, tokenizer, data_rng):
    task = _sst2(tmp_path, data_rng)
    config = FinetuneConfig(output_dir=str(tmp_path / "out"), num_train_epochs=1,
                            learning_rate=1e-2, batch_size=16, warmup_ratio=0.0, verbose=0,
                            pooling="mean", head_init="probe", save_model=False)
    res = finetune(task, encoder, tokenizer, config)
    assert 0.8 < res["head_probe_train_fit"] <= 1.0
    assert "head started at the linear probe" in res["summary"]
    assert res["finetune_config"]["head_init"] == "probe"


def test_head_init_must_be_known():
    with pytest.raises(ValueError, match="head_init='lstsq'"):
        FinetuneConfig(output_dir="x", head_init="lstsq").validate()
