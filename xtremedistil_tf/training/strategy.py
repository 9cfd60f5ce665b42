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
    cluster = config.get("cluster", {})
    # A "chief" task trains too (Vertex AI's TF_CONFIG has one beside the workers).
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


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
    """Whether this worker writes outputs: the only one, or the cluster's chief.

    The chief is TensorFlow's (`multi_worker_util.is_chief`): the "chief" task
    when `TF_CONFIG` has one (as Vertex AI's does), else worker 0.
    """
    return bool(strategy.extended.should_checkpoint)


def set_precision(precision):
    """Sets the global Keras dtype policy; models built afterwards follow it."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision={precision!r} is not one of {list(PRECISIONS)}.")
    keras.mixed_precision.set_dtype_policy(precision)
