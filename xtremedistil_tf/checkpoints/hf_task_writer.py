"""Writes a task model as a Hugging Face `*For<Task>` folder that `transformers` loads."""
import json
import os

import numpy as np

from xtremedistil_tf.checkpoints.hf_task_layout import task_hf_config, task_weight_map
from xtremedistil_tf.utils.atomic_io import atomic_path


def task_state_dict(task_model):
    """The task model's weights as float32 numpy arrays under HF task-model names."""
    out = {}
    for name, variable, is_kernel in task_weight_map(task_model):
        value = np.asarray(variable.numpy(), dtype=np.float32)
        out[name] = np.ascontiguousarray(value.T if is_kernel else value)
    return out


def to_hf_task(task_model, tokenizer, path):
    """Writes `config.json`, `model.safetensors` and the tokenizer files to `path`.

    `config.json` names the HF class in `architectures` (e.g.
    `BertForSequenceClassification`) and carries `id2label`, `label2id`,
    `num_labels` and, for sequence heads, `problem_type`, so that
    `transformers.AutoModelFor<Task>.from_pretrained(path)` and `from_hf_task`
    both rebuild the same logits.

    A head with no HF counterpart (e.g. `pooling="mean"`) raises `ValueError`
    before anything is written. The folder is written beside `path` and moved
    into place at the end, so an interrupted call leaves any earlier folder at
    `path` intact. `tokenizer` may be None to write only the model.

    Example:
    >>> model, tokenizer = from_hf_task("path/to/bert_sst2")
    >>> to_hf_task(model, tokenizer, "out/bert_sst2_copy")
    """
    from safetensors.numpy import save_file

    config = task_hf_config(task_model)
    tensors = task_state_dict(task_model)
    path = os.fspath(path)
    with atomic_path(path) as tmp:
        os.makedirs(tmp)
        with open(os.path.join(tmp, "config.json"), "w", encoding="utf-8") as f:
            json.dump(config, f, indent=2, sort_keys=True)
        save_file(tensors, os.path.join(tmp, "model.safetensors"), metadata={"format": "pt"})
        if tokenizer is not None:
            tokenizer.save(tmp)
    return path
