"""Distil a teacher into a small student: task-agnostic, or task transfer.

    python run_distill.py --flagfile=flags/l6h256.cfg

With no network this distils the packaged all-MiniLM-L6-v2 into a 6-layer,
256-wide student on English prose shipped with Python, in about 10 minutes on
2 CPU cores.

    python run_distill.py --flagfile=flags/task_transfer.cfg --data_dir=../shared/data/glue

XtremeDistil's task transfer: MiniLM fine-tuned on SST-2, then distilled in
three stages (hidden states, logits, hard labels) with gradual unfreezing into
a task student whose encoder is the universal checkpoint (hf_student/).

Rerunning the same command after a crash resumes from the last checkpoint in
--output_dir. Paper-scale recipes are in flags/paper/.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import flags  # noqa: E402

from xtremedistil_tf import flags_common  # noqa: E402

STAGE_NAMES = ("representation", "logits", "pairs", "labels")

FLAGS = flags.FLAGS
# Shared groups: the same names and meanings in every entry script.
flags_common.define_teacher_flags(FLAGS, __name__, teacher="minilm", finetune_epochs=0)
flags_common.define_student_flags(
    FLAGS, __name__, student="l6h256", student_init="teacher_svd",
    init_choices=("random", "teacher_svd", "etd_rand", "etd_impt", "checkpoint"))
flags_common.define_word_embedding_flags(FLAGS, __name__)
flags_common.define_data_flags(FLAGS, __name__, max_seq_length=64)
flags_common.define_training_flags(FLAGS, __name__, batch_size=32)
flags_common.define_run_flags(FLAGS, __name__, output_dir="outputs/distill", seed=42,
                              verbose=1)
flags_common.define_loop_flags(FLAGS, __name__, checkpoint_every=100, log_every=10,
                               global_clipnorm=1.0, teacher_cache="none")
# Quality on real labelled tasks (teacher, start point, result, random twin side by side).
flags_common.define_quality_flags(FLAGS, __name__, eval_tasks=(), eval_max_train_samples=2000)
flags_common.define_flags(FLAGS, __name__, select_on_eval_tasks=True, jit_compile=False,
                          temperature=1.0, pooling="mean")
# Data of this script.
flags.DEFINE_string("source_task", "", "Task transfer: the teacher's task (sst2, mnli, stsb, "
                    "conll2003, wikiann, ...); its labelled data joins the transfer set and its "
                    "dev split scores. Empty: task-agnostic distillation.")
flags.DEFINE_string("transfer_data", "builtin:wikipedia",
                    "Transfer text: a .txt/.tsv file, builtin:python_docs, builtin:wikipedia, "
                    "builtin:wikipedia_pairs, builtin:wikipedia_mixed, "
                    "builtin:wikipedia_graded_pairs, builtin:wikipedia_passages_graded_pairs "
                    "or tfds:<name>:<split>:<features>; the augmentation text with "
                    "--source_task.")
flags.DEFINE_string("pair_data", "", "Text pairs (the --transfer_data forms, two texts per "
                    "row, e.g. builtin:wikipedia_graded_pairs) for a stage whose losses all "
                    "read pairs (pair_score, e.g. --pairs_losses=pair_score:1): it trains and "
                    "keeps its best weights on these; the other stages read --transfer_data. "
                    "Empty: such a stage reads the pairs of --transfer_data.")
flags.DEFINE_list("importance_extra_data", [], "ETD-Impt: more texts (the --transfer_data "
                  "forms) to score the importance and fit --etd_refit on beside the transfer "
                  "data, --importance_batches of each, each text's scores normalised and "
                  "added (a text listed twice has two shares); e.g. builtin:wikipedia_pairs. "
                  "Task-agnostic runs only.")
flags.DEFINE_integer("augmentation_examples", 0, "Task transfer: unlabelled examples made "
                     "from --transfer_data (sentence pairs for a pair task, word-split "
                     "sentences for NER); 0: none.")
flags.DEFINE_float("dev_fraction", 0.05, "Task-agnostic: share of the transfer data used as "
                   "dev split.")
flags.DEFINE_bool("save_start", False, "Also write the student's starting point (after "
                  "--student_init, before any step) as <output_dir>/hf_start, e.g. to "
                  "fine-tune it beside the distilled student.")
flags.DEFINE_integer("heldout_examples", 256, "Task-agnostic: examples held out for the "
                     "agreement report.")
# Teacher cache (--teacher_cache is in the loop group).
flags.DEFINE_enum("teacher_cache_dtype", "float16", ["float16", "float32"],
                  "Storage type of cached per-token teacher outputs.")
flags.DEFINE_string("teacher_cache_dir", "", "Cache folder ('' = <output_dir>/teacher_cache).")
# Loss settings.
flags.DEFINE_string("layer_map", "uniform", "Teacher-to-student layer map: uniform, top<k> "
                    "(k up to the student's layers + 1 reaches its embedding output) or s:t,s:t.")
flags.DEFINE_enum("tokens", "all", ["all", "cls"], "Hidden-state losses on all tokens or [CLS] only.")
flags.DEFINE_integer("num_relation_heads", 8, "Relation heads of the MiniLMv2 relation loss.")
flags.DEFINE_integer("relation_teacher_layer", -1, "Teacher layer of the relation loss (-1: top).")
flags.DEFINE_integer("relation_student_layer", -1, "Student layer of the relation loss (-1: top).")
flags.DEFINE_bool("project_equal_widths", False, "Learn projections even when widths match.")
# Stages.
flags.DEFINE_list("stages", ["representation"], f"Stages to run in order, from {list(STAGE_NAMES)}.")
for _name in STAGE_NAMES:
    flags.DEFINE_string(f"{_name}_losses", "", f"Losses of the {_name} stage: name:weight,...")
    flags.DEFINE_integer(f"{_name}_max_steps", 0,
                         f"Steps of the {_name} stage (of each phase when unfreezing).")
    flags.DEFINE_float(f"{_name}_num_train_epochs", 0.0,
                       f"Epochs of the {_name} stage (of each phase when unfreezing).")
    flags.DEFINE_float(f"{_name}_learning_rate", 1e-4, f"Peak learning rate of the {_name} stage.")
    flags.DEFINE_float(f"{_name}_warmup_ratio", 0.1, f"Warmup share of the {_name} stage.")
    flags.DEFINE_float(f"{_name}_weight_decay", 0.01, f"AdamW weight decay of the {_name} stage.")
    flags.DEFINE_enum(f"{_name}_unfreeze", "none", ["none", "gradual"],
                      f"none, or gradual: the {_name} stage trains the head alone, then one "
                      "layer group more at a time, each phase to early stopping on dev.")
    flags.DEFINE_integer(f"{_name}_eval_every", 0, f"Dev evaluation interval of the {_name} stage "
                         "(0: before the first step and at the end only).")
    flags.DEFINE_integer(f"{_name}_patience", 0, f"Early-stopping patience of the {_name} stage.")

# Flags that only task-agnostic runs read: task transfer uses the source task's dev split.
_AGNOSTIC_ONLY = ("dev_fraction", "heldout_examples")


def build_config():
    """The `DistillConfig` the flags describe; ValueError when they contradict each other."""
    from xtremedistil_tf.distill.distill_config import DistillConfig
    from xtremedistil_tf.distill.loss_settings import LossSettings
    from xtremedistil_tf.distill.stage_config import StageConfig, parse_losses
    from xtremedistil_tf.evaluation.quality import QualityConfig

    unknown = [s for s in FLAGS.stages if s not in STAGE_NAMES]
    if unknown:
        raise ValueError(f"--stages names {unknown}; valid stages: {list(STAGE_NAMES)}.")
    if FLAGS.source_task:
        given = [f"--{name}" for name in _AGNOSTIC_ONLY if FLAGS[name].present]
        if given:
            raise ValueError(f"{given} apply to task-agnostic runs; with --source_task the "
                             "source task's dev split serves for early stopping and reports.")
    stages = []
    for name in FLAGS.stages:
        get = lambda field: FLAGS[f"{name}_{field}"].value  # noqa: E731
        if not get("losses"):
            raise ValueError(f"--stages includes {name!r} but --{name}_losses is empty; give "
                             "name:weight pairs or drop the stage.")
        stages.append(StageConfig(
            name=name, losses=parse_losses(get("losses"), f"--{name}_losses"),
            max_steps=get("max_steps"), num_train_epochs=get("num_train_epochs"),
            learning_rate=get("learning_rate"), warmup_ratio=get("warmup_ratio"),
            weight_decay=get("weight_decay"), unfreeze=get("unfreeze"),
            eval_every=get("eval_every"), patience=get("patience")))
    for name in STAGE_NAMES:
        if name not in FLAGS.stages and FLAGS[f"{name}_losses"].value:
            raise ValueError(f"--{name}_losses is set but {name!r} is not in --stages="
                             f"{','.join(FLAGS.stages)}; add the stage or drop its flags.")
    settings = LossSettings(
        layer_map=FLAGS.layer_map, tokens=FLAGS.tokens, temperature=FLAGS.temperature,
        num_relation_heads=FLAGS.num_relation_heads,
        relation_teacher_layer=FLAGS.relation_teacher_layer,
        relation_student_layer=FLAGS.relation_student_layer, pooling=FLAGS.pooling,
        project_equal_widths=FLAGS.project_equal_widths)
    return DistillConfig(
        teacher=FLAGS.teacher, teacher_finetune_epochs=FLAGS.teacher_finetune_epochs,
        teacher_learning_rate=FLAGS.teacher_learning_rate, student=FLAGS.student,
        student_init=FLAGS.student_init, student_checkpoint=FLAGS.student_checkpoint,
        importance_batches=FLAGS.importance_batches,
        importance_extra_data=tuple(FLAGS.importance_extra_data), etd_refit=FLAGS.etd_refit,
        word_embedding_init=FLAGS.word_embedding_init,
        freeze_word_embedding=FLAGS.freeze_word_embedding,
        source_task=FLAGS.source_task, data_dir=FLAGS.data_dir, data_source=FLAGS.data_source,
        transfer_data=FLAGS.transfer_data, pair_data=FLAGS.pair_data,
        augmentation_examples=FLAGS.augmentation_examples,
        max_train_samples=FLAGS.max_train_samples or None,
        max_eval_samples=FLAGS.max_eval_samples or None, max_seq_length=FLAGS.max_seq_length,
        batch_size=FLAGS.batch_size, dev_fraction=FLAGS.dev_fraction,
        heldout_examples=FLAGS.heldout_examples, save_start=FLAGS.save_start, stages=tuple(stages), loss_settings=settings,
        seed=FLAGS.seed, output_dir=FLAGS.output_dir, checkpoint_every=FLAGS.checkpoint_every,
        teacher_cache=FLAGS.teacher_cache, teacher_cache_dtype=FLAGS.teacher_cache_dtype,
        teacher_cache_dir=FLAGS.teacher_cache_dir, strategy=FLAGS.strategy, tpu=FLAGS.tpu,
        precision=FLAGS.precision, jit_compile=FLAGS.jit_compile,
        global_clipnorm=FLAGS.global_clipnorm, log_every=FLAGS.log_every,
        quality=QualityConfig(
            tasks=tuple(FLAGS.eval_tasks), data_dir=FLAGS.eval_data_dir,
            data_source=FLAGS.eval_data_source, max_train_samples=FLAGS.eval_max_train_samples,
            max_seq_length=FLAGS.max_seq_length, batch_size=max(FLAGS.batch_size, 64),
            seed=FLAGS.seed),
        select_on_eval_tasks=FLAGS.select_on_eval_tasks).validate()


def flags_text():
    """This script's flags as a replayable flagfile."""
    from xtremedistil_tf.utils.flag_files import own_flags_text

    return own_flags_text(FLAGS, __name__)


def main(argv):
    del argv  # cli.run refuses positional arguments
    from xtremedistil_tf.distill.distill_run import run_distillation
    from xtremedistil_tf.utils.cli import check_writable_dir

    config = build_config()
    check_writable_dir(config.output_dir, "--output_dir")
    run_distillation(config, flags_text=flags_text(), verbose=bool(FLAGS.verbose))
    return 0


if __name__ == "__main__":
    from xtremedistil_tf.distill.stage_runner import NonFiniteLossError
    from xtremedistil_tf.utils.cli import run

    run(main, errors=(NonFiniteLossError,))
