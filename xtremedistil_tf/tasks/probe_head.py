"""A new sentence-level head started at the linear probe of the frozen encoder.

Fine-tuning a pre-trained encoder under a randomly initialised head first sends
the head's large, random gradients into the encoder and can distort features a
linear model already separates ("linear probing, then fine-tuning", LP-FT). Here
the probe is fitted in closed form on the frozen, pooled vectors of the training
set (one forward pass; a logistic regression for classes, ridge regression for
scores) and written into the head, so fine-tuning starts from a head that is
already right about as often as the probe.
"""
import numpy as np

from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

HEAD_INITS = ("random", "probe")
# Inverse regularisation strength of the probe on standardised features: a
# moderate fit, so the head starts useful without saturated logits.
_PROBE_C = 1.0


def can_probe(task_model):
    """Whether `task_model` has a one-layer sentence head a linear probe can fill."""
    return isinstance(task_model, SequenceClassifier) and task_model.head_dense is None


def pooled_features(task_model, task, features, batch_size, pad_token_id):
    """The vectors the head reads, one row per feature, from the frozen encoder."""
    dataset = task.build_dataset(features, batch_size, pad_token_id, shuffle=False,
                                 with_labels=False)
    rows = []
    for inputs in dataset:
        outputs = task_model.encoder(inputs, training=False)
        rows.append(np.asarray(task_model._pool(inputs, outputs), np.float64))
    width = task_model.encoder.config.hidden_size
    return np.concatenate(rows) if rows else np.zeros((0, width))


def fit_probe(x, y, regression, num_labels, seed=0):
    """Kernel `[width, num_labels]` and bias of a linear model on `x`, in `x`'s units."""
    from sklearn.linear_model import LogisticRegression, Ridge

    # One scale for every column, not one per column: fine-tuning moves a column
    # of tiny spread by far more than its spread, and a weight of 1/spread on it
    # would then blow the logits up.
    mean = x.mean(axis=0)
    scale = max(float(x.std(axis=0).mean()), 1e-12)
    z = (x - mean) / scale
    if regression:
        model = Ridge(alpha=1.0 / _PROBE_C).fit(z, y)
        coef = model.coef_.reshape(1, -1)
        intercept = np.atleast_1d(model.intercept_)
    else:
        present = np.unique(y)
        model = LogisticRegression(C=_PROBE_C, max_iter=1000, random_state=seed).fit(z, y)
        coef = np.zeros((num_labels, x.shape[1]))
        intercept = np.zeros(num_labels)
        if len(present) == 2 and model.coef_.shape[0] == 1:
            # Binary: sklearn keeps one row, the logit of the second class; split
            # it symmetrically over the two softmax outputs.
            coef[present[1]], coef[present[0]] = model.coef_[0] / 2, -model.coef_[0] / 2
            intercept[present[1]] = model.intercept_[0] / 2
            intercept[present[0]] = -model.intercept_[0] / 2
        else:
            coef[present] = model.coef_
            intercept[present] = model.intercept_
    kernel = (coef / scale).T
    bias = intercept - (coef * (mean / scale)).sum(axis=1)
    return kernel, bias


def init_head_from_probe(task_model, task, features, batch_size, pad_token_id, seed=0):
    """Writes the probe's weights into `task_model`'s head; returns its training accuracy
    (classification) or R^2 (regression) on `features`, for the log."""
    x = pooled_features(task_model, task, features, batch_size, pad_token_id)
    y = np.asarray(features.labels)
    if len(np.unique(y)) < 2:
        raise ValueError("--head_init=probe needs at least two different labels in the "
                         "training set; use --head_init=random.")
    regression = task_model.problem_type == "regression"
    kernel, bias = fit_probe(x, y, regression, task_model.num_labels, seed)
    if not task_model.built:
        task_model.build()
    dense = task_model.classifier
    dense.kernel.assign(kernel.astype(dense.kernel.dtype))
    dense.bias.assign(bias.astype(dense.bias.dtype))
    predicted = x @ kernel + bias
    if regression:
        residual = ((y - predicted[:, 0]) ** 2).sum()
        return float(1.0 - residual / max(((y - y.mean()) ** 2).sum(), 1e-12))
    return float((predicted.argmax(axis=1) == y).mean())
