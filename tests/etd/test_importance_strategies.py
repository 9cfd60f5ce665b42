"""ETD-Impt extracts the same student under every strategy as with none.

Subprocesses: TensorFlow must start fresh to split the CPU into 2 logical
devices or to join a cluster. tests/distill/test_multi_worker_etd.py runs
run_distill.py --student_init=etd_impt as 2 workers end to end.
"""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = [sys.executable, "-m", "tests.etd.strategy_worker"]


def _env(**extra):
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT, **extra)


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _check_same_as_no_strategy(result, strategies):
    assert int(result["replicas"]) == 2
    for kind in ("encoder", "classifier"):
        reference = json.loads(str(result[f"{kind}/none/selection"]))
        # A student with a smaller head size: heads, neurons in heads, FFN and hidden all chosen.
        assert reference["qk_neurons"] and reference["vo_neurons"]
        names = sorted(k.split("/")[-1] for k in result.files if k.startswith(f"{kind}/none/w"))
        assert names
        for strategy in strategies:
            assert json.loads(str(result[f"{kind}/{strategy}/selection"])) == reference, strategy
            for name in names:
                np.testing.assert_array_equal(result[f"{kind}/{strategy}/{name}"],
                                              result[f"{kind}/none/{name}"],
                                              err_msg=f"{kind} {strategy} {name}")


@pytest.mark.slow
def test_etd_impt_under_mirrored_matches_no_strategy(tmp_path):
    out = tmp_path / "etd.npz"
    proc = subprocess.run([*WORKER, "mirrored", str(out)], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _check_same_as_no_strategy(np.load(out), ("one_device", "mirrored"))


@pytest.mark.slow
def test_etd_impt_on_two_workers_matches_no_strategy(tmp_path):
    cluster = {"worker": [f"localhost:{_free_port()}" for _ in range(2)]}
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(
            [*WORKER, "multi_worker", str(tmp_path / f"worker{index}.npz")], cwd=ROOT,
            env=_env(TF_CONFIG=tf_config), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True))
    for proc in procs:
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output[-3000:]
    first, second = (np.load(tmp_path / f"worker{index}.npz") for index in range(2))
    for result in (first, second):
        _check_same_as_no_strategy(result, ("multi_worker",))
    assert first.files == second.files
    for name in first.files:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
