"""Where an export's files go, version numbering, and moving them into place at the end."""
import os
import shutil
import tempfile


class VersionExistsError(FileExistsError):
    """The output folder already holds the version being exported."""


class ExportLayout:
    """The folders of one export, in TF Serving's layout.

    `<output_dir>/<model_name>/<version>/` is the SavedModel (point TF Serving's
    `--model_base_path` at `<output_dir>/<model_name>`; it ignores the
    non-numeric `litert/` and `reports/` folders beside the versions);
    `<output_dir>/<model_name>/litert/<version>/` holds the `.tflite` files and
    `<output_dir>/<model_name>/reports/<version>/export_report.json` the report.

    Args:
        output_dir: the base folder.
        model_name: the served model's name.
        version: a positive integer, or `None` for one more than the highest
            existing version (1 for a new model).
    """

    def __init__(self, output_dir, model_name, version=None):
        self.model_dir = os.path.join(os.path.abspath(os.fspath(output_dir)), model_name)
        self.version = version if version is not None else self.next_version(self.model_dir)

    @staticmethod
    def next_version(model_dir):
        existing = []
        for parent in (model_dir, os.path.join(model_dir, "litert"),
                       os.path.join(model_dir, "reports")):
            if os.path.isdir(parent):
                existing += [int(n) for n in os.listdir(parent) if n.isdigit()]
        return max(existing, default=0) + 1

    @property
    def saved_model_dir(self):
        return os.path.join(self.model_dir, str(self.version))

    @property
    def litert_dir(self):
        return os.path.join(self.model_dir, "litert", str(self.version))

    @property
    def report_dir(self):
        return os.path.join(self.model_dir, "reports", str(self.version))

    @property
    def report_path(self):
        return os.path.join(self.report_dir, "export_report.json")

    def final_dirs(self):
        return (self.saved_model_dir, self.litert_dir, self.report_dir)

    def check_free(self, overwrite):
        """Refuses to reuse a version unless `overwrite`; call before any work."""
        taken = [d for d in self.final_dirs() if os.path.exists(d)]
        if taken and not overwrite:
            raise VersionExistsError(
                f"Version {self.version} of {os.path.basename(self.model_dir)!r} already "
                f"exists ({', '.join(taken)}). Pass --overwrite to replace it, or a new "
                f"--version (the next free one is {self.next_version(self.model_dir)}; leaving "
                "--version unset picks it).")

    def make_staging(self):
        """A scratch folder on the same file system, so that publishing is a rename."""
        os.makedirs(self.model_dir, exist_ok=True)
        return tempfile.mkdtemp(prefix=f".staging-{self.version}-", dir=self.model_dir)

    def publish(self, staged):
        """Moves staged folders into place: `{final_dir: staged_dir}`.

        Each final folder is swapped in with one rename, after the old one (when
        overwriting) has been moved aside, so a reader never sees half a model.
        Folders of this version that the new export does not write are removed,
        so that no stale file of the old export survives beside the new ones.
        """
        for final in self.final_dirs():
            if final not in staged and os.path.exists(final):
                shutil.rmtree(final)
        for final, source in staged.items():
            os.makedirs(os.path.dirname(final), exist_ok=True)
            old = None
            if os.path.exists(final):
                old = final + f".old-{os.getpid()}"
                os.replace(final, old)
            os.replace(source, final)
            if old:
                shutil.rmtree(old, ignore_errors=True)
