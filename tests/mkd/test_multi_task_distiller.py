"""MKD training: losses fall per task, heads move only on their task, errors."""
import keras
import numpy as np
import pytest

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.mkd.encoder_export import save_encoder
from xtremedistil_tf.mkd.multi_task_distiller import MultiTaskDistiller
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel
from xtremedistil_tf.mkd.task_sampler import TaskSampler
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent

from tests.mkd.helpers import TASKS, task_dataset, tiny_encoder, tiny_teacher


def _setup(encoder, losses=None, run_eagerly=True):
    teachers = {t: tiny_teacher(n, seed=i) for i, (t, n) in enumerate(TASKS.items())}
    student = MultiTaskModel(encoder, TASKS, dropout=0.0)
    mkd = MultiTaskDistiller(student, teachers, losses=losses)
    mkd.compile(keras.optimizers.Adam(3e-2), run_eagerly=run_eagerly)
    data = {t: task_dataset(i, n) for i, (t, n) in enumerate(TASKS.items())}
    return mkd, teachers, data


@pytest.mark.parametrize("encoder_kind", ["transformer", "bilstm"])
def test_every_task_loss_falls(encoder_kind):
    encoder = tiny_encoder() if encoder_kind == "transformer" else BiLSTMStudent(
        vocab_size=99, embedding_size=15, hidden_size=22, dropout=0.0)
    mkd, teachers, data = _setup(encoder, run_eagerly=False)
    teacher_weights = {t: [w.numpy().copy() for w in m.weights] for t, m in teachers.items()}
    before = mkd.evaluate(data, steps=3)
    history = mkd.fit(data, TaskSampler({t: 10 for t in TASKS}, tau=0.0, seed=0), steps=40)
    after = mkd.evaluate(data, steps=3)
    assert sum(history["task_steps"].values()) == 40 and min(history["task_steps"].values()) > 5
    for task in TASKS:
        assert after[task] < 0.5 * before[task], (task, before, after)
        for old, new in zip(teacher_weights[task], teachers[task].weights):
            np.testing.assert_array_equal(old, new.numpy())


def test_a_step_moves_only_its_own_head_and_the_encoder():
    mkd, _, data = _setup(tiny_encoder(), losses={"logits_kl": 1.0, "labels_ce": 0.5})
    heads = {t: mkd.student.heads[t].kernel.numpy().copy() for t in TASKS}
    word = mkd.student.encoder.embeddings.word_embeddings.embeddings.numpy().copy()
    total, parts = mkd.train_step("mnli", next(iter(data["mnli"])))
    assert set(parts) == {"logits_kl", "labels_ce"}
    np.testing.assert_allclose(total, parts["logits_kl"] + 0.5 * parts["labels_ce"], rtol=1e-5)
    assert not np.array_equal(heads["mnli"], mkd.student.heads["mnli"].kernel.numpy())
    for task in ("sst2", "stsb"):
        np.testing.assert_array_equal(heads[task], mkd.student.heads[task].kernel.numpy())
    assert not np.array_equal(word, mkd.student.encoder.embeddings.word_embeddings.embeddings)


def test_multi_task_teacher_and_encoder_export(tmp_path):
    teacher = MultiTaskModel(tiny_encoder(), TASKS, dropout=0.0)
    student = MultiTaskModel(tiny_encoder(hidden_size=24, num_attention_heads=3), TASKS)
    mkd = MultiTaskDistiller(student, teacher)
    mkd.compile(keras.optimizers.Adam(1e-3), run_eagerly=True)
    data = {t: task_dataset(i, n) for i, (t, n) in enumerate(TASKS.items())}
    mkd.fit(data, TaskSampler({"sst2": 5, "stsb": 5}), steps=2)
    paths = save_encoder(student.encoder, None, tmp_path, name="encoder")
    loaded = keras.models.load_model(paths["keras"])
    reloaded, _ = from_hf(paths["hf"], load_tokenizer=False)
    batch = next(iter(data["sst2"]))[0]
    np.testing.assert_allclose(loaded(batch)["pooled_output"],
                               student.encoder(batch)["pooled_output"], atol=1e-6)
    np.testing.assert_allclose(reloaded(batch)["pooled_output"],
                               student.encoder(batch)["pooled_output"], atol=1e-5)


def test_errors_name_the_problem():
    teacher = tiny_teacher(2, seed=0)
    student = MultiTaskModel(tiny_encoder(), TASKS)
    with pytest.raises(ValueError, match=r"No teacher for the student's tasks \['mnli', 'stsb'\]"):
        MultiTaskDistiller(student, {"sst2": teacher})
    with pytest.raises(ValueError, match="'SST2' and 'sst2' clash"):
        MultiTaskDistiller(student, {"SST2": teacher, "sst2": teacher})
    mkd = MultiTaskDistiller(student, {t: tiny_teacher(n, 0) for t, n in TASKS.items()})
    mkd.compile(keras.optimizers.Adam(1e-3), run_eagerly=True)
    with pytest.raises(ValueError, match=r"draws tasks \['qqp'\] that the student has no head"):
        mkd.fit({}, TaskSampler({"qqp": 3}), steps=1)
    with pytest.raises(ValueError, match=r"No data for tasks \['sst2'\]"):
        mkd.fit({}, TaskSampler({"sst2": 3}), steps=1)
