"""AdamW with linear warmup and linear decay, the BERT fine-tuning recipe."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class WarmupLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Rises linearly from 0 to `peak` over `warmup_steps`, then falls linearly to `end`.

    Args:
        peak: learning rate at the end of warmup.
        total_steps: step at which the rate reaches `end`.
        warmup_steps: length of the warmup.
        end: final learning rate.
    """

    def __init__(self, peak, total_steps, warmup_steps=0, end=0.0):
        if total_steps < 1:
            raise ValueError(f"total_steps={total_steps} must be at least 1.")
        if not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"warmup_steps={warmup_steps} must lie in [0, total_steps={total_steps}].")
        self.peak = float(peak)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.end = float(end)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = self.peak * step / max(self.warmup_steps, 1)
        decay_len = max(self.total_steps - self.warmup_steps, 1)
        frac = ops.clip((step - self.warmup_steps) / decay_len, 0.0, 1.0)
        decayed = self.peak + (self.end - self.peak) * frac
        return ops.where(step < self.warmup_steps, warm, decayed)

    def get_config(self):
        return {"peak": self.peak, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps, "end": self.end}


def create_optimizer(learning_rate, total_steps, warmup_steps=0, weight_decay=0.01,
                     clipnorm=1.0):
    """AdamW on a warmup/linear-decay schedule; LayerNorm and biases are not decayed."""
    schedule = WarmupLinearDecay(learning_rate, total_steps, warmup_steps)
    optimizer = keras.optimizers.AdamW(
        learning_rate=schedule, weight_decay=weight_decay, epsilon=1e-6,
        clipnorm=clipnorm)
    optimizer.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    return optimizer
