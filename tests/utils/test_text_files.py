"""Text and JSON files that do not parse are named, with the line at fault."""
import pytest

from xtremedistil_tf.utils.data_error import DataError
from xtremedistil_tf.utils.text_files import read_json, read_text


def test_undecodable_byte_names_file_and_line(tmp_path):
    path = tmp_path / "train.tsv"
    path.write_bytes(b"sentence\tlabel\nthe film\t1\ncaf\xe9\t0\n")
    with pytest.raises(DataError, match=r"train\.tsv:3: is not UTF-8 text \(byte 0xe9 at "
                                        r"offset 29"):
        read_text(path)


def test_byte_order_mark_is_dropped_with_utf8_sig(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfhello\n")
    assert read_text(path, "utf-8-sig") == "hello\n"
    assert read_text(path) == "\ufeffhello\n"


def test_broken_json_names_file_line_and_column(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{\n  "model_type": "bert",\n}\n')
    with pytest.raises(DataError, match=r"config\.json:3: is not valid JSON \(Expecting "
                                        r"property name enclosed in double quotes at column 1"):
        read_json(path)
    path.write_text('{"hidden_size": 32}')
    assert read_json(path) == {"hidden_size": 32}


def test_missing_file_is_os_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="none.json"):
        read_json(tmp_path / "none.json")
