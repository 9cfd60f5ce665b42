"""One way for every entry script to fail on bad input: `<script>: error: <message>`.

`run(main)` replaces `absl.app.run(main)`. A flag that does not parse, a
`ValueError` (our configs' `validate()`, `DataError`, a JSON or UTF-8 decoding
error), an `OSError` (a missing file, an unwritable folder) or a
`MissingDependencyError` (an optional extra not installed) ends the script
with that one line on stderr and a non-zero exit code instead of a traceback;
any other exception is a bug and keeps its traceback. Set
`XTREMEDISTIL_TF_TRACEBACK=1` to see the traceback of a user error too.
A flag of the old vocabulary (`--epochs`, `--warmup_proportion`, ...) fails
with the name of its replacement (`flags_common.RENAMED_FLAGS`).

Example:

    if __name__ == "__main__":
        run(main)
"""
import os
import sys

from absl import app, flags

from xtremedistil_tf.utils.optional_imports import MissingDependencyError

# Exit codes, as argparse uses them: 2 for a command line that does not parse.
EXIT_INPUT_ERROR = 1
EXIT_USAGE_ERROR = 2
USER_ERRORS = (ValueError, OSError, MissingDependencyError)


def error_message(error):
    """`error` as one line that names the file or flag at fault."""
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        # str() would read "[Errno 13] Permission denied: 'path'".
        text = f"{error.filename}: {error.strerror}"
        if error.filename2 is not None:
            text += f" (-> {error.filename2})"
    else:
        text = str(error) or type(error).__name__
    return " ".join(text.split())


def fail(script_name, message, exit_code=EXIT_INPUT_ERROR):
    """Prints `<script_name>: error: <message>` to stderr and exits with `exit_code`."""
    print(f"{script_name}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(exit_code)


def check_writable_dir(path, flag):
    """Raises `ValueError` naming `flag` unless `path` is, or can become, a writable folder.

    Entry scripts call it before the long work, so that a typo in the output
    path fails in a second, not after training. Nothing is created.
    """
    path = os.path.abspath(path)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"{flag}={path!r} cannot be a folder: {existing!r} is a file.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag}={path!r} is not writable (no write permission on "
                         f"{existing!r}); choose another folder.")


def _renamed(error):
    """"--epochs was renamed --num_train_epochs" for a flag of the old vocabulary, else None."""
    if not isinstance(error, flags.UnrecognizedFlagError):
        return None
    from xtremedistil_tf.flags_common import RENAMED_FLAGS

    name = error.flagname
    if name.startswith("no") and name[2:] in RENAMED_FLAGS:
        name = name[2:]
    if name not in RENAMED_FLAGS:
        return None
    return f"--{name} was renamed --{RENAMED_FLAGS[name]}; use that (in flagfiles too)."


def run(main, script_name=None, errors=()):
    """Runs `main(argv)` like `absl.app.run`, reporting user errors as one line.

    Args:
        main: the script's `main(argv)`; positional arguments are refused before
            it runs, since every option is a `--name=value` flag.
        script_name: the name the message starts with; default: the file run.
        errors: further exception classes that are user errors for this script
            (e.g. a non-finite training loss).
    """
    script_name = script_name or os.path.basename(sys.argv[0])
    handled = USER_ERRORS + tuple(errors)
    show_traceback = os.environ.get("XTREMEDISTIL_TF_TRACEBACK", "") not in ("", "0")

    def parse(argv):
        try:
            return flags.FLAGS(argv)
        except flags.Error as error:
            renamed = _renamed(error)
            if renamed:
                fail(script_name, renamed, EXIT_USAGE_ERROR)
            # absl starts an unreadable --flagfile's message with "ERROR:: ".
            message = error_message(error).removeprefix("ERROR:: ")
            fail(script_name, f"{message} (see --helpshort)", EXIT_USAGE_ERROR)

    def guarded_main(argv):
        if len(argv) > 1:
            fail(script_name, f"unexpected arguments {argv[1:]}; flags look like "
                 "--name=value.", EXIT_USAGE_ERROR)
        try:
            return main(argv)
        except app.UsageError as error:
            if show_traceback:
                raise
            fail(script_name, error_message(error), EXIT_USAGE_ERROR)
        except handled as error:
            if show_traceback:
                raise
            fail(script_name, error_message(error))

    app.run(guarded_main, flags_parser=parse)
