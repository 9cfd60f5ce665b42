"""Flag groups shared by the entry scripts: one name and one meaning per concept.

The names follow what users know from Hugging Face `TrainingArguments` and
google-research/bert: `max_seq_length`, `learning_rate`, `warmup_ratio`,
`max_steps`, `num_train_epochs`, `max_train_samples`, `output_dir`, `seed`.
A script calls the groups it needs with its own `FLAGS` and `__name__`, then
defines only the flags that are its own. The groups are registered as the
script's key flags, so its replayable `flags.cfg` (`own_flags_text`) lists them.

Nothing here reads flag values: scripts read them and build configs.

Example:

    FLAGS = flags.FLAGS
    flags_common.define_data_flags(FLAGS, __name__, max_seq_length=64)
    flags_common.define_run_flags(FLAGS, __name__, output_dir="outputs/mkd", seed=42)
"""
import sys

from absl import flags

from xtremedistil_tf.etd.student_init_config import STUDENT_INIT_CHOICES


class _Group:
    """Defines flags on `flag_values` once and makes them key flags of the script."""

    def __init__(self, flag_values, module_name):
        self.flag_values = flag_values
        # absl files a script's flags under its path when it runs as __main__.
        self.key = sys.argv[0] if module_name == "__main__" else module_name

    def __call__(self, define, name, default, help, **kwargs):  # noqa: A002
        if name not in self.flag_values:
            define(name=name, default=default, help=help, flag_values=self.flag_values,
                   **kwargs)
        self.flag_values.register_key_flag_for_module(self.key, self.flag_values[name])


def define_data_flags(flag_values, module_name, max_seq_length=128):
    """`--data_dir`, `--data_source`, `--max_seq_length`, `--max_train_samples`,
    `--max_eval_samples`: where a task's data is and how much of it is read."""
    define = _Group(flag_values, module_name)
    define(flags.DEFINE_string, "data_dir", "", "Folder of the task data in its standard "
           "layout (glue_data, a SQuAD or CoNLL folder), or the TFDS data folder.")
    define(flags.DEFINE_enum, "data_source", "local", "Task data: local files or TFDS.",
           enum_values=["local", "tfds"])
    define(flags.DEFINE_integer, "max_seq_length", max_seq_length, "Tokens per input; longer "
           "inputs are truncated (or windowed for QA).")
    define(flags.DEFINE_integer, "max_train_samples", None, "Train on a seeded random subset "
           "of this many examples (unset or 0: all).")
    define(flags.DEFINE_integer, "max_eval_samples", None, "Evaluate on the first this-many "
           "dev examples (unset or 0: all).")


def define_run_flags(flag_values, module_name, output_dir=None, seed=42):
    """`--output_dir` (rerun to resume where the script supports it) and `--seed`."""
    define = _Group(flag_values, module_name)
    define(flags.DEFINE_string, "output_dir", output_dir, "Output folder; the flags of the "
           "run are written into it as flags.cfg.")
    define(flags.DEFINE_integer, "seed", seed, "Random seed.")


def define_training_flags(flag_values, module_name, batch_size=32, learning_rate=None,
                          warmup_ratio=None, num_train_epochs=None, max_steps=None):
    """`--batch_size`, and `--learning_rate`, `--warmup_ratio`, `--num_train_epochs`,
    `--max_steps` for those whose default is given (a script with per-stage
    schedules defines its own, prefixed)."""
    define = _Group(flag_values, module_name)
    define(flags.DEFINE_integer, "batch_size", batch_size, "Global training batch size.")
    if learning_rate is not None:
        define(flags.DEFINE_float, "learning_rate", learning_rate, "Peak learning rate.")
    if warmup_ratio is not None:
        define(flags.DEFINE_float, "warmup_ratio", warmup_ratio, "Share of the steps with a "
               "rising learning rate.")
    if num_train_epochs is not None:
        define(flags.DEFINE_integer, "num_train_epochs", num_train_epochs,
               "Passes over the training data.")
    if max_steps is not None:
        define(flags.DEFINE_integer, "max_steps", max_steps, "Training steps.")


def define_teacher_flags(flag_values, module_name, teacher="minilm", finetune_epochs=0):
    """`--teacher`, `--teacher_finetune_epochs`, `--teacher_learning_rate`."""
    define = _Group(flag_values, module_name)
    define(flags.DEFINE_string, "teacher", teacher, "The teacher: an HF folder or hub name "
           "('minilm' is the packaged all-MiniLM-L6-v2), a task model (HF task folder, "
           ".keras, run_finetune.py output folder).")
    define(flags.DEFINE_integer, "teacher_finetune_epochs", finetune_epochs, "Fine-tune a "
           "base --teacher on the task for this many epochs first (kept under --output_dir "
           "and reused on rerun); 0: the teacher is fine-tuned already.")
    define(flags.DEFINE_float, "teacher_learning_rate", 5e-5, "Learning rate of the teacher "
           "fine-tuning.")


def define_student_flags(flag_values, module_name, student="l6h256", student_init="etd_impt",
                         init_choices=STUDENT_INIT_CHOICES):
    """`--student`, `--student_init`, `--student_checkpoint`, `--importance_batches`."""
    define = _Group(flag_values, module_name)
    define(flags.DEFINE_string, "student", student, "Encoder preset of the student (l6h256, "
           "l6h384, l12h384, ...) or an HF folder.")
    define(flags.DEFINE_enum, "student_init", student_init, "Student initialisation: random, "
           "Extract-Then-Distill from the teacher (etd_rand; etd_impt scores units with the "
           "teacher's own loss), checkpoint (--student_checkpoint)"
           + (", teacher_svd (embeddings from the teacher's by SVD)"
              if "teacher_svd" in init_choices else "") + ".",
           enum_values=list(init_choices))
    define(flags.DEFINE_string, "student_checkpoint", None, "HF folder or .keras file to "
           "start the student from (--student_init=checkpoint).")
    define(flags.DEFINE_integer, "importance_batches", 8, "Training batches the ETD-Impt "
           "importance scores are summed over.")
