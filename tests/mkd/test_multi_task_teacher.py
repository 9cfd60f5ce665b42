"""MKD's multi-task teacher: one encoder with a head per task, fine-tuned on the tasks
together on the step loop, saved, reused on rerun, then distilled into a student."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.distill.step_data import ExampleSource
from xtremedistil_tf.etd import StudentInitConfig
from xtremedistil_tf.mkd import MKDConfig, MultiTaskModel, run_mkd
from xtremedistil_tf.mkd import mkd_runner, multi_task_teacher
from xtremedistil_tf.mkd.multi_task_teacher import finetune_multi_task_teacher

HEADS = {"sst2": 2, "mnli": 3}


def _learnable_source(vocab_size, num_labels, size, seed):
    """Labels that follow the tokens, so that a few epochs lower the loss."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, vocab_size, size=(size, 7)).astype(np.int32)
    labels = (ids[:, 1] * num_labels) // vocab_size
    inputs = {"input_ids": ids, "attention_mask": np.ones_like(ids),
              "token_type_ids": np.zeros_like(ids)}
    return ExampleSource(inputs, np.arange(size), labels.astype(np.int32))


def _ids(variables):
    return {id(v) for v in variables}


def test_heads_share_one_encoder_and_training_lowers_each_task_loss(workspace):
    config = MKDConfig(tasks=tuple(HEADS), data_dir="unused", teacher=str(workspace / "teacher"),
                       teacher_mode="multi_task", teacher_finetune_epochs=8,
                       teacher_learning_rate=3e-3, batch_size=8, checkpoint_every=0,
                       output_dir=str(workspace / "mkd"), verbose=0).validate()
    base, _ = from_hf(workspace / "teacher", load_tokenizer=False)
    vocab = base.config.vocab_size
    train = {t: _learnable_source(vocab, n, 40 - 8 * i, seed=i)
             for i, (t, n) in enumerate(HEADS.items())}
    model, info = finetune_multi_task_teacher(config, HEADS, train, train,
                                              tf.distribute.get_strategy(), verbose=False)

    assert isinstance(model, MultiTaskModel) and model.tasks == HEADS
    encoder = _ids(model.encoder.trainable_variables)
    views = {t: model.for_task(t) for t in HEADS}
    for task, view in views.items():
        assert view.encoder is model.encoder
        assert encoder <= _ids(view.trainable_variables)
        assert _ids(view.trainable_variables) - encoder == _ids(
            model.heads[task].trainable_variables)
    heads = [_ids(model.heads[t].trainable_variables) for t in HEADS]
    assert not heads[0] & heads[1]
    assert _ids(model.trainable_variables) == encoder | heads[0] | heads[1]
    # The encoder was trained (by both tasks' steps), away from the base checkpoint.
    batch = {k: v[:8] for k, v in train["sst2"].inputs.items()}
    assert not np.allclose(model.encoder(batch)["pooled_output"], base(batch)["pooled_output"])

    history = info["stage"]
    assert not info["reused"] and set(info["task_steps"]) == set(HEADS)
    assert all(count > 0 for count in info["task_steps"].values())
    # (40 + 32) examples in batches of 8: 9 steps a pass, 8 passes.
    assert sum(info["task_steps"].values()) == history["last_step"] == 9 * 8
    start, kept = history["phases"][0]["dev"][0], history["final_dev"]
    for task in HEADS:
        assert kept[f"{task}/labels_ce"] < 0.8 * start[f"{task}/labels_ce"], (task, start, kept)


def _config(workspace, **changes):
    values = dict(tasks=("sst2", "rte"), data_dir=str(workspace / "glue"), max_seq_length=16,
                  teacher=str(workspace / "teacher"), teacher_mode="multi_task",
                  teacher_finetune_epochs=2, teacher_learning_rate=1e-3, student="tiny",
                  student_init=StudentInitConfig("random"), losses="logits_kl:1",
                  tau=0.5, max_steps=4, batch_size=8, learning_rate=1e-3,
                  output_dir=str(workspace / "mkd"), verbose=0)
    values.update(changes)
    return MKDConfig(**values)


def _no_training(*args, **kwargs):
    raise AssertionError("the teacher was fine-tuned again instead of reused")


@pytest.mark.slow
def test_multi_task_teacher_is_saved_reused_and_distilled(workspace, monkeypatch):
    results = run_mkd(_config(workspace))
    folder = workspace / "mkd" / "teacher_multi_task"
    with open(folder / "results.json") as f:
        saved = json.load(f)
    assert saved["run_info"]["tasks"] == ["sst2", "rte"] and saved["run_info"]["tau"] == 0.5
    # 24 + 16 examples, batch 8: 5 steps a pass, two passes.
    assert sum(saved["task_steps"].values()) == 10
    assert set(results["teacher_eval"]) == {"sst2", "rte"}
    assert results["teacher_eval"] == saved["eval"]
    assert 0.0 <= results["teacher_eval"]["rte"]["dev"]["accuracy"] <= 1.0
    # The student distilled from it end to end.
    assert results["teacher_mode"] == "multi_task"
    assert sum(results["task_steps"].values()) == 4
    assert set(results["student_eval"]) == {"sst2", "rte"}
    assert os.path.isfile(results["outputs"]["multi_task_student"])
    saved_at = os.path.getmtime(folder / "model.keras")
    monkeypatch.setattr(multi_task_teacher, "StageRunner", _no_training)
    again = run_mkd(_config(workspace))
    assert os.path.getmtime(folder / "model.keras") == saved_at
    assert again["teacher_eval"] == results["teacher_eval"]
    assert again["student_eval"] == results["student_eval"]
    with pytest.raises(ValueError, match=r"other settings \(\['tau'\]: \[0.5\], now \[1.0\]\)"):
        run_mkd(_config(workspace, tau=1.0))


@pytest.mark.slow
def test_per_task_teachers_are_reused_on_rerun(workspace, monkeypatch):
    config = _config(workspace, teacher_mode="per_task", teacher_finetune_epochs=1, max_steps=2)
    results = run_mkd(config)
    assert set(results["teacher_eval"]) == {"sst2", "rte"}
    monkeypatch.setattr(mkd_runner, "finetune", _no_training)
    again = run_mkd(config)
    assert again["teacher_eval"] == results["teacher_eval"]
