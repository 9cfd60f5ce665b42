"""Scores encoders on real labelled tasks: linear probes and pair-cosine ranking.

The yardsticks of `xtremedistil_tf.evaluation` (see its docstring), for any
number of models side by side: the packaged teacher (`minilm`), HF folders
(e.g. a run's `hf_student/`), `.keras` encoders or task models.

    python run_scripts/experiments/evaluate_quality.py \
        --models=teacher=minilm,student=outputs/l6h256/hf_student \
        --eval_tasks=sst2,mrpc,rte,qnli --eval_data_dir=../shared/data/glue

Each model's scores are cached as `<output_dir>/<name>.json` (delete to rescore);
the table goes to stdout and `<output_dir>/quality.json`.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from absl import flags  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402

FLAGS = flags.FLAGS
# Shared: the same quality flags as run_distill.py; --output_dir holds per-model caches.
flags_common.define_quality_flags(FLAGS, __name__, eval_tasks=("sst2", "mrpc", "rte", "qnli"),
                                  eval_max_train_samples=2000)
flags_common.define_flags(FLAGS, __name__, max_seq_length=128, output_dir="outputs/quality")
flags.DEFINE_list("models", None, "name=path pairs: 'minilm', an HF folder, or a .keras file.")
flags.DEFINE_integer("eval_max_eval_samples", 2000, "Dev examples per task (0: all).")
flags.mark_flags_as_required(["models"])


def _load(path):
    from xtremedistil_tf.distill.student_builder import resolve_teacher
    from xtremedistil_tf.tasks.init_checkpoint import load_init_checkpoint

    return load_init_checkpoint(resolve_teacher(path))


def main(argv):
    del argv
    from xtremedistil_tf.evaluation import (
        QualityConfig, evaluate_model, format_quality_table, load_task_data)
    from xtremedistil_tf.utils.atomic_io import write_json

    pairs = []
    for item in FLAGS.models:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--models entry {item!r} is not name=path.")
        pairs.append((name, path))
    config = QualityConfig(
        tasks=tuple(FLAGS.eval_tasks), data_dir=FLAGS.eval_data_dir,
        data_source=FLAGS.eval_data_source, max_train_samples=FLAGS.eval_max_train_samples,
        max_eval_samples=FLAGS.eval_max_eval_samples,
        max_seq_length=FLAGS.max_seq_length).validate()
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    data = load_task_data(config)
    results = {}
    for name, path in pairs:
        cache = os.path.join(FLAGS.output_dir, f"{name}.json")
        if os.path.exists(cache):
            with open(cache, encoding="utf-8") as f:
                saved = json.load(f)
            if saved.get("path") == path and saved.get("config") == config.to_dict():
                results[name] = saved["scores"]
                print(f"{name}: cached in {cache}")
                continue
        started = time.time()
        print(f"{name} ({path}):", flush=True)
        model, tokenizer = _load(path)
        encoder = getattr(model, "encoder", model)
        results[name] = evaluate_model(encoder, tokenizer, config, data)
        write_json(cache, {"path": path, "config": config.to_dict(), "scores": results[name]})
        print(f"{name}: {time.time() - started:.0f} s", flush=True)
    table = format_quality_table(results)
    write_json(os.path.join(FLAGS.output_dir, "quality.json"),
               {"models": dict(pairs), "config": config.to_dict(), "scores": results})
    print(table)


if __name__ == "__main__":
    from xtremedistil_tf.utils.cli import run

    run(main)
