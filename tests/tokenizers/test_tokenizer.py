"""Host Tokenizer: ids equal transformers' AutoTokenizer (fast) for every family."""
import json
import os

import numpy as np
import pytest
from transformers import AutoTokenizer

from tests.tokenizers.conftest import HARD_PAIRS, HARD_TEXTS, wordpiece_vocab
from xtremedistil_tf.tokenizers import Tokenizer

KEYS = ("input_ids", "attention_mask", "token_type_ids")


def hf_encode(hf, texts, pairs, max_length, padding="max_length"):
    out = hf(texts, pairs, max_length=max_length, truncation="longest_first", padding=padding,
             return_tensors="np", return_token_type_ids=True)
    return {k: np.asarray(out[k]) for k in KEYS}


def assert_same_as_hf(tok, hf, texts=HARD_TEXTS, pairs=HARD_PAIRS):
    for max_length in (64, 9):
        for second in (None, pairs):
            for padding in ("max_length", "longest"):
                ours = tok(texts, second, max_length=max_length, padding=padding)
                ref = hf_encode(hf, texts, second, max_length, padding)
                for k in KEYS:
                    np.testing.assert_array_equal(
                        ours[k], ref[k], err_msg=f"{k} max_length={max_length} "
                        f"pairs={second is not None} padding={padding}")
                    assert ours[k].dtype == np.int32


def test_minilm_matches_auto_tokenizer(minilm_folder):
    tok = Tokenizer.from_pretrained(minilm_folder)
    assert (tok.family, tok.model_type, tok.do_lower_case) == ("wordpiece", "bert", True)
    assert tok.vocab_size == len(tok.vocab) == 30522
    assert (tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id,
            tok.mask_token_id) == (0, 100, 101, 102, 103)
    assert tok.vocab[1037] == "a"
    assert_same_as_hf(tok, AutoTokenizer.from_pretrained(minilm_folder))


def test_tiny_wordpiece_matches_auto_tokenizer(tiny_wordpiece_folder):
    hf = AutoTokenizer.from_pretrained(tiny_wordpiece_folder)
    tok = Tokenizer.from_pretrained(tiny_wordpiece_folder)
    assert tok.do_lower_case == hf.do_lower_case
    assert_same_as_hf(tok, hf)
    built = Tokenizer.from_vocab(wordpiece_vocab(not tok.do_lower_case),
                                 do_lower_case=tok.do_lower_case)
    np.testing.assert_array_equal(built(HARD_TEXTS)["input_ids"], tok(HARD_TEXTS)["input_ids"])


def test_cased_and_uncased_differ(tiny_wordpiece_folder):
    tok = Tokenizer.from_pretrained(tiny_wordpiece_folder)
    tokens = tok.encode_batch_raw("Café", add_special_tokens=False)[0].tokens
    assert tokens == (["caf", "##e"] if tok.do_lower_case else ["C", "##a", "##f", "##é"])


def test_sentencepiece_matches_auto_tokenizer(spm_folder):
    tok = Tokenizer.from_pretrained(spm_folder)
    hf = AutoTokenizer.from_pretrained(spm_folder)
    assert (tok.family, tok.model_type) == ("sentencepiece", "xlm-roberta")
    assert (tok.cls_token_id, tok.pad_token_id, tok.sep_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert tok.mask_token_id == tok.vocab_size - 1 == len(hf) - 1
    assert_same_as_hf(tok, hf)


def test_bpe_matches_auto_tokenizer(bpe_folder):
    tok = Tokenizer.from_pretrained(bpe_folder)
    assert (tok.family, tok.model_type) == ("bpe", "roberta")
    assert_same_as_hf(tok, AutoTokenizer.from_pretrained(bpe_folder))


def test_pair_layouts(minilm_folder, spm_folder):
    bert = Tokenizer.from_pretrained(minilm_folder)
    out = bert("a", "b", max_length=8)
    assert out["input_ids"][0].tolist() == [101, 1037, 102, 1038, 102, 0, 0, 0]
    assert out["token_type_ids"][0].tolist() == [0, 0, 0, 1, 1, 0, 0, 0]
    xlmr = Tokenizer.from_pretrained(spm_folder)
    ids = xlmr("a", "b", max_length=12)["input_ids"][0].tolist()
    a, b = (xlmr.encode_batch_raw(t, add_special_tokens=False)[0].ids for t in "ab")
    assert ids[:len(a) + len(b) + 4] == [0, *a, 2, 2, *b, 2]
    assert not xlmr("a", "b", max_length=12)["token_type_ids"].any()


def test_save_round_trips_through_auto_tokenizer(minilm_folder, tiny_wordpiece_folder,
                                                 spm_folder, bpe_folder, tmp_path):
    for i, folder in enumerate((minilm_folder, tiny_wordpiece_folder, spm_folder, bpe_folder)):
        tok = Tokenizer.from_pretrained(folder)
        out = tmp_path / str(i)
        tok.save(out)
        names = set(os.listdir(out))
        assert {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} <= names
        family_files = {"wordpiece": {"vocab.txt"}, "sentencepiece": {"sentencepiece.bpe.model"},
                        "bpe": {"vocab.json", "merges.txt"}}[tok.family]
        assert family_files <= names
        assert not [n for n in names if n.startswith(".tmp")]
        assert_same_as_hf(tok, AutoTokenizer.from_pretrained(out), HARD_TEXTS[:6], HARD_PAIRS[:6])
        again = Tokenizer.from_pretrained(out)
        assert (again.family, again.model_type, again.do_lower_case) == (
            tok.family, tok.model_type, tok.do_lower_case)
        np.testing.assert_array_equal(again(HARD_TEXTS)["input_ids"], tok(HARD_TEXTS)["input_ids"])


def test_tokenizer_json_only_folder_loads_the_same(spm_folder, tmp_path):
    tok = Tokenizer.from_pretrained(spm_folder)
    tok.save(tmp_path)
    os.remove(tmp_path / "sentencepiece.bpe.model")
    again = Tokenizer.from_pretrained(tmp_path)
    assert again.sentencepiece_model is None
    np.testing.assert_array_equal(again(HARD_TEXTS)["input_ids"], tok(HARD_TEXTS)["input_ids"])


def test_tokenizer_config_flags_win_over_tokenizer_json(minilm_folder, tmp_path):
    # transformers 5 rebuilds BERT normalization from tokenizer_config.json.
    Tokenizer.from_pretrained(minilm_folder).save(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    config["do_lower_case"] = False
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    tok = Tokenizer.from_pretrained(tmp_path)
    assert not tok.do_lower_case
    np.testing.assert_array_equal(tok(HARD_TEXTS)["input_ids"],
                                  hf_encode(AutoTokenizer.from_pretrained(tmp_path),
                                            HARD_TEXTS, None, 128)["input_ids"])


def test_num_truncated(minilm_folder):
    tok = Tokenizer.from_pretrained(minilm_folder)
    texts = ["one two three four five", "one", "one two three"]
    out = tok(texts, max_length=4, return_num_truncated=True)
    assert out["num_truncated"] == 2  # 5 and 3 words do not fit in 4 - 2 = 2 slots
    # Pairs: 7 - 3 = 4 slots; only 5 + 1 words overflow.
    assert tok(texts, ["a", "b", "c"], max_length=7, return_num_truncated=True)[
        "num_truncated"] == 1
    assert "num_truncated" not in tok(texts)


def test_single_string_and_longest_padding(minilm_folder):
    tok = Tokenizer.from_pretrained(minilm_folder)
    out = tok("hello world", max_length=16, padding="longest")
    assert out["input_ids"].tolist() == [[101, 7592, 2088, 102]]
    assert out["attention_mask"].tolist() == [[1, 1, 1, 1]]


def test_encode_batch_raw_gives_offsets_and_word_ids(minilm_folder):
    tok = Tokenizer.from_pretrained(minilm_folder)
    text = "Naïve café"
    enc = tok.encode_batch_raw([text])[0]
    assert enc.tokens == ["[CLS]", "naive", "cafe", "[SEP]"]
    assert enc.word_ids == [None, 0, 1, None]
    assert [text[s:e] for s, e in enc.offsets[1:3]] == ["Naïve", "café"]
    windows = tok.encode_batch_raw(["q"], [" ".join(["w"] * 20)], max_length=10,
                                   truncation="only_second", stride=2)[0]
    assert len(windows.ids) == 10 and windows.overflowing


@pytest.mark.parametrize("kwargs, message", [
    ({"padding": "do_not_pad"}, "padding"),
    ({"max_length": 2}, "max_length=2"),
    ({"text_pairs": ["a", "b"]}, "text_pairs has 2"),
])
def test_call_errors(minilm_folder, kwargs, message):
    tok = Tokenizer.from_pretrained(minilm_folder)
    with pytest.raises(ValueError, match=message):
        tok(["x"], **kwargs)


def test_construction_errors(tmp_path):
    with pytest.raises(ValueError, match="no tokenizer files"):
        Tokenizer.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        Tokenizer.from_vocab(["[PAD]", "[UNK]", "a"])
    with pytest.raises(ValueError, match="appears twice"):
        Tokenizer.from_vocab(wordpiece_vocab(False) + ["the"])
    with pytest.raises(ValueError, match="valid:"):
        Tokenizer("wordpiece", wordpiece_vocab(False), model_type="gpt2")
    with pytest.raises(ValueError, match="texts\\[1\\]"):
        Tokenizer.from_vocab(wordpiece_vocab(False))(["a", None])


def test_broken_tokenizer_files_are_named(tmp_path):
    Tokenizer.from_vocab(wordpiece_vocab(False)).save(tmp_path)
    (tmp_path / "tokenizer_config.json").write_text('{"do_lower_case": true,}')
    with pytest.raises(ValueError, match=r"tokenizer_config\.json:1: is not valid JSON"):
        Tokenizer.from_pretrained(tmp_path)
    (tmp_path / "tokenizer_config.json").unlink()
    (tmp_path / "tokenizer.json").unlink()
    (tmp_path / "vocab.txt").write_bytes(b"[PAD]\n[UNK]\n\xf2\n")
    with pytest.raises(ValueError, match=r"vocab\.txt:3: is not UTF-8 text"):
        Tokenizer.from_pretrained(tmp_path)
