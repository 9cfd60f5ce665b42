"""Tiny Hugging Face reference models (PyTorch) that tests compare against."""
import numpy as np

TINY = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=37, max_position_embeddings=64)


def make_hf_model(model_type, folder):
    """Saves a randomly initialised tiny HF model of `model_type` into `folder`."""
    import torch
    import transformers

    torch.manual_seed(0)
    if model_type == "bert":
        config = transformers.BertConfig(**TINY, type_vocab_size=2)
    elif model_type == "roberta":
        config = transformers.RobertaConfig(**TINY, type_vocab_size=1, pad_token_id=1)
    elif model_type == "xlm-roberta":
        config = transformers.XLMRobertaConfig(**TINY, type_vocab_size=1, pad_token_id=1)
    elif model_type == "electra":
        config = transformers.ElectraConfig(**TINY, embedding_size=16, type_vocab_size=2)
    else:
        raise ValueError(model_type)
    model = transformers.AutoModel.from_config(config)
    # Random LayerNorm and bias values, so that a transposed or swapped tensor shows.
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                param.add_(0.1 * torch.randn_like(param))
    model.save_pretrained(folder, safe_serialization=True)
    return model


def padded_batch(model_type, rng, pairs=False, batch=3, seq=7):
    """Random ids with trailing padding of different lengths, as numpy int32."""
    pad = 1 if model_type in ("roberta", "xlm-roberta") else 0
    ids = rng.integers(5, 99, size=(batch, seq)).astype(np.int32)
    lengths = [seq, seq - 2, 3][:batch]
    mask = np.zeros((batch, seq), np.int32)
    types = np.zeros((batch, seq), np.int32)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
        ids[row, length:] = pad
        if pairs and model_type in ("bert", "electra"):
            types[row, length // 2:length] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def hf_outputs(model, batch):
    """Last hidden state, all hidden states and attentions from an eager HF run."""
    import torch

    model.eval()
    model.set_attn_implementation("eager")
    with torch.no_grad():
        out = model(**{k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()},
                    output_hidden_states=True, output_attentions=True)
    return {
        "sequence_output": out.last_hidden_state.numpy(),
        "hidden_states": [h.numpy() for h in out.hidden_states],
        "attention_probs": [a.numpy() for a in out.attentions],
        "pooled_output": None if getattr(out, "pooler_output", None) is None
        else out.pooler_output.numpy(),
    }


def max_diffs(ours, ref, attention_mask):
    """Largest absolute difference per output kind.

    Hidden states are compared at real tokens only: a padded position's vector
    is never read by anything, and float32 round-off there (where the real
    all-MiniLM-L6-v2 grows an outlier dimension) reaches 8e-5 in both directions.
    Attention maps are compared everywhere, padded rows and columns included.
    """
    real = np.asarray(attention_mask)[..., None]

    def hidden_diff(a, b):
        return np.abs((np.asarray(a) - b) * real).max()

    diffs = {
        "sequence_output": hidden_diff(ours["sequence_output"], ref["sequence_output"]),
        "hidden_states": max(hidden_diff(a, b)
                             for a, b in zip(ours["hidden_states"], ref["hidden_states"])),
        "attention_probs": max(np.abs(np.asarray(a) - b).max()
                               for a, b in zip(ours["attention_probs"], ref["attention_probs"])),
    }
    if ref["pooled_output"] is not None:
        diffs["pooled_output"] = np.abs(np.asarray(ours["pooled_output"])
                                        - ref["pooled_output"]).max()
    return diffs
