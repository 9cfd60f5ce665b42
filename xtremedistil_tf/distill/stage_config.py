"""One stage of a distillation recipe."""
import dataclasses
import math

from xtremedistil_tf.distill.loss_terms import LOSSES

UNFREEZE_CHOICES = ("none", "gradual")


@dataclasses.dataclass(frozen=True)
class StageConfig:
    """A stage: its own losses, length, learning-rate schedule and unfreezing.

    XtremeDistil ran stages in order: representation (hidden states), then
    logits, then hard labels. Each stage (and each unfreezing phase) starts a
    fresh optimiser. A stage with a dev split evaluates it before its first
    step, every `eval_every` steps and at its end, and keeps the weights of the
    best evaluation; the starting point counts, so a stage that only hurts
    returns the weights it was given.

    Args:
        name: label used in logs, metrics and checkpoints.
        losses: tuple of `(loss name, weight)` pairs; names are keys of `LOSSES`.
        max_steps: number of updates (of each phase when unfreezing gradually);
            give this or `num_train_epochs`, not both.
        num_train_epochs: passes over the training split (fractions allowed),
            again per phase when unfreezing gradually.
        learning_rate: peak rate of the warmup/linear-decay schedule.
        warmup_ratio: share of the steps spent warming up, in [0, 1).
        weight_decay: AdamW decay (LayerNorm and biases are excluded).
        unfreeze: "none" trains every student weight at once; "gradual" runs
            phases: the head alone (with any projections), then one more layer
            group from the top at a time down to the embeddings, each phase
            trained to early stopping on dev, its best weights restored before
            the next.
        eval_every: evaluate on the dev split every this many steps (0: only
            before the first step and at the end).
        patience: stop (a phase) after this many evaluations without
            improvement (0: never).

    Examples:
    >>> StageConfig("representation", (("hidden_mse", 1.0),), max_steps=300)
    >>> StageConfig("logits", (("logits_mse", 1.0),), max_steps=200, unfreeze="gradual",
    ...             eval_every=20, patience=2)
    """

    name: str
    losses: tuple
    max_steps: int = 0
    num_train_epochs: float = 0.0
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    unfreeze: str = "none"
    eval_every: int = 0
    patience: int = 0

    def validate(self):
        where = f"stage {self.name!r}"
        if not self.losses:
            raise ValueError(f"{where}: losses is empty; give name:weight pairs, e.g. hidden_mse:1.")
        for name, weight in self.losses:
            if name not in LOSSES:
                raise ValueError(
                    f"{where}: unknown loss {name!r}; valid losses: {sorted(LOSSES)}.")
            if not weight > 0:
                raise ValueError(f"{where}: weight {weight} of {name!r} must be positive.")
        if bool(self.max_steps) == bool(self.num_train_epochs):
            raise ValueError(
                f"{where}: give exactly one of max_steps (now {self.max_steps}) and "
                f"num_train_epochs (now {self.num_train_epochs}); set the other to 0.")
        if self.max_steps < 0 or self.num_train_epochs < 0:
            raise ValueError(f"{where}: max_steps and num_train_epochs must not be negative.")
        if not self.learning_rate > 0:
            raise ValueError(f"{where}: learning_rate={self.learning_rate} must be positive.")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"{where}: warmup_ratio={self.warmup_ratio} must be in [0, 1).")
        if self.unfreeze not in UNFREEZE_CHOICES:
            raise ValueError(f"{where}: unfreeze={self.unfreeze!r} must be one of "
                             f"{list(UNFREEZE_CHOICES)}.")
        for name in ("eval_every", "patience"):
            if getattr(self, name) < 0:
                raise ValueError(f"{where}: {name}={getattr(self, name)} must not be negative.")
        if self.patience and not self.eval_every:
            raise ValueError(
                f"{where}: patience={self.patience} needs eval_every > 0 to evaluate during "
                "the stage.")
        if self.unfreeze == "gradual" and not self.eval_every:
            raise ValueError(
                f"{where}: unfreeze='gradual' trains each phase to early stopping on dev; "
                "set eval_every > 0 (and patience, e.g. 2).")
        return self

    def total_steps(self, num_examples, batch_size):
        """Updates of the stage, or of each phase when unfreezing gradually."""
        if self.max_steps:
            return int(self.max_steps)
        return max(1, math.ceil(self.num_train_epochs * num_examples / batch_size))

    def to_dict(self):
        out = dataclasses.asdict(self)
        out["losses"] = [list(pair) for pair in self.losses]
        return out

    @classmethod
    def from_dict(cls, values):
        values = dict(values)
        values["losses"] = tuple((n, float(w)) for n, w in values["losses"])
        return cls(**values).validate()


def parse_losses(text, where="losses"):
    """Parses "name:weight,name:weight" (weight defaults to 1) into pairs."""
    pairs = []
    for item in filter(None, (part.strip() for part in str(text).split(","))):
        name, _, weight = item.partition(":")
        try:
            pairs.append((name.strip(), float(weight) if weight else 1.0))
        except ValueError:
            raise ValueError(
                f"{where}={text!r}: weight {weight!r} of {name!r} is not a number; write "
                "name:weight pairs separated by commas.") from None
    return tuple(pairs)
