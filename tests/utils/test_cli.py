"""The entry-script wrapper: one line per user error, tracebacks for bugs.

tests/test_bad_inputs.py runs the real entry scripts on bad inputs; these tests
call `cli.run` in-process on small `main` functions.
"""
import sys

import pytest
from absl import flags

from xtremedistil_tf.utils import cli

flags.DEFINE_integer("cli_test_steps", 1, "A flag for these tests.")


class Diverged(RuntimeError):
    pass


def _run(main, *args, monkeypatch, capsys, traceback=False, errors=()):
    """`(exit code, stderr)` of `cli.run(main)` on the command line `tool.py args`."""
    monkeypatch.setattr(sys, "argv", ["tool.py", *args])
    monkeypatch.setenv("XTREMEDISTIL_TF_TRACEBACK", "1" if traceback else "")
    try:
        with pytest.raises(SystemExit) as exit_:
            cli.run(main, errors=errors)
        return exit_.value.code, capsys.readouterr().err
    finally:
        flags.FLAGS.unparse_flags()


def _check_steps(argv):
    if flags.FLAGS.cli_test_steps < 2:
        raise ValueError(f"--cli_test_steps={flags.FLAGS.cli_test_steps} must be above 1;\n"
                         "  raise it.")
    return 0


def test_user_error_is_one_line(monkeypatch, capsys):
    run = lambda *args: _run(_check_steps, *args, monkeypatch=monkeypatch,  # noqa: E731
                             capsys=capsys)
    assert run() == (1, "tool.py: error: --cli_test_steps=1 must be above 1; raise it.\n")
    assert run("--cli_test_steps=3") == (0, "")


def test_bad_command_line_is_one_line_with_exit_code_2(monkeypatch, capsys):
    run = lambda *args: _run(_check_steps, *args, monkeypatch=monkeypatch,  # noqa: E731
                             capsys=capsys)
    code, stderr = run("--cli_test_steps=x")
    assert code == 2 and len(stderr.splitlines()) == 1
    assert stderr.startswith("tool.py: error: flag --cli_test_steps=x: ")
    code, stderr = run("--no_such_flag=1")
    assert code == 2 and "no_such_flag" in stderr and len(stderr.splitlines()) == 1
    code, stderr = run("3")
    assert (code, stderr) == (2, "tool.py: error: unexpected arguments ['3']; flags look "
                                 "like --name=value.\n")


def test_bugs_and_requested_tracebacks_propagate(monkeypatch, capsys):
    with pytest.raises(KeyError):
        _run(lambda argv: {}["missing"], monkeypatch=monkeypatch, capsys=capsys)
    with pytest.raises(ValueError, match="must be above 1"):
        _run(_check_steps, monkeypatch=monkeypatch, capsys=capsys, traceback=True)
    with pytest.raises(Diverged):
        _run(_diverge, monkeypatch=monkeypatch, capsys=capsys)


def _diverge(argv):
    raise Diverged("the loss became nan at step 3")


def test_script_specific_errors(monkeypatch, capsys):
    assert _run(_diverge, monkeypatch=monkeypatch, capsys=capsys, errors=(Diverged,)) == (
        1, "tool.py: error: the loss became nan at step 3\n")


def test_os_error_names_the_file_without_errno():
    error = PermissionError(13, "Permission denied", "/data/out")
    assert cli.error_message(error) == "/data/out: Permission denied"
    assert cli.error_message(FileNotFoundError("No config.json in 'x'.")) == \
        "No config.json in 'x'."


def test_writable_dir(tmp_path):
    cli.check_writable_dir(str(tmp_path / "new" / "deeper"), "--output_dir")
    assert not (tmp_path / "new").exists()
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(ValueError, match=r"--output_dir=.*a_file/out.*is a file"):
        cli.check_writable_dir(str(tmp_path / "a_file" / "out"), "--output_dir")
