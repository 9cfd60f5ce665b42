"""The task sampler draws tasks in proportion to size**tau."""
import numpy as np
import pytest
from scipy import stats

from xtremedistil_tf.mkd.task_sampler import TaskSampler

SIZES = {"sst2": 6700, "mrpc": 3668, "rte": 2490, "cola": 85}


@pytest.mark.parametrize("tau", [0.0, 0.5, 1.0])
def test_draws_match_requested_proportions(tau):
    sampler = TaskSampler(SIZES, tau=tau, seed=123)
    expected = np.array([SIZES[n] ** tau for n in SIZES], np.float64)
    expected /= expected.sum()
    np.testing.assert_allclose(list(sampler.probabilities.values()), expected, rtol=1e-12)
    draws = sampler.schedule(20000)
    counts = np.array([draws.count(n) for n in SIZES])
    _, p_value = stats.chisquare(counts, expected * len(draws))
    assert p_value > 0.01


def test_wrong_proportions_are_detected():
    # The same test rejects a sampler that ignores tau: it can fail.
    draws = TaskSampler(SIZES, tau=1.0, seed=123).schedule(20000)
    counts = np.array([draws.count(n) for n in SIZES])
    uniform = np.full(len(SIZES), len(draws) / len(SIZES))
    assert stats.chisquare(counts, uniform)[1] < 1e-6


def test_seed_fixes_the_sequence():
    a = TaskSampler(SIZES, tau=0.5, seed=1).schedule(50)
    assert a == TaskSampler(SIZES, tau=0.5, seed=1).schedule(50)
    assert a != TaskSampler(SIZES, tau=0.5, seed=2).schedule(50)
    one, two = TaskSampler(SIZES, tau=0.5, seed=9), TaskSampler(SIZES, tau=0.5, seed=9)
    assert [one.sample() for _ in range(20)] == [two.sample() for _ in range(20)]


@pytest.mark.parametrize("sizes,tau,match", [
    ({}, 1.0, "sizes is empty"),
    ({"a": 0}, 1.0, "Task 'a' has size 0"),
    ({"a": 3}, -0.5, "tau=-0.5 must be >= 0"),
])
def test_bad_arguments(sizes, tau, match):
    with pytest.raises(ValueError, match=match):
        TaskSampler(sizes, tau=tau)
