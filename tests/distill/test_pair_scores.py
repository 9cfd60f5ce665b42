"""The pair_score loss: the teacher's score of two texts read apart, from the joint batch."""
import keras
import numpy as np
import pytest

from tests.distill import helpers
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.pair_scores import segment_inputs, teacher_pair_scores

SEQ = 12


def _row(first, second):
    """`[CLS]=1 first [SEP]=2 second [SEP]`, padded to SEQ, as a tokenizer writes a pair."""
    ids = [1] + first + [2] + (second + [2] if second else [])
    types = [0] * (len(first) + 2) + [1] * (len(second) + 1 if second else 0)
    pad = SEQ - len(ids)
    return ids + [0] * pad, [1] * len(ids) + [0] * pad, types + [0] * pad


def _batch(rows):
    ids, mask, types = zip(*(_row(a, b) for a, b in rows))
    return {"input_ids": np.array(ids, np.int32), "attention_mask": np.array(mask, np.int32),
            "token_type_ids": np.array(types, np.int32)}


ROWS = [([5, 6, 7], [8, 9]), ([10, 11], [12, 13, 14, 15, 16, 17, 18]), ([20, 21, 22, 23], []),
        ([30], [31, 32, 33, 34, 35, 36, 37, 38])]  # the last pair fills every position


def test_segments_are_the_texts_tokenized_alone():
    first, second, has_pair = segment_inputs(_batch(ROWS))
    np.testing.assert_array_equal(has_pair, [1, 1, 0, 1])
    for row, (a, b) in enumerate(ROWS):
        ids_a, mask_a, _ = _row(a, None)
        real = np.asarray(first["attention_mask"][row]) == 1
        np.testing.assert_array_equal(np.asarray(first["input_ids"][row])[real],
                                      np.array(ids_a)[np.array(mask_a) == 1])
        np.testing.assert_array_equal(np.asarray(first["attention_mask"][row]), mask_a)
        if b:
            ids_b, mask_b, _ = _row(b, None)
            np.testing.assert_array_equal(np.asarray(second["attention_mask"][row]), mask_b)
            np.testing.assert_array_equal(np.asarray(second["input_ids"][row])[:len(b) + 2],
                                          ids_b[:len(b) + 2])
        assert not np.asarray(second["token_type_ids"][row]).any()


def test_teacher_scores_match_separate_passes():
    teacher = helpers.tiny_teacher()
    batch = _batch(ROWS)
    scores = np.asarray(teacher_pair_scores(lambda x: teacher(x, training=False), batch, "mean"))

    def vector(tokens):
        ids, mask, types = _row(tokens, None)
        out = teacher({"input_ids": np.array([ids], np.int32),
                       "attention_mask": np.array([mask], np.int32),
                       "token_type_ids": np.array([types], np.int32)}, training=False)
        seq = np.asarray(out["sequence_output"])[0]
        return seq[np.array(mask) == 1].mean(0)

    for row, (a, b) in enumerate(ROWS):
        if not b:
            assert scores[row].tolist() == [0.0, 0.0]
            continue
        u, v = vector(a), vector(b)
        expected = u @ v / np.linalg.norm(u) / np.linalg.norm(v)
        assert scores[row, 1] == 1.0
        assert scores[row, 0] == pytest.approx(expected, abs=1e-5)


def test_student_learns_the_pair_scores_through_a_head_that_is_not_exported():
    teacher, student = helpers.tiny_teacher(), helpers.tiny_student()
    distiller = Distiller(teacher=teacher, student=student, losses={"pair_score": 1.0})
    assert distiller.teacher_keys == ["pair_cosine/mean"]
    heads = [name for name in distiller.projections if name.startswith("projection_pair_score")]
    assert heads and not any("pair_score" in v.path for v in student.variables)
    rng = np.random.default_rng(0)
    rows = [(list(rng.integers(3, 99, rng.integers(1, 5))), list(rng.integers(3, 99, rng.integers(0, 5))))
            for _ in range(32)]
    batch = _batch(rows)
    distiller.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = float(distiller.compute_losses(batch)[1]["pair_score"])
    for _ in range(60):
        distiller.train_on_batch(batch)
    after = float(distiller.compute_losses(batch)[1]["pair_score"])
    assert after < 0.5 * before
    # Single texts carry no target: a batch without pairs has nothing to learn.
    singles = _batch([(a, []) for a, _ in rows[:4]])
    assert float(distiller.compute_losses(singles)[1]["pair_score"]) == 0.0
