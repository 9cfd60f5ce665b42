"""run_scripts/run_finetune.py end to end, in a subprocess as a user runs it."""
import json

import pytest

from tests.tasks.conftest import run_script, save_checkpoint, sentiment_rows, write_tsv
from xtremedistil_tf import Encoder, get_preset

def _run(*args):
    return run_script("run_finetune.py", *args)


@pytest.fixture
def tiny_checkpoint(tmp_path):
    encoder = Encoder(get_preset("tiny", hidden_dropout_prob=0.0,
                                 attention_probs_dropout_prob=0.0))
    encoder.build()
    return save_checkpoint(encoder, tmp_path / "tiny")


@pytest.mark.slow
def test_trains_writes_outputs_and_reevaluates(tmp_path, tiny_checkpoint, data_rng):
    glue = tmp_path / "glue"
    write_tsv(glue / "SST-2" / "train.tsv", ["sentence", "label"], sentiment_rows(96, data_rng))
    write_tsv(glue / "SST-2" / "dev.tsv", ["sentence", "label"], sentiment_rows(16, data_rng))
    out = tmp_path / "out"
    run = _run("--flagfile=flags/finetune/glue_sst2.cfg", f"--data_dir={glue}",
               f"--init_checkpoint={tiny_checkpoint}", f"--output_dir={out}", "--num_train_epochs=2",
               "--learning_rate=1e-2", "--batch_size=16", "--max_seq_length=16",
               "--max_eval_samples=12", "--verbose=2")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "fine-tuning summary" in run.stdout and "dev: accuracy=" in run.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["counts"]["dev"]["examples"] == 12 and len(results["epochs"]) == 2
    assert "--task=sst2" in (out / "flags.cfg").read_text()
    assert json.loads((out / "config.json").read_text())["finetune_config"][
        "num_train_epochs"] == 2
    # The run's own flags.cfg replays (every flag pinned, defaults included), here to
    # re-evaluate the saved model.
    again = _run(f"--flagfile={out / 'flags.cfg'}", f"--init_checkpoint={out}",
                 f"--output_dir={tmp_path / 'eval'}", "--num_train_epochs=0", "--verbose=0")
    assert again.returncode == 0, again.stderr[-3000:]
    evaluated = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert evaluated["eval"]["dev"] == results["eval"]["dev"]


@pytest.mark.slow
def test_cross_flag_errors_say_what_to_do(tmp_path, tiny_checkpoint):
    run = _run("--task=sst2", f"--data_dir={tmp_path}", f"--init_checkpoint={tiny_checkpoint}",
               f"--output_dir={tmp_path / 'o'}", "--text_column=review")
    assert run.returncode != 0
    assert "--text_column applies to text_classification/text_regression" in run.stderr
