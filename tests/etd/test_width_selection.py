"""Layer choice, random and importance-based unit choice, and shape errors."""
import numpy as np
import pytest

from xtremedistil_tf.etd import (ImportanceScores, check_extractable, importance_selection,
                                 random_selection, uniform_layers)
from xtremedistil_tf.models import EncoderConfig, get_preset

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


@pytest.mark.parametrize("hidden,heads,match", [
    # 24/2 = 12 > 8: three heads of 8 would fit.
    (24, 2, r"head size .* 24/2 = 12 is larger than the teacher's 32/4 = 8.*"
            r"num_attention_heads=3 with hidden_size=24"),
    # 30/3 = 10 > 8, and no count of at most 4 heads splits 30 into heads of <= 8.
    (30, 3, r"30/3 = 10 is larger .* a hidden_size that at most 4 heads divide into heads "
            r"of at most 8, or --student_init=random"),
])
def test_larger_head_size_is_refused_with_a_fix(hidden, heads, match):
    with pytest.raises(ValueError, match=match):
        check_extractable(tiny_config(), tiny_config(hidden_size=hidden,
                                                     num_attention_heads=heads))


def test_whole_head_selection_reads_as_before():
    sel = random_selection(tiny_config(), tiny_config(hidden_size=24, num_attention_heads=3),
                           seed=3)
    assert sel.qk_neurons is None and sel.vo_neurons is None
    assert set(sel.to_dict()) == {"layers", "hidden", "heads", "ffn"}


def test_smaller_head_size_keeps_neurons_within_each_head():
    teacher, student = tiny_config(), tiny_config(hidden_size=16)  # 4 heads of 4, not 8.
    check_extractable(teacher, student)
    sel = random_selection(teacher, student, seed=3)
    assert sel == random_selection(teacher, student, seed=3)
    for neurons in (sel.qk_neurons, sel.vo_neurons):
        assert [len(per_head) for per_head in neurons] == [4, 4]
        assert all(len(n) == 4 and list(n) == sorted(set(n)) and max(n) < 8
                   for per_head in neurons for n in per_head)
    assert sel.qk_neurons != sel.vo_neurons


def test_importance_selection_keeps_top_neurons_of_each_kept_head():
    teacher, student = tiny_config(), tiny_config(hidden_size=18, num_attention_heads=3,
                                                  intermediate_size=5)
    rng = np.random.default_rng(2)
    scores = ImportanceScores(hidden=rng.random(32), heads=rng.random((2, 4)),
                              ffn=rng.random((2, 37)), num_batches=1,
                              qk_neurons=rng.random((2, 4, 8)), vo_neurons=rng.random((2, 4, 8)))
    sel = importance_selection(scores, teacher, student)
    for layer in range(2):
        for k, head in enumerate(sel.heads[layer]):
            assert set(sel.qk_neurons[layer][k]) == set(
                np.argsort(-scores.qk_neurons[layer, head])[:6])
            assert set(sel.vo_neurons[layer][k]) == set(
                np.argsort(-scores.vo_neurons[layer, head])[:6])
    bare = ImportanceScores(scores.hidden, scores.heads, scores.ffn, 1)
    with pytest.raises(ValueError, match="no within-head neuron scores"):
        importance_selection(bare, teacher, student)


@pytest.mark.parametrize("preset,heads", [("l6h256", 8), ("l6h384", 12), ("l12h384", 12)])
def test_released_shapes_extract_from_bert_base_with_their_head_counts(preset, heads):
    bert_base = EncoderConfig()  # 12 layers, 768 wide, 12 heads of 64.
    student = get_preset(preset)
    check_extractable(bert_base, student)
    sel = random_selection(bert_base, student, seed=0)
    assert [len(h) for h in sel.heads] == [heads] * student.num_hidden_layers
    assert {len(n) for per_head in sel.qk_neurons for n in per_head} == {student.head_size}


def test_heads_that_do_not_divide_hidden_size_are_refused():
    student = EncoderConfig(vocab_size=99, hidden_size=30, num_hidden_layers=2,
                            num_attention_heads=4, intermediate_size=37,
                            max_position_embeddings=64)
    with pytest.raises(ValueError, match="num_attention_heads=4 does not divide hidden_size=30"):
        check_extractable(tiny_config(), student)
