"""MKD training on the StageRunner: losses fall per task, heads move only on their task."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from xtremedistil_tf.checkpoints import from_hf
from xtremedistil_tf.distill.stage_config import StageConfig
from xtremedistil_tf.distill.stage_runner import StageRunner, phase_seed
from xtremedistil_tf.distill.step_data import ExampleSource
from xtremedistil_tf.distill.task_mixture import TaskMixture
from xtremedistil_tf.mkd.encoder_export import save_encoder
from xtremedistil_tf.mkd.multi_task_distiller import MultiTaskDistiller, task_losses
from xtremedistil_tf.mkd.multi_task_model import MultiTaskModel
from xtremedistil_tf.models.bilstm_student import BiLSTMStudent

from tests.mkd.helpers import TASKS, task_arrays, task_dataset, tiny_encoder, tiny_teacher


def _setup(encoder, losses=None, run_eagerly=True):
    teachers = {t: tiny_teacher(n, seed=i) for i, (t, n) in enumerate(TASKS.items())}
    student = MultiTaskModel(encoder, TASKS, dropout=0.0)
    mkd = MultiTaskDistiller(student, teachers, losses=losses)
    mkd.compile(keras.optimizers.Adam(3e-2), run_eagerly=run_eagerly)
    data = {t: task_dataset(i, n) for i, (t, n) in enumerate(TASKS.items())}
    return mkd, teachers, data


@pytest.mark.parametrize("encoder_kind", ["transformer", "bilstm"])
def test_every_task_loss_falls_on_the_stage_runner(encoder_kind):
    encoder = tiny_encoder() if encoder_kind == "transformer" else BiLSTMStudent(
        vocab_size=99, embedding_size=15, hidden_size=22, dropout=0.0)
    mkd, teachers, data = _setup(encoder)
    teacher_weights = {t: [w.numpy().copy() for w in m.weights] for t, m in teachers.items()}
    before = mkd.evaluate(data, steps=3)
    sources = {t: ExampleSource(*_with_ids(task_arrays(i, n))) for i, (t, n) in
               enumerate(TASKS.items())}
    mixture = TaskMixture(sources, tau=0.0)
    runner = StageRunner(mkd, tf.distribute.get_strategy(), verbose=False)
    stage = StageConfig("mkd", (("logits_kl", 1.0),), max_steps=60, learning_rate=3e-2,
                        warmup_ratio=0.0)
    history = runner.run(stage, 0, mixture, None, batch_size=8, seed=0)
    after = mkd.evaluate(data, steps=3)
    counts = mixture.counts(phase_seed(0, 0, 0), 60)
    assert history["last_step"] == 60 and sum(counts.values()) == 60
    assert min(counts.values()) > 5
    # Each task's own losses are reported under its name.
    assert {"sst2/logits_kl", "mnli/logits_kl", "stsb/logits_mse"} <= set(history["train"])
    for task in TASKS:
        assert after[task] < 0.6 * before[task], (task, before, after)
        for old, new in zip(teacher_weights[task], teachers[task].weights):
            np.testing.assert_array_equal(old, new.numpy())


def _with_ids(arrays_and_labels):
    inputs, labels = arrays_and_labels
    return inputs, np.arange(len(labels)), None


def test_task_mixture_schedule_is_seeded_and_resumable():
    sources = {t: ExampleSource(*_with_ids(task_arrays(i, n))) for i, (t, n) in
               enumerate(TASKS.items())}
    mixture = TaskMixture(sources, tau=1.0)
    strategy = tf.distribute.get_strategy()
    whole = [(task, batch[0]["input_ids"].numpy()) for task, batch in
             mixture.feed(strategy, 8, (1, 0, 0), 0, 12)]
    tail = [(task, batch[0]["input_ids"].numpy()) for task, batch in
            mixture.feed(strategy, 8, (1, 0, 0), 7, 12)]
    assert [t for t, _ in whole[7:]] == [t for t, _ in tail]
    for (_, a), (_, b) in zip(whole[7:], tail):
        np.testing.assert_array_equal(a, b)
    assert mixture.schedule((1, 0, 0), 12) != mixture.schedule((2, 0, 0), 12)


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
    for task in ("sst2", "stsb"):
        mkd.train_step(task, next(iter(data[task])))
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
    with pytest.raises(ValueError, match="sources is empty"):
        TaskMixture({})
    # Without teachers (fine-tuning a multi-task teacher) only gold-label losses work.
    with pytest.raises(ValueError, match=r"\['logits_kl'\] read a teacher's outputs, but "
                                         "there is no teacher"):
        MultiTaskDistiller(student, None, losses={"logits_kl": 1.0, "labels_ce": 1.0})


def test_regression_tasks_match_logits_and_scores():
    assert task_losses({"logits_kl": 1.0, "labels_ce": 0.5}, 1) == {
        "logits_mse": 1.0, "labels_ce": 0.5}
    assert task_losses({"logits_kl": 1.0}, 3) == {"logits_kl": 1.0}
