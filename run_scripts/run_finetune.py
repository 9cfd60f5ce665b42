"""Fine-tunes an encoder on a downstream task and evaluates it with the official metrics.

Tasks: GLUE (cola, sst2, mrpc, stsb, qqp, mnli, qnli, rte, wnli), user data
(text_classification, text_regression), SQuAD (squad_v1, squad_v2) and NER
(conll2003, conll, wikiann, xtreme_panx). The output folder receives
`results.json`, prediction files, the dev-selected `model.keras` with its
tokenizer, `summary.txt`, `flags.cfg` (replay the run with `--flagfile`) and `config.json`.

Example (SST-2 from the standard GLUE layout):

    python run_scripts/run_finetune.py --flagfile=flags/finetune/glue_sst2.cfg \
        --data_dir=../shared/data/glue --init_checkpoint=path/to/hf_folder \
        --output_dir=outputs/finetune/sst2
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import flags, logging  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.tasks import (  # noqa: E402
    TASKS, FinetuneConfig, TaskConfig, finetune, get_task)
from xtremedistil_tf.tasks.init_checkpoint import (  # noqa: E402
    load_init_checkpoint, resolve_pooling)
from xtremedistil_tf.utils.atomic_io import write_json  # noqa: E402
from xtremedistil_tf.utils.cli import check_writable_dir, run  # noqa: E402
from xtremedistil_tf.utils.flag_files import write_flags_file  # noqa: E402

FLAGS = flags.FLAGS
# Shared groups: the same names and meanings as run_distill.py and run_mkd.py.
flags_common.define_data_flags(FLAGS, __name__, max_seq_length=128)
flags_common.define_training_flags(FLAGS, __name__, batch_size=32, learning_rate=None,
                                   warmup_ratio=0.1, weight_decay=0.01, num_train_epochs=3)
flags_common.define_run_flags(FLAGS, __name__, output_dir=None, seed=0, verbose=1)
flags_common.define_column_flags(FLAGS, __name__, text_column="sentence",
                                 label_column="label")
flags_common.define_flags(FLAGS, __name__, pooling="auto", head_init="random", dropout=None,
                          max_answer_length=30,
                          null_score_threshold=0.0)
# What to run.
flags.DEFINE_enum("task", None, sorted(TASKS), "Task to fine-tune on.")
flags.DEFINE_string("init_checkpoint", None, "HF checkpoint folder, a .keras file (Encoder, "
                    "BiLSTM student such as MKD's encoder.keras, or task model), or a "
                    "fine-tuning output folder holding model.keras.")
flags.DEFINE_string("tokenizer", None, "Tokenizer folder; default: the HF folder, or the "
                    "folder beside the .keras file.")
# Data files.
flags.DEFINE_string("train_file", None, "Training file, overriding the standard name.")
flags.DEFINE_string("eval_file", None, "Dev file, overriding the standard name.")
flags.DEFINE_string("test_file", None, "Test file, overriding the standard name.")
flags.DEFINE_integer("max_test_samples", None, "Predict the first this-many test examples.")
flags.DEFINE_enum("file_format", None, ["tsv", "csv", "jsonl"], "User data format; default: "
                  "from the file extension.")
# QA.
flags.DEFINE_integer("doc_stride", 128, "QA: tokens between the starts of context windows.")
flags.DEFINE_integer("max_query_length", 64, "QA: questions are cut to this many tokens.")
flags.DEFINE_integer("n_best_size", 20, "QA: candidates kept per window and answers kept.")
# NER.
flags.DEFINE_enum("tag_scheme", "auto", ["auto", "IOB2", "BIO", "IOBES"], "NER tag scheme for "
                  "strict entity scoring.")
flags.DEFINE_string("language", "en", "NER language (TFDS wikiann/<language>, PAN-X files).")
# Training.
flags.DEFINE_integer("eval_batch_size", 64, "Prediction batch size.")
flags.DEFINE_float("clipnorm", 1.0, "Clip each gradient's norm (Keras clipnorm, per "
                   "variable; 0: off).")
flags.DEFINE_bool("save_model", True, "Write the dev-selected model as model.keras.")
flags.DEFINE_bool("predict_test", False, "Also predict unlabelled test splits (GLUE).")
flags.mark_flags_as_required(["task", "init_checkpoint", "output_dir"])

_USER_DATA_FLAGS = ("file_format", "text_column", "text_pair_column", "label_column",
                    "has_header")
_QA_FLAGS = ("doc_stride", "max_query_length", "max_answer_length", "n_best_size")


def _given(name):
    """Set to something other than its default: a replayed flags.cfg pins every flag
    at its value, defaults included, and must still pass these rules."""
    return FLAGS[name].present and FLAGS[name].value != FLAGS[name].default


def check_flags():
    """Cross-flag rules, each failing with what to do instead."""
    task = FLAGS.task
    user_data = task in ("text_classification", "text_regression")
    for name in _USER_DATA_FLAGS:
        if _given(name) and not user_data:
            raise ValueError(f"--{name} applies to text_classification/text_regression, not "
                             f"--task={task}; drop it.")
    for name in _QA_FLAGS:
        if _given(name) and not task.startswith("squad"):
            raise ValueError(f"--{name} applies to SQuAD tasks, not --task={task}; drop it.")
    if _given("null_score_threshold") and task != "squad_v2":
        raise ValueError("--null_score_threshold applies to --task=squad_v2 only.")
    if task.startswith("squad") and FLAGS.doc_stride + FLAGS.max_query_length + 4 > \
            FLAGS.max_seq_length:
        logging.warning("--doc_stride=%d is not below the context room of --max_seq_length=%d "
                        "minus --max_query_length=%d, so windows may not overlap and answers "
                        "on a window border get cut; lower --doc_stride.", FLAGS.doc_stride,
                        FLAGS.max_seq_length, FLAGS.max_query_length)
    if FLAGS.data_source == "tfds":
        for name in ("train_file", "eval_file", "test_file"):
            if FLAGS[name].value:
                raise ValueError(f"--{name} reads local files; with --data_source=tfds drop it "
                                 "or use --data_source=local.")
        if user_data:
            raise ValueError(f"--task={task} reads your own files; use --data_source=local.")
    elif not FLAGS.data_dir and not (FLAGS.train_file or FLAGS.eval_file):
        raise ValueError("Give --data_dir (the task's standard layout) or the file flags "
                         "--train_file/--eval_file.")
    if FLAGS.data_dir and FLAGS.data_source == "local" and not os.path.isdir(FLAGS.data_dir):
        raise ValueError(f"--data_dir={FLAGS.data_dir!r} is not a folder.")
    fine_tuned = FLAGS.init_checkpoint.endswith(".keras") or os.path.isfile(
        os.path.join(FLAGS.init_checkpoint, "model.keras"))
    if FLAGS.num_train_epochs == 0 and not fine_tuned:
        raise ValueError("--num_train_epochs=0 only evaluates, so --init_checkpoint must be a "
                         "model already fine-tuned on this task (a .keras file or run folder).")


def build_configs():
    """The `(TaskConfig, FinetuneConfig)` the flags describe, validated."""
    task_config = TaskConfig(
        data_dir=FLAGS.data_dir, data_source=FLAGS.data_source, train_file=FLAGS.train_file,
        eval_file=FLAGS.eval_file, test_file=FLAGS.test_file,
        max_seq_length=FLAGS.max_seq_length, max_train_samples=FLAGS.max_train_samples,
        max_eval_samples=FLAGS.max_eval_samples, max_test_samples=FLAGS.max_test_samples,
        seed=FLAGS.seed,
        file_format=FLAGS.file_format, has_header=FLAGS.has_header,
        text_column=FLAGS.text_column, text_pair_column=FLAGS.text_pair_column,
        label_column=FLAGS.label_column, doc_stride=FLAGS.doc_stride,
        max_query_length=FLAGS.max_query_length, max_answer_length=FLAGS.max_answer_length,
        n_best_size=FLAGS.n_best_size, null_score_threshold=FLAGS.null_score_threshold,
        tag_scheme=FLAGS.tag_scheme, language=FLAGS.language).validate()
    finetune_config = FinetuneConfig(
        output_dir=FLAGS.output_dir, num_train_epochs=FLAGS.num_train_epochs,
        learning_rate=FLAGS.learning_rate, batch_size=FLAGS.batch_size,
        eval_batch_size=FLAGS.eval_batch_size, warmup_ratio=FLAGS.warmup_ratio,
        weight_decay=FLAGS.weight_decay,
        clipnorm=FLAGS.clipnorm or None, seed=FLAGS.seed, save_model=FLAGS.save_model,
        predict_test=FLAGS.predict_test, verbose=FLAGS.verbose,
        pooling=resolve_pooling(FLAGS.pooling, FLAGS.init_checkpoint),
        head_init=FLAGS.head_init, dropout=FLAGS.dropout).validate()
    return task_config, finetune_config


def main(argv):
    del argv
    check_flags()
    task_config, finetune_config = build_configs()
    task = get_task(FLAGS.task, task_config)
    check_writable_dir(FLAGS.output_dir, "--output_dir")
    model, tokenizer = load_init_checkpoint(FLAGS.init_checkpoint, FLAGS.tokenizer,
                                            FLAGS.max_seq_length)
    finetune(task, model, tokenizer, finetune_config,
             run_info={"init_checkpoint": FLAGS.init_checkpoint,
                       "tokenizer": FLAGS.tokenizer or "(from the checkpoint)"})
    # Written with the results, so that a run failing on its data leaves an earlier
    # run's files in --output_dir as they were.
    write_flags_file(os.path.join(FLAGS.output_dir, "flags.cfg"), FLAGS, __name__)
    write_json(os.path.join(FLAGS.output_dir, "config.json"),
               {"task": FLAGS.task, "task_config": task_config.to_dict(),
                "finetune_config": finetune_config.to_dict()})


if __name__ == "__main__":
    run(main)
