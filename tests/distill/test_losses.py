"""Each distillation loss against numpy, masks included."""
import numpy as np
import pytest

from xtremedistil_tf.distill import losses

B, T, H, HEADS, C = 3, 7, 32, 4, 5


def _mask():
    mask = np.ones((B, T), np.float32)
    mask[0, 5:] = 0
    mask[2, 3:] = 0
    return mask


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _probs(rng, mask, heads=HEADS):
    logits = rng.normal(size=(B, heads, T, T))
    logits = logits + (1 - mask)[:, None, None, :] * -1e9
    return _softmax(logits).astype(np.float32)


def test_hidden_mse_masks_padding(rng):
    t, s, mask = rng.normal(size=(B, T, H)), rng.normal(size=(B, T, H)), _mask()
    expected = (((t - s) ** 2).mean(-1) * mask).sum() / mask.sum()
    np.testing.assert_allclose(losses.hidden_mse(t, s, mask), expected, rtol=1e-5)
    # Padding content must not matter.
    s2 = s.copy()
    s2[mask == 0] = 100.0
    np.testing.assert_allclose(losses.hidden_mse(t, s2, mask), expected, rtol=1e-5)


def test_hidden_mse_cls_only(rng):
    t, s = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    np.testing.assert_allclose(losses.hidden_mse(t, s), ((t - s) ** 2).mean(), rtol=1e-5)


def test_hidden_cosine(rng):
    t, s, mask = rng.normal(size=(B, T, H)), rng.normal(size=(B, T, H)), _mask()
    cos = (t * s).sum(-1) / (np.linalg.norm(t, axis=-1) * np.linalg.norm(s, axis=-1))
    expected = ((1 - cos) * mask).sum() / mask.sum()
    np.testing.assert_allclose(losses.hidden_cosine(t, s, mask), expected, rtol=1e-5)
    assert float(losses.hidden_cosine(t, 3.0 * t, mask)) == pytest.approx(0.0, abs=1e-6)


def test_attention_kl_and_mse(rng):
    mask = _mask()
    t, s = _probs(rng, mask), _probs(rng, mask)
    eps = 1e-12
    kl = (t * (np.log(t + eps) - np.log(s + eps))).sum(-1)  # [B, heads, T]
    rows = np.broadcast_to(mask[:, None, :], kl.shape)
    np.testing.assert_allclose(losses.attention_kl(t, s, mask), (kl * rows).sum() / rows.sum(),
                               rtol=1e-4)
    pairs = np.broadcast_to((mask[:, :, None] * mask[:, None, :])[:, None], t.shape)
    np.testing.assert_allclose(losses.attention_mse(t, s, mask),
                               (((t - s) ** 2) * pairs).sum() / pairs.sum(), rtol=1e-5)
    assert float(losses.attention_kl(t, t, mask)) == pytest.approx(0.0, abs=1e-6)


def test_attention_head_mismatch_suggests_relation(rng):
    mask = _mask()
    with pytest.raises(ValueError, match="relation"):
        losses.attention_kl(_probs(rng, mask, 4), _probs(rng, mask, 2), mask)


def _np_relation(x, heads, mask):
    b, t, w = x.shape
    d = w // heads
    x = x.reshape(b, t, heads, d).transpose(0, 2, 1, 3)
    logits = x @ x.transpose(0, 1, 3, 2) / np.sqrt(d) + (1 - mask)[:, None, None, :] * -1e9
    return _softmax(logits)


def test_relation_kl_across_widths(rng):
    mask = _mask()
    teacher = rng.normal(size=(B, T, 48)).astype(np.float32)
    student = rng.normal(size=(B, T, H)).astype(np.float32)
    heads = 8
    rt, rs = _np_relation(teacher, heads, mask), _np_relation(student, heads, mask)
    kl = (rt * (np.log(rt + 1e-12) - np.log(rs + 1e-12))).sum(-1)
    rows = np.broadcast_to(mask[:, None, :], kl.shape)
    expected = (kl * rows).sum() / rows.sum()
    np.testing.assert_allclose(losses.relation_kl(teacher, student, heads, mask), expected,
                               rtol=1e-4)
    qkv_t = [teacher, teacher * 2, teacher - 1]
    qkv_s = [student, student * 0.5, student + 1]
    total = sum(float(losses.relation_kl(a, b, heads, mask)) for a, b in zip(qkv_t, qkv_s))
    np.testing.assert_allclose(
        losses.self_attention_relation_loss(qkv_t, qkv_s, heads, mask), total, rtol=1e-5)
    with pytest.raises(ValueError, match="num_relation_heads=5"):
        losses.relation_kl(teacher, student, 5, mask)


def test_logits_kl_temperature(rng):
    t, s, temp = rng.normal(size=(B, C)), rng.normal(size=(B, C)), 2.0
    pt, ps = _softmax(t / temp), _softmax(s / temp)
    expected = temp ** 2 * (pt * (np.log(pt) - np.log(ps))).sum(-1).mean()
    np.testing.assert_allclose(losses.logits_kl(t, s, temp), expected, rtol=1e-5)


def test_token_logits_masked(rng):
    t, s, mask = rng.normal(size=(B, T, C)), rng.normal(size=(B, T, C)), _mask()
    pt, ps = _softmax(t), _softmax(s)
    kl = (pt * (np.log(pt) - np.log(ps))).sum(-1)
    np.testing.assert_allclose(losses.logits_kl(t, s, 1.0, mask), (kl * mask).sum() / mask.sum(),
                               rtol=1e-5)
    mse = ((t - s) ** 2).mean(-1)
    np.testing.assert_allclose(losses.logits_mse(t, s, mask), (mse * mask).sum() / mask.sum(),
                               rtol=1e-5)


def test_hard_label_cross_entropy_ignores_negative_labels(rng):
    logits = rng.normal(size=(B, T, C))
    labels = rng.integers(0, C, size=(B, T))
    labels[1, 2] = -100
    mask = _mask()
    logp = np.log(_softmax(logits))
    picked = np.take_along_axis(logp, np.maximum(labels, 0)[..., None], -1)[..., 0]
    valid = mask * (labels >= 0)
    np.testing.assert_allclose(losses.hard_label_cross_entropy(labels, logits, mask),
                               -(picked * valid).sum() / valid.sum(), rtol=1e-5)
    flat = rng.normal(size=(B, C))
    flat_labels = np.array([0, 3, 1])
    expected = -np.log(_softmax(flat))[np.arange(B), flat_labels].mean()
    np.testing.assert_allclose(losses.hard_label_cross_entropy(flat_labels, flat), expected,
                               rtol=1e-5)


def test_masked_mean_pool(rng):
    x, mask = rng.normal(size=(B, T, H)), _mask()
    expected = (x * mask[..., None]).sum(1) / mask.sum(1)[:, None]
    np.testing.assert_allclose(losses.masked_mean_pool(x, mask), expected, rtol=1e-5)


def test_label_mse_for_regression_heads(rng):
    scores, logits = rng.normal(size=(B,)), rng.normal(size=(B, 1))
    np.testing.assert_allclose(losses.label_mse(scores, logits),
                               ((logits[:, 0] - scores) ** 2).mean(), rtol=1e-5)


def test_similarity_mse_against_numpy():
    from xtremedistil_tf.distill.losses import similarity_mse

    rng = np.random.default_rng(5)
    t, s = rng.normal(size=(6, 8)), rng.normal(size=(6, 3))

    def cos(x):
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        return x @ x.T

    expected = np.mean((cos(t) - cos(s)) ** 2)
    np.testing.assert_allclose(float(similarity_mse(t, s)), expected, rtol=1e-5)
    # Rescaling either side changes nothing; a rotation of the student neither.
    np.testing.assert_allclose(float(similarity_mse(t * 3.0, s * 0.5)), expected, rtol=1e-5)
    assert float(similarity_mse(t, t)) < 1e-10


def test_pair_score_mse_against_numpy(rng):
    from xtremedistil_tf.distill.losses import pair_score_mse

    target = rng.uniform(-1, 1, 6).astype(np.float32)
    is_pair = np.array([1, 0, 1, 1, 0, 1], np.float32)
    predicted = rng.normal(size=6).astype(np.float32)
    teacher = np.stack([target * is_pair, is_pair], axis=-1)
    expected = ((predicted - target) ** 2)[is_pair == 1].mean()
    np.testing.assert_allclose(float(pair_score_mse(teacher, predicted)), expected, rtol=1e-5)
    # Single texts carry no target: changing their predictions changes nothing.
    moved = predicted + (1 - is_pair) * 100.0
    np.testing.assert_allclose(float(pair_score_mse(teacher, moved)), expected, rtol=1e-5)
    assert float(pair_score_mse(np.zeros((3, 2), np.float32), np.ones(3, np.float32))) == 0.0
