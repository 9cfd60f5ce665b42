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


def load_init_checkpoint(path, tokenizer_dir=None):
    """Returns `(model, tokenizer)` to fine-tune from `path`.

    Args:
        path: an HF checkpoint folder (`config.json` + weights), a `.keras`
            file holding an `Encoder` or a task model, or a folder holding
            `model.keras` (the output folder of a fine-tuning run).
        tokenizer_dir: tokenizer folder; default: the HF folder itself, or the
            folder beside the `.keras` file.

    The model is an `Encoder` or a task model; `finetune` keeps a task model's
    head when it fits the task and otherwise puts a new head on its encoder.
    """
    from xtremedistil_tf.models.encoder import Encoder
    from xtremedistil_tf.models.task_model import TaskModel

    path = os.fspath(path)
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "model.keras")):
        path = os.path.join(path, "model.keras")
    if path.endswith(".keras"):
        if not os.path.isfile(path):
            raise ValueError(f"--init_checkpoint={path!r} does not exist.")
        # Registers the task model classes with Keras before loading.
        import xtremedistil_tf.models.question_answerer  # noqa: F401
        import xtremedistil_tf.models.sequence_classifier  # noqa: F401
        import xtremedistil_tf.models.token_classifier  # noqa: F401

        model = keras.models.load_model(path)
        if not isinstance(model, (Encoder, TaskModel)):
            raise ValueError(f"{path!r} holds a {type(model).__name__}, not an Encoder or a "
                             "task model of this package.")
        tokenizer = _load_tokenizer(tokenizer_dir or os.path.dirname(os.path.abspath(path)),
                                    path)
    else:
        from xtremedistil_tf.checkpoints import from_hf

        model, tokenizer = from_hf(path, load_tokenizer=tokenizer_dir is None)
        if tokenizer_dir is not None:
            tokenizer = _load_tokenizer(tokenizer_dir, path)
    encoder = model if isinstance(model, Encoder) else model.encoder
    if tokenizer.vocab_size > encoder.config.vocab_size:
        raise ValueError(f"The tokenizer has {tokenizer.vocab_size} tokens but the encoder "
                         f"of {path!r} embeds only {encoder.config.vocab_size}; use the "
                         "tokenizer the model was trained with.")
    return model, tokenizer
