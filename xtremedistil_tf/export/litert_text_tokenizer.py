"""An in-graph tokenizer built only from ops LiteRT can run (builtins + tensorflow-text ops)."""
import keras
import tensorflow as tf
import tensorflow_text as tf_text

LITERT_FAMILIES = ("wordpiece", "sentencepiece")


def _unsupported(family, reason):
    return (f"A text-in LiteRT model cannot be built for this {family!r} tokenizer: {reason}. "
            "Export the token-ids variant instead (litert_fp32 / litert_fp16 / litert_int8, "
            "inputs input_ids, attention_mask, token_type_ids) and tokenize on the host.")


class LiteRTTextTokenizer(keras.layers.Layer):
    """Strings to model inputs with ops that convert to LiteRT.

    The package's `GraphTokenizer` reproduces the host tokenizer exactly, but
    its normalization (unicode decoding, ragged concatenation, regexes) has no
    LiteRT kernels. This layer uses tensorflow-text's fused ops, which LiteRT
    runs as custom ops (`FastBertNormalize`, `FastWordpieceTokenize`,
    `FastSentencepieceTokenize`, `RaggedTensorToTensor`), and assembles special
    tokens, longest-first truncation and padding with dense builtin ops.
    It matches the host tokenizer on ordinary text (all of SST-2 dev, for
    example) but not everywhere: `FastBertNormalizer` differs from HF's BERT
    normalizer on some symbols, emoji and compatibility forms (full-width
    letters, ligatures); special-token strings inside the text (a literal
    "[SEP]") are tokenized as plain text; and the long-word limit counts bytes,
    not characters. Export compares it with the host tokenizer on the parity
    sample and refuses a text-in float32 model that disagrees.

    Args:
        family: "wordpiece" or "sentencepiece".
        vocab: tokens in id order (wordpiece).
        max_length: length of every output row.
        special_token_layout: `{"single": [...], "pair": [...]}` as
            `Tokenizer.special_token_layout`.
        pad_token_id: id written after the last token.
        unk_token, do_lower_case, continuing_subword_prefix,
            max_input_chars_per_word: WordPiece settings, as in `Tokenizer`.
        sentencepiece_model: serialized SentencePiece model whose ids are the
            host ids (sentencepiece).

    Call takes `texts` (string `[batch]`) and optionally `text_pairs`, and
    returns int32 `[batch, max_length]` `input_ids`, `attention_mask`,
    `token_type_ids`.

    Examples:
    >>> layer = LiteRTTextTokenizer.from_tokenizer(Tokenizer.from_pretrained(folder), 128)
    >>> layer(tf.constant(["a sentence"]))["input_ids"].shape
    TensorShape([1, 128])
    """

    def __init__(self, family, vocab=None, max_length=128, special_token_layout=None,
                 pad_token_id=0, unk_token="[UNK]", do_lower_case=True,
                 continuing_subword_prefix="##", max_input_chars_per_word=100,
                 sentencepiece_model=None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if family not in LITERT_FAMILIES:
            raise ValueError(_unsupported(family, "tensorflow-text has no byte-level BPE op"))
        self.family, self.max_length = family, int(max_length)
        self.layout = special_token_layout
        self.pad_token_id = int(pad_token_id)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        if family == "wordpiece":
            self._tokenizer = tf_text.FastBertTokenizer(
                vocab=list(vocab), suffix_indicator=continuing_subword_prefix,
                # HF turns words over this many characters into the unknown token;
                # the op counts bytes, which is the same for ASCII words.
                max_bytes_per_word=int(max_input_chars_per_word),
                token_out_type=tf.int32, unknown_token=unk_token,
                lower_case_nfd_strip_accents=bool(do_lower_case))
        else:
            self._tokenizer = tf_text.FastSentencepieceTokenizer(model=sentencepiece_model)
        self.built = True

    @classmethod
    def from_tokenizer(cls, tokenizer, max_length=128):
        """The layer for host `Tokenizer` `tokenizer`; refuses what it cannot reproduce."""
        family = tokenizer.family
        if family not in LITERT_FAMILIES:
            raise ValueError(_unsupported(family, "tensorflow-text has no byte-level BPE op"))
        args = dict(family=family, max_length=max_length,
                    special_token_layout=tokenizer.special_token_layout,
                    pad_token_id=tokenizer.pad_token_id)
        if family == "wordpiece":
            strip = tokenizer.strip_accents
            if strip is not None and bool(strip) != tokenizer.do_lower_case:
                raise ValueError(_unsupported(
                    family, f"do_lower_case={tokenizer.do_lower_case} with strip_accents="
                    f"{strip} has no tensorflow-text LiteRT op (it lower-cases and strips "
                    "accents together or not at all)"))
            args.update(vocab=tokenizer.vocab, unk_token=tokenizer.special_tokens["unk_token"],
                        do_lower_case=tokenizer.do_lower_case,
                        continuing_subword_prefix=tokenizer.continuing_subword_prefix,
                        max_input_chars_per_word=tokenizer.max_input_chars_per_word)
        else:
            # The GraphTokenizer rebuilds a SentencePiece model whose ids are the host's.
            graph = tokenizer.graph_tokenizer(max_length=max_length, match_special_tokens=False)
            args["sentencepiece_model"] = graph.sentencepiece_model
        return cls(**args)

    def _num_special(self, kind):
        return sum(isinstance(item[0], int) for item in self.layout[kind])

    def _dense(self, texts, width):
        """Token ids `[batch, width]` (cut to `width`) and the untruncated lengths."""
        tokens = self._tokenizer.tokenize(texts)
        if isinstance(tokens, tf.RaggedTensor) and tokens.ragged_rank > 1:
            tokens = tokens.merge_dims(1, 2)
        tokens = tf.cast(tokens, tf.int32)
        splits = tf.cast(tokens.row_splits, tf.int32)
        dense = tokens.to_tensor(default_value=0, shape=[None, width])
        return dense, splits[1:] - splits[:-1]

    def call(self, texts, text_pairs=None):
        texts = tf.reshape(tf.convert_to_tensor(texts, tf.string), [-1])
        if text_pairs is None:
            budget = self.max_length - self._num_special("single")
            first, n1 = self._dense(texts, budget)
            segments = {"A": (first, tf.minimum(n1, budget))}
            layout = self.layout["single"]
        else:
            pairs = tf.reshape(tf.convert_to_tensor(text_pairs, tf.string), [-1])
            budget = self.max_length - self._num_special("pair")
            first, n1 = self._dense(texts, budget)
            second, n2 = self._dense(pairs, budget)
            keep1, keep2 = _longest_first(n1, n2, budget)
            segments = {"A": (first, keep1), "B": (second, keep2)}
            layout = self.layout["pair"]
        return self._assemble(segments, layout)

    def _assemble(self, segments, layout):
        """Places specials and segments by position with dense ops (no ragged concat)."""
        width = self.max_length
        batch = tf.shape(segments["A"][0])[0]
        positions = tf.tile(tf.range(width)[None, :], tf.stack([batch, 1]))
        ids = tf.fill(tf.stack([batch, width]), self.pad_token_id)
        types = tf.zeros_like(ids)
        start = tf.zeros([batch, 1], tf.int32)
        for what, type_id in layout:
            if what in segments:
                tokens, length = segments[what]
                length = length[:, None]
            else:
                length = tf.ones_like(start)
            inside = tf.logical_and(positions >= start, positions < start + length)
            if what in segments:
                # Not clip_by_value: the converter turns clip(x, 0, 6) into an int32
                # Relu6, which LiteRT has no kernel for.
                index = tf.where(inside, positions - start, 0)
                value = tf.gather(tokens, index, batch_dims=1)
            else:
                value = tf.fill(tf.shape(ids), int(what))
            ids = tf.where(inside, value, ids)
            types = tf.where(inside, tf.fill(tf.shape(ids), int(type_id)), types)
            start = start + length
        mask = tf.cast(positions < start, tf.int32)
        return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types * mask}


def _longest_first(n1, n2, budget):
    """HF `longest_first`: the shorter segment keeps up to half, the other the rest."""
    half = budget // 2
    first_longer = n1 > n2
    keep2_long = tf.minimum(n2, half)
    keep1_long = tf.minimum(n1, budget - keep2_long)
    keep1_short = tf.minimum(n1, half)
    keep2_short = tf.minimum(n2, budget - keep1_short)
    fits = n1 + n2 <= budget
    keep1 = tf.where(fits, n1, tf.where(first_longer, keep1_long, keep1_short))
    keep2 = tf.where(fits, n2, tf.where(first_longer, keep2_long, keep2_short))
    return keep1, keep2
