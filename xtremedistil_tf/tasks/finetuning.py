"""The fine-tuning loop: train, select on dev, predict, write results and a summary."""
import math
import os
import time
import warnings

import keras
import numpy as np

from xtremedistil_tf.layers.dropout import set_dropout_rate
from xtremedistil_tf.models import ENCODER_TYPES, TaskModel
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer
from xtremedistil_tf.tasks.finetune_config import default_learning_rate
from xtremedistil_tf.tasks.probe_head import can_probe, init_head_from_probe
from xtremedistil_tf.training.optimization import create_optimizer
from xtremedistil_tf.utils.atomic_io import atomic_path, write_json, write_text


class _LossModel(keras.Model):
    """Trains a task model on its head outputs only, with the task's loss.

    Keras would otherwise stack every encoder output of every batch.
    """

    def __init__(self, task_model, task):
        super().__init__(name="loss_model")
        self.task_model = task_model
        self.task = task

    def call(self, inputs, training=False):
        outputs = self.task_model(inputs, training=training)
        return {k: outputs[k] for k in self.task_model.head_output_names}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return self.task.compute_loss(y, y_pred, x)


def _evaluate(task, model, examples, features, config, pad_id):
    outputs = task.predict(model, features, config.eval_batch_size, pad_id,
                           verbose=1 if config.verbose == 1 else 0)
    return task.evaluate(examples, features, outputs)


def _build_model(task, model, train_examples, num_train_epochs, pooling):
    """A task model for `task`: the given one if it fits, else a new head on its encoder."""
    loaded = model if isinstance(model, TaskModel) else None
    task.prepare(train_examples, model=loaded)
    if loaded is not None and task.accepts_model(loaded):
        return loaded, False
    if num_train_epochs == 0:
        raise ValueError(
            f"num_train_epochs=0 only evaluates, but the model given is not a trained "
            f"{task.name} model (an encoder, or a head for other labels); train it with "
            "num_train_epochs >= 1 "
            "or pass a model fine-tuned on this task.")
    encoder = model if isinstance(model, ENCODER_TYPES) else model.encoder
    return task.build_model(encoder, pooling), True


def _format_metrics(metrics):
    if metrics is None:
        return "no labels"
    return ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in metrics.items() if not isinstance(v, dict))


def finetune(task, model, tokenizer, config, run_info=None):
    """Fine-tunes `model` on `task` and writes the run's outputs.

    Each epoch is scored on the task's eval splits; the weights of the epoch
    with the best `score` on the first one are kept, saved and used for all
    predictions (model selection on dev).

    Args:
        task: a `Task`.
        model: an encoder (an `Encoder` or a headless `BiLSTMStudent`; a new
            head is added) or a `TaskModel` (kept as it
            is when it fits the task's labels, else its encoder gets a new head).
        tokenizer: a `TaskTokenizer` or anything it accepts.
        config: a `FinetuneConfig`.
        run_info: extra facts for `results.json` (e.g. the init checkpoint).

    Returns the results dict also written to `output_dir/results.json`.
    """
    config = config.validate()
    start = time.time()
    keras.utils.set_random_seed(config.seed)
    tokenizer = tokenizer if isinstance(tokenizer, TaskTokenizer) else TaskTokenizer(tokenizer)
    train_examples = task.load_examples("train") if config.num_train_epochs > 0 else []
    task_model, new_head = _build_model(task, model, train_examples, config.num_train_epochs,
                                        None if config.pooling == "auto" else config.pooling)
    if config.dropout is not None:
        set_dropout_rate(task_model, config.dropout)
    pad_id = task_model.encoder.config.pad_token_id
    if config.learning_rate is None:
        config = config.replace(learning_rate=default_learning_rate(task_model.encoder.config))

    evals = {}
    for split in task.eval_splits:
        if task.has_split(split):
            examples = task.load_examples(split)
            task.check_labels(examples)
            evals[split] = (examples, task.build_features(examples, tokenizer, training=False))
    if not evals:
        raise ValueError(f"Task {task.name!r} found none of its eval splits "
                         f"{list(task.eval_splits)}; model selection needs one.")
    select_split = next(iter(evals))

    epochs_log, best, head_probe = [], None, None
    train_features = None
    if config.num_train_epochs > 0:
        train_features = task.build_features(train_examples, tokenizer, training=True)
        if config.head_init == "probe" and new_head and can_probe(task_model):
            head_probe = init_head_from_probe(task_model, task, train_features,
                                              config.eval_batch_size, pad_id, config.seed)
            if config.verbose:
                print(f"Head started at the linear probe (training-set fit {head_probe:.4f})",
                      flush=True)
        steps = math.ceil(len(train_features) / config.batch_size)
        total = steps * config.num_train_epochs
        optimizer = create_optimizer(config.learning_rate, total,
                                     int(total * config.warmup_ratio),
                                     config.weight_decay, config.clipnorm)
        trainer = _LossModel(task_model, task)
        trainer.compile(optimizer=optimizer)
        for epoch in range(1, config.num_train_epochs + 1):
            if config.verbose:
                print(f"Epoch {epoch}/{config.num_train_epochs}: training on "
                      f"{len(train_features)} inputs", flush=True)
            dataset = task.build_dataset(train_features, config.batch_size, pad_id,
                                         shuffle=True, seed=config.seed + epoch)
            with warnings.catch_warnings():
                # Token and span heads never use the pooler; Keras warns it gets no gradient.
                warnings.filterwarnings("ignore", message="Gradients do not exist.*pooler")
                history = trainer.fit(dataset, epochs=1, verbose=config.verbose,
                                      shuffle=False,
                                      callbacks=[keras.callbacks.TerminateOnNaN()])
            record = {"epoch": epoch, "train_loss": float(history.history["loss"][-1])}
            if not np.isfinite(record["train_loss"]):
                raise ValueError(
                    f"the training loss became {record['train_loss']} in epoch {epoch} "
                    f"(learning rate {config.learning_rate}); nothing was written to "
                    f"{config.output_dir}. Lower --learning_rate or check the labels.")
            scored = {s: _evaluate(task, task_model, ex, ft, config, pad_id)
                      for s, (ex, ft) in evals.items()}
            record.update({s: m for s, (m, _) in scored.items()})
            epochs_log.append(record)
            score = scored[select_split][0]["score"]
            if not np.isfinite(score):  # e.g. Pearson of a constant prediction.
                score = -np.inf
            if config.verbose:
                print(f"Epoch {epoch}: loss {record['train_loss']:.4f}, {select_split} "
                      f"{_format_metrics(scored[select_split][0])}", flush=True)
            if best is None or score > best["score"]:
                best = {"score": score, "epoch": epoch, "scored": scored,
                        "weights": [np.array(w) for w in task_model.get_weights()]}
        task_model.set_weights(best["weights"])
        scored = best["scored"]
    else:
        scored = {s: _evaluate(task, task_model, ex, ft, config, pad_id)
                  for s, (ex, ft) in evals.items()}

    out_dir = config.output_dir
    os.makedirs(out_dir, exist_ok=True)
    outputs = []
    results = {"task": task.name, "description": task.describe(),
               "task_config": task.config.to_dict(), "finetune_config": config.to_dict(),
               "run_info": run_info or {}, "new_head": new_head,
               "label_names": getattr(task, "label_names", None),
               "head_probe_train_fit": head_probe,
               "epochs": epochs_log, "best_epoch": best["epoch"] if best else None,
               "counts": {}, "eval": {}, "test": {}}
    if train_features is not None:
        results["counts"]["train"] = {"examples": train_features.num_examples,
                                      "inputs": len(train_features), **train_features.stats}
    for split, (metrics, predictions) in scored.items():
        examples, features = evals[split]
        results["eval"][split] = metrics
        results["counts"][split] = {"examples": features.num_examples,
                                    "inputs": len(features), **features.stats}
        outputs += task.write_predictions(out_dir, split, examples, predictions)

    for split in task.test_splits:
        if not (task.test_has_labels or config.predict_test) or not task.has_split(split):
            continue
        examples = task.load_examples(split)
        if task.test_has_labels:
            task.check_labels(examples)
        features = task.build_features(examples, tokenizer, training=False)
        metrics, predictions = _evaluate(task, task_model, examples, features, config, pad_id)
        results["test"][split] = metrics
        results["counts"][split] = {"examples": features.num_examples,
                                    "inputs": len(features), **features.stats}
        outputs += task.write_predictions(out_dir, split, examples, predictions)

    if config.save_model:
        with atomic_path(os.path.join(out_dir, "model.keras")) as tmp:
            task_model.save(tmp)
        tokenizer.save(out_dir)
        outputs += [os.path.join(out_dir, "model.keras"), os.path.join(out_dir, "tokenizer.json")]
    results["wall_time_seconds"] = round(time.time() - start, 1)
    outputs += [os.path.join(out_dir, n) for n in ("results.json", "summary.txt")]
    results["outputs"] = outputs
    results["summary"] = summarize(results, task_model)
    write_json(os.path.join(out_dir, "results.json"), results)
    write_text(os.path.join(out_dir, "summary.txt"), results["summary"] + "\n")
    if config.verbose:
        print(results["summary"], flush=True)
    results["model"] = task_model
    return results


def summarize(results, task_model):
    """The closing summary: what was trained, on what, how it scored, where outputs are."""
    enc = task_model.encoder.config
    params = task_model.count_params()
    info = results["run_info"]
    lines = ["=" * 30 + " fine-tuning summary " + "=" * 30,
             f"Task: {results['description']}"]
    if results.get("label_names"):
        lines.append(f"Labels: {results['label_names']}")
    lines.append(f"Model: {type(task_model).__name__} on a {enc.model_type} encoder "
                 f"({enc.num_hidden_layers} layer{'s' if enc.num_hidden_layers != 1 else ''}, "
                 f"hidden {enc.hidden_size}, "
                 f"{params / 1e6:.2f}M parameters)"
                 + (f" from {info['init_checkpoint']}" if info.get("init_checkpoint") else "")
                 + ("; new head" if results["new_head"] else "; head reused"))
    cfg = results["finetune_config"]
    max_len = results["task_config"]["max_seq_length"]
    for split, counts in results["counts"].items():
        extra = ", ".join(f"{k} {v}" for k, v in counts.items() if k not in ("examples",
                                                                             "inputs"))
        lines.append(f"{split}: {counts['examples']} examples -> {counts['inputs']} inputs "
                     f"(max {max_len} tokens{'; ' + extra if extra else ''})")
    if results["epochs"]:
        plural = "s" if cfg["num_train_epochs"] != 1 else ""
        lines.append(f"Training: {cfg['num_train_epochs']} epoch{plural}, batch "
                     f"{cfg['batch_size']}, learning rate {cfg['learning_rate']}, warmup "
                     f"{cfg['warmup_ratio']}"
                     + (f", head on {task_model.pooling}" if hasattr(task_model, "pooling")
                        else "")
                     + (f", dropout {cfg['dropout']}" if cfg.get("dropout") is not None else "")
                     + (f", head started at the linear probe (training-set fit "
                        f"{results['head_probe_train_fit']:.4f})"
                        if results.get("head_probe_train_fit") is not None else ""))
        for record in results["epochs"]:
            splits = [k for k in record if k not in ("epoch", "train_loss")]
            mark = "  <- selected" if record["epoch"] == results["best_epoch"] else ""
            lines.append(f"  epoch {record['epoch']}: train loss {record['train_loss']:.4f}; "
                         + "; ".join(f"{s} score {record[s]['score']:.4f}" for s in splits)
                         + mark)
    else:
        lines.append("Training: none (evaluation only)")
    for group in ("eval", "test"):
        for split, metrics in results[group].items():
            lines.append(f"{split}: {_format_metrics(metrics)}")
    lines.append(f"Wall time: {results['wall_time_seconds']:.1f} s")
    lines.append("Outputs: " + ", ".join(results["outputs"]))
    return "\n".join(lines)
