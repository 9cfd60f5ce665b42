"""run_export.py as a user runs it: an HF folder in, a served model and a report out."""
import json
import os
import subprocess
import sys

import pytest
from xtremedistil_tf.checkpoints import to_hf

from tests.export.conftest import TEXTS, make_tokenizer, tiny_encoder

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "run_scripts", "run_export.py")


def _run(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)


@pytest.mark.slow
def test_run_export_writes_serving_layout_report_and_flags(tmp_path):
    encoder = tiny_encoder()
    encoder.build()
    to_hf(encoder, make_tokenizer(), str(tmp_path / "hf"))
    dev = tmp_path / "dev.tsv"
    dev.write_text("sentence\tlabel\n" + "".join(f"{t}\t{i % 2}\n" for i, t in enumerate(TEXTS)),
                   encoding="utf-8")
    args = [f"--model={tmp_path / 'hf'}", f"--output_dir={tmp_path / 'out'}",
            "--formats=saved_model_ids,litert_int8", "--max_seq_length=12",
            f"--dev_file={dev}", "--text_column=sentence", "--label_column=label"]
    result = _run(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "litert_int8" in result.stdout and "probe_accuracy" in result.stdout
    base = tmp_path / "out" / "hf"
    assert (base / "1" / "saved_model.pb").is_file()
    assert (base / "litert" / "1" / "model_int8.tflite").is_file()
    report = json.loads((base / "reports" / "1" / "export_report.json").read_text())
    assert report["kind"] == "encoder" and report["passed"]
    assert report["dev_sample"]["examples"] == len(TEXTS)
    # Every dev sentence's mean-pooled embedding against Keras's (int8 stays close).
    cosine = report["artifacts"]["litert_int8"]["dev_mean_pooled_cosine"]
    assert 0.9 < cosine["min"] <= cosine["mean"] <= 1 + 1e-9
    assert "--formats=saved_model_ids,litert_int8" in (base / "reports" / "1" /
                                                        "flags.cfg").read_text()
    again = _run(*args, "--version=1")
    assert again.returncode != 0
    assert "already exists" in again.stderr and "--overwrite" in again.stderr
