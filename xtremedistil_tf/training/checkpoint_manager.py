"""Training checkpoints on `tf.train.Checkpoint`, restored by name, safe against kills.

Format: `<folder>/ckpt-<n>.index` and `ckpt-<n>.data-*`, plus TensorFlow's
`checkpoint` index file naming the latest, the last `max_to_keep` kept. Any
`tf.io.gfile` path works (local, `gs://`, `ram://`). A checkpoint holds groups
of variables (`model`, `optimizer`, `best`, ...), each a dict keyed by a stable
name, and one string tensor `meta`: the run's JSON state and the name, shape and
dtype of every stored variable. State and weights are one TensorFlow
checkpoint, so a kill can never pair new weights with an old state.

Why dicts of variables and not the Keras objects themselves: with Keras 3.15 on
TF 2.21, `tf.train.Checkpoint(model=keras_model)` silently leaves out the
variables of layers kept in a Python list (an `Encoder`'s `encoder_layers`),
and a Keras optimizer is tracked by list position (`optimizer/_variables/17`),
saving the model's variables a second time under `_trainable_variables/<i>`.
Keys here are attribute paths from the model (`variables_by_structure`), and
an optimizer slot takes its model variable's key (`optimizer_variables`), so a
restore matches by name whatever order the variables were created or built in
and whatever numbers Keras gave the auto-named layers (`sequence_classifier_1`).

Atomicity, as checked in the installed TensorFlow 2.21 sources
(`tensorflow/python/checkpoint/`): `CheckpointManager.save` calls
`Checkpoint._write` (checkpoint.py), which writes `ckpt-<n>` in full first
(functional_saver.py: shards go to `ckpt-<n>_temp/` and MergeV2Checkpoints
moves them into place) and only then runs the manager's callback
`_record_and_sweep_state` (checkpoint_management.py). That callback points the
`checkpoint` index file at `ckpt-<n>` with `file_io.atomic_write_string_to_file`
(a temporary file renamed over the old one) *before* `_sweep` deletes the
checkpoints beyond `max_to_keep`. So at every moment the index names a complete
checkpoint, the previous or the new one, and a half-written `ckpt-<n>` is never
read (the next save overwrites it).
"""
import collections
import json
import re
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

_META = "meta"
_PREFIX = "ckpt"
# Objects a walk from a model descends into, and references it does not follow.
_OWNERS = (tf.Variable, keras.Variable, keras.layers.Layer, keras.random.SeedGenerator)
_SKIP = {"_inbound_nodes", "_outbound_nodes", "_tracker"}


class CheckpointManager:
    """Saves and restores named groups of variables plus a JSON state.

    Under MultiWorkerMirroredStrategy every worker calls `save` (TensorFlow may
    need all of them for distributed variables); a worker that is not the chief
    writes to a temporary folder of its own and deletes it. Every worker
    restores from `folder`, which must then be shared (e.g. `gs://`).

    Args:
        folder: where checkpoints live, e.g. `<output_dir>/checkpoint`.
        max_to_keep: how many checkpoints to keep (at least 1).
        is_chief: whether this worker writes into `folder`.

    Call it outside `strategy.scope()`: it makes plain variables for the state
    and for stored arrays.

    Examples:
    >>> manager = CheckpointManager("gs://bucket/run/checkpoint")
    >>> weights = variables_by_structure(model)
    >>> manager.save({"step": 10}, {"model": weights,
    ...                             "optimizer": optimizer_variables(optimizer, weights)})
    >>> state = manager.restore({"model": variables_by_structure(model)})
    """

    def __init__(self, folder, max_to_keep=2, is_chief=True):
        if int(max_to_keep) < 1:
            raise ValueError(f"max_to_keep={max_to_keep} must be at least 1.")
        self.folder = str(folder)
        self.max_to_keep = int(max_to_keep)
        self.is_chief = bool(is_chief)
        # The state of this process's last save (every worker has it).
        self.last_state = None

    @property
    def latest(self):
        """The prefix of the latest complete checkpoint, or None."""
        path = tf.train.latest_checkpoint(self.folder)
        if path is None and tf.io.gfile.exists(f"{self.folder}/state.json"):
            raise ValueError(
                f"{self.folder!r} holds a checkpoint in the old format (state.json and .npz "
                "files), which this version does not read. Use a new output_dir or delete the "
                "checkpoint folder.")
        return path

    def exists(self):
        return self.latest is not None

    def save(self, state, groups):
        """Writes `state` (JSON-able) and `groups`; returns the checkpoint prefix.

        `groups` maps a name to a dict of stable name -> variable or array, or
        to a list of variables (keyed by their Keras paths).
        """
        named = {name: _named(name, group) for name, group in groups.items()}
        meta = {"state": state, "variables": {n: _layout(g) for n, g in named.items()}}
        root = tf.train.Checkpoint(
            **{_META: tf.Variable(json.dumps(meta, sort_keys=True), trainable=False)},
            **{n: {k: _trackable(v) for k, v in g.items()} for n, g in named.items()})
        folder = self.folder if self.is_chief else tempfile.mkdtemp(prefix="xtremedistil_ckpt_")
        try:
            manager = tf.train.CheckpointManager(
                root, folder, max_to_keep=self.max_to_keep, checkpoint_name=_PREFIX)
            path = manager.save(checkpoint_number=_number(manager.latest_checkpoint) + 1)
        finally:
            if not self.is_chief:
                shutil.rmtree(folder, ignore_errors=True)
        self.last_state = json.loads(json.dumps(state))
        return path if self.is_chief else None

    def read_state(self):
        """The JSON state saved with the latest checkpoint's weights."""
        return self._meta(self._latest_or_raise())["state"]

    def read_group(self, name):
        """A stored group as `{name: numpy array}`, or None when the checkpoint has none."""
        path = self._latest_or_raise()
        layout = self._meta(path)["variables"].get(name)
        if layout is None:
            return None
        holders = {key: tf.Variable(tf.zeros(shape, dtype), trainable=False)
                   for key, (shape, dtype) in layout.items()}
        tf.train.Checkpoint(**{name: holders}).read(path).expect_partial()
        return {key: holder.numpy() for key, holder in holders.items()}

    def restore(self, groups):
        """Assigns the stored values to `groups` by name; returns the state.

        Raises one ValueError, before anything is assigned, when a name, shape
        or dtype differs: the checkpoint belongs to another model or recipe.
        """
        path = self._latest_or_raise()
        meta = self._meta(path)
        named = {name: _named(name, group) for name, group in groups.items()}
        for name, group in named.items():
            problem = _difference(name, meta["variables"].get(name), _layout(group))
            if problem:
                raise ValueError(
                    f"Checkpoint {path!r} belongs to another model or recipe ({problem}). Use a "
                    f"new output_dir or delete the checkpoint folder {self.folder!r}.")
        status = tf.train.Checkpoint(**{n: dict(g) for n, g in named.items()}).read(path)
        status.expect_partial().assert_existing_objects_matched()
        return meta["state"]

    def _latest_or_raise(self):
        path = self.latest
        if path is None:
            raise ValueError(f"No checkpoint in {self.folder!r}.")
        return path

    @staticmethod
    def _meta(path):
        holder = tf.Variable("", dtype=tf.string, trainable=False)
        tf.train.Checkpoint(**{_META: holder}).read(path).expect_partial()
        return json.loads(holder.numpy().decode("utf-8"))


def variables_by_structure(model):
    """A Keras model's variables keyed by attribute path from `model`.

    E.g. `encoder/encoder_layers/0/attention/query/_kernel`: names come from the
    code (attributes, list indices, dict keys), not from Keras's auto-numbered
    layer names (`sequence_classifier_1`, `forward_lstm_3`), which change with
    how many layers the process made before. Walked breadth first, public
    attributes before private ones, so each variable gets its shortest name.
    """
    names, seen = {}, {id(model)}
    queue = collections.deque([("", model)])
    while queue:
        prefix, obj = queue.popleft()
        for key, item in _children(obj):
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, (tf.Variable, keras.Variable)):
                names[prefix + key] = item
            else:
                queue.append((f"{prefix}{key}/", item))
    for variable in model.variables:  # anything the walk did not reach: its path
        if id(variable) not in seen:
            seen.add(id(variable))
            names[_unique_key(names, f"unreached/{variable.path}")] = variable
    return names


def optimizer_variables(optimizer, model_variables=None):
    """An optimizer's variables keyed by names that do not depend on its own.

    Keras numbers optimizer names per process (`adam_w`, `adam_w_1`, ...), so
    the optimizer's name is dropped from each path; a wrapped optimizer's
    variables (`LossScaleOptimizer.inner_optimizer`) go under `inner/`. Given
    the model's `{name: variable}`, a slot variable (Keras names it
    `<model variable path with _>_<slot>`) is keyed `<that name>/<slot>`, so it
    follows its model variable by name too.
    """
    slots = {}
    for name, variable in (model_variables or {}).items():
        if hasattr(variable, "path"):
            slots[variable.path.replace("/", "_") + "_"] = name
    out, seen, depth, current = {}, set(), 0, optimizer
    while current is not None:
        prefix = f"{current.name}/"
        for variable in current.variables:
            if id(variable) not in seen and variable.path.startswith(prefix):
                seen.add(id(variable))
                rest = variable.path[len(prefix):]
                owner = max((s for s in slots if rest.startswith(s)), key=len, default=None)
                if owner is not None:
                    rest = f"{slots[owner]}/{rest[len(owner):]}"
                out[_unique_key(out, "inner/" * depth + rest)] = variable
        current = getattr(current, "inner_optimizer", None)
        depth += 1
    for variable in optimizer.variables:  # any other owner: its full path
        if id(variable) not in seen:
            seen.add(id(variable))
            out[_unique_key(out, variable.path)] = variable
    return out


def _children(obj):
    """`(name, child)` of a Keras object: variables and objects that own variables."""
    attributes = sorted(vars(obj).items(), key=lambda kv: (kv[0].startswith("_"), kv[0]))
    for attr, value in attributes:
        if attr.startswith("__") or attr in _SKIP:
            continue
        if isinstance(value, dict):
            items = [(f"{attr}/{k}", v) for k, v in value.items() if isinstance(k, str)]
        elif isinstance(value, (list, tuple)):
            items = [(f"{attr}/{i}", v) for i, v in enumerate(value)]
        else:
            items = [(attr, value)]
        for key, item in items:
            if isinstance(item, _OWNERS):
                yield key, item


def _named(name, group):
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name == _META:
        raise ValueError(f"Checkpoint group name {name!r} must be an identifier other than "
                         f"{_META!r}.")
    return dict(group) if isinstance(group, dict) else variables_by_path(group)


def variables_by_path(variables):
    """`{Keras variable path: variable}`, each variable once."""
    out, seen = {}, set()
    for variable in variables:
        if id(variable) in seen:
            continue
        seen.add(id(variable))
        # Paths are unique within a Keras model; a clash (two models with one name)
        # falls back to the order among the clashing variables only.
        out[_unique_key(out, getattr(variable, "path", None) or variable.name)] = variable
    return out


def _unique_key(taken, key):
    out, count = key, 1
    while out in taken:
        count += 1
        out = f"{key}#{count}"
    return out


def _layout(group):
    return {key: [[int(d) for d in value.shape], _dtype(value)] for key, value in group.items()}


def _dtype(value):
    return tf.as_dtype(value.dtype).name


def _trackable(value):
    if isinstance(value, (tf.Variable, keras.Variable)):
        return value
    return tf.Variable(np.asarray(value), trainable=False)


def _number(prefix):
    if prefix is None:
        return 0
    return int(prefix.rsplit("-", 1)[1])


def _difference(name, stored, expected):
    """A short description of how two layouts differ, or '' when they match."""
    if stored is None:
        return f"it stores no {name} variables"
    missing = sorted(set(expected) - set(stored))
    extra = sorted(set(stored) - set(expected))
    if missing or extra:
        parts = [f"{len(stored)} stored {name} variables against {len(expected)} in this run"]
        if missing:
            parts.append(f"none named {missing[0]!r}")
        if extra:
            parts.append(f"an unknown {extra[0]!r}")
        return ", ".join(parts)
    for key in sorted(expected):
        if list(stored[key]) != list(expected[key]):
            return (f"{name} variable {key!r} has shape and dtype {expected[key]} but the "
                    f"stored one {stored[key]}")
    return ""
