"""Wikipedia transfer text: markup stripping, dump reading and the missing-package error."""
import bz2
import importlib.util

import pytest

from xtremedistil_tf.distill import wikipedia_texts as wiki
from xtremedistil_tf.distill.transfer_data import load_transfer_texts, wikipedia_examples

_MARKUP = """{{Infobox person|name=Ada {{nowrap|Lovelace}}|born=1815}}
'''Ada Lovelace''' was an [[England|English]] [[mathematician]].<ref name="a">{{cite book|title=X}}</ref> She wrote about the [[Analytical Engine]].<ref>Plain note.</ref>
[[File:Ada.jpg|thumb|A portrait of [[Ada Lovelace|Ada]] in 1840.]]
== Early life ==
* A list item that is not prose.
{| class="wikitable"
| cell one || cell two
|}
Her father was [[Lord Byron]]; see [http://example.org the record] and http://bare.example.org for more.&nbsp;She met [[Charles Babbage]] in 1833.
<!-- an editor's comment. -->
[[Category:Mathematicians]]
[[de:Ada Lovelace]]
"""


def test_markup_becomes_plain_paragraphs():
    paragraphs = wiki.wiki_to_paragraphs(_MARKUP)
    assert paragraphs == [
        "Ada Lovelace was an English mathematician. She wrote about the Analytical Engine.",
        "Her father was Lord Byron; see the record and for more. She met Charles Babbage in 1833.",
    ]


def _dump(path, pages):
    xml = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/">']
    for title, namespace, redirect, text in pages:
        xml.append(f"<page><title>{title}</title><ns>{namespace}</ns>"
                   + ('<redirect title="X" />' if redirect else "")
                   + f"<revision><text>{text}</text></revision></page>")
    xml.append("</mediawiki>")
    with bz2.open(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(xml))


def test_dump_keeps_articles_only_in_a_fixed_shuffled_order(tmp_path):
    path = str(tmp_path / "dump.xml.bz2")
    sentence = "The river {n} flows north through seven quiet valleys and old towns."
    _dump(path, [
        ("River one", 0, False, sentence.format(n="one")),
        ("Talk page", 1, False, sentence.format(n="talk")),
        ("Old name", 0, True, sentence.format(n="redirected")),
        ("River two", 0, False, sentence.format(n="two") + "\n\n" + sentence.format(n="three")),
    ])
    texts = wikipedia_examples(path=path, seed=0)
    assert sorted(texts) == sorted(sentence.format(n=n) for n in ("one", "two", "three"))
    assert texts == wikipedia_examples(path=path, seed=0)
    orders = {tuple(wikipedia_examples(path=path, seed=s)) for s in range(6)}
    assert len(orders) > 1


def test_missing_gensim_names_the_install_command(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"pip install \"gensim>=4.0,<5\""):
        load_transfer_texts("builtin:wikipedia")


def test_builtin_wikipedia_is_clean_english_prose():
    texts = load_transfer_texts("builtin:wikipedia").texts
    assert len(texts) > 8000
    assert len(set(texts)) == len(texts)
    markup = [t for t in texts if any(m in t for m in ("[[", "]]", "{{", "}}", "<ref", "&nbsp;"))]
    assert len(markup) < 0.005 * len(texts)
    common = {"the", "of", "and", "in", "a", "to", "is", "was"}
    words = " ".join(texts[:300]).lower().split()
    assert sum(w in common for w in words) > 0.15 * len(words)
