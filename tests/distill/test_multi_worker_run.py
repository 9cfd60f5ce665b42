"""run_distill.py as 2 local workers through the launcher: chief-only outputs, and a
run whose worker is SIGKILLed resumes to the weights of an uninterrupted run.

Run with `-s` to see the figures (steps, kill point, resume point, weight diff).
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from tests.distill.test_run_distill import (  # noqa: F401 (tiny_setup is a fixture)
    ROOT, _flags, _student_weights, tiny_setup)
from tests.script_module import load_script

LAUNCHER = os.path.join(ROOT, "run_scripts", "launch_multi_worker.py")
STEPS, CHECKPOINT_EVERY = 24, 4


class Launch:
    """The launcher in a subprocess, its output collected line by line as it comes."""

    def __init__(self, args, num_workers=2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        self.proc = subprocess.Popen(
            [sys.executable, LAUNCHER, f"--num_workers={num_workers}", "--", *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def worker_pid(self, index):
        for line in list(self.lines):
            match = re.match(rf"Started worker {index} \(pid (\d+)\)", line)
            if match:
                return int(match.group(1))
        return None

    def finish(self, timeout=400):
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return self.proc.returncode, "".join(self.lines)

    def stop(self):
        """SIGTERM: the launcher then stops its workers."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=60)


@pytest.fixture
def launch():
    """Starts launchers; any still running when the test ends is stopped with its workers."""
    started = []

    def start(args):
        started.append(Launch(args))
        return started[-1]

    yield start
    for launcher in started:
        launcher.stop()


def _worker_flags(setup, out):
    args = [a for a in _flags(setup, out, rep_steps=STEPS, checkpoint_every=CHECKPOINT_EVERY,
                              single_stage=True) if not a.startswith("--strategy=")]
    # The non-chief worker must read the chief's teacher cache, never write it.
    return args + ["--teacher_cache=all"]


def _checkpoint_written(out):
    """Any file in `<out>/checkpoint`: true of any checkpoint format."""
    folder = out / "checkpoint"
    return folder.is_dir() and any(files for _, _, files in os.walk(folder))


def _tails(output, lines=25):
    """The last lines of each worker and of the launcher, for a failure message."""
    parts = []
    for prefix in ("[worker 0]", "[worker 1]", ""):
        own = [line for line in output.splitlines() if line.startswith(prefix)
               and (prefix or not line.startswith("[worker"))]
        parts.append("\n".join(own[-lines:]))
    return "\n---\n".join(parts)


@pytest.mark.slow
def test_two_workers_kill_one_and_resume_matches_uninterrupted(tiny_setup, tmp_path, launch):
    started = time.time()
    straight_dir, killed_dir = tmp_path / "straight", tmp_path / "killed"
    straight = launch(_worker_flags(tiny_setup, straight_dir))
    victim = launch(_worker_flags(tiny_setup, killed_dir))
    killed, deadline = False, time.time() + 300
    while time.time() < deadline and victim.proc.poll() is None:
        if _checkpoint_written(killed_dir) and victim.worker_pid(1):
            # A moment for the chief to finish writing, whatever the format.
            time.sleep(0.3)
            os.killpg(victim.worker_pid(1), signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    code, output = victim.finish()
    killed_seconds = time.time() - started
    assert killed, "the run ended before its first checkpoint:\n" + _tails(output)
    assert code != 0, _tails(output)
    assert "worker 1 was killed by SIGKILL, the others were stopped" in output, _tails(output)

    resumed = launch(_worker_flags(tiny_setup, killed_dir))
    code, output = resumed.finish()
    assert code == 0, _tails(output)
    assert "[worker 0] Stage 'representation': resuming at phase 1, step" in output
    assert "[worker 1] Stage 'representation': resuming at phase 1, step" in output
    code, straight_output = straight.finish()
    assert code == 0, _tails(straight_output)
    assert "[worker 0] Distillation summary" in straight_output
    assert "[worker 1] Done; the chief (worker 0) wrote the outputs" in straight_output

    stage = json.loads((killed_dir / "metrics.json").read_text())["stages"]["representation"]
    assert stage["last_step"] == STEPS
    assert 0 < stage["resumed_from"] < STEPS
    assert stage["steps_run"] == STEPS - stage["resumed_from"]
    straight_stage = json.loads((straight_dir / "metrics.json").read_text())
    assert straight_stage["stages"]["representation"]["resumed_from"] is None
    # Only the chief wrote the teacher cache: one folder, the chief's.
    for out in (straight_dir, killed_dir):
        assert len(os.listdir(out / "teacher_cache")) == 1
        assert not [n for n in os.listdir(out) if n.startswith(".")], os.listdir(out)

    a, b = _student_weights(straight_dir), _student_weights(killed_dir)
    assert sorted(a) == sorted(b)
    max_diff = max(float(np.abs(a[name] - b[name]).max()) for name in a)
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)
    print(f"\n2 workers, {STEPS} steps, checkpoint every {CHECKPOINT_EVERY}: worker 1 "
          f"SIGKILLed {killed_seconds:.0f}s in, once a checkpoint file appeared; the rerun "
          f"resumed from step {stage['resumed_from']} and ran {stage['steps_run']} steps; max "
          f"|weight diff| vs the uninterrupted run {max_diff:.2e}; "
          f"total {time.time() - started:.0f}s")


def _launcher_module():
    return load_script(LAUNCHER)


def test_launcher_cluster_description():
    launcher = _launcher_module()
    configs = [json.loads(c) for c in launcher.tf_configs(["localhost:5", "localhost:7"])]
    assert [c["task"] for c in configs] == [{"type": "worker", "index": 0},
                                            {"type": "worker", "index": 1}]
    assert all(c["cluster"] == {"worker": ["localhost:5", "localhost:7"]} for c in configs)
    ports = launcher.free_ports(3)
    assert len(set(ports)) == 3
    # Last, so that it wins over a strategy in a flagfile.
    assert launcher.worker_command(["--flagfile=a.cfg"])[-2:] == [
        "--flagfile=a.cfg", "--strategy=multi_worker"]

    class Ended:
        def __init__(self, code):
            self.code = code

        def poll(self):
            return self.code

    first = launcher._first_failure
    assert first([Ended(None), Ended(0)]) is None
    # The killed worker is the cause, not the one that then failed on its collectives.
    assert first([Ended(1), Ended(-9)]) == 1
    assert first([Ended(None), Ended(3)]) == 1


def test_launcher_input_errors_are_one_line():
    cases = [(["--num_workers=0", "--", "--output_dir=x"], "--num_workers=0 must be at least 1"),
             (["--num_workers=2"], "give run_distill.py's flags after --"),
             (["--", "--strategy=mirrored"], "--strategy=mirrored contradicts the launcher")]
    for args, message in cases:
        proc = subprocess.run([sys.executable, LAUNCHER, *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode != 0
        assert proc.stderr.startswith("launch_multi_worker.py: error: "), proc.stderr
        assert message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
