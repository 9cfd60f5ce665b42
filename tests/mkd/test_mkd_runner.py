"""An MKD run end to end: fine-tuned teachers, a BiLSTM student, saved encoder."""
import json
import math

import keras
import pytest

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.etd import StudentInitConfig
from xtremedistil_tf.mkd import MKDConfig, MultiTaskModel, run_mkd
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent


def _save_multi_task_teacher(workspace):
    """A multi-task teacher needs no fine-tuning, which keeps the runs short."""
    encoder, _ = from_hf(workspace / "teacher", load_tokenizer=False)
    teacher = MultiTaskModel(encoder, {"sst2": 2, "rte": 2})
    teacher.build()
    teacher.save(workspace / "mt_teacher.keras")


@pytest.mark.slow
def test_bilstm_mkd_run_with_a_multi_task_teacher(workspace):
    _save_multi_task_teacher(workspace)
    config = MKDConfig(
        tasks=("sst2", "rte"), data_dir=str(workspace / "glue"), max_seq_length=16,
        teacher=str(workspace / "teacher"), teacher_mode="multi_task",
        multi_task_teacher=str(workspace / "mt_teacher.keras"),
        student_type="bilstm",
        bilstm_embedding_size=15, bilstm_hidden_size=22, losses="logits_kl:1,labels_ce:0.1",
        tau=0.5, max_steps=6, batch_size=8, learning_rate=1e-3,
        output_dir=str(workspace / "mkd"), verbose=0)
    results = run_mkd(config)
    assert results["task_sizes"] == {"sst2": 24, "rte": 16}
    assert sum(results["task_steps"].values()) == 6
    assert set(results["student_eval"]) == {"sst2", "rte"}
    assert "hf" not in results["outputs"]  # A BiLSTM has no HF form.
    # Its tokenizer goes beside encoder.keras, where run_finetune.py and run_export.py look.
    assert (workspace / "mkd" / "tokenizer.json").is_file()
    encoder = keras.models.load_model(results["outputs"]["keras"])
    assert isinstance(encoder, BiLSTMStudent) and encoder.classifier is None
    student = keras.models.load_model(results["outputs"]["multi_task_student"])
    assert student.tasks == {"sst2": 2, "rte": 2}
    with open(workspace / "mkd" / "metrics.json") as f:
        assert json.load(f)["tasks"] == ["sst2", "rte"]


@pytest.mark.slow
def test_transformer_mkd_run_under_a_strategy_and_mixed_precision(workspace):
    _save_multi_task_teacher(workspace)
    config = MKDConfig(
        tasks=("sst2", "rte"), data_dir=str(workspace / "glue"), max_seq_length=16,
        teacher=str(workspace / "teacher"), teacher_mode="multi_task",
        multi_task_teacher=str(workspace / "mt_teacher.keras"),
        student="tiny", student_init=StudentInitConfig("random"), losses="logits_kl:1",
        max_steps=3, batch_size=8, learning_rate=1e-3, strategy="one_device",
        precision="mixed_bfloat16", output_dir=str(workspace / "mkd"), verbose=0)
    try:
        results = run_mkd(config)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert sum(results["task_steps"].values()) == 3
    train = results["stage"]["train"]
    assert train and all(math.isfinite(value) for value in train.values()), train
    with open(workspace / "mkd" / "config.json") as f:
        assert json.load(f)["precision"] == "mixed_bfloat16"


@pytest.mark.parametrize("changes,match", [
    ({"tasks": ("sst2", "SST2")}, "'sst2' and 'SST2' clash"),
    ({"tasks": ()}, "tasks is empty"),
    ({"teacher_checkpoints": (("qqp", "x.keras"),)}, r"name tasks \['qqp'\] that are not"),
    ({"multi_task_teacher": "m.keras", "teacher_checkpoints": (("sst2", "x"),)}, "not both"),
    ({"teacher_mode": "joint"}, r"teacher_mode='joint'; use one of \['per_task', 'multi_task'\]"),
    ({"teacher_mode": "multi_task", "teacher_checkpoints": (("sst2", "x"),)},
     "use teacher_mode=per_task"),
    ({"multi_task_teacher": "m.keras"}, "set teacher_mode=multi_task"),
    ({"teacher_mode": "multi_task", "teacher_finetune_epochs": 0}, "needs a multi_task_teacher"),
    ({"student_type": "lstm"}, "student_type='lstm'"),
    ({"student_type": "bilstm", "student_init": StudentInitConfig("etd_rand")},
     "needs a transformer student"),
    ({"tau": -1.0}, "tau=-1.0 must be >= 0"),
    ({"losses": " "}, "names no loss"),
    ({"teacher_cache": "all"}, "MKD reads the teachers' logits only"),
    ({"strategy": "tpu", "precision": "mixed_float16"}, "mixed_bfloat16"),
    ({"tpu": "grpc://10.0.0.2:8470", "strategy": "mirrored"}, "use strategy=tpu"),
    ({"strategy": "multi_worker"}, "fine-tune the teachers first"),
    ({"precision": "float8"}, "precision='float8'"),
])
def test_config_errors(changes, match):
    with pytest.raises(ValueError, match=match):
        MKDConfig(data_dir="glue", **changes).validate()
