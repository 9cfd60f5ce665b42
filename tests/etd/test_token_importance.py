"""ETD-Impt with a token-classification (NER) teacher: its own per-token loss scores units."""
import numpy as np
import pytest

from xtremedistil_tf.etd import StudentInitConfig, compute_importance, init_student
from xtremedistil_tf.etd.importance import default_importance_loss
from xtremedistil_tf.models.token_classifier import TokenClassifier

from tests.etd.helpers import batches, tiny_config, tiny_teacher

NUM_TAGS = 5


def _tagger():
    model = TokenClassifier(tiny_teacher(), NUM_TAGS, dropout=0.0)
    model.build()
    return model


def _token_labels(rng, inputs):
    labels = rng.integers(0, NUM_TAGS, size=inputs["input_ids"].shape).astype(np.int32)
    labels[:, 0] = -100  # [CLS]
    labels[:, 2] = -100  # a later wordpiece of a word
    return labels


def _numpy_ce(logits, labels, valid):
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, np.maximum(labels, 0)[..., None], -1)[..., 0]
    return -(picked * valid).sum() / valid.sum()


@pytest.mark.parametrize("with_labels", [False, True])
def test_token_head_loss_is_the_per_token_cross_entropy(rng, with_labels):
    model = _tagger()
    inputs = batches(1, rng)[0]
    outputs = model(inputs, training=False)
    logits = np.asarray(outputs["logits"], np.float64)
    mask = inputs["attention_mask"].astype(np.float64)
    if with_labels:
        labels = _token_labels(rng, inputs)
        valid = mask * (labels >= 0)
    else:
        labels, valid = logits.argmax(-1), mask  # the teacher's own tags on real tokens
    loss = default_importance_loss(model)(outputs, inputs, labels if with_labels else None)
    np.testing.assert_allclose(float(loss), _numpy_ce(logits, labels, valid), rtol=1e-5)


def test_etd_impt_scores_a_token_teacher_with_tag_labels(rng):
    model = _tagger()
    data = [(b, _token_labels(rng, b)) for b in batches(2, rng)]
    scores = compute_importance(model.encoder, data, default_importance_loss(model))
    assert scores.num_batches == 2
    for values in (scores.hidden, scores.heads, scores.ffn):
        assert np.all(np.isfinite(values)) and values.sum() > 0
    student_config = tiny_config(hidden_size=24, num_attention_heads=3, intermediate_size=20)
    student, info = init_student(StudentInitConfig(method="etd_impt", importance_batches=2),
                                 student_config, teacher=model, batches=data)
    assert info["importance_batches"] == 2 and len(info["selection"]["hidden"]) == 24
    assert student.config == student_config
