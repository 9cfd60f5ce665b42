"""Loads a task model saved by this package as `.keras` (e.g. by run_finetune.py)."""
import os

import keras

from xtremedistil_tf.checkpoints.hf_task_layout import no_task_head_error


def keras_task_file(path):
    """The `.keras` file `path` names, or None when `path` is not one of ours.

    `path` is a `.keras` file, or a fine-tuning output folder holding
    `model.keras` (whose `config.json` is the run's config, not an HF one).
    """
    path = os.fspath(path)
    if path.endswith(".keras"):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path!r} does not exist; pass an existing .keras file, "
                                    "a folder holding model.keras, or an HF task folder.")
        return path
    candidate = os.path.join(path, "model.keras")
    return candidate if os.path.isfile(candidate) else None


def _with_dtype(model, dtype):
    """A copy of `model` whose encoder and head run under the dtype policy `dtype`."""
    config = model.get_config()
    config["encoder"]["config"]["dtype"] = dtype
    clone = type(model).from_config(config)
    clone.build()
    clone.set_weights(model.get_weights())
    return clone


def load_keras_task_model(path, dtype=None):
    """Loads a `TaskModel` from a `.keras` file; a bare encoder raises `ValueError`."""
    # Registers the classes with Keras before loading.
    from xtremedistil_tf.models.encoder import Encoder
    from xtremedistil_tf.models.question_answerer import QuestionAnswerer  # noqa: F401
    from xtremedistil_tf.models.sequence_classifier import SequenceClassifier  # noqa: F401
    from xtremedistil_tf.models.task_model import TaskModel
    from xtremedistil_tf.models.token_classifier import TokenClassifier  # noqa: F401

    model = keras.models.load_model(path)
    if isinstance(model, Encoder):
        raise no_task_head_error(path, "it holds a bare Encoder")
    if not isinstance(model, TaskModel):
        raise ValueError(f"{path!r} holds a {type(model).__name__}, not a task model of this "
                         "package (SequenceClassifier, TokenClassifier, QuestionAnswerer).")
    if dtype is not None:
        model = _with_dtype(model, dtype)
    return model
