"""Settings of a multi-task distillation (MKD) run, checked once up front."""
import dataclasses

from xtremedistil_tf.distill.stage_config import parse_losses
from xtremedistil_tf.etd.student_init_config import StudentInitConfig
from xtremedistil_tf.mkd.multi_task_model import check_task_names
from xtremedistil_tf.training.strategy import PRECISIONS, STRATEGIES

STUDENT_TYPES = ("transformer", "bilstm")
TEACHER_MODES = ("per_task", "multi_task")


@dataclasses.dataclass(frozen=True)
class MKDConfig:
    """Multi-task distillation: teachers into one student with a head per task.

    Args:
        tasks: registry names of classification or regression tasks.
        data_dir, data_source, max_seq_length, max_train_samples,
            max_eval_samples: data of every task (see `TaskConfig`).
        teacher: base teacher (HF folder, hub name, or "minilm"); its tokenizer
            is the student's, and teachers missing below are fine-tuned from it.
        teacher_mode: "per_task" (one teacher per task) or "multi_task" (one
            teacher encoder with a head per task, fine-tuned on the tasks together
            with the same tau sampling, as MKD refines its teacher).
        teacher_checkpoints: (task, path) pairs of fine-tuned task models
            (`model.keras` of `run_finetune.py`), in per_task mode.
        multi_task_teacher: a `.keras` `MultiTaskModel` with a head per task, in
            multi_task mode (empty: fine-tune one from `teacher`).
        teacher_finetune_epochs: epochs to fine-tune a missing teacher (0: a missing
            teacher is an error); a multi-task teacher takes this many passes over
            all tasks' data. Fine-tuned teachers are kept under output_dir and
            reused on rerun.
        teacher_learning_rate: their learning rate.
        student_type: "transformer" (an `Encoder`) or "bilstm".
        student, student_overrides, student_init: the transformer student's
            preset, changed fields and initialisation (ETD extracts it from the
            first task's teacher).
        bilstm_embedding_size, bilstm_hidden_size: the BiLSTM student's shape.
        losses: loss weights per classification task, e.g. "logits_kl:1,labels_ce:0.5".
        temperature: of `logits_kl`.
        tau: tasks are drawn with probability proportional to size**tau.
        max_steps, batch_size, learning_rate, warmup_ratio: training.
        unfreeze, eval_every, patience: as in `StageConfig` (the dev loss is the
            mean over the tasks' dev splits).
        teacher_cache: "outputs" computes each teacher's logits once; "none"
            runs the teachers live.
        global_clipnorm: gradient clipping (0: none).
        checkpoint_every: save every this many steps (a rerun resumes).
        strategy, tpu, precision: as in `DistillConfig` (see `build_strategy`).
        seed, output_dir, log_every, verbose: run settings.
    """

    tasks: tuple = ("sst2", "mrpc", "rte")
    data_dir: str = ""
    data_source: str = "local"
    max_seq_length: int = 64
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    teacher: str = "minilm"
    teacher_mode: str = "per_task"
    teacher_checkpoints: tuple = ()
    multi_task_teacher: str = ""
    teacher_finetune_epochs: int = 1
    teacher_learning_rate: float = 5e-5
    student_type: str = "transformer"
    student: str = "l6h256"
    student_overrides: tuple = ()
    student_init: StudentInitConfig = StudentInitConfig()
    bilstm_embedding_size: int = 128
    bilstm_hidden_size: int = 256
    losses: str = "logits_kl:1"
    temperature: float = 1.0
    tau: float = 0.5
    max_steps: int = 500
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    unfreeze: str = "none"
    eval_every: int = 0
    patience: int = 0
    teacher_cache: str = "outputs"
    global_clipnorm: float = 1.0
    checkpoint_every: int = 100
    strategy: str = "auto"
    tpu: str = ""
    precision: str = "float32"
    seed: int = 42
    output_dir: str = "outputs/mkd"
    log_every: int = 50
    verbose: int = 1

    def validate(self):
        if not self.tasks:
            raise ValueError("tasks is empty; name at least one task, e.g. sst2,mrpc,rte.")
        check_task_names(list(self.tasks))
        check_task_names([task for task, _ in self.teacher_checkpoints])
        unknown = sorted({t for t, _ in self.teacher_checkpoints} - set(self.tasks))
        if unknown:
            raise ValueError(f"teacher_checkpoints name tasks {unknown} that are not in "
                             f"tasks={list(self.tasks)}.")
        if self.teacher_mode not in TEACHER_MODES:
            raise ValueError(f"teacher_mode={self.teacher_mode!r}; use one of "
                             f"{list(TEACHER_MODES)}.")
        if self.multi_task_teacher and self.teacher_checkpoints:
            raise ValueError("Give either multi_task_teacher or teacher_checkpoints, not both.")
        if self.teacher_mode == "multi_task" and self.teacher_checkpoints:
            raise ValueError("teacher_checkpoints are per-task teachers; drop them or use "
                             "teacher_mode=per_task.")
        if self.teacher_mode == "per_task" and self.multi_task_teacher:
            raise ValueError(f"multi_task_teacher={self.multi_task_teacher!r} is a multi-task "
                             "teacher; set teacher_mode=multi_task.")
        if self.teacher_mode == "multi_task" and not self.multi_task_teacher and \
                not self.teacher_finetune_epochs:
            raise ValueError("teacher_mode=multi_task with teacher_finetune_epochs=0 needs a "
                             "multi_task_teacher; give one or set teacher_finetune_epochs >= 1.")
        if self.student_type not in STUDENT_TYPES:
            raise ValueError(f"student_type={self.student_type!r}; use one of "
                             f"{list(STUDENT_TYPES)}.")
        if self.student_type == "bilstm" and self.student_init.method != "random":
            raise ValueError(f"student_init={self.student_init.method!r} needs a transformer "
                             "student; a BiLSTM student starts from random weights.")
        self.student_init.validate()
        if not parse_losses(self.losses, "losses"):
            raise ValueError(f"losses={self.losses!r} names no loss; e.g. "
                             "logits_kl:1,labels_ce:0.1.")
        if not self.data_dir and self.data_source == "local":
            raise ValueError("data_dir is empty; give the folder holding the tasks' data.")
        for name in ("max_steps", "batch_size", "max_seq_length", "bilstm_embedding_size",
                     "bilstm_hidden_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer.")
        if not isinstance(self.teacher_finetune_epochs, int) or self.teacher_finetune_epochs < 0:
            raise ValueError(f"teacher_finetune_epochs={self.teacher_finetune_epochs!r} must be "
                             "an integer >= 0.")
        if not self.tau >= 0:
            raise ValueError(f"tau={self.tau} must be >= 0 (0: uniform over tasks, 1: in "
                             "proportion to their sizes).")
        for name in ("learning_rate", "teacher_learning_rate", "temperature"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)} must be > 0.")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ValueError(f"warmup_ratio={self.warmup_ratio} must be in [0, 1).")
        if self.teacher_cache not in ("none", "outputs"):
            raise ValueError(f"teacher_cache={self.teacher_cache!r} must be 'none' or "
                             "'outputs' (MKD reads the teachers' logits only).")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy={self.strategy!r}; use one of {list(STRATEGIES)}.")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision={self.precision!r}; use one of {list(PRECISIONS)}.")
        if self.tpu and self.strategy not in ("auto", "tpu"):
            raise ValueError(f"tpu={self.tpu!r} is set but strategy={self.strategy!r}; use "
                             "strategy=tpu (or auto), or drop --tpu.")
        if self.strategy == "tpu" and self.precision == "mixed_float16":
            raise ValueError("TPUs compute in bfloat16: use precision=mixed_bfloat16 with "
                             "strategy=tpu.")
        fine_tunes = self.teacher_finetune_epochs and not self.multi_task_teacher and \
            len(self.teacher_checkpoints) < len(self.tasks)
        if fine_tunes and self.strategy == "multi_worker":
            raise ValueError("teacher_finetune_epochs with strategy=multi_worker would "
                             "fine-tune on every worker; fine-tune the teachers first "
                             "(run_finetune.py, or a one-machine MKD run) and give them in "
                             "teacher_checkpoints or multi_task_teacher.")
        for name in ("eval_every", "patience", "checkpoint_every", "global_clipnorm"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must not be negative.")
        return self

    def to_dict(self):
        return dataclasses.asdict(self)
