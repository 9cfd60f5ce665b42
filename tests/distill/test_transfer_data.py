"""Transfer text: builtin prose, files, splits and their errors."""
import numpy as np
import pytest

from tests.distill import helpers
from xtremedistil_tf.distill.distill_data import encode_transfer_texts
from xtremedistil_tf.distill.student_builder import check_same_vocab
from xtremedistil_tf.distill.transfer_data import (
    load_transfer_texts, prose_examples, python_docs_texts, split_indices)
from xtremedistil_tf.tokenizers import Tokenizer


def test_builtin_python_docs_is_english_prose():
    texts = python_docs_texts()
    assert len(texts) > 5000
    words = [len(t.split()) for t in texts[:500]]
    assert min(words) >= 6
    assert not any(t.startswith(">>>") for t in texts)
    assert len(set(texts)) == len(texts)


def test_prose_is_packed_by_whole_sentences():
    text = ("One two three four five six. Seven eight nine ten eleven twelve. Short one.\n"
            "    indented code is dropped\n\nA second paragraph has seven words here.")
    assert prose_examples(text, words_per_example=6) == [
        "One two three four five six.", "Seven eight nine ten eleven twelve.",
        "A second paragraph has seven words here."]
    assert prose_examples(text, words_per_example=12) == [
        "One two three four five six. Seven eight nine ten eleven twelve.",
        "A second paragraph has seven words here."]


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_transfer_texts(str(tmp_path / "missing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(ValueError, match="holds no text"):
        load_transfer_texts(str(empty))
    with pytest.raises(ValueError, match="Unknown builtin"):
        load_transfer_texts("builtin:encyclopedia")


def test_tsv_with_pairs_and_labels(tmp_path):
    path = tmp_path / "data.tsv"
    path.write_text("a cat\ta dog\t1\nthe sun\tthe moon\t0\n")
    data = load_transfer_texts(str(path))
    assert data.texts == ["a cat", "the sun"]
    assert data.text_pairs == ["a dog", "the moon"]
    assert data.labels.tolist() == [1, 0]
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\tx\n")
    with pytest.raises(ValueError, match="integer labels"):
        load_transfer_texts(str(bad))


def test_task_tables_with_label_or_id_columns_are_refused(tmp_path):
    # A GLUE training file passed as is would read its ID or label columns as text.
    mrpc = tmp_path / "train.tsv"
    mrpc.write_text("Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                    "1\t702876\t702977\tHe said so .\tHe told us .\n")
    with pytest.raises(ValueError, match=r"5 tab-separated columns.*cut -f4,5"):
        load_transfer_texts(str(mrpc))
    sst2 = tmp_path / "sst2.tsv"
    sst2.write_text("sentence\tlabel\na fine film\t1\na dull one\t0\n")
    with pytest.raises(ValueError, match="look like labels"):
        load_transfer_texts(str(sst2))
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("a fine film\ta good film\n12 angry men\t7 samurai\n")
    assert load_transfer_texts(str(pairs)).text_pairs == ["a good film", "7 samurai"]
    one = tmp_path / "one.tsv"
    one.write_text("a fine film\ta good film\n")
    assert load_transfer_texts(str(one)).text_pairs == ["a good film"]


def test_splits_are_disjoint_and_seeded():
    train, dev, heldout = split_indices(100, 0.1, 7, seed=3)
    assert (len(train), len(dev), len(heldout)) == (84, 9, 7)
    assert not set(train) & set(dev) and not set(train) & set(heldout)
    assert np.array_equal(split_indices(100, 0.1, 7, seed=3)[1], dev)
    with pytest.raises(ValueError, match="too few"):
        split_indices(5, 0.1, 5, seed=0)


def test_vocabularies_must_match():
    words = [f"w{i}" for i in range(helpers.VOCAB - 5)]
    base = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    teacher = Tokenizer.from_vocab(base + words)
    check_same_vocab(teacher, Tokenizer.from_vocab(base + words))
    other = Tokenizer.from_vocab(base + words[:-1] + ["zebra"])
    with pytest.raises(ValueError, match="vocabularies differ .*'w93'.*'zebra'"):
        check_same_vocab(teacher, other)


def test_single_texts_and_pairs_share_a_source(tmp_path):
    words = [f"w{i}" for i in range(helpers.VOCAB - 5)]
    tokenizer = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words)
    path = tmp_path / "mixed.tsv"
    path.write_text("w1 w2 w3\t\nw4 w5\tw6 w7 w8\nw9\t\n")
    data = load_transfer_texts(str(path))
    inputs = encode_transfer_texts(tokenizer, data, max_length=8)
    for row, (text, pair) in enumerate([("w1 w2 w3", None), ("w4 w5", "w6 w7 w8"), ("w9", None)]):
        alone = tokenizer([text], None if pair is None else [pair], max_length=8)
        for key in ("input_ids", "attention_mask", "token_type_ids"):
            np.testing.assert_array_equal(inputs[key][row], alone[key][0])
    # A single text ends after one [SEP] and never carries segment B.
    assert list(inputs["input_ids"][0][:5]) == tokenizer(["w1 w2 w3"], max_length=8)["input_ids"][0][:5].tolist()
    assert inputs["token_type_ids"][0].sum() == 0 and inputs["token_type_ids"][1].sum() == 4
