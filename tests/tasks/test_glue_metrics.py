"""GLUE metrics against sklearn and scipy."""
import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from xtremedistil_tf.tasks.metrics.glue_metrics import (accuracy, binary_f1, glue_metrics,
                                                        matthews_corrcoef, pearson, spearman)


@pytest.mark.parametrize("num_classes", [2, 3])
def test_classification_metrics_match_sklearn(rng, num_classes):
    for _ in range(20):
        n = int(rng.integers(5, 60))
        y = rng.integers(num_classes, size=n)
        p = np.where(rng.random(n) < 0.6, y, rng.integers(num_classes, size=n))
        assert accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
        assert matthews_corrcoef(y, p) == pytest.approx(skm.matthews_corrcoef(y, p), abs=1e-12)
        if num_classes == 2:
            assert binary_f1(y, p) == pytest.approx(skm.f1_score(y, p, zero_division=0))


def test_degenerate_cases_match_sklearn():
    y = np.array([0, 1, 1, 0])
    constant = np.ones(4, int)
    assert matthews_corrcoef(y, constant) == skm.matthews_corrcoef(y, constant) == 0.0
    none_positive = np.zeros(4, int)
    assert binary_f1(y, none_positive) == skm.f1_score(y, none_positive, zero_division=0)


def test_correlations_match_scipy_with_ties(rng):
    for _ in range(20):
        n = int(rng.integers(4, 50))
        x = rng.integers(0, 6, size=n).astype(float)  # Many ties, as in STS-B's 0-5 scores.
        y = x + rng.normal(0, 1.5, size=n)
        assert pearson(x, y) == pytest.approx(stats.pearsonr(x, y)[0], abs=1e-12)
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y)[0], abs=1e-12)


@pytest.mark.parametrize("task,keys", [
    ("cola", {"matthews_corrcoef"}), ("sst2", {"accuracy"}), ("mrpc", {"accuracy", "f1"}),
    ("qqp", {"accuracy", "f1"}), ("stsb", {"pearson", "spearman"}), ("mnli", {"accuracy"}),
    ("qnli", {"accuracy"}), ("rte", {"accuracy"}), ("wnli", {"accuracy"})])
def test_each_task_reports_the_glue_metrics(task, keys):
    y = np.array([0, 1, 1, 0, 1, 0, 1])
    p = np.array([0, 1, 0, 0, 1, 1, 1])
    if task == "stsb":
        y, p = y * 2.5 + 0.1 * np.arange(7), p * 2.0
    out = glue_metrics(task, y, p)
    assert set(out) == keys | {"score"}
    assert out["score"] == pytest.approx(np.mean([out[k] for k in keys]))


def test_unknown_task_and_length_mismatch_are_errors():
    with pytest.raises(ValueError, match="Unknown GLUE task 'sst3'.*cola"):
        glue_metrics("sst3", [0], [0])
    with pytest.raises(ValueError, match="2 labels but 1 predictions"):
        glue_metrics("sst2", [0, 1], [0])
