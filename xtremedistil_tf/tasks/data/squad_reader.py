"""Reads SQuAD v1.1 / v2.0 JSON files into `QAExample`s, checking every answer span."""
import json
import os

from xtremedistil_tf.tasks.data.examples import QAExample
from xtremedistil_tf.utils.data_error import DataError
from xtremedistil_tf.utils.text_files import parse_json, read_text


def _line_of(raw, qid):
    """Line of the question's id in the raw text, so errors can point at it."""
    position = raw.find(json.dumps(qid))
    return raw.count("\n", 0, position) + 1 if position >= 0 else None


def _example(path, raw, qa, qid, context, title, where, version_2):
    impossible = bool(qa.get("is_impossible", False)) and version_2
    answers = []
    for answer in ([] if impossible else qa.get("answers", [])):
        text, start = answer["text"], answer["answer_start"]
        if isinstance(start, str) and start.isdigit():
            start = int(start)
        if not isinstance(start, int):
            raise DataError(path, _line_of(raw, qid), f"{where}: answer_start={start!r} is "
                            "not an integer character offset.")
        if context[start:start + len(text)] != text:
            found = context[start:start + len(text)]
            raise DataError(path, _line_of(raw, qid), (
                f"{where}: answer {text!r} does not match the context at "
                f"answer_start={start}, which reads {found!r}; fix answer_start "
                "or the answer text."))
        answers.append((text, start))
    if not answers and not impossible:
        raise DataError(path, _line_of(raw, qid), (
            f"{where} has no answer; in SQuAD v1.1 every question needs one "
            "(for unanswerable questions use squad_v2 and is_impossible)."))
    return QAExample(qid=qid, question=qa["question"], context=context, answers=tuple(answers),
                     is_impossible=impossible, title=title, source=f"{path} {where}")


def read_squad_json(path, version_2=False):
    """Reads a SQuAD-format JSON file.

    Args:
        path: the file (`{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}`).
        version_2: read `is_impossible` questions (SQuAD v2.0). In a v1.1 file
            every question must have at least one answer.

    Raises `DataError` when the file is empty or not SQuAD-shaped, or an
    answer's text does not equal `context[answer_start:answer_start+len(text)]`.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise DataError(path, None, "no such file; check the data folder and file flags.")
    raw = read_text(path, "utf-8-sig")
    if not raw.strip():
        raise DataError(path, None, "the file is empty; it should hold SQuAD JSON.")
    data = parse_json(path, raw)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataError(path, None, "is not SQuAD JSON: expected an object with a 'data' "
                        "list of articles.")
    examples = []
    where = "data"
    try:
        for a, article in enumerate(data["data"]):
            where = f"data[{a}]"
            title = article.get("title", "")
            for p, paragraph in enumerate(article.get("paragraphs", [])):
                where = f"data[{a}].paragraphs[{p}]"
                context = paragraph["context"]
                for q, qa in enumerate(paragraph.get("qas", [])):
                    where = f"data[{a}].paragraphs[{p}].qas[{q}]"
                    qid = str(qa["id"])
                    where += f" (id {qid!r})"
                    examples.append(_example(path, raw, qa, qid, context, title, where,
                                             version_2))
    except (KeyError, TypeError, AttributeError) as err:
        missing = f"has no {err}" if isinstance(err, KeyError) else f"is misshapen ({err})"
        raise DataError(path, None, f"{where} {missing}; SQuAD articles hold 'paragraphs' "
                        "of 'context' and 'qas' with 'id', 'question' and 'answers'.") from None
    if not examples:
        raise DataError(path, None, "holds no questions.")
    return examples
