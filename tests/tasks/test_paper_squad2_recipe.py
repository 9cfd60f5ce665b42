"""flags/paper/squad2_xtremedistil_l12h384*.cfg: the model-card recipe parses into its
configs, and the same two commands run offline on a tiny QA set with a tiny HF folder,
overriding only the model path, the data paths and the sizes."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.tasks.conftest import VOCAB, make_tokenizer, squad_articles, write_json
from tests.tasks.test_squad_v2_official import _official_eval
from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.checkpoints import to_hf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "run_scripts", "run_finetune.py")
RECIPE = "flags/paper/squad2_xtremedistil_l12h384.cfg"
RECIPE_V1 = "flags/paper/squad2_xtremedistil_l12h384_dev_v1.cfg"
_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}

# Parses the flags as run_finetune.py does and prints the configs it would run with.
_PARSE = """
import json, sys
sys.path.insert(0, "run_scripts")
import run_finetune
from absl import flags
from xtremedistil_tf.tasks import get_task
flags.FLAGS(["run_finetune.py", *sys.argv[1:]])
task_config, finetune_config = run_finetune.build_configs()
task = get_task(flags.FLAGS.task, task_config)
print(json.dumps({"task": task.name, "init_checkpoint": flags.FLAGS.init_checkpoint,
                  "task_config": task_config.to_dict(),
                  "finetune_config": finetune_config.to_dict()}))
"""


def _parse(*args):
    run = subprocess.run([sys.executable, "-c", _PARSE, *args], cwd=ROOT, env=_ENV,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _run(*args):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          cwd=ROOT, env=_ENV, timeout=900)


@pytest.mark.slow
def test_recipe_parses_into_the_card_settings():
    parsed = _parse(f"--flagfile={RECIPE}")
    assert parsed["task"] == "squad_v2"
    assert parsed["init_checkpoint"] == "microsoft/xtremedistil-l12-h384-uncased"
    task = parsed["task_config"]
    assert (task["max_seq_length"], task["doc_stride"], task["max_query_length"],
            task["max_answer_length"], task["n_best_size"]) == (384, 128, 64, 30, 20)
    assert task["null_score_threshold"] == 0.0
    assert task["data_dir"] == "../shared/data/squad_v2.0" and task["data_source"] == "local"
    train = parsed["finetune_config"]
    assert (train["learning_rate"], train["batch_size"], train["num_train_epochs"]) == (
        3e-5, 12, 2)
    assert (train["warmup_ratio"], train["weight_decay"], train["seed"]) == (0.0, 0.0, 42)
    assert train["output_dir"] == "outputs/paper/squad2_xtremedistil_l12h384"

    # The second command scores the model the first one saves, on SQuAD v1.1 dev.
    v1 = _parse(f"--flagfile={RECIPE_V1}")
    assert v1["task"] == "squad_v1" and v1["init_checkpoint"] == train["output_dir"]
    assert v1["finetune_config"]["num_train_epochs"] == 0
    assert (v1["task_config"]["max_seq_length"], v1["task_config"]["doc_stride"]) == (384, 128)


@pytest.mark.slow
def test_recipe_runs_offline_on_a_tiny_qa_set(tmp_path):
    rng = np.random.default_rng(11)
    hub = tmp_path / "tiny_hf"
    # A hub-style folder: config.json, safetensors and a tokenizer of the same vocabulary.
    encoder = Encoder(get_preset("tiny", vocab_size=len(VOCAB)))
    encoder.build()
    to_hf(encoder, make_tokenizer(), str(hub))
    v2, v1 = tmp_path / "squad_v2.0", tmp_path / "squad_v1.1"
    write_json(v2 / "train-v2.0.json", squad_articles(20, rng, impossible_fraction=0.5))
    dev = write_json(v2 / "dev-v2.0.json", squad_articles(6, rng, impossible_fraction=0.5))
    write_json(v1 / "dev-v1.1.json", squad_articles(5, rng))
    sizes = ["--max_seq_length=24", "--doc_stride=6", "--max_query_length=8"]
    out = tmp_path / "out"

    run = _run(f"--flagfile={RECIPE}", f"--init_checkpoint={hub}", f"--data_dir={v2}",
               f"--output_dir={out}", *sizes, "--verbose=0")
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((out / "results.json").read_text())
    assert [e["epoch"] for e in results["epochs"]] == [1, 2]
    config = results["finetune_config"]
    assert (config["learning_rate"], config["batch_size"], config["seed"]) == (3e-5, 12, 42)
    metrics = results["eval"]["dev"]
    # The headline and best_* are the official script's on the files the run wrote.
    preds = json.loads((out / "predictions.json").read_text())
    na_probs = json.loads((out / "null_odds.json").read_text())
    official = _official_eval(json.loads(dev.read_text()), preds, na_probs)
    for key in ("exact", "f1", "best_exact", "best_f1", "best_exact_thresh",
                "best_f1_thresh"):
        assert metrics[key] == pytest.approx(official[key], rel=1e-12, abs=1e-12), key
    assert metrics["null_score_threshold"] == 0.0 and (out / "model.keras").is_file()

    out_v1 = tmp_path / "out_v1"
    again = _run(f"--flagfile={RECIPE_V1}", f"--init_checkpoint={out}", f"--data_dir={v1}",
                 f"--output_dir={out_v1}", *sizes, "--verbose=0")
    assert again.returncode == 0, again.stderr[-3000:]
    scored = json.loads((out_v1 / "results.json").read_text())
    assert scored["task"] == "squad_v1" and scored["epochs"] == []
    assert scored["counts"]["dev"]["examples"] == 10  # 5 articles, 2 questions each.
    assert set(scored["eval"]["dev"]) == {"exact_match", "f1", "total", "score"}
    assert not (out_v1 / "model.keras").exists()
