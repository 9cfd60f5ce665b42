"""Saves a student's shared encoder, without heads, as a task-agnostic checkpoint."""
import os

from xtremedistil_tf.checkpoints import to_hf
from xtremedistil_tf.models.encoder import Encoder
from xtremedistil_tf.utils.atomic_io import atomic_path


def save_encoder(encoder, tokenizer, output_dir, name="student"):
    """Writes `<name>.keras` and, for a transformer `Encoder`, an HF folder `<name>_hf`.

    Both writes are atomic. The HF folder (config.json, model.safetensors and
    the tokenizer) is what `run_finetune.py --init_checkpoint` and
    `transformers` read; a BiLSTM encoder has no HF form, so its tokenizer is
    written beside the `.keras` file, where `run_finetune.py` and
    `run_export.py` look for it.

    Returns a dict of the written paths (`keras`, and `hf` when written).
    """
    os.makedirs(output_dir, exist_ok=True)
    paths = {"keras": os.path.join(output_dir, f"{name}.keras")}
    with atomic_path(paths["keras"]) as tmp:
        encoder.save(tmp)
    if isinstance(encoder, Encoder):
        paths["hf"] = to_hf(encoder, tokenizer, os.path.join(output_dir, f"{name}_hf"))
    else:
        tokenizer.save(output_dir)
        paths["tokenizer"] = output_dir
    return paths
