"""Stages: early stopping, NaN handling with the last good checkpoint, checkpoints."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.distill import helpers
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.projection_fit import fit_projections
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
    stage = StageConfig("representation", LOSSES, max_steps=5, learning_rate=1e-3, eval_every=2)
    history = runner.run(stage, 0, source, dev, batch_size=4, seed=0)
    assert history["last_step"] == 5 and history["total_steps"] == 5
    assert [e["step"] for e in history["dev"]] == [0, 2, 4, 5]
    assert set(history["train"]) == {"loss", "hidden_mse", "relation"}
    state = checkpoints.read_state()
    assert state["done"] and state["step"] == 5
    stored = checkpoints.read_group("model")
    live = runner.model_variables()
    assert sorted(stored) == sorted(live) and len(live) == len(distiller.student_variables)
    for key, variable in live.items():
        np.testing.assert_array_equal(stored[key], variable.numpy(), err_msg=key)


def test_early_stopping_restores_best(tmp_path):
    distiller, runner, _, source, dev = _setup(tmp_path)
    # A rate this small leaves the dev loss flat, so it never improves after the first eval.
    stage = StageConfig("representation", LOSSES, max_steps=20, learning_rate=1e-30,
                        eval_every=1, patience=2)
    history = runner.run(stage, 0, source, dev, batch_size=4, seed=0)
    assert history["stopped_early"]
    # The evaluation before the first step is the best; two flat ones follow.
    assert history["last_step"] == 2
    assert history["best_step"] == 0 and history["kept_start"]


def test_nan_loss_stops_naming_the_step_and_keeps_checkpoint(tmp_path):
    distiller, runner, checkpoints, source, dev = _setup(tmp_path, checkpoint_every=2)
    stage = StageConfig("representation", LOSSES, max_steps=4, learning_rate=1e-3)
    runner.run(stage, 0, source, None, batch_size=4, seed=0)
    good = checkpoints.read_group("model")
    table = distiller.teacher.embeddings.word_embeddings.embeddings
    table.assign(np.full(table.shape, np.nan, np.float32))
    second = StageConfig("logits", (("pooled_mse", 1.0),), max_steps=4, learning_rate=1e-3)
    with pytest.raises(NonFiniteLossError, match="at step 1 .*last good checkpoint is kept"):
        runner.run(second, 1, source, None, batch_size=4, seed=0)
    state = checkpoints.read_state()
    assert state["stage_index"] == 0 and state["done"]
    after = checkpoints.read_group("model")
    assert sorted(after) == sorted(good)
    for key, value in good.items():
        np.testing.assert_array_equal(value, after[key], err_msg=key)
        assert np.all(np.isfinite(after[key]))


def test_stage_config_errors():
    with pytest.raises(ValueError, match="exactly one of max_steps"):
        StageConfig("s", LOSSES, max_steps=3, num_train_epochs=1.0).validate()
    with pytest.raises(ValueError, match="Unknown loss|unknown loss"):
        StageConfig("s", (("nope", 1.0),), max_steps=3).validate()
    with pytest.raises(ValueError, match="patience=2 needs eval_every"):
        StageConfig("s", LOSSES, max_steps=3, patience=2).validate()
    with pytest.raises(ValueError, match="unfreeze='gradual' .* set eval_every"):
        StageConfig("s", LOSSES, max_steps=3, unfreeze="gradual").validate()
    with pytest.raises(ValueError, match="unfreeze='all' must be one of"):
        StageConfig("s", LOSSES, max_steps=3, unfreeze="all").validate()
    assert parse_losses("hidden_mse:2, relation") == (("hidden_mse", 2.0), ("relation", 1.0))
    with pytest.raises(ValueError, match="not a number"):
        parse_losses("hidden_mse:x")


def test_checkpoint_from_another_model_is_refused(tmp_path):
    manager = CheckpointManager(tmp_path / "ckpt")
    a, b = helpers.tiny_student(), helpers.tiny_teacher()
    manager.save({"step": 1}, {"model": a.variables})
    with pytest.raises(ValueError, match="another model"):
        manager.restore({"model": b.variables[:3]})
    # The same variable names with other shapes (a wider feed-forward layer).
    wider = helpers.tiny_student(intermediate_size=41)
    with pytest.raises(ValueError, match="another model.*shape"):
        manager.restore({"model": wider.variables})


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_with_loss_scaling(tmp_path, precision):
    import keras

    keras.mixed_precision.set_dtype_policy(precision)
    try:
        distiller, runner, _, source, dev = _setup(tmp_path)
        stage = StageConfig("representation", LOSSES, max_steps=3, learning_rate=1e-3)
        history = runner.run(stage, 0, source, dev, batch_size=4, seed=0)
        scaled = isinstance(distiller.optimizer, keras.optimizers.LossScaleOptimizer)
        assert scaled == (precision == "mixed_float16")
        assert distiller.student.compute_dtype == precision.split("_")[1]
        assert np.isfinite(history["train"]["loss"])
        assert all(v.dtype == "float32" for v in distiller.student.trainable_variables)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def _task_setup(tmp_path, **runner_kwargs):
    """A classifier teacher and student (hidden 48 vs 32, 5 classes) and labelled splits."""
    strategy = tf.distribute.get_strategy()
    teacher = helpers.TinyClassifier(helpers.tiny_teacher())
    student = helpers.TinyClassifier(helpers.tiny_student())
    distiller = Distiller(teacher=teacher, student=student, losses={"logits_mse": 1.0})
    checkpoints = CheckpointManager(os.path.join(tmp_path, "checkpoint"))
    runner = StageRunner(distiller, strategy, checkpoints, verbose=False, **runner_kwargs)
    arrays, dev_arrays = helpers.token_arrays(32), helpers.token_arrays(8, seed=5)
    # Labels the student can learn: a function of the second token.
    train = ExampleSource(arrays, np.arange(32), arrays["input_ids"][:, 1] % 5)
    dev = ExampleSource(dev_arrays, np.arange(8), dev_arrays["input_ids"][:, 1] % 5)
    return distiller, runner, train, dev


def test_a_stage_that_only_hurts_returns_its_start(tmp_path, monkeypatch):
    from xtremedistil_tf.distill import stage_runner

    # Gradient ascent: every update raises the loss the dev split measures.
    monkeypatch.setattr(stage_runner, "create_optimizer",
                        lambda lr, *args, **kwargs: keras.optimizers.SGD(-lr))
    distiller, runner, _, source, dev = _setup(tmp_path)
    start = [v.numpy().copy() for v in distiller.student_variables]
    stage = StageConfig("representation", LOSSES, max_steps=6, learning_rate=0.05,
                        eval_every=2)
    history = runner.run(stage, 0, source, dev, batch_size=4, seed=0)
    losses = [e["loss"] for e in history["dev"]]
    assert [e["step"] for e in history["dev"]] == [0, 2, 4, 6]
    assert min(losses[1:]) > losses[0]
    assert history["kept_start"] and history["best_step"] == 0
    assert history["final_dev"]["loss"] == losses[0]
    # The student is back at its start bit for bit; the projections at the
    # least-squares fit the stage started from (refitting gives the same values).
    for before, variable in zip(start, distiller.student.variables):
        np.testing.assert_array_equal(before, variable.numpy(), err_msg=variable.path)
    ended = {name: p.kernel.numpy().copy() for name, p in distiller.projections.items()}
    rows = min(stage_runner._FIT_BATCHES * 4, len(source))
    fit_projections(distiller, [{k: v[i:i + 4] for k, v in source.inputs.items()}
                                for i in range(0, rows, 4)])
    for name, layer in distiller.projections.items():
        np.testing.assert_array_equal(ended[name], layer.kernel.numpy(), err_msg=name)


def test_each_stage_lowers_its_own_loss(tmp_path):
    distiller, runner, train, _ = _task_setup(tmp_path)
    # Scored on its own training data: this checks the optimisation, not generalisation.
    dev = train
    for index, losses in enumerate(((("hidden_mse", 1.0),), (("logits_mse", 1.0),),
                                    (("labels_ce", 1.0),))):
        stage = StageConfig(losses[0][0], losses, max_steps=12, learning_rate=3e-3,
                            warmup_ratio=0.0, eval_every=4)
        history = runner.run(stage, index, train, dev, batch_size=8, seed=0)
        assert history["best_dev_loss"] < history["start_dev_loss"], (losses, history["dev"])


def test_gradual_unfreezing_phases(tmp_path):
    distiller, runner, train, dev = _task_setup(tmp_path, checkpoint_every=2)
    student = distiller.student
    frozen_after = {}
    original = runner._run_phase

    def recording(stage, stage_index, index, phases, *args, **kwargs):
        before = {v.path: v.numpy().copy() for v in student.trainable_variables}
        original(stage, stage_index, index, phases, *args, **kwargs)
        trained = {v.path for v in distiller.train_variables}
        frozen_after[index] = [(path, value) for path, value in before.items()
                               if path not in trained]
        # Unchanged bit for bit: frozen layers get no update and no weight decay.
        for variable in student.trainable_variables:
            if variable.path not in trained:
                np.testing.assert_array_equal(before[variable.path], variable.numpy(),
                                              err_msg=variable.path)

    runner._run_phase = recording
    stage = StageConfig("logits", (("logits_mse", 1.0),), max_steps=6, learning_rate=3e-3,
                        warmup_ratio=0.0, unfreeze="gradual", eval_every=2, patience=1)
    history = runner.run(stage, 0, train, dev, batch_size=8, seed=0)
    labels = [p["label"] for p in history["phases"]]
    assert labels == ["head", "head + layer 2", "head + layers 1-2", "all (embeddings too)"]
    assert [p["unfrozen_groups"] for p in history["phases"]] == [1, 2, 3, 4]
    # The head phase leaves the whole encoder alone; the last phase freezes nothing.
    assert {path.split("/")[0] for path, _ in frozen_after[0]} == {"student"}
    assert frozen_after[3] == []
    # Each phase ends on its best evaluation, and starts where the last one ended.
    for before, after in zip(history["phases"], history["phases"][1:]):
        assert after["dev"][0]["loss"] == pytest.approx(before["best_dev_loss"], rel=1e-6)
        assert after["best_dev_loss"] <= before["best_dev_loss"]
    assert history["best_dev_loss"] < history["start_dev_loss"]
    final = runner.evaluate(dev, 8)
    assert final["loss"] == pytest.approx(history["best_dev_loss"], rel=1e-6)


def test_gradual_unfreezing_restores_the_best_phase_weights(tmp_path, monkeypatch):
    from xtremedistil_tf.distill import stage_runner

    distiller, runner, train, dev = _task_setup(tmp_path)
    snapshots = {}
    original = runner._evaluate_into

    def recording(record, history, step, *args):
        improved = original(record, history, step, *args)
        if improved:
            snapshots[record["phase"]] = [v.numpy().copy() for v in distiller.student_variables]
        return improved

    runner._evaluate_into = recording
    # A large rate makes later evaluations of a phase worse than its best one.
    monkeypatch.setattr(stage_runner, "create_optimizer",
                        lambda lr, *args, **kwargs: keras.optimizers.SGD(lr))
    stage = StageConfig("logits", (("logits_mse", 1.0),), max_steps=4, learning_rate=0.3,
                        unfreeze="gradual", eval_every=1)
    history = runner.run(stage, 0, train, dev, batch_size=8, seed=0)
    assert any(p["best_step"] < p["last_step"] for p in history["phases"])
    last = history["phases"][-1]["phase"]
    for expected, variable in zip(snapshots[last], distiller.student_variables):
        np.testing.assert_array_equal(expected, variable.numpy(), err_msg=variable.path)


def test_gradual_unfreezing_resumes_at_a_phase_boundary(tmp_path):
    stage = StageConfig("logits", (("logits_mse", 1.0),), max_steps=6, learning_rate=3e-3,
                        warmup_ratio=0.0, unfreeze="gradual", eval_every=2)
    keras.utils.set_random_seed(3)
    distiller, runner, train, dev = _task_setup(tmp_path / "straight")
    straight = runner.run(stage, 0, train, dev, batch_size=8, seed=0)
    expected = [v.numpy() for v in distiller.student_variables]

    keras.utils.set_random_seed(3)
    distiller, runner, train, dev = _task_setup(tmp_path / "killed", checkpoint_every=2)
    original = runner._run_phase

    def crash_in_phase_two(stage, stage_index, index, *args, **kwargs):
        if index == 1:
            raise KeyboardInterrupt
        original(stage, stage_index, index, *args, **kwargs)

    runner._run_phase = crash_in_phase_two
    with pytest.raises(KeyboardInterrupt):
        runner.run(stage, 0, train, dev, batch_size=8, seed=0)
    state = runner.checkpoints.read_state()
    assert (state["phase"], state["step"], state["done"]) == (1, 0, False)
    keras.utils.set_random_seed(3)
    distiller, runner, train, dev = _task_setup(tmp_path / "killed")
    resumed = runner.run(stage, 0, train, dev, batch_size=8, seed=0, resume=state)
    assert resumed["resumed_from"] == straight["phases"][0]["last_step"]
    assert [p["best_dev_loss"] for p in resumed["phases"]] == pytest.approx(
        [p["best_dev_loss"] for p in straight["phases"]], rel=1e-5)
    for value, variable in zip(expected, distiller.student_variables):
        np.testing.assert_allclose(value, variable.numpy(), rtol=1e-5, atol=1e-6)


def test_a_dev_split_smaller_than_one_batch_is_still_evaluated(tmp_path):
    _, runner, _, source, _ = _setup(tmp_path)
    small_dev = ExampleSource(helpers.token_arrays(3, seed=5), np.arange(3))
    stage = StageConfig("representation", LOSSES, max_steps=4, learning_rate=1e-3, eval_every=2)
    history = runner.run(stage, 0, source, small_dev, batch_size=4, seed=0)
    assert [e["step"] for e in history["dev"]] == [0, 2, 4]
    assert all(np.isfinite(e["loss"]) for e in history["dev"])
    # The start is a candidate for the best weights, as with a full dev batch.
    assert history["best_step"] in (0, 2, 4) and history["start_dev_loss"] is not None
    # Scored as one batch of all 3 examples: the same as a runner given batch_size=3.
    assert runner.evaluate(small_dev, 4) == runner.evaluate(small_dev, 3)
