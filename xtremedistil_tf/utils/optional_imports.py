"""Imports of optional dependencies that fail with the command installing them.

setup.py keeps what only some runs need in extras (`tfds`, `litert`, `torch`);
a run that needs one of them and finds it missing should say which extra to
install rather than show `No module named ...` from deep inside a loader.
"""
import importlib


class MissingDependencyError(ImportError):
    """An optional dependency that the requested feature needs is not installed."""


def require(module, extra, feature):
    """Imports and returns `module`, or raises `MissingDependencyError` naming `extra`.

    Args:
        module: the dotted module name, e.g. "tensorflow_datasets".
        extra: the setup.py extra that installs it, e.g. "tfds".
        feature: what needs it, for the message, e.g. "--data_source=tfds".

    Example:
    >>> tfds = require("tensorflow_datasets", "tfds", "TFDS data sources")
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        package = module.split(".")[0]
        raise MissingDependencyError(
            f"{feature} needs the optional dependency {package!r}, which is not installed; "
            f"install it with: pip install \"xtremedistil_tf[{extra}]\"") from err
