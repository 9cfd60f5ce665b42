"""Multi-task distillation (MKD): per-task teachers into one student with a head per
task; the shared encoder is saved as a task-agnostic checkpoint.

CPU-sized, offline (teachers fine-tuned from the packaged all-MiniLM-L6-v2):

    python run_scripts/run_mkd.py --flagfile=flags/mkd.cfg --data_dir=../shared/data/glue

A BiLSTM student through the same path: add --student_type=bilstm --student_init=random.
Teachers already fine-tuned with run_finetune.py:
--teacher_checkpoints=sst2=outputs/sst2/model.keras,rte=outputs/rte/model.keras
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import app, flags  # noqa: E402

from xtremedistil_tf.etd import STUDENT_INIT_CHOICES, StudentInitConfig  # noqa: E402
from xtremedistil_tf.mkd import MKDConfig, run_mkd  # noqa: E402
from xtremedistil_tf.mkd.mkd_config import STUDENT_TYPES  # noqa: E402
from xtremedistil_tf.utils.flag_files import write_flags_file  # noqa: E402

SHAPE_FIELDS = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size")

FLAGS = flags.FLAGS
flags.DEFINE_list("tasks", ["sst2", "mrpc", "rte"], "Classification/regression tasks.")
flags.DEFINE_string("data_dir", "", "Folder with the tasks' data (glue_data layout).")
flags.DEFINE_enum("data_source", "local", ["local", "tfds"], "Local files or TFDS.")
flags.DEFINE_integer("max_seq_length", 64, "Tokens per input.")
flags.DEFINE_integer("max_train_samples", None, "Cap on training examples per task.")
flags.DEFINE_integer("max_eval_samples", None, "Cap on dev examples per task.")
# Teachers.
flags.DEFINE_string("teacher", "minilm", "Base teacher (tokenizer, and missing teachers are "
                    "fine-tuned from it): HF folder, hub name or 'minilm'.")
flags.DEFINE_list("teacher_checkpoints", [], "task=path pairs of fine-tuned task models.")
flags.DEFINE_string("multi_task_teacher", "", "A .keras MultiTaskModel teacher for all tasks.")
flags.DEFINE_integer("teacher_epochs", 1, "Epochs to fine-tune a missing teacher (0: error).")
flags.DEFINE_float("teacher_learning_rate", 5e-5, "Teacher fine-tuning learning rate.")
# Student.
flags.DEFINE_enum("student_type", "transformer", list(STUDENT_TYPES), "Student architecture.")
flags.DEFINE_string("student", "l6h256", "Encoder preset of a transformer student.")
for _field in SHAPE_FIELDS:
    flags.DEFINE_integer(f"student_{_field}", 0, f"Override the preset's {_field} (0: keep).")
flags.DEFINE_enum("student_init", "etd_impt", list(STUDENT_INIT_CHOICES),
                  "Transformer student initialisation (ETD uses the first task's teacher).")
flags.DEFINE_string("student_checkpoint", "", "HF folder or .keras for --student_init=checkpoint.")
flags.DEFINE_integer("importance_batches", 8, "Batches the ETD-Impt scores are summed over.")
flags.DEFINE_integer("bilstm_embedding_size", 128, "BiLSTM student embedding width.")
flags.DEFINE_integer("bilstm_hidden_size", 256, "BiLSTM output width (both directions).")
# Training.
flags.DEFINE_string("losses", "logits_kl:1", "Loss weights per task, name:weight,...")
flags.DEFINE_float("temperature", 1.0, "Temperature of logits_kl.")
flags.DEFINE_float("tau", 0.5, "Tasks are drawn with probability proportional to size**tau.")
flags.DEFINE_integer("steps", 500, "Training steps over all tasks.")
flags.DEFINE_integer("batch_size", 32, "Batch size.")
flags.DEFINE_float("learning_rate", 1e-4, "Peak learning rate.")
flags.DEFINE_float("warmup_proportion", 0.1, "Share of steps warming the rate up.")
flags.DEFINE_integer("seed", 42, "Random seed.")
flags.DEFINE_string("output_dir", "outputs/mkd", "Output folder.")
flags.DEFINE_integer("log_every", 50, "Steps between progress lines.")
flags.DEFINE_integer("verbose", 1, "0 silent, 1 progress.")


def _pairs(items, flag):
    out = []
    for item in items:
        task, sep, path = item.partition("=")
        if not sep or not task or not path:
            raise ValueError(f"--{flag} entry {item!r} must look like task=path.")
        out.append((task, path))
    return tuple(out)


def build_config():
    overrides = tuple((f, getattr(FLAGS, f"student_{f}")) for f in SHAPE_FIELDS
                      if getattr(FLAGS, f"student_{f}"))
    init = StudentInitConfig(method=FLAGS.student_init, seed=FLAGS.seed,
                             checkpoint=FLAGS.student_checkpoint or None,
                             importance_batches=FLAGS.importance_batches)
    return MKDConfig(
        tasks=tuple(FLAGS.tasks), data_dir=FLAGS.data_dir, data_source=FLAGS.data_source,
        max_seq_length=FLAGS.max_seq_length, max_train_samples=FLAGS.max_train_samples,
        max_eval_samples=FLAGS.max_eval_samples, teacher=FLAGS.teacher,
        teacher_checkpoints=_pairs(FLAGS.teacher_checkpoints, "teacher_checkpoints"),
        multi_task_teacher=FLAGS.multi_task_teacher, teacher_epochs=FLAGS.teacher_epochs,
        teacher_learning_rate=FLAGS.teacher_learning_rate, student_type=FLAGS.student_type,
        student=FLAGS.student, student_overrides=overrides, student_init=init,
        bilstm_embedding_size=FLAGS.bilstm_embedding_size,
        bilstm_hidden_size=FLAGS.bilstm_hidden_size, losses=FLAGS.losses,
        temperature=FLAGS.temperature, tau=FLAGS.tau, steps=FLAGS.steps,
        batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
        warmup_proportion=FLAGS.warmup_proportion, seed=FLAGS.seed,
        output_dir=FLAGS.output_dir, log_every=FLAGS.log_every,
        verbose=FLAGS.verbose).validate()


def main(argv):
    del argv
    config = build_config()
    os.makedirs(FLAGS.output_dir, exist_ok=True)
    write_flags_file(os.path.join(FLAGS.output_dir, "flags.cfg"), FLAGS, __name__)
    run_mkd(config)


if __name__ == "__main__":
    app.run(main)
