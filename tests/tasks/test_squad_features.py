"""SQuAD windows, answer positions and n-best span search."""
import numpy as np
import pytest

from tests.tasks.conftest import make_tokenizer
from xtremedistil_tf.tasks.data.examples import QAExample
from xtremedistil_tf.tasks.data.task_tokenizer import TaskTokenizer
from xtremedistil_tf.tasks.squad_features import (Window, build_squad_features,
                                                  window_starts)
from xtremedistil_tf.tasks.squad_postprocess import example_nbest

CONTEXT = ("the film is good . john smith lives in paris . the dog sat on the car . "
           "mary jones lives in london . the cat sat on the house .")


def _example(answer="mary jones", qid="q"):
    return QAExample(qid, "who lives in london ?", CONTEXT,
                     ((answer, CONTEXT.index(answer)),), source="test")


def test_window_starts_cover_every_token():
    assert window_starts(10, 4, 3) == [0, 3, 6]
    assert window_starts(4, 4, 3) == [0]
    assert window_starts(9, 4, 9) == [0, 4, 8]  # A stride over the window never skips tokens.


def test_windows_and_answer_positions():
    tok = TaskTokenizer(make_tokenizer())
    features = build_squad_features([_example()], tok, max_seq_length=16, doc_stride=4,
                                    max_query_length=8, training=True)
    windows = features.meta["windows"]
    assert features.stats["windows"] == len(windows) > 1
    assert features.stats["examples_windowed"] == 1
    assert all(len(ids) <= 16 for ids in features.inputs["input_ids"])
    # Every context token is the max-context token of exactly one window.
    n_context = len(features.meta["offsets"][0])
    owners = np.zeros(n_context, int)
    for w in windows:
        owners[w.start:w.start + w.length] += w.max_context
    assert owners.tolist() == [1] * n_context
    starts = features.labels["start_positions"]
    ends = features.labels["end_positions"]
    found = 0
    for w, ids, s, e in zip(windows, features.inputs["input_ids"], starts, ends):
        if s == 0:
            continue
        found += 1
        offsets = features.meta["offsets"][0]
        a = offsets[w.start + s - w.context_position][0]
        b = offsets[w.start + e - w.context_position][1]
        assert CONTEXT[a:b] == "mary jones"
        assert ids[w.context_position - 1] == 3  # [SEP] before the context.
    assert found >= 1
    assert features.stats["windows_without_answer"] == len(windows) - found


def test_nbest_respects_max_answer_length_and_max_context():
    context = "john smith lives in paris"
    offsets = [(0, 4), (5, 10), (11, 16), (17, 19), (20, 25)]
    window = Window(0, 3, 0, 5, np.array([True, True, True, True, False]))
    start = np.full(9, -5.0)
    end = np.full(9, -5.0)
    start[0], end[0] = 1.0, 1.0  # Null score 2.
    start[3], end[4] = 4.0, 3.0  # "john smith": 7.
    end[7] = 5.0                 # "john ... paris" would score 9 but is 5 tokens long.
    start[7] = 6.0               # "paris" starts well but is not max-context here.
    nbest, null = example_nbest(context, offsets, [window],
                                [{"start_logits": start, "end_logits": end}],
                                n_best_size=3, max_answer_length=4)
    assert null == 2.0
    assert nbest[0]["text"] == "john smith" and nbest[0]["score"] == 7.0
    assert all(c["text"] != "paris" and len(c["text"].split()) <= 4 for c in nbest)
    assert sum(c["probability"] for c in nbest) == pytest.approx(1.0)


def test_answer_that_covers_no_token_is_an_error():
    tok = TaskTokenizer(make_tokenizer())
    bad = QAExample("q", "who ?", "john   smith", (("  ", 4),), source="f.json data[0]")
    with pytest.raises(ValueError, match="covers no context token"):
        build_squad_features([bad], tok, 16, 4, 8, training=True)
