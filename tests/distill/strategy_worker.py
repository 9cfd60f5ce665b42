"""Runs a few distillation steps under a strategy; the strategy tests start it in a subprocess.

    python -m tests.distill.strategy_worker one_device|mirrored|multi_worker OUT.npz

"mirrored" first splits the CPU into 2 logical devices, which TensorFlow allows
only before it initialises, hence a fresh process. "multi_worker" reads TF_CONFIG.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

STEPS, BATCH = 3, 8


def run(strategy, folder=None):
    """Trains; with `folder`, checkpoints every step (every worker saves, the chief
    writes) and, on the chief, checks that the last checkpoint restores the result."""
    from tests.distill import helpers
    from xtremedistil_tf.distill.distiller import Distiller
    from xtremedistil_tf.distill.stage_config import StageConfig
    from xtremedistil_tf.distill import stage_runner
    from xtremedistil_tf.distill.stage_runner import StageRunner
    from xtremedistil_tf.distill.step_data import ExampleSource

    # Plain SGD: Adam's first steps are sign-like and turn float round-off between
    # device layouts into lr-sized differences, which would hide a real mismatch.
    stage_runner.create_optimizer = lambda lr, *args, **kwargs: keras.optimizers.SGD(lr)
    # Projections stay at their random start: at the least-squares fit, SGD at this
    # rate would overshoot, and the comparison is about the replicas, not the fit.
    stage_runner.fit_projections = lambda *args, **kwargs: []
    keras.utils.set_random_seed(7)
    with strategy.scope():
        teacher, student = helpers.tiny_teacher(), helpers.tiny_student()
        distiller = Distiller(teacher=teacher, student=student,
                              losses={"hidden_mse": 1.0, "relation": 1.0},
                              global_clipnorm=0.5)
    initial = [v.numpy().copy() for v in distiller.student_variables]
    arrays = helpers.token_arrays(32, seed=3)
    source = ExampleSource(arrays, np.arange(32))
    stage = StageConfig("representation", (("hidden_mse", 1.0), ("relation", 1.0)),
                        max_steps=STEPS, learning_rate=0.5, warmup_ratio=0.0)
    losses = []
    from xtremedistil_tf.training.checkpoint_manager import CheckpointManager
    from xtremedistil_tf.training.strategy import is_chief

    chief = is_chief(strategy)
    checkpoints = None if folder is None else CheckpointManager(folder, is_chief=chief)
    runner = StageRunner(distiller, strategy, checkpoints, checkpoint_every=1, verbose=False)
    original = runner._step_function

    def recording(train, task=None):
        step = original(train, task)

        def wrapped(batch):
            total, parts = step(batch)
            losses.append(float(total))
            return total, parts
        return wrapped

    runner._step_function = recording
    runner.run(stage, 0, source, None, BATCH, seed=1)
    final = [v.numpy() for v in distiller.student_variables]
    if checkpoints is not None and chief:
        for variable in distiller.student_variables:
            variable.assign(np.zeros(variable.shape, variable.dtype))
        assert checkpoints.restore(runner._groups())["done"]
        for value, variable in zip(final, distiller.student_variables):
            np.testing.assert_array_equal(value, variable.numpy(), err_msg=variable.path)
    return np.array(losses), final, initial


def main(kind, out):
    if kind == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        results = {}
        for name, strategy in (
                ("one", tf.distribute.OneDeviceStrategy("/cpu:0")),
                ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))):
            losses, weights, initial = run(strategy, f"{out}.{name}_checkpoint")
            results[f"{name}_losses"] = losses
            for i, (w, w0) in enumerate(zip(weights, initial)):
                results[f"{name}_w{i:03d}"] = w
                results[f"{name}_update{i:03d}"] = w - w0
        results["replicas"] = np.array(2)
    elif kind == "one_device":
        losses, weights, _ = run(tf.distribute.OneDeviceStrategy("/cpu:0"))
        results = {"losses": losses, **{f"w{i:03d}": w for i, w in enumerate(weights)}}
    else:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        # One folder shared by the workers, as a gs:// output_dir would be.
        losses, weights, _ = run(strategy, os.path.join(os.path.dirname(out), "checkpoint"))
        results = {"losses": losses, "replicas": np.array(strategy.num_replicas_in_sync),
                   **{f"w{i:03d}": w for i, w in enumerate(weights)}}
    np.savez(out, **results)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
