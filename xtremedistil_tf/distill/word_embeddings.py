"""The student's word embeddings as XtremeDistil compressed them: PCA, optionally frozen.

XtremeDistil (`--compress_word_embedding --freeze_word_embedding` in the
authors' code) reduced the teacher's word embedding matrix to the student's
width with a centred PCA and could keep it fixed while distilling. Here that is
`--word_embedding_init=pca` and `--freeze_word_embedding`, separate from
`--student_init`.

The PCA is written with numpy rather than `sklearn.decomposition.PCA` so that the
sign of each component is fixed by a stated rule (below), not by the solver or
library version; `tests/distill/test_word_embeddings.py` checks it against an
eigendecomposition of the covariance and against scikit-learn up to sign.
"""
import numpy as np


def _embedding_layers(encoder):
    e = encoder.embeddings
    return e.word_embeddings, e.position_embeddings, e.token_type_embeddings


def pca_reduce(matrix, width):
    """`(projected, mean, components)`: the centred PCA of `matrix` down to `width` columns.

    `components` (width x columns) are the top right singular vectors of the
    centred matrix, largest variance first, each signed so that its entry of
    largest magnitude is positive (the first such entry on ties), which makes the
    result independent of the SVD's arbitrary signs and of the row order.
    `projected = (matrix - mean) @ components.T`, computed in float64 and
    returned as float32.
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"PCA needs a 2-D matrix; got shape {x.shape}.")
    if not 1 <= width <= min(x.shape):
        raise ValueError(
            f"PCA to width {width} needs 1 <= width <= min{x.shape} of the {x.shape} matrix; "
            "pick a student no wider than the teacher's word embeddings.")
    mean = x.mean(axis=0)
    centred = x - mean
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:width]
    largest = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(width), largest])
    components = components * signs[:, None]
    return (centred @ components.T).astype(np.float32), mean, components


def pca_word_embedding_init(teacher, student, share_basis=False):
    """Replaces `student`'s word embeddings with the centred PCA of `teacher`'s.

    Both are `Encoder`s on one vocabulary. With `share_basis` (after
    student_init=teacher_svd, whose three tables share one SVD basis) the
    position and token-type tables are projected on the same PCA components, so
    that the three tables summed before the LayerNorm stay in one coordinate
    system; they are not centred, the word table's mean is removed once.
    Returns a JSON-ready dict for the run's `student_init` info.
    """
    t_word, t_pos, t_type = _embedding_layers(teacher)
    s_word, s_pos, s_type = _embedding_layers(student)
    words = t_word.embeddings.numpy().astype(np.float32)
    width = student.config.embedding_width
    if words.shape[0] != s_word.embeddings.shape[0]:
        raise ValueError(
            f"word_embedding_init=pca needs the teacher's vocabulary: the teacher has "
            f"{words.shape[0]} word vectors and the student {s_word.embeddings.shape[0]}.")
    if width > words.shape[1]:
        raise ValueError(
            f"word_embedding_init=pca needs a student no wider than the teacher's word "
            f"embeddings ({width} > {words.shape[1]}); use word_embedding_init=student_init.")
    projected, _, components = pca_reduce(words, width)
    s_word.embeddings.assign(projected.astype(s_word.embeddings.dtype))
    if share_basis:
        for src, dst in ((t_pos, s_pos), (t_type, s_type)):
            table = src.embeddings.numpy().astype(np.float64) @ components.T
            rows = min(table.shape[0], dst.embeddings.shape[0])
            value = dst.embeddings.numpy()
            value[:rows] = table[:rows]
            dst.embeddings.assign(value)
    total = float(np.sum(np.var(words.astype(np.float64), axis=0)))
    kept = float(np.sum(np.var(projected.astype(np.float64), axis=0)))
    return {"method": "pca", "width": int(width), "positions_and_types": (
        "same PCA basis" if share_basis else "from student_init"),
            "explained_variance": round(kept / total, 4) if total else None}


def set_word_embedding_trainable(encoder, trainable):
    """Freezes (or unfreezes) `encoder`'s word embedding matrix alone.

    A frozen matrix is left out of `trainable_variables`, so no optimizer step,
    weight decay or gradual-unfreezing phase touches it; the checkpoints still
    save it with the other variables.
    """
    encoder.embeddings.word_embeddings.trainable = bool(trainable)
