"""Exports a trained encoder or task model to TF Serving (SavedModel) and LiteRT.

Every artifact is run on a sample and compared with the Keras model before the
export counts as done; the numbers go into
`<output_dir>/<model_name>/reports/<version>/export_report.json`.

Example (a fine-tuned SST-2 classifier, SST-2 dev as the dev sample):

    python run_scripts/run_export.py --model=outputs/finetune/sst2 \
        --output_dir=outputs/export --model_name=sst2 \
        --formats=saved_model,litert_fp32,litert_fp16,litert_int8,litert_int8_full \
        --representative_file=../shared/data/glue/SST-2/train.tsv \
        --dev_file=../shared/data/glue/SST-2/dev.tsv \
        --text_column=sentence --label_column=label
"""
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import flags, logging  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.export import (  # noqa: E402
    DEFAULT_FORMATS, ExportConfig, ExportLayout, export_model, load_model_source)
from xtremedistil_tf.export.export_data import read_export_data  # noqa: E402
from xtremedistil_tf.export.parity import ParityError  # noqa: E402
from xtremedistil_tf.utils.cli import check_writable_dir, run  # noqa: E402
from xtremedistil_tf.utils.flag_files import write_flags_file  # noqa: E402

FLAGS = flags.FLAGS
# Shared: --output_dir is the base folder (the SavedModel goes to
# <output_dir>/<model_name>/<version>/), --max_seq_length the tokens per example of the
# text signatures and LiteRT models.
flags_common.define_flags(FLAGS, __name__, output_dir=None, max_seq_length=128,
                          formats=list(DEFAULT_FORMATS), num_dev_examples=256,
                          max_answer_length=30, null_score_threshold=None,
                          representative_file="", num_representative_examples=100)
flags_common.define_column_flags(FLAGS, __name__, text_column="0", label_column="")
flags.DEFINE_string("model", None, "A .keras file, a fine-tuning or distillation output "
                    "folder, or a Hugging Face folder (exported as a bare encoder).")
flags.DEFINE_bool("overwrite", False, "Replace an existing version.")
flags.DEFINE_string("model_name", "", "Name TF Serving serves the model under; default: "
                    "the --model folder or file name.")
flags.DEFINE_integer("version", None, "Version number; default: one more than the highest "
                     "existing version.")
flags.DEFINE_string("dev_file", "", "Dev examples (labelled or not) for the metric change of "
                    "quantized models; also the parity sample.")
flags.DEFINE_integer("num_parity_examples", 16, "Examples every artifact is compared on.")
flags.DEFINE_float("float32_tolerance", 1e-4, "Largest max-abs difference from Keras a "
                   "float32 artifact may show.")
flags.mark_flags_as_required(["model", "output_dir"])


def _default_name(path):
    base = os.path.basename(os.path.normpath(path))
    base = base[:-len(".keras")] if base.endswith(".keras") else base
    return re.sub(r"[^A-Za-z0-9_.-]", "_", base).lstrip("._-") or "model"


def main(argv):
    del argv
    import tensorflow as tf

    logging.set_verbosity(logging.WARNING)
    tf.get_logger().setLevel("ERROR")
    if FLAGS.representative_file and not os.path.isfile(FLAGS.representative_file):
        raise ValueError(f"--representative_file={FLAGS.representative_file!r} does not exist.")
    if FLAGS.dev_file and not os.path.isfile(FLAGS.dev_file):
        raise ValueError(f"--dev_file={FLAGS.dev_file!r} does not exist.")
    if FLAGS.label_column and not FLAGS.dev_file:
        raise ValueError("--label_column is set but --dev_file is not; labels are read from "
                         "the dev file.")
    config = ExportConfig(
        output_dir=FLAGS.output_dir, model_name=FLAGS.model_name or _default_name(FLAGS.model),
        version=FLAGS.version, formats=tuple(FLAGS.formats), max_seq_length=FLAGS.max_seq_length,
        overwrite=FLAGS.overwrite, float32_tolerance=FLAGS.float32_tolerance,
        num_parity_examples=FLAGS.num_parity_examples,
        num_representative_examples=FLAGS.num_representative_examples,
        num_dev_examples=FLAGS.num_dev_examples,
        max_answer_length=FLAGS.max_answer_length,
        null_score_threshold=FLAGS.null_score_threshold).validate()
    columns = dict(text_column=FLAGS.text_column, text_pair_column=FLAGS.text_pair_column or "",
                   has_header=FLAGS.has_header)
    representative = dev = None
    if FLAGS.representative_file:
        representative = read_export_data(FLAGS.representative_file, **columns,
                                          limit=config.num_representative_examples)
    if FLAGS.dev_file:
        dev = read_export_data(FLAGS.dev_file, **columns, label_column=FLAGS.label_column,
                               limit=config.num_dev_examples)
    # Refuse an unusable output folder or a taken version before loading what may be a
    # large model.
    check_writable_dir(config.output_dir, "--output_dir")
    ExportLayout(config.output_dir, config.model_name, config.version).check_free(
        config.overwrite)
    source = load_model_source(FLAGS.model)
    report = export_model(source.model, config, tokenizer=source.tokenizer,
                          representative_data=representative, dev_data=dev,
                          model_path=source.model_path)
    write_flags_file(os.path.join(os.path.dirname(report["paths"]["report"]), "flags.cfg"),
                     FLAGS, __name__)
    print(summary(report))


def summary(report):
    lines = [f"Exported {report['kind']} {report['model']!r} as {report['model_name']!r} "
             f"version {report['version']}", f"  SavedModel: {report['paths']['saved_model']}",
             f"  LiteRT:     {report['paths']['litert']}",
             f"  Report:     {report['paths']['report']}"]
    dev = report.get("dev_sample")
    metric = f"dev {dev['metric']} (Keras {dev['keras']:.4f})" if dev else "dev metric"
    lines.append(f"  {'artifact':<18}{'MB':>8}{'max|diff|':>12}{'agree':>8}  {metric}")
    for name, art in report["artifacts"].items():
        agree = "-" if art["agreement"] is None else f"{art['agreement']:.3f}"
        dev_text = ("-" if "dev_metric" not in art else
                    f"{art['dev_metric']:.4f} ({art['dev_metric_change']:+.4f})")
        lines.append(f"  {name:<18}{art['size_bytes'] / 1e6:>8.2f}{art['max_abs_diff']:>12.2e}"
                     f"{agree:>8}  {dev_text}")
    return "\n".join(lines)


if __name__ == "__main__":
    run(main, errors=(ParityError,))
