"""Stages: early stopping, NaN handling with the last good checkpoint, checkpoints."""
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.distill import helpers
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.stage_config import StageConfig, parse_losses
from xtremedistil_tf.distill.stage_runner import NonFiniteLossError, StageRunner
from xtremedistil_tf.distill.step_data import ExampleSource, StepPlan
from xtremedistil_tf.training.checkpoint_manager import CheckpointManager

LOSSES = (("hidden_mse", 1.0), ("relation", 1.0))


def _setup(tmp_path, **runner_kwargs):
    strategy = tf.distribute.get_strategy()
    distiller = Distiller(teacher=helpers.tiny_teacher(), student=helpers.tiny_student(),
                          losses=dict(LOSSES))
    checkpoints = CheckpointManager(os.path.join(tmp_path, "checkpoint"))
    runner = StageRunner(distiller, strategy, checkpoints, verbose=False, **runner_kwargs)
    source = ExampleSource(helpers.token_arrays(24), np.arange(24))
    dev = ExampleSource(helpers.token_arrays(8, seed=5), np.arange(8))
    return distiller, runner, checkpoints, source, dev


def test_step_plan_is_a_pure_function_of_the_step():
    plan = StepPlan(10, 3, seed=1)
    assert plan.steps_per_epoch == 3
    epoch0 = np.concatenate([plan.indices(s) for s in range(3)])
    assert len(set(epoch0)) == 9
    again = StepPlan(10, 3, seed=1)
    assert np.array_equal(again.indices(4), plan.indices(4))
    assert not np.array_equal(plan.indices(3), plan.indices(0))
    with pytest.raises(ValueError, match="fewer than batch_size"):
        StepPlan(2, 3, seed=1)


def test_stage_runs_and_checkpoints(tmp_path):
    distiller, runner, checkpoints, source, dev = _setup(tmp_path, checkpoint_every=2)
    stage = StageConfig("representation", LOSSES, steps=5, learning_rate=1e-3, eval_every=2)
    history = runner.run(stage, 0, source, dev, batch_size=4, seed=0)
    assert history["last_step"] == 5 and history["total_steps"] == 5
    assert [e["step"] for e in history["dev"]] == [2, 4, 5]
    assert set(history["train"]) == {"loss", "hidden_mse", "relation"}
    state = checkpoints.read_state()
    assert state["done"] and state["step"] == 5
    stored = checkpoints.read_group("model")
    for value, variable in zip(stored, distiller.student_variables):
        np.testing.assert_array_equal(value, variable.numpy())


def test_early_stopping_restores_best(tmp_path):
    distiller, runner, _, source, dev = _setup(tmp_path)
    # A rate this small leaves the dev loss flat, so it never improves after the first eval.
    stage = StageConfig("representation", LOSSES, steps=20, learning_rate=1e-30,
                        eval_every=1, patience=2)
    history = runner.run(stage, 0, source, dev, batch_size=4, seed=0)
    assert history["stopped_early"]
    assert history["last_step"] == 3
    assert history["best_step"] == 1


def test_nan_loss_stops_naming_the_step_and_keeps_checkpoint(tmp_path):
    distiller, runner, checkpoints, source, dev = _setup(tmp_path, checkpoint_every=2)
    stage = StageConfig("representation", LOSSES, steps=4, learning_rate=1e-3)
    runner.run(stage, 0, source, None, batch_size=4, seed=0)
    good = checkpoints.read_group("model")
    table = distiller.teacher.embeddings.word_embeddings.embeddings
    table.assign(np.full(table.shape, np.nan, np.float32))
    second = StageConfig("logits", (("pooled_mse", 1.0),), steps=4, learning_rate=1e-3)
    with pytest.raises(NonFiniteLossError, match="at step 1 .*last good checkpoint is kept"):
        runner.run(second, 1, source, None, batch_size=4, seed=0)
    state = checkpoints.read_state()
    assert state["stage_index"] == 0 and state["done"]
    for before, after in zip(good, checkpoints.read_group("model")):
        np.testing.assert_array_equal(before, after)
        assert np.all(np.isfinite(after))


def test_stage_config_errors():
    with pytest.raises(ValueError, match="exactly one of steps"):
        StageConfig("s", LOSSES, steps=3, epochs=1.0).validate()
    with pytest.raises(ValueError, match="Unknown loss|unknown loss"):
        StageConfig("s", (("nope", 1.0),), steps=3).validate()
    with pytest.raises(ValueError, match="patience=2 needs eval_every"):
        StageConfig("s", LOSSES, steps=3, patience=2).validate()
    assert parse_losses("hidden_mse:2, relation") == (("hidden_mse", 2.0), ("relation", 1.0))
    with pytest.raises(ValueError, match="not a number"):
        parse_losses("hidden_mse:x")


def test_checkpoint_from_another_model_is_refused(tmp_path):
    manager = CheckpointManager(tmp_path / "ckpt")
    a, b = helpers.tiny_student(), helpers.tiny_teacher()
    manager.save({"step": 1}, {"model": a.variables})
    with pytest.raises(ValueError, match="another model"):
        manager.restore({"model": b.variables[:3]})
    with pytest.raises(ValueError, match="shape"):
        manager.restore({"model": b.variables[:len(a.variables)]})


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_with_loss_scaling(tmp_path, precision):
    import keras

    keras.mixed_precision.set_dtype_policy(precision)
    try:
        distiller, runner, _, source, dev = _setup(tmp_path)
        stage = StageConfig("representation", LOSSES, steps=3, learning_rate=1e-3)
        history = runner.run(stage, 0, source, dev, batch_size=4, seed=0)
        scaled = isinstance(distiller.optimizer, keras.optimizers.LossScaleOptimizer)
        assert scaled == (precision == "mixed_float16")
        assert distiller.student.compute_dtype == precision.split("_")[1]
        assert np.isfinite(history["train"]["loss"])
        assert all(v.dtype == "float32" for v in distiller.student.trainable_variables)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
