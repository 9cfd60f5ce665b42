"""Settings shared by the distillation loss terms."""
import dataclasses

TOKEN_CHOICES = ("all", "cls")
POOLING_CHOICES = ("mean", "first", "pooled_output")


@dataclasses.dataclass(frozen=True)
class LossSettings:
    """How the loss terms pick and compare teacher and student outputs.

    Args:
        layer_map: teacher-to-student layer map for hidden-state and attention
            losses: "uniform", "top<k>" or explicit "s:t,s:t" pairs (see
            `build_layer_map`).
        tokens: "all" compares every real token (padding masked out); "cls"
            only the first token.
        temperature: softmax temperature of `logits_kl`.
        num_relation_heads: relation heads of the MiniLMv2 relation loss; must
            divide the teacher's and the student's hidden sizes.
        relation_teacher_layer: teacher layer (1-based, negative counts from
            the top) whose Q/K/V the relation loss reads.
        relation_student_layer: the student layer it teaches.
        pooling: sentence vector of the `pooled_*` losses: "mean" of the last
            hidden states over real tokens (what sentence-embedding teachers
            such as all-MiniLM-L6-v2 output), "first" token, or the model's
            "pooled_output".
        project_equal_widths: also learn a projection when teacher and student
            widths are equal (otherwise they are compared directly).
    """

    layer_map: str = "uniform"
    tokens: str = "all"
    temperature: float = 1.0
    num_relation_heads: int = 8
    relation_teacher_layer: int = -1
    relation_student_layer: int = -1
    pooling: str = "mean"
    project_equal_widths: bool = False

    def validate(self):
        if self.tokens not in TOKEN_CHOICES:
            raise ValueError(f"tokens={self.tokens!r} must be one of {list(TOKEN_CHOICES)}.")
        if self.pooling not in POOLING_CHOICES:
            raise ValueError(f"pooling={self.pooling!r} must be one of {list(POOLING_CHOICES)}.")
        if not self.temperature > 0:
            raise ValueError(f"temperature={self.temperature} must be positive.")
        if not isinstance(self.num_relation_heads, int) or self.num_relation_heads < 1:
            raise ValueError(
                f"num_relation_heads={self.num_relation_heads!r} must be a positive integer.")
        for name in ("relation_teacher_layer", "relation_student_layer"):
            if getattr(self, name) == 0:
                raise ValueError(
                    f"{name}=0 is the embeddings output, which has no Q/K/V; use 1..L or "
                    "a negative index from the top.")
        return self

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        return cls(**values).validate()
