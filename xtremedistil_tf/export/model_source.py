"""Finds the model and tokenizer in what a user passes to export: a folder or a file."""
import dataclasses
import glob
import os

# Files whose presence marks a folder as holding a tokenizer.
_TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model",
                    "vocab.json")
# Preferred names of the Keras file, in order, when a folder holds several.
_KERAS_NAMES = ("model.keras", "student.keras")


@dataclasses.dataclass
class ModelSource:
    """A loaded model and where it came from.

    `tokenizer` is `None` when no tokenizer files were found; then only the
    token-ids signatures can be exported and parity runs on synthetic ids.
    """

    model: object
    tokenizer: object
    model_path: str
    tokenizer_folder: str | None


def _has_tokenizer(folder):
    return any(os.path.isfile(os.path.join(folder, name)) for name in _TOKENIZER_FILES)


def _is_hf_folder(folder):
    return os.path.isfile(os.path.join(folder, "config.json")) and any(
        os.path.isfile(os.path.join(folder, name))
        for name in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"))


def _find_tokenizer_folder(folder):
    """`folder` itself, else a direct subfolder holding tokenizer files (e.g. hf_student/)."""
    if _has_tokenizer(folder):
        return folder
    for child in sorted(glob.glob(os.path.join(folder, "*", ""))):
        if _has_tokenizer(child):
            return os.path.normpath(child)
    return None


def _pick_keras_file(folder):
    found = sorted(glob.glob(os.path.join(folder, "*.keras")))
    if len(found) <= 1:
        return found[0] if found else None
    for name in _KERAS_NAMES:
        path = os.path.join(folder, name)
        if path in found:
            return path
    raise ValueError(f"{folder!r} holds several Keras files {[os.path.basename(f) for f in found]}"
                     "; pass the one to export as --model=<folder>/<file>.keras.")


def _load_keras(path):
    import keras

    # Importing the model modules registers their classes for deserialisation.
    from xtremedistil_tf.models import (  # noqa: F401
        bilstm_student, encoder, question_answerer, sequence_classifier, token_classifier)

    try:
        return keras.saving.load_model(path, compile=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"Could not load the Keras model {path!r}: {err}. Export needs a "
                         ".keras file saved from an xtremedistil_tf Encoder, BiLSTMStudent or "
                         "task model.") from err


def _load_tokenizer(folder):
    if folder is None:
        return None
    from xtremedistil_tf.tokenizers import Tokenizer

    return Tokenizer.from_pretrained(folder)


def load_model_source(path):
    """Loads the model and tokenizer behind `path`.

    Args:
        path: a `.keras` file; a folder holding one (`model.keras` from
            fine-tuning, `student.keras` from distillation) with the tokenizer in
            it or in a subfolder (`hf_student/`); or a Hugging Face folder
            (`config.json` + weights), exported as a bare encoder.

    Raises `FileNotFoundError` naming what was looked for.
    """
    path = os.path.normpath(os.path.expanduser(os.fspath(path)))
    if os.path.isfile(path):
        if not path.endswith(".keras"):
            raise ValueError(f"--model={path!r} is a file but not a .keras model; pass a "
                             ".keras file, a fine-tuning or distillation output folder, or an "
                             "HF folder.")
        folder = _find_tokenizer_folder(os.path.dirname(path))
        return ModelSource(_load_keras(path), _load_tokenizer(folder), path, folder)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"--model={path!r} does not exist; pass a .keras file, a "
                                "fine-tuning or distillation output folder, or an HF folder.")
    keras_file = _pick_keras_file(path)
    if keras_file is not None:
        folder = _find_tokenizer_folder(path)
        return ModelSource(_load_keras(keras_file), _load_tokenizer(folder), keras_file, folder)
    hf_folder = path if _is_hf_folder(path) else next(
        (os.path.normpath(c) for c in sorted(glob.glob(os.path.join(path, "*", "")))
         if _is_hf_folder(c)), None)
    if hf_folder is None:
        raise FileNotFoundError(
            f"{path!r} holds no .keras file and no Hugging Face checkpoint (config.json with "
            "model.safetensors or pytorch_model.bin), neither directly nor one folder down.")
    from xtremedistil_tf.checkpoints.hf_loader import check_vocab_matches, load_encoder

    encoder, _ = load_encoder(hf_folder)
    folder = _find_tokenizer_folder(hf_folder)
    tokenizer = _load_tokenizer(folder)
    if tokenizer is not None:
        check_vocab_matches(encoder, tokenizer, folder)
    return ModelSource(encoder, tokenizer, hf_folder, folder)
