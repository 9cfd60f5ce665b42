"""Bad checkpoints fail with messages that name the problem and the fix."""
import json

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from tests.hf_reference import make_hf_model
from xtremedistil_tf.checkpoints import from_hf, load_encoder


def test_folder_without_weights(tmp_path):
    make_hf_model("bert", tmp_path)
    (tmp_path / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="No weights.*model.safetensors"):
        load_encoder(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_encoder(tmp_path / "nowhere")


def test_missing_tensor_is_named(tmp_path):
    make_hf_model("bert", tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    del tensors["encoder.layer.1.attention.self.key.weight"]
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match=r"missing tensors: \['encoder.layer.1.attention.self.key.weight'\]"):
        load_encoder(tmp_path)


def test_misshapen_tensor_is_named_with_both_shapes(tmp_path):
    make_hf_model("bert", tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["encoder.layer.0.intermediate.dense.weight"] = np.zeros((36, 32), np.float32)
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match=r"intermediate.dense.weight: checkpoint \(36, 32\), "
                                         r"config expects \(37, 32\)"):
        load_encoder(tmp_path)


def test_unknown_model_type_lists_supported(tmp_path):
    make_hf_model("bert", tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["model_type"] = "gpt2"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"model_type='gpt2'.*supported: \['bert', 'roberta'"):
        load_encoder(tmp_path)


def test_prefixed_task_checkpoint_loads(tmp_path):
    """A BertFor* checkpoint stores the encoder under 'bert.'; the head is ignored."""
    make_hf_model("bert", tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    prefixed = {f"bert.{k}": v for k, v in tensors.items()}
    prefixed["classifier.weight"] = np.zeros((2, 32), np.float32)
    save_file(prefixed, tmp_path / "model.safetensors")
    encoder, _ = load_encoder(tmp_path)
    np.testing.assert_array_equal(
        encoder.embeddings.word_embeddings.embeddings.numpy(),
        tensors["embeddings.word_embeddings.weight"])


def test_hub_name_offline_says_so():
    # tests/conftest.py sets HF_HUB_OFFLINE=1, as on a machine without network.
    with pytest.raises(OSError, match="offline.*local folder"):
        from_hf("some-org/some-model-that-is-not-cached")


def test_vocabulary_that_disagrees_with_embeddings(tmp_path):
    from xtremedistil_tf import Tokenizer

    make_hf_model("bert", tmp_path)  # 99 embedding rows.
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(90)]
    Tokenizer.from_vocab(tokens).save(tmp_path)
    with pytest.raises(ValueError, match="95 tokens but the embedding matrix has 99 rows"):
        from_hf(tmp_path)


def test_from_hf_returns_matching_tokenizer(tmp_path):
    from xtremedistil_tf import Tokenizer

    make_hf_model("bert", tmp_path)
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(94)]
    Tokenizer.from_vocab(tokens).save(tmp_path)
    encoder, tokenizer = from_hf(tmp_path)
    batch = tokenizer(["w3 w7 w90", "w1"], max_length=7)
    assert batch["input_ids"].shape == (2, 7)
    assert encoder(batch)["sequence_output"].shape == (2, 7, 32)


def test_config_json_that_does_not_parse_names_the_file(tmp_path):
    make_hf_model("bert", tmp_path)
    (tmp_path / "config.json").write_text('{\n  "model_type": "bert",\n}\n')
    with pytest.raises(ValueError, match=r"config\.json:3: is not valid JSON"):
        load_encoder(tmp_path)
    (tmp_path / "config.json").write_bytes(b'{"model_type": "\xf2"}')
    with pytest.raises(ValueError, match=r"config\.json:1: is not UTF-8 text"):
        load_encoder(tmp_path)


def test_config_field_out_of_range_names_the_file(tmp_path):
    make_hf_model("bert", tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["num_attention_heads"] = 5
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"config\.json: num_attention_heads=5 does not divide"):
        load_encoder(tmp_path)


def test_folder_without_config_json(tmp_path):
    make_hf_model("bert", tmp_path)
    (tmp_path / "config.json").unlink()
    with pytest.raises(FileNotFoundError, match="No config.json in"):
        load_encoder(tmp_path)
