"""Quality of an encoder on real labelled tasks, without training it.

Agreement with the teacher on the transfer text is a diagnostic, not quality: a
student can match the teacher's vectors more closely on Python documentation
while getting worse at sentiment or paraphrase. These yardsticks read labelled
GLUE data (`glue_data/<TASK>/*.tsv` or TFDS) and score frozen embeddings:

- `probe_mean`, `probe_cls`: dev accuracy of a logistic regression fitted on the
  training split's mean-pooled / first-token ([CLS]) vectors of the last layer.
  A pair is encoded one sentence at a time and probed on `[u, v, |u - v|, u * v]`
  (the SentEval features), which reads what the encoder knows about each
  sentence rather than how it reads an untrained pair. The regularisation is
  picked by 3-fold cross-validation on the training split, never on dev. Tasks
  without a training split here (e.g. QNLI, whose train file is large) get no probe.
- `probe_mean_train_cv`, `probe_cls_train_cv`: the probes' cross-validated
  accuracy on the training split; `selection_score` averages them to choose
  between models without touching dev (`choose_shipped`: a run's start or its end).
- `cosine_auc` (pair tasks): ROC AUC of the cosine between the two sentences'
  separately encoded mean-pooled vectors, against the positive label
  (paraphrase, entailment). It needs no training at all.

scikit-learn fits and scores the probes (exact and standard); only the
embedding loop is ours. Inputs are sorted by length and padded per batch, so
cost follows the real token count.
"""
import dataclasses
import warnings

import numpy as np
import tensorflow as tf

from xtremedistil_tf.tasks.glue import GLUE_TASKS
from xtremedistil_tf.tasks.registry import get_task
from xtremedistil_tf.tasks.task_config import TaskConfig

# The label that counts as positive for the pair-cosine AUC.
_POSITIVE = {"mrpc": "1", "qqp": "1", "rte": "entailment", "qnli": "entailment",
             "wnli": "1", "mnli": "entailment"}
_PAIR_TASKS = tuple(sorted(_POSITIVE))
QUALITY_TASKS = ("sst2", "cola", "mrpc", "qqp", "rte", "qnli", "wnli", "mnli")
# Suffix of the cross-validated training-split accuracies (selection, not report).
TRAIN_CV = "_train_cv"
# Lengths are padded up to a multiple of this, so the encoder traces few shapes.
_LENGTH_BUCKET = 16


@dataclasses.dataclass(frozen=True)
class QualityConfig:
    """Which labelled tasks to score an encoder on, and how much of them.

    Args:
        tasks: GLUE task names (classification tasks; see `QUALITY_TASKS`).
        data_dir: the `glue_data` folder (holding `SST-2/`, `MRPC/`, ...), or the
            TFDS data folder with `data_source="tfds"`.
        data_source: "local" or "tfds".
        max_train_samples: seeded random subset of each training split for the probe.
        max_eval_samples: first this many dev examples (0: all).
        max_seq_length: tokens per input (pairs are truncated longest first).
        batch_size: examples per forward pass.
        seed: seed of the training subsets and the probes.
    """

    tasks: tuple = ()
    data_dir: str = ""
    data_source: str = "local"
    max_train_samples: int = 2000
    max_eval_samples: int = 2000
    max_seq_length: int = 128
    batch_size: int = 64
    seed: int = 0

    def validate(self):
        unknown = [t for t in self.tasks if t not in QUALITY_TASKS]
        if unknown:
            raise ValueError(f"eval_tasks names {unknown}; valid: {list(QUALITY_TASKS)} "
                             "(classification tasks of GLUE).")
        if self.tasks and self.data_source == "local" and not self.data_dir:
            raise ValueError("eval_tasks needs eval_data_dir: the glue_data folder holding "
                             "SST-2/, MRPC/, ... (or set eval_data_source=tfds).")
        if self.data_source not in ("local", "tfds"):
            raise ValueError(f"eval_data_source={self.data_source!r}; use 'local' or 'tfds'.")
        for name in ("max_train_samples", "batch_size", "max_seq_length"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be at least 1.")
        if self.max_eval_samples < 0:
            raise ValueError(f"max_eval_samples={self.max_eval_samples} must be >= 0 (0: all).")
        return self

    def to_dict(self):
        return {**dataclasses.asdict(self), "tasks": list(self.tasks)}


def _encoder_outputs(model):
    """A callable from inputs to (mean-pooled, first-token) float32 vectors."""

    @tf.function(reduce_retracing=True)
    def run(inputs):
        outputs = model(inputs, training=False)
        mask = tf.cast(inputs["attention_mask"], tf.float32)[:, :, None]
        if "sequence_output" not in outputs:  # e.g. a BiLSTM student: one vector
            pooled = tf.cast(outputs["pooled_output"], tf.float32)
            return pooled, pooled
        sequence = tf.cast(outputs["sequence_output"], tf.float32)
        mean = tf.reduce_sum(sequence * mask, 1) / tf.maximum(tf.reduce_sum(mask, 1), 1.0)
        return mean, sequence[:, 0]

    return run


def embed(model, tokenizer, texts, text_pairs=None, max_seq_length=128, batch_size=64,
          run=None):
    """Mean-pooled and first-token vectors of every input, as two float32 arrays.

    `run` is `_encoder_outputs(model)`, passed in to trace the model once per
    shape across calls.
    """
    encoded = tokenizer(texts, text_pairs, max_length=max_seq_length, padding="longest")
    lengths = encoded["attention_mask"].sum(axis=1)
    order = np.argsort(lengths, kind="stable")
    run = run or _encoder_outputs(model)
    means, firsts = [None] * len(texts), [None] * len(texts)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = int(lengths[rows].max())
        width = min(-(-width // _LENGTH_BUCKET) * _LENGTH_BUCKET, encoded["input_ids"].shape[1])
        batch = {k: tf.constant(encoded[k][rows, :width], tf.int32)
                 for k in ("input_ids", "attention_mask", "token_type_ids")}
        mean, first = run(batch)
        for i, row in enumerate(rows):
            means[row], firsts[row] = mean[i].numpy(), first[i].numpy()
    return np.stack(means), np.stack(firsts)


def _probe_accuracy(train_x, train_y, dev_x, dev_y, seed):
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # Constant features (a LayerNorm dimension whose gain is 0) would divide by ~0.
    train_x, dev_x = np.asarray(train_x, np.float64), np.asarray(dev_x, np.float64)
    spread = train_x.std(axis=0)
    keep = spread > 1e-6 * max(float(spread.max()), 1e-12)
    probe = make_pipeline(StandardScaler(), LogisticRegressionCV(
        Cs=[0.01, 0.1, 1.0], cv=3, max_iter=2000, random_state=seed, scoring="accuracy"))
    with warnings.catch_warnings():
        # scikit-learn 1.9 announces default changes (l1_ratios, fitted attributes) on
        # every fit, several hundred lines per run; the values we pass and read are fixed.
        warnings.simplefilter("ignore", FutureWarning)
        probe.fit(train_x[:, keep], train_y)
    search = probe[-1]
    # Cross-validated accuracy on the training split at the chosen C: a score that
    # never saw dev, fit for choosing between models.
    cv = np.mean([scores.mean(axis=0).max() for scores in search.scores_.values()])
    return float(probe.score(dev_x[:, keep], dev_y)), float(cv)


def _pair_features(first, second):
    return np.concatenate([first, second, np.abs(first - second), first * second], axis=1)


def _cosine(first, second):
    return (first * second).sum(1) / np.maximum(
        np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1), 1e-12)


class TaskData:
    """One task's labelled train and dev examples, read once and shared by every model."""

    def __init__(self, name, config):
        task = get_task(name, TaskConfig(
            data_dir=config.data_dir, data_source=config.data_source,
            max_train_samples=config.max_train_samples,
            max_eval_samples=config.max_eval_samples or None, seed=config.seed))
        self.name = name
        self.pair = GLUE_TASKS[name].text_pair is not None
        self.dev = task.load_examples("dev" if "dev" in task.eval_splits else task.eval_splits[0])
        self.train = task.load_examples("train") if task.has_split("train") else None

    @staticmethod
    def columns(examples):
        pairs = [e.text_pair for e in examples] if examples[0].text_pair is not None else None
        return [e.text for e in examples], pairs, np.array([e.label for e in examples])


def load_task_data(config):
    """{task: TaskData} for `config.tasks`; reads each file once."""
    config.validate()
    return {name: TaskData(name, config) for name in config.tasks}


def evaluate_model(model, tokenizer, config, data=None, log=print):
    """Scores `model` (an `Encoder`, or any model returning `sequence_output`) on `config.tasks`.

    Args:
        model: the model to score; run with `training=False`.
        tokenizer: the model's tokenizer (`Tokenizer`).
        config: a `QualityConfig`.
        data: `load_task_data(config)`, to read the files once for several models.
        log: where progress lines go.

    Returns `{task: {"probe_mean": acc, "probe_cls": acc, "cosine_auc": auc}}`
    (keys present when they apply).
    """
    data = data if data is not None else load_task_data(config)
    run = _encoder_outputs(model)

    def vectors(examples):
        """(mean, cls) features of the examples; pairs as SentEval features."""
        texts, pairs, labels = TaskData.columns(examples)
        mean, cls = embed(model, tokenizer, texts, None, config.max_seq_length,
                          config.batch_size, run)
        if pairs is None:
            return mean, cls, labels, None
        mean2, cls2 = embed(model, tokenizer, pairs, None, config.max_seq_length,
                            config.batch_size, run)
        return (_pair_features(mean, mean2), _pair_features(cls, cls2), labels,
                _cosine(mean, mean2))

    results = {}
    for name in config.tasks:
        task = data[name]
        scores = {}
        dev_mean, dev_cls, dev_y, dev_cosine = vectors(task.dev)
        if task.train is not None:
            train_mean, train_cls, train_y, _ = vectors(task.train)
            scores["probe_mean"], scores[f"probe_mean{TRAIN_CV}"] = _probe_accuracy(
                train_mean, train_y, dev_mean, dev_y, config.seed)
            scores["probe_cls"], scores[f"probe_cls{TRAIN_CV}"] = _probe_accuracy(
                train_cls, train_y, dev_cls, dev_y, config.seed)
        if dev_cosine is not None and name in _POSITIVE:
            from sklearn.metrics import roc_auc_score

            scores["cosine_auc"] = float(roc_auc_score(dev_y == _POSITIVE[name], dev_cosine))
        results[name] = scores
        if log is not None:
            log(f"  {name}: " + ", ".join(f"{k}={v:.4f}" for k, v in scores.items()
                                          if not k.endswith(TRAIN_CV)))
    return results


def selection_score(result):
    """Mean cross-validated probe accuracy on the tasks' training splits, or None.

    For choosing between models (e.g. a run's start and its end) without looking
    at dev: the dev figures stay an unbiased report.
    """
    return mean_score(result, f"probe_mean{TRAIN_CV}")


def choose_shipped(start, distilled):
    """Which of a run's start and its distilled student to ship, by `selection_score`.

    `start`, `distilled`: `evaluate_model` results. Returns `(name, scores)` with
    `name` "start" only when the start scores strictly higher (a tie keeps the
    trained student) and `scores` `{"start": s, "distilled": s}`; "distilled" when
    either has no training-split probe (nothing to choose by).
    """
    scores = {"start": selection_score(start), "distilled": selection_score(distilled)}
    if None in scores.values():
        return "distilled", scores
    return ("start" if scores["start"] > scores["distilled"] else "distilled"), scores


def mean_score(result, metric):
    """Mean of `metric` over the tasks that have it, or None."""
    values = [scores[metric] for scores in result.values() if metric in scores]
    return float(np.mean(values)) if values else None


def format_quality_table(results, columns=None):
    """A text table: one row per (task, metric), one column per model.

    Args:
        results: `{model name: evaluate_model(...)}`, e.g. teacher, start,
            student, random.
        columns: model names in column order (default: the dict's order).
    """
    columns = [c for c in (columns or list(results)) if c in results]
    rows = []
    first = results[columns[0]]
    for task, scores in first.items():
        for metric in [m for m in scores if not m.endswith(TRAIN_CV)]:
            rows.append((f"{task} {metric}",
                         [results[c].get(task, {}).get(metric) for c in columns]))
    for metric in ("probe_mean", "probe_cls", "cosine_auc"):
        means = [mean_score(results[c], metric) for c in columns]
        if all(m is not None for m in means) and len(rows) > 1:
            rows.append((f"mean {metric}", means))
    width = max([len(r[0]) for r in rows] + [10]) + 2
    lines = [" " * width + "".join(f"{c:>12}" for c in columns)]
    for label, values in rows:
        lines.append(f"{label:<{width}}" + "".join(
            f"{'-':>12}" if v is None else f"{v:>12.4f}" for v in values))
    return "\n".join(lines)
