"""Loads a task model with its head from an HF `*For<Task>` folder or a `.keras` file."""
import os

from xtremedistil_tf.checkpoints.hf_loader import (
    assign_tensors, check_vocab_matches, encoder_tensors, read_hf_json, read_state_dict,
    resolve_folder)
from xtremedistil_tf.checkpoints.hf_task_layout import (
    FAMILIES, SEQUENCE_HEAD_ACTIVATION, find_head_kind, no_task_head_error,
    task_weight_map)
from xtremedistil_tf.checkpoints.keras_task_loader import keras_task_file, load_keras_task_model
from xtremedistil_tf.models.encoder import Encoder
from xtremedistil_tf.models.encoder_config import EncoderConfig
from xtremedistil_tf.models.question_answerer import QuestionAnswerer
from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
from xtremedistil_tf.models.token_classifier import TokenClassifier


def _label_names(hf, where):
    """`(names or None, num_labels)` from `id2label`, ordered by id."""
    id2label = hf.get("id2label")
    if not id2label:
        return None, int(hf.get("num_labels") or 2)  # HF's default head has 2 outputs.
    by_id = {int(k): str(v) for k, v in id2label.items()}
    if sorted(by_id) != list(range(len(by_id))):
        raise ValueError(f"id2label in {where!r} has ids {sorted(by_id)}; it needs one name "
                         f"for each id 0..{len(by_id) - 1}.")
    return [by_id[i] for i in range(len(by_id))], len(by_id)


def _sequence_classifier(encoder, hf, names, num_labels, dropout, where):
    problem_type = hf.get("problem_type") or (
        "regression" if num_labels == 1 else "single_label_classification")
    if problem_type not in ("regression", "single_label_classification"):
        raise ValueError(
            f"{where!r} has problem_type={problem_type!r}, which SequenceClassifier does "
            "not support; supported: 'single_label_classification' and 'regression'.")
    head = {}
    model_type = encoder.config.model_type
    if model_type != "bert":  # BERT's head is the encoder's pooler.
        head = {"pooling": "first", "head_activation": SEQUENCE_HEAD_ACTIVATION[model_type]}
    return SequenceClassifier(
        encoder, num_labels, None if problem_type == "regression" else names,
        problem_type=problem_type, dropout=dropout, **head)


def build_task_model(hf, dtype=None, where="config.json"):
    """An untrained task model shaped like the HF task model `hf` describes."""
    architectures = hf.get("architectures")
    kind = find_head_kind(architectures)
    if kind is None:
        raise no_task_head_error(where, f"architectures={architectures}")
    config = EncoderConfig.from_hf_dict(hf)
    # Only BERT sequence classifiers keep a pooler; every other HF task model drops it.
    use_pooler = config.model_type == "bert" and kind == "SequenceClassification"
    encoder = Encoder(config.replace(use_pooler=use_pooler), dtype=dtype, name="encoder")
    dropout = hf.get("classifier_dropout")
    if dropout is None:
        dropout = config.hidden_dropout_prob
    names, num_labels = _label_names(hf, where)
    if kind == "QuestionAnswering":
        if num_labels != 2:
            raise ValueError(f"{where!r} has a question-answering head with {num_labels} "
                             "outputs; only start/end heads (num_labels=2) are supported.")
        model = QuestionAnswerer(encoder, dropout=0.0)  # HF has no dropout before qa_outputs.
    elif kind == "TokenClassification":
        model = TokenClassifier(encoder, num_labels, names, dropout=dropout)
    else:
        model = _sequence_classifier(encoder, hf, names, num_labels, dropout, where)
    model.build()
    return model


def load_hf_task_model(folder, dtype=None):
    """Builds the task model of an HF task folder and fills every weight."""
    model = build_task_model(read_hf_json(folder), dtype=dtype, where=folder)
    tensors = read_state_dict(folder)
    # Checkpoints differ in the encoder's prefix (and old ones in LayerNorm names);
    # give the encoder tensors the prefix this family's HF task models use.
    prefix = FAMILIES[model.encoder.config.model_type][1]
    named = dict(tensors)
    named.update({f"{prefix}.{k}": v for k, v in encoder_tensors(tensors).items()})
    assign_tensors(task_weight_map(model), named)
    return model


def from_hf_task(path_or_name, dtype=None, load_tokenizer=True):
    """Loads `(task_model, tokenizer)`: an encoder together with its task head.

    The head follows `architectures` in `config.json`: `*ForSequenceClassification`
    (classification, or regression when `problem_type` says so or
    `num_labels == 1`) gives a `SequenceClassifier`, `*ForTokenClassification`
    a `TokenClassifier`, `*ForQuestionAnswering` a `QuestionAnswerer`, for
    BERT (MiniLM included), RoBERTa, XLM-R and ELECTRA. Label names come from
    `id2label`, in id order.

    Args:
        path_or_name: an HF task folder, a hub name (downloaded when online),
            a `.keras` file holding a task model of this package, or a folder
            holding `model.keras` (a `run_scripts/run_finetune.py` output).
        dtype: optional Keras dtype policy name, e.g. "mixed_bfloat16".
        load_tokenizer: when False, returns `(task_model, None)`. The tokenizer
            is read from the HF folder, or from the folder of the `.keras` file.

    Raises `ValueError` for a folder without a supported task head (a bare
    encoder): load those with `from_hf`.

    Example:
    >>> model, tokenizer = from_hf_task("path/to/bert_sst2")
    >>> model(tokenizer(["a fine film"], max_length=16))["logits"]
    """
    path = os.path.expanduser(os.fspath(path_or_name))
    keras_file = keras_task_file(path)
    if keras_file is not None:
        model = load_keras_task_model(keras_file, dtype=dtype)
        folder = os.path.dirname(os.path.abspath(keras_file))
    else:
        folder = resolve_folder(path)
        model = load_hf_task_model(folder, dtype=dtype)
    if not load_tokenizer:
        return model, None
    from xtremedistil_tf.tokenizers import Tokenizer

    tokenizer = Tokenizer.from_pretrained(folder)
    check_vocab_matches(model.encoder, tokenizer, folder)
    return model, tokenizer
