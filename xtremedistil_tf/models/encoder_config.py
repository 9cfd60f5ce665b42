"""Configuration of a BERT-family encoder, with the names Hugging Face uses."""
import dataclasses
import json

SUPPORTED_MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "electra")
SUPPORTED_ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu")

# The fields of an HF config.json that this encoder reads; everything else is ignored.
_HF_FIELDS = (
    "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
    "intermediate_size", "hidden_act", "max_position_embeddings", "type_vocab_size",
    "layer_norm_eps", "hidden_dropout_prob", "attention_probs_dropout_prob",
    "pad_token_id", "embedding_size",
)


@dataclasses.dataclass(frozen=True)
class EncoderConfig:
    """Shape and behaviour of an `Encoder`.

    Field names match Hugging Face `config.json` so that a config read from a
    checkpoint folder needs no renaming.

    Args:
        model_type: one of `SUPPORTED_MODEL_TYPES`. RoBERTa and XLM-R offset
            position ids by `pad_token_id + 1`; ELECTRA projects embeddings of
            `embedding_size` up to `hidden_size` and has no pooler.
        vocab_size: rows of the word-embedding table.
        hidden_size: width of the residual stream.
        num_hidden_layers: number of transformer layers.
        num_attention_heads: heads per layer; must divide `hidden_size`.
        intermediate_size: width of the feed-forward block.
        hidden_act: feed-forward activation, one of `SUPPORTED_ACTIVATIONS`.
        max_position_embeddings: rows of the position table.
        type_vocab_size: rows of the token-type table.
        layer_norm_eps: epsilon of every LayerNorm.
        hidden_dropout_prob: dropout after embeddings and each sub-block.
        attention_probs_dropout_prob: dropout on attention probabilities.
        pad_token_id: id of the padding token.
        embedding_size: width of the embedding tables; `None` means `hidden_size`.
        use_pooler: whether a dense+tanh pooler runs on the first token. Without
            it `pooled_output` is the first token's final hidden state.
    """

    model_type: str = "bert"
    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    pad_token_id: int = 0
    embedding_size: int | None = None
    use_pooler: bool = True

    @property
    def head_size(self):
        return self.hidden_size // self.num_attention_heads

    @property
    def embedding_width(self):
        return self.embedding_size or self.hidden_size

    @property
    def position_offset(self):
        """First position id: RoBERTa-style models start after the padding index."""
        if self.model_type in ("roberta", "xlm-roberta"):
            return self.pad_token_id + 1
        return 0

    def validate(self):
        """Raises `ValueError` naming the first field that is out of range."""
        if self.model_type not in SUPPORTED_MODEL_TYPES:
            raise ValueError(
                f"model_type={self.model_type!r} is not supported; "
                f"use one of {list(SUPPORTED_MODEL_TYPES)}."
            )
        if self.hidden_act not in SUPPORTED_ACTIVATIONS:
            raise ValueError(
                f"hidden_act={self.hidden_act!r} is not supported; "
                f"use one of {list(SUPPORTED_ACTIVATIONS)}."
            )
        for name in ("vocab_size", "hidden_size", "num_hidden_layers",
                     "num_attention_heads", "intermediate_size",
                     "max_position_embeddings", "type_vocab_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}={value!r} must be a positive integer.")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"num_attention_heads={self.num_attention_heads} does not divide "
                f"hidden_size={self.hidden_size}; pick a head count that divides it."
            )
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(f"{name}={value} must be in [0, 1).")
        if self.embedding_size is not None and self.embedding_size < 1:
            raise ValueError(f"embedding_size={self.embedding_size} must be positive or None.")
        if not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(
                f"pad_token_id={self.pad_token_id} must lie in [0, vocab_size={self.vocab_size})."
            )
        min_positions = self.position_offset + 1
        if self.max_position_embeddings <= min_positions:
            raise ValueError(
                f"max_position_embeddings={self.max_position_embeddings} leaves no room "
                f"after the position offset {self.position_offset}."
            )
        return self

    @property
    def max_sequence_length(self):
        """Longest input the position table can embed."""
        return self.max_position_embeddings - self.position_offset

    def replace(self, **changes):
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown EncoderConfig fields {unknown}; valid: {sorted(known)}.")
        return cls(**values).validate()

    @classmethod
    def from_hf_dict(cls, hf):
        """Builds a config from the contents of an HF `config.json`."""
        model_type = hf.get("model_type")
        if model_type not in SUPPORTED_MODEL_TYPES:
            raise ValueError(
                f"config.json has model_type={model_type!r}, which this encoder does not "
                f"support; supported: {list(SUPPORTED_MODEL_TYPES)}."
            )
        values = {k: hf[k] for k in _HF_FIELDS if k in hf and hf[k] is not None}
        if values.get("embedding_size") == values.get("hidden_size"):
            values.pop("embedding_size", None)
        values["model_type"] = model_type
        values["use_pooler"] = model_type != "electra"
        position_type = hf.get("position_embedding_type", "absolute")
        if position_type != "absolute":
            raise ValueError(
                f"position_embedding_type={position_type!r} is not supported; only "
                "'absolute' position embeddings are."
            )
        return cls(**values).validate()

    def to_hf_dict(self):
        """The contents of an HF `config.json` for this encoder."""
        architectures = {
            "bert": "BertModel", "roberta": "RobertaModel",
            "xlm-roberta": "XLMRobertaModel", "electra": "ElectraModel",
        }
        out = {k: getattr(self, k) for k in _HF_FIELDS if k != "embedding_size"}
        out["embedding_size"] = self.embedding_width
        out["model_type"] = self.model_type
        out["architectures"] = [architectures[self.model_type]]
        out["position_embedding_type"] = "absolute"
        return out

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


PRESETS = {
    # XtremeDistilTransformers shapes, all on the bert-base-uncased vocabulary.
    "l6h256": EncoderConfig(hidden_size=256, num_hidden_layers=6, num_attention_heads=8,
                            intermediate_size=1024),
    "l6h384": EncoderConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                            intermediate_size=1536),
    "l12h384": EncoderConfig(hidden_size=384, num_hidden_layers=12, num_attention_heads=12,
                             intermediate_size=1536),
    # Tiny, with distinct odd sizes so that swapped axes fail loudly in tests.
    "tiny": EncoderConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2,
                          num_attention_heads=4, intermediate_size=37,
                          max_position_embeddings=64, type_vocab_size=2),
}


def get_preset(name, **overrides):
    """Returns the preset config `name`, with `overrides` applied."""
    if name not in PRESETS:
        raise ValueError(f"Unknown encoder preset {name!r}; valid presets: {sorted(PRESETS)}.")
    return PRESETS[name].replace(**overrides)
