"""Flag groups shared by the entry scripts: one name and one meaning per concept.

The names follow what users know from Hugging Face `TrainingArguments` and
google-research/bert: `max_seq_length`, `learning_rate`, `warmup_ratio`,
`max_steps`, `num_train_epochs`, `max_train_samples`, `output_dir`, `seed`.
Every shared flag is defined here once (`_SHARED`: name, type, help); a script
calls the groups it needs (or `define_flags` for single ones) with its own
`FLAGS`, `__name__` and defaults, then defines only the flags that are its own
(`tests/test_flag_vocabulary.py` checks that no two scripts define the same
name). The shared flags are registered as the script's key flags, so its
replayable `flags.cfg` (`own_flags_text`) lists them. Old names in
`RENAMED_FLAGS` fail with a message naming the new flag.

Nothing here reads flag values: scripts read them and build configs.

Example:

    FLAGS = flags.FLAGS
    flags_common.define_data_flags(FLAGS, __name__, max_seq_length=64)
    flags_common.define_run_flags(FLAGS, __name__, output_dir="outputs/mkd", seed=42)
    flags_common.define_flags(FLAGS, __name__, temperature=1.0)
"""
import sys

from absl import flags

from xtremedistil_tf.etd.student_init_config import STUDENT_INIT_CHOICES, WORD_EMBEDDING_INITS

_OMIT = object()  # a group's flag left undefined (None is a real default)


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


# One definition per shared flag: name -> (absl definer, help, extra arguments).
# Scripts choose the default; the name, type and meaning are the same everywhere.
_SHARED = {
    # Data.
    "data_dir": (flags.DEFINE_string, "Data folder: a task's data in its standard layout "
                 "(glue_data, a SQuAD or CoNLL folder) or the TFDS data folder; the check scripts "
                 "take the folder holding several (../shared/data).", {}),
    "data_source": (flags.DEFINE_enum, "Task data: local files or TFDS.",
                    {"enum_values": ["local", "tfds"]}),
    "max_seq_length": (flags.DEFINE_integer, "Tokens per input; longer inputs are truncated "
                       "(or windowed for QA).", {}),
    "max_train_samples": (flags.DEFINE_integer, "Train on a seeded random subset of this many "
                          "examples (unset or 0: all).", {}),
    "max_eval_samples": (flags.DEFINE_integer, "Evaluate on the first this-many dev examples "
                         "(unset or 0: all).", {}),
    "tasks": (flags.DEFINE_list, "Task registry names (sst2, mrpc, rte, conll2003, squad_v1, "
              "...).", {}),
    "text_column": (flags.DEFINE_string, "User data: column of the first text (header name "
                    "or index).", {}),
    "text_pair_column": (flags.DEFINE_string, "User data: column of the second text, if any.",
                         {}),
    "label_column": (flags.DEFINE_string, "User data: column of the label (header name or "
                     "index), if any.", {}),
    "has_header": (flags.DEFINE_bool, "User TSV/CSV files start with a header line.", {}),
    "max_answer_length": (flags.DEFINE_integer, "QA: longest answer span in tokens.", {}),
    "null_score_threshold": (flags.DEFINE_float, "SQuAD v2: answer '' when the no-answer "
                             "score beats the best span by more than this (0.0 as BERT and "
                             "HF). run_finetune.py: the headline exact/f1 use it; "
                             "best_exact/best_f1 are tuned on dev. run_export.py: baked into "
                             "the QA signatures; unset, the model always answers (SQuAD v1).",
                             {}),
    # Models and losses.
    "teacher": (flags.DEFINE_string, "The teacher: an HF folder or hub name ('minilm' is the "
                "packaged all-MiniLM-L6-v2), a task model (HF task folder, .keras, "
                "run_finetune.py output folder).", {}),
    "teacher_finetune_epochs": (flags.DEFINE_integer, "Fine-tune a base --teacher on the task "
                                "for this many epochs first (kept under --output_dir and "
                                "reused on rerun); 0: the teacher is fine-tuned already.", {}),
    "teacher_learning_rate": (flags.DEFINE_float, "Learning rate of the teacher fine-tuning.",
                              {}),
    "student": (flags.DEFINE_string, "The student: an encoder preset (l6h256, l6h384, "
                "l12h384, ...) or an HF folder; the benchmark and check scripts also take a "
                ".keras file or an output folder.", {}),
    "student_checkpoint": (flags.DEFINE_string, "HF folder or .keras file to start the "
                           "student from (--student_init=checkpoint).", {}),
    "importance_batches": (flags.DEFINE_integer, "Training batches the ETD-Impt importance "
                           "scores are summed over.", {}),
    "etd_refit": (flags.DEFINE_bool, "After ETD extraction, refit each student layer to its "
                  "teacher layer by least squares on the importance batches (LayerNorms, "
                  "projections, pooler; etd/refit.py). Only with etd_impt/etd_rand; other "
                  "inits ignore it.", {}),
    "word_embedding_init": (flags.DEFINE_enum, "Student word embeddings: student_init (as "
                            "--student_init made them) or pca (the teacher's, reduced to the "
                            "student's width by centred PCA, as XtremeDistil compressed them; "
                            "only with a preset student and --student_init=random or "
                            "teacher_svd, whose position and type tables then take the same "
                            "PCA basis: ETD and checkpoint weights expect other coordinates).",
                            {"enum_values": list(WORD_EMBEDDING_INITS)}),
    "freeze_word_embedding": (flags.DEFINE_bool, "Keep the student's word embedding matrix as "
                              "initialised through every stage (XtremeDistil's "
                              "--freeze_word_embedding); the saved student trains it again "
                              "when fine-tuned.", {}),
    "pooling": (flags.DEFINE_enum, "Sentence vector: the mean of the token vectors, the first "
                "([CLS]) vector, BERT's pooled_output, or auto (run_finetune.py: the pooling "
                "the checkpoint's sentence-transformers files declare, else the pooler).",
                {"enum_values": ["auto", "mean", "first", "pooled_output"]}),
    "dropout": (flags.DEFINE_float, "Rate of every dropout layer of the model while "
                "fine-tuning (embeddings, attention, hidden states, head); unset: the rates the "
                "checkpoint's config gives.", {"lower_bound": 0.0, "upper_bound": 0.99}),
    "head_init": (flags.DEFINE_enum, "A new sentence-level head starts random, or at the "
                  "linear probe of the frozen encoder's pooled vectors on the training set "
                  "(probe: one forward pass, then fine-tuning as usual).",
                  {"enum_values": ["random", "probe"]}),
    "losses": (flags.DEFINE_string, "Loss weights, name:weight,...", {}),
    "temperature": (flags.DEFINE_float, "Temperature T of logits_kl (scaled by T^2).", {}),
    # Optimisation.
    "batch_size": (flags.DEFINE_integer, "Examples per batch (the global batch under a "
                   "distribution strategy).", {}),
    "learning_rate": (flags.DEFINE_float, "Peak learning rate (AdamW, linear warmup and "
                      "decay); unset in run_finetune.py: by the encoder's width, 5e-5 from "
                      "hidden 512 up, 1e-4 below.", {}),
    "warmup_ratio": (flags.DEFINE_float, "Share of the steps with a rising learning rate.", {}),
    "weight_decay": (flags.DEFINE_float, "AdamW weight decay (not on biases and LayerNorm).",
                     {}),
    "num_train_epochs": (flags.DEFINE_integer, "Passes over the training data "
                         "(run_finetune.py: 0 only evaluates a fine-tuned model).", {}),
    "max_steps": (flags.DEFINE_integer, "Training steps.", {}),
    "global_clipnorm": (flags.DEFINE_float, "Clip the global gradient norm (0: off).", {}),
    # The step loop of the distillation recipes (StageRunner).
    "checkpoint_every": (flags.DEFINE_integer, "Checkpoint interval in steps (0: stage ends "
                         "only); rerun the same command to resume.", {}),
    "log_every": (flags.DEFINE_integer, "TensorBoard interval in steps.", {}),
    "teacher_cache": (flags.DEFINE_enum, "Cache teacher outputs: none, logits (per token for "
                      "NER) and sentence vectors, or all outputs the stages read.",
                      {"enum_values": ["none", "outputs", "all"]}),
    "strategy": (flags.DEFINE_enum, "tf.distribute strategy.",
                 {"enum_values": ["auto", "one_device", "mirrored", "multi_worker", "tpu"]}),
    "tpu": (flags.DEFINE_string, "TPU address or name for --strategy=tpu.", {}),
    "precision": (flags.DEFINE_enum, "Keras dtype policy.",
                  {"enum_values": ["float32", "mixed_float16", "mixed_bfloat16"]}),
    "jit_compile": (flags.DEFINE_bool, "Compile the train step with XLA.", {}),
    # Quality on real labelled tasks.
    "eval_tasks": (flags.DEFINE_list, "GLUE classification tasks to score every model on with "
                   "frozen-feature probes (e.g. sst2,mrpc,rte); empty: not measured.", {}),
    "eval_data_dir": (flags.DEFINE_string, "The glue_data folder of --eval_tasks (or the TFDS "
                      "data folder).", {}),
    "eval_data_source": (flags.DEFINE_enum, "Data of --eval_tasks: local files or TFDS.",
                         {"enum_values": ["local", "tfds"]}),
    "eval_max_train_samples": (flags.DEFINE_integer, "Training examples per --eval_tasks "
                               "probe.", {}),
    "select_on_eval_tasks": (flags.DEFINE_bool, "With --eval_tasks, ship the student's start "
                             "instead of the distilled student when the start scores higher on "
                             "the tasks' training-split probes (dev is never used to choose).", {}),
    # Export.
    "formats": (flags.DEFINE_list, "Export formats to write, comma-separated (saved_model, "
                "litert_fp32, litert_fp16, litert_int8, ...; an unknown one is refused with "
                "the list).", {}),
    "num_dev_examples": (flags.DEFINE_integer, "Dev examples the metric change of exported "
                         "models is measured on.", {}),
    "representative_file": (flags.DEFINE_string, "Texts from your data calibrating the "
                            "full-integer LiteRT kinds (litert_int8_full, litert_int16x8): .txt "
                            "(one per line) or .tsv/.csv/.jsonl.", {}),
    "num_representative_examples": (flags.DEFINE_integer, "Calibration examples for the "
                                    "full-integer LiteRT kinds.", {}),
    # Run.
    "output_dir": (flags.DEFINE_string, "Output folder (the entry scripts write the flags of "
                   "the run into it as flags.cfg).", {}),
    "seed": (flags.DEFINE_integer, "Random seed.", {}),
    "verbose": (flags.DEFINE_integer, "0 silent, 1 progress bars, 2 one line per epoch.",
                {"lower_bound": 0, "upper_bound": 2}),
}

# Old names, refused with a message naming the new one (see `utils.cli.run`).
RENAMED_FLAGS = {
    "epochs": "num_train_epochs",
    "num_epochs": "num_train_epochs",
    "train_epochs": "num_train_epochs",
    "warmup_proportion": "warmup_ratio",
    "warmup_fraction": "warmup_ratio",
    "max_seq_len": "max_seq_length",
    "max_length": "max_seq_length",
    "seq_length": "max_seq_length",
    "clip_norm": "global_clipnorm",
    "num_steps": "max_steps",
    "train_steps": "max_steps",
    "lr": "learning_rate",
    "out_dir": "output_dir",
    "model_dir": "output_dir",
}


def shared_flag_names():
    """Every name this module defines."""
    return sorted(_SHARED) + ["student_init"]


def define_flags(flag_values, module_name, **defaults):
    """Defines the shared flags named by `defaults`, each with the script's default.

    Example: `define_flags(FLAGS, __name__, teacher="minilm", batch_size=16)`.
    """
    unknown = sorted(set(defaults) - set(_SHARED))
    if unknown:
        raise ValueError(f"{unknown} are not shared flags; shared: {sorted(_SHARED)}.")
    define = _Group(flag_values, module_name)
    for name, default in defaults.items():
        definer, text, kwargs = _SHARED[name]
        define(definer, name, default, text, **kwargs)


def define_data_flags(flag_values, module_name, max_seq_length=128):
    """`--data_dir`, `--data_source`, `--max_seq_length`, `--max_train_samples`,
    `--max_eval_samples`: where a task's data is and how much of it is read."""
    define_flags(flag_values, module_name, data_dir="", data_source="local",
                 max_seq_length=max_seq_length, max_train_samples=None, max_eval_samples=None)


def define_column_flags(flag_values, module_name, text_column="0", label_column=""):
    """`--text_column`, `--text_pair_column`, `--label_column`, `--has_header`: the
    columns of user TSV/CSV/JSONL files."""
    define_flags(flag_values, module_name, text_column=text_column, text_pair_column=None,
                 label_column=label_column, has_header=True)


def define_run_flags(flag_values, module_name, output_dir=None, seed=42, verbose=_OMIT):
    """`--output_dir` (rerun to resume where the script supports it), `--seed`, and
    `--verbose` when its default is given."""
    define_flags(flag_values, module_name, output_dir=output_dir, seed=seed)
    if verbose is not _OMIT:
        define_flags(flag_values, module_name, verbose=verbose)


def define_training_flags(flag_values, module_name, batch_size=32, learning_rate=_OMIT,
                          warmup_ratio=_OMIT, weight_decay=_OMIT, num_train_epochs=_OMIT,
                          max_steps=_OMIT, global_clipnorm=_OMIT):
    """`--batch_size`, and those of `--learning_rate`, `--warmup_ratio`,
    `--weight_decay`, `--num_train_epochs`, `--max_steps`, `--global_clipnorm` whose
    default is given (a script with per-stage schedules defines its own, prefixed)."""
    given = {name: value for name, value in (
        ("batch_size", batch_size), ("learning_rate", learning_rate),
        ("warmup_ratio", warmup_ratio), ("weight_decay", weight_decay),
        ("num_train_epochs", num_train_epochs), ("max_steps", max_steps),
        ("global_clipnorm", global_clipnorm)) if value is not _OMIT}
    define_flags(flag_values, module_name, **given)


def define_loop_flags(flag_values, module_name, checkpoint_every=100, log_every=10,
                      global_clipnorm=1.0, teacher_cache="none"):
    """The step loop every distillation recipe runs on (`StageRunner`):
    `--checkpoint_every`, `--log_every`, `--global_clipnorm`, `--teacher_cache`,
    `--strategy`, `--tpu`, `--precision`."""
    define_flags(flag_values, module_name, checkpoint_every=checkpoint_every,
                 log_every=log_every, global_clipnorm=global_clipnorm,
                 teacher_cache=teacher_cache, strategy="auto", tpu="", precision="float32")


def define_quality_flags(flag_values, module_name, eval_tasks=(), eval_max_train_samples=2000):
    """`--eval_tasks`, `--eval_data_dir`, `--eval_data_source`, `--eval_max_train_samples`:
    frozen-feature probes on real labelled tasks."""
    define_flags(flag_values, module_name, eval_tasks=list(eval_tasks), eval_data_dir="",
                 eval_data_source="local", eval_max_train_samples=eval_max_train_samples)


def define_teacher_flags(flag_values, module_name, teacher="minilm", finetune_epochs=0,
                         learning_rate=5e-5):
    """`--teacher`, `--teacher_finetune_epochs`, `--teacher_learning_rate`."""
    define_flags(flag_values, module_name, teacher=teacher,
                 teacher_finetune_epochs=finetune_epochs, teacher_learning_rate=learning_rate)


def define_word_embedding_flags(flag_values, module_name, word_embedding_init="student_init",
                                freeze_word_embedding=False):
    """`--word_embedding_init`, `--freeze_word_embedding`: the student's word embeddings
    after `--student_init` (XtremeDistil's compressed, optionally frozen, embeddings)."""
    define_flags(flag_values, module_name, word_embedding_init=word_embedding_init,
                 freeze_word_embedding=freeze_word_embedding)


def define_student_flags(flag_values, module_name, student="l6h256", student_init="etd_impt",
                         init_choices=STUDENT_INIT_CHOICES):
    """`--student`, `--student_init`, `--student_checkpoint`, `--importance_batches`,
    `--etd_refit`."""
    define_flags(flag_values, module_name, student=student, student_checkpoint=None,
                 importance_batches=8, etd_refit=False)
    define = _Group(flag_values, module_name)
    define(flags.DEFINE_enum, "student_init", student_init, "Student initialisation: random, "
           "Extract-Then-Distill from the teacher (etd_rand; etd_impt scores units with the "
           "teacher's own loss), checkpoint (--student_checkpoint)"
           + (", teacher_svd (embeddings from the teacher's by SVD)"
              if "teacher_svd" in init_choices else "") + ".",
           enum_values=list(init_choices))
