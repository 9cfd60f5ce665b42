"""Extractive question answering: SQuAD v1.1 and v2.0 from local JSON or TFDS."""
import os

from xtremedistil_tf.models.question_answerer import QuestionAnswerer
from xtremedistil_tf.tasks import losses
from xtremedistil_tf.tasks.data.examples import QAExample
from xtremedistil_tf.tasks.data.squad_reader import read_squad_json
from xtremedistil_tf.tasks.data.tfds_loader import load_tfds
from xtremedistil_tf.tasks.metrics.squad_metrics import (best_null_thresholds,
                                                         squad_v1_metrics, squad_v2_metrics)
from xtremedistil_tf.tasks.squad_features import build_squad_features
from xtremedistil_tf.tasks.squad_postprocess import squad_nbest
from xtremedistil_tf.tasks.task import Task
from xtremedistil_tf.utils.atomic_io import write_json

# The null-score difference of a question without any valid span (JSON has no infinity).
_NO_SPAN = 1e9


class SquadTask(Task):
    """SQuAD: find the answer span in a context, or (v2.0) say there is none.

    Long contexts are split into windows of `max_seq_length` tokens whose
    starts are `doc_stride` tokens apart; each question keeps its best span
    over all windows (n-best search, at most `max_answer_length` tokens, start
    token judged in the window where it has most context). For v2.0 the first
    token scores "no answer": a question is answered '' when that score beats
    the best span by more than `null_score_threshold` (fixed, 0.0 by default
    as in BERT's and HF's SQuAD scripts). `exact`/`f1` (the `score` that
    selects the epoch) are those of the fixed threshold; `best_exact`/`best_f1`
    and their `_thresh` are tuned on the same dev set, as the official v2.0
    script reports them with `--na-prob-file null_odds.json`: optimistic, not
    a held-out result.

    Local files: `train-v1.1.json` / `dev-v1.1.json` (or `-v2.0`) in
    `config.data_dir`, or `train_file` / `eval_file`. TFDS: `squad/v1.1`,
    `squad/v2.0`. Metrics are the official ones, in percent. Predictions go to
    `predictions.json` (official format), `nbest_predictions.json` and, for
    v2.0, `null_odds.json` (per question id, no-answer score minus best span
    score: the official script's `--na-prob-file`).

    Args:
        name: "squad_v1" or "squad_v2".
        config: a `TaskConfig`.
    """

    test_splits = ()
    per_token_outputs = True

    def __init__(self, name, config):
        if name not in ("squad_v1", "squad_v2"):
            raise ValueError(f"SquadTask serves squad_v1 and squad_v2, not {name!r}.")
        super().__init__(name, config)
        if config.max_query_length + 4 >= config.max_seq_length:
            raise ValueError(f"max_query_length={config.max_query_length} leaves no room for "
                             f"context in max_seq_length={config.max_seq_length}; make it at "
                             "most max_seq_length - 5 (special tokens take up to 4).")
        self.version_2 = name == "squad_v2"
        self.version = "v2.0" if self.version_2 else "v1.1"

    # Data.
    def _file(self, split):
        override = {"train": self.config.train_file, "dev": self.config.eval_file}[split]
        return self.local_path([f"{split}-{self.version}.json"], override)

    def load_examples(self, split):
        if split not in ("train", "dev"):
            raise ValueError(f"SQuAD has splits 'train' and 'dev', not {split!r}.")
        if self.config.data_source == "tfds":
            examples = self._load_tfds(split)
        else:
            examples = read_squad_json(self._file(split), version_2=self.version_2)
        return self.subsample(examples, split)

    def _load_tfds(self, split):
        name = f"squad/{self.version}"
        tfds_split = {"train": "train", "dev": "validation"}[split]
        examples = []
        for i, record in enumerate(load_tfds(name, tfds_split, self.config.data_dir)):
            answers = tuple(zip(record["answers"]["text"], record["answers"]["answer_start"]))
            impossible = bool(record.get("is_impossible", False))
            examples.append(QAExample(record["id"], record["question"], record["context"],
                                      () if impossible else answers, impossible,
                                      record.get("title", ""), f"tfds:{name}/{split}#{i}"))
        return examples

    # Model.
    def build_model(self, encoder, pooling=None):
        return QuestionAnswerer(encoder, name=f"{self.name}_answerer")

    def accepts_model(self, model):
        return isinstance(model, QuestionAnswerer)

    # Features.
    def build_features(self, examples, tokenizer, training):
        c = self.config
        return build_squad_features(examples, tokenizer, c.max_seq_length, c.doc_stride,
                                    c.max_query_length, training)

    def compute_loss(self, labels, outputs, inputs=None):
        mask = None if inputs is None else inputs["attention_mask"]
        return losses.span_loss(labels["start_positions"], labels["end_positions"],
                                outputs["start_logits"], outputs["end_logits"], mask)

    # Evaluation.
    def evaluate(self, examples, features, outputs):
        c = self.config
        nbest = squad_nbest(examples, features, outputs, c.n_best_size, c.max_answer_length)
        spans = {qid: (entries[0]["text"] if entries else "") for qid, (entries, _) in
                 nbest.items()}
        gold = {e.qid: [text for text, _ in e.answers] for e in examples}
        predictions = {"answers": spans, "nbest": {q: n for q, (n, _) in nbest.items()}}
        if not self.version_2:
            metrics = squad_v1_metrics(gold, spans)
            metrics["score"] = metrics["f1"]
            return metrics, predictions
        # No span at all leaves only "no answer": the strongest null JSON can hold.
        diffs = {q: min(null - entries[0]["score"], _NO_SPAN) if entries else _NO_SPAN
                 for q, (entries, null) in nbest.items()}
        threshold = c.null_score_threshold
        answers = {q: "" if diffs[q] > threshold else spans[q] for q in spans}
        metrics = squad_v2_metrics(gold, answers)
        # Scored on exactly what predictions.json and null_odds.json will hold.
        metrics.update(best_null_thresholds(gold, answers, diffs))
        metrics["null_score_threshold"] = threshold
        metrics["score"] = metrics["f1"]
        predictions.update(answers=answers, null_diffs=diffs)
        return metrics, predictions

    def write_predictions(self, folder, split, examples, predictions):
        prefix = "" if split == "dev" else f"{split}_"
        paths = [os.path.join(folder, f"{prefix}predictions.json"),
                 os.path.join(folder, f"{prefix}nbest_predictions.json")]
        write_json(paths[0], predictions["answers"])
        write_json(paths[1], predictions["nbest"])
        if self.version_2:
            paths.append(os.path.join(folder, f"{prefix}null_odds.json"))
            write_json(paths[2], predictions["null_diffs"])
        return paths

    def describe(self):
        return (f"SQuAD {self.version} extractive QA (max_seq_length "
                f"{self.config.max_seq_length}, doc_stride {self.config.doc_stride})")
