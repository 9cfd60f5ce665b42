"""Config validation names the field, the value and the allowed range."""
import pytest

from xtremedistil_tf.tasks import FinetuneConfig, TaskConfig, get_task


@pytest.mark.parametrize("changes,message", [
    ({"data_source": "hub"}, r"data_source='hub'; use one of \['local', 'tfds'\]"),
    ({"max_seq_length": 4}, "max_seq_length=4 must be an integer >= 8"),
    ({"max_train_samples": 0}, "max_train_samples=0 must be a positive integer or None"),
    ({"file_format": "xlsx"}, "file_format='xlsx'"),
    ({"tag_scheme": "BILOU"}, "tag_scheme='BILOU'"),
    ({"null_score_threshold": None}, "null_score_threshold=None must be a finite number"),
    ({"null_score_threshold": float("inf")}, "null_score_threshold=inf must be a finite"),
])
def test_task_config_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        TaskConfig(**changes).validate()


@pytest.mark.parametrize("changes,message", [
    ({"output_dir": ""}, "output_dir is empty"),
    ({"num_train_epochs": -1}, "num_train_epochs=-1 must be an integer >= 0"),
    ({"learning_rate": 0.0}, "learning_rate=0.0 must be > 0"),
    ({"batch_size": 0}, "batch_size=0 must be a positive integer"),
    ({"warmup_ratio": 1.0}, r"warmup_ratio=1.0 must be in \[0, 1\)"),
    ({"verbose": 3}, "verbose=3 must be 0, 1 or 2"),
])
def test_finetune_config_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        FinetuneConfig(**{"output_dir": "out", **changes}).validate()


def test_squad_needs_room_for_context():
    with pytest.raises(ValueError, match="max_query_length=64 leaves no room"):
        get_task("squad_v1", TaskConfig(max_seq_length=64))
