"""Builds the tf.distribute strategy and the precision policy a run asks for."""
import json
import os

import keras
import tensorflow as tf

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def _tf_config_workers():
    try:
        config = json.loads(os.environ.get("TF_CONFIG", "") or "{}")
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON ({error}); fix the variable.") from None
    return len(config.get("cluster", {}).get("worker", []))


def resolve_strategy_name(name, tpu=""):
    """What "auto" means here: TPU if an address is given, then TF_CONFIG, then GPUs."""
    if name not in STRATEGIES:
        raise ValueError(f"strategy={name!r} is not one of {list(STRATEGIES)}.")
    if name != "auto":
        return name
    if tpu:
        return "tpu"
    if _tf_config_workers() > 1:
        return "multi_worker"
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return "mirrored"
    return "one_device"


def build_strategy(name="auto", tpu=""):
    """Returns a `tf.distribute.Strategy`.

    Args:
        name: one of `STRATEGIES`. "multi_worker" reads the cluster from the
            `TF_CONFIG` environment variable, as every worker must.
        tpu: TPU address or name for "tpu" ("" means a TPU VM's local TPU).
    """
    name = resolve_strategy_name(name, tpu)
    if name == "one_device":
        device = "/gpu:0" if tf.config.list_logical_devices("GPU") else "/cpu:0"
        return tf.distribute.OneDeviceStrategy(device)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError(
                "strategy=multi_worker needs TF_CONFIG describing the cluster and this "
                "worker's index on every worker; set it, or use strategy=mirrored on one "
                "machine.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or None)
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def is_chief(strategy):
    """Whether this worker writes outputs (the only worker, or worker 0 of a cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type is None or task_type == "chief" or (task_type == "worker" and task_id == 0)


def set_precision(precision):
    """Sets the global Keras dtype policy; models built afterwards follow it."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not one of {list(PRECISIONS)}.")
    keras.mixed_precision.set_dtype_policy(precision)
