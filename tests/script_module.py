"""Imports an entry script (run_scripts/...) as a module, without running its main."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_script(relative_path):
    """The module at `relative_path` from the repository root; its absl flags get defined,
    so load each script once per test process (e.g. in a module-scoped fixture)."""
    path = os.path.join(ROOT, relative_path)
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
