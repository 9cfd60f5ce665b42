"""Replayable flagfiles, written by every entry script into its output folder."""
import sys

from xtremedistil_tf.utils.atomic_io import write_text


def own_flags_text(flag_values, module_name):
    """The flags the script `module_name` defines, one `--name=value` per line.

    `FlagValues.append_flags_into_file` would also pin every flag of the modules
    TensorFlow imports (absl.testing's --test_tmpdir, absl logging's --verbosity,
    ...), which says nothing about the run. Flags left at None are omitted, so a
    replay sees the same None default.

    Args:
        flag_values: the script's parsed `absl.flags.FLAGS`, passed in by the script.
        module_name: the script's `__name__`.
    """
    # absl files a script's flags under its path when it runs as __main__.
    key = sys.argv[0] if module_name == "__main__" else module_name
    own = sorted(flag_values.get_key_flags_for_module(key), key=lambda flag: flag.name)
    return "".join(f"{flag.serialize()}\n" for flag in own if flag.value is not None)


def write_flags_file(path, flag_values, module_name):
    """Writes `own_flags_text` to `path` atomically; replay it with `--flagfile=path`."""
    write_text(path, own_flags_text(flag_values, module_name))
