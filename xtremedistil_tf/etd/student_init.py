"""`--student_init=random|etd_rand|etd_impt|checkpoint`: the student's first weights."""
import dataclasses
import itertools
import os

import keras

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.etd.extract import extract_student, query_scale_for
from xtremedistil_tf.etd.importance import (
    combine_importance, compute_importance, default_importance_loss)
from xtremedistil_tf.etd.refit import refit_student
from xtremedistil_tf.etd.width_selection import (
    check_extractable, importance_selection, random_selection)
from xtremedistil_tf.models.encoder import Encoder

# Fields that change training behaviour but not the weights' shapes.
_NON_SHAPE_FIELDS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "layer_norm_eps")


def teacher_encoder(teacher):
    """The `Encoder` inside a task model (its `.encoder`), or the encoder itself."""
    if isinstance(teacher, Encoder):
        return teacher
    encoder = getattr(teacher, "encoder", None)
    if not isinstance(encoder, Encoder):
        raise ValueError(f"Cannot extract a student from a {type(teacher).__name__}: ETD needs "
                         "a transformer teacher, an Encoder or a task model with `.encoder`.")
    return encoder


def load_student_checkpoint(path, dtype=None):
    """An `Encoder` from an HF folder or a `.keras` file (a task model's encoder is taken)."""
    path = os.fspath(path)
    if path.endswith(".keras"):
        if not os.path.exists(path):
            raise FileNotFoundError(f"Student checkpoint {path!r} does not exist.")
        model = keras.models.load_model(path)
        return teacher_encoder(model)
    encoder, _ = from_hf(path, dtype=dtype, load_tokenizer=False)
    return encoder


def _same_shape(a, b):
    keep = {f.name for f in dataclasses.fields(a)} - set(_NON_SHAPE_FIELDS)
    return all(getattr(a, k) == getattr(b, k) for k in keep)


def _once_each(fn, items):
    """`[fn(item) for item in items]`, calling `fn` once per distinct object (by identity)."""
    done = {}
    for item in items:
        if id(item) not in done:
            done[id(item)] = fn(item)
    return [done[id(item)] for item in items]


def init_student(config, student_config=None, teacher=None, batches=None,
                 importance_loss=None, dtype=None, extra_batches=()):
    """Builds the student `Encoder` as `config.method` says.

    Args:
        config: a `StudentInitConfig`.
        student_config: the student's `EncoderConfig`; optional for
            "checkpoint", where it is only checked against the checkpoint.
        teacher: the teacher, an `Encoder` or a task model; needed by ETD.
        batches: input dicts or `(inputs, labels)` pairs to score importance on
            (etd_impt); at most `config.importance_batches` are read.
        importance_loss: `loss(encoder_outputs, inputs, labels)`; default
            `default_importance_loss(teacher)`.
        dtype: the student's Keras dtype policy.
        extra_batches: more batch iterables, one per further text; each is
            scored like `batches` (up to `config.importance_batches`), the scores
            are combined by `combine_importance`, and the refit reads all of them.
            The same iterable given twice is read and scored once and counts
            twice (twice the say in the selection, twice the weight in the refit).

    Returns `(student, info)`, where `info` is a JSON-ready dict saying how the
    student was made: the method and, for ETD, the units kept in "selection"
    (`WidthSelection.to_dict()`). For a student with a smaller head size the
    selection also lists each kept head's "qk_neurons" and "vo_neurons", and
    `info["query_scale"]` is the factor the kept query weights and bias were
    multiplied by.
    """
    config.validate()
    info = {"method": config.method}
    if config.method == "checkpoint":
        student = load_student_checkpoint(config.checkpoint, dtype=dtype)
        if student_config is not None and not _same_shape(student.config, student_config):
            raise ValueError(
                f"The student checkpoint {config.checkpoint!r} has shape "
                f"{student.config.to_dict()}, which differs from the requested student "
                f"{student_config.to_dict()}. Drop the shape flags or use another checkpoint.")
        info["checkpoint"] = config.checkpoint
        return student, info
    if student_config is None:
        raise ValueError(f"student_init={config.method!r} needs the student's EncoderConfig.")
    student_config.validate()
    if config.method == "random":
        keras.utils.set_random_seed(config.seed)
        student = Encoder(student_config, dtype=dtype, name="encoder")
        student.build()
        return student, info
    if teacher is None:
        raise ValueError(f"student_init={config.method!r} extracts the student from a teacher; "
                         "pass the teacher.")
    encoder = teacher_encoder(teacher)
    if batches is not None:
        # Read once: importance and the refit see the same batches, even from a generator.
        batches = list(itertools.islice(batches, config.importance_batches))
    # A text listed twice is the same iterable twice: read (and scored) once, counted twice.
    extra_batches = _once_each(
        lambda source: list(itertools.islice(source, config.importance_batches)), extra_batches)
    if config.method == "etd_rand":
        selection = random_selection(encoder.config, student_config, seed=config.seed)
    else:
        if batches is None:
            raise ValueError("student_init='etd_impt' scores units on data; pass `batches`.")
        loss = importance_loss or default_importance_loss(teacher)
        # Check the shapes before spending time on gradients.
        check_extractable(encoder.config, student_config)
        scores = combine_importance(_once_each(
            lambda source: compute_importance(encoder, source, loss, config.importance_batches),
            [batches] + extra_batches))
        selection = importance_selection(scores, encoder.config, student_config)
        info["importance_batches"] = scores.num_batches
    student = extract_student(encoder, student_config, selection, dtype=dtype)
    if config.refit:
        if not batches:
            raise ValueError("etd_refit fits the student on data; pass `batches`.")
        info["refit"] = refit_student(student, encoder, selection,
                                      batches + [b for source in extra_batches for b in source])
    info["selection"] = selection.to_dict()
    if selection.qk_neurons is not None:
        info["query_scale"] = query_scale_for(encoder.config, student_config)
    return student, info
