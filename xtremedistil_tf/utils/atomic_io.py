"""Atomic writes through `tf.io.gfile`: a reader sees the old file or the new one, never half.

Writers (`open`, numpy, Keras, safetensors) need a local path, so `atomic_path`
yields one and then moves the result into place with `tf.io.gfile`:

- a local path: the temporary sits beside the final one and a rename swaps it
  in (atomic on POSIX; a folder is renamed whole, the old one moved aside first);
- any other gfile path (`gs://...`, `ram://...`): the local temporary is copied
  beside the final path and renamed over it. Object stores have no atomic
  folder rename, so there a folder is moved file by file: each file appears
  whole, but a reader may briefly see a folder half old and half new.
"""
import contextlib
import json
import os
import shutil
import tempfile
import uuid


@contextlib.contextmanager
def atomic_path(path):
    """Yields a local temporary path; moves it onto `path` (any gfile path) on success.

    Works for files and for folders (a folder replaces the old one whole). On an
    exception the temporary is removed and `path` is left untouched.
    """
    path = os.fspath(path)
    if path.startswith("file://"):
        path = path[len("file://"):]
    if "://" not in path:
        with _local_atomic_path(path) as tmp:
            yield tmp
        return
    base = path.rstrip("/").rsplit("/", 1)[-1]
    staging = tempfile.mkdtemp(prefix="xtremedistil_out_")
    try:
        tmp = os.path.join(staging, base)
        yield tmp
        _publish(tmp, path.rstrip("/"))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@contextlib.contextmanager
def _local_atomic_path(path):
    from tensorflow.io import gfile

    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    base = os.path.basename(path)
    tmp_dir = tempfile.mkdtemp(prefix=f".{base}.", dir=parent)
    # Keep the final name's suffix: some writers (keras .keras, safetensors) check it.
    tmp = os.path.join(tmp_dir, base)
    try:
        yield tmp
        if os.path.isdir(tmp):
            old = None
            if gfile.exists(path):
                old = tempfile.mkdtemp(prefix=f".{base}.old.", dir=parent)
                gfile.rename(path, os.path.join(old, base))
            gfile.rename(tmp, path)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        else:
            gfile.rename(tmp, path, overwrite=True)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _publish(local, path):
    """Copies `local` (a file or folder) beside remote `path`, then moves it onto `path`."""
    from tensorflow.io import gfile

    parent, base = path.rsplit("/", 1)
    gfile.makedirs(parent)
    tmp = f"{parent}/.{base}.tmp-{uuid.uuid4().hex}"
    try:
        if not os.path.isdir(local):
            gfile.copy(local, tmp, overwrite=True)
            gfile.rename(tmp, path, overwrite=True)
            return
        _copy_tree(local, tmp)
        old = None
        if gfile.exists(path):
            old = f"{parent}/.{base}.old-{uuid.uuid4().hex}"
            _move_tree(path, old)
        _move_tree(tmp, path)
        if old is not None:
            gfile.rmtree(old)
    finally:
        if gfile.exists(tmp):
            (gfile.rmtree if gfile.isdir(tmp) else gfile.remove)(tmp)


def _copy_tree(local, remote):
    from tensorflow.io import gfile

    for folder, _, files in os.walk(local):
        target = remote + folder[len(local):].replace(os.sep, "/")
        gfile.makedirs(target)
        for name in files:
            gfile.copy(os.path.join(folder, name), f"{target}/{name}", overwrite=True)


def _move_tree(src, dst):
    # File by file: not every gfile scheme renames folders (ram:// leaves them in place).
    from tensorflow.io import gfile

    for folder, _, files in gfile.walk(src):
        target = dst + folder[len(src):]
        gfile.makedirs(target)
        for name in files:
            gfile.rename(f"{folder}/{name}", f"{target}/{name}", overwrite=True)
    gfile.rmtree(src)


def write_text(path, text):
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
