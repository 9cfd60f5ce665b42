"""What BERT normalization + pre-tokenization does to each Unicode code point.

tensorflow-text's `FastBertNormalizer` differs from HF's `BertNormalizer` on
~145k code points (it applies NFKC, turns control characters into spaces
instead of removing them, and treats some symbols differently), so the
in-graph tokenizer normalizes with a table instead. The table is computed here
by running HF's own normalizer and pre-tokenizer over every code point, which
makes it exact for the installed `tokenizers` version. Both steps act on one
code point at a time, so a per-code-point table reproduces them.

Each code point maps to a short output: itself (IDENTITY), itself between
spaces (SPACED: punctuation and CJK, which the pre-tokenizer splits off), or a
row of `rows` (anything else: lowercased, accent-stripped, removed, whitespace
turned into a space). Outputs are stored as runs of consecutive code points.
"""
import functools

import numpy as np
from tokenizers import normalizers, pre_tokenizers

IDENTITY, SPACED, ROW = 0, 1, 2
MAX_CODEPOINT = 0x10FFFF
_SENTINEL = "|"  # never changed by the normalizer, so it can join code points
_CHUNK = 4096


@functools.lru_cache(maxsize=1)
def _all_chars():
    return tuple(chr(c) for c in range(MAX_CODEPOINT + 1)
                 if not 0xD800 <= c <= 0xDFFF and chr(c) != _SENTINEL)


def _normalize_each(normalizer, chars):
    out = []
    for i in range(0, len(chars), _CHUNK):
        pieces = normalizer.normalize_str(_SENTINEL.join(chars[i:i + _CHUNK])).split(_SENTINEL)
        if len(pieces) != len(chars[i:i + _CHUNK]):
            raise RuntimeError("normalizer output is not per code point; cannot build table.")
        out.extend(pieces)
    return out


@functools.lru_cache(maxsize=1)
def _bert_split_classes():
    """Characters `BertPreTokenizer` splits off alone and characters it drops."""
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    chars = _all_chars() + (_SENTINEL,)
    isolated, dropped = set(), set()
    for i in range(0, len(chars), _CHUNK):
        chunk = chars[i:i + _CHUNK]
        # "x" between characters: a character is isolated if it forms a word
        # alone, dropped if no word covers it.
        text = "x" + "x".join(chunk) + "x"
        covered = bytearray(len(text))
        for _, (start, end) in pre_tokenizer.pre_tokenize_str(text):
            covered[start:end] = b"\x01" * (end - start)
            if end - start == 1 and start % 2 == 1:
                isolated.add(text[start])
        dropped.update(ch for j, ch in enumerate(chunk) if not covered[2 * j + 1])
    return frozenset(isolated), frozenset(dropped)


@functools.lru_cache(maxsize=4)
def bert_char_table(do_lower_case, strip_accents, tokenize_chinese_chars):
    """Run-length table of `BertNormalizer` + `BertPreTokenizer` per code point.

    Returns numpy arrays `(run_starts, run_modes, run_rows, rows)`: code point
    `c` belongs to run `r = searchsorted(run_starts, c, "right") - 1`; its output
    is `c` (mode IDENTITY), `" c "` (SPACED) or `rows[run_rows[r]]` without its
    -1 padding (ROW). After mapping, words are exactly the space-separated parts.
    """
    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=tokenize_chinese_chars,
        strip_accents=strip_accents, lowercase=do_lower_case)
    chars = _all_chars() + (_SENTINEL,)
    outputs = _normalize_each(normalizer, chars[:-1]) + [normalizer.normalize_str(_SENTINEL)]
    isolated, dropped = _bert_split_classes()

    def final(text):
        return "".join(f" {ch} " if ch in isolated else " " if ch in dropped else ch
                       for ch in text)

    modes = np.full(MAX_CODEPOINT + 1, IDENTITY, np.int64)
    row_of = np.zeros(MAX_CODEPOINT + 1, np.int64)
    row_ids = {}
    special = isolated | dropped
    for ch, out in zip(chars, outputs):
        if out == ch and ch not in special:
            continue  # IDENTITY, the default
        out = final(out)
        if out == f" {ch} ":
            modes[ord(ch)] = SPACED
        else:
            modes[ord(ch)] = ROW
            row_of[ord(ch)] = row_ids.setdefault(out, len(row_ids))
    key = modes * (MAX_CODEPOINT + 1) + row_of
    starts = np.concatenate([[0], np.flatnonzero(np.diff(key)) + 1])
    width = max([3] + [len(r) for r in row_ids])
    rows = np.full((max(len(row_ids), 1), width), -1, np.int32)
    for text, i in row_ids.items():
        rows[i, :len(text)] = [ord(ch) for ch in text]
    return (starts.astype(np.int32), modes[starts].astype(np.int32),
            row_of[starts].astype(np.int32), rows)
