"""Tiny Hugging Face task models (PyTorch) and their logits, for parity tests."""
import numpy as np

from tests.hf_reference import TINY

# Head variants: (AutoModelFor* suffix, extra config fields).
HEADS = {
    "classification": ("SequenceClassification",
                       dict(id2label={0: "neg", 1: "neu", 2: "pos"},
                            label2id={"neg": 0, "neu": 1, "pos": 2})),
    "regression": ("SequenceClassification", dict(num_labels=1, problem_type="regression")),
    "token": ("TokenClassification",
              dict(id2label={0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"},
                   label2id={"O": 0, "B-PER": 1, "I-PER": 2, "B-LOC": 3, "I-LOC": 4})),
    "qa": ("QuestionAnswering", {}),
}


def tiny_config(model_type, **extra):
    import transformers

    if model_type == "bert":
        return transformers.BertConfig(**TINY, type_vocab_size=2, **extra)
    if model_type == "roberta":
        return transformers.RobertaConfig(**TINY, type_vocab_size=1, pad_token_id=1, **extra)
    if model_type == "xlm-roberta":
        return transformers.XLMRobertaConfig(**TINY, type_vocab_size=1, pad_token_id=1,
                                             **extra)
    if model_type == "electra":
        return transformers.ElectraConfig(**TINY, embedding_size=16, type_vocab_size=2,
                                          **extra)
    raise ValueError(model_type)


def make_hf_task_model(model_type, head, folder):
    """Saves a random tiny HF task model into `folder`; returns it in eval mode."""
    import torch
    import transformers

    torch.manual_seed(0)
    suffix, extra = HEADS[head]
    auto = getattr(transformers, f"AutoModelFor{suffix}")
    model = auto.from_config(tiny_config(model_type, **extra))
    # Random biases and LayerNorms, and larger head weights, so that a transposed,
    # swapped or skipped tensor shows in the logits.
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                param.add_(0.1 * torch.randn_like(param))
            elif name.startswith(("classifier", "qa_outputs")):
                param.mul_(20.0)
    model.save_pretrained(folder, safe_serialization=True)
    return model.eval()


def hf_logits(model, batch):
    """The head outputs of an eager float32 run, as numpy."""
    import torch

    model.eval()
    model.set_attn_implementation("eager")
    with torch.no_grad():
        out = model(**{k: torch.tensor(v, dtype=torch.long) for k, v in batch.items()})
    if hasattr(out, "start_logits"):
        return {"start_logits": out.start_logits.numpy(), "end_logits": out.end_logits.numpy()}
    return {"logits": out.logits.numpy()}


def max_logit_diffs(ours, ref, attention_mask):
    """Largest difference per head output; token-level outputs at real tokens only."""
    mask = np.asarray(attention_mask).astype(bool)
    diffs = {}
    for name, expected in ref.items():
        got = np.asarray(ours[name])
        assert got.shape == expected.shape, (name, got.shape, expected.shape)
        delta = np.abs(got - expected)
        per_token = name != "logits" or delta.ndim == 3  # Span logits are per token too.
        diffs[name] = delta[mask].max() if per_token else delta.max()
    return diffs
