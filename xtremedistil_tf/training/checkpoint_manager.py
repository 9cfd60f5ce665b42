"""Training checkpoints that a kill at any moment cannot corrupt."""
import json
import os

import numpy as np

from xtremedistil_tf.utils.atomic_io import atomic_path

_STATE = "state.json"


class CheckpointManager:
    """Saves and restores groups of variables plus a JSON state in one folder.

    The folder is written beside its final place and swapped in whole, so a
    reader finds the previous checkpoint or the new one, never a mix. Values
    are stored as numpy arrays with their variable paths, which restores the
    same way under any tf.distribute strategy and lets only the chief write.

    Args:
        folder: where the checkpoint lives, e.g. `<output_dir>/checkpoint`.

    Examples:
    >>> manager = CheckpointManager("/tmp/run/checkpoint")
    >>> manager.save({"step": 10}, {"model": model.variables})
    >>> state = manager.restore({"model": model.variables})
    """

    def __init__(self, folder):
        self.folder = os.fspath(folder)

    def exists(self):
        return os.path.isfile(os.path.join(self.folder, _STATE))

    def save(self, state, groups):
        """`groups` maps a name to a list of variables (or arrays) to store."""
        with atomic_path(self.folder) as tmp:
            os.makedirs(tmp)
            for name, variables in groups.items():
                arrays = {f"{i:05d}": np.asarray(v) for i, v in enumerate(_values(variables))}
                paths = [getattr(v, "path", str(i)) for i, v in enumerate(variables)]
                _save_npz(os.path.join(tmp, f"{name}.npz"), arrays)
                _write(os.path.join(tmp, f"{name}.paths.json"), json.dumps(paths))
            # Written last: its presence means the folder is complete.
            _write(os.path.join(tmp, _STATE), json.dumps(state, indent=2, sort_keys=True))

    def read_state(self):
        with open(os.path.join(self.folder, _STATE), encoding="utf-8") as f:
            return json.load(f)

    def read_group(self, name):
        path = os.path.join(self.folder, f"{name}.npz")
        if not os.path.exists(path):
            return None
        with np.load(path) as data:
            return [data[key] for key in sorted(data.files)]

    def restore(self, groups):
        """Assigns stored values to `groups` of variables; returns the state.

        Raises ValueError when a group's variable count or shapes differ, which
        means the checkpoint came from another model or recipe.
        """
        checked = []
        for name, variables in groups.items():
            values = self.read_group(name)
            if values is None:
                raise ValueError(f"Checkpoint {self.folder!r} has no group {name!r}.")
            if len(values) != len(variables):
                raise ValueError(
                    f"Checkpoint {self.folder!r} holds {len(values)} {name} variables but the "
                    f"run has {len(variables)}; it belongs to another model or recipe. Use a "
                    "new output_dir or delete the checkpoint folder.")
            for variable, value in zip(variables, values):
                if tuple(variable.shape) != value.shape:
                    raise ValueError(
                        f"Checkpoint {self.folder!r}: {name} variable {variable.path} has shape "
                        f"{tuple(variable.shape)} but the stored value {value.shape}.")
            checked.append((variables, values))
        # Assign only once everything matched, so a refused checkpoint changes nothing.
        for variables, values in checked:
            for variable, value in zip(variables, values):
                variable.assign(value)
        return self.read_state()


def _values(variables):
    out = []
    for v in variables:
        out.append(v.numpy() if hasattr(v, "numpy") else np.asarray(v))
    return out


def _save_npz(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
