"""The sentence vector a checkpoint was trained to produce, in sentence-transformers' files.

A sentence-embedding model (all-MiniLM-L6-v2, and every student distilled from
its mean-pooled output) is read through the mean of its token vectors, not the
[CLS] token or the pooler. sentence-transformers records this beside the HF
files: `modules.json` lists a `Pooling` module whose folder holds
`config.json` with `pooling_mode_*` switches. We read and write that same
layout, so fine-tuning can put its head on the vector the encoder was trained
for, and `sentence_transformers.SentenceTransformer(folder)` loads our students.
"""
import json
import os

# Our pooling names -> sentence-transformers' switches.
_MODES = {"mean": "pooling_mode_mean_tokens", "first": "pooling_mode_cls_token"}
_POOLING_TYPE = "sentence_transformers.models.Pooling"


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path} is not valid JSON ({err}); fix or delete the file.") from None


def read_pooling(folder):
    """"mean" or "first" when `folder` declares a sentence-transformers pooling, else None."""
    if not folder or not os.path.isdir(folder):
        return None
    modules_path = os.path.join(folder, "modules.json")
    if not os.path.isfile(modules_path):
        return None
    modules = _read_json(modules_path)
    for module in modules if isinstance(modules, list) else []:
        if module.get("type") != _POOLING_TYPE:
            continue
        config_path = os.path.join(folder, module.get("path", ""), "config.json")
        if not os.path.isfile(config_path):
            return None
        config = _read_json(config_path)
        for name, switch in _MODES.items():
            if config.get(switch):
                return name
    return None


def write_pooling(folder, pooling, width):
    """Writes `modules.json` and `1_Pooling/config.json` declaring `pooling` ("mean"/"first")."""
    if pooling not in _MODES:
        raise ValueError(f"pooling={pooling!r} has no sentence-transformers form; use one of "
                         f"{sorted(_MODES)}.")
    modules = [{"idx": 0, "name": "0", "path": "",
                "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": _POOLING_TYPE}]
    config = {"word_embedding_dimension": int(width),
              "pooling_mode_cls_token": pooling == "first",
              "pooling_mode_mean_tokens": pooling == "mean",
              "pooling_mode_max_tokens": False,
              "pooling_mode_mean_sqrt_len_tokens": False}
    os.makedirs(os.path.join(folder, "1_Pooling"), exist_ok=True)
    with open(os.path.join(folder, "modules.json"), "w", encoding="utf-8") as f:
        json.dump(modules, f, indent=2)
    with open(os.path.join(folder, "1_Pooling", "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
