"""Reads text and JSON files so that a bad one is named: `DataError` with the path and line.

Python's own messages (`'utf-8' codec can't decode byte 0xf2 in position 0`,
`Expecting property name enclosed in double quotes`) say what went wrong but
not in which file, which is the first thing a user needs to know.
"""
import json
import os

from xtremedistil_tf.utils.data_error import DataError


def read_text(path, encoding="utf-8"):
    """The whole of `path` decoded as `encoding` ("utf-8-sig" drops a byte order mark).

    Raises `DataError` at the line of the first byte that does not decode, and
    `FileNotFoundError` naming `path` when it does not exist.
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DataError(path, line, f"is not {err.encoding.upper()} text (byte "
                        f"0x{raw[err.start]:02x} at offset {err.start} does not decode); "
                        "save the file as UTF-8.") from None


def parse_json(path, text):
    """`text`, read from `path`, parsed as JSON; a syntax error names `path:line`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, err.lineno, f"is not valid JSON ({err.msg} at column "
                        f"{err.colno}).") from None


def read_json(path):
    """The parsed contents of the JSON file `path`; errors name the file and line."""
    return parse_json(path, read_text(path, "utf-8-sig"))
