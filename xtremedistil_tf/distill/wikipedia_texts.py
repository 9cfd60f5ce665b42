"""English Wikipedia prose from the article excerpt the gensim package ships.

gensim's wheel carries, as test data, a 1.7 MB bzip2 excerpt of an English
Wikipedia dump (211 articles, "Anarchism" to "Aristotle", CC BY-SA). It is the
only general-domain English prose we found installed with a PyPI package, and it
is the kind of text BERT itself was trained on. We read the file without
importing gensim (setup.py lists it for this file alone), strip
the wiki markup with the regular expressions below; `transfer_data` packs the
paragraphs into examples like `builtin:python_docs`.
"""
import bz2
import html
import importlib.util
import os
import re
import xml.etree.ElementTree as ElementTree

_EXCERPT = os.path.join(
    "test", "test_data", "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")
INSTALL_HINT = 'pip install "gensim>=4.0,<5"'

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_REF = re.compile(r"<ref[^>/]*/>|<ref[^>]*>.*?</ref>", re.S | re.I)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_TEMPLATE = re.compile(r"\{\{[^{}]*\}\}")
_TABLE = re.compile(r"\{\|[^{}]*?\|\}", re.S)
_LINK = re.compile(r"\[\[(?!(?:File|Image|Category|Media):)(?:[^\[\]|]*\|)?([^\[\]]*)\]\]", re.I)
_MEDIA_LINK = re.compile(r"\[\[(?:File|Image|Category|Media|[a-z\-]{2,12}):[^\[\]]*\]\]", re.I)
_EXTERNAL = re.compile(r"\[(?:https?|ftp)://[^\s\]]+\s*([^\]]*)\]")
_BARE_URL = re.compile(r"(?:https?|ftp)://\S+")


def excerpt_path():
    """Where gensim's Wikipedia excerpt is installed; ValueError naming the fix if not."""
    spec = importlib.util.find_spec("gensim")
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], _EXCERPT)
    if path is None or not os.path.isfile(path):
        raise ValueError(
            "transfer_data=builtin:wikipedia* reads the Wikipedia excerpt that ships with the "
            f"gensim package, which is not installed; run {INSTALL_HINT} (a dependency of "
            "xtremedistil_tf) or pick another --transfer_data.")
    return path


def _repeat(pattern, replacement, text):
    """Applies `pattern` until nothing changes: nested templates and links go inside out."""
    while True:
        text, count = pattern.subn(replacement, text)
        if not count:
            return text


def wiki_to_paragraphs(markup):
    """Plain paragraphs of one article's wiki markup (headings, lists and tables dropped)."""
    text = _COMMENT.sub("", markup)
    text = _REF.sub("", text)
    text = _repeat(_TEMPLATE, "", text)
    text = _repeat(_TABLE, "", text)
    for _ in range(3):  # captions of images hold links: resolve those, then drop the image.
        text = _repeat(_LINK, r"\1", text)
        text = _MEDIA_LINK.sub("", text)
    text = _EXTERNAL.sub(r"\1", text)
    text = _BARE_URL.sub("", text)
    text = html.unescape(_TAG.sub("", text)).replace("\xa0", " ")
    text = text.replace("'''", "").replace("''", "")
    paragraphs = []
    for line in text.split("\n"):
        line = re.sub(r"\s+", " ", line).strip()
        if not line or line[0] in "=*#:;|!{}[" or line.startswith("__"):
            continue
        # A paragraph ends with a sentence; leftovers of markup do not.
        if line[-1] in ".!?\"')" and "{{" not in line and "}}" not in line:
            paragraphs.append(line)
    return paragraphs


def _articles(path):
    """(title, markup) of each main-namespace, non-redirect page of the dump."""
    with bz2.open(path, "rb") as stream:
        title, namespace, redirect = None, None, False
        for _, element in ElementTree.iterparse(stream, events=("end",)):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "title":
                title = element.text
            elif tag == "ns":
                namespace = element.text
            elif tag == "redirect":
                redirect = True
            elif tag == "text":
                if namespace == "0" and not redirect and element.text:
                    yield title, element.text
            elif tag == "page":
                title, namespace, redirect = None, None, False
                element.clear()


def article_texts(path=None):
    """Each article's prose as paragraphs separated by blank lines. `path` defaults
    to gensim's excerpt; any bzip2 MediaWiki XML dump reads the same way."""
    for _, markup in _articles(path or excerpt_path()):
        yield "\n\n".join(wiki_to_paragraphs(markup))
