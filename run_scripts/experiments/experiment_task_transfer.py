"""Experiment (not CI): does the task-transfer student fine-tune better on other tasks?

Every run goes through the entry scripts, so the experiment measures the recipe
users run (`run_distill.py` on its `StageRunner`, then `run_finetune.py`):
  1. `run_distill.py --flagfile=<--recipe>` (default flags/task_transfer.cfg:
     MiniLM fine-tuned on SST-2, three stages into an ETD-Impt l6h256 student);
     its metrics.json gives the source-task dev scores of the teacher, the
     start, the distilled student and a random twin, and the dev distillation
     loss per stage;
  2. `run_finetune.py --flagfile=flags/finetune/glue_<task>.cfg` (the default
     fine-tuning recipe, full training sets unless --target_max_train_samples) on
     each `--target_tasks` entry from the run's universal checkpoint
     (hf_student/), from its starting point before any step (hf_start/: the
     ETD-Impt extraction alone), from the same shape with random weights, and
     from the teacher's base model directly.
How fast each student init converges, measured on real tasks, is
run_scripts/benchmarks/benchmark_time_to_quality.py. Prints a table and writes
results.json into --output_dir.

    python run_scripts/experiments/experiment_task_transfer.py \
        --data_dir=../shared/data/glue --output_dir=outputs/experiment_task_transfer
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from absl import flags  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.utils.cli import run  # noqa: E402

FLAGS = flags.FLAGS
flags_common.define_flags(FLAGS, __name__, data_dir="../shared/data/glue",
                          output_dir="outputs/experiment_task_transfer", seed=42)
flags.DEFINE_string("recipe", "flags/task_transfer.cfg", "run_distill.py flagfile of the "
                    "task transfer (its --data_dir, --output_dir, --seed are set here).")
flags.DEFINE_list("distill_flags", [], "Further run_distill.py flags, comma-separated (values "
                  "without commas), e.g. "
                  "--student_init=etd_rand,--representation_max_steps=40.")
flags.DEFINE_list("target_tasks", ["mrpc", "rte"], "Target GLUE tasks, each fine-tuned "
                  "with flags/finetune/glue_<task>.cfg.")
flags.DEFINE_list("rows", ["transfer", "start", "random", "teacher"],
                  "Models to fine-tune, in this order: transfer (hf_student), start "
                  "(hf_start), random (same shape), teacher (its base model).")
flags.DEFINE_integer("target_max_train_samples", 0, "Training examples per target task "
                     "(0: the whole training set).")
flags.DEFINE_list("finetune_flags", [], "Further run_finetune.py flags for every target run, "
                  "comma-separated, e.g. --num_train_epochs=3.")


def _script(path, args, log_path):
    """Runs an entry script; its output goes to `log_path`. Returns the wall seconds."""
    start = time.time()
    with open(log_path, "w", encoding="utf-8") as log:
        code = subprocess.call([sys.executable, os.path.join(ROOT, path), *args], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
    if code:
        raise ValueError(f"{path} failed (exit code {code}); see {log_path}.")
    return time.time() - start


def _curves(metrics):
    """`{stage: [(global step, dev loss), ...]}` from a run_distill.py metrics.json."""
    return {name: [(point["step"], point["loss"]) for point in stage.get("dev", [])]
            for name, stage in metrics["stages"].items()}


def _distill(out):
    folder = os.path.join(out, "transfer")
    metrics_path = os.path.join(folder, "metrics.json")
    if os.path.exists(metrics_path):  # finished by an earlier run of this experiment
        with open(metrics_path, encoding="utf-8") as f:
            return folder, json.load(f), 0.0
    args = [f"--flagfile={FLAGS.recipe}", f"--data_dir={FLAGS.data_dir}",
            f"--output_dir={folder}", f"--seed={FLAGS.seed}", "--verbose=0", "--save_start",
            *FLAGS.distill_flags]
    seconds = _script("run_distill.py", args, os.path.join(out, "distill.log"))
    with open(os.path.join(folder, "metrics.json"), encoding="utf-8") as f:
        return folder, json.load(f), seconds


def _random_twin(out, hf_student):
    """An HF folder with the student's shape and tokenizer but random weights."""
    from xtremedistil_tf import Encoder
    from xtremedistil_tf.checkpoints import from_hf, to_hf

    folder = os.path.join(out, "random_weights")
    if not os.path.isdir(folder):
        trained, tokenizer = from_hf(hf_student)
        twin = Encoder(trained.config)
        twin.build()
        to_hf(twin, tokenizer, folder)
    return folder


def _finetune(out, label, checkpoint, name):
    folder = os.path.join(out, "target", f"{name}_{label}")
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    done = folder + ".done.json"
    if os.path.exists(done):  # finished by an earlier, interrupted run of this experiment
        with open(done, encoding="utf-8") as f:
            record = json.load(f)
        return record["dev"], record["seconds"]
    args = [f"--flagfile=flags/finetune/glue_{name}.cfg", f"--data_dir={FLAGS.data_dir}",
            f"--init_checkpoint={checkpoint}", f"--output_dir={folder}",
            f"--seed={FLAGS.seed}", "--save_model=false", "--verbose=0", *FLAGS.finetune_flags]
    if FLAGS.target_max_train_samples:
        args.append(f"--max_train_samples={FLAGS.target_max_train_samples}")
    seconds = _script("run_scripts/run_finetune.py", args, folder + ".log")
    with open(os.path.join(folder, "results.json"), encoding="utf-8") as f:
        dev = json.load(f)["eval"]["dev"]
    with open(done, "w", encoding="utf-8") as f:
        json.dump({"dev": dev, "seconds": seconds}, f)
    return dev, seconds


def main(argv):
    del argv
    from xtremedistil_tf.distill.student_builder import resolve_teacher

    started = time.time()
    out = FLAGS.output_dir
    os.makedirs(out, exist_ok=True)
    report = {"settings": {name: FLAGS[name].value for name in (
        "recipe", "distill_flags", "target_tasks", "rows", "target_max_train_samples",
        "finetune_flags", "seed")}}

    # 1. Task transfer into the universal checkpoint.
    folder, metrics, seconds = _distill(out)
    report["distillation"] = {"seconds": seconds, "curves": _curves(metrics),
                              "source_task": metrics.get("source_task", {}),
                              "teacher": metrics.get("teacher")}
    print(f"Distilled in {seconds:.0f}s; source task: {metrics.get('source_task')}", flush=True)

    # 2. Fine-tuning on the target tasks.
    hf_student = os.path.join(folder, "hf_student")
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        base_teacher = json.load(f)["teacher"]
    known = {"transfer": ("transfer student (hf_student)", lambda: hf_student),
             "start": ("its start, ETD-Impt alone (hf_start)",
                       lambda: os.path.join(folder, "hf_start")),
             "random": ("same shape, random weights", lambda: _random_twin(out, hf_student)),
             "teacher": ("teacher's base model fine-tuned directly",
                         lambda: resolve_teacher(base_teacher))}
    unknown = [r for r in FLAGS.rows if r not in known]
    if unknown:
        raise ValueError(f"--rows names {unknown}; valid: {list(known)}.")
    targets = [(name, None) for name in FLAGS.target_tasks]
    finetuned = {}
    for short in FLAGS.rows:
        label, checkpoint = known[short][0], known[short][1]()
        for name, _ in targets:
            dev, seconds = _finetune(out, short, checkpoint, name)
            finetuned.setdefault(label, {})[name] = {"dev": dev, "seconds": seconds}
            print(f"{name} / {label}: {dev} ({seconds:.0f}s)", flush=True)
    report["finetune"] = finetuned
    report["wall_time_seconds"] = time.time() - started
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    print(summary(report, targets))


def summary(report, targets):
    lines = ["=" * 78, f"{'model':38s}" + "".join(f" {name + ' (s)':>18s}"
                                                 for name, _ in targets)]
    for label, scores in report["finetune"].items():
        cells = ""
        for name, _ in targets:
            dev, seconds = scores[name]["dev"], scores[name]["seconds"]
            shown = "/".join(f"{dev[k]:.3f}" for k in ("accuracy", "f1") if k in dev)
            cells += f" {shown + f' ({seconds:.0f})':>18s}"
        lines.append(f"{label:38s}{cells}")
    lines.append("(accuracy, and F1 where GLUE reports it; dev sets; wall seconds)")
    distill = report["distillation"]
    for name, scores in distill["source_task"].items():
        lines.append(f"source task, {name}: {scores}")
    for stage, curve in distill["curves"].items():
        if curve:
            lines.append(f"{stage}: dev distillation loss {curve[0][1]:.4f} at step "
                         f"{curve[0][0]} -> {curve[-1][1]:.4f} at step {curve[-1][0]}")
    lines.append(f"Wall time {report['wall_time_seconds'] / 60:.1f} min")
    return "\n".join(lines)


if __name__ == "__main__":
    run(main)
