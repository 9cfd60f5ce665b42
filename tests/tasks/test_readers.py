"""Readers: formats, and errors that name the file and the line."""
import json

import pytest

from tests.tasks.conftest import squad_articles, write_conll, write_json, write_tsv
from xtremedistil_tf.tasks import TaskConfig, get_task
from xtremedistil_tf.tasks.data.conll_reader import read_conll
from xtremedistil_tf.tasks.data.squad_reader import read_squad_json
from xtremedistil_tf.tasks.data.table_reader import read_table
from xtremedistil_tf.utils.data_error import DataError


def test_tsv_row_with_wrong_column_count_names_file_and_line(tmp_path):
    path = write_tsv(tmp_path / "train.tsv", ["sentence", "label"],
                     [("good film", 1), ("bad\tfilm", 0)])
    with pytest.raises(DataError, match=r"train\.tsv:3: found 3 tab-separated columns but "
                                        r"the header has 2"):
        read_table(path)


def test_tsv_keeps_quotes_and_skips_blank_lines(tmp_path):
    path = tmp_path / "dev.tsv"
    path.write_text('sentence\tlabel\n"unbalanced quote\t1\n\nit\'s "fine\t0\n')
    table = read_table(path)
    assert table.values("sentence") == [(2, '"unbalanced quote'), (4, 'it\'s "fine')]
    assert table.values(1) == [(2, "1"), (4, "0")]


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    with pytest.raises(DataError, match=r"empty\.tsv: the file is empty"):
        read_table(empty)
    header_only = tmp_path / "h.csv"
    header_only.write_text("text,label\n")
    with pytest.raises(DataError, match="has a header but no rows"):
        read_table(header_only)
    blank = tmp_path / "empty.txt"
    blank.write_text("-DOCSTART- -X- -X- O\n\n\n")
    with pytest.raises(DataError, match=r"empty\.txt: the file is empty"):
        read_conll(blank)


def test_csv_quoting_and_line_numbers(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('text,other,label\n"a, quoted\nnewline",x,pos\nplain,y,neg\nshort,z\n')
    with pytest.raises(DataError, match=r"d\.csv:5: found 2 comma-separated columns"):
        read_table(path)


def test_jsonl_errors(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"text": "a", "label": 1}\n[1, 2]\n')
    with pytest.raises(DataError, match=r"d\.jsonl:2: holds a list, not a JSON object"):
        read_table(path)
    path.write_text('{"text": "a", "label": 1}\n{"text": "b"\n')
    with pytest.raises(DataError, match=r"d\.jsonl:2: is not valid JSON"):
        read_table(path)


def test_unknown_column_lists_the_header(tmp_path):
    path = write_tsv(tmp_path / "train.tsv", ["sentence", "label"], [("a", 1)])
    with pytest.raises(DataError, match=r"no column 'text'.*\['sentence', 'label'\]"):
        read_table(path).values("text")


def test_conll_reader_skips_docstart_and_checks_fields(tmp_path):
    path = write_conll(tmp_path / "train.txt", [(["John", "lives"], ["B-PER", "O"]),
                                                (["Paris"], ["B-LOC"])])
    sentences = read_conll(path)
    assert [s.words for s in sentences] == [("John", "lives"), ("Paris",)]
    assert sentences[1].tags == ("B-LOC",) and sentences[0].source.endswith(":3")
    text = path.read_text().replace("lives NN O O", "lives O")
    path.write_text(text)
    with pytest.raises(DataError, match=r"train\.txt:4: has 2 fields but the first token "
                                        r"line has 4"):
        read_conll(path)


def test_squad_answer_not_matching_context(tmp_path, data_rng):
    data = squad_articles(2, data_rng)
    data["data"][1]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] += 1
    path = write_json(tmp_path / "train-v1.1.json", data)
    with pytest.raises(DataError, match=r"train-v1\.1\.json:\d+: data\[1\]\.paragraphs\[0\]"
                                        r"\.qas\[0\] \(id 'q2'\): answer .* does not match"):
        read_squad_json(path)


def test_squad_v1_question_without_answer_and_v2_reading(tmp_path, data_rng):
    data = squad_articles(3, data_rng, impossible_fraction=1.0)
    path = write_json(tmp_path / "dev.json", data)
    with pytest.raises(DataError, match="has no answer; in SQuAD v1.1"):
        read_squad_json(path)
    examples = read_squad_json(path, version_2=True)
    assert sum(e.is_impossible for e in examples) == 3 and len(examples) == 9
    (tmp_path / "empty.json").write_text(" ")
    with pytest.raises(DataError, match=r"empty\.json: the file is empty"):
        read_squad_json(tmp_path / "empty.json")


def _glue(tmp_path, name, **kwargs):
    return get_task(name, TaskConfig(data_dir=str(tmp_path), **kwargs))


def test_glue_layouts(tmp_path):
    cola = tmp_path / "CoLA"
    write_tsv(cola / "train.tsv", None, [("src", 1, "", "the film is good"),
                                         ("src", 0, "*", "film the good")])
    write_tsv(cola / "test.tsv", ["index", "sentence"], [(0, "a film")])
    train = _glue(tmp_path, "cola").load_examples("train")
    assert [(e.text, e.label) for e in train] == [("the film is good", "1"),
                                                 ("film the good", "0")]
    assert _glue(tmp_path, "cola").load_examples("test")[0].label is None
    mrpc = tmp_path / "MRPC"
    mrpc.mkdir()
    (mrpc / "dev.tsv").write_bytes("\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                                   "1\t1\t2\tJohn met Mary\tMary met John\n".encode("utf-8"))
    dev = _glue(tmp_path, "mrpc").load_examples("dev")
    assert (dev[0].text, dev[0].text_pair, dev[0].label) == ("John met Mary", "Mary met John",
                                                             "1")
    mnli = _glue(tmp_path, "mnli")
    assert mnli.eval_splits == ("dev_matched", "dev_mismatched")
    stsb = _glue(tmp_path / "STS-B", "stsb")
    write_tsv(tmp_path / "STS-B" / "train.tsv", ["index", "sentence1", "sentence2", "score"],
              [(0, "a", "b", "3.800")])
    assert stsb.regression and stsb.load_examples("train")[0].label == "3.800"


def test_glue_label_outside_the_task(tmp_path):
    write_tsv(tmp_path / "RTE" / "dev.tsv", ["index", "sentence1", "sentence2", "label"],
              [(0, "a", "b", "entailment"), (1, "a", "b", "neutral")])
    with pytest.raises(DataError, match=r"dev\.tsv:3: label 'neutral' is not a rte label"):
        _glue(tmp_path, "rte").load_examples("dev")


def test_dev_label_unseen_in_training(tmp_path):
    write_tsv(tmp_path / "train.tsv", ["text", "label"], [("a", "pos"), ("b", "neg")])
    write_tsv(tmp_path / "dev.tsv", ["text", "label"], [("a", "pos"), ("c", "neutral")])
    task = get_task("text_classification", TaskConfig(data_dir=str(tmp_path),
                                                      text_column="text"))
    task.prepare(task.load_examples("train"))
    assert task.label_names == ["neg", "pos"]
    with pytest.raises(DataError, match=r"dev\.tsv:3: label 'neutral' does not occur in the "
                                        r"training data, whose labels are \['neg', 'pos'\]"):
        task.load_examples("dev")


def test_ner_dev_tag_unseen_in_training(tmp_path):
    write_conll(tmp_path / "train.txt", [(["John", "lives"], ["B-PER", "O"])])
    write_conll(tmp_path / "valid.txt", [(["John", "in", "Paris"], ["B-PER", "O", "B-LOC"])])
    task = get_task("conll2003", TaskConfig(data_dir=str(tmp_path)))
    task.prepare(task.load_examples("train"))
    with pytest.raises(DataError, match=r"valid\.txt:5: tag 'B-LOC' \(word 'Paris'\)"):
        task.check_labels(task.load_examples("dev"))


def test_user_jsonl_pairs_and_subsets(tmp_path):
    rows = [{"q": f"q{i}", "a": f"a{i}", "y": i % 3} for i in range(10)]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    config = TaskConfig(data_dir=str(tmp_path), text_column="q", text_pair_column="a",
                        label_column="y", max_train_samples=4, seed=3)
    examples = get_task("text_classification", config).load_examples("train")
    assert len(examples) == 4 and all(e.text_pair == "a" + e.text[1:] for e in examples)
    again = get_task("text_classification", config).load_examples("train")
    assert [e.text for e in again] == [e.text for e in examples]  # Seeded.
    assert {e.label for e in examples} <= {"0", "1", "2"}


def test_missing_files_say_where_they_looked(tmp_path):
    with pytest.raises(DataError, match=r"not found \(looked for \['valid.txt'"):
        get_task("conll2003", TaskConfig(data_dir=str(tmp_path))).load_examples("dev")


def test_missing_glue_file_names_the_standard_layout(tmp_path):
    with pytest.raises(DataError, match=r"SST-2/train\.tsv: not found; --data_dir should be "
                                        r"the GLUE folder .*<data_dir>/SST-2/train\.tsv"):
        _glue(tmp_path, "sst2").load_examples("train")


def test_undecodable_files_name_file_and_line(tmp_path):
    (tmp_path / "train.tsv").write_bytes(b"sentence\tlabel\ngood\t1\nbad \xf2\t0\n")
    with pytest.raises(DataError, match=r"train\.tsv:3: is not UTF-8 text"):
        read_table(tmp_path / "train.tsv")
    (tmp_path / "train.txt").write_bytes(b"John B-PER\n\xf2 O\n")
    with pytest.raises(DataError, match=r"train\.txt:2: is not UTF-8 text"):
        read_conll(tmp_path / "train.txt")


def test_squad_json_that_does_not_parse_or_is_misshapen(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text('{"data": [\n  {"title": "t",}\n]}')
    with pytest.raises(DataError, match=r"dev\.json:2: is not valid JSON"):
        read_squad_json(path)
    path.write_text(json.dumps({"data": [{"paragraphs": [{"qas": []}]}]}))
    with pytest.raises(DataError, match=r"dev\.json: data\[0\]\.paragraphs\[0\] has no "
                                        r"'context'"):
        read_squad_json(path)
    path.write_text(json.dumps({"data": {"title": "t"}}))
    with pytest.raises(DataError, match="expected an object with a 'data' list"):
        read_squad_json(path)
