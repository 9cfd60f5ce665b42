"""benchmark_distill.py times the student in the precision it names, a folder student too."""
import os

import keras
import pytest

from tests.distill import helpers
from tests.script_module import load_script

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture(scope="module")
def benchmark():
    """The script as a module, loaded once (its absl flags can be defined only once)."""
    return load_script(os.path.join("run_scripts", "benchmarks", "benchmark_distill.py"))


@pytest.mark.parametrize("precision,dtype", [("float32", "float32"),
                                             ("mixed_bfloat16", "bfloat16")])
def test_a_folder_student_runs_in_the_benchmarked_precision(benchmark, tmp_path, precision,
                                                             dtype):
    # A folder student was once loaded in float32 whatever the precision, so its
    # "bf16" row timed float32 (1.04x where the preset student gave 1.57x).
    from xtremedistil_tf.checkpoints import to_hf
    from xtremedistil_tf.tokenizers import Tokenizer

    tokenizer = Tokenizer.from_vocab(SPECIAL + [f"w{i}" for i in range(helpers.VOCAB - 5)])
    to_hf(helpers.tiny_teacher(), tokenizer, str(tmp_path / "teacher"))
    to_hf(helpers.tiny_student(), tokenizer, str(tmp_path / "student"))
    setting = {"teacher": str(tmp_path / "teacher"), "student": str(tmp_path / "student"),
               "steps": 1, "batch_size": 2, "max_seq_length": 8, "losses": "hidden_mse:1",
               "teacher_mode": "cache", "jit": False, "precision": precision}
    try:
        result = benchmark.run_one(setting)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert result["student_dtype"] == dtype
    assert result["examples_per_s"] > 0
