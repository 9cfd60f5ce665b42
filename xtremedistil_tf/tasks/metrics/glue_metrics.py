"""GLUE metrics, written in numpy so that the library needs neither sklearn nor scipy."""
import numpy as np


def accuracy(labels, predictions):
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    if labels.size == 0:
        raise ValueError("accuracy of an empty set is undefined; evaluate on at least one example.")
    return float(np.mean(labels == predictions))


def binary_f1(labels, predictions, positive=1):
    """F1 of the positive class, as GLUE reports it for MRPC and QQP."""
    labels = np.asarray(labels) == positive
    predictions = np.asarray(predictions) == positive
    true_pos = np.sum(labels & predictions)
    denom = np.sum(labels) + np.sum(predictions)
    return float(2.0 * true_pos / denom) if denom else 0.0


def matthews_corrcoef(labels, predictions):
    """Matthews correlation for any number of classes (the multiclass R_K form)."""
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    classes, encoded = np.unique(np.concatenate([labels, predictions]), return_inverse=True)
    y, p = encoded[:len(labels)], encoded[len(labels):]
    confusion = np.zeros((len(classes), len(classes)), np.float64)
    np.add.at(confusion, (y, p), 1.0)
    true_counts, pred_counts = confusion.sum(1), confusion.sum(0)
    correct, total = np.trace(confusion), confusion.sum()
    cov_yp = correct * total - true_counts @ pred_counts
    cov_yy = total * total - true_counts @ true_counts
    cov_pp = total * total - pred_counts @ pred_counts
    # A constant prediction (or constant truth) carries no correlation.
    if cov_yy == 0 or cov_pp == 0:
        return 0.0
    return float(cov_yp / np.sqrt(cov_yy * cov_pp))


def pearson(x, y):
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    dx, dy = x - x.mean(), y - y.mean()
    denom = np.sqrt(np.sum(dx * dx) * np.sum(dy * dy))
    if denom == 0:
        return float("nan")
    return float(np.sum(dx * dy) / denom)


def _average_ranks(values):
    """Ranks from 1, ties sharing the mean of the ranks they span."""
    values = np.asarray(values)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]])
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.concatenate([first[1:], [len(values)]]) - 1
    ranks = np.empty(len(values), np.float64)
    ranks[order] = (first[group] + last[group]) / 2.0 + 1.0
    return ranks


def spearman(x, y):
    return pearson(_average_ranks(x), _average_ranks(y))


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
