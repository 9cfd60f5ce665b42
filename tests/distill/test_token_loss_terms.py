"""The logits and labels terms on a tagger's per-token logits, against numpy.

Logit terms read every real token (`attention_mask`); the labels term only the
tokens that carry a tag (the first wordpiece of each word; -100 elsewhere).
"""
import numpy as np
import pytest

from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.distill.loss_terms import make_term
from xtremedistil_tf.distill.output_spec import OutputSpec

B, T, C = 3, 7, 5


def _mask():
    mask = np.ones((B, T), np.float32)
    mask[0, 4:] = 0
    mask[2, 6:] = 0
    return mask


def _labels(rng, mask):
    labels = rng.integers(0, C, size=(B, T)).astype(np.int32)
    labels[:, 0] = -100          # [CLS]
    labels[1, 3] = -100          # a later wordpiece
    labels[mask == 0] = -100     # padding
    labels[2, 5] = -100          # [SEP]
    return labels


def _log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _term(name, temperature=1.0):
    term = make_term(name, LossSettings(temperature=temperature))
    spec = OutputSpec(None, (), None, None, None, None, True)
    term.setup(spec, spec, lambda *args: None)
    return term


@pytest.mark.parametrize("temperature", [1.0, 2.0])
def test_token_logits_terms_average_over_real_tokens(rng, temperature):
    t, s, mask = rng.normal(size=(B, T, C)), rng.normal(size=(B, T, C)), _mask()
    mse = ((t - s) ** 2).mean(-1)
    lt, ls = _log_softmax(t / temperature), _log_softmax(s / temperature)
    kl = (np.exp(lt) * (lt - ls)).sum(-1) * temperature ** 2
    for name, per_token in (("logits_mse", mse), ("logits_kl", kl)):
        term = _term(name, temperature)
        assert term.teacher_keys == ["logits"]
        value = term({"logits": t}, {"logits": s}, mask, None)
        np.testing.assert_allclose(value, (per_token * mask).sum() / mask.sum(), rtol=1e-5)
        # Padding holds anything: it must not count.
        s2 = s.copy()
        s2[mask == 0] = 1e3
        np.testing.assert_allclose(term({"logits": t}, {"logits": s2}, mask, None), value,
                                   rtol=1e-5)


def test_token_labels_term_reads_tagged_tokens_only(rng):
    s, mask = rng.normal(size=(B, T, C)), _mask()
    labels = _labels(rng, mask)
    valid = (labels >= 0).astype(np.float64)
    picked = np.take_along_axis(_log_softmax(s), np.maximum(labels, 0)[..., None], -1)[..., 0]
    expected = -(picked * valid).sum() / valid.sum()
    term = _term("labels_ce")
    np.testing.assert_allclose(term({}, {"logits": s}, mask, labels), expected, rtol=1e-5)
    # Untagged tokens (later wordpieces, [CLS], padding) hold anything: they must not count.
    s2 = s.copy()
    s2[labels < 0] = rng.normal(size=(int((labels < 0).sum()), C)) * 100
    np.testing.assert_allclose(term({}, {"logits": s2}, mask, labels), expected, rtol=1e-5)
    # A tag on a padded position is still ignored: the attention mask wins.
    labels2 = labels.copy()
    labels2[0, 5] = 1
    np.testing.assert_allclose(term({}, {"logits": s}, mask, labels2), expected, rtol=1e-5)
