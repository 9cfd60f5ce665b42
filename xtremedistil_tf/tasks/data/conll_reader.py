"""Reads CoNLL-style files: one token per line, blank lines between sentences."""
import io
import os

from xtremedistil_tf.tasks.data.examples import TokenExample
from xtremedistil_tf.utils.data_error import DataError
from xtremedistil_tf.utils.text_files import read_text


def read_conll(path, tag_column=-1, strip_language_prefix=False):
    """Reads sentences from a CoNLL file.

    Fields are separated by whitespace (spaces or tabs); the token is the first
    field and the tag is field `tag_column` (the last one by default, as in
    CoNLL-2003 `token POS chunk NER`). `-DOCSTART-` lines are skipped. Every
    token line must have as many fields as the first one.

    Args:
        path: the file.
        tag_column: index of the tag field; `None` reads an unlabelled file
            whose lines hold the token only.
        strip_language_prefix: drop an XTREME PAN-X `en:` prefix from tokens.

    Returns a list of `TokenExample`, `source` pointing at each sentence's first line.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise DataError(path, None, "no such file; check the data folder.")
    sentences, words, tags, start = [], [], [], None
    expected = None

    def flush():
        if words:
            sentences.append(TokenExample(
                guid=f"{os.path.basename(path)}-{len(sentences)}", words=tuple(words),
                tags=tuple(tags) if tag_column is not None else None,
                source=f"{path}:{start}"))
        words.clear()
        tags.clear()

    with io.StringIO(read_text(path, "utf-8-sig"), newline=None) as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if not fields:
                flush()
                continue
            if fields[0] == "-DOCSTART-":
                flush()
                continue
            if expected is None:
                expected = len(fields)
                if tag_column is not None and expected < 2:
                    raise DataError(path, number, "has one field, so there is no tag; CoNLL "
                                    "lines are 'token ... tag' separated by whitespace.")
            if len(fields) != expected:
                raise DataError(path, number, f"has {len(fields)} fields but the first token "
                                f"line has {expected}; every token line needs the same "
                                "fields (a token containing a space?).")
            if not words:
                start = number
            token = fields[0]
            if strip_language_prefix and len(token) > 3 and token[2] == ":":
                token = token[3:]
            words.append(token)
            if tag_column is not None:
                tags.append(fields[tag_column])
    flush()
    if not sentences:
        raise DataError(path, None, "the file is empty; it holds no token lines.")
    return sentences
