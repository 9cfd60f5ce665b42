"""The tokenizer calls the tasks need, on top of a Hugging Face `tokenizers.Tokenizer`."""
import os

import tokenizers


def backend_tokenizer(tokenizer):
    """The `tokenizers.Tokenizer` behind `tokenizer`.

    Accepts a `tokenizers.Tokenizer`, a folder holding `tokenizer.json`, the
    path of a `tokenizer.json`, or any wrapper (this package's `Tokenizer`, an
    HF fast tokenizer) that exposes one as an attribute.
    """
    if isinstance(tokenizer, tokenizers.Tokenizer):
        return tokenizer
    if isinstance(tokenizer, (str, os.PathLike)):
        path = os.fspath(tokenizer)
        if os.path.isdir(path):
            path = os.path.join(path, "tokenizer.json")
        if not os.path.isfile(path):
            raise ValueError(f"No tokenizer.json at {path!r}; pass a folder that holds one "
                             "(an HF checkpoint folder or a fine-tuning output folder).")
        return tokenizers.Tokenizer.from_file(path)
    for name in ("backend", "backend_tokenizer", "tokenizer", "_tokenizer"):
        inner = getattr(tokenizer, name, None)
        if isinstance(inner, tokenizers.Tokenizer):
            return inner
    raise TypeError(f"Cannot find a tokenizers.Tokenizer inside {type(tokenizer).__name__}; "
                    "pass a tokenizers.Tokenizer or a folder holding tokenizer.json.")


class TaskTokenizer:
    """Encodes texts, text pairs and pre-split words for fine-tuning, without padding.

    Padding happens per batch later, so outputs are lists of id lists. Every
    call reports how many inputs lost tokens to `max_length`.

    Args:
        tokenizer: anything `backend_tokenizer` accepts.

    Examples:
    >>> tok = TaskTokenizer("path/to/checkpoint")
    >>> encoded, truncated = tok.encode_texts(["a text"], max_length=16)
    >>> encoded["input_ids"][0][:1]  # [CLS]
    """

    def __init__(self, tokenizer):
        # Kept to save the full tokenizer folder (vocab, config) when it can.
        self.source = tokenizer
        # A private copy: truncation settings must not leak into the caller's tokenizer.
        self.backend = tokenizers.Tokenizer.from_str(backend_tokenizer(tokenizer).to_str())
        self.backend.no_padding()
        self.backend.no_truncation()
        self.num_special_pair = self.backend.num_special_tokens_to_add(is_pair=True)
        self.num_special_single = self.backend.num_special_tokens_to_add(is_pair=False)

    @property
    def vocab_size(self):
        return self.backend.get_vocab_size(with_added_tokens=True)

    def save(self, folder):
        """Writes the tokenizer into `folder` (at least `tokenizer.json`)."""
        from xtremedistil_tf.utils.atomic_io import atomic_path

        if isinstance(self.source, TaskTokenizer):
            return self.source.save(folder)
        if hasattr(self.source, "save") and not isinstance(self.source, tokenizers.Tokenizer):
            return self.source.save(folder)  # This package's Tokenizer writes HF files.
        with atomic_path(os.path.join(folder, "tokenizer.json")) as tmp:
            self.backend.save(tmp)

    def _truncating(self, max_length):
        self.backend.enable_truncation(max_length, strategy="longest_first")

    def encode_texts(self, texts, text_pairs=None, max_length=128):
        """Encodes texts (or pairs) with special tokens, truncated to `max_length`.

        Returns `({"input_ids", "token_type_ids"}, num_truncated)`; values are
        lists of int lists.
        """
        minimum = (self.num_special_pair if text_pairs is not None
                   else self.num_special_single) + 1
        if max_length < minimum:
            raise ValueError(f"max_length={max_length} leaves no room for text after the "
                             f"{minimum - 1} special tokens; use a larger max_seq_length.")
        inputs = list(texts) if text_pairs is None else list(zip(texts, text_pairs))
        self._truncating(max_length)
        try:
            encodings = self.backend.encode_batch(inputs)
        finally:
            self.backend.no_truncation()
        truncated = sum(1 for e in encodings if e.overflowing)
        return {"input_ids": [e.ids for e in encodings],
                "token_type_ids": [e.type_ids for e in encodings]}, truncated

    def encode_words(self, words, max_length=128):
        """Encodes pre-split sentences; returns the encodings' ids and word ids.

        Returns `({"input_ids", "token_type_ids", "word_ids"}, num_truncated)`;
        `word_ids[i][t]` is the index of the word token `t` came from, or None
        for special tokens.
        """
        self._truncating(max_length)
        try:
            encodings = self.backend.encode_batch([list(w) for w in words],
                                                  is_pretokenized=True)
        finally:
            self.backend.no_truncation()
        truncated = sum(1 for e in encodings if e.overflowing)
        return {"input_ids": [e.ids for e in encodings],
                "token_type_ids": [e.type_ids for e in encodings],
                "word_ids": [e.word_ids for e in encodings]}, truncated

    def encode_raw(self, texts):
        """`tokenizers.Encoding`s without special tokens, with character offsets."""
        return self.backend.encode_batch(list(texts), add_special_tokens=False)

    def pair_template(self):
        """How the post-processor wraps a pair in special tokens.

        A pair encodes as prefix + first + middle + second + suffix, e.g.
        `[CLS] a [SEP] b [SEP]` or RoBERTa's `<s> a </s></s> b </s>`. Returns a
        dict with `prefix`, `middle` and `suffix` (each `(ids, type_ids)`) and
        `first_type` and `second_type`, the type ids of the two texts.
        """
        pair = self.backend.encode("a", "b")
        seq = pair.sequence_ids
        first_pos = [i for i, s in enumerate(seq) if s == 0]
        second_pos = [i for i, s in enumerate(seq) if s == 1]

        def part(lo, hi):
            return list(pair.ids[lo:hi]), list(pair.type_ids[lo:hi])

        return {"prefix": part(0, first_pos[0]),
                "middle": part(first_pos[-1] + 1, second_pos[0]),
                "suffix": part(second_pos[-1] + 1, len(seq)),
                "first_type": pair.type_ids[first_pos[0]],
                "second_type": pair.type_ids[second_pos[0]]}
