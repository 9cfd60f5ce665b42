"""Downstream tasks: GLUE, user text classification, SQuAD and NER fine-tuning."""
from xtremedistil_tf.tasks.finetune_config import FinetuneConfig
from xtremedistil_tf.tasks.finetuning import finetune
from xtremedistil_tf.tasks.registry import TASKS, get_task
from xtremedistil_tf.tasks.task import Task
from xtremedistil_tf.tasks.task_config import TaskConfig

__all__ = ["FinetuneConfig", "TASKS", "Task", "TaskConfig", "finetune", "get_task"]
