"""Training batches from several tasks, one task per step: the data source of MKD.

Which task a step reads is drawn with probability proportional to the task's
size ** tau (`TaskSampler`), from a seed, so the whole schedule is known in
advance; each task keeps its own step plan. Any step's batch is therefore
known without replaying earlier ones, and a resumed run reads exactly the
batches an uninterrupted one would.
"""
import numpy as np

from xtremedistil_tf.distill.step_data import StepPlan, distributed_dataset


class TaskMixture:
    """Several `ExampleSource`s sampled by task, for `StageRunner.run`.

    Args:
        sources: dict of task name to `ExampleSource` (its training split).
        tau: exponent of the task sizes (0: uniform over tasks, 1: in
            proportion to their sizes).
    """

    def __init__(self, sources, tau=1.0):
        if not sources:
            raise ValueError("TaskMixture needs at least one task; sources is empty.")
        self.sources = dict(sources)
        self.tau = float(tau)

    def __len__(self):
        return sum(len(s) for s in self.sources.values())

    def schedule(self, seed, steps):
        """The task of each of the first `steps` steps."""
        from xtremedistil_tf.mkd.task_sampler import TaskSampler

        sizes = {t: len(s) for t, s in self.sources.items()}
        return TaskSampler(sizes, tau=self.tau, seed=list(seed)).schedule(steps)

    def feed(self, strategy, batch_size, seed, start, end):
        """Yields `(task, distributed batch)` for steps `[start, end)`."""
        schedule = self.schedule(seed, end)
        names = list(self.sources)
        iterators = {}
        for index, task in enumerate(names):
            first = schedule[:start].count(task)
            last = first + schedule[start:end].count(task)
            if last > first:
                plan = StepPlan(len(self.sources[task]), batch_size, seed=(*seed, index))
                iterators[task] = iter(distributed_dataset(
                    strategy, self.sources[task], plan, first, last))
        for step in range(start, end):
            task = schedule[step]
            yield task, next(iterators[task])

    def counts(self, seed, steps):
        """Steps per task in the first `steps` steps."""
        schedule = self.schedule(seed, steps)
        return {t: int(np.sum([s == t for s in schedule])) for t in self.sources}


def single_feed(source, strategy, batch_size, seed, start, end):
    """Yields `(None, distributed batch)` for steps `[start, end)` of one `ExampleSource`."""
    plan = StepPlan(len(source), batch_size, seed=seed)
    for batch in distributed_dataset(strategy, source, plan, start, end):
        yield None, batch
