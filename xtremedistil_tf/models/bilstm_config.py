"""What a task head, fine-tuning and export read from a BiLSTM student's `config`."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class BiLSTMConfig:
    """The shape of a `BiLSTMStudent`, under the names `EncoderConfig` uses.

    Task models, the fine-tuning loop and the exporter read `encoder.config`
    (`hidden_size`, `hidden_dropout_prob`, `pad_token_id`, `vocab_size`, ...);
    giving a BiLSTM the same names lets it stand wherever an `Encoder` does.
    It is read-only: `BiLSTMStudent.config` builds it from the model's arguments.

    Args:
        vocab_size: rows of the word-embedding table.
        embedding_size: width of the embeddings.
        hidden_size: width of the BiLSTM output (both directions together).
        attention_size: width of the attention-pooling scorer.
        type_vocab_size: rows of the token-type table.
        pad_token_id: id of the padding token.
        hidden_dropout_prob: the student's dropout; a new head uses it too.
        model_type: always "bilstm".
        num_hidden_layers: recurrent layers (one).
        max_sequence_length: `None`: without a position table any length fits.
    """

    vocab_size: int
    embedding_size: int
    hidden_size: int
    attention_size: int
    type_vocab_size: int = 2
    pad_token_id: int = 0
    hidden_dropout_prob: float = 0.1
    model_type: str = "bilstm"
    num_hidden_layers: int = 1
    max_sequence_length: int | None = None

    def to_dict(self):
        return dataclasses.asdict(self)
