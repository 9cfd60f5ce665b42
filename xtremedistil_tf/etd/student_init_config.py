"""How a student encoder is initialised: `--student_init` and its settings."""
import dataclasses

STUDENT_INIT_CHOICES = ("random", "etd_rand", "etd_impt", "checkpoint")
# `--word_embedding_init`: keep what the student init gave the word embeddings, or
# replace them with the centred PCA of the teacher's (xtremedistil_tf.distill.word_embeddings).
WORD_EMBEDDING_INITS = ("student_init", "pca")
# Student inits whose other weights do not depend on the word embeddings' coordinates.
PCA_COMPATIBLE_INITS = ("random", "teacher_svd")


@dataclasses.dataclass(frozen=True)
class StudentInitConfig:
    """Settings of `init_student`.

    Args:
        method: one of `STUDENT_INIT_CHOICES`: "random" weights; "etd_rand" and
            "etd_impt", Extract-Then-Distill from the teacher with units chosen at
            random or by importance; "checkpoint", weights from `checkpoint`.
        seed: seed of the random unit choice (etd_rand) and of random weights.
        checkpoint: an HF folder or a `.keras` file; only for "checkpoint".
        importance_batches: batches the importance scores are summed over
            (etd_impt), and the refit runs on (`refit`).
        refit: after extraction (etd_rand, etd_impt), refit each student layer to
            its teacher layer by least squares (`etd.refit.refit_student`); the
            other methods extract nothing and ignore it.
    """

    method: str = "random"
    seed: int = 0
    checkpoint: str | None = None
    importance_batches: int = 8
    refit: bool = False

    def validate(self):
        if self.method not in STUDENT_INIT_CHOICES:
            raise ValueError(f"student_init={self.method!r} is not supported; use one of "
                             f"{list(STUDENT_INIT_CHOICES)}.")
        if (self.method == "checkpoint") != bool(self.checkpoint):
            raise ValueError(
                f"student_init={self.method!r} with student_checkpoint={self.checkpoint!r}: "
                "give a checkpoint exactly when student_init='checkpoint'.")
        if not isinstance(self.importance_batches, int) or self.importance_batches < 1:
            raise ValueError(f"importance_batches={self.importance_batches!r} must be a "
                             "positive integer.")
        return self

    def to_dict(self):
        return dataclasses.asdict(self)
