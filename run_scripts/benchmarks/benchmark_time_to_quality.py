"""Time to quality: real-task yardsticks against training time and steps, per student init.

    python run_scripts/benchmarks/benchmark_time_to_quality.py --flagfile=flags/l6h256.cfg \
        --eval_data_dir=../shared/data/glue --inits=etd_impt,etd_rand,random

Runs the recipe (any run_distill.py flags; the default is the embedded recipe)
once per `--student_init`, and at every dev evaluation of every stage scores the
student on the `--eval_tasks` yardsticks (linear probes on frozen sentence vectors,
pair cosine AUC; xtremedistil_tf/evaluation/quality.py). The clock counts the
training time from the first step on (the set-up before it, teacher cache and
importance scoring included, is printed apart) and stops while the yardsticks are
computed. It ends with one table of every point and, per init, the training steps
and time it took to first reach the best score of the weakest init, so ETD's
convergence claim is measured on real tasks in one run. All inits
run in this one process, one after another, on the same teacher cache; the machine
is shared, so compare the ratios, not the seconds. A benchmark, not a test.
"""
import dataclasses
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import run_distill  # noqa: E402  (defines the recipe flags)
from absl import flags  # noqa: E402

from xtremedistil_tf.utils.cli import run  # noqa: E402

flags.DEFINE_list("inits", ["etd_impt", "etd_rand", "random"], "Student inits to compare.")
flags.DEFINE_string("benchmark_dir", "outputs/time_to_quality", "Folder for the runs.")
FLAGS = flags.FLAGS


def _mean(scores):
    values = [v for task in scores.values() for k, v in task.items()
              if k in ("probe_mean", "cosine_auc")]
    return sum(values) / len(values) if values else float("nan")


def _row(init, point):
    scores = point["scores"]
    cells = []
    for task in sorted(scores):
        for key in ("probe_mean", "cosine_auc"):
            if key in scores[task]:
                cells.append(f"{task} {key.split('_')[0]} {scores[task][key]:.3f}")
    return (f"| {init} | {point['stage']} | {point['step']} | {point['seconds']:.0f} | "
            f"{point['mean']:.3f} | {'; '.join(cells)} |")


def _first_reaching(points, target):
    for point in points:
        if point["mean"] >= target - 1e-9:
            return point
    return None


def main(argv):
    del argv
    from xtremedistil_tf.distill.distill_run import run_distillation
    from xtremedistil_tf.distill.student_builder import encoder_of, resolve_teacher
    from xtremedistil_tf.evaluation.quality import evaluate_model, load_task_data
    from xtremedistil_tf.tokenizers import Tokenizer

    base = run_distill.build_config()
    if not base.quality.tasks:
        raise ValueError("benchmark_time_to_quality needs --eval_tasks (e.g. sst2,qnli) and "
                         "--eval_data_dir (the glue_data folder) to score the students.")
    quality_config = base.quality
    data = load_task_data(quality_config)
    # The student shares the teacher's vocabulary (run_distill checks it).
    tokenizer = Tokenizer.from_pretrained(resolve_teacher(base.teacher))
    results = {}
    for init in FLAGS.inits:
        config = dataclasses.replace(
            base, student_init=init, output_dir=os.path.join(FLAGS.benchmark_dir, init),
            quality=dataclasses.replace(quality_config, tasks=()))
        points, clock = [], {"paused": 0.0, "start": time.time(), "setup": None}

        def score(student, stage, phase, step, total, points=points, clock=clock):
            paused = time.time()
            if clock["setup"] is None:  # the first evaluation comes before the first step
                clock["setup"] = paused - clock["start"]
                clock["start"] = paused
            scores = evaluate_model(encoder_of(student), tokenizer, quality_config, data,
                                    log=lambda *_: None)
            seconds = paused - clock["start"] - clock["paused"]
            point = {"stage": stage, "phase": phase, "step": total, "seconds": seconds,
                     "scores": scores, "mean": _mean(scores)}
            points.append(point)
            print(_row(init, point), flush=True)
            clock["paused"] += time.time() - paused

        print(f"== {init}: {config.output_dir}", flush=True)
        run_distillation(config, verbose=False, log=lambda *_: None, on_evaluate=score)
        results[init] = points
        print(f"   set-up before the first step: {clock['setup'] or 0:.0f} s", flush=True)

    print("\n| init | stage | step | train seconds | mean yardstick | scores |")
    print("|---|---|---|---|---|---|")
    for init, points in results.items():
        for point in points:
            print(_row(init, point))
    finals = {init: max(p["mean"] for p in points) for init, points in results.items() if points}
    if finals:
        target_init = min(finals, key=finals.get)
        target = finals[target_init]
        print(f"\nTime to the best score of {target_init} ({target:.3f}):")
        reached = {}
        for init, points in results.items():
            point = _first_reaching(points, target)
            reached[init] = point
            print(f"  {init}: " + ("never" if point is None else
                                   f"step {point['step']}, {point['seconds']:.0f} s"))
        slow = reached.get(target_init)
        for init, point in reached.items():
            if init != target_init and point is not None and point["step"] == 0:
                print(f"  {init} starts above it: no training needed")
            elif init != target_init and point is not None and slow and slow["step"] > 0:
                print(f"  {init} needs {point['step'] / slow['step']:.2f}x the steps and "
                      f"{point['seconds'] / max(slow['seconds'], 1e-9):.2f}x the training time "
                      f"of {target_init}")
    os.makedirs(FLAGS.benchmark_dir, exist_ok=True)
    with open(os.path.join(FLAGS.benchmark_dir, "time_to_quality.json"), "w",
              encoding="utf-8") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    run(main)
