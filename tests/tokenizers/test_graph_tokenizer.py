"""GraphTokenizer: in-graph ids equal the host Tokenizer's, in every TF context."""
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.tokenizers.conftest import HARD_PAIRS, HARD_TEXTS, wordpiece_vocab
from xtremedistil_tf.tokenizers import GraphTokenizer, Tokenizer
from xtremedistil_tf.tokenizers import _graph_ops
from xtremedistil_tf.tokenizers.tokenizer import longest_first_lengths

KEYS = ("input_ids", "attention_mask", "token_type_ids")


def to_numpy(out):
    return {k: out[k].numpy() for k in KEYS}


def assert_same(expected, actual, context=""):
    for k in KEYS:
        np.testing.assert_array_equal(actual[k], expected[k], err_msg=f"{k} {context}")
        assert actual[k].dtype == np.int32


def assert_graph_matches_host(tok, texts=HARD_TEXTS, pairs=HARD_PAIRS, lengths=(64, 9)):
    for max_length in lengths:
        layer = tok.graph_tokenizer(max_length=max_length)
        for second in (None, pairs):
            expected = tok(texts, second, max_length=max_length)
            args = (tf.constant(texts),) + (() if second is None else (tf.constant(second),))
            assert_same(expected, to_numpy(layer(*args)), f"{max_length} pairs={second}")


@pytest.fixture(scope="module")
def minilm(minilm_folder):
    return Tokenizer.from_pretrained(minilm_folder)


@pytest.fixture(scope="module")
def xlmr(spm_folder):
    return Tokenizer.from_pretrained(spm_folder)


def test_minilm_graph_matches_host(minilm):
    assert_graph_matches_host(minilm)


def test_tf_function_and_tf_data(minilm):
    layer = minilm.graph_tokenizer(max_length=9)
    for second in (None, HARD_PAIRS):
        expected = minilm(HARD_TEXTS, second, max_length=9)
        args = (tf.constant(HARD_TEXTS),) + (() if second is None else (tf.constant(second),))
        assert_same(expected, to_numpy(tf.function(lambda *a: layer(*a))(*args)), "tf.function")
        ds = tf.data.Dataset.from_tensor_slices(args).batch(5).map(lambda *a: layer(*a))
        got = {k: np.concatenate([b[k].numpy() for b in ds]) for k in KEYS}
        assert_same(expected, got, "tf.data")


def test_tiny_wordpiece_graph_matches_host(tiny_wordpiece_folder):
    assert_graph_matches_host(Tokenizer.from_pretrained(tiny_wordpiece_folder))


def test_sentencepiece_graph_matches_host(xlmr):
    assert_graph_matches_host(xlmr)


def test_sentencepiece_from_tokenizer_json_only(xlmr, tmp_path):
    # No .model file: the layer's SentencePiece model is rebuilt from tokenizer.json.
    xlmr.save(tmp_path)
    os.remove(tmp_path / "sentencepiece.bpe.model")
    assert_graph_matches_host(Tokenizer.from_pretrained(tmp_path), lengths=(32,))


@pytest.mark.parametrize("which", ["minilm", "xlmr", "tiny"])
def test_sample_of_all_code_points(which, request):
    # Every 61st code point, inside and between words (a full sweep is ~1 min).
    if which == "tiny":  # cased: a different normalization table
        tok = Tokenizer.from_vocab(wordpiece_vocab(True), do_lower_case=False)
    else:
        tok = request.getfixturevalue(which)
    chars = [chr(c) for c in range(0, 0x110000, 61) if not 0xD800 <= c <= 0xDFFF]
    texts = [f"a{c}b {c} .{c * 3}" for c in chars]
    layer = tok.graph_tokenizer(max_length=16)
    expected = tok(texts, max_length=16)["input_ids"]
    actual = tf.function(lambda x: layer(x))(tf.constant(texts))["input_ids"].numpy()
    bad = [texts[i] for i in np.flatnonzero((expected != actual).any(axis=1))]
    assert not bad, f"{len(bad)} of {len(texts)} differ, e.g. {bad[:5]!r}"


def test_long_word_limit_is_in_characters(minilm):
    # 100 characters of 2-byte Cyrillic is 200 bytes: HF keeps it, so must we.
    texts = ["б" * 100, "б" * 101, "x" * 100, "x" * 101]
    layer = minilm.graph_tokenizer(max_length=128)
    expected = minilm(texts, max_length=128)
    assert expected["input_ids"][1, 1] == minilm.unk_token_id
    assert expected["input_ids"][0, 1] != minilm.unk_token_id
    assert_same(expected, to_numpy(layer(tf.constant(texts))))


def test_host_and_graph_truncation_match_hf_for_all_lengths(tiny_wordpiece_folder):
    tok = Tokenizer.from_pretrained(tiny_wordpiece_folder)
    sizes = [(n1, n2) for n1 in range(12) for n2 in range(12)]
    first = tf.ragged.constant([[7] * n1 for n1, _ in sizes], tf.int32, row_splits_dtype=tf.int64)
    second = tf.ragged.constant([[8] * n2 for _, n2 in sizes], tf.int32, row_splits_dtype=tf.int64)
    first, second = (first.flat_values, first.row_splits), (second.flat_values, second.row_splits)
    for budget in range(1, 13):
        encodings = tok.encode_batch_raw([" ".join("a" * n1) for n1, _ in sizes],
                                         [" ".join("b" * n2) for _, n2 in sizes],
                                         max_length=budget + 3)
        expected = [(e.ids.count(tok.token_to_id("a")), e.ids.count(tok.token_to_id("b")))
                    for e in encodings]
        keep1, keep2 = longest_first_lengths(*np.array(sizes).T, budget)
        assert list(zip(keep1.tolist(), keep2.tolist())) == expected
        (a, a_splits), (b, b_splits) = _graph_ops.truncate_longest_first(first, second, budget)
        assert set(a.numpy().tolist()) <= {7} and set(b.numpy().tolist()) <= {8}
        actual = list(zip(np.diff(a_splits.numpy()).tolist(), np.diff(b_splits.numpy()).tolist()))
        assert actual == expected, f"budget={budget}"


def test_byte_level_bpe_raises_clear_error(bpe_folder):
    tok = Tokenizer.from_pretrained(bpe_folder)
    with pytest.raises(ValueError, match="unsupported for this tokenizer type.*token-ids input"):
        tok.graph_tokenizer()


def test_get_config_round_trips(minilm, xlmr):
    texts = tf.constant(HARD_TEXTS)
    for tok in (minilm, xlmr):
        layer = tok.graph_tokenizer(max_length=24)
        config = json.loads(json.dumps(layer.get_config()))
        assert config["family"] == tok.family and config["max_length"] == 24
        assert config["vocab"] == tok.vocab
        assert config["pad_token_id"] == tok.pad_token_id
        clone = GraphTokenizer.from_config(config)
        assert clone.get_config() == config
        assert_same(to_numpy(layer(texts)), to_numpy(clone(texts)), tok.family)


def test_keras_model_with_string_input_saves_and_loads(minilm, tmp_path):
    layer = minilm.graph_tokenizer(max_length=12)
    inputs = keras.Input(shape=(), dtype="string")
    outputs = layer(inputs)
    assert outputs["input_ids"].shape == (None, 12)
    model = keras.Model(inputs, outputs)
    texts = tf.constant(HARD_TEXTS)
    expected = minilm(HARD_TEXTS, max_length=12)
    assert_same(expected, to_numpy(model(texts)))
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert_same(expected, to_numpy(loaded(texts)))


def test_saved_model_export(xlmr, tmp_path):
    layer = xlmr.graph_tokenizer(max_length=16)
    module = tf.Module()
    module.layer = layer
    module.serve = tf.function(lambda a, b: layer(a, b), input_signature=[
        tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, str(tmp_path))
    loaded = tf.saved_model.load(str(tmp_path))
    got = loaded.serve(tf.constant(HARD_TEXTS), tf.constant(HARD_PAIRS))
    assert_same(xlmr(HARD_TEXTS, HARD_PAIRS, max_length=16), to_numpy(got))


def test_input_shapes(minilm):
    layer = minilm.graph_tokenizer(max_length=8)
    flat = to_numpy(layer(tf.constant(["hello world", "x"])))
    assert_same(flat, to_numpy(layer(tf.constant([["hello world"], ["x"]]))))
    assert layer(tf.constant("hello world"))["input_ids"].shape == (1, 8)
    with pytest.raises(ValueError, match="shape"):
        layer(tf.constant([[["a"]]]))


def test_special_tokens_in_text(minilm):
    text = ["a [SEP] b"]
    assert minilm(text, max_length=8)["input_ids"][0, 2] == minilm.sep_token_id
    plain = minilm.graph_tokenizer(max_length=8, match_special_tokens=False)
    ids = plain(tf.constant(text))["input_ids"].numpy()[0].tolist()
    assert ids[:7] == [101, 1037, 1031, 19802, 1033, 1038, 102]  # a [ sep ] b


def test_max_length_must_leave_room(minilm):
    with pytest.raises(ValueError, match="max_length=3"):
        minilm.graph_tokenizer(max_length=3)
    with pytest.raises(ValueError, match="unk_token"):
        GraphTokenizer("wordpiece", [t for t in wordpiece_vocab(False) if t != "[UNK]"],
                       special_token_layout=minilm.special_token_layout)


@pytest.mark.parametrize("which", ["minilm", "xlmr"])
def test_random_strings_and_pairs(which, request, rng):
    tok = request.getfixturevalue(which)
    atoms = ["the", "Fox", "café", "ÑAN", "日本", "語", "🙂", " ", "  ", "\t", "\n", ",", "...",
             "'s", "[SEP]", "[CLS]", "<s>", "</s>", "<unk>", "\x00", "\u200b", "\x85", "x" * 60,
             "é" * 55, "ﬁ", "İ", "Σ", "-", "$5", "#"]

    def sample(n):
        return ["".join(rng.choice(atoms, size=rng.integers(0, 25))) for _ in range(n)]

    texts, pairs = sample(200), sample(200)
    for max_length in (6, 23):
        layer = tok.graph_tokenizer(max_length=max_length)
        for second in (None, pairs):
            expected = tok(texts, second, max_length=max_length)
            args = (tf.constant(texts),) + (() if second is None else (tf.constant(second),))
            assert_same(expected, to_numpy(layer(*args)), f"max_length={max_length}")


def test_tflite_compatible_mode_converts_without_flex_and_runs_in_litert(minilm, xlmr):
    from ai_edge_litert import interpreter as litert
    import tensorflow_text

    texts = ["Hello, world! How are you?", "naïve café, crème brûlée", "日本語 and 中文 [x]"]
    pairs = ["second segment", "", "a pair"]
    for tok in (minilm, xlmr):
        layer = tok.graph_tokenizer(max_length=12, tflite_compatible=True)
        assert not layer.match_special_tokens
        serve = tf.function(lambda a, b: layer(a, b), input_signature=[
            tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)])
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [serve.get_concrete_function()], layer)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex
        converter.allow_custom_ops = True
        interpreter = litert.InterpreterWithCustomOps(
            model_content=converter.convert(),
            custom_op_registerers=tensorflow_text.tflite_registrar.SELECT_TFTEXT_OPS)
        got = interpreter.get_signature_runner()(a=np.array(texts), b=np.array(pairs))
        assert_same(tok(texts, pairs, max_length=12), got, tok.family)


@pytest.mark.parametrize("max_length", [6, 9, 40])
def test_tflite_compatible_mode_truncates_and_pads_like_the_host(minilm, xlmr, max_length):
    """Ordinary text (what the text-in LiteRT export serves) gets the host ids exactly."""
    texts = ["the film was very good and the plot was fine but the dog sat on a red cat " * 2,
             "Paris ! London ? John Smith visited", "unknownword zzz qqq walked",
             "  spaced   out\ttabs\nnewline  ", "", "Hello, world! How are you?"]
    pairs = texts[::-1]
    for tok in (minilm, xlmr):
        layer = tok.graph_tokenizer(max_length=max_length, tflite_compatible=True)
        for second in (None, pairs):
            args = (tf.constant(texts),) + (() if second is None else (tf.constant(second),))
            assert_same(tok(texts, second, max_length=max_length), to_numpy(layer(*args)),
                        f"{tok.family} max_length={max_length} pairs={second is not None}")


def test_tflite_compatible_differs_from_hf_only_where_documented(minilm):
    layer = minilm.graph_tokenizer(max_length=8, tflite_compatible=True)
    ordinary, compat = ["plain ascii text, ok"], ["ﬁne ｆｕｌｌ"]
    assert_same(minilm(ordinary, max_length=8), to_numpy(layer(tf.constant(ordinary))))
    assert (minilm(compat, max_length=8)["input_ids"]
            != layer(tf.constant(compat))["input_ids"].numpy()).any()
    with pytest.raises(ValueError, match="match_special_tokens=False"):
        minilm.graph_tokenizer(tflite_compatible=True, match_special_tokens=True)
