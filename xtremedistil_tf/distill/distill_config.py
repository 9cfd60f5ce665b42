"""Everything a distillation run needs, checked once before any work starts."""
import dataclasses

from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.evaluation.quality import QualityConfig
from xtremedistil_tf.distill.stage_config import StageConfig
from xtremedistil_tf.etd.student_init_config import PCA_COMPATIBLE_INITS, WORD_EMBEDDING_INITS
from xtremedistil_tf.training.strategy import PRECISIONS, STRATEGIES

STUDENT_INITS = ("random", "teacher_svd", "etd_rand", "etd_impt", "checkpoint")
CACHE_MODES = ("none", "outputs", "all")
CACHE_DTYPES = ("float16", "float32")


@dataclasses.dataclass(frozen=True)
class DistillConfig:
    """A distillation run: task-agnostic, or task transfer when `source_task` is set.

    Task-agnostic: the teacher is an encoder, the transfer data unlabelled text,
    the student an encoder. Task transfer (XtremeDistil): the teacher is a task
    model of `source_task` (given, or fine-tuned first from a base model), the
    training set is the source task's labelled data plus unlabelled
    augmentation, dev is the source task's dev split, and the student is a
    task model with the teacher's head, whose encoder is the universal
    checkpoint.

    Args:
        teacher: HF folder or hub name of the teacher ("minilm" is the packaged
            all-MiniLM-L6-v2). With `source_task`: a task model (HF task folder,
            `.keras` file, or `run_finetune.py` output folder), or a base model
            when `teacher_finetune_epochs` > 0.
        teacher_finetune_epochs: fine-tune the base `teacher` on `source_task`
            for this many epochs first (saved in `<output_dir>/teacher`, reused
            on rerun); 0 takes `teacher` as an already fine-tuned task model.
        teacher_learning_rate: learning rate of that fine-tuning.
        student: an encoder preset name (e.g. "l6h256") built on the teacher's
            vocabulary, or an HF folder to start from.
        student_init: "random"; "teacher_svd": word, position and type
            embeddings from the teacher's, reduced to the student width by SVD
            (as XtremeDistil initialised its students); "etd_rand" / "etd_impt":
            Extract-Then-Distill, every weight sliced from the teacher with units
            chosen at random or by importance (`xtremedistil_tf.etd`);
            "checkpoint": weights from `student_checkpoint`.
        student_checkpoint: HF folder or `.keras` file, for student_init=checkpoint.
        importance_batches: training batches the etd_impt scores are summed over
            (and the refit runs on, with `etd_refit`).
        importance_extra_data: more texts (the `transfer_data` forms, task-agnostic
            runs only) that the etd_impt importance is also scored on and the
            refit also fits, `importance_batches` of each, split as the transfer
            data is; each text's scores are normalised per kind of unit and added
            (`etd.importance.combine_importance`); a text listed twice is loaded
            and scored once and has two shares. Empty: the transfer data alone.
        etd_refit: refit the extracted student's layers to the teacher's by least
            squares before the first stage (`xtremedistil_tf.etd.refit`); only
            with etd_rand / etd_impt, other inits ignore it (so a flagfile that
            sets it still runs with `--student_init=random`).
        word_embedding_init: "student_init" keeps the word embeddings
            `student_init` gave; "pca" replaces them with the teacher's, reduced
            to the student's width by a centred PCA (as XtremeDistil compressed
            them; `xtremedistil_tf.distill.word_embeddings`). Only with a preset
            student and student_init random or teacher_svd (which then puts its
            position and type tables on the same PCA basis): ETD and checkpoint
            students keep weights that read the teacher's selected (or their own)
            hidden dimensions, which PCA coordinates would scramble.
        freeze_word_embedding: keep the word embedding matrix as initialised
            through every stage (not with random word vectors).
        source_task: a classification, regression or token-classification
            (NER) task of the task registry (e.g. "sst2", "mnli", "stsb",
            "conll2003", "wikiann"); "" for task-agnostic distillation.
        data_dir, data_source: where the source task's data is ("local" files
            in the glue_data layout or CoNLL files, or "tfds").
        transfer_data: unlabelled text: a `.txt` file (one text per line), a
            `.tsv` (text, optional second text, optional integer label),
            "builtin:python_docs" (English prose shipped with CPython),
            "builtin:wikipedia" (the English Wikipedia excerpt gensim ships),
            "builtin:wikipedia_pairs" (sentence pairs mined from it by word
            overlap, `overlap_pairs`), "builtin:wikipedia_mixed" (both,
            alternating), "builtin:wikipedia_graded_pairs" (the mined pairs
            plus pairs within and across articles, `graded_pairs`: for
            `pair_score`), "builtin:wikipedia_passages_graded_pairs" (passages
            and graded pairs alternating), or
            "tfds:<name>/<config>:<split>:<text feature>[,<feature2>]". With
            `source_task` it is the augmentation text.
        pair_data: text pairs (the `transfer_data` forms, every row two texts, e.g.
            "builtin:wikipedia_graded_pairs") for a stage whose losses all read
            pairs (`pair_score`): it trains on these rows and keeps its best
            weights on their dev split, while the other stages read
            `transfer_data`. Capped by `max_train_samples` like the transfer text.
            "" (default): such a stage reads the pairs in `transfer_data`.
        augmentation_examples: task transfer: unlabelled examples made from
            `transfer_data` (sentence pairs for a pair task, whitespace-split
            sentences for NER) added to the source task's (0: none).
        max_train_samples: cap on training examples: the source task's, or
            the transfer texts' when task-agnostic (None: all).
        max_eval_samples: cap on the source task's dev examples (None: all).
        max_seq_length: tokens per example.
        batch_size: global batch size, split evenly over replicas.
        dev_fraction: task-agnostic: share of the transfer data carved off as
            the dev split for early stopping and best-weights selection.
        heldout_examples: task-agnostic: examples carved off for the final
            agreement report (task transfer reports on the source dev split).
        stages: tuple of `StageConfig`, run in order.
        loss_settings: a `LossSettings`.
        seed: seeds initialisation, splits and batch order.
        output_dir: where outputs, checkpoints and logs go.
        save_start: also write the student's starting point (after
            `student_init`, before any step) as an HF folder `hf_start/`.
        checkpoint_every: save every this many steps (0: only at stage ends).
        teacher_cache: "none" runs the teacher live; "outputs" caches
            logits (a tagger's per token, in `teacher_cache_dtype`) and sentence
            vectors; "all" also caches per-token outputs the stages read
            (hidden states, Q/K/V, ...).
        teacher_cache_dtype: storage type of cached per-token outputs.
        teacher_cache_dir: cache folder ("" means `<output_dir>/teacher_cache`).
        strategy, tpu: see `build_strategy`.
        precision: one of `PRECISIONS`.
        jit_compile: compile the train step with XLA.
        global_clipnorm: gradient clipping (0: none).
        log_every: TensorBoard logging interval in steps.
        quality: a `QualityConfig`: real labelled tasks the teacher, the
            student's starting point, the distilled student and a random twin
            are scored on (no tasks: not measured).
        select_on_eval_tasks: with `quality` tasks, ship the start instead of
            the distilled student when the start's training-split probes score
            higher (`evaluation.choose_shipped`; dev is never read for it).
    """

    teacher: str = "minilm"
    teacher_finetune_epochs: int = 0
    teacher_learning_rate: float = 5e-5
    student: str = "l6h256"
    student_init: str = "teacher_svd"
    student_checkpoint: str | None = None
    importance_batches: int = 8
    importance_extra_data: tuple = ()
    etd_refit: bool = False
    word_embedding_init: str = "student_init"
    freeze_word_embedding: bool = False
    source_task: str = ""
    data_dir: str = ""
    data_source: str = "local"
    transfer_data: str = "builtin:wikipedia"
    pair_data: str = ""
    augmentation_examples: int = 0
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    max_seq_length: int = 64
    batch_size: int = 32
    dev_fraction: float = 0.05
    heldout_examples: int = 256
    stages: tuple = ()
    loss_settings: LossSettings = LossSettings()
    seed: int = 42
    output_dir: str = "outputs/distill"
    save_start: bool = False
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
    quality: QualityConfig = QualityConfig()
    select_on_eval_tasks: bool = True

    def validate(self):
        choices = (("student_init", STUDENT_INITS),
                   ("word_embedding_init", WORD_EMBEDDING_INITS), ("teacher_cache", CACHE_MODES),
                   ("teacher_cache_dtype", CACHE_DTYPES), ("strategy", STRATEGIES),
                   ("precision", PRECISIONS))
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r} must be one of {list(allowed)}.")
        cache_root = self.teacher_cache_dir or self.output_dir
        if self.teacher_cache != "none" and "://" in cache_root:
            raise ValueError(
                f"teacher_cache={self.teacher_cache!r} needs a local folder, but the cache would "
                f"go to {cache_root!r}; set teacher_cache_dir to a local path (or "
                "teacher_cache=none).")
        for name in ("max_seq_length", "batch_size", "importance_batches"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}={getattr(self, name)} must be at least 1.")
        for name in ("max_train_samples", "max_eval_samples"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name}={value} must be positive, or None for all.")
        self._validate_task()
        for name in ("heldout_examples", "checkpoint_every", "log_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must not be negative.")
        if (self.student_init == "checkpoint") != bool(self.student_checkpoint):
            raise ValueError(
                f"student_init={self.student_init!r} with student_checkpoint="
                f"{self.student_checkpoint!r}: give --student_checkpoint exactly when "
                "--student_init=checkpoint.")
        self._validate_word_embedding()
        if not 0 <= self.dev_fraction < 0.5:
            raise ValueError(f"dev_fraction={self.dev_fraction} must be in [0, 0.5).")
        if not self.stages:
            raise ValueError("stages is empty; name at least one stage, e.g. representation.")
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stages={names} repeats a name; each stage may run once.")
        for stage in self.stages:
            stage.validate()
            if stage.eval_every and self.dev_fraction == 0 and not self.source_task:
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
        self.quality.validate()
        return self

    def _validate_word_embedding(self):
        from xtremedistil_tf.models import PRESETS

        if self.word_embedding_init == "pca":
            if self.student not in PRESETS:
                raise ValueError(
                    f"word_embedding_init='pca' with student={self.student!r}: a student folder's "
                    "layers were trained on its own word embeddings; use a preset student "
                    "(e.g. l6h256) or word_embedding_init=student_init.")
            if self.student_init not in PCA_COMPATIBLE_INITS:
                raise ValueError(
                    f"word_embedding_init='pca' with student_init={self.student_init!r}: PCA "
                    "coordinates do not match the hidden dimensions the other "
                    f"{self.student_init} weights expect; use student_init="
                    f"{' or '.join(PCA_COMPATIBLE_INITS)}, or word_embedding_init=student_init.")
        if (self.freeze_word_embedding and self.student_init == "random"
                and self.word_embedding_init == "student_init" and self.student in PRESETS):
            raise ValueError(
                "freeze_word_embedding with student_init='random' would keep random word "
                "vectors untrained; add word_embedding_init=pca or use another student_init.")

    def _validate_task(self):
        if not self.source_task:
            for name, default in (("teacher_finetune_epochs", 0), ("augmentation_examples", 0),
                                  ("max_eval_samples", None)):
                if getattr(self, name) != default:
                    raise ValueError(
                        f"{name}={getattr(self, name)} applies to task transfer only; set "
                        "source_task (e.g. sst2) or drop it.")
            return
        from xtremedistil_tf.tasks.classification_task import ClassificationTask
        from xtremedistil_tf.tasks.ner import NerTask
        from xtremedistil_tf.tasks.registry import TASKS

        if self.source_task not in TASKS:
            raise ValueError(f"source_task={self.source_task!r} is not a task; valid tasks: "
                             f"{sorted(TASKS)}.")
        if not issubclass(TASKS[self.source_task], (ClassificationTask, NerTask)):
            supported = sorted(name for name, cls in TASKS.items()
                               if issubclass(cls, (ClassificationTask, NerTask)))
            raise ValueError(
                f"source_task={self.source_task!r} is not a classification, regression or "
                f"token-classification task; task transfer supports {supported}.")
        if self.data_source not in ("local", "tfds"):
            raise ValueError(f"data_source={self.data_source!r} must be 'local' or 'tfds'.")
        if self.data_source == "local" and not self.data_dir:
            raise ValueError("source_task needs data_dir: the folder of its data (the glue_data "
                             "layout, or CoNLL train.txt/valid.txt for NER), or "
                             "data_source=tfds.")
        for name in ("teacher_finetune_epochs", "augmentation_examples"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)} must not be negative.")
        if not self.teacher_learning_rate > 0:
            raise ValueError(f"teacher_learning_rate={self.teacher_learning_rate} must be > 0.")
        if self.teacher_finetune_epochs and self.strategy == "multi_worker":
            raise ValueError(
                "teacher_finetune_epochs with strategy=multi_worker would fine-tune on every "
                "worker; fine-tune the teacher first (run_scripts/run_finetune.py) and give "
                "it as teacher.")
        if self.pair_data:
            raise ValueError(
                "pair_data applies to task-agnostic runs (with source_task the stages read "
                "the task's rows); drop it.")
        if self.importance_extra_data:
            raise ValueError(
                "importance_extra_data applies to task-agnostic runs (with source_task the "
                "importance is scored on the task's own rows); drop it.")
        if self.augmentation_examples and not self.transfer_data:
            raise ValueError("augmentation_examples > 0 needs transfer_data: the unlabelled text "
                             "the augmentation is made from.")

    def to_dict(self):
        out = dataclasses.asdict(self)
        out["stages"] = [stage.to_dict() for stage in self.stages]
        out["loss_settings"] = self.loss_settings.to_dict()
        out["quality"] = self.quality.to_dict()
        return out

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        values["stages"] = tuple(StageConfig.from_dict(s) for s in values.get("stages", ()))
        values["importance_extra_data"] = tuple(values.get("importance_extra_data", ()))
        values["loss_settings"] = LossSettings.from_dict(values.get("loss_settings", {}))
        quality = dict(values.get("quality", {}))
        quality["tasks"] = tuple(quality.get("tasks", ()))
        values["quality"] = QualityConfig(**quality)
        return cls(**values).validate()
