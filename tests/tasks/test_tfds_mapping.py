"""TFDS records map to examples as the local files do (TFDS itself is faked: no network)."""
from xtremedistil_tf.tasks import TaskConfig, get_task
from xtremedistil_tf.tasks import glue, ner, squad


def _fake(records, seen):
    def load(name, split, data_dir=None):
        seen.append((name, split))
        return iter(records)
    return load


def test_glue_mnli_labels_follow_tfds_class_order(monkeypatch):
    seen = []
    records = [{"premise": "p", "hypothesis": "h", "label": i, "idx": i} for i in range(3)]
    records.append({"premise": "p", "hypothesis": "h", "label": -1, "idx": 3})
    monkeypatch.setattr(glue, "load_tfds", _fake(records, seen))
    task = get_task("mnli", TaskConfig(data_source="tfds"))
    examples = task.load_examples("train")
    # TFDS glue/mnli orders classes entailment, neutral, contradiction.
    assert [e.label for e in examples] == ["entailment", "neutral", "contradiction", None]
    assert examples[0].text_pair == "h"
    task.load_examples("dev_mismatched")
    assert seen == [("glue/mnli", "train"), ("glue/mnli", "validation_mismatched")]


def test_glue_stsb_scores_and_hidden_test_labels(monkeypatch):
    records = [{"sentence1": "a", "sentence2": "b", "label": 3.5, "idx": 0}]
    monkeypatch.setattr(glue, "load_tfds", _fake(records, []))
    task = get_task("stsb", TaskConfig(data_source="tfds"))
    assert task.load_examples("train")[0].label == 3.5
    assert task.load_examples("test")[0].label is None


def test_squad_v2_records(monkeypatch):
    seen = []
    records = [
        {"id": "a", "title": "T", "context": "john lives in paris", "question": "who?",
         "answers": {"text": ["john"], "answer_start": [0]}, "is_impossible": False},
        {"id": "b", "title": "T", "context": "john lives in paris", "question": "what?",
         "answers": {"text": [], "answer_start": []}, "is_impossible": True}]
    monkeypatch.setattr(squad, "load_tfds", _fake(records, seen))
    examples = get_task("squad_v2", TaskConfig(data_source="tfds")).load_examples("dev")
    assert examples[0].answers == (("john", 0),) and not examples[0].is_impossible
    assert examples[1].answers == () and examples[1].is_impossible
    assert seen == [("squad/v2.0", "validation")]


def test_wikiann_tags_use_tfds_names(monkeypatch):
    seen = []
    monkeypatch.setattr(ner, "load_tfds", _fake([{"tokens": ["Paris", "!"], "tags": [5, 0]}],
                                                seen))
    monkeypatch.setattr(ner, "tfds_label_names", lambda name, feature, data_dir=None:
                        ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"])
    task = get_task("xtreme_panx", TaskConfig(data_source="tfds", language="de"))
    examples = task.load_examples("dev")
    assert examples[0].tags == ("B-LOC", "O")
    assert seen == [("wikiann/de", "validation")]
    task.prepare(examples)
    assert task.label_names[5] == "B-LOC" and task.scheme == "IOB2"
