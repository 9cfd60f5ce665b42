"""Everything a distillation run needs, checked once before any work starts."""
import dataclasses

from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.distill.stage_config import StageConfig
from xtremedistil_tf.training.strategy import PRECISIONS, STRATEGIES

STUDENT_INITS = ("random", "teacher_svd", "etd_rand", "etd_impt", "checkpoint")
CACHE_MODES = ("none", "outputs", "all")
CACHE_DTYPES = ("float16", "float32")


@dataclasses.dataclass(frozen=True)
class DistillConfig:
    """A distillation run.

    Args:
        teacher: HF folder or hub name of the teacher ("minilm" is the packaged
            all-MiniLM-L6-v2).
        student: an encoder preset name (e.g. "l6h256") built on the teacher's
            vocabulary, or an HF folder to start from.
        student_init: "random"; "teacher_svd": word, position and type
            embeddings from the teacher's, reduced to the student width by SVD
            (as XtremeDistil initialised its students); "etd_rand" / "etd_impt":
            Extract-Then-Distill, every weight sliced from the teacher with units
            chosen at random or by importance (`xtremedistil_tf.etd`);
            "checkpoint": weights from `student_checkpoint`.
        student_checkpoint: HF folder or `.keras` file, for student_init=checkpoint.
        transfer_data: unlabelled text: a `.txt` file (one text per line), a
            `.tsv` (text, optional second text, optional integer label),
            "builtin:python_docs" (English prose shipped with CPython), or
            "tfds:<name>/<config>:<split>:<text feature>[,<feature2>]".
        max_examples: cap on examples read (0: all).
        max_length: tokens per example.
        batch_size: global batch size, split evenly over replicas.
        dev_fraction: share of the transfer data carved off as the dev split
            for early stopping and best-weights selection.
        heldout_examples: examples carved off for the final agreement report.
        stages: tuple of `StageConfig`, run in order.
        loss_settings: a `LossSettings`.
        seed: seeds initialisation, splits and batch order.
        output_dir: where outputs, checkpoints and logs go.
        checkpoint_every: save every this many steps (0: only at stage ends).
        teacher_cache: "none" runs the teacher live; "outputs" caches
            per-example outputs (logits, sentence vectors); "all" also caches
            per-token outputs the stages read (hidden states, Q/K/V, ...).
        teacher_cache_dtype: storage type of cached per-token outputs.
        teacher_cache_dir: cache folder ("" means `<output_dir>/teacher_cache`).
        strategy, tpu: see `build_strategy`.
        precision: one of `PRECISIONS`.
        jit_compile: compile the train step with XLA.
        global_clipnorm: gradient clipping (0: none).
        log_every: TensorBoard logging interval in steps.
    """

    teacher: str = "minilm"
    student: str = "l6h256"
    student_init: str = "teacher_svd"
    student_checkpoint: str | None = None
    transfer_data: str = "builtin:python_docs"
    max_examples: int = 0
    max_length: int = 64
    batch_size: int = 32
    dev_fraction: float = 0.05
    heldout_examples: int = 256
    stages: tuple = ()
    loss_settings: LossSettings = LossSettings()
    seed: int = 42
    output_dir: str = "outputs/distill"
    checkpoint_every: int = 100
    teacher_cache: str = "none"
    teacher_cache_dtype: str = "float16"
    teacher_cache_dir: str = ""
    strategy: str = "auto"
    tpu: str = ""
    precision: str = "float32"
    jit_compile: bool = False
    global_clipnorm: float = 1.0
    log_every: int = 10

    def validate(self):
        choices = (("student_init", STUDENT_INITS), ("teacher_cache", CACHE_MODES),
                   ("teacher_cache_dtype", CACHE_DTYPES), ("strategy", STRATEGIES),
                   ("precision", PRECISIONS))
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r} must be one of {list(allowed)}.")
        for name in ("max_length", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be at least 1.")
        for name in ("max_examples", "heldout_examples", "checkpoint_every", "log_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must not be negative.")
        if (self.student_init == "checkpoint") != bool(self.student_checkpoint):
            raise ValueError(
                f"student_init={self.student_init!r} with student_checkpoint="
                f"{self.student_checkpoint!r}: give --student_checkpoint exactly when "
                "--student_init=checkpoint.")
        if not 0 <= self.dev_fraction < 0.5:
            raise ValueError(f"dev_fraction={self.dev_fraction} must be in [0, 0.5).")
        if not self.stages:
            raise ValueError("stages is empty; name at least one stage, e.g. representation.")
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stages={names} repeats a name; each stage may run once.")
        for stage in self.stages:
            stage.validate()
            if stage.eval_every and self.dev_fraction == 0:
                raise ValueError(
                    f"stage {stage.name!r} has eval_every={stage.eval_every} but dev_fraction=0 "
                    "leaves no dev split; raise dev_fraction or set eval_every=0.")
        self.loss_settings.validate()
        if self.tpu and self.strategy not in ("auto", "tpu"):
            raise ValueError(
                f"tpu={self.tpu!r} is set but strategy={self.strategy!r}; use strategy=tpu "
                "(or auto), or drop --tpu.")
        if self.strategy == "tpu" and self.precision == "mixed_float16":
            raise ValueError("TPUs compute in bfloat16: use precision=mixed_bfloat16 with strategy=tpu.")
        if self.global_clipnorm < 0:
            raise ValueError(f"global_clipnorm={self.global_clipnorm} must not be negative.")
        if not self.output_dir:
            raise ValueError("output_dir is empty; name a folder for the run's outputs.")
        return self

    def to_dict(self):
        out = dataclasses.asdict(self)
        out["stages"] = [stage.to_dict() for stage in self.stages]
        out["loss_settings"] = self.loss_settings.to_dict()
        return out

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        values["stages"] = tuple(StageConfig.from_dict(s) for s in values.get("stages", ()))
        values["loss_settings"] = LossSettings.from_dict(values.get("loss_settings", {}))
        return cls(**values).validate()
