"""Build `tokenizers.Tokenizer` backends the way transformers 5 builds them.

transformers 5 rebuilds the backend of `BertTokenizer`, `RobertaTokenizer` and
`XLMRobertaTokenizer` from the vocabulary plus `tokenizer_config.json` flags
(ignoring most of `tokenizer.json`), so `AutoTokenizer` ids follow these
pipelines. Rebuilding the same way here keeps host ids equal to theirs and gives
the in-graph tokenizer a pipeline it can reproduce exactly.
"""
from tokenizers import AddedToken, decoders, models, normalizers, pre_tokenizers
from tokenizers import Tokenizer as RustTokenizer
from tokenizers import processors

FAMILIES = ("wordpiece", "sentencepiece", "bpe")

# model_type -> (special-token style, tokenizer family, transformers tokenizer class).
MODEL_TYPES = {
    "bert": ("bert", "wordpiece", "BertTokenizer"),
    "electra": ("bert", "wordpiece", "BertTokenizer"),
    "distilbert": ("bert", "wordpiece", "DistilBertTokenizer"),
    "roberta": ("roberta", "bpe", "RobertaTokenizer"),
    "xlm-roberta": ("roberta", "sentencepiece", "XLMRobertaTokenizer"),
}
DEFAULT_MODEL_TYPE = {"wordpiece": "bert", "sentencepiece": "xlm-roberta", "bpe": "roberta"}
SPECIAL_TOKEN_NAMES = ("unk_token", "cls_token", "sep_token", "pad_token", "mask_token")
DEFAULT_SPECIAL_TOKENS = {
    "bert": {"unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
             "pad_token": "[PAD]", "mask_token": "[MASK]"},
    "roberta": {"unk_token": "<unk>", "cls_token": "<s>", "sep_token": "</s>",
                "pad_token": "<pad>", "mask_token": "<mask>"},
}


def check_model_type(model_type, family):
    if model_type not in MODEL_TYPES:
        raise ValueError(f"model_type={model_type!r} is not supported; "
                         f"valid: {sorted(MODEL_TYPES)}.")
    expected = MODEL_TYPES[model_type][1]
    if expected != family:
        raise ValueError(f"model_type={model_type!r} uses a {expected!r} vocabulary, "
                         f"but the tokenizer family is {family!r}.")


def _add_special_tokens(backend, special_tokens, vocab_ids, lstrip=()):
    missing = [t for t in special_tokens.values() if t not in vocab_ids]
    if missing:
        raise ValueError(f"special tokens {missing} are not in the vocabulary; add them "
                         "to it or pass the vocabulary's own special tokens.")
    # Order by id so that the added-token list matches what transformers writes.
    tokens = sorted(set(special_tokens.values()), key=vocab_ids.get)
    backend.add_special_tokens([
        AddedToken(t, special=True, normalized=False, lstrip=t in lstrip) for t in tokens])


def _check_unique(tokens):
    seen = {}
    for i, token in enumerate(tokens):
        if token in seen:
            raise ValueError(f"token {token!r} appears twice in the vocabulary "
                             f"(ids {seen[token]} and {i}); ids must be unique.")
        seen[token] = i
    return seen


def build_wordpiece(vocab, special_tokens, do_lower_case, strip_accents,
                    tokenize_chinese_chars, max_input_chars_per_word,
                    continuing_subword_prefix="##"):
    """BERT-style WordPiece backend (transformers 5 `BertTokenizer`)."""
    vocab_ids = _check_unique(vocab)
    backend = RustTokenizer(models.WordPiece(
        vocab_ids, unk_token=special_tokens["unk_token"],
        max_input_chars_per_word=max_input_chars_per_word,
        continuing_subword_prefix=continuing_subword_prefix))
    backend.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=tokenize_chinese_chars,
        strip_accents=strip_accents, lowercase=do_lower_case)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.decoder = decoders.WordPiece(prefix=continuing_subword_prefix)
    _add_special_tokens(backend, special_tokens, vocab_ids)
    cls, sep = special_tokens["cls_token"], special_tokens["sep_token"]
    backend.post_processor = processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, vocab_ids[cls]), (sep, vocab_ids[sep])])
    return backend


def build_sentencepiece(pieces, unk_id, special_tokens, precompiled_charsmap,
                        add_prefix_space=True):
    """XLM-R-style Unigram backend (transformers 5 `XLMRobertaTokenizer`)."""
    pieces = [(str(p), float(s)) for p, s in pieces]
    vocab_ids = _check_unique([p for p, _ in pieces])
    backend = RustTokenizer(models.Unigram(pieces, unk_id=unk_id, byte_fallback=False))
    if precompiled_charsmap:
        backend.normalizer = normalizers.Precompiled(precompiled_charsmap)
    scheme = "always" if add_prefix_space else "never"
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme=scheme)])
    backend.decoder = decoders.Metaspace(replacement="\u2581", prepend_scheme=scheme)
    _add_special_tokens(backend, special_tokens, vocab_ids)
    cls, sep = special_tokens["cls_token"], special_tokens["sep_token"]
    backend.post_processor = processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 {sep}:0 $B:0 {sep}:0",
        special_tokens=[(cls, vocab_ids[cls]), (sep, vocab_ids[sep])])
    return backend


def build_bpe(vocab, merges, special_tokens, add_prefix_space=False, trim_offsets=True):
    """RoBERTa-style byte-level BPE backend (transformers 5 `RobertaTokenizer`)."""
    vocab_ids = _check_unique(vocab)
    backend = RustTokenizer(models.BPE(
        vocab=vocab_ids, merges=[tuple(m) for m in merges], dropout=None,
        continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    backend.decoder = decoders.ByteLevel()
    _add_special_tokens(backend, special_tokens, vocab_ids)
    cls, sep = special_tokens["cls_token"], special_tokens["sep_token"]
    backend.post_processor = processors.RobertaProcessing(
        (sep, vocab_ids[sep]), (cls, vocab_ids[cls]), trim_offsets=trim_offsets,
        add_prefix_space=add_prefix_space)
    return backend


def read_sentencepiece_model(model_bytes):
    """Pieces, scores and normalizer of a SentencePiece model, in XLM-R id order.

    XLM-R (fairseq) ids are SentencePiece ids shifted by one, with `<s> <pad>
    </s> <unk>` first and `<mask>` last; transformers converts the same way.
    """
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model_bytes)
    if proto.trainer_spec.model_type != sentencepiece_model_pb2.TrainerSpec.UNIGRAM:
        raise ValueError("only Unigram SentencePiece models (XLM-R style) are supported; "
                         f"this one has model_type={proto.trainer_spec.model_type}.")
    pieces = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [(p.piece, p.score) for p in proto.pieces[3:]]
    pieces.append(("<mask>", 0.0))
    return pieces, 3, bytes(proto.normalizer_spec.precompiled_charsmap)


def write_sentencepiece_model(pieces, unk_id, special_tokens, precompiled_charsmap,
                              add_prefix_space=True):
    """A SentencePiece model whose ids are the backend's ids.

    Special tokens become CONTROL pieces (never produced by encoding), so an
    op running this model yields backend ids directly, without an id map.
    """
    from sentencepiece import sentencepiece_model_pb2 as pb

    proto = pb.ModelProto()
    proto.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    proto.trainer_spec.vocab_size = len(pieces)
    proto.trainer_spec.unk_id = unk_id
    proto.trainer_spec.bos_id = proto.trainer_spec.eos_id = proto.trainer_spec.pad_id = -1
    proto.trainer_spec.byte_fallback = False
    spec = proto.normalizer_spec
    spec.name = "user_defined" if precompiled_charsmap else "identity"
    spec.precompiled_charsmap = precompiled_charsmap or b""
    spec.add_dummy_prefix = add_prefix_space
    spec.remove_extra_whitespaces = True
    spec.escape_whitespaces = True
    control = set(special_tokens.values())
    for i, (piece, score) in enumerate(pieces):
        entry = proto.pieces.add()
        entry.piece, entry.score = piece, score
        if i == unk_id:
            entry.type = pb.ModelProto.SentencePiece.UNKNOWN
        elif piece in control:
            entry.type = pb.ModelProto.SentencePiece.CONTROL
    return proto.SerializeToString()


def template_layout(backend):
    """Where special tokens go around segments A and B, read off the backend.

    Returns {"single": [...], "pair": [...]} with items `[token_id, type_id]` for
    a special token and `["A" | "B", type_id]` for a segment.
    """
    layout = {}
    probe = backend.encode("a", add_special_tokens=False)
    if not probe.ids:
        raise ValueError("the tokenizer maps the probe text 'a' to no tokens; "
                         "cannot read its special-token layout.")
    for name, pair in (("single", None), ("pair", probe)):
        enc = backend.post_process(probe, pair, add_special_tokens=True)
        items, segments = [], iter("AB")
        # `sequence_ids` of post_process output are unreliable; the special
        # tokens mask is not, and segments come in order A then B.
        for tok_id, type_id, special in zip(enc.ids, enc.type_ids, enc.special_tokens_mask):
            if special:
                items.append([tok_id, type_id])
            elif not items or items[-1][0] not in ("A", "B"):
                items.append([next(segments), type_id])
        layout[name] = items
    return layout

