"""Distillation throughput: teacher live vs cache, XLA on/off, float32 vs mixed_bfloat16.

    python run_scripts/benchmarks/benchmark_distill.py --teacher=minilm --student=l6h256 \
        --steps=10 --batch_size=32 --max_seq_length=64

`--teacher_modes`, `--jit` and `--precisions` choose the cells (all combinations);
the table ends with each precision's speed over float32 in the same teacher mode.

Each configuration runs in its own process (a dtype policy and peak memory are
per process) through the same StageRunner the real runs use, on the builtin
Python prose. Examples per second exclude the first (tracing) step. Peak memory
is the process's maximum resident set size; "best step" is the fastest single
step's examples per second. A benchmark, not a test.
"""
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from absl import flags  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.utils.cli import run  # noqa: E402

FLAGS = flags.FLAGS
# Shared; --losses must all be cacheable with teacher_cache=all.
flags_common.define_flags(FLAGS, __name__, teacher="minilm", student="l6h256", batch_size=32,
                          max_seq_length=64, losses="hidden_mse:1,pooled_cosine:1")
flags.DEFINE_integer("steps", 10, "Timed steps per configuration (plus one warm-up).")
flags.DEFINE_list("teacher_modes", ["live", "cache"], "Teacher modes to compare.")
flags.DEFINE_list("jit", ["false", "true"], "jit_compile settings to compare.")
flags.DEFINE_list("precisions", ["float32", "mixed_bfloat16"], "Precisions to compare.")
flags.DEFINE_string("single", "", "Internal: run one configuration given as JSON.")


def run_one(setting):
    import numpy as np

    from xtremedistil_tf.distill.distill_config import DistillConfig
    from xtremedistil_tf.distill.distiller import Distiller
    from xtremedistil_tf.distill.stage_config import StageConfig, parse_losses
    from xtremedistil_tf.distill.stage_runner import StageRunner
    from xtremedistil_tf.distill.step_data import ExampleSource
    from xtremedistil_tf.distill.student_builder import build_student, load_teacher
    from xtremedistil_tf.distill.teacher_cache import TeacherCache, fingerprint_variables
    from xtremedistil_tf.distill.transfer_data import python_docs_texts
    from xtremedistil_tf.training.strategy import build_strategy, set_precision

    set_precision(setting["precision"])
    strategy = build_strategy("one_device")
    losses = parse_losses(setting["losses"])
    # precision in the config too: a folder student is loaded in config.precision.
    config = DistillConfig(student=setting["student"], max_seq_length=setting["max_seq_length"],
                           precision=setting["precision"],
                           stages=(StageConfig("bench", losses, max_steps=1),))
    with strategy.scope():
        teacher, tokenizer = load_teacher(setting["teacher"], setting["precision"])
        student, _ = build_student(config, teacher, tokenizer)
        distiller = Distiller(teacher=teacher, student=student, losses=dict(losses),
                              global_clipnorm=1.0)
    batch, steps = setting["batch_size"], setting["steps"] + 1
    texts = python_docs_texts()[:batch * steps]
    inputs = tokenizer(texts, max_length=setting["max_seq_length"], padding="max_length")
    inputs = {k: np.asarray(v, np.int32) for k, v in inputs.items()}
    cache, keys, cache_seconds = None, (), 0.0
    if setting["teacher_mode"] == "cache":
        started = time.perf_counter()
        cache = TeacherCache.build(
            tempfile.mkdtemp(), distiller.teacher_targets, inputs, distiller.teacher_keys,
            fingerprint_variables(teacher.weights), "float16", batch, log=lambda _: None)
        cache_seconds = time.perf_counter() - started
        keys = distiller.teacher_keys
    source = ExampleSource(inputs, np.arange(len(texts)), cache=cache, cache_keys=keys)
    runner = StageRunner(distiller, strategy, jit_compile=setting["jit"], verbose=False)
    stamps = []
    original = runner._step_function

    def timed(train, task=None):
        step = original(train, task)

        def wrapped(data):
            out = step(data)
            float(out[0])
            stamps.append(time.perf_counter())
            return out
        return wrapped

    runner._step_function = timed
    stage = StageConfig("bench", losses, max_steps=steps, learning_rate=1e-4)
    runner.run(stage, 0, source, None, batch, seed=0)
    seconds = stamps[-1] - stamps[0]
    fastest = min(b - a for a, b in zip(stamps, stamps[1:]))
    return {"examples_per_s": batch * (len(stamps) - 1) / seconds,
            "best_step_examples_per_s": batch / fastest,
            "cache_build_s": cache_seconds,
            "student_dtype": distiller.student.compute_dtype,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv):
    del argv
    if FLAGS.single:
        print("RESULT " + json.dumps(run_one(json.loads(FLAGS.single))))
        return
    rows = []
    base = {"teacher": FLAGS.teacher, "student": FLAGS.student, "steps": FLAGS.steps,
            "batch_size": FLAGS.batch_size, "max_seq_length": FLAGS.max_seq_length,
            "losses": FLAGS.losses}
    for mode, jit, precision in itertools.product(FLAGS.teacher_modes, FLAGS.jit,
                                                  FLAGS.precisions):
        setting = dict(base, teacher_mode=mode, jit=jit == "true", precision=precision)
        proc = subprocess.run([sys.executable, __file__, f"--single={json.dumps(setting)}"],
                              capture_output=True, text=True, cwd=ROOT)
        result = next((json.loads(line[len("RESULT "):]) for line in proc.stdout.splitlines()
                       if line.startswith("RESULT ")), None)
        if result is None:
            error = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            result = {"error": error[:60]}
        rows.append((mode, jit, precision, result))
        print(f"done: teacher={mode} jit={jit} precision={precision}", file=sys.stderr)
    print(f"\nDistillation throughput: teacher {FLAGS.teacher}, student {FLAGS.student}, "
          f"batch {FLAGS.batch_size} x {FLAGS.max_seq_length} tokens, {FLAGS.steps} timed steps, "
          f"losses {FLAGS.losses}")
    print(f"{'teacher':8s} {'jit':6s} {'precision':15s} {'examples/s':>11s} "
          f"{'best step':>10s} {'cache build s':>14s} {'peak RSS MB':>12s} {'student computes':>17s}")
    for mode, jit, precision, result in rows:
        if "error" in result:
            print(f"{mode:8s} {jit:6s} {precision:15s} failed: {result['error']}")
            continue
        print(f"{mode:8s} {jit:6s} {precision:15s} {result['examples_per_s']:11.1f} "
              f"{result['best_step_examples_per_s']:10.1f} "
              f"{result['cache_build_s']:14.1f} {result['peak_rss_mb']:12.0f} "
              f"{result['student_dtype']:>17s}")
    print_ratios(rows)


def print_ratios(rows):
    """Each precision's speed over float32's at the same teacher mode and jit.

    Both over all timed steps and over each cell's fastest step, which on a shared
    machine is the less disturbed by other processes.
    """
    speeds = {(mode, jit, precision): result for mode, jit, precision, result in rows
              if "error" not in result}
    lines = []
    for (mode, jit, precision), result in speeds.items():
        base = speeds.get((mode, jit, "float32"))
        if precision == "float32" or base is None:
            continue
        mean = result["examples_per_s"] / base["examples_per_s"]
        best = result["best_step_examples_per_s"] / base["best_step_examples_per_s"]
        lines.append(f"{mode:8s} {jit:6s} {precision:15s} {mean:5.2f}x all steps, "
                     f"{best:5.2f}x fastest step")
    if lines:
        print("\nSpeed over float32 (same teacher mode and jit, same invocation):")
        print("\n".join(lines))


if __name__ == "__main__":
    run(main)
