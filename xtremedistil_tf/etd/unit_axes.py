"""Which axes of each encoder weight index hidden dimensions, heads or FFN neurons.

Extract-Then-Distill slices a teacher's weights down to a student's shape and
scores units by gradients. Both need the same fact about every variable: for
each of its axes, whether it runs over the residual-stream ("hidden")
dimensions, over a layer's attention heads ("heads", in blocks of `head_size`
columns), over a layer's FFN neurons ("ffn"), or over something that is kept
whole (vocabulary rows, positions: `None`). This module is that table.

A "heads" axis also runs over the neurons inside each head. A student with a
smaller head size keeps a subset of them, one subset shared by query and key
(their dot product runs over the same dimensions) and one shared by value and
the output projection (the output reads the value's dimensions). `head_group`
says which of the two subsets a weight follows.
"""
import dataclasses

HIDDEN, HEADS, FFN = "hidden", "heads", "ffn"
UNIT_KINDS = (HIDDEN, HEADS, FFN)
QK, VO = "qk", "vo"
HEAD_GROUPS = (QK, VO)


@dataclasses.dataclass(frozen=True)
class UnitAxes:
    """One weight of an encoder and the unit kind of each of its axes.

    Args:
        name: a stable path such as "layer/attention/query/kernel", the same for
            a teacher and a student so their entries can be paired.
        variable: the Keras variable.
        layer: index of the transformer layer it belongs to, or None for the
            embeddings and the pooler.
        axes: one entry per dimension: a kind from `UNIT_KINDS` or None.
        head_group: for a weight with a "heads" axis, which within-head neuron
            subset it follows, one of `HEAD_GROUPS`: `QK` (query, key) or
            `VO` (value, output); None for every other weight.
    """

    name: str
    variable: object
    layer: int | None
    axes: tuple
    head_group: str | None = None


def _dense(name, layer_obj, layer, in_kind, out_kind, head_group=None):
    return [UnitAxes(f"{name}/kernel", layer_obj.kernel, layer, (in_kind, out_kind), head_group),
            UnitAxes(f"{name}/bias", layer_obj.bias, layer, (out_kind,),
                     head_group if out_kind == HEADS else None)]


def _norm(name, layer_obj, layer, kind):
    return [UnitAxes(f"{name}/gamma", layer_obj.gamma, layer, (kind,)),
            UnitAxes(f"{name}/beta", layer_obj.beta, layer, (kind,))]


def unit_axes(encoder, layers=None):
    """Lists a `UnitAxes` for every weight of a built `Encoder`.

    Args:
        encoder: an `Encoder`.
        layers: which transformer layers to list, in order (default all); a
            teacher lists the layers it gives a student, so that entry `i` of
            the teacher and of the student describe the same weight.
    """
    if not encoder.built:
        encoder.build()
    emb = encoder.embeddings
    # With an ELECTRA-style projection the tables have their own width, which
    # the residual stream never sees; only the projection's output is hidden.
    table_kind = None if emb.projection is not None else HIDDEN
    entries = [
        UnitAxes("embeddings/word", emb.word_embeddings.embeddings, None, (None, table_kind)),
        UnitAxes("embeddings/position", emb.position_embeddings.embeddings, None,
                 (None, table_kind)),
        UnitAxes("embeddings/token_type", emb.token_type_embeddings.embeddings, None,
                 (None, table_kind)),
    ]
    entries += _norm("embeddings/layer_norm", emb.layer_norm, None, table_kind)
    if emb.projection is not None:
        entries += _dense("embeddings/projection", emb.projection, None, None, HIDDEN)
    if layers is None:
        layers = range(len(encoder.encoder_layers))
    for i in layers:
        block = encoder.encoder_layers[i]
        att = block.attention
        for part, group in (("query", QK), ("key", QK), ("value", VO)):
            entries += _dense(f"layer/attention/{part}", getattr(att, part), i, HIDDEN, HEADS,
                              group)
        entries += _dense("layer/attention/output", att.output_dense, i, HEADS, HIDDEN, VO)
        entries += _norm("layer/attention_norm", block.attention_norm, i, HIDDEN)
        entries += _dense("layer/intermediate", block.intermediate, i, HIDDEN, FFN)
        entries += _dense("layer/ffn_output", block.ffn_output, i, FFN, HIDDEN)
        entries += _norm("layer/ffn_norm", block.ffn_norm, i, HIDDEN)
    if encoder.pooler is not None:
        entries += _dense("pooler", encoder.pooler, None, HIDDEN, HIDDEN)
    return entries
