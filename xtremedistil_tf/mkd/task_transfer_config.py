"""Settings of the task-transfer recipe, checked once before any work starts."""
import dataclasses

from xtremedistil_tf.etd.student_init_config import StudentInitConfig


def parse_losses(spec):
    """"logits_kl:1,hidden_mse:0.5" -> {"logits_kl": 1.0, "hidden_mse": 0.5}."""
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, weight = part.partition(":")
        try:
            out[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise ValueError(f"losses={spec!r}: weight {weight!r} of {name!r} is not a "
                             "number; write name:weight pairs, e.g. logits_kl:1,hidden_mse:1.")
    if not out:
        raise ValueError(f"losses={spec!r} names no loss; e.g. logits_kl:1,hidden_mse:1.")
    return out


@dataclasses.dataclass(frozen=True)
class TaskTransferConfig:
    """Task transfer: fine-tune a teacher on a source task, distil it over a transfer
    set into a student, and keep the student's encoder as a task-agnostic checkpoint.

    Args:
        source_task: a task registry name with a classification head ("mnli", "sst2", ...).
        data_dir, data_source: where the source task's data is (see `TaskConfig`).
        max_seq_length: tokens per input.
        max_train_samples, max_eval_samples: caps on the source task's train and
            dev examples (None: all).
        teacher: base teacher, an HF folder or hub name; "minilm" is the packaged
            all-MiniLM-L6-v2.
        teacher_checkpoint: a source-task model already fine-tuned (`model.keras`
            of `run_finetune.py`); when given, the teacher is not fine-tuned again.
        teacher_epochs, teacher_learning_rate: fine-tuning of the teacher.
        augmentation_data: unlabelled text (any `transfer_data` source of
            `run_distill.py`: a .txt file, "builtin:python_docs", "tfds:...").
        augmentation_examples: how many augmentation inputs join the transfer set.
        student: an encoder preset for the student's shape (e.g. "l6h256").
        student_overrides: `EncoderConfig` fields changed from the preset, as a
            tuple of (name, value) pairs (e.g. (("num_hidden_layers", 4),)).
        student_init: a `StudentInitConfig`.
        losses: loss weights for the `Distiller`, e.g. "logits_kl:1,hidden_mse:1".
        temperature: softmax temperature of `logits_kl`.
        layer_map: teacher-to-student layer map of hidden-state losses.
        distill_steps, batch_size, learning_rate, warmup_proportion: distillation.
        eval_every: steps between distillation-loss evaluations on the source dev set.
        seed: seeds fine-tuning, the transfer set and distillation.
        output_dir: where the teacher, the student and the run's records go.
        verbose: 0 silent, 1 progress.
    """

    source_task: str = "sst2"
    data_dir: str = ""
    data_source: str = "local"
    max_seq_length: int = 64
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    teacher: str = "minilm"
    teacher_checkpoint: str = ""
    teacher_epochs: int = 1
    teacher_learning_rate: float = 5e-5
    augmentation_data: str = "builtin:python_docs"
    augmentation_examples: int = 1000
    student: str = "l6h256"
    student_overrides: tuple = ()
    student_init: StudentInitConfig = StudentInitConfig()
    losses: str = "logits_kl:1,hidden_mse:1"
    temperature: float = 1.0
    layer_map: str = "uniform"
    distill_steps: int = 500
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_proportion: float = 0.1
    eval_every: int = 50
    seed: int = 42
    output_dir: str = "outputs/task_transfer"
    verbose: int = 1

    def validate(self):
        self.student_init.validate()
        parse_losses(self.losses)
        if not self.output_dir:
            raise ValueError("output_dir is empty; give a folder for the outputs.")
        if not self.data_dir and self.data_source == "local":
            raise ValueError("data_dir is empty; give the folder of the source task's data "
                             "(the glue_data layout), or data_source='tfds'.")
        positive = ("max_seq_length", "distill_steps", "batch_size", "eval_every")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer.")
        for name in ("teacher_epochs", "augmentation_examples"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}={value!r} must be an integer >= 0.")
        if self.teacher_epochs == 0 and not self.teacher_checkpoint:
            raise ValueError("teacher_epochs=0 with no teacher_checkpoint: the teacher must "
                             "be fine-tuned on the source task, or given fine-tuned.")
        for name in ("learning_rate", "teacher_learning_rate", "temperature"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)} must be > 0.")
        if not 0.0 <= self.warmup_proportion < 1.0:
            raise ValueError(f"warmup_proportion={self.warmup_proportion} must be in [0, 1).")
        return self

    def to_dict(self):
        return dataclasses.asdict(self)
