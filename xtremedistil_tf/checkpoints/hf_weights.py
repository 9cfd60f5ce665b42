"""The correspondence between `Encoder` variables and Hugging Face tensor names."""


def dense_entries(prefix, layer):
    """`(hf_name, variable, is_kernel)` of a `Dense` layer stored as `prefix.weight/bias`."""
    # Keras kernels are [in, out]; PyTorch Linear weights are [out, in].
    return [(f"{prefix}.weight", layer.kernel, True), (f"{prefix}.bias", layer.bias, False)]


def _norm(prefix, layer):
    return [(f"{prefix}.weight", layer.gamma, False), (f"{prefix}.bias", layer.beta, False)]


def _table(name, layer):
    return [(f"{name}.weight", layer.embeddings, False)]


def weight_map(encoder):
    """Lists `(hf_name, variable, is_kernel)` for every weight of a built encoder.

    `is_kernel` marks dense kernels, which are transposed between the two layouts.
    Names carry no model prefix (`bert.`, `roberta.`, ...), as in a bare `*Model`.
    """
    if not encoder.built:
        encoder.build()
    emb = encoder.embeddings
    entries = (
        _table("embeddings.word_embeddings", emb.word_embeddings)
        + _table("embeddings.position_embeddings", emb.position_embeddings)
        + _table("embeddings.token_type_embeddings", emb.token_type_embeddings)
        + _norm("embeddings.LayerNorm", emb.layer_norm)
    )
    if emb.projection is not None:
        entries += dense_entries("embeddings_project", emb.projection)
    for i, layer in enumerate(encoder.encoder_layers):
        p = f"encoder.layer.{i}"
        att = layer.attention
        entries += (
            dense_entries(f"{p}.attention.self.query", att.query)
            + dense_entries(f"{p}.attention.self.key", att.key)
            + dense_entries(f"{p}.attention.self.value", att.value)
            + dense_entries(f"{p}.attention.output.dense", att.output_dense)
            + _norm(f"{p}.attention.output.LayerNorm", layer.attention_norm)
            + dense_entries(f"{p}.intermediate.dense", layer.intermediate)
            + dense_entries(f"{p}.output.dense", layer.ffn_output)
            + _norm(f"{p}.output.LayerNorm", layer.ffn_norm)
        )
    if encoder.pooler is not None:
        entries += dense_entries("pooler.dense", encoder.pooler)
    return entries
