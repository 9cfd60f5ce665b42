"""The error raised for malformed input data: it names the file and the line."""


class DataError(ValueError):
    """A problem in an input file, located by `path` and `line` (1-based).

    Args:
        path: the file at fault.
        line: 1-based line number, or `None` when the problem is not on one line
            (an empty file) or the format has no lines (JSON).
        message: what is wrong and how to fix it.

    Examples:
    >>> raise DataError("glue/SST-2/train.tsv", 12, "expected 2 columns, found 3")
    DataError: glue/SST-2/train.tsv:12: expected 2 columns, found 3
    """

    def __init__(self, path, line, message):
        self.path = str(path)
        self.line = line
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {message}")

    @classmethod
    def at(cls, source, message):
        """An error at `source`, a "path:line" string as readers record it."""
        path, _, line = source.rpartition(":")
        if path and line.isdigit():
            return cls(path, int(line), message)
        return cls(source, None, message)
