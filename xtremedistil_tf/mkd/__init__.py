"""Multi-task distillation (MKD). Task transfer runs through `run_distill.py`
(`xtremedistil_tf.distill`); `transfer_set` makes its augmentation examples."""
from xtremedistil_tf.mkd.encoder_export import save_encoder
from xtremedistil_tf.mkd.mkd_config import MKDConfig
from xtremedistil_tf.mkd.mkd_runner import run_mkd
from xtremedistil_tf.mkd.multi_task_distiller import MultiTaskDistiller
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel, check_task_names
from xtremedistil_tf.mkd.multi_task_teacher import finetune_multi_task_teacher
from xtremedistil_tf.mkd.single_task_view import SingleTaskView
from xtremedistil_tf.mkd.task_sampler import TaskSampler

__all__ = ["MKDConfig", "MultiTaskDistiller", "MultiTaskModel", "SingleTaskView",
           "TaskSampler", "check_task_names", "finetune_multi_task_teacher", "run_mkd",
           "save_encoder"]
