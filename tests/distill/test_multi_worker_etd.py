"""run_distill.py --student_init=etd_impt as 2 local workers: the importance pass runs
on the teacher's distributed variables and picks the units a one-device run picks."""
import json

import pytest

from tests.distill.test_multi_worker_run import Launch, _tails, _worker_flags
from tests.distill.test_run_distill import (  # noqa: F401 (tiny_setup is a fixture)
    _finish, _run, tiny_setup)

ETD = ["--student_init=etd_impt", "--importance_batches=2", "--representation_max_steps=2"]


@pytest.mark.slow
def test_two_workers_etd_impt_selects_as_one_device(tiny_setup, tmp_path):
    one_dir, workers_dir = tmp_path / "one", tmp_path / "workers"
    # Later flags win: the short stage and ETD-Impt over the shared settings.
    one = _run(_worker_flags(tiny_setup, one_dir) + ["--strategy=one_device"] + ETD)
    workers = Launch(_worker_flags(tiny_setup, workers_dir) + ETD)
    try:
        code, output = workers.finish(timeout=300)
        assert code == 0, _tails(output)
        assert "[worker 1] Done; the chief (worker 0) wrote the outputs" in output
    finally:
        workers.stop()
    code, one_output = _finish(one)
    assert code == 0, one_output[-3000:]

    one_init, workers_init = (json.loads((out / "metrics.json").read_text())["student_init"]
                              for out in (one_dir, workers_dir))
    assert workers_init["method"] == "etd_impt" and workers_init["importance_batches"] == 2
    # The tiny teacher is 48 wide with heads of 12: every kind of unit is chosen.
    assert workers_init["selection"]["qk_neurons"]
    assert workers_init == one_init
