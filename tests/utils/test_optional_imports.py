"""A missing optional dependency names the extra that installs it."""
import sys

import pytest

from xtremedistil_tf.tasks.data.tfds_loader import load_tfds
from xtremedistil_tf.utils.optional_imports import MissingDependencyError, require


def test_require_returns_the_module():
    assert require("json", "none", "Tests").dumps([1]) == "[1]"


def test_missing_module_names_feature_and_extra():
    with pytest.raises(MissingDependencyError, match=r"Magic needs the optional dependency "
                                                     r"'no_such_package'.*"
                                                     r'pip install "xtremedistil_tf\[magic\]"'):
        require("no_such_package.sub", "magic", "Magic")


def test_tfds_sources_without_tensorflow_datasets(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import now fails
    with pytest.raises(MissingDependencyError, match=r"--data_source=tfds.*xtremedistil_tf\[tfds\]"):
        next(load_tfds("glue/sst2", "train"))
