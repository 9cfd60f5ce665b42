"""sentence-transformers pooling files: read, write, and what fine-tuning makes of them."""
import json

import pytest
from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.checkpoints import read_pooling, to_hf, write_pooling
from xtremedistil_tf.tasks.init_checkpoint import resolve_pooling


@pytest.mark.parametrize("pooling", ["mean", "first"])
def test_round_trip(tmp_path, pooling):
    write_pooling(tmp_path, pooling, 32)
    assert read_pooling(tmp_path) == pooling
    config = json.loads((tmp_path / "1_Pooling" / "config.json").read_text())
    assert config["word_embedding_dimension"] == 32


def test_folder_without_files_has_no_pooling(tmp_path):
    assert read_pooling(tmp_path) is None
    assert read_pooling(tmp_path / "missing") is None
    assert resolve_pooling("auto", tmp_path) == "pooled_output"
    assert resolve_pooling("first", tmp_path) == "first"


def test_to_hf_writes_the_pooling_the_encoder_was_trained_for(tmp_path):
    encoder = Encoder(get_preset("tiny"))
    encoder.build()
    to_hf(encoder, None, tmp_path / "out", pooling="mean")
    assert read_pooling(tmp_path / "out") == "mean"
    assert resolve_pooling("auto", tmp_path / "out") == "mean"
    assert resolve_pooling("auto", tmp_path / "out" / "model.keras") == "mean"
    to_hf(encoder, None, tmp_path / "plain")
    assert read_pooling(tmp_path / "plain") is None


def test_broken_file_is_named(tmp_path):
    (tmp_path / "modules.json").write_text("[{oops", encoding="utf-8")
    with pytest.raises(ValueError, match="modules.json is not valid JSON"):
        read_pooling(tmp_path)


def test_unknown_pooling_is_refused(tmp_path):
    with pytest.raises(ValueError, match="pooling='max'"):
        write_pooling(tmp_path, "max", 8)
