"""Lists the flags every entry script defines, and which module defines each.

    python -m tests.flag_inventory  # from the repository root; prints JSON

Each script is loaded as a module of its own name (its `if __name__ ==
"__main__":` block does not run), its flags are read, then removed, so that the
next script can define flags of the same name. The result maps each script to
`{flag name: defining module}`, where the module is the script's own name for
its own flags and `xtremedistil_tf.flags_common` for the shared groups.
"""
import glob
import json
import os
import runpy
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from absl import flags, logging  # noqa: E402,F401  (absl logging's flags exist first)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MODULE = "xtremedistil_tf.flags_common"


def entry_scripts():
    """Every script a user runs with absl flags, relative to the repository root."""
    patterns = ("run_distill.py", "run_scripts/*.py", "run_scripts/benchmarks/*.py",
                "run_scripts/checks/*.py", "run_scripts/experiments/*.py")
    found = []
    for pattern in patterns:
        for path in glob.glob(os.path.join(ROOT, pattern)):
            with open(path, encoding="utf-8") as f:
                if "import argparse" not in f.read():  # launchers with argparse have no flags
                    found.append(os.path.relpath(path, ROOT))
    return sorted(found)


def _forget_entry_modules():
    """Drops imported entry scripts (`import run_distill`), so the next import defines
    their flags again."""
    scripts = {os.path.join(ROOT, script) for script in entry_scripts()}
    for name, module in list(sys.modules.items()):
        if os.path.abspath(getattr(module, "__file__", None) or "") in scripts:
            del sys.modules[name]


def script_flags(script):
    """`{name: defining module}` of the flags `script` defines or takes from the groups."""
    module = "entry_" + os.path.splitext(script)[0].replace(os.sep, "_")
    before = set(flags.FLAGS)
    runpy.run_path(os.path.join(ROOT, script), run_name=module)
    entry_modules = {module, SHARED_MODULE} | {os.path.splitext(os.path.basename(s))[0]
                                               for s in entry_scripts()}
    # The script's own flags, the shared ones, and those of an entry script it imports
    # (run_distill); not those of TensorFlow's modules.
    names = {name for name in set(flags.FLAGS) - before
             if flags.FLAGS.find_module_defining_flag(name) in entry_modules}
    key_flags = {flag.name for flag in flags.FLAGS.get_key_flags_for_module(module)}
    found = {}
    for name in sorted(names | key_flags):
        definer = flags.FLAGS.find_module_defining_flag(name)
        found[name] = module if definer == module else definer
    for name in set(found) - set(before):
        delattr(flags.FLAGS, name)
    _forget_entry_modules()
    return {name: (script if definer == module else definer)
            for name, definer in found.items()}


def main():
    sys.path.insert(0, ROOT)
    inventory = {script: script_flags(script) for script in entry_scripts()}
    json.dump(inventory, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
