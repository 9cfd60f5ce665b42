"""Texts (optionally paired and labelled) that export calibrates and checks on."""
import dataclasses
import io
import os

from xtremedistil_tf.utils.text_files import read_text


@dataclasses.dataclass(frozen=True)
class ExportData:
    """A few examples of the user's data.

    Args:
        texts: the first texts.
        text_pairs: second texts (same length), or `None`.
        labels: one label per example (class name or id, or a float score), or
            `None` when unlabelled.
        source: where the examples came from, for the report.
    """

    texts: tuple
    text_pairs: tuple | None = None
    labels: tuple | None = None
    source: str = ""

    def __post_init__(self):
        for name in ("texts", "text_pairs", "labels"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, tuple(value))
        for name in ("text_pairs", "labels"):
            value = getattr(self, name)
            if value is not None and len(value) != len(self.texts):
                raise ValueError(f"ExportData.{name} has {len(value)} entries but texts has "
                                 f"{len(self.texts)}; give one per text.")

    def __len__(self):
        return len(self.texts)

    def head(self, n):
        """The first `n` examples."""
        cut = lambda values: None if values is None else values[:n]  # noqa: E731
        return ExportData(self.texts[:n], cut(self.text_pairs), cut(self.labels), self.source)


def read_export_data(path, text_column="0", text_pair_column="", label_column="",
                     has_header=True, limit=0):
    """Reads `ExportData` from a `.txt` file (one text per line) or a TSV/CSV/JSONL table.

    Args:
        path: the file.
        text_column, text_pair_column, label_column: header names or 0-based
            indices; empty means absent (tables only).
        has_header: whether a TSV/CSV file starts with column names.
        limit: keep the first `limit` examples (0: all).
    """
    path = str(path)
    if path.endswith(".txt"):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No text file at {path!r}.")
        lines = io.StringIO(read_text(path, "utf-8-sig"), newline=None)
        texts = [line.strip() for line in lines if line.strip()]
        return ExportData(texts[:limit or None], source=path)
    from xtremedistil_tf.tasks.data.table_reader import read_table

    table = read_table(path, has_header=has_header)
    rows = table.rows[:limit or None]
    trimmed = dataclasses.replace(table, rows=rows)
    column = lambda name: [v for _, v in trimmed.values(name)] if name else None  # noqa: E731
    return ExportData(column(text_column), column(text_pair_column), column(label_column),
                      source=path)
