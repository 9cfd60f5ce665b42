"""Checkpoints restore by name, keep the last good one, and refuse another model's."""
import os
import uuid

import keras
import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf.training.checkpoint_manager import (
    CheckpointManager, optimizer_variables, variables_by_structure)


class _Net(keras.Model):
    """Two same-shaped, auto-named layers whose creation order is an argument."""

    def __init__(self, swap=False, width=3, **kwargs):
        super().__init__(**kwargs)
        if swap:
            self.second = keras.layers.Dense(width)
            self.first = keras.layers.Dense(width)
            self.second.build((None, width))
            self.first.build((None, 3))
        else:
            self.first = keras.layers.Dense(width)
            self.second = keras.layers.Dense(width)
            self.first.build((None, 3))
            self.second.build((None, width))
        self.built = True

    def call(self, x):
        return self.second(self.first(x))


def _trained(net, variables):
    optimizer = keras.optimizers.Adam(1e-2)
    optimizer.build(variables)
    rng = np.random.default_rng(7)
    for _ in range(2):
        grads = [rng.normal(size=v.shape).astype("float32") for v in variables]
        optimizer.apply_gradients(zip(grads, variables))
    return optimizer


def _ram_folder():
    return f"ram://checkpoint_tests/{uuid.uuid4().hex}/checkpoint"


def _groups(net, optimizer):
    model = variables_by_structure(net)
    return {"model": model, "optimizer": optimizer_variables(optimizer, model)}


def test_restores_by_name_into_variables_created_in_another_order():
    folder = _ram_folder()
    net = _Net()
    optimizer = _trained(net, net.trainable_variables)
    manager = CheckpointManager(folder)
    manager.save({"step": 2, "phase": 0}, _groups(net, optimizer))

    other = _Net(swap=True)
    other_optimizer = keras.optimizers.Adam(1e-2)
    other_optimizer.build(list(reversed(other.trainable_variables)))
    # Same shapes in another order, and other auto-numbered layer names: restoring
    # by position would swap the layers, and by Keras path would find nothing.
    assert [v.shape for v in other.variables] == [v.shape for v in net.variables]
    assert id(net.variables[0]) in {id(v) for v in net.first.variables}
    assert id(other.variables[0]) in {id(v) for v in other.second.variables}
    assert not {v.path for v in other.variables} & {v.path for v in net.variables}

    state = CheckpointManager(folder).restore(_groups(other, other_optimizer))
    assert state == {"step": 2, "phase": 0}
    for attr in ("first", "second"):
        for name in ("kernel", "bias"):
            np.testing.assert_array_equal(getattr(getattr(net, attr), name).numpy(),
                                          getattr(getattr(other, attr), name).numpy())
    saved = _groups(net, optimizer)
    expected = {k: v.numpy() for k, v in saved["optimizer"].items()}
    assert "first/bias/momentum" in expected
    restored = _groups(other, other_optimizer)["optimizer"]
    assert sorted(restored) == sorted(expected)
    for key, variable in restored.items():
        np.testing.assert_array_equal(expected[key], variable.numpy(), err_msg=key)
    assert int(other_optimizer.iterations.numpy()) == 2


def test_another_models_checkpoint_is_refused_and_nothing_assigned(tmp_path):
    manager = CheckpointManager(tmp_path / "checkpoint")
    manager.save({"step": 1}, {"model": variables_by_structure(_Net())})
    wider = _Net(width=5)
    before = [v.numpy().copy() for v in wider.variables]
    with pytest.raises(ValueError) as error:
        manager.restore({"model": variables_by_structure(wider)})
    message = str(error.value)
    assert "\n" not in message
    assert "belongs to another model or recipe" in message and "shape" in message
    assert "new output_dir or delete the checkpoint folder" in message
    for value, variable in zip(before, wider.variables):
        np.testing.assert_array_equal(value, variable.numpy())

    fewer = keras.layers.Dense(3)
    fewer.build((None, 3))
    with pytest.raises(ValueError, match=r"4 stored model variables against 2 in this run, an unknown"):
        manager.restore({"model": {"first/" + k: v for k, v in
                                   variables_by_structure(fewer).items()}})
    with pytest.raises(ValueError, match="stores no optimizer variables"):
        manager.restore({"optimizer": {"iteration": tf.Variable(0)}})


def test_keeps_max_to_keep_and_pairs_each_state_with_its_weights(tmp_path):
    folder = str(tmp_path / "checkpoint")
    net = _Net()
    manager = CheckpointManager(folder, max_to_keep=2)
    for step in range(1, 4):
        net.first.bias.assign(np.full(3, step, np.float32))
        manager.save({"step": step}, {"model": net.variables,
                                      "best": {"first": np.full(3, -step, np.float32)}})
    files = sorted(os.listdir(folder))
    assert [f for f in files if f.endswith(".index")] == ["ckpt-2.index", "ckpt-3.index"]
    # A save killed halfway leaves files the index does not name; the last good one is read.
    (tmp_path / "checkpoint" / "ckpt-4.index").write_bytes(b"half")
    fresh = CheckpointManager(folder)
    assert fresh.read_state() == {"step": 3}
    np.testing.assert_array_equal(fresh.read_group("best")["first"], np.full(3, -3.0))
    assert fresh.read_group("optimizer") is None
    net.first.bias.assign(np.zeros(3, np.float32))
    assert fresh.restore({"model": net.variables}) == {"step": 3}
    np.testing.assert_array_equal(net.first.bias.numpy(), np.full(3, 3.0))
    # The next save overwrites the half-written one.
    fresh.save({"step": 4}, {"model": net.variables})
    assert fresh.latest.endswith("ckpt-4") and fresh.read_state() == {"step": 4}


def test_a_worker_that_is_not_the_chief_writes_nothing(tmp_path):
    folder = tmp_path / "checkpoint"
    worker = CheckpointManager(folder, is_chief=False)
    assert worker.save({"step": 1}, {"model": _Net().variables}) is None
    assert worker.last_state == {"step": 1}
    assert not folder.exists() and not worker.exists()


def test_the_old_format_is_named(tmp_path):
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    (folder / "state.json").write_text("{}")
    with pytest.raises(ValueError, match="old format.*delete the checkpoint folder"):
        CheckpointManager(folder).exists()
