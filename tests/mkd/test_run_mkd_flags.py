"""run_mkd.py: the shipped flagfiles parse into a config (checked in a subprocess, since
run_mkd.py and run_distill.py define some flags of the same name)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("flagfile", ["flags/mkd.cfg", "flags/mkd_bilstm.cfg",
                                      "flags/paper/mkd_glue.cfg"])
def test_flagfiles_parse_with_the_shared_vocabulary(flagfile):
    # An invalid --tau is checked by MKDConfig.validate(), after every flag has parsed.
    result = subprocess.run(
        [sys.executable, "run_scripts/run_mkd.py", f"--flagfile={flagfile}", "--data_dir=d",
         "--tau=-1"], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert result.returncode == 1
    assert "run_mkd.py: error: tau=-1.0 must be >= 0" in result.stderr, result.stderr[-2000:]
