"""What a teacher or student returns, read once from a probe call."""
import dataclasses

from xtremedistil_tf.distill import losses


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    """Shapes of a model's output dict that the loss terms need.

    Args:
        num_layers: transformer layers (`len(hidden_states) - 1`), or None when
            the model returns no `hidden_states` (e.g. a BiLSTM student).
        widths: width of each entry of `hidden_states`.
        num_heads: attention heads, or None without `attention_probs`.
        qkv_widths: width of each layer's queries, or None without Q/K/V.
        sequence_width: width of `sequence_output`, or None.
        pooled_width: width of `pooled_output`, or None.
        has_logits: whether the dict has `logits`.
    """

    num_layers: int | None
    widths: tuple
    num_heads: int | None
    qkv_widths: tuple | None
    sequence_width: int | None
    pooled_width: int | None
    has_logits: bool

    @classmethod
    def from_outputs(cls, outputs):
        hidden = outputs.get("hidden_states")
        probs = outputs.get("attention_probs")
        queries = outputs.get("queries")
        sequence = outputs.get("sequence_output")
        pooled = outputs.get("pooled_output")
        return cls(
            num_layers=None if hidden is None else len(hidden) - 1,
            widths=() if hidden is None else tuple(int(h.shape[-1]) for h in hidden),
            num_heads=None if not probs else int(probs[0].shape[1]),
            qkv_widths=None if queries is None else tuple(int(q.shape[-1]) for q in queries),
            sequence_width=None if sequence is None else int(sequence.shape[-1]),
            pooled_width=None if pooled is None else int(pooled.shape[-1]),
            has_logits="logits" in outputs,
        )


def extract(outputs, key, mask):
    """The tensor a loss term names by `key`, e.g. "hidden_states/3" or "pooled/mean".

    Layer numbers are 1-based for attention and Q/K/V (layer `l` is the output of
    transformer layer `l`), and index `hidden_states` directly (0 = embeddings).
    """
    name, _, index = key.partition("/")
    if name == "hidden_states":
        return outputs["hidden_states"][int(index)]
    if name in ("attention_probs", "queries", "keys", "values"):
        return outputs[name][int(index) - 1]
    if name == "pooled":
        if index == "mean":
            return losses.masked_mean_pool(outputs["sequence_output"], mask)
        if index == "first":
            return outputs["sequence_output"][:, 0]
        return outputs["pooled_output"]
    return outputs[key]


def is_token_level(key):
    """Whether `key` names a per-token tensor (large to cache) rather than a per-example one."""
    return key.partition("/")[0] in (
        "hidden_states", "attention_probs", "queries", "keys", "values")
