"""ExportConfig refuses bad values with messages naming the field and the fix."""
import pytest
from xtremedistil_tf.export import FORMATS, ExportConfig
from xtremedistil_tf.export.export_data import ExportData, read_export_data


@pytest.mark.parametrize("changes, message", [
    ({"formats": ("saved_model", "onnx")}, "unknown entries \\['onnx'\\]"),
    ({"formats": ()}, "formats is empty"),
    ({"formats": ("litert_fp32", "litert_fp32")}, "repeats"),
    ({"formats": ("saved_model", "saved_model_ids")}, "pick one"),
    ({"version": 0}, "version=0 must be a positive integer"),
    ({"model_name": "my model"}, "model_name='my model'"),
    ({"max_seq_length": 2}, "max_seq_length=2"),
    ({"float32_tolerance": 0.0}, "float32_tolerance=0.0"),
    ({"num_parity_examples": 0}, "num_parity_examples=0"),
    ({"output_dir": ""}, "output_dir is empty"),
    ({"null_score_threshold": "0"}, "null_score_threshold='0' must be a number"),
])
def test_invalid_fields_are_named(changes, message):
    values = {"output_dir": "out", **changes}
    with pytest.raises(ValueError, match=message):
        ExportConfig(**values).validate()


def test_defaults_are_valid_and_every_format_is_documented():
    config = ExportConfig("out").validate()
    assert set(config.formats) <= set(FORMATS)
    assert config.text_formats == ("saved_model",)
    assert config.litert_formats == ("litert_fp32", "litert_fp16", "litert_int8")


def test_read_export_data_from_tsv_and_txt(tmp_path):
    tsv = tmp_path / "dev.tsv"
    tsv.write_text('sentence\tlabel\na "quoted good film\t1\nbad\t0\n', encoding="utf-8")
    data = read_export_data(tsv, text_column="sentence", label_column="label")
    assert data.texts == ('a "quoted good film', "bad") and data.labels == ("1", "0")
    assert read_export_data(tsv, text_column="sentence", limit=1).texts == ('a "quoted good film',)
    txt = tmp_path / "texts.txt"
    txt.write_text("one\n\ntwo\n", encoding="utf-8")
    assert read_export_data(txt).texts == ("one", "two")
    with pytest.raises(ValueError, match="labels has 1 entries"):
        ExportData(["a", "b"], labels=["x"])
