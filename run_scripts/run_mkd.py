"""Multi-task distillation (MKD): per-task teachers, or one multi-task teacher, into one
student with a head per task; the shared encoder is saved as a task-agnostic checkpoint.

CPU-sized, offline (teachers fine-tuned from the packaged all-MiniLM-L6-v2):

    python run_scripts/run_mkd.py --flagfile=flags/mkd.cfg --data_dir=../shared/data/glue

A BiLSTM student through the same path: add --student_type=bilstm --student_init=random.
MKD's multi-task teacher (one encoder, a head per task, fine-tuned on the tasks together
with the same --tau sampling, then distilled): add --teacher_mode=multi_task.
Teachers already fine-tuned with run_finetune.py:
--teacher_checkpoints=sst2=outputs/sst2/model.keras,rte=outputs/rte/model.keras
(with --teacher_finetune_epochs=0 every task needs one).
--strategy, --tpu and --precision work as in run_distill.py (the same StageRunner loop).
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from absl import flags  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402
from xtremedistil_tf.etd import StudentInitConfig  # noqa: E402
from xtremedistil_tf.mkd import MKDConfig, run_mkd  # noqa: E402
from xtremedistil_tf.mkd.mkd_config import STUDENT_TYPES, TEACHER_MODES  # noqa: E402
from xtremedistil_tf.utils.cli import check_writable_dir, run  # noqa: E402
from xtremedistil_tf.utils.flag_files import own_flags_text  # noqa: E402

SHAPE_FIELDS = ("num_hidden_layers", "hidden_size", "num_attention_heads", "intermediate_size")

FLAGS = flags.FLAGS
# Shared groups: the same names and meanings as run_distill.py and run_finetune.py.
flags_common.define_data_flags(FLAGS, __name__, max_seq_length=64)
flags_common.define_teacher_flags(FLAGS, __name__, teacher="minilm", finetune_epochs=1)
flags_common.define_student_flags(FLAGS, __name__, student="l6h256", student_init="etd_impt")
flags_common.define_training_flags(FLAGS, __name__, batch_size=32, learning_rate=1e-4,
                                   warmup_ratio=0.1, max_steps=500)
flags_common.define_run_flags(FLAGS, __name__, output_dir="outputs/mkd", seed=42, verbose=1)
flags_common.define_loop_flags(FLAGS, __name__, checkpoint_every=100, log_every=50,
                               global_clipnorm=1.0, teacher_cache="outputs")
flags_common.define_flags(FLAGS, __name__, tasks=["sst2", "mrpc", "rte"],
                          losses="logits_kl:1", temperature=1.0)
# This script's own.
flags.DEFINE_enum("teacher_mode", "per_task", list(TEACHER_MODES),
                  "per_task: one teacher per task; multi_task: one teacher encoder with a head "
                  "per task, fine-tuned on all tasks with --tau sampling (or given in "
                  "--multi_task_teacher).")
flags.DEFINE_list("teacher_checkpoints", [], "task=path pairs of fine-tuned task models; "
                  "missing tasks get --teacher fine-tuned for --teacher_finetune_epochs.")
flags.DEFINE_string("multi_task_teacher", "", "A .keras MultiTaskModel teacher for all tasks "
                    "(with --teacher_mode=multi_task; empty: fine-tune one).")
flags.DEFINE_enum("student_type", "transformer", list(STUDENT_TYPES), "Student architecture.")
for _field in SHAPE_FIELDS:
    flags.DEFINE_integer(f"student_{_field}", 0, f"Override the preset's {_field} (0: keep).")
flags.DEFINE_integer("bilstm_embedding_size", 128, "BiLSTM student embedding width.")
flags.DEFINE_integer("bilstm_hidden_size", 256, "BiLSTM output width (both directions).")
flags.DEFINE_float("tau", 0.5, "Tasks are drawn with probability proportional to size**tau.")
flags.DEFINE_enum("unfreeze", "none", ["none", "gradual"], "Gradual unfreezing: the heads, "
                  "then one encoder layer more at a time, each phase to early stopping on dev.")
flags.DEFINE_integer("eval_every", 0, "Dev evaluation interval (0: at the start and end only); "
                     "the best weights are kept.")
flags.DEFINE_integer("patience", 0, "Early-stopping patience in evaluations (0: never).")


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
                             importance_batches=FLAGS.importance_batches,
                             refit=FLAGS.etd_refit)
    return MKDConfig(
        tasks=tuple(FLAGS.tasks), data_dir=FLAGS.data_dir, data_source=FLAGS.data_source,
        max_seq_length=FLAGS.max_seq_length, max_train_samples=FLAGS.max_train_samples or None,
        max_eval_samples=FLAGS.max_eval_samples or None, teacher=FLAGS.teacher,
        teacher_mode=FLAGS.teacher_mode,
        teacher_checkpoints=_pairs(FLAGS.teacher_checkpoints, "teacher_checkpoints"),
        multi_task_teacher=FLAGS.multi_task_teacher,
        teacher_finetune_epochs=FLAGS.teacher_finetune_epochs,
        teacher_learning_rate=FLAGS.teacher_learning_rate, student_type=FLAGS.student_type,
        student=FLAGS.student, student_overrides=overrides, student_init=init,
        bilstm_embedding_size=FLAGS.bilstm_embedding_size,
        bilstm_hidden_size=FLAGS.bilstm_hidden_size, losses=FLAGS.losses,
        temperature=FLAGS.temperature, tau=FLAGS.tau, max_steps=FLAGS.max_steps,
        batch_size=FLAGS.batch_size, learning_rate=FLAGS.learning_rate,
        warmup_ratio=FLAGS.warmup_ratio, unfreeze=FLAGS.unfreeze, eval_every=FLAGS.eval_every,
        patience=FLAGS.patience, teacher_cache=FLAGS.teacher_cache,
        global_clipnorm=FLAGS.global_clipnorm, checkpoint_every=FLAGS.checkpoint_every,
        strategy=FLAGS.strategy, tpu=FLAGS.tpu, precision=FLAGS.precision, seed=FLAGS.seed,
        output_dir=FLAGS.output_dir, log_every=FLAGS.log_every,
        verbose=FLAGS.verbose).validate()


def main(argv):
    del argv
    config = build_config()
    check_writable_dir(FLAGS.output_dir, "--output_dir")
    run_mkd(config, flags_text=own_flags_text(FLAGS, __name__))


if __name__ == "__main__":
    from xtremedistil_tf.distill.stage_runner import NonFiniteLossError

    run(main, errors=(NonFiniteLossError,))
