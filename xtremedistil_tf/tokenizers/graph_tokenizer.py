"""In-graph tokenizer: strings to model inputs inside TensorFlow, same ids as the host."""
import base64

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from xtremedistil_tf.tokenizers import _backends, _graph_offsets, _graph_ops
from xtremedistil_tf.tokenizers._char_table import bert_char_table

GRAPH_FAMILIES = ("wordpiece", "sentencepiece")
# Unicode White_Space: what HF's WhitespaceSplit splits on.
WHITE_SPACE = (list(range(0x09, 0x0E)) + [0x20, 0x85, 0xA0, 0x1680] + list(range(0x2000, 0x200B))
               + [0x2028, 0x2029, 0x202F, 0x205F, 0x3000])


@keras.saving.register_keras_serializable(package="xtremedistil_tf")
class GraphTokenizer(keras.layers.Layer):
    """Tokenizes a batch of strings (or string pairs) inside a TensorFlow graph.

    Gives the same `input_ids`, `attention_mask` and `token_type_ids` as the
    host `Tokenizer` (and transformers' `AutoTokenizer`), including special
    tokens, longest-first pair truncation and padding to `max_length`. Works
    eagerly, in `tf.function`, in `tf.data` and in saved models. Build it with
    `Tokenizer.graph_tokenizer(max_length)`.

    WordPiece: normalization and pre-tokenization use an exact per-code-point
    table of HF's BERT normalizer (`FastBertNormalizer` differs from it on
    control characters, compatibility forms and more), then tensorflow-text's
    `FastWordpieceTokenizer`; words longer than `max_input_chars_per_word`
    characters become the unknown token, as in HF. SentencePiece: a
    `FastSentencepieceTokenizer` on a model rebuilt from the host vocabulary, so
    its ids are the host ids. Byte-level BPE (RoBERTa) is not supported.

    The exact mode converts to TFLite only with Select TF ops (Flex: string,
    Unicode and regex ops), which the LiteRT pip runtime lacks.
    `tflite_compatible=True` is the package's one LiteRT tokenizer (the text-in
    LiteRT export uses it): only TFLite builtins and tensorflow-text ops with
    TFLite kernels (register `tensorflow_text.tflite_registrar.
    SELECT_TFTEXT_OPS`), at the price of rare differences from HF: WordPiece
    uses `FastBertTokenizer` (compatibility-maps characters such as "ﬁ" or
    full-width forms, turns control characters into spaces, limits words in
    bytes, not characters), literal special-token strings are tokenized as
    text, and SentencePiece does not split on U+0085. Export compares it with
    the host tokenizer on the parity sample and refuses a model that disagrees.

    Args:
        family: "wordpiece" or "sentencepiece".
        vocab: tokens in id order.
        max_length: length of every output row.
        special_token_layout: `{"single": [...], "pair": [...]}` as
            `Tokenizer.special_token_layout`.
        pad_token_id: id written after the last token.
        added_tokens: `[content, id]` pairs matched in the raw text before
            tokenization, like HF added tokens (e.g. a literal "[SEP]").
        match_special_tokens: match `added_tokens` in the text, as HF does.
            False tokenizes such strings as plain text and leaves out the
            regex ops. Default: True unless `tflite_compatible`.
        tflite_compatible: use only ops that run in LiteRT (see above).
        unk_token, do_lower_case, strip_accents, tokenize_chinese_chars,
            max_input_chars_per_word, continuing_subword_prefix: WordPiece
            settings, as in `Tokenizer`.
        sentencepiece_model: serialized SentencePiece model (bytes or base64
            str) whose ids are the host ids.
        whitespace_codepoints: code points to turn into spaces before
            SentencePiece: HF splits on them but SentencePiece would not.

    Call:
        texts: string tensor `[batch]` (or `[batch, 1]`).
        text_pairs: optional second segments, same shape.

    Returns a dict of int32 `[batch, max_length]` tensors `input_ids`,
    `attention_mask` and `token_type_ids`.

    Examples:
    >>> tokenizer = Tokenizer.from_pretrained(folder)
    >>> layer = tokenizer.graph_tokenizer(max_length=128)
    >>> layer(tf.constant(["a sentence"]))["input_ids"].shape
    TensorShape([1, 128])
    >>> ds = tf.data.Dataset.from_tensor_slices(texts).batch(32).map(layer)
    """

    def __init__(self, family, vocab, max_length=128, special_token_layout=None,
                 pad_token_id=0, added_tokens=(), match_special_tokens=None,
                 tflite_compatible=False, unk_token="[UNK]", do_lower_case=True,
                 strip_accents=None, tokenize_chinese_chars=True,
                 max_input_chars_per_word=100, continuing_subword_prefix="##",
                 sentencepiece_model=None, whitespace_codepoints=(), **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if family not in GRAPH_FAMILIES:
            raise ValueError(_unsupported_message(family))
        if special_token_layout is None:
            raise ValueError("special_token_layout is required; build the layer with "
                             "Tokenizer.graph_tokenizer() to get it.")
        num_special = sum(isinstance(item[0], int) for item in special_token_layout["pair"])
        if max_length <= num_special:
            raise ValueError(f"max_length={max_length} leaves no room for text next to the "
                             f"{num_special} special tokens of a pair; use more.")
        # Config.
        self.family, self.vocab, self.max_length = family, list(vocab), int(max_length)
        self.special_token_layout = {k: [list(i) for i in v]
                                     for k, v in special_token_layout.items()}
        self.pad_token_id = int(pad_token_id)
        self.added_tokens = [[str(t), int(i)] for t, i in added_tokens]
        self.tflite_compatible = bool(tflite_compatible)
        if match_special_tokens is None:
            match_special_tokens = not self.tflite_compatible
        if match_special_tokens and self.tflite_compatible:
            raise ValueError("match_special_tokens=True needs regex ops that LiteRT lacks; "
                             "with tflite_compatible=True pass match_special_tokens=False.")
        self.match_special_tokens = bool(match_special_tokens)
        self.unk_token, self.do_lower_case = unk_token, bool(do_lower_case)
        self.strip_accents = strip_accents
        self.tokenize_chinese_chars = bool(tokenize_chinese_chars)
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self.continuing_subword_prefix = continuing_subword_prefix
        if isinstance(sentencepiece_model, str):
            sentencepiece_model = base64.b64decode(sentencepiece_model)
        self.sentencepiece_model = sentencepiece_model
        self.whitespace_codepoints = [int(c) for c in whitespace_codepoints]
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        # Ops.
        if family == "wordpiece" and unk_token not in self.vocab:
            raise ValueError(f"unk_token {unk_token!r} is not in the vocabulary.")
        if family == "wordpiece" and self.tflite_compatible:
            if strip_accents not in (None, self.do_lower_case) or not self.tokenize_chinese_chars:
                raise ValueError(
                    f"tflite_compatible=True cannot reproduce strip_accents={strip_accents} "
                    f"with do_lower_case={self.do_lower_case} or tokenize_chinese_chars="
                    f"{self.tokenize_chinese_chars}; use the exact mode.")
            # FastBertTokenizer's two halves, kept apart so that offsets can go through
            # the normalizer's offset map (its own tokenize_with_offsets needs ops
            # LiteRT lacks).
            self._bert_normalizer = tf_text.FastBertNormalizer(
                lower_case_nfd_strip_accents=self.do_lower_case)
            self._bert_wordpiece = tf_text.FastWordpieceTokenizer(
                vocab=self.vocab, suffix_indicator=continuing_subword_prefix,
                max_bytes_per_word=self.max_input_chars_per_word, token_out_type=tf.int32,
                unknown_token=unk_token)
        elif family == "wordpiece":
            tables = bert_char_table(self.do_lower_case, strip_accents, self.tokenize_chinese_chars)
            self._char_table = [tf.constant(t) for t in tables]
            # Words over the character limit are swapped for the unknown token
            # (which the vocabulary matches whole), so no byte limit may bite first.
            self._wordpiece = tf_text.FastWordpieceTokenizer(
                vocab=self.vocab, suffix_indicator=continuing_subword_prefix,
                max_bytes_per_word=4 * self.max_input_chars_per_word + 4,
                token_out_type=tf.int32, unknown_token=unk_token, no_pretokenization=True)
        else:
            if sentencepiece_model is None:
                raise ValueError("family='sentencepiece' needs `sentencepiece_model`.")
            self._sentencepiece = tf_text.FastSentencepieceTokenizer(model=sentencepiece_model)
        if self.match_special_tokens and self.added_tokens:
            contents = sorted({t for t, _ in self.added_tokens}, key=len, reverse=True)
            # Longest first: RE2 alternation takes the first match, HF the longest.
            self._special_pattern = "|".join(_re2_literal(t) for t in contents)
            self._special_strings = tf.constant([t for t, _ in self.added_tokens])
            self._special_ids = tf.constant([i for _, i in self.added_tokens], tf.int32)
        else:
            self._special_pattern = None
        self.built = True

    @classmethod
    def from_tokenizer(cls, tokenizer, max_length=128, match_special_tokens=None,
                       tflite_compatible=False, **kwargs):
        """The layer that reproduces host `Tokenizer` `tokenizer`."""
        if tokenizer.family not in GRAPH_FAMILIES:
            raise ValueError(_unsupported_message(tokenizer.family, tokenizer.model_type))
        if match_special_tokens is None:
            match_special_tokens = not tflite_compatible
        added = []
        for token_id, token in sorted(tokenizer.backend.get_added_tokens_decoder().items()):
            if match_special_tokens and (token.normalized or token.single_word
                                         or token.lstrip or token.rstrip):
                raise ValueError(
                    f"added token {token.content!r} uses normalized/single_word/lstrip/rstrip "
                    "matching, which the in-graph tokenizer does not reproduce; pass "
                    "match_special_tokens=False to tokenize it as plain text instead.")
            added.append([token.content, token_id])
        args = dict(family=tokenizer.family, vocab=tokenizer.vocab, max_length=max_length,
                    special_token_layout=tokenizer.special_token_layout,
                    pad_token_id=tokenizer.pad_token_id, added_tokens=added,
                    match_special_tokens=match_special_tokens,
                    tflite_compatible=tflite_compatible)
        if tokenizer.family == "wordpiece":
            args.update(unk_token=tokenizer.special_tokens["unk_token"],
                        do_lower_case=tokenizer.do_lower_case,
                        strip_accents=tokenizer.strip_accents,
                        tokenize_chinese_chars=tokenizer.tokenize_chinese_chars,
                        max_input_chars_per_word=tokenizer.max_input_chars_per_word,
                        continuing_subword_prefix=tokenizer.continuing_subword_prefix)
        else:
            args["sentencepiece_model"] = _backends.write_sentencepiece_model(
                tokenizer.pieces, tokenizer.unk_token_id, tokenizer.special_tokens,
                tokenizer.precompiled_charsmap, tokenizer.add_prefix_space)
            normalizer = tokenizer.backend.normalizer
            args["whitespace_codepoints"] = [
                c for c in WHITE_SPACE if c != 0x20 and any(
                    ord(ch) in WHITE_SPACE and ch != " "
                    for ch in (normalizer.normalize_str(chr(c)) if normalizer else chr(c)))]
        args.update(kwargs)
        return cls(**args)

    def _tokenize_plain(self, texts):
        """Ids of strings `[N]` without special tokens, as `(values, splits)`."""
        if self.family == "sentencepiece":
            if self.whitespace_codepoints and not self.tflite_compatible:
                chars = "".join(f"\\x{{{c:x}}}" for c in self.whitespace_codepoints)
                texts = tf.strings.regex_replace(texts, f"[{chars}]", " ")
            tokens = self._sentencepiece.tokenize(texts)
            return (tf.cast(tokens.flat_values, tf.int32),
                    tf.cast(tokens.row_splits, tf.int64))
        if self.tflite_compatible:
            tokens = self._bert_wordpiece.tokenize(self._bert_normalizer.normalize(texts))
            return tokens.flat_values, tf.cast(tokens.row_splits, tf.int64)
        words, word_splits = _graph_ops.normalize_and_split_words(texts, *self._char_table)
        too_long = tf.strings.length(words, unit="UTF8_CHAR") > self.max_input_chars_per_word
        # The vocabulary holds the unknown token whole, so it maps to one id.
        words = tf.where(too_long, self.unk_token, words)
        pieces = self._wordpiece.tokenize(words)
        piece_splits = tf.cast(pieces.row_splits, tf.int64)
        return pieces.flat_values, tf.gather(piece_splits, word_splits)

    def _split_specials(self, texts):
        """Splits texts around added tokens: `(pieces, flat pieces, special id or -1)`."""
        # Core string ops only (tensorflow-text's regex_split stops at NUL and has no
        # TFLite kernel). Escape NUL as NUL+\x01 so that NUL+\x02 can only be the
        # marker we insert.
        escaped = tf.strings.regex_replace(texts, "\\x00", "\x00\x01")
        marked = tf.strings.regex_replace(
            escaped, f"({self._special_pattern})", "\x00\x02\\1\x00\x02")
        pieces = tf.strings.split(marked, sep="\x00\x02")
        flat = tf.strings.regex_replace(pieces.flat_values, "\\x00\\x01", "\x00")
        matches = tf.equal(flat[:, None], self._special_strings[None, :])
        special_id = tf.where(tf.reduce_any(matches, axis=1),
                              tf.gather(self._special_ids, tf.argmax(matches, axis=1)), -1)
        return pieces, flat, special_id

    def _tokenize(self, texts):
        if self._special_pattern is None:
            return self._tokenize_plain(texts)
        pieces, flat, special_id = self._split_specials(texts)
        values, splits = self._tokenize_plain(flat)
        lengths = tf.where(special_id >= 0, tf.ones_like(splits[1:]), _graph_ops.lengths_of(splits))
        values, splits = _graph_ops.take_rows(values, splits, lengths, fill=special_id)
        return values, tf.gather(splits, tf.cast(pieces.row_splits, tf.int64))

    def call(self, texts, text_pairs=None):
        first = self._tokenize(_as_batch(texts))
        if text_pairs is None:
            budget = self.max_length - self._num_special("single")
            segments = {"A": _graph_ops.truncate_single(first, budget)}
            layout = self.special_token_layout["single"]
        else:
            second = self._tokenize(_as_batch(text_pairs))
            budget = self.max_length - self._num_special("pair")
            first, second = _graph_ops.truncate_longest_first(first, second, budget)
            segments = {"A": first, "B": second}
            layout = self.special_token_layout["pair"]
        return _graph_ops.assemble_and_pad(segments, layout, self.max_length, self.pad_token_id)

    @property
    def supports_offsets(self):
        """Whether `tokenize_with_offsets` works: WordPiece only (no SentencePiece op)."""
        return self.family == "wordpiece"

    def tokenize_with_offsets(self, texts, text_pairs=None):
        """`call`'s model inputs plus where each token came from.

        Returns the dict of `call` and int32 `[batch, max_length]`
        `token_start`, `token_end` (UTF-8 byte offsets of the token in its own
        text, end exclusive: the original characters, case and accents
        included) and `token_segment` (0 for `texts`, 1 for `text_pairs`), each
        -1 on special tokens and padding. WordPiece only (`supports_offsets`).
        """
        if not self.supports_offsets:
            raise ValueError(
                f"tokenize_with_offsets needs the wordpiece family, not {self.family!r}: "
                "tensorflow-text's FastSentencepieceTokenizer gives no offsets. Use the "
                "token positions (start_index/end_index, tag_ids) instead.")
        texts = _as_batch(texts)
        text_pairs = None if text_pairs is None else _as_batch(text_pairs)
        return _graph_offsets.tokenize_with_offsets(self, texts, text_pairs)

    @staticmethod
    def split_words(texts):
        """Whitespace-separated words of `texts` with byte offsets; see `_graph_offsets`."""
        return _graph_offsets.split_words(_as_batch(texts))

    def _num_special(self, kind):
        return sum(isinstance(item[0], int) for item in self.special_token_layout[kind])

    def compute_output_spec(self, texts, text_pairs=None):
        shape = (texts.shape[0] if texts.shape else 1, self.max_length)
        return {k: keras.KerasTensor(shape, dtype="int32")
                for k in ("input_ids", "attention_mask", "token_type_ids")}

    def get_config(self):
        config = super().get_config()
        model = self.sentencepiece_model
        config.update(
            family=self.family, vocab=list(self.vocab), max_length=self.max_length,
            special_token_layout={k: [list(item) for item in v]
                                  for k, v in self.special_token_layout.items()},
            pad_token_id=self.pad_token_id, added_tokens=[list(t) for t in self.added_tokens],
            match_special_tokens=self.match_special_tokens,
            tflite_compatible=self.tflite_compatible,
            unk_token=self.unk_token, do_lower_case=self.do_lower_case,
            strip_accents=self.strip_accents, tokenize_chinese_chars=self.tokenize_chinese_chars,
            max_input_chars_per_word=self.max_input_chars_per_word,
            continuing_subword_prefix=self.continuing_subword_prefix,
            sentencepiece_model=None if model is None else base64.b64encode(model).decode("ascii"),
            whitespace_codepoints=list(self.whitespace_codepoints))
        return config


def _re2_literal(text):
    return "".join(ch if ch.isalnum() else f"\\x{{{ord(ch):x}}}" for ch in text)


def _as_batch(texts):
    texts = tf.convert_to_tensor(texts, dtype=tf.string)
    if texts.shape.rank == 0:
        return texts[None]
    if texts.shape.rank == 2 and texts.shape[1] == 1:
        return tf.squeeze(texts, axis=1)
    if texts.shape.rank != 1:
        raise ValueError(f"expected strings of shape [batch] or [batch, 1], got {texts.shape}.")
    return texts


def _unsupported_message(family, model_type=None):
    what = f"family={family!r}" + (f" (model_type={model_type!r})" if model_type else "")
    return (f"in-graph tokenization is unsupported for this tokenizer type: {what}; "
            f"supported: {GRAPH_FAMILIES}. tensorflow-text has no byte-level BPE op. "
            "Tokenize on the host with `Tokenizer` and use the token-ids input variant "
            "(input_ids, attention_mask, token_type_ids) of the model instead.")
