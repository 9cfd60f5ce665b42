"""Experiment (not CI): does the task-transfer student fine-tune better on other tasks?

Every run goes through the entry scripts, so the experiment measures the recipe
users run (`run_distill.py` on its `StageRunner`, then `run_finetune.py`):
  1. `run_distill.py --flagfile=<--recipe>` (default flags/task_transfer.cfg:
     MiniLM fine-tuned on SST-2, three stages into an ETD-Impt l6h256 student);
     its metrics.json gives the source-task dev scores of the teacher, the
     start, the distilled student and a random twin, and the dev distillation
     loss per stage;
  2. `run_finetune.py` on each `--target_tasks` entry from the run's universal
     checkpoint (hf_student/), from the same shape with random weights, and from
     the teacher's base model directly, all with the same recipe.
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
flags.DEFINE_list("target_tasks", ["mrpc:64", "rte:128"],
                  "Target tasks with their max sequence length (MRPC pairs are short).")
flags.DEFINE_integer("target_max_train_samples", 800, "Training examples per target task.")
flags.DEFINE_integer("target_max_eval_samples", 0, "Dev examples scored per target task "
                     "(0: all).")
flags.DEFINE_integer("target_num_train_epochs", 3, "Fine-tuning epochs on the target tasks.")
flags.DEFINE_float("student_learning_rate", 2e-4, "Target fine-tuning rate of the students.")
flags.DEFINE_float("teacher_target_learning_rate", 1e-4,
                   "Target fine-tuning rate of the teacher fine-tuned directly.")


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
    args = [f"--flagfile={FLAGS.recipe}", f"--data_dir={FLAGS.data_dir}",
            f"--output_dir={folder}", f"--seed={FLAGS.seed}", "--verbose=0",
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


def _finetune(out, label, checkpoint, name, seq_length, learning_rate):
    folder = os.path.join(out, "target", f"{name}_{label}")
    args = [f"--task={name}", f"--data_dir={FLAGS.data_dir}", f"--init_checkpoint={checkpoint}",
            f"--output_dir={folder}", f"--max_seq_length={seq_length}",
            f"--max_train_samples={FLAGS.target_max_train_samples}",
            f"--num_train_epochs={FLAGS.target_num_train_epochs}",
            f"--learning_rate={learning_rate}", f"--seed={FLAGS.seed}", "--batch_size=32",
            "--save_model=false", "--verbose=0"]
    if FLAGS.target_max_eval_samples:
        args.append(f"--max_eval_samples={FLAGS.target_max_eval_samples}")
    seconds = _script("run_scripts/run_finetune.py", args, folder + ".log")
    with open(os.path.join(folder, "results.json"), encoding="utf-8") as f:
        return json.load(f)["eval"]["dev"], seconds


def main(argv):
    del argv
    from xtremedistil_tf.distill.student_builder import resolve_teacher

    started = time.time()
    out = FLAGS.output_dir
    os.makedirs(out, exist_ok=True)
    report = {"settings": {name: FLAGS[name].value for name in (
        "recipe", "distill_flags", "target_tasks", "target_max_train_samples",
        "target_max_eval_samples", "target_num_train_epochs", "student_learning_rate",
        "teacher_target_learning_rate", "seed")}}

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
    rows = {"transfer student": ("transfer", hf_student, FLAGS.student_learning_rate),
            "same shape, random weights": ("random", _random_twin(out, hf_student),
                                           FLAGS.student_learning_rate),
            "teacher fine-tuned directly": ("teacher", resolve_teacher(base_teacher),
                                            FLAGS.teacher_target_learning_rate)}
    targets = [(t.split(":")[0], int(t.split(":")[1])) for t in FLAGS.target_tasks]
    finetuned = {}
    for label, (short, checkpoint, learning_rate) in rows.items():
        for name, seq_length in targets:
            dev, seconds = _finetune(out, short, checkpoint, name, seq_length, learning_rate)
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
