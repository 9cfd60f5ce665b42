"""Which task the next multi-task batch comes from: p(task) proportional to |data|^tau."""
import numpy as np


class TaskSampler:
    """Draws task names with probability proportional to `size ** tau`.

    `tau=1` samples in proportion to dataset size (every example is seen about
    equally often), `tau=0` uniformly over tasks, and values in between (MT-DNN
    and the multilingual distillation papers use about 0.3-0.7) up-weight small
    tasks without starving large ones.

    Args:
        sizes: dict of task name to number of training examples (> 0).
        tau: exponent, >= 0.
        seed: seed of the draws; the same seed gives the same sequence.

    Examples:
    >>> sampler = TaskSampler({"sst2": 6000, "rte": 2000}, tau=0.5, seed=0)
    >>> sampler.probabilities  # doctest: +ELLIPSIS
    {'sst2': 0.63..., 'rte': 0.36...}
    >>> sampler.sample()
    'sst2'
    """

    def __init__(self, sizes, tau=1.0, seed=0):
        if not sizes:
            raise ValueError("TaskSampler needs at least one task; sizes is empty.")
        for name, size in sizes.items():
            if not isinstance(size, (int, np.integer)) or size < 1:
                raise ValueError(f"Task {name!r} has size {size!r}; every task needs at least "
                                 "one training example.")
        if not tau >= 0:
            raise ValueError(f"tau={tau} must be >= 0 (0 samples tasks uniformly, 1 in "
                             "proportion to their sizes).")
        self.names = list(sizes)
        self.sizes = dict(sizes)
        self.tau = float(tau)
        self.seed = seed
        weights = np.array([float(sizes[n]) ** self.tau for n in self.names])
        self._p = weights / weights.sum()
        self._rng = np.random.default_rng(seed)

    @property
    def probabilities(self):
        return {name: float(p) for name, p in zip(self.names, self._p)}

    def sample(self):
        """The next task name."""
        return self.names[int(self._rng.choice(len(self.names), p=self._p))]

    def schedule(self, num_steps):
        """The next `num_steps` task names, as a list."""
        picks = self._rng.choice(len(self.names), size=int(num_steps), p=self._p)
        return [self.names[int(i)] for i in picks]
