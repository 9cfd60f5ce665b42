"""Per-batch padding and length-grouped shuffling."""
import numpy as np

from xtremedistil_tf.tasks.data.batching import length_grouped_order, make_dataset


def test_order_is_a_permutation_with_similar_lengths_per_batch(rng):
    lengths = rng.integers(1, 100, size=203)
    order = length_grouped_order(lengths, batch_size=8, seed=1, pool_batches=5)
    assert sorted(order.tolist()) == list(range(203))
    batches = [order[i:i + 8] for i in range(0, 203, 8)]
    assert all(len(b) == 8 for b in batches[:-1]) and len(batches[-1]) == 3
    for batch in batches[:-1]:
        assert np.all(np.diff(lengths[batch]) >= 0)  # Sorted within each pool's batches.
    again = length_grouped_order(lengths, batch_size=8, seed=1, pool_batches=5)
    other = length_grouped_order(lengths, batch_size=8, seed=2, pool_batches=5)
    assert np.array_equal(order, again) and not np.array_equal(order, other)


def test_batches_pad_to_their_longest_member():
    ids = [[2, 5, 3], [2, 5, 6, 7, 3], [2, 3]]
    types = [[0] * len(x) for x in ids]
    labels = [[-100, 1, -100], [-100, 1, 2, 0, -100], [-100, -100]]
    batches = list(make_dataset({"input_ids": ids, "token_type_ids": types}, labels,
                                batch_size=2, pad_token_id=1, order=[2, 0, 1]))
    x, y = batches[0]
    assert x["input_ids"].numpy().tolist() == [[2, 3, 1], [2, 5, 3]]
    assert x["attention_mask"].numpy().tolist() == [[1, 1, 0], [1, 1, 1]]
    assert y.numpy().tolist() == [[-100, -100, -100], [-100, 1, -100]]
    assert batches[1][0]["input_ids"].shape == (1, 5)
