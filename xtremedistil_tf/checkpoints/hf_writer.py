"""Writes an `Encoder` as a Hugging Face folder that `transformers` can load."""
import json
import os

import numpy as np

from xtremedistil_tf.checkpoints.hf_weights import weight_map
from xtremedistil_tf.checkpoints.sentence_pooling import write_pooling
from xtremedistil_tf.utils.atomic_io import atomic_path


def state_dict(encoder):
    """The encoder's weights as HF-named float32 numpy arrays."""
    out = {}
    for name, variable, is_kernel in weight_map(encoder):
        value = np.asarray(variable.numpy(), dtype=np.float32)
        out[name] = np.ascontiguousarray(value.T if is_kernel else value)
    return out


def to_hf(encoder, tokenizer, path, pooling=None):
    """Writes `config.json`, `model.safetensors` and the tokenizer files to `path`.

    `pooling` ("mean" or "first") also writes sentence-transformers' pooling
    files, saying which sentence vector the encoder was trained to produce
    (see `sentence_pooling`); fine-tuning puts its head there by default.

    The folder is written beside `path` and moved into place at the end, so an
    interrupted call leaves any earlier folder at `path` intact. `tokenizer` may
    be None to write only the weights.
    """
    from safetensors.numpy import save_file

    path = os.fspath(path)
    with atomic_path(path) as tmp:
        os.makedirs(tmp)
        with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
            json.dump(encoder.config.to_hf_dict(), f, indent=2, sort_keys=True)
        save_file(state_dict(encoder), os.path.join(tmp, "model.safetensors"),
                  metadata={"format": "pt"})
        if tokenizer is not None:
            tokenizer.save(tmp)
        if pooling is not None:
            write_pooling(tmp, pooling, encoder.config.hidden_size)
    return path
