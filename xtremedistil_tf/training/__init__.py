"""Optimisers, schedules and run bookkeeping shared by distillation and fine-tuning."""
from xtremedistil_tf.training.optimization import WarmupLinearDecay, create_optimizer

__all__ = ["WarmupLinearDecay", "create_optimizer"]
