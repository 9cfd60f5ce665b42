"""The LiteRT-convertible tokenizer gives the host tokenizer's ids, in TF and in LiteRT."""
import numpy as np
import pytest
import tensorflow as tf
from xtremedistil_tf.export.litert_text_tokenizer import LiteRTTextTokenizer, _longest_first
from xtremedistil_tf.tokenizers import Tokenizer

from tests.export.conftest import PAIRS, TEXTS

LONG = ["the film was very good and the plot was fine but the dog sat on the red cat " * 2,
        "paris ! london ? john smith visited",
        "unknownword zzz qqq walked",
        "  spaced   out\ttabs\nnewline  "]


@pytest.mark.parametrize("max_length", [6, 9, 40])
def test_ids_equal_host_tokenizer_with_truncation(tokenizer, max_length):
    layer = LiteRTTextTokenizer.from_tokenizer(tokenizer, max_length)
    texts = TEXTS + LONG
    pairs = PAIRS + LONG[::-1]
    for second in (None, pairs):
        got = layer(tf.constant(texts), None if second is None else tf.constant(second))
        want = tokenizer(texts, second, max_length=max_length)
        for name in want:
            np.testing.assert_array_equal(got[name].numpy(), want[name], err_msg=name)


def test_longest_first_matches_hf_rule():
    n1 = tf.constant([2, 10, 3, 10, 4, 9])
    n2 = tf.constant([3, 2, 10, 10, 4, 9])
    keep1, keep2 = _longest_first(n1, n2, 7)
    # Fits; first longer; second longer; both long (tie: first keeps the half); ...
    np.testing.assert_array_equal(keep1.numpy(), [2, 5, 3, 3, 3, 3])
    np.testing.assert_array_equal(keep2.numpy(), [3, 2, 4, 4, 4, 4])


def test_byte_level_bpe_is_refused_naming_the_token_ids_variant():
    bpe = Tokenizer("bpe", ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "a", "b", "ab"],
                    merges=[("a", "b")], model_type="roberta")
    with pytest.raises(ValueError, match="token-ids variant"):
        LiteRTTextTokenizer.from_tokenizer(bpe, 16)


def test_sentencepiece_ids_equal_host_in_tf_and_in_litert(tmp_path):
    import io
    import json

    import keras
    import sentencepiece
    from xtremedistil_tf.export import LiteRTModel, convert_saved_model

    sentences = ["The quick brown fox jumps over the lazy dog.", "Naïve café owners sell crème.",
                 "Distillation makes small models strong.", "Hello, world! How are you?"]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences * 3), model_writer=model, vocab_size=60,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
    (tmp_path / "sentencepiece.bpe.model").write_bytes(model.getvalue())
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "XLMRobertaTokenizer"}))
    tokenizer = Tokenizer.from_pretrained(str(tmp_path))
    layer = LiteRTTextTokenizer.from_tokenizer(tokenizer, 11)
    pairs = sentences[::-1]
    for second in (None, pairs):
        got = layer(tf.constant(sentences), None if second is None else tf.constant(second))
        want = tokenizer(sentences, second, max_length=11)
        for name in want:
            np.testing.assert_array_equal(got[name].numpy(), want[name], err_msg=name)
    archive = keras.export.ExportArchive()
    archive.add_endpoint("serve_text_pair", lambda t, p: layer(t, p), input_signature=[
        tf.TensorSpec([None], tf.string, name="text"),
        tf.TensorSpec([None], tf.string, name="text_pair")])
    archive.write_out(str(tmp_path / "saved"), verbose=False)
    lite = LiteRTModel(convert_saved_model(str(tmp_path / "saved"), ["serve_text_pair"],
                                           custom_ops=True), custom_ops=True)
    out = lite("serve_text_pair", text=sentences, text_pair=pairs)
    np.testing.assert_array_equal(out["input_ids"], tokenizer(sentences, pairs,
                                                              max_length=11)["input_ids"])


def test_text_litert_export_refuses_when_its_tokenizer_differs_from_host(tmp_path, tokenizer):
    from xtremedistil_tf.export import ExportConfig, ExportData, ParityError, export_model

    from tests.export.conftest import tiny_classifier

    # The host tokenizer matches the literal "[SEP]" as the special token; LiteRT's does not.
    dev = ExportData(["the film [SEP] was good", "a dull plot"])
    with pytest.raises(ParityError, match="does not reproduce the host tokenizer.*SEP"):
        export_model(tiny_classifier(), ExportConfig(str(tmp_path), max_seq_length=12,
                                                     formats=("litert_text_fp32",)),
                     tokenizer=tokenizer, dev_data=dev, verbose=False)
    assert not (tmp_path / "model" / "litert").exists()
