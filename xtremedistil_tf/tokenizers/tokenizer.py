"""Host-side tokenizer: HF `tokenizers` (Rust) with the ids `AutoTokenizer` gives."""
import threading

import numpy as np

from xtremedistil_tf.tokenizers import _backends, _folder

PADDINGS = ("max_length", "longest")
TRUNCATIONS = ("longest_first", "only_first", "only_second")


class Tokenizer:
    """WordPiece, SentencePiece (Unigram) or byte-level BPE tokenizer on the host.

    The backend is built the way transformers 5 builds `BertTokenizer`,
    `XLMRobertaTokenizer` and `RobertaTokenizer`, so ids, type ids and
    truncation equal `transformers.AutoTokenizer`'s. `graph_tokenizer()` gives
    a Keras layer that produces the same ids inside a TensorFlow graph.

    Most users call `Tokenizer.from_pretrained(folder)` or `Tokenizer.from_vocab`.

    Args:
        family: "wordpiece", "sentencepiece" or "bpe".
        vocab: tokens in id order; for "sentencepiece", `(piece, score)` pairs.
        merges: BPE merges as `(left, right)` pairs ("bpe" only).
        model_type: special-token style, one of `bert`, `electra`, `distilbert`
            (`[CLS] a [SEP] b [SEP]`, type ids 0/1), `roberta`, `xlm-roberta`
            (`<s> a </s></s> b </s>`, type ids 0). Default: by family.
        special_tokens: overrides of `unk_token`, `cls_token`, `sep_token`,
            `pad_token`, `mask_token`; each must be in `vocab`.
        do_lower_case, strip_accents, tokenize_chinese_chars: BERT normalizer
            flags, named as in `tokenizer_config.json` ("wordpiece" only).
            `strip_accents=None` follows `do_lower_case`.
        max_input_chars_per_word: longer words become the unknown token.
        continuing_subword_prefix: marks word-internal WordPieces.
        precompiled_charsmap: SentencePiece normalization table ("sentencepiece").
        add_prefix_space: prepend a space before each word (SentencePiece,
            default True) or before the text (BPE, default False).
        trim_offsets: trim whitespace from BPE offsets.
        sentencepiece_model: the original `.model` file bytes, kept for `save`.
        model_max_length: written to `tokenizer_config.json` by `save`.

    Examples:
    >>> tok = Tokenizer.from_vocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hi", "!"])
    >>> tok("Hi!", max_length=6)["input_ids"]
    array([[2, 5, 6, 3, 0, 0]], dtype=int32)
    """

    def __init__(self, family, vocab, *, merges=None, model_type=None, special_tokens=None,
                 do_lower_case=True, strip_accents=None, tokenize_chinese_chars=True,
                 max_input_chars_per_word=100, continuing_subword_prefix="##",
                 precompiled_charsmap=b"", add_prefix_space=None, trim_offsets=True,
                 sentencepiece_model=None, model_max_length=512):
        if family not in _backends.FAMILIES:
            raise ValueError(f"family={family!r} is not supported; valid: {_backends.FAMILIES}.")
        model_type = model_type or _backends.DEFAULT_MODEL_TYPE[family]
        _backends.check_model_type(model_type, family)
        style = _backends.MODEL_TYPES[model_type][0]
        unknown = set(special_tokens or {}) - set(_backends.SPECIAL_TOKEN_NAMES)
        if unknown:
            raise ValueError(f"unknown special token names {sorted(unknown)}; "
                             f"valid: {_backends.SPECIAL_TOKEN_NAMES}.")
        self.special_tokens = {**_backends.DEFAULT_SPECIAL_TOKENS[style], **(special_tokens or {})}
        self.family, self.model_type = family, model_type
        self.do_lower_case = bool(do_lower_case) if family == "wordpiece" else False
        self.strip_accents = strip_accents
        self.tokenize_chinese_chars = bool(tokenize_chinese_chars)
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.continuing_subword_prefix = continuing_subword_prefix
        self.precompiled_charsmap = bytes(precompiled_charsmap or b"")
        self.add_prefix_space = (family == "sentencepiece") if add_prefix_space is None \
            else bool(add_prefix_space)
        self.trim_offsets = bool(trim_offsets)
        self.sentencepiece_model = sentencepiece_model
        self.model_max_length = int(model_max_length)
        self.merges = [tuple(m) for m in merges or []]
        if family == "wordpiece":
            self.vocab = [str(t) for t in vocab]
            backend = _backends.build_wordpiece(
                self.vocab, self.special_tokens, self.do_lower_case, strip_accents,
                self.tokenize_chinese_chars, self.max_input_chars_per_word,
                continuing_subword_prefix)
        elif family == "sentencepiece":
            self.pieces = [(str(p), float(s)) for p, s in vocab]
            self.vocab = [p for p, _ in self.pieces]
            if self.special_tokens["unk_token"] not in self.vocab:
                raise ValueError(f"unk_token {self.special_tokens['unk_token']!r} is not a piece.")
            backend = _backends.build_sentencepiece(
                self.pieces, self.vocab.index(self.special_tokens["unk_token"]),
                self.special_tokens, self.precompiled_charsmap, self.add_prefix_space)
        else:
            if merges is None:
                raise ValueError("family='bpe' needs `merges`.")
            self.vocab = [str(t) for t in vocab]
            backend = _backends.build_bpe(self.vocab, self.merges, self.special_tokens,
                                          self.add_prefix_space, self.trim_offsets)
        self._backend = backend
        self._lock = threading.Lock()
        ids = {name: backend.token_to_id(tok) for name, tok in self.special_tokens.items()}
        self.unk_token_id, self.cls_token_id = ids["unk_token"], ids["cls_token"]
        self.sep_token_id, self.pad_token_id = ids["sep_token"], ids["pad_token"]
        self.mask_token_id = ids["mask_token"]
        self.special_token_layout = _backends.template_layout(backend)

    @classmethod
    def from_pretrained(cls, folder):
        """Load an HF tokenizer folder.

        Reads `tokenizer.json` if present, else `vocab.txt` (WordPiece),
        `sentencepiece.bpe.model` / `spiece.model` (XLM-R-style SentencePiece) or
        `vocab.json` + `merges.txt` (byte-level BPE). Flags in
        `tokenizer_config.json` (e.g. `do_lower_case`) win over `tokenizer.json`,
        as in transformers 5; `config.json`'s `model_type` picks the special-token
        style.
        """
        return cls(**_folder.load_kwargs(folder))

    @classmethod
    def from_vocab(cls, tokens, do_lower_case=True, **kwargs):
        """A BERT-style WordPiece tokenizer from a list of tokens in id order."""
        return cls("wordpiece", list(tokens), do_lower_case=do_lower_case, **kwargs)

    @property
    def backend(self):
        """The `tokenizers.Tokenizer`; do not change its truncation or padding."""
        return self._backend

    @property
    def vocab_size(self):
        return self._backend.get_vocab_size(with_added_tokens=True)

    def num_special_tokens(self, pair=False):
        """How many special tokens `__call__` adds to one text or to a pair."""
        return sum(isinstance(item[0], int)
                   for item in self.special_token_layout["pair" if pair else "single"])

    def token_to_id(self, token):
        return self._backend.token_to_id(token)

    def id_to_token(self, token_id):
        return self._backend.id_to_token(int(token_id))

    def decode(self, ids, skip_special_tokens=True):
        return self._backend.decode([int(i) for i in ids], skip_special_tokens=skip_special_tokens)

    def encode_batch_raw(self, texts, text_pairs=None, max_length=None,
                         truncation="longest_first", stride=0, add_special_tokens=True):
        """`tokenizers.Encoding`s (ids, offsets, word ids, overflow) without padding.

        Args:
            texts: a str or a list of str.
            text_pairs: optional second segments, same length as `texts`.
            max_length: truncate to this many tokens (specials included);
                `None` means no truncation.
            truncation: "longest_first", "only_first" or "only_second".
            stride: tokens shared by consecutive overflowing windows, which are
                in each encoding's `overflowing` list.
            add_special_tokens: add the model's special tokens.

        With pairs, the backend builds every combination of both segments'
        overflowing windows, which is slow for long pairs and short
        `max_length`; SQuAD-style windows want `truncation="only_second"`.
        """
        texts, text_pairs = _as_lists(texts, text_pairs)
        if truncation not in TRUNCATIONS:
            raise ValueError(f"truncation={truncation!r}; valid: {TRUNCATIONS}.")
        if max_length is not None:
            needed = self.num_special_tokens(text_pairs is not None) if add_special_tokens else 0
            if max_length <= needed:
                raise ValueError(f"max_length={max_length} leaves no room for text next to the "
                                 f"{needed} special tokens; use max_length > {needed}.")
        inputs = texts if text_pairs is None else list(zip(texts, text_pairs))
        with self._lock:
            if max_length is None:
                self._backend.no_truncation()
            else:
                self._backend.enable_truncation(max_length, stride=stride, strategy=truncation)
            try:
                return self._backend.encode_batch(inputs, add_special_tokens=add_special_tokens)
            finally:
                self._backend.no_truncation()

    def __call__(self, texts, text_pairs=None, max_length=128, padding="max_length",
                 return_num_truncated=False):
        """Model inputs for a batch of texts (or text pairs).

        Args:
            texts: a str or a list of str.
            text_pairs: optional second segments, same length as `texts`.
            max_length: truncate (longest first for pairs, as HF) to this length.
            padding: "max_length" pads to `max_length`; "longest" to the longest
                sequence of the batch.
            return_num_truncated: also return `num_truncated`, how many inputs
                lost tokens to truncation.

        Returns:
            dict of int32 numpy arrays `input_ids`, `attention_mask`,
            `token_type_ids`, each `[batch, length]`.
        """
        if padding not in PADDINGS:
            raise ValueError(f"padding={padding!r}; valid: {PADDINGS}.")
        texts, text_pairs = _as_lists(texts, text_pairs)
        layout = self.special_token_layout["single" if text_pairs is None else "pair"]
        budget = max_length - self.num_special_tokens(text_pairs is not None)
        if budget <= 0:
            raise ValueError(f"max_length={max_length} leaves no room for text next to the "
                             f"{max_length - budget} special tokens; use more.")
        # Truncate here rather than in the backend: for long pairs the backend
        # builds every combination of overflowing windows, which is very slow.
        segments = {"A": self._encode_plain(texts)}
        if text_pairs is not None:
            segments["B"] = self._encode_plain(text_pairs)
        n1 = np.array([len(x) for x in segments["A"]], np.int64)
        n2 = (np.array([len(x) for x in segments["B"]], np.int64) if text_pairs is not None
              else np.zeros_like(n1))
        keep1, keep2 = longest_first_lengths(n1, n2, budget)
        num_truncated = int(np.sum(keep1 + keep2 < n1 + n2))
        rows = []
        for i in range(len(texts)):
            keep = {"A": keep1[i], "B": keep2[i]}
            ids, types = [], []
            for what, type_id in layout:
                part = segments[what][i][:keep[what]] if what in segments else [what]
                ids.extend(part)
                types.extend([type_id] * len(part))
            rows.append((ids, types))
        length = max_length if padding == "max_length" else max((len(r[0]) for r in rows),
                                                                default=0)
        out = {"input_ids": np.full((len(rows), length), self.pad_token_id, np.int32),
               "attention_mask": np.zeros((len(rows), length), np.int32),
               "token_type_ids": np.zeros((len(rows), length), np.int32)}
        for row, (ids, types) in enumerate(rows):
            out["input_ids"][row, :len(ids)] = ids
            out["attention_mask"][row, :len(ids)] = 1
            out["token_type_ids"][row, :len(ids)] = types
        if return_num_truncated:
            out["num_truncated"] = int(num_truncated)
        return out

    def _encode_plain(self, texts):
        with self._lock:
            return [e.ids for e in self._backend.encode_batch(texts, add_special_tokens=False)]

    def save(self, folder):
        """Write `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`
        and `vocab.txt` / the SentencePiece model / `vocab.json` + `merges.txt`,
        so that `transformers.AutoTokenizer.from_pretrained(folder)` gives the
        same ids."""
        _folder.save(self, folder)

    def graph_tokenizer(self, max_length=128, **kwargs):
        """A `GraphTokenizer` layer giving this tokenizer's ids inside a TF graph.

        `kwargs` go to `GraphTokenizer` (e.g. `tflite_compatible=True`). Raises
        ValueError for byte-level BPE, which tensorflow-text cannot run.
        """
        from xtremedistil_tf.tokenizers.graph_tokenizer import GraphTokenizer

        return GraphTokenizer.from_tokenizer(self, max_length=max_length, **kwargs)

    def __repr__(self):
        return (f"Tokenizer(family={self.family!r}, model_type={self.model_type!r}, "
                f"vocab_size={self.vocab_size}, do_lower_case={self.do_lower_case})")


def longest_first_lengths(n1, n2, budget, ops=np):
    """Tokens each segment keeps under HF `longest_first` truncation to `budget` in all.

    The package's one truncation rule: the host `Tokenizer` calls it on numpy
    arrays, the in-graph `GraphTokenizer` on tensors (`ops=tf`). When both
    segments are too long, the shorter keeps `budget // 2` tokens (the first
    when they tie) and the other the rest; a pair that fits comes out whole from
    the same formulas, and `n2 = 0` is plain truncation of one text. Checked
    against the Rust tokenizer for all lengths in the tests.

    Args:
        n1, n2: lengths of the first and second segments (ints, arrays or tensors).
        budget: tokens the two may hold together.
        ops: a module with `minimum` and `where`: numpy or tensorflow.

    Returns `(keep1, keep2)`, shaped like `n1`.
    """
    first_longer = n1 > n2
    keep_short = ops.minimum(ops.where(first_longer, n2, n1), budget // 2)
    keep_long = ops.minimum(ops.where(first_longer, n1, n2), budget - keep_short)
    return (ops.where(first_longer, keep_long, keep_short),
            ops.where(first_longer, keep_short, keep_long))


def _as_lists(texts, text_pairs):
    if isinstance(texts, str):
        texts = [texts]
        if isinstance(text_pairs, str):
            text_pairs = [text_pairs]
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise ValueError(f"texts[{i}] is {type(text).__name__} {text!r}; expected str.")
    if text_pairs is not None:
        text_pairs = list(text_pairs)
        if len(text_pairs) != len(texts):
            raise ValueError(f"text_pairs has {len(text_pairs)} items but texts has "
                             f"{len(texts)}; they must match.")
        for i, text in enumerate(text_pairs):
            if not isinstance(text, str):
                raise ValueError(f"text_pairs[{i}] is {type(text).__name__} {text!r}; "
                                 "expected str.")
    return texts, text_pairs
