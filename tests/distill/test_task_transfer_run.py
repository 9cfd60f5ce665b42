"""run_distill.py task transfer end to end on a tiny SST-2: outputs, scores, resume after SIGKILL."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.distill.helpers import checkpoint_state
from tests.distill.task_setup import make_task_setup

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def task_root(tmp_path_factory):
    return make_task_setup(tmp_path_factory.mktemp("task"))


def _flags(root, out, teacher, checkpoint_every=0, logits_steps=6):
    return [
        f"--teacher={teacher}", "--source_task=sst2", f"--data_dir={root / 'glue'}",
        f"--transfer_data={root / 'unlabelled.txt'}", "--augmentation_examples=16",
        "--student=tiny", "--student_init=etd_impt", "--max_seq_length=16", "--batch_size=8",
        "--stages=representation,logits,labels",
        # Student layers 0-2 (embeddings included) learn from teacher layers 1-3.
        "--representation_losses=hidden_mse:1", "--layer_map=top3",
        "--representation_max_steps=4", "--representation_learning_rate=1e-3",
        "--logits_losses=logits_mse:1", f"--logits_max_steps={logits_steps}",
        "--logits_learning_rate=1e-3", "--logits_unfreeze=gradual", "--logits_eval_every=2",
        "--logits_patience=2",
        "--labels_losses=labels_ce:1", "--labels_max_steps=4", "--labels_learning_rate=1e-3",
        "--labels_unfreeze=gradual", "--labels_eval_every=2",
        "--teacher_cache=outputs", f"--checkpoint_every={checkpoint_every}",
        "--verbose=0", "--strategy=one_device", f"--output_dir={out}"]


def _run(args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "run_distill.py", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc, timeout=600):
    output, _ = proc.communicate(timeout=timeout)
    return proc.returncode, output


def _weights(folder):
    from safetensors.numpy import load_file

    return load_file(os.path.join(folder, "model.safetensors"))


@pytest.mark.slow
def test_task_transfer_with_a_fine_tuned_teacher(task_root, tmp_path):
    out = tmp_path / "run"
    args = _flags(task_root, out, task_root / "teacher") + [
        "--teacher_finetune_epochs=1", "--eval_tasks=sst2", f"--eval_data_dir={task_root / 'glue'}"]
    code, output = _finish(_run(args))
    assert code == 0, output[-3000:]
    assert "Teacher: fine-tuning" in output
    assert "Distillation summary (task transfer from sst2)" in output
    summary = output[output.index("Distillation summary"):]
    positions = [summary.index(f"stage {name}:") for name in ("representation", "logits", "labels")]
    assert positions == sorted(positions), "the summary lists the stages in the order they ran"
    metrics = json.loads((out / "metrics.json").read_text())

    # The teacher was fine-tuned into the output folder; every model is scored on dev.
    assert os.path.isfile(out / "teacher" / "model.keras")
    assert "accuracy" in metrics["teacher"]["finetune_eval"]["dev"]
    scores = metrics["source_task"]
    assert (scores["task"], scores["split"], scores["examples"]) == ("sst2", "dev", 24)
    for name in ("teacher", "start", "distilled", "random"):
        assert 0.0 <= scores[name]["accuracy"] <= 1.0, name
    assert metrics["data"]["augmentation_examples"] == 16
    # Frozen-feature quality of every model on real labelled data, the start point kept
    # in the checkpoint so that a resumed run does not score the trained student instead.
    for name in ("teacher", "start", "distilled", "random"):
        assert 0.0 <= metrics["quality"][name]["sst2"]["probe_mean"] <= 1.0, name
    assert "quality on real labelled tasks" in output
    state = checkpoint_state(out / "checkpoint")
    assert state["start_report"]["student"]["quality"] == metrics["quality"]["start"]
    assert metrics["student_init"]["head"] == "extracted"

    # Every stage ends at least as good on dev as it started; distilling logits helps.
    stages = metrics["stages"]
    for name, stage in stages.items():
        assert stage["best_dev_loss"] <= stage["start_dev_loss"], name
    assert stages["logits"]["best_dev_loss"] < stages["logits"]["start_dev_loss"]
    assert stages["labels"]["teacher"] == "unused"
    assert [p["label"] for p in stages["logits"]["phases"]] == [
        "head", "head + layer 2", "head + layers 1-2", "all (embeddings too)"]
    assert output.count("phase 1/4 head:") == 2

    # The universal checkpoint has no head; the task student has the teacher's labels.
    import keras

    from xtremedistil_tf.checkpoints import from_hf, from_hf_task
    from xtremedistil_tf.models import Encoder, SequenceClassifier

    encoder, _ = from_hf(str(out / "hf_student"))
    assert isinstance(encoder, Encoder) and encoder.config.hidden_size == 32
    task_student, tokenizer = from_hf_task(str(out / "hf_task_student"))
    assert isinstance(task_student, SequenceClassifier)
    assert task_student.label_names == ["0", "1"]
    saved = keras.models.load_model(out / "student.keras")
    batch = tokenizer(["word1 word2 word3", "word11 word12"], max_length=16, padding="max_length")
    batch = {k: np.asarray(batch[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
    np.testing.assert_allclose(task_student(batch)["logits"], saved(batch)["logits"], atol=1e-5)

    # A rerun reuses the teacher and the finished stages.
    code, output = _finish(_run(args))
    assert code == 0, output[-3000:]
    assert "reusing the teacher fine-tuned on sst2" in output and "already done" in output


@pytest.mark.slow
def test_killed_mid_logits_stage_resumes_to_the_same_result(task_root, tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    teacher = task_root / "task_teacher"  # an HF task folder: no fine-tuning here
    first = _run(_flags(task_root, straight, teacher, checkpoint_every=2, logits_steps=8))
    victim = _run(_flags(task_root, killed, teacher, checkpoint_every=2, logits_steps=8))
    deadline = time.time() + 400
    killed_at = None
    while time.time() < deadline and victim.poll() is None:
        state = checkpoint_state(killed / "checkpoint")
        if state is not None:
            if state["stage"] == "logits" and not state["done"] and state["step"] > 0:
                victim.send_signal(signal.SIGKILL)
                killed_at = (state["phase"], state["step"])
                break
        time.sleep(0.02)
    victim.communicate()
    assert killed_at is not None, "the run left the logits stage before it could be killed"
    code, output = _finish(_run(_flags(task_root, killed, teacher, checkpoint_every=2,
                                       logits_steps=8)))
    assert code == 0, output[-3000:]
    assert "Stage 'representation': already done" in output
    assert "Stage 'logits': resuming at phase" in output
    code, output = _finish(first)
    assert code == 0, output[-3000:]

    a = json.loads((straight / "metrics.json").read_text())
    b = json.loads((killed / "metrics.json").read_text())
    assert b["stages"]["logits"]["resumed_from"] is not None
    for name in ("representation", "logits", "labels"):
        for key in ("best_dev_loss", "start_dev_loss", "last_step"):
            assert b["stages"][name][key] == pytest.approx(a["stages"][name][key], rel=1e-5)
    for name in ("teacher", "start", "distilled", "random"):
        assert b["source_task"][name] == pytest.approx(a["source_task"][name], rel=1e-6)
    for folder in ("hf_task_student", "hf_student"):
        wa, wb = _weights(straight / folder), _weights(killed / folder)
        assert sorted(wa) == sorted(wb)
        for key in wa:
            np.testing.assert_allclose(wa[key], wb[key], rtol=1e-5, atol=1e-6, err_msg=key)


def _regression_config(root, out, logits_loss):
    from xtremedistil_tf.distill.distill_config import DistillConfig
    from xtremedistil_tf.distill.stage_config import StageConfig

    return DistillConfig(
        teacher=str(root / "stsb_teacher"), source_task="stsb", data_dir=str(root / "glue"),
        transfer_data=str(root / "unlabelled.txt"), augmentation_examples=8, student="tiny",
        student_init="etd_rand", max_seq_length=24, batch_size=8, teacher_cache="outputs",
        stages=(StageConfig("logits", ((logits_loss, 1.0),), max_steps=3, eval_every=3),
                StageConfig("labels", (("labels_ce", 1.0),), max_steps=3, eval_every=3)),
        checkpoint_every=0, strategy="one_device", output_dir=str(out))


@pytest.mark.slow
def test_regression_source_task(task_root, tmp_path):
    """STS-B: one output, so logits_kl is refused and labels_ce is the MSE to the scores."""
    from tests.distill.task_setup import make_stsb
    from xtremedistil_tf.distill.distill_run import run_distillation

    make_stsb(task_root)
    with pytest.raises(ValueError, match="regression task .* use logits_mse"):
        run_distillation(_regression_config(task_root, tmp_path / "kl", "logits_kl"),
                         log=lambda _: None, verbose=False)
    metrics = run_distillation(_regression_config(task_root, tmp_path / "mse", "logits_mse"),
                               log=lambda _: None, verbose=False)
    assert metrics["data"]["pairwise"] and metrics["splits"]["labelled"] == 40
    assert {"pearson", "spearman"} <= set(metrics["source_task"]["distilled"])
    labels = metrics["stages"]["labels"]
    assert labels["teacher"] == "unused" and np.isfinite(labels["train"]["labels_ce"])
    assert labels["best_dev_loss"] <= labels["start_dev_loss"]


def _agnostic_config(root, out, **overrides):
    from xtremedistil_tf.distill.distill_config import DistillConfig
    from xtremedistil_tf.distill.stage_config import StageConfig
    from xtremedistil_tf.evaluation.quality import QualityConfig

    values = dict(
        teacher=str(root / "teacher"), transfer_data=str(root / "unlabelled.txt"),
        student="tiny", student_init="etd_impt", importance_batches=2, max_seq_length=16,
        batch_size=8, dev_fraction=0.2, heldout_examples=4, save_start=True,
        stages=(StageConfig("logits", (("pooled_similarity", 1.0),), max_steps=4,
                            learning_rate=1e-2, eval_every=0),),
        checkpoint_every=0, strategy="one_device", output_dir=str(out),
        quality=QualityConfig(tasks=("sst2",), data_dir=str(root / "glue"), max_seq_length=16,
                              batch_size=16))
    values.update(overrides)
    return DistillConfig(**values).validate()


@pytest.mark.slow
def test_eval_tasks_choose_what_ships(task_root, tmp_path, monkeypatch):
    """With --eval_tasks the outputs hold whichever of start and end scores higher on the
    training-split probes; the distilled weights stay in the checkpoint."""
    from xtremedistil_tf.distill import distill_run
    from xtremedistil_tf.evaluation.quality import choose_shipped

    def run(name, **overrides):
        lines = []
        # No dev split: the stage's last weights are the distilled student, so they differ
        # from the start (with one, a stage that only raised its dev loss returns its start).
        metrics = distill_run.run_distillation(
            _agnostic_config(task_root, tmp_path / name, dev_fraction=0.0, **overrides),
            log=lines.append,
            verbose=False)
        return (metrics, lines[-1], _weights(tmp_path / name / "hf_start"),
                _weights(tmp_path / name / "hf_student"))

    def same(a, b):
        assert a.keys() == b.keys()
        return all(np.array_equal(a[name], b[name]) for name in a)

    # The real rule, on the run's own scores: what ships is what it chose.
    metrics, summary, start, shipped = run("real")
    quality = metrics["quality"]
    name, scores = choose_shipped(quality["start"], quality["distilled"])
    assert metrics["shipped"] == {"model": name, "selection_score": scores}
    assert f"shipped: {'THE START' if name == 'start' else 'the distilled student'}" in summary
    assert same(start, shipped) == (name == "start")

    # The rule picks the start: the outputs are the start bit for bit, and say so.
    monkeypatch.setattr(distill_run, "choose_shipped",
                        lambda start, end: ("start", {"start": 0.75, "distilled": 0.5}))
    metrics, summary, start, shipped = run("start")
    assert metrics["shipped"]["model"] == "start"
    assert "shipped: THE START" in summary and "start 0.7500, distilled 0.5000" in summary
    for key in start:
        np.testing.assert_array_equal(start[key], shipped[key], err_msg=key)

    # Turned off, the distilled student ships whatever the rule says; the stage moved it.
    metrics, summary, start, shipped = run("off", select_on_eval_tasks=False)
    assert "shipped" not in metrics and "shipped:" not in summary
    assert not same(start, shipped)
