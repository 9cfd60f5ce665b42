"""Task transfer: fine-tune a teacher on a source task, distil it over a transfer set,
and save the student's encoder (no head) as a task-agnostic checkpoint.

CPU-sized, offline (packaged all-MiniLM-L6-v2, local GLUE-layout data):

    python run_scripts/run_task_transfer.py --flagfile=flags/task_transfer.cfg \
        --data_dir=../shared/data/glue

Then fine-tune the student on another task:

    python run_scripts/run_finetune.py --flagfile=flags/finetune/glue_mrpc.cfg \
        --data_dir=../shared/data/glue \
        --init_checkpoint=outputs/task_transfer/student_hf --output_dir=outputs/mrpc

The paper recipe (MNLI teacher, TFDS data) is flags/paper/task_transfer_mnli.cfg.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # noqa: E402

from xtremedistil_tf.etd import STUDENT_INIT_CHOICES, StudentInitConfig  # noqa: E402
from xtremedistil_tf.mkd.task_transfer import run_task_transfer  # noqa: E402
from xtremedistil_tf.mkd.task_transfer_config import TaskTransferConfig  # noqa: E402
from xtremedistil_tf.utils.flag_files import write_flags_file  # noqa: E402

SHAPE_FIELDS = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size")

FLAGS = flags.FLAGS
# Source task and data.
flags.DEFINE_string("source_task", "sst2", "Source task (a GLUE-style classification task).")
flags.DEFINE_string("data_dir", "", "Folder with the source task's data (glue_data layout).")
flags.DEFINE_enum("data_source", "local", ["local", "tfds"], "Local files or TFDS.")
flags.DEFINE_integer("max_seq_length", 64, "Tokens per input.")
flags.DEFINE_integer("max_train_samples", None, "Cap on source training examples.")
flags.DEFINE_integer("max_eval_samples", None, "Cap on source dev examples.")
# Teacher.
flags.DEFINE_string("teacher", "minilm", "Base teacher: HF folder, hub name, or 'minilm'.")
flags.DEFINE_string("teacher_checkpoint", "", "A teacher already fine-tuned on the source task "
                    "(model.keras from run_finetune.py); skips fine-tuning.")
flags.DEFINE_integer("teacher_epochs", 1, "Epochs of teacher fine-tuning.")
flags.DEFINE_float("teacher_learning_rate", 5e-5, "Teacher fine-tuning learning rate.")
# Transfer set.
flags.DEFINE_string("augmentation_data", "builtin:python_docs", "Unlabelled text: a .txt "
                    "file, builtin:python_docs or tfds:<name>:<split>:<feature>.")
flags.DEFINE_integer("augmentation_examples", 1000,
                     "Augmentation inputs added to the transfer set.")
# Student.
flags.DEFINE_string("student", "l6h256", "Encoder preset of the student's shape.")
for _field in SHAPE_FIELDS:
    flags.DEFINE_integer(f"student_{_field}", 0, f"Override the preset's {_field} (0: keep).")
flags.DEFINE_enum("student_init", "etd_impt", list(STUDENT_INIT_CHOICES),
                  "Student initialisation: random, Extract-Then-Distill (etd_rand, etd_impt) "
                  "or a checkpoint.")
flags.DEFINE_string("student_checkpoint", "", "HF folder or .keras for --student_init=checkpoint.")
flags.DEFINE_integer("importance_batches", 8, "Batches the ETD-Impt scores are summed over.")
# Distillation.
flags.DEFINE_string("losses", "logits_kl:1,hidden_mse:1", "Loss weights, name:weight,...")
flags.DEFINE_float("temperature", 1.0, "Temperature of logits_kl.")
flags.DEFINE_string("layer_map", "uniform", "Teacher-to-student layer map of hidden losses.")
flags.DEFINE_integer("distill_steps", 500, "Distillation steps.")
flags.DEFINE_integer("batch_size", 32, "Batch size (fine-tuning and distillation).")
flags.DEFINE_float("learning_rate", 1e-4, "Peak distillation learning rate.")
flags.DEFINE_float("warmup_proportion", 0.1, "Share of steps warming the rate up.")
flags.DEFINE_integer("eval_every", 50, "Steps between dev distillation-loss evaluations.")
# Run.
flags.DEFINE_integer("seed", 42, "Random seed.")
flags.DEFINE_string("output_dir", "outputs/task_transfer", "Output folder.")
flags.DEFINE_integer("verbose", 1, "0 silent, 1 progress.")


def build_config():
    overrides = tuple((f, getattr(FLAGS, f"student_{f}")) for f in SHAPE_FIELDS
                      if getattr(FLAGS, f"student_{f}"))
    init = StudentInitConfig(method=FLAGS.student_init, seed=FLAGS.seed,
                             checkpoint=FLAGS.student_checkpoint or None,
                             importance_batches=FLAGS.importance_batches)
    return TaskTransferConfig(
        source_task=FLAGS.source_task, data_dir=FLAGS.data_dir, data_source=FLAGS.data_source,
        max_seq_length=FLAGS.max_seq_length, max_train_samples=FLAGS.max_train_samples,
        max_eval_samples=FLAGS.max_eval_samples, teacher=FLAGS.teacher,
        teacher_checkpoint=FLAGS.teacher_checkpoint, teacher_epochs=FLAGS.teacher_epochs,
        teacher_learning_rate=FLAGS.teacher_learning_rate,
        augmentation_data=FLAGS.augmentation_data,
        augmentation_examples=FLAGS.augmentation_examples, student=FLAGS.student,
        student_overrides=overrides, student_init=init, losses=FLAGS.losses,
        temperature=FLAGS.temperature, layer_map=FLAGS.layer_map,
        distill_steps=FLAGS.distill_steps, batch_size=FLAGS.batch_size,
        learning_rate=FLAGS.learning_rate, warmup_proportion=FLAGS.warmup_proportion,
        eval_every=FLAGS.eval_every, seed=FLAGS.seed, output_dir=FLAGS.output_dir,
        verbose=FLAGS.verbose).validate()


def main(argv):
    del argv
    config = build_config()
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    write_flags_file(os.path.join(FLAGS.output_dir, "flags.cfg"), FLAGS, __name__)
    run_task_transfer(config)


if __name__ == "__main__":
    app.run(main)
