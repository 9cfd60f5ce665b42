"""Atomic writes land whole on local and gfile paths, and leave the old output on failure."""
import os
import uuid

import pytest
import tensorflow as tf

from xtremedistil_tf.utils.atomic_io import atomic_path, write_json, write_text


def _roots(tmp_path):
    return [str(tmp_path), f"ram://atomic_io_tests/{uuid.uuid4().hex}"]


def _read(path):
    with tf.io.gfile.GFile(path) as f:
        return f.read()


def test_files_and_folders_replace_the_old_ones(tmp_path):
    for root in _roots(tmp_path):
        write_text(f"{root}/run/flags.cfg", "--a=1\n")
        write_json(f"{root}/run/metrics.json", {"x": 1})
        write_text(f"{root}/run/flags.cfg", "--a=2\n")
        assert _read(f"{root}/run/flags.cfg") == "--a=2\n"
        assert '"x": 1' in _read(f"{root}/run/metrics.json")
        for version in ("old", "new"):
            with atomic_path(f"{root}/run/hf_student") as tmp:
                os.makedirs(os.path.join(tmp, "sub"))
                with open(os.path.join(tmp, "sub", f"{version}.txt"), "w") as f:
                    f.write(version)
        assert tf.io.gfile.listdir(f"{root}/run/hf_student/sub") == ["new.txt"]
        # Nothing but the outputs is left beside them.
        assert sorted(tf.io.gfile.listdir(f"{root}/run")) == [
            "flags.cfg", "hf_student", "metrics.json"], root


def test_a_failed_write_keeps_the_old_output(tmp_path):
    for root in _roots(tmp_path):
        write_text(f"{root}/out.txt", "old")
        with pytest.raises(RuntimeError):
            with atomic_path(f"{root}/out.txt") as tmp:
                with open(tmp, "w") as f:
                    f.write("half")
                raise RuntimeError("killed")
        assert _read(f"{root}/out.txt") == "old"
        assert tf.io.gfile.listdir(root) == ["out.txt"]
