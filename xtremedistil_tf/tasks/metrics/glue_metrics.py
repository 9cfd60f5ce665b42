"""GLUE metrics through scikit-learn and scipy, the calls the GLUE baselines make."""
import warnings

import numpy as np
from scipy import stats
from sklearn import metrics


def accuracy(labels, predictions):
    if len(labels) == 0:
        raise ValueError("accuracy of an empty set is undefined; evaluate on at least one example.")
    return float(metrics.accuracy_score(labels, predictions))


def binary_f1(labels, predictions, positive=1):
    """F1 of the positive class, as GLUE reports it for MRPC and QQP; 0 without positives."""
    labels = np.asarray(labels) == positive
    predictions = np.asarray(predictions) == positive
    return float(metrics.f1_score(labels, predictions, zero_division=0))


def matthews_corrcoef(labels, predictions):
    """Matthews correlation (multiclass too); 0 for a constant prediction or truth."""
    return float(metrics.matthews_corrcoef(labels, predictions))


def _correlation(function, x, y):
    """NaN where the correlation is undefined: fewer than 2 points or a constant side."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(function(x, y).statistic)


def pearson(x, y):
    return _correlation(stats.pearsonr, x, y)


def spearman(x, y):
    return _correlation(stats.spearmanr, x, y)


def glue_metrics(task, labels, predictions):
    """The metrics GLUE reports for `task`, plus `score`, their mean.

    Args:
        task: a GLUE task name (`cola`, `sst2`, `mrpc`, `stsb`, `qqp`, `mnli`,
            `qnli`, `rte`, `wnli`, `ax`).
        labels: gold label indices (float scores for `stsb`).
        predictions: predicted label indices (float scores for `stsb`).

    Returns a dict of metric name to a value in [-1, 1] (fractions, not percent).
    """
    if len(labels) != len(predictions):
        raise ValueError(f"{len(labels)} labels but {len(predictions)} predictions; "
                         "they must pair up one to one.")
    if task in ("cola", "ax"):
        out = {"matthews_corrcoef": matthews_corrcoef(labels, predictions)}
    elif task == "stsb":
        out = {"pearson": pearson(labels, predictions), "spearman": spearman(labels, predictions)}
    elif task in ("mrpc", "qqp"):
        out = {"accuracy": accuracy(labels, predictions), "f1": binary_f1(labels, predictions)}
    elif task in ("sst2", "mnli", "qnli", "rte", "wnli"):
        out = {"accuracy": accuracy(labels, predictions)}
    else:
        raise ValueError(f"Unknown GLUE task {task!r}; valid: cola, sst2, mrpc, stsb, qqp, "
                         "mnli, qnli, rte, wnli, ax.")
    out["score"] = float(np.mean(list(out.values())))
    return out
