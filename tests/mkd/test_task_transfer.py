"""The task-transfer recipe end to end on a tiny teacher and tiny GLUE-layout data."""
import json

import keras
import pytest

from xtremedistil_tf import Encoder
from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.etd import StudentInitConfig
from xtremedistil_tf.mkd.task_transfer import run_task_transfer, steps_to_reach
from xtremedistil_tf.mkd.task_transfer_config import TaskTransferConfig, parse_losses
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier

@pytest.mark.slow
@pytest.mark.parametrize("source_task,init", [("sst2", "etd_impt"), ("rte", "random")])
def test_recipe_writes_a_task_agnostic_student(workspace, source_task, init):
    teacher_checkpoint = ""
    if source_task == "rte":
        # A given fine-tuned teacher skips fine-tuning (sst2 runs it).
        encoder, _ = from_hf(workspace / "teacher", load_tokenizer=False)
        teacher = SequenceClassifier(encoder, 2, label_names=["entailment", "not_entailment"])
        teacher.build()
        teacher_checkpoint = str(workspace / "rte_teacher.keras")
        teacher.save(teacher_checkpoint)
    config = TaskTransferConfig(
        source_task=source_task, data_dir=str(workspace / "glue"),
        max_seq_length=16, teacher=str(workspace / "teacher"), teacher_epochs=1,
        teacher_checkpoint=teacher_checkpoint,
        augmentation_data=str(workspace / "unlabelled.txt"), augmentation_examples=12,
        student="tiny", student_overrides=(("hidden_size", 24), ("num_attention_heads", 3)),
        student_init=StudentInitConfig(init, importance_batches=2),
        losses="logits_kl:1,hidden_mse:1", distill_steps=4, eval_every=2, batch_size=8,
        learning_rate=1e-3, output_dir=str(workspace / "out"), verbose=0)
    results = run_task_transfer(config)
    counts = results["transfer_set"]
    assert counts["source_examples"] == (24 if source_task == "sst2" else 16)
    assert counts["augmentation_examples"] == 12
    assert counts["pairwise"] == (source_task == "rte")
    assert [step for step, _ in results["distill_curve"]] == [0, 2, 4]
    assert results["student_init"]["method"] == init
    assert ("teacher_eval" in results) == (source_task == "sst2")
    encoder, tokenizer = from_hf(results["outputs"]["hf"])
    assert encoder.config.hidden_size == 24 and tokenizer.vocab_size == encoder.config.vocab_size
    saved = keras.models.load_model(results["outputs"]["keras"])
    assert isinstance(saved, Encoder)  # No head: a task-agnostic checkpoint.
    with open(workspace / "out" / "metrics.json") as f:
        assert json.load(f)["source_task"] == source_task


def test_config_errors_and_helpers():
    assert parse_losses("logits_kl:1, hidden_mse:0.5,labels_ce") == {
        "logits_kl": 1.0, "hidden_mse": 0.5, "labels_ce": 1.0}
    with pytest.raises(ValueError, match="weight 'x' of 'logits_kl' is not a number"):
        parse_losses("logits_kl:x")
    with pytest.raises(ValueError, match="data_dir is empty"):
        TaskTransferConfig().validate()
    with pytest.raises(ValueError, match="teacher_epochs=0 with no teacher_checkpoint"):
        TaskTransferConfig(data_dir="d", teacher_epochs=0).validate()
    assert steps_to_reach([(0, 3.0), (10, 1.5), (20, 0.9)], 1.0) == 20
    assert steps_to_reach([(0, 3.0)], 1.0) is None
