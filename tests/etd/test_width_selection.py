"""Layer choice, random and importance-based unit choice, and shape errors."""
import numpy as np
import pytest

from xtremedistil_tf.etd import (ImportanceScores, check_extractable, importance_selection,
                                 random_selection, uniform_layers)
from xtremedistil_tf.models import EncoderConfig

from tests.etd.helpers import tiny_config


def test_uniform_layers_spread_and_end_at_top():
    assert uniform_layers(12, 6) == (1, 3, 5, 7, 9, 11)
    assert uniform_layers(6, 4) == (0, 2, 3, 5)
    assert uniform_layers(5, 5) == (0, 1, 2, 3, 4)
    assert uniform_layers(7, 1) == (6,)


def test_random_selection_is_seeded_sorted_and_sized():
    teacher, student = tiny_config(), tiny_config(hidden_size=24, num_attention_heads=3,
                                                  intermediate_size=20, num_hidden_layers=1)
    a = random_selection(teacher, student, seed=3)
    assert a == random_selection(teacher, student, seed=3)
    assert a != random_selection(teacher, student, seed=4)
    assert a.layers == (1,)
    assert len(a.hidden) == 24 and list(a.hidden) == sorted(set(a.hidden))
    assert [len(h) for h in a.heads] == [3] and [len(f) for f in a.ffn] == [20]
    assert max(a.hidden) < 32 and max(a.ffn[0]) < 37 and max(a.heads[0]) < 4


def test_importance_selection_keeps_top_scores_per_layer():
    teacher, student = tiny_config(), tiny_config(hidden_size=16, num_attention_heads=2,
                                                  intermediate_size=5)
    rng = np.random.default_rng(1)
    scores = ImportanceScores(hidden=rng.random(32), heads=rng.random((2, 4)),
                              ffn=rng.random((2, 37)), num_batches=1)
    sel = importance_selection(scores, teacher, student)
    assert set(sel.hidden) == set(np.argsort(-scores.hidden)[:16])
    for layer in range(2):
        assert set(sel.heads[layer]) == set(np.argsort(-scores.heads[layer])[:2])
        assert set(sel.ffn[layer]) == set(np.argsort(-scores.ffn[layer])[:5])


@pytest.mark.parametrize("field,value,match", [
    ("num_hidden_layers", 3, "num_hidden_layers=3 is larger than the teacher's 2"),
    ("intermediate_size", 41, "intermediate_size=41 is larger"),
    ("vocab_size", 101, "vocab_size=101 differs"),
])
def test_student_larger_or_different_than_teacher_is_refused(field, value, match):
    with pytest.raises(ValueError, match=match):
        check_extractable(tiny_config(), tiny_config(**{field: value}))


def test_wider_student_is_refused():
    with pytest.raises(ValueError, match="hidden_size=40 is larger than the teacher's 32"):
        check_extractable(tiny_config(), tiny_config(hidden_size=40, num_attention_heads=5))


def test_head_size_change_is_explained():
    # 16 hidden / 4 heads = head size 4, but the teacher's heads are 8 wide.
    with pytest.raises(ValueError, match=r"head size .* 16/4 = 4 differs .* 32/4 = 8.*"
                                         r"num_attention_heads=2 with hidden_size=16"):
        check_extractable(tiny_config(), tiny_config(hidden_size=16))


def test_heads_that_do_not_divide_hidden_size_are_refused():
    student = EncoderConfig(vocab_size=99, hidden_size=30, num_hidden_layers=2,
                            num_attention_heads=4, intermediate_size=37,
                            max_position_embeddings=64)
    with pytest.raises(ValueError, match="num_attention_heads=4 does not divide hidden_size=30"):
        check_extractable(tiny_config(), student)
