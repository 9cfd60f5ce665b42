"""The multi-task model: heads per task, views, saving, and clashing names."""
import keras
import numpy as np
import pytest

from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent

from tests.mkd.helpers import TASKS, tiny_encoder

BATCH = {"input_ids": np.array([[2, 5, 9, 3, 0, 0, 0], [2, 7, 8, 11, 13, 4, 3]], np.int32),
         "attention_mask": np.array([[1, 1, 1, 1, 0, 0, 0], [1] * 7], np.int32)}


def test_heads_views_and_shared_weights():
    model = MultiTaskModel(tiny_encoder(), TASKS, dropout=0.0)
    model.build()
    for task, units in TASKS.items():
        assert model(BATCH, task=task)["logits"].shape == (2, units)
    assert "logits" not in model(BATCH)
    view = model.for_task("mnli")
    np.testing.assert_array_equal(view(BATCH)["logits"], model(BATCH, task="mnli")["logits"])
    view_vars = {id(v) for v in view.trainable_variables}
    assert {id(v) for v in model.heads["mnli"].trainable_variables} <= view_vars
    assert not {id(v) for v in model.heads["sst2"].trainable_variables} & view_vars
    assert {id(v) for v in model.encoder.trainable_variables} <= view_vars


@pytest.mark.parametrize("encoder_kind", ["transformer", "bilstm"])
def test_keras_round_trip(tmp_path, encoder_kind):
    encoder = tiny_encoder() if encoder_kind == "transformer" else BiLSTMStudent(
        vocab_size=99, embedding_size=15, hidden_size=22, dropout=0.0)
    model = MultiTaskModel(encoder, TASKS, dropout=0.0)
    model.build()
    expected = model(BATCH, task="stsb")["logits"]
    model.save(tmp_path / "mt.keras")
    loaded = keras.models.load_model(tmp_path / "mt.keras")
    assert loaded.tasks == TASKS
    np.testing.assert_array_equal(loaded(BATCH, task="stsb")["logits"], expected)


@pytest.mark.parametrize("tasks,match", [
    ([("sst2", 2), ("sst2", 2)], "'sst2' and 'sst2' clash"),
    ({"SST-2": 2, "sst2": 2}, "'SST-2' and 'sst2' clash"),
    ({"a b": 2}, "Task name 'a b' must start"),
    ({"rte": 0}, "Task 'rte' has 0 outputs"),
    ({}, "at least one task"),
])
def test_bad_tasks_are_refused(tasks, match):
    with pytest.raises(ValueError, match=match):
        MultiTaskModel(tiny_encoder(), tasks)


def test_unknown_task_is_named():
    model = MultiTaskModel(tiny_encoder(), TASKS)
    with pytest.raises(ValueError, match=r"Unknown task 'qqp'; this model has heads for"):
        model(BATCH, task="qqp")
    with pytest.raises(ValueError, match="Unknown task 'qqp'"):
        model.for_task("qqp")
