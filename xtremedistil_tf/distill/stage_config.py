"""One stage of a distillation recipe."""
import dataclasses
import math

from xtremedistil_tf.distill.loss_terms import LOSSES


@dataclasses.dataclass(frozen=True)
class StageConfig:
    """A stage: its own losses, length, learning-rate schedule and unfreezing.

    XtremeDistil ran stages in order: representation (hidden states), then
    logits, then hard labels. Each stage starts a fresh optimiser.

    Args:
        name: label used in logs, metrics and checkpoints.
        losses: tuple of `(loss name, weight)` pairs; names are keys of `LOSSES`.
        steps: number of updates; give this or `epochs`, not both.
        epochs: passes over the training split (fractions allowed).
        learning_rate: peak rate of the warmup/linear-decay schedule.
        warmup_fraction: share of the steps spent warming up, in [0, 1).
        weight_decay: AdamW decay (LayerNorm and biases are excluded).
        unfreeze_every: when positive, gradual unfreezing: start with the top
            layer group and add the next lower group every this many steps.
        eval_every: evaluate on the dev split every this many steps (0: only
            at the end of the stage). The best dev loss's weights are kept.
        patience: stop after this many evaluations without improvement (0: never).

    Examples:
    >>> StageConfig("representation", (("hidden_mse", 1.0), ("relation", 1.0)), steps=300)
    """

    name: str
    losses: tuple
    steps: int = 0
    epochs: float = 0.0
    learning_rate: float = 1e-4
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    unfreeze_every: int = 0
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
        if bool(self.steps) == bool(self.epochs):
            raise ValueError(
                f"{where}: give exactly one of steps (now {self.steps}) and epochs "
                f"(now {self.epochs}); set the other to 0.")
        if self.steps < 0 or self.epochs < 0:
            raise ValueError(f"{where}: steps and epochs must not be negative.")
        if not self.learning_rate > 0:
            raise ValueError(f"{where}: learning_rate={self.learning_rate} must be positive.")
        if not 0 <= self.warmup_fraction < 1:
            raise ValueError(f"{where}: warmup_fraction={self.warmup_fraction} must be in [0, 1).")
        for name in ("unfreeze_every", "eval_every", "patience"):
            if getattr(self, name) < 0:
                raise ValueError(f"{where}: {name}={getattr(self, name)} must not be negative.")
        if self.patience and not self.eval_every:
            raise ValueError(
                f"{where}: patience={self.patience} needs eval_every > 0 to evaluate during "
                "the stage.")
        return self

    def total_steps(self, num_examples, batch_size):
        if self.steps:
            return int(self.steps)
        return max(1, math.ceil(self.epochs * num_examples / batch_size))

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
