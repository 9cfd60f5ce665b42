"""Multi-task distillation (MKD) and the task-transfer recipe."""
from xtremedistil_tf.mkd.encoder_export import save_encoder
from xtremedistil_tf.mkd.mkd_config import MKDConfig
from xtremedistil_tf.mkd.mkd_runner import run_mkd
from xtremedistil_tf.mkd.multi_task_distiller import MultiTaskDistiller
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel, check_task_names
from xtremedistil_tf.mkd.single_task_view import SingleTaskView
from xtremedistil_tf.mkd.task_sampler import TaskSampler
from xtremedistil_tf.mkd.task_transfer import run_task_transfer
from xtremedistil_tf.mkd.task_transfer_config import TaskTransferConfig, parse_losses

__all__ = ["MKDConfig", "MultiTaskDistiller", "MultiTaskModel", "SingleTaskView",
           "TaskSampler", "TaskTransferConfig", "check_task_names", "parse_losses", "run_mkd",
           "run_task_transfer", "save_encoder"]
