"""Mirrored and multi-worker training match one device (subprocesses: TF must start fresh)."""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    env.update(extra)
    return env


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_mirrored_two_cpus_matches_one_device(tmp_path):
    out = tmp_path / "mirrored.npz"
    subprocess.run([sys.executable, "-m", "tests.distill.strategy_worker", "mirrored", str(out)],
                   cwd=ROOT, env=_env(), check=True, timeout=300)
    result = np.load(out)
    assert int(result["replicas"]) == 2
    one, mirrored = result["one_losses"], result["mirrored_losses"]
    assert len(one) == 3 and one[-1] < one[0]
    np.testing.assert_allclose(mirrored, one, rtol=1e-4)
    names = sorted(k[len("one_"):] for k in result.files if k.startswith("one_w"))
    assert names
    # Round-off grows over 3 steps to ~3e-4; a replica-count mistake (gradients
    # halved or doubled) would differ by about the update itself, over 1e-2.
    largest_update = 0.0
    for name in names:
        np.testing.assert_allclose(result[f"mirrored_{name}"], result[f"one_{name}"],
                                   atol=1e-3, err_msg=name)
        update = result[f"one_update{name[1:]}"]
        largest_update = max(largest_update, np.abs(update).max())
    assert largest_update > 1e-2


@pytest.mark.slow
def test_multi_worker_two_processes_end_identical(tmp_path):
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tests.distill.strategy_worker", "multi_worker",
             str(tmp_path / f"worker{index}.npz")],
            cwd=ROOT, env=_env(TF_CONFIG=tf_config), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True))
    for proc in procs:
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output[-3000:]
    first, second = (np.load(tmp_path / f"worker{i}.npz") for i in range(2))
    # Both workers saved at steps 1, 2 and 3; only the chief's checkpoints are in
    # the shared folder, the last two of them.
    assert sorted(os.listdir(tmp_path / "checkpoint")) == [
        "checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index",
        "ckpt-3.data-00000-of-00001", "ckpt-3.index"]
    assert int(first["replicas"]) == 2
    assert len(first["losses"]) == 3
    np.testing.assert_array_equal(first["losses"], second["losses"])
    weights = [k for k in first.files if k.startswith("w")]
    assert weights
    for name in weights:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
