"""Fine-tuning losses against numpy."""
import numpy as np
import pytest

from xtremedistil_tf.tasks import losses


def _log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def test_classification_and_regression(rng):
    logits = rng.normal(size=(5, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 1, 0])
    expected = -_log_softmax(logits)[np.arange(5), labels].mean()
    assert float(losses.classification_loss(labels, logits)) == pytest.approx(expected, 1e-5)
    scores = rng.normal(size=(5,)).astype(np.float32)
    preds = rng.normal(size=(5, 1)).astype(np.float32)
    assert float(losses.regression_loss(scores, preds)) == pytest.approx(
        np.mean((preds[:, 0] - scores) ** 2), 1e-5)


def test_token_loss_ignores_masked_positions(rng):
    logits = rng.normal(size=(2, 7, 5)).astype(np.float32)
    labels = np.full((2, 7), -100)
    labels[0, 1], labels[0, 3], labels[1, 1] = 4, 0, 2
    logp = _log_softmax(logits)
    expected = -(logp[0, 1, 4] + logp[0, 3, 0] + logp[1, 1, 2]) / 3
    assert float(losses.token_classification_loss(labels, logits)) == pytest.approx(expected,
                                                                                    1e-5)
    assert float(losses.token_classification_loss(np.full((2, 7), -100), logits)) == 0.0


def test_span_loss_with_padding_mask(rng):
    start = rng.normal(size=(2, 7)).astype(np.float32)
    end = rng.normal(size=(2, 7)).astype(np.float32)
    mask = np.ones((2, 7), np.float32)
    mask[1, 5:] = 0
    s_pos, e_pos = np.array([1, 4]), np.array([3, 4])

    def ce(logits, pos, m):
        logits = np.where(m > 0, logits, -np.inf)
        return -_log_softmax(logits)[np.arange(2), pos]

    expected = np.mean((ce(start, s_pos, mask) + ce(end, e_pos, mask)) / 2)
    got = float(losses.span_loss(s_pos, e_pos, start, end, mask))
    assert got == pytest.approx(expected, 1e-5)
