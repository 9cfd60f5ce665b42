"""benchmark_inference.py builds and times the full-integer LiteRT kinds, calibrated on
the user's texts through the model's tokenizer (or on random ids for a preset)."""
import json
import os

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter
from xtremedistil_tf.checkpoints import to_hf
from xtremedistil_tf.export import ExportData

from tests.export.conftest import TEXTS, make_tokenizer, tiny_encoder
from tests.script_module import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "run_scripts", "benchmarks", "benchmark_inference.py")
SEQ = 11
RUNTIMES = ("litert_int8_full", "litert_int16x8")
CALIBRATION = ExportData([t for t in TEXTS if t], source="test texts")


@pytest.fixture(scope="module")
def bench():
    # Imported, not run: its flags are its own (tests/test_flag_vocabulary.py), so
    # importing it beside other scripts' tests cannot clash.
    return load_script(SCRIPT)


def _activation_types(path):
    return {d["dtype"] for d in Interpreter(model_path=path).get_tensor_details()}


@pytest.mark.slow
def test_full_integer_runtimes_are_built_and_timed(bench, tmp_path):
    encoder = tiny_encoder()
    encoder.build()
    to_hf(encoder, make_tokenizer(), str(tmp_path / "hf"))
    prepared = bench.prepare("student", str(tmp_path / "hf"), str(tmp_path), [SEQ], RUNTIMES,
                             CALIBRATION, 5)
    paths = {r: prepared["paths"][r][str(SEQ)] for r in RUNTIMES}
    # What gets timed is what the names say: int8 activations, or int16 ones.
    assert np.int8 in _activation_types(paths["litert_int8_full"])
    assert np.int16 not in _activation_types(paths["litert_int8_full"])
    assert np.int16 in _activation_types(paths["litert_int16x8"])
    results = {}
    for runtime in RUNTIMES:
        job = {"model": str(tmp_path / "hf"), "runtime": runtime, "seq_lengths": [SEQ],
               "vocab_size": prepared["vocab_size"], "num_threads": 1, "latency_batch": 1,
               "latency_runs": 1, "throughput_batch": 3, "throughput_runs": 1,
               "paths": prepared["paths"][runtime],
               "result": str(tmp_path / f"{runtime}.json")}
        (tmp_path / "job.json").write_text(json.dumps(job))
        bench.worker(str(tmp_path / "job.json"))
        results[runtime] = json.loads((tmp_path / f"{runtime}.json").read_text())
        assert results[runtime][str(SEQ)]["latency_ms"] > 0
        assert prepared["sizes_mb"][runtime] > 0
    # Each is compared with dynamic-range int8, the runtime it has to beat.
    runs = {**results, "litert_int8": results["litert_int8_full"]}
    table = {"models": {"teacher": {"runtimes": runs, "sizes_mb": {r: 1.0 for r in runs}},
                        "student": {"runtimes": runs, "sizes_mb": {r: 1.0 for r in runs}}}}
    bench._ratios(table, [SEQ])
    assert table["ratios"]["student litert_int8_full vs litert_int8"][str(SEQ)]["latency"] == 1
    assert "student litert_int16x8 vs litert_int8" in table["ratios"]
    assert "litert_int16x8" in bench.table(table, [SEQ])
    # Without a teacher (--teacher=''): the student's own ratios, none against a teacher.
    del table["models"]["teacher"]
    bench._ratios(table, [SEQ])
    assert not [label for label in table["ratios"] if "teacher" in label]
    assert "student litert_int16x8 vs litert_int8" in bench.table(table, [SEQ])


def test_calibration_tokenizes_texts_or_draws_random_ids(bench):
    texts = bench.calibration_examples(CALIBRATION, make_tokenizer(), SEQ, 99, 3)
    # The first 3 texts, then an empty and a full-length one, as run_export.py calibrates.
    assert len(texts) == 5 and texts[0]["input_ids"].shape == (1, SEQ)
    assert texts[0]["attention_mask"].sum() < SEQ  # real, padded text
    assert texts[3]["attention_mask"].sum() == 2  # [CLS] [SEP]
    assert texts[4]["attention_mask"].sum() == SEQ
    random = bench.calibration_examples(None, None, SEQ, 99, 4)
    assert len(random) == 4 and random[0]["input_ids"].max() < 99
    with pytest.raises(ValueError, match="--representative_file needs the model's tokenizer"):
        bench.calibration_examples(CALIBRATION, None, SEQ, 99, 3)
