"""--word_embedding_init=pca and --freeze_word_embedding: PCA against numpy and
scikit-learn, the tables it writes, and a frozen matrix through a run_distill.py run."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.distill import helpers
from xtremedistil_tf.distill.word_embeddings import (
    pca_reduce, pca_word_embedding_init, set_word_embedding_trainable)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [f"word{i}" for i in range(helpers.VOCAB - len(SPECIAL))]


def _matrix(seed=0, rows=99, cols=13):
    """Distinct column scales and an offset, so that the variances are well apart
    and centring matters."""
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(rows, cols)) * np.linspace(3.0, 0.2, cols) + 5.0).astype(np.float32)


def _signed(components):
    """The documented rule: each row's entry of largest magnitude is positive."""
    rows = np.arange(len(components))
    return components * np.sign(components[rows, np.argmax(np.abs(components), axis=1)])[:, None]


def test_pca_matches_the_covariance_eigendecomposition():
    x = _matrix()
    projected, mean, components = pca_reduce(x, 5)
    centred = x.astype(np.float64) - x.astype(np.float64).mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred / (len(x) - 1))
    order = np.argsort(values)[::-1][:5]
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(components, _signed(vectors[:, order].T), atol=1e-8)
    np.testing.assert_allclose(projected, centred @ _signed(vectors[:, order].T).T, atol=1e-5)
    # The projection of the centred matrix: zero mean, the top variances in order.
    assert projected.dtype == np.float32 and projected.shape == (99, 5)
    np.testing.assert_allclose(projected.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(projected.var(axis=0, ddof=1), values[order], rtol=1e-5)


def test_pca_matches_scikit_learn_up_to_sign():
    from sklearn.decomposition import PCA

    x = _matrix(seed=1)
    projected, _, components = pca_reduce(x, 6)
    reference = PCA(n_components=6, svd_solver="full")
    expected = reference.fit_transform(x.astype(np.float64))
    np.testing.assert_allclose(np.abs(components), np.abs(reference.components_), atol=1e-8)
    np.testing.assert_allclose(np.abs(projected), np.abs(expected), atol=1e-5)


def test_pca_signs_do_not_depend_on_row_order_or_overall_sign():
    x = _matrix(seed=2)
    projected, _, components = pca_reduce(x, 4)
    rows = np.arange(4)
    assert (components[rows, np.argmax(np.abs(components), axis=1)] > 0).all()
    perm = np.random.default_rng(3).permutation(len(x))
    shuffled, _, shuffled_components = pca_reduce(x[perm], 4)
    np.testing.assert_allclose(shuffled_components, components, atol=1e-8)
    np.testing.assert_allclose(shuffled, projected[perm], atol=1e-5)
    negated, _, negated_components = pca_reduce(-x, 4)
    np.testing.assert_allclose(negated_components, components, atol=1e-8)
    np.testing.assert_allclose(negated, -projected, atol=1e-5)


@pytest.mark.parametrize("width", [0, 14])
def test_pca_refuses_an_impossible_width(width):
    with pytest.raises(ValueError, match="needs 1 <= width"):
        pca_reduce(_matrix(), width)


@pytest.mark.parametrize("share_basis", [False, True])
def test_pca_init_writes_the_student_tables(share_basis):
    teacher, student = helpers.tiny_teacher(), helpers.tiny_student()
    e = student.embeddings
    positions_before = e.position_embeddings.embeddings.numpy().copy()
    info = pca_word_embedding_init(teacher, student, share_basis=share_basis)
    t = teacher.embeddings
    projected, _, components = pca_reduce(t.word_embeddings.embeddings.numpy(), 32)
    np.testing.assert_array_equal(e.word_embeddings.embeddings.numpy(), projected)
    positions = e.position_embeddings.embeddings.numpy()
    types = e.token_type_embeddings.embeddings.numpy()
    if share_basis:
        np.testing.assert_allclose(
            positions, t.position_embeddings.embeddings.numpy() @ components.T, atol=1e-6)
        np.testing.assert_allclose(
            types, t.token_type_embeddings.embeddings.numpy() @ components.T, atol=1e-6)
    else:
        np.testing.assert_array_equal(positions, positions_before)
    assert info["width"] == 32 and 0 < info["explained_variance"] < 1


def test_pca_init_refuses_a_student_wider_than_the_teacher():
    teacher, student = helpers.tiny_student(), helpers.tiny_teacher()
    with pytest.raises(ValueError, match="no wider than the teacher"):
        pca_word_embedding_init(teacher, student)


def test_a_frozen_matrix_leaves_the_trainable_variables():
    student = helpers.tiny_student()
    table = student.embeddings.word_embeddings.embeddings
    set_word_embedding_trainable(student, False)
    assert all(v is not table for v in student.trainable_variables)
    assert any(v is table for v in student.non_trainable_variables)
    assert len(student.trainable_variables) > 0
    set_word_embedding_trainable(student, True)
    assert any(v is table for v in student.trainable_variables)


@pytest.fixture(scope="module")
def tiny_teacher_folder(tmp_path_factory):
    from xtremedistil_tf.checkpoints import to_hf
    from xtremedistil_tf.tokenizers import Tokenizer

    root = tmp_path_factory.mktemp("word_embeddings")
    to_hf(helpers.tiny_teacher(), Tokenizer.from_vocab(SPECIAL + WORDS), str(root / "teacher"))
    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(WORDS, size=rng.integers(3, 12))) for _ in range(120)]
    (root / "transfer.txt").write_text("\n".join(lines) + "\n")
    return root


def _start(root, out, *extra):
    args = [f"--teacher={root / 'teacher'}", "--student=tiny",
            f"--transfer_data={root / 'transfer.txt'}", "--max_seq_length=16",
            "--batch_size=8", "--dev_fraction=0", "--heldout_examples=0",
            "--stages=representation", "--representation_losses=hidden_mse:1",
            "--representation_max_steps=6", "--representation_learning_rate=1e-2",
            "--logits_losses=", "--checkpoint_every=0", "--verbose=0",
            "--strategy=one_device", "--student_init=teacher_svd",
            "--word_embedding_init=pca", f"--output_dir={out}", *extra]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, "run_distill.py", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
def test_freezing_keeps_the_matrix_bit_identical_through_a_run(tiny_teacher_folder, tmp_path):
    import keras
    from safetensors.numpy import load_file

    root = tiny_teacher_folder
    frozen = _start(root, tmp_path / "frozen", "--freeze_word_embedding")
    trained = _start(root, tmp_path / "trained")
    for proc in (frozen, trained):
        output, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, output[-3000:]
    teacher = load_file(str(root / "teacher" / "model.safetensors"))
    start, _, components = pca_reduce(teacher["embeddings.word_embeddings.weight"], 32)
    start_positions = teacher["embeddings.position_embeddings.weight"] @ components.T
    weights = {name: load_file(str(tmp_path / name / "hf_student" / "model.safetensors"))
               for name in ("frozen", "trained")}
    word, position = "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight"
    np.testing.assert_array_equal(weights["frozen"][word], start)
    # The same run without the flag moves the matrix; with it, everything else still trains.
    assert np.abs(weights["trained"][word] - start).max() > 1e-3
    assert np.abs(weights["frozen"][position] - start_positions).max() > 1e-3
    layer = "encoder.layer.0.attention.self.query.weight"
    assert np.abs(weights["frozen"][layer] - weights["trained"][layer]).max() > 0
    metrics = json.loads((tmp_path / "frozen" / "metrics.json").read_text())
    assert metrics["student_init"]["word_embeddings_frozen"] is True
    assert metrics["student_init"]["word_embeddings"]["positions_and_types"] == "same PCA basis"
    # The flag holds during distillation only: the saved student fine-tunes its embeddings.
    student = keras.saving.load_model(tmp_path / "frozen" / "student.keras")
    assert student.embeddings.word_embeddings.trainable
