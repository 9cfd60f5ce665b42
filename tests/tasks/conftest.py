"""Tiny tokenizer, encoder and data files for the task tests."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from xtremedistil_tf import Encoder, get_preset
from xtremedistil_tf.tokenizers import Tokenizer

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "a", "film", "movie", "plot", "actors", "was", "is", "very", "quite",
         "good", "great", "fine", "bad", "awful", "dull", "and", "but", "not", "it",
         "john", "smith", "paris", "london", "acme", "corp", "visited", "works", "at",
         "in", "met", "who", "where", "what", "lives", "city", "company", "person", "?",
         ".", ",", "berlin", "mary", "jones", "globex", "went", "to", "from", "##s",
         "##ed", "yes", "no", "red", "blue", "car", "house", "cat", "dog", "sat", "on"]
VOCAB = SPECIAL + WORDS  # 65 tokens: fits the tiny preset's 99-row embedding.


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_tokenizer():
    return Tokenizer.from_vocab(VOCAB)


def save_checkpoint(model, folder):
    """`model` as `folder/encoder.keras` with the tiny tokenizer beside it, as the entry
    scripts find a checkpoint; returns the .keras path."""
    folder.mkdir()
    model.save(folder / "encoder.keras")
    make_tokenizer().save(str(folder))
    return folder / "encoder.keras"


def run_script(script, *args):
    """Runs `run_scripts/<script>` from the repository root on CPU, output captured."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, os.path.join(ROOT, "run_scripts", script), *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)


@pytest.fixture
def tokenizer():
    return make_tokenizer()


@pytest.fixture
def encoder():
    return Encoder(get_preset("tiny", hidden_dropout_prob=0.0,
                              attention_probs_dropout_prob=0.0))


def sentiment_rows(n, rng):
    """Texts whose label is carried by one sentiment word among fillers."""
    positive, negative = ["good", "great", "fine"], ["bad", "awful", "dull"]
    fillers = ["the", "film", "movie", "plot", "was", "is", "very", "quite", "it", "actors"]
    rows = []
    for _ in range(n):
        label = int(rng.integers(2))
        words = list(rng.choice(fillers, size=int(rng.integers(2, 6))))
        words.insert(int(rng.integers(len(words) + 1)),
                     str(rng.choice(positive if label else negative)))
        rows.append((" ".join(words), label))
    return rows


def write_tsv(path, header, rows):
    lines = ["\t".join(header)] if header else []
    lines += ["\t".join(str(x) for x in row) for row in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def ner_sentences(n, rng):
    """Sentences like "john smith visited paris" tagged in BIO."""
    people = [["john", "smith"], ["mary", "jones"], ["john"], ["mary"]]
    places = [["paris"], ["london"], ["berlin"]]
    orgs = [["acme", "corp"], ["globex"]]
    out = []
    for _ in range(n):
        person = people[int(rng.integers(len(people)))]
        words = list(person) + ["visited"]
        tags = ["B-PER"] + ["I-PER"] * (len(person) - 1) + ["O"]
        if rng.random() < 0.5:
            place = places[int(rng.integers(len(places)))]
            words += place
            tags += ["B-LOC"] * len(place)
        else:
            org = orgs[int(rng.integers(len(orgs)))]
            words += org
            tags += ["B-ORG"] + ["I-ORG"] * (len(org) - 1)
        words.append(".")
        tags.append("O")
        out.append((words, tags))
    return out


def write_conll(path, sentences, docstart=True):
    lines = ["-DOCSTART- -X- -X- O", ""] if docstart else []
    for words, tags in sentences:
        lines += [f"{w} NN O {t}" for w, t in zip(words, tags)]
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def squad_articles(n, rng, impossible_fraction=0.0):
    """Contexts naming a person and a city; questions ask for one of them."""
    people = ["john smith", "mary jones", "john", "mary"]
    cities = ["paris", "london", "berlin"]
    articles, qid = [], 0
    for a in range(n):
        person = people[int(rng.integers(len(people)))]
        city = cities[int(rng.integers(len(cities)))]
        context = f"the film is good . {person} lives in {city} . the dog sat on the car ."
        qas = []
        for question, answer in ((f"who lives in {city} ?", person),
                                 (f"where {person} lives ?", city)):
            qas.append({"id": f"q{qid}", "question": question, "is_impossible": False,
                        "answers": [{"text": answer, "answer_start": context.index(answer)}]})
            qid += 1
        if rng.random() < impossible_fraction:
            qas.append({"id": f"q{qid}", "question": "what is red ?", "is_impossible": True,
                        "answers": []})
            qid += 1
        articles.append({"title": f"t{a}", "paragraphs": [{"context": context, "qas": qas}]})
    return {"version": "x", "data": articles}


def write_json(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def data_rng():
    return np.random.default_rng(7)
