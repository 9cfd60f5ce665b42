"""One vocabulary of flag names across the entry scripts (STYLE.md, principle 10).

Every entry script's flags are listed in a child process (`tests.flag_inventory`);
a flag shared by two scripts must come from `xtremedistil_tf.flags_common`, and no
script or shipped flagfile may use a name of the old vocabulary.
"""
import glob
import json
import os
import re
import subprocess
import sys

import pytest
from absl import flags

from xtremedistil_tf import flags_common
from xtremedistil_tf.utils import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = "xtremedistil_tf.flags_common"
# Epoch counts are `num_train_epochs` (prefixed per stage or task) or the teacher's.
_EPOCHS_OK = re.compile(r"(^|_)num_train_epochs$|^teacher_finetune_epochs$")


def own_flags(inventory):
    """`{flag name: [scripts defining it themselves]}`."""
    owners = {}
    for script, found in inventory.items():
        for name, definer in found.items():
            if definer == script:
                owners.setdefault(name, []).append(script)
    return owners


def duplicated(inventory):
    """Flags two scripts define themselves (they belong in flags_common)."""
    return {name: scripts for name, scripts in own_flags(inventory).items()
            if len(scripts) > 1}


def shadowing(inventory, shared_names):
    """Flags a script defines itself under a name flags_common defines."""
    return {name: scripts for name, scripts in own_flags(inventory).items()
            if name in shared_names}


def old_names(names):
    """Names of the old vocabulary among `names`."""
    return sorted(name for name in names if name in flags_common.RENAMED_FLAGS
                  or ("epochs" in name and not _EPOCHS_OK.search(name))
                  or "proportion" in name or name.endswith(("_seq_len", "_max_length")))


@pytest.fixture(scope="module")
def inventory():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-m", "tests.flag_inventory"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_the_checks_catch_a_copied_block():
    bad = {"a.py": {"epochs": "a.py", "seed": "a.py", "batch_size": SHARED},
           "b.py": {"seed": "b.py", "batch_size": SHARED, "stage_num_train_epochs": "b.py"}}
    assert duplicated(bad) == {"seed": ["a.py", "b.py"]}
    assert shadowing(bad, {"seed", "batch_size"}) == {"seed": ["a.py", "b.py"]}
    assert old_names(["epochs", "warmup_proportion", "num_epochs", "max_seq_len",
                      "sst2_epochs", "max_length", "logits_num_train_epochs",
                      "teacher_finetune_epochs", "max_seq_length"]) == [
        "epochs", "max_length", "max_seq_len", "num_epochs", "sst2_epochs",
        "warmup_proportion"]


def test_every_entry_script_is_listed(inventory):
    expected = {"run_distill.py", "run_scripts/run_finetune.py", "run_scripts/run_export.py",
                "run_scripts/run_mkd.py", "run_scripts/run_task_transfer.py"}
    assert expected <= set(inventory)
    assert all(inventory.values()), [s for s, found in inventory.items() if not found]


def test_no_flag_is_defined_by_two_scripts(inventory):
    assert duplicated(inventory) == {}, "move these into xtremedistil_tf/flags_common.py"


def test_no_script_redefines_a_shared_flag(inventory):
    shared = set(flags_common.shared_flag_names())
    assert shadowing(inventory, shared) == {}, "use the flags_common definition"


def test_no_flag_of_the_old_vocabulary(inventory):
    names = {name for found in inventory.values() for name in found}
    assert old_names(names) == []
    assert old_names(flags_common.shared_flag_names()) == []


def test_shipped_flagfiles_use_the_current_names():
    used = {}
    for path in glob.glob(os.path.join(ROOT, "flags", "**", "*.cfg"), recursive=True):
        with open(path, encoding="utf-8") as f:
            for line in f:
                match = re.match(r"\s*--(no)?([A-Za-z0-9_]+)", line)
                if match and match.group(2) != "flagfile":
                    used.setdefault(match.group(2), []).append(os.path.relpath(path, ROOT))
    assert {name: used[name] for name in old_names(used)} == {}


@pytest.mark.parametrize("argument, message", [
    ("epochs", "--epochs was renamed --num_train_epochs"),
    ("warmup_proportion", "--warmup_proportion was renamed --warmup_ratio"),
    ("nomax_seq_len", "--max_seq_len was renamed --max_seq_length"),
])
def test_an_old_name_says_the_new_one(argument, message):
    assert message in cli._renamed(flags.UnrecognizedFlagError(argument, f"--{argument}=1"))
    assert cli._renamed(flags.UnrecognizedFlagError("no_such_flag", "--no_such_flag")) is None
