"""Loads what fine-tuning starts from: an HF folder, a `.keras` model or a run folder."""
import os

import keras


def _load_tokenizer(folder, where):
    from xtremedistil_tf.tokenizers import Tokenizer

    if not folder or not os.path.isdir(folder):
        raise ValueError(f"No tokenizer folder for {where!r} (looked in {folder!r}); pass "
                         "--tokenizer with the folder of the tokenizer the model was trained "
                         "with.")
    try:
        return Tokenizer.from_pretrained(folder)
    except (OSError, ValueError) as err:
        raise ValueError(f"Could not load a tokenizer from {folder!r} for {where!r} ({err}); "
                         "pass --tokenizer with the model's tokenizer folder.") from err


def resolve_pooling(pooling, path):
    """`pooling`, or for "auto" the sentence vector the checkpoint at `path` declares.

    A sentence-embedding teacher and the students distilled from its mean-pooled
    output carry sentence-transformers' pooling files; their [CLS] token and
    pooler were never trained to summarise the input, so a head on them learns
    slowly. Without such files "auto" is BERT's "pooled_output".
    """
    if pooling != "auto":
        return pooling
    from xtremedistil_tf.checkpoints import read_pooling

    path = os.fspath(path)
    folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
    return read_pooling(folder) or "pooled_output"


def load_init_checkpoint(path, tokenizer_dir=None, max_seq_length=None):
    """Returns `(model, tokenizer)` to fine-tune from `path`.

    Args:
        path: an HF checkpoint folder (`config.json` + weights), a `.keras`
            file holding an `Encoder`, a `BiLSTMStudent` (MKD's `encoder.keras`;
            a student with its own head keeps its body only) or a task model,
            or a folder holding `model.keras` (the output folder of a
            fine-tuning run).
        tokenizer_dir: tokenizer folder; default: the HF folder itself, or the
            folder beside the `.keras` file.
        max_seq_length: if given, the inputs must fit the encoder's position table.

    The model is an encoder (`Encoder`, headless `BiLSTMStudent`) or a task model;
    `finetune` keeps a task model's
    head when it fits the task and otherwise puts a new head on its encoder.
    """
    from xtremedistil_tf.models import ENCODER_TYPES, BiLSTMStudent, TaskModel

    path = os.fspath(path)
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "model.keras")):
        path = os.path.join(path, "model.keras")
    if path.endswith(".keras"):
        if not os.path.isfile(path):
            raise ValueError(f"--init_checkpoint={path!r} does not exist.")
        # Importing xtremedistil_tf.models above registered its classes with Keras.
        try:
            model = keras.models.load_model(path)
        except (TypeError, ValueError) as err:
            raise ValueError(f"Could not load the Keras model {path!r} ({err}); "
                             "--init_checkpoint needs a .keras file saved from an "
                             "xtremedistil_tf Encoder, BiLSTMStudent or task model.") from err
        if isinstance(model, BiLSTMStudent):
            model = model.without_head()
        if not isinstance(model, (*ENCODER_TYPES, TaskModel)):
            raise ValueError(f"{path!r} holds a {type(model).__name__}, not an Encoder, a "
                             "BiLSTMStudent or a task model of this package (from an MKD run "
                             "pass its encoder.keras).")
        tokenizer = _load_tokenizer(tokenizer_dir or os.path.dirname(os.path.abspath(path)),
                                    path)
    else:
        from xtremedistil_tf.checkpoints import from_hf

        model, tokenizer = from_hf(path, load_tokenizer=tokenizer_dir is None)
        if tokenizer_dir is not None:
            tokenizer = _load_tokenizer(tokenizer_dir, path)
    encoder = model if isinstance(model, ENCODER_TYPES) else model.encoder
    if tokenizer.vocab_size > encoder.config.vocab_size:
        source = tokenizer_dir or (os.path.dirname(os.path.abspath(path))
                                   if path.endswith(".keras") else path)
        raise ValueError(f"The tokenizer in {source!r} has {tokenizer.vocab_size} tokens but "
                         f"the encoder of {path!r} embeds only {encoder.config.vocab_size}; "
                         "pass --tokenizer with the tokenizer the model was trained with.")
    limit = encoder.config.max_sequence_length  # None: no position table (a BiLSTM)
    if max_seq_length is not None and limit is not None and max_seq_length > limit:
        raise ValueError(f"--max_seq_length={max_seq_length} is longer than the "
                         f"{encoder.config.max_sequence_length} positions the encoder of "
                         f"{path!r} embeds; use at most that.")
    return model, tokenizer
