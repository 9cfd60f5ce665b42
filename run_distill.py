"""Distil a teacher encoder into a small student.

    python run_distill.py --flagfile=flags/l6h256.cfg

With no network this distils the packaged all-MiniLM-L6-v2 into a 6-layer,
256-wide student on English prose shipped with Python, in about 10 minutes on
2 CPU cores. Rerunning the same command after a crash resumes from the last
checkpoint in --output_dir. Paper-scale recipes are in flags/paper/.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

STAGE_NAMES = ("representation", "logits", "labels")

FLAGS = flags.FLAGS
flags.DEFINE_string("teacher", "minilm", "HF folder or hub name of the teacher; 'minilm' is the "
                    "packaged all-MiniLM-L6-v2.")
flags.DEFINE_string("student", "l6h256", "Encoder preset (l6h256, l6h384, l12h384, ...) or HF folder.")
flags.DEFINE_enum("student_init", "teacher_svd",
                  ["random", "teacher_svd", "etd_rand", "etd_impt", "checkpoint"],
                  "Student initialisation: teacher_svd (embeddings from the teacher's by SVD), "
                  "etd_rand / etd_impt (Extract-Then-Distill from the teacher's weights), "
                  "checkpoint (--student_checkpoint) or random.")
flags.DEFINE_string("student_checkpoint", None,
                    "HF folder or .keras file to start the student from (student_init=checkpoint).")
flags.DEFINE_string("transfer_data", "builtin:python_docs",
                    "Transfer text: a .txt/.tsv file, builtin:python_docs or tfds:<name>:<split>:<features>.")
flags.DEFINE_integer("max_examples", 0, "Cap on transfer examples (0: all).")
flags.DEFINE_integer("max_length", 64, "Tokens per example.")
flags.DEFINE_integer("batch_size", 32, "Global batch size.")
flags.DEFINE_float("dev_fraction", 0.05, "Share of the transfer data used as dev split.")
flags.DEFINE_integer("heldout_examples", 256, "Examples held out for the agreement report.")
flags.DEFINE_integer("seed", 42, "Random seed.")
flags.DEFINE_string("output_dir", "outputs/distill", "Output folder (rerun to resume).")
flags.DEFINE_integer("checkpoint_every", 100, "Checkpoint interval in steps (0: stage ends only).")
flags.DEFINE_enum("teacher_cache", "none", ["none", "outputs", "all"],
                  "Cache teacher outputs: none, per-example outputs, or all outputs the stages read.")
flags.DEFINE_enum("teacher_cache_dtype", "float16", ["float16", "float32"],
                  "Storage type of cached per-token teacher outputs.")
flags.DEFINE_string("teacher_cache_dir", "", "Cache folder ('' = <output_dir>/teacher_cache).")
flags.DEFINE_enum("strategy", "auto", ["auto", "one_device", "mirrored", "multi_worker", "tpu"],
                  "tf.distribute strategy.")
flags.DEFINE_string("tpu", "", "TPU address or name for --strategy=tpu.")
flags.DEFINE_enum("precision", "float32", ["float32", "mixed_float16", "mixed_bfloat16"],
                  "Keras dtype policy.")
flags.DEFINE_bool("jit_compile", False, "Compile the train step with XLA.")
flags.DEFINE_float("global_clipnorm", 1.0, "Clip the global gradient norm (0: off).")
flags.DEFINE_integer("log_every", 10, "TensorBoard interval in steps.")
flags.DEFINE_bool("verbose", True, "Show progress bars.")
# Loss settings.
flags.DEFINE_string("layer_map", "uniform", "Teacher-to-student layer map: uniform, top<k> or s:t,s:t.")
flags.DEFINE_enum("tokens", "all", ["all", "cls"], "Hidden-state losses on all tokens or [CLS] only.")
flags.DEFINE_float("temperature", 1.0, "Temperature of logits_kl.")
flags.DEFINE_integer("num_relation_heads", 8, "Relation heads of the MiniLMv2 relation loss.")
flags.DEFINE_integer("relation_teacher_layer", -1, "Teacher layer of the relation loss (-1: top).")
flags.DEFINE_integer("relation_student_layer", -1, "Student layer of the relation loss (-1: top).")
flags.DEFINE_enum("pooling", "mean", ["mean", "first", "pooled_output"],
                  "Sentence vector of the pooled_* losses and the agreement report.")
flags.DEFINE_bool("project_equal_widths", False, "Learn projections even when widths match.")
# Stages.
flags.DEFINE_list("stages", ["representation"], f"Stages to run in order, from {list(STAGE_NAMES)}.")
for _name in STAGE_NAMES:
    flags.DEFINE_string(f"{_name}_losses", "", f"Losses of the {_name} stage: name:weight,...")
    flags.DEFINE_integer(f"{_name}_steps", 0, f"Steps of the {_name} stage (or use epochs).")
    flags.DEFINE_float(f"{_name}_epochs", 0.0, f"Epochs of the {_name} stage (or use steps).")
    flags.DEFINE_float(f"{_name}_learning_rate", 1e-4, f"Peak learning rate of the {_name} stage.")
    flags.DEFINE_float(f"{_name}_warmup_fraction", 0.1, f"Warmup share of the {_name} stage.")
    flags.DEFINE_float(f"{_name}_weight_decay", 0.01, f"AdamW weight decay of the {_name} stage.")
    flags.DEFINE_integer(f"{_name}_unfreeze_every", 0,
                         f"Gradual unfreezing interval of the {_name} stage (0: off).")
    flags.DEFINE_integer(f"{_name}_eval_every", 0, f"Dev evaluation interval of the {_name} stage.")
    flags.DEFINE_integer(f"{_name}_patience", 0, f"Early-stopping patience of the {_name} stage.")


def build_config():
    """The `DistillConfig` the flags describe; ValueError when they contradict each other."""
    from xtremedistil_tf.distill.distill_config import DistillConfig
    from xtremedistil_tf.distill.loss_settings import LossSettings
    from xtremedistil_tf.distill.stage_config import StageConfig, parse_losses

    unknown = [s for s in FLAGS.stages if s not in STAGE_NAMES]
    if unknown:
        raise ValueError(f"--stages names {unknown}; valid stages: {list(STAGE_NAMES)}.")
    stages = []
    for name in FLAGS.stages:
        get = lambda field: FLAGS[f"{name}_{field}"].value  # noqa: E731
        if not get("losses"):
            raise ValueError(f"--stages includes {name!r} but --{name}_losses is empty; give "
                             "name:weight pairs or drop the stage.")
        stages.append(StageConfig(
            name=name, losses=parse_losses(get("losses"), f"--{name}_losses"),
            steps=get("steps"), epochs=get("epochs"), learning_rate=get("learning_rate"),
            warmup_fraction=get("warmup_fraction"), weight_decay=get("weight_decay"),
            unfreeze_every=get("unfreeze_every"), eval_every=get("eval_every"),
            patience=get("patience")))
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
        teacher=FLAGS.teacher, student=FLAGS.student, student_init=FLAGS.student_init,
        student_checkpoint=FLAGS.student_checkpoint,
        transfer_data=FLAGS.transfer_data, max_examples=FLAGS.max_examples,
        max_length=FLAGS.max_length, batch_size=FLAGS.batch_size,
        dev_fraction=FLAGS.dev_fraction, heldout_examples=FLAGS.heldout_examples,
        stages=tuple(stages), loss_settings=settings, seed=FLAGS.seed,
        output_dir=FLAGS.output_dir, checkpoint_every=FLAGS.checkpoint_every,
        teacher_cache=FLAGS.teacher_cache, teacher_cache_dtype=FLAGS.teacher_cache_dtype,
        teacher_cache_dir=FLAGS.teacher_cache_dir, strategy=FLAGS.strategy, tpu=FLAGS.tpu,
        precision=FLAGS.precision, jit_compile=FLAGS.jit_compile,
        global_clipnorm=FLAGS.global_clipnorm, log_every=FLAGS.log_every).validate()


def flags_text():
    """This script's flags as a replayable flagfile."""
    from xtremedistil_tf.utils.flag_files import own_flags_text

    return own_flags_text(FLAGS, __name__)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments {argv[1:]}; flags look like --name=value.")
    from xtremedistil_tf.distill.distill_run import run_distillation
    from xtremedistil_tf.distill.stage_runner import NonFiniteLossError

    try:
        config = build_config()
        run_distillation(config, flags_text=flags_text(), verbose=FLAGS.verbose)
    except (ValueError, NonFiniteLossError) as error:
        print(f"run_distill.py: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    app.run(main)
