"""run_distill.py end to end on a tiny teacher folder: outputs, resume after SIGKILL, errors."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.distill import helpers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [f"word{i}" for i in range(helpers.VOCAB - len(SPECIAL))]


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """An HF folder with a tiny teacher and its tokenizer, and a transfer text file."""
    from xtremedistil_tf.checkpoints import to_hf
    from xtremedistil_tf.tokenizers import Tokenizer

    root = tmp_path_factory.mktemp("tiny")
    tokenizer = Tokenizer.from_vocab(SPECIAL + WORDS)
    to_hf(helpers.tiny_teacher(), tokenizer, str(root / "teacher"))
    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(WORDS, size=rng.integers(3, 12))) for _ in range(240)]
    (root / "transfer.txt").write_text("\n".join(lines) + "\n")
    return root


def _flags(setup, out, rep_steps=40, checkpoint_every=10, single_stage=False):
    if single_stage:
        # Just what resuming needs: one stage, no dev split, no agreement report.
        return [
            f"--teacher={setup / 'teacher'}", "--student=tiny",
            f"--transfer_data={setup / 'transfer.txt'}", "--max_seq_length=16", "--batch_size=8",
            "--dev_fraction=0", "--heldout_examples=0", "--num_relation_heads=4",
            "--stages=representation", "--representation_losses=hidden_mse:1,relation:1",
            f"--representation_max_steps={rep_steps}", "--logits_losses=",
            f"--checkpoint_every={checkpoint_every}", "--verbose=0",
            "--strategy=one_device", f"--output_dir={out}"]
    return [
        f"--teacher={setup / 'teacher'}", "--student=tiny",
        f"--transfer_data={setup / 'transfer.txt'}", "--max_seq_length=16", "--batch_size=8",
        "--dev_fraction=0.1", "--heldout_examples=24", "--num_relation_heads=4",
        "--stages=representation,logits", "--representation_losses=hidden_mse:1,relation:1",
        f"--representation_max_steps={rep_steps}", "--logits_losses=pooled_cosine:1,pooled_mse:1",
        "--logits_max_steps=6", "--logits_eval_every=3", "--teacher_cache=outputs",
        f"--checkpoint_every={checkpoint_every}", "--verbose=0", "--strategy=one_device",
        f"--output_dir={out}"]


def _run(args, **kwargs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "run_distill.py", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **kwargs)


def _finish(proc, timeout=300):
    output, _ = proc.communicate(timeout=timeout)
    return proc.returncode, output


def _student_weights(out):
    from safetensors.numpy import load_file

    return load_file(os.path.join(out, "hf_student", "model.safetensors"))


@pytest.mark.slow
def test_kill_and_resume_matches_uninterrupted_run(tiny_setup, tmp_path):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    args = dict(rep_steps=60, checkpoint_every=5, single_stage=True)
    first = _run(_flags(tiny_setup, straight, **args))
    victim = _run(_flags(tiny_setup, killed, **args))
    deadline = time.time() + 240
    killed_at = None
    while time.time() < deadline and victim.poll() is None:
        state = helpers.checkpoint_state(killed / "checkpoint")
        if state is not None:
            if state["stage_index"] == 0 and not state["done"]:
                victim.send_signal(signal.SIGKILL)
                killed_at = state["step"]
                break
        time.sleep(0.02)
    victim.communicate()
    assert killed_at is not None, "the run ended before its first checkpoint could be killed"
    code, output = _finish(_run(_flags(tiny_setup, killed, **args)))
    assert code == 0, output[-3000:]
    assert "resuming at phase 1, step" in output
    code, output = _finish(first)
    assert code == 0, output[-3000:]

    metrics = json.loads((killed / "metrics.json").read_text())
    stage = metrics["stages"]["representation"]
    assert stage["last_step"] == 60
    assert stage["resumed_from"] >= killed_at
    assert stage["steps_run"] == 60 - stage["resumed_from"]
    # Same data in the same order, nothing repeated or skipped: same final weights.
    a, b = _student_weights(straight), _student_weights(killed)
    assert sorted(a) == sorted(b)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.slow
def test_outputs_and_replayable_flags(tiny_setup, tmp_path):
    out = tmp_path / "run"
    code, output = _finish(_run(_flags(tiny_setup, out, rep_steps=8, checkpoint_every=4)))
    assert code == 0, output[-3000:]
    for name in ("student.keras", "hf_student/config.json", "hf_student/model.safetensors",
                 "flags.cfg", "config.json", "metrics.json"):
        assert (out / name).exists(), name
    assert any(f.startswith("events") for f in os.listdir(out / "logs"))
    assert "Distillation summary" in output and "random" in output
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["stages"]) == {"representation", "logits"}
    assert metrics["stages"]["logits"]["teacher"] == "cache"
    assert metrics["agreement"]["distilled"]["probe_cosine"] > -1
    flags_text = (out / "flags.cfg").read_text()
    assert "--representation_max_steps=8" in flags_text
    import keras

    student = keras.saving.load_model(out / "student.keras")
    assert student.config.hidden_size == 32
    # Rerunning a finished run only re-exports.
    code, output = _finish(_run([f"--flagfile={out / 'flags.cfg'}"]))
    assert code == 0, output[-3000:]
    assert "already done" in output


@pytest.mark.slow
def test_user_errors_are_messages(tiny_setup, tmp_path):
    flags = _flags(tiny_setup, tmp_path / "e1")
    # Flag contradictions and unknown losses are checked in-process in test_flags.py.
    cases = [
        (flags + ["--layer_map=1:1,2:9"], "teacher layer 9"),
        (flags + [f"--transfer_data={tmp_path / 'none.txt'}"], "does not exist"),
    ]
    procs = [(_run(args), message) for args, message in cases]
    for proc, message in procs:
        code, output = _finish(proc)
        assert code != 0
        assert message in output, output[-2000:]
        assert "Traceback" not in output


@pytest.mark.slow
@pytest.mark.parametrize("init", ["etd_rand", "etd_impt"])
def test_etd_student_init_starts_from_teacher_weights(tiny_setup, tmp_path, init):
    """With a negligible learning rate the saved student is the extracted one: every
    column of its word embeddings is one of the teacher's (ETD keeps one index
    set of hidden dimensions)."""
    from xtremedistil_tf.checkpoints import to_hf
    from xtremedistil_tf.tokenizers import Tokenizer

    # 6 heads of width 8, so the tiny student (4 heads of width 8) can be cut out of it.
    teacher = helpers.tiny_teacher(num_attention_heads=6)
    to_hf(teacher, Tokenizer.from_vocab(SPECIAL + WORDS), str(tmp_path / "teacher"))
    out = tmp_path / "out"
    args = _flags(tiny_setup, out, rep_steps=2, single_stage=True)
    args = [a for a in args if not a.startswith("--teacher=")]
    args += [f"--teacher={tmp_path / 'teacher'}", f"--student_init={init}",
             "--representation_learning_rate=1e-9", "--save_start"]
    code, output = _finish(_run(args))
    assert code == 0, output
    teacher_table = teacher.embeddings.word_embeddings.embeddings.numpy()
    for folder in ("hf_student", "hf_start"):
        from safetensors.numpy import load_file

        table = load_file(os.path.join(out, folder, "model.safetensors"))[
            "embeddings.word_embeddings.weight"]
        assert table.shape == (99, 32)
        # The start is the extraction itself, exactly; the student moved by 1e-9 at most.
        tolerance = 0.0 if folder == "hf_start" else 1e-6
        for column in table.T:
            assert np.abs(teacher_table - column[:, None]).max(axis=0).min() <= tolerance
    with open(out / "metrics.json") as f:
        assert json.load(f)["outputs"]["hf_start"] == str(out / "hf_start")


@pytest.mark.slow
def test_importance_extra_data_is_scored_and_refit_on(tiny_setup, tmp_path):
    """A second text joins the ETD-Impt scores and the refit, and the run records it."""
    from xtremedistil_tf.checkpoints import to_hf
    from xtremedistil_tf.tokenizers import Tokenizer

    teacher = helpers.tiny_teacher(num_attention_heads=6)
    to_hf(teacher, Tokenizer.from_vocab(SPECIAL + WORDS), str(tmp_path / "teacher"))
    rng = np.random.default_rng(1)
    pairs = [" ".join(rng.choice(WORDS[:20], size=5)) + "\t" + " ".join(rng.choice(WORDS, size=4))
             for _ in range(60)]
    (tmp_path / "pairs.tsv").write_text("\n".join(pairs) + "\n")
    args = _flags(tiny_setup, tmp_path / "out", rep_steps=2, single_stage=True)
    args = [a for a in args if not a.startswith("--teacher=")]
    args += [f"--teacher={tmp_path / 'teacher'}", "--student_init=etd_impt", "--etd_refit",
             "--importance_batches=3", f"--importance_extra_data={tmp_path / 'pairs.tsv'}"]
    code, output = _finish(_run(args))
    assert code == 0, output
    init = json.loads((tmp_path / "out" / "metrics.json").read_text())["student_init"]
    assert init["importance_extra_data"] == [str(tmp_path / "pairs.tsv")]
    assert init["importance_batches"] == 6 and init["refit"]["batches"] == 6
    assert (f"ETD-Impt units scored on 6 batches of {tiny_setup / 'transfer.txt'} + "
            f"{tmp_path / 'pairs.tsv'}") in output
    # The text listed twice: loaded and scored once, two shares in the scores and the refit.
    twice = [a for a in args if not a.startswith("--importance_extra_data=")]
    twice += [f"--importance_extra_data={tmp_path / 'pairs.tsv'},{tmp_path / 'pairs.tsv'}",
              f"--output_dir={tmp_path / 'twice'}"]
    code, output = _finish(_run(twice))
    assert code == 0, output
    init = json.loads((tmp_path / "twice" / "metrics.json").read_text())["student_init"]
    assert init["importance_batches"] == 9 and init["refit"]["batches"] == 9
    assert output.count(f"from {tmp_path / 'pairs.tsv'}") == 1
    assert f"batches of {tiny_setup / 'transfer.txt'} + 2 x {tmp_path / 'pairs.tsv'}" in output
    # A folder student has nothing to score: the run says the flag did not apply.
    code, output = _finish(_run(args + [f"--student={tmp_path / 'teacher'}",
                                        f"--output_dir={tmp_path / 'folder'}"]))
    assert code == 0, output
    assert "--importance_extra_data=" in output and "apply only to a preset student" in output


def test_checkpoint_init_needs_a_checkpoint(tiny_setup, tmp_path):
    args = _flags(tiny_setup, tmp_path / "out", rep_steps=2, single_stage=True)
    code, output = _finish(_run(args + ["--student_init=checkpoint"]))
    assert code != 0
    assert "give --student_checkpoint exactly when --student_init=checkpoint" in output


def test_pairs_stage_trains_on_pair_data_with_its_own_cache(tiny_setup, tmp_path):
    """--pair_data rows serve the stage of pair losses only; the logits stage keeps the
    transfer text and its own cache, so a run without the pair stage reuses that cache."""
    rng = np.random.default_rng(2)
    pairs = [" ".join(rng.choice(WORDS, size=rng.integers(3, 7))) + "\t"
             + " ".join(rng.choice(WORDS, size=rng.integers(3, 7))) for _ in range(120)]
    (tmp_path / "pairs.tsv").write_text("\n".join(pairs) + "\n")
    args = _flags(tiny_setup, tmp_path / "out", rep_steps=2)
    args = [a for a in args if not a.startswith(("--stages=", "--representation_losses="))]
    args += ["--stages=logits,pairs", "--representation_losses=",
             f"--pair_data={tmp_path / 'pairs.tsv'}", "--pairs_losses=pair_score:1",
             "--pairs_max_steps=6", "--pairs_eval_every=3", "--pairs_learning_rate=1e-3"]
    code, output = _finish(_run(args))
    assert code == 0, output
    assert "Pair data: 120 pairs" in output and "on the pair data" in output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    pairs_stage = metrics["stages"]["pairs"]
    assert pairs_stage["rows"] == "pair_data" and pairs_stage["teacher"] == "cache"
    assert "rows" not in metrics["stages"]["logits"]
    assert metrics["data"]["pair_examples"] == 120
    caches = os.listdir(tmp_path / "out" / "teacher_cache")
    assert len(caches) == 2  # one per group of rows, each with its own keys
    keys = sorted(json.loads((tmp_path / "out" / "teacher_cache" / c / "manifest.json")
                             .read_text())["keys"] for c in caches)
    assert keys == [["pair_cosine/mean"], ["pooled/mean"]]
    # The pair head is not part of the exported student.
    assert not any("pair" in name for name in _student_weights(tmp_path / "out"))
    # Without pairs anywhere, pair_score is refused with the fix in one line.
    single = [a for a in args if not a.startswith("--pair_data=")]
    code, output = _finish(_run(single + [f"--output_dir={tmp_path / 'nopairs'}"]))
    assert code != 0 and "--pair_data=builtin:wikipedia_graded_pairs" in output
    assert "Traceback" not in output
