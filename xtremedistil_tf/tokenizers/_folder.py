"""Read tokenizer arguments from a Hugging Face folder, and write such a folder."""
import base64
import io
import json
import os
import tempfile

from xtremedistil_tf.tokenizers import _backends
from xtremedistil_tf.utils.text_files import read_json, read_text

SENTENCEPIECE_FILES = ("sentencepiece.bpe.model", "spiece.model")
# tokenizer_config.json flags that transformers 5 applies on top of tokenizer.json.
FAMILY_FLAGS = {
    "wordpiece": ("do_lower_case", "strip_accents", "tokenize_chinese_chars"),
    "sentencepiece": ("add_prefix_space",),
    "bpe": ("add_prefix_space", "trim_offsets"),
}
_CLASS_TO_MODEL_TYPE = {
    "BertTokenizer": "bert", "DistilBertTokenizer": "distilbert", "ElectraTokenizer": "electra",
    "RobertaTokenizer": "roberta", "XLMRobertaTokenizer": "xlm-roberta",
}


def _read_json(folder, name):
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return {}
    return read_json(path)


def _token_content(value):
    return value.get("content") if isinstance(value, dict) else value


def _from_tokenizer_json(data):
    model = data.get("model") or {}
    kind = model.get("type")
    normalizer = data.get("normalizer") or {}
    pre_tokenizer = data.get("pre_tokenizer") or {}
    if kind == "WordPiece":
        vocab = _ordered_vocab(model["vocab"], data)
        kwargs = {"family": "wordpiece", "vocab": vocab,
                  "max_input_chars_per_word": model.get("max_input_chars_per_word", 100),
                  "continuing_subword_prefix": model.get("continuing_subword_prefix", "##"),
                  "special_tokens": {"unk_token": model.get("unk_token", "[UNK]")}}
        if normalizer.get("type") == "BertNormalizer":
            kwargs["do_lower_case"] = bool(normalizer.get("lowercase", True))
            kwargs["strip_accents"] = normalizer.get("strip_accents")
            kwargs["tokenize_chinese_chars"] = bool(normalizer.get("handle_chinese_chars", True))
        return kwargs
    if kind == "Unigram":
        pieces = [(p, s) for p, s in model["vocab"]]
        charsmap = b""
        for norm in normalizer.get("normalizers", [normalizer]):
            if norm and norm.get("type") == "Precompiled" and norm.get("precompiled_charsmap"):
                charsmap = base64.b64decode(norm["precompiled_charsmap"])
        kwargs = {"family": "sentencepiece", "vocab": pieces, "precompiled_charsmap": charsmap,
                  "special_tokens": {"unk_token": pieces[model.get("unk_id", 3)][0]}}
        for pre in pre_tokenizer.get("pretokenizers", [pre_tokenizer]):
            if pre and pre.get("type") == "Metaspace":
                kwargs["add_prefix_space"] = pre.get("prepend_scheme", "always") != "never"
        return kwargs
    if kind == "BPE":
        pres = pre_tokenizer.get("pretokenizers", [pre_tokenizer])
        byte_level = [p for p in pres if p and p.get("type") == "ByteLevel"]
        if not byte_level:
            raise ValueError("only byte-level BPE (RoBERTa style) tokenizer.json files are "
                             "supported; this BPE tokenizer has no ByteLevel pre-tokenizer.")
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                  for m in model.get("merges", [])]
        post = data.get("post_processor") or {}
        return {"family": "bpe", "vocab": _ordered_vocab(model["vocab"], data), "merges": merges,
                "add_prefix_space": bool(byte_level[0].get("add_prefix_space", False)),
                "trim_offsets": bool(post.get("trim_offsets", True))}
    raise ValueError(f"tokenizer.json model type {kind!r} is not supported; "
                     "expected WordPiece, Unigram or BPE.")


def _ordered_vocab(vocab_ids, data):
    vocab = [None] * len(vocab_ids)
    for token, i in vocab_ids.items():
        if not 0 <= i < len(vocab) or vocab[i] is not None:
            raise ValueError(f"tokenizer.json vocabulary ids are not 0..{len(vocab) - 1} "
                             f"(token {token!r} has id {i}).")
        vocab[i] = token
    extra = [t["content"] for t in data.get("added_tokens", []) if t["id"] >= len(vocab)]
    if extra:
        raise ValueError(f"added tokens outside the vocabulary are not supported: {extra}.")
    return vocab


def load_kwargs(folder):
    """`Tokenizer` constructor arguments for an HF tokenizer folder."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise ValueError(f"tokenizer folder {folder!r} does not exist.")
    files = set(os.listdir(folder))
    tok_config = _read_json(folder, "tokenizer_config.json")
    spm_name = next((n for n in SENTENCEPIECE_FILES if n in files), None)
    spm_bytes = None
    if spm_name:
        with open(os.path.join(folder, spm_name), "rb") as f:
            spm_bytes = f.read()
    if "tokenizer.json" in files:
        kwargs = _from_tokenizer_json(_read_json(folder, "tokenizer.json"))
    elif "vocab.txt" in files:
        text = read_text(os.path.join(folder, "vocab.txt"))
        # Like the Rust reader transformers uses: one token a line, right-stripped.
        vocab = [line.rstrip() for line in text.split("\n")]
        if vocab and vocab[-1] == "":
            vocab.pop()
        kwargs = {"family": "wordpiece", "vocab": vocab}
    elif spm_bytes is not None:
        pieces, unk_id, charsmap = _backends.read_sentencepiece_model(spm_bytes)
        kwargs = {"family": "sentencepiece", "vocab": pieces, "precompiled_charsmap": charsmap,
                  "special_tokens": {"unk_token": pieces[unk_id][0]}}
    elif {"vocab.json", "merges.txt"} <= files:
        vocab_ids = _read_json(folder, "vocab.json")
        text = read_text(os.path.join(folder, "merges.txt"))
        lines = [line.rstrip("\n") for line in io.StringIO(text, newline=None)]
        merges = [tuple(line.split(" ")) for line in lines
                  if line and not line.startswith("#version")]
        kwargs = {"family": "bpe", "vocab": _ordered_vocab(vocab_ids, {}), "merges": merges}
    else:
        raise ValueError(
            f"no tokenizer files in {folder!r}: expected tokenizer.json, vocab.txt, "
            f"{' or '.join(SENTENCEPIECE_FILES)}, or vocab.json + merges.txt.")
    family = kwargs["family"]
    if family == "sentencepiece":
        kwargs["sentencepiece_model"] = spm_bytes
    for key in FAMILY_FLAGS[family]:
        if key in tok_config:
            kwargs[key] = tok_config[key]
    special = dict(kwargs.pop("special_tokens", {}))
    special_map = _read_json(folder, "special_tokens_map.json")
    for name in _backends.SPECIAL_TOKEN_NAMES:
        value = _token_content(tok_config.get(name)) or _token_content(special_map.get(name))
        if value:
            special[name] = value
    kwargs["special_tokens"] = special
    kwargs["model_type"] = _model_type(folder, tok_config, family)
    if isinstance(tok_config.get("model_max_length"), int):
        kwargs["model_max_length"] = tok_config["model_max_length"]
    return kwargs


def _model_type(folder, tok_config, family):
    model_type = _read_json(folder, "config.json").get("model_type")
    if model_type in _backends.MODEL_TYPES and _backends.MODEL_TYPES[model_type][1] == family:
        return model_type
    tokenizer_class = str(tok_config.get("tokenizer_class", "")).removesuffix("Fast")
    model_type = _CLASS_TO_MODEL_TYPE.get(tokenizer_class)
    if model_type and _backends.MODEL_TYPES[model_type][1] == family:
        return model_type
    return _backends.DEFAULT_MODEL_TYPE[family]


def write_atomic(path, data):
    """Write `data` (str or bytes) to `path` through a temporary file and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save(tokenizer, folder):
    """Write `tokenizer` as an HF folder that `AutoTokenizer` loads with the same ids."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    join = lambda name: os.path.join(folder, name)  # noqa: E731
    write_atomic(join("tokenizer.json"), tokenizer.backend.to_str(pretty=True))
    special = dict(tokenizer.special_tokens)
    config = {"tokenizer_class": _backends.MODEL_TYPES[tokenizer.model_type][2],
              "model_max_length": tokenizer.model_max_length, **special}
    family = tokenizer.family
    if family == "wordpiece":
        config.update(do_lower_case=tokenizer.do_lower_case, strip_accents=tokenizer.strip_accents,
                      tokenize_chinese_chars=tokenizer.tokenize_chinese_chars)
        write_atomic(join("vocab.txt"), "".join(t + "\n" for t in tokenizer.vocab))
    elif family == "sentencepiece":
        config.update(add_prefix_space=tokenizer.add_prefix_space)
        if tokenizer.sentencepiece_model is not None:
            write_atomic(join(SENTENCEPIECE_FILES[0]), tokenizer.sentencepiece_model)
    else:
        config.update(add_prefix_space=tokenizer.add_prefix_space,
                      trim_offsets=tokenizer.trim_offsets)
        vocab_ids = {t: i for i, t in enumerate(tokenizer.vocab)}
        write_atomic(join("vocab.json"), json.dumps(vocab_ids, ensure_ascii=False))
        write_atomic(join("merges.txt"),
                     "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in tokenizer.merges))
    write_atomic(join("tokenizer_config.json"), json.dumps(config, indent=2, ensure_ascii=False))
    write_atomic(join("special_tokens_map.json"), json.dumps(special, indent=2, ensure_ascii=False))
