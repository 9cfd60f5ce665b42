"""Atomic writes: a reader sees the old file or the new one, never half of one."""
import contextlib
import json
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; moves it onto `path` on success.

    Works for files and for folders (a folder replaces the old one whole). On an
    exception the temporary is removed and `path` is left untouched.
    """
    path = os.fspath(path)
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
            if os.path.exists(path):
                old = tempfile.mkdtemp(prefix=f".{base}.old.", dir=parent)
                os.replace(path, os.path.join(old, base))
            os.replace(tmp, path)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def write_text(path, text):
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
