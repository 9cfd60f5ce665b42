"""Batches addressed by step number, so a resumed run sees exactly the unseen data."""
import functools

import numpy as np
import tensorflow as tf

INPUT_KEYS = ("input_ids", "attention_mask", "token_type_ids")


class StepPlan:
    """Which examples make up the global batch of each step.

    Epoch `e` is a permutation drawn from `(seed, e)`; step `s` takes batch
    `s mod steps_per_epoch` of epoch `s // steps_per_epoch` (a ragged last batch
    is dropped). The batch of any step is known without replaying earlier ones.

    Args:
        num_examples: size of the split.
        batch_size: global batch size.
        seed: seed of the permutations: an int or a tuple of ints (e.g. run
            seed, stage, phase).
        shuffle: False keeps the split's order (for evaluation).
    """

    def __init__(self, num_examples, batch_size, seed, shuffle=True):
        if num_examples < batch_size:
            raise ValueError(
                f"The split has {num_examples} examples, fewer than batch_size={batch_size}; "
                "lower batch_size or add transfer data.")
        self.num_examples = num_examples
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.steps_per_epoch = num_examples // batch_size

    @functools.lru_cache(maxsize=2)
    def _order(self, epoch):
        if not self.shuffle:
            return np.arange(self.num_examples)
        seeds = list(self.seed) if isinstance(self.seed, (tuple, list)) else [self.seed]
        # A trailing 0 (the first phase of a stage) seeds as the plain int did.
        while len(seeds) > 1 and seeds[-1] == 0:
            seeds.pop()
        return np.random.default_rng(seeds + [epoch]).permutation(self.num_examples)

    def indices(self, step):
        epoch, batch = divmod(int(step), self.steps_per_epoch)
        return self._order(epoch)[batch * self.batch_size:(batch + 1) * self.batch_size]


class ExampleSource:
    """Token arrays of one split, with labels and cached teacher outputs if any.

    Args:
        inputs: dict of `[num_examples, seq]` int32 arrays (`INPUT_KEYS`).
        example_ids: global example id of each row (indexes the teacher cache).
        labels: optional labels, one per row: integer classes, float scores
            (regression) or `[num_examples, seq]` token tags (-100 = ignored).
        cache: optional `TeacherCache`; its outputs travel with the batch.
        cache_keys: which cached keys to send (all the stage's teacher keys).
    """

    def __init__(self, inputs, example_ids, labels=None, cache=None, cache_keys=()):
        self.inputs = inputs
        self.example_ids = np.asarray(example_ids)
        if labels is not None:
            labels = np.asarray(labels)
            labels = labels.astype(np.float32 if labels.dtype.kind == "f" else np.int32)
        self.labels = labels
        self.cache = cache if cache_keys else None
        self.cache_keys = sorted(cache_keys)

    def __len__(self):
        return len(self.example_ids)

    def _flat_spec(self, batch):
        seq = self.inputs["input_ids"].shape[1]
        spec = [(tf.int32, (batch, seq)) for _ in INPUT_KEYS]
        if self.labels is not None:
            spec.append((tf.as_dtype(self.labels.dtype), (batch,) + self.labels.shape[1:]))
        if self.cache is not None:
            stored = self.cache.spec()
            for key in self.cache_keys:
                shape, dtype = stored[key]
                spec.append((tf.as_dtype(dtype), (batch,) + tuple(shape)))
        return spec

    def _fetch_flat(self, rows):
        out = [self.inputs[k][rows].astype(np.int32) for k in INPUT_KEYS]
        if self.labels is not None:
            out.append(self.labels[rows])
        if self.cache is not None:
            cached = self.cache.gather(self.example_ids[rows])
            out.extend(cached[k] for k in self.cache_keys)
        return out

    def _unflatten(self, flat):
        inputs = dict(zip(INPUT_KEYS, flat[:3]))
        rest = list(flat[3:])
        targets = {}
        if self.labels is not None:
            targets["labels"] = rest.pop(0)
        if self.cache is not None:
            targets["teacher"] = dict(zip(self.cache_keys, rest))
        return (inputs, targets) if targets else (inputs,)

    def dataset(self, row_batches, batch):
        """A tf.data pipeline over a generator of row-index arrays of length `batch`."""
        spec = self._flat_spec(batch)

        def fetch(rows):
            flat = tf.numpy_function(self._fetch_flat, [rows], [dtype for dtype, _ in spec],
                                     stateful=False)
            for tensor, (_, shape) in zip(flat, spec):
                tensor.set_shape(shape)
            return self._unflatten(flat)

        ds = tf.data.Dataset.from_generator(
            row_batches, output_signature=tf.TensorSpec((batch,), tf.int64))
        return ds.map(fetch).prefetch(2)


def distributed_dataset(strategy, source, plan, start_step, end_step):
    """Steps `[start_step, end_step)` of `plan`, each global batch split over replicas.

    Replica `r` of the global batch gets rows `[r*b, (r+1)*b)` where `b` is the
    per-replica batch, whatever the number of workers, so the global batch of a
    step is the same on one device, many devices or many workers.
    """
    replicas = strategy.num_replicas_in_sync
    if plan.batch_size % replicas:
        raise ValueError(
            f"batch_size={plan.batch_size} is not divisible by the {replicas} replicas; pick "
            "a multiple of the replica count.")
    per_replica = plan.batch_size // replicas

    def dataset_fn(context):
        local = replicas // context.num_input_pipelines
        first = context.input_pipeline_id * local

        def rows():
            for step in range(start_step, end_step):
                global_rows = plan.indices(step)
                for replica in range(first, first + local):
                    yield global_rows[replica * per_replica:(replica + 1) * per_replica]

        return source.dataset(rows, per_replica)

    options = tf.distribute.InputOptions(experimental_fetch_to_device=True)
    return strategy.distribute_datasets_from_function(dataset_fn, options)
