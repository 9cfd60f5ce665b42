"""Runs several command lines of entry scripts in one Python process.

    python -m tests.script_cases cases.json results.json  # from the repository root

`cases.json` is a list of `[script_path, [arg, ...]]`; `results.json` receives,
for each, `{"exit_code", "stdout", "stderr"}`. Each script runs as
`python <script> <args>` would run it (as `__main__`, through its own
`if __name__ == "__main__":` line); only the interpreter, and so the seconds
TensorFlow takes to start, is shared. An exception that escapes the script is
printed as Python would print it, with exit code 1.
"""
import contextlib
import io
import json
import os
import runpy
import sys
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from absl import flags  # noqa: E402


def _forget_flags(script):
    """Removes the flags `script` defined, so that running it again can define them."""
    for flag in flags.FLAGS.get_key_flags_for_module(script):
        if flag.name in flags.FLAGS:
            delattr(flags.FLAGS, flag.name)
    flags.FLAGS.unparse_flags()


def run_case(script, args):
    stdout, stderr = io.StringIO(), io.StringIO()
    sys.argv = [script, *args]
    exit_code = 0
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            runpy.run_path(script, run_name="__main__")
        except SystemExit as exit_:
            code = exit_.code
            exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        except BaseException:  # noqa: BLE001 - reported like an uncaught exception.
            traceback.print_exc()
            exit_code = 1
        finally:
            _forget_flags(script)
    return {"exit_code": exit_code, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


def main(cases_path, results_path):
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)
    results = [run_case(script, args) for script, args in cases]
    with open(results_path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
