"""GLUE metrics on cases worked by hand, and the metrics each task reports."""
import math

import numpy as np
import pytest

from xtremedistil_tf.tasks.metrics.glue_metrics import (accuracy, binary_f1, glue_metrics,
                                                        matthews_corrcoef, pearson, spearman)


def test_classification_metrics_by_hand():
    y = [1, 1, 1, 0, 0, 0, 0, 1]
    p = [1, 1, 0, 0, 0, 1, 0, 1]
    # TP 3, FN 1, FP 1, TN 3.
    assert accuracy(y, p) == 0.75
    assert binary_f1(y, p) == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    assert matthews_corrcoef(y, p) == pytest.approx((3 * 3 - 1 * 1) / math.sqrt(4 * 4 * 4 * 4))
    # Three classes: the R_K form, cov(y,p) / sqrt(cov(y,y) cov(p,p)) from the confusion matrix.
    y3, p3 = [0, 1, 2, 2, 1, 0], [0, 2, 2, 2, 1, 1]
    correct, total = 4, 6
    true_counts, pred_counts = np.array([2, 2, 2]), np.array([1, 2, 3])
    expected = (correct * total - true_counts @ pred_counts) / math.sqrt(
        (total ** 2 - true_counts @ true_counts) * (total ** 2 - pred_counts @ pred_counts))
    assert matthews_corrcoef(y3, p3) == pytest.approx(expected)


def test_degenerate_cases():
    assert matthews_corrcoef([0, 1, 1, 0], [1, 1, 1, 1]) == 0.0
    assert binary_f1([0, 1, 1, 0], [0, 0, 0, 0]) == 0.0
    assert binary_f1([0, 0], [0, 0]) == 0.0
    assert math.isnan(pearson([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]))
    assert math.isnan(spearman([1.0], [2.0]))
    with pytest.raises(ValueError, match="empty set"):
        accuracy([], [])


def test_correlations_by_hand_with_ties():
    x = [0.0, 1.0, 1.0, 3.0]
    y = [1.0, 2.0, 4.0, 5.0]
    dx, dy = np.array(x) - 1.25, np.array(y) - 3.0
    assert pearson(x, y) == pytest.approx(dx @ dy / math.sqrt((dx @ dx) * (dy @ dy)))
    # Ranks with ties sharing their mean: x -> 1, 2.5, 2.5, 4; y -> 1, 2, 3, 4.
    rx, ry = np.array([1, 2.5, 2.5, 4]) - 2.5, np.array([1, 2, 3, 4]) - 2.5
    assert spearman(x, y) == pytest.approx(rx @ ry / math.sqrt((rx @ rx) * (ry @ ry)))


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
    assert all(isinstance(v, float) for v in out.values())
    assert out["score"] == pytest.approx(np.mean([out[k] for k in keys]))


def test_unknown_task_and_length_mismatch_are_errors():
    with pytest.raises(ValueError, match="Unknown GLUE task 'sst3'.*cola"):
        glue_metrics("sst3", [0], [0])
    with pytest.raises(ValueError, match="2 labels but 1 predictions"):
        glue_metrics("sst2", [0, 1], [0])
