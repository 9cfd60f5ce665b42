"""ETD-Impt student init under a strategy; test_importance_strategies starts it in a subprocess.

    python -m tests.etd.strategy_worker mirrored|multi_worker OUT.npz

Extracts the same student from the same teacher with no strategy and under each
strategy, for a bare encoder teacher and a classifier teacher, and saves each
student's weights and selection. "mirrored" first splits the CPU into 2 logical
devices, which TensorFlow allows only before it initialises, hence a fresh
process, and runs OneDeviceStrategy and MirroredStrategy on them; "multi_worker"
reads TF_CONFIG.
"""
import contextlib
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def _teacher(teacher_kind, weights):
    from tests.etd.helpers import tiny_teacher
    from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

    model = tiny_teacher()
    if teacher_kind == "classifier":
        model = SequenceClassifier(model, num_labels=3, dropout=0.0)
        model.build()
    if weights is not None:
        model.set_weights(weights)
    return model


def main(kind, out):
    if kind == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        strategies = {"one_device": tf.distribute.OneDeviceStrategy("/cpu:0"),
                      "mirrored": tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])}
    else:
        strategies = {"multi_worker": tf.distribute.MultiWorkerMirroredStrategy()}
    from tests.etd.helpers import SMALL_HEADS, batches, tiny_config
    from xtremedistil_tf.etd import StudentInitConfig, init_student

    data = batches(3, np.random.default_rng(5))
    keras.utils.set_random_seed(3)  # The same teachers on every worker.
    results = {"replicas": np.array(strategies[kind].num_replicas_in_sync)}
    strategies = {"none": None, **strategies}
    for teacher_kind in ("encoder", "classifier"):
        weights = _teacher(teacher_kind, None).get_weights()
        for name, strategy in strategies.items():
            # As in distill_run: the teacher is built, and the student extracted, in scope.
            with strategy.scope() if strategy else contextlib.nullcontext():
                teacher = _teacher(teacher_kind, weights)
                student, info = init_student(
                    StudentInitConfig("etd_impt", importance_batches=2),
                    tiny_config(**SMALL_HEADS), teacher=teacher, batches=data)
            results[f"{teacher_kind}/{name}/selection"] = np.array(json.dumps(info["selection"]))
            for i, w in enumerate(student.get_weights()):
                results[f"{teacher_kind}/{name}/w{i:03d}"] = w
    np.savez(out, **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
