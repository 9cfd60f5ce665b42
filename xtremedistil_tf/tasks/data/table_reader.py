"""Reads TSV, CSV and JSONL tables, checking every row against the header."""
import csv
import dataclasses
import io
import json
import os

from xtremedistil_tf.utils.data_error import DataError
from xtremedistil_tf.utils.text_files import read_text

FILE_FORMATS = ("tsv", "csv", "jsonl")


@dataclasses.dataclass(frozen=True)
class Table:
    """Rows of one file. `rows` holds `(line_number, fields)` with 1-based lines."""

    path: str
    header: tuple | None
    rows: tuple

    def column(self, column):
        """Index of `column`, given as a header name or a 0-based index."""
        if self.header is not None and column in self.header:
            return self.header.index(column)
        if isinstance(column, int) or str(column).isdigit():
            return int(column)
        known = list(self.header) if self.header else "none (the file has no header)"
        raise DataError(self.path, None, f"there is no column {column!r}; the header names "
                        f"are {known}. Give a header name or a 0-based column index.")

    def values(self, column, allow_missing=False):
        """`(line, value)` pairs of one column; a row too short for it is an error."""
        index = self.column(column)
        out = []
        for line, fields in self.rows:
            if index >= len(fields) or fields[index] is None:
                if allow_missing:
                    out.append((line, None))
                    continue
                raise DataError(self.path, line, f"the row has no column {column!r} "
                                f"(index {index}); every row needs it.")
            out.append((line, fields[index]))
        return out


def infer_format(path):
    ext = os.path.splitext(str(path))[1].lower().lstrip(".")
    if ext == "json":
        ext = "jsonl"
    if ext not in FILE_FORMATS:
        raise DataError(path, None, f"cannot tell the format from the extension {ext!r}; "
                        f"name the file *.tsv, *.csv or *.jsonl or pass file_format, one "
                        f"of {list(FILE_FORMATS)}.")
    return ext


def _read_delimited(path, delimiter):
    records = []
    with io.StringIO(read_text(path, "utf-8-sig"), newline="") as f:
        if delimiter == "\t":
            # GLUE TSVs hold unbalanced quotes: split on tabs only, never unquote.
            for number, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if line.strip():
                    records.append((number, line.split("\t")))
        else:
            reader = csv.reader(f)
            start = 1
            for fields in reader:
                if any(x.strip() for x in fields):
                    records.append((start, fields))
                start = reader.line_num + 1
    return records


def _read_jsonl(path):
    records, keys = [], []
    with io.StringIO(read_text(path, "utf-8-sig"), newline=None) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(path, number, f"is not valid JSON ({err.msg}); JSONL needs "
                                "one JSON object per line.") from None
            if not isinstance(obj, dict):
                raise DataError(path, number, f"holds a {type(obj).__name__}, not a JSON "
                                "object; JSONL needs one object per line.")
            keys.extend(k for k in obj if k not in keys)
            records.append((number, obj))
    rows = tuple((n, [obj.get(k) for k in keys]) for n, obj in records)
    return tuple(keys), rows


def read_table(path, file_format=None, has_header=True):
    """Reads a TSV, CSV or JSONL file into a `Table`.

    Args:
        path: the file.
        file_format: "tsv", "csv" or "jsonl"; `None` infers it from the extension.
        has_header: whether the first TSV/CSV line names the columns (JSONL
            always names them).

    Raises `DataError` (naming the file and line) for an empty file or a row
    whose column count differs from the header's (or the first row's).
    """
    path = str(path)
    if not os.path.isfile(path):
        raise DataError(path, None, "no such file; check the data folder and file flags.")
    file_format = file_format or infer_format(path)
    if file_format not in FILE_FORMATS:
        raise ValueError(f"file_format={file_format!r} is not supported; use one of "
                         f"{list(FILE_FORMATS)}.")
    if file_format == "jsonl":
        header, rows = _read_jsonl(path)
        if not rows:
            raise DataError(path, None, "the file is empty; it needs at least one JSON line.")
        return Table(path, header, rows)
    records = _read_delimited(path, "\t" if file_format == "tsv" else ",")
    if not records:
        raise DataError(path, None, "the file is empty; it needs at least one row.")
    header = None
    if has_header:
        header = tuple(f.strip() for f in records[0][1])
        records = records[1:]
        if not records:
            raise DataError(path, None, "the file has a header but no rows.")
    expected = len(header) if header is not None else len(records[0][1])
    source = "the header" if header is not None else f"line {records[0][0]}"
    kind = "tab-separated" if file_format == "tsv" else "comma-separated"
    for number, fields in records:
        if len(fields) != expected:
            raise DataError(path, number, f"found {len(fields)} {kind} columns but {source} "
                            f"has {expected}; fix the row (a stray or missing separator).")
    return Table(path, header, tuple(records))
