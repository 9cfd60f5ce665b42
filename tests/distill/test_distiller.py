"""The Distiller: frozen teacher, student-only updates, per-loss metrics, clear errors."""
import keras
import numpy as np
import pytest

from tests.distill import helpers
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.layer_map import build_layer_map
from xtremedistil_tf.distill.loss_settings import LossSettings

ALL_REPRESENTATION = {"hidden_mse": 1.0, "hidden_cosine": 0.5, "embedding_mse": 1.0,
                      "relation": 1.0, "pooled_cosine": 1.0}


def _fit(distiller, epochs=1):
    distiller.compile(optimizer=keras.optimizers.Adam(1e-2))
    return distiller.fit(helpers.dataset(), epochs=epochs, verbose=0)


def test_teacher_frozen_and_only_student_and_projections_change():
    teacher, student = helpers.tiny_teacher(dropout=0.1), helpers.tiny_student()
    distiller = Distiller(teacher=teacher, student=student, losses=ALL_REPRESENTATION)
    teacher_before = [v.numpy().copy() for v in teacher.variables]
    trainable_before = {v.path: v.numpy().copy() for v in distiller.trainable_variables}
    assert distiller.projections, "widths differ (48 vs 32), so projections must exist"
    _fit(distiller)
    for before, variable in zip(teacher_before, teacher.variables):
        assert np.array_equal(before, variable.numpy()), variable.path
    changed = {v.path for v in distiller.trainable_variables
               if not np.array_equal(trainable_before[v.path], v.numpy())}
    teacher_paths = {v.path for v in teacher.variables}
    assert not changed & teacher_paths
    allowed = {v.path for v in distiller.student_variables}
    assert changed <= allowed
    assert any("projection_" in p for p in changed)
    assert any(p.startswith("student/layer_1") for p in changed)


def test_per_loss_metrics_are_reported():
    distiller = Distiller(teacher=helpers.tiny_teacher(), student=helpers.tiny_student(),
                          losses={"hidden_mse": 1.0, "relation": 2.0})
    history = _fit(distiller, epochs=2).history
    assert set(history) == {"loss", "hidden_mse", "relation"}
    total = history["hidden_mse"][0] + 2.0 * history["relation"][0]
    assert history["loss"][0] == pytest.approx(total, rel=1e-4)
    assert history["loss"][1] < history["loss"][0]
    logs = distiller.evaluate(helpers.dataset(), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "hidden_mse", "relation"}
    assert distiller.predict(helpers.dataset(), verbose=0)["sequence_output"].shape == (16, 7, 32)


def test_logits_only_student():
    teacher = helpers.TinyClassifier(helpers.tiny_teacher())
    distiller = Distiller(teacher=teacher, student=helpers.TinyBiLSTM(),
                          losses={"logits_kl": 1.0, "logits_mse": 0.5})
    history = _fit(distiller, epochs=2).history
    assert history["loss"][1] < history["loss"][0]
    with pytest.raises(ValueError, match="not a transformer"):
        Distiller(teacher=teacher, student=helpers.TinyBiLSTM(), losses={"hidden_mse": 1.0})


def test_task_models_with_labels():
    teacher = helpers.TinyClassifier(helpers.tiny_teacher())
    student = helpers.TinyClassifier(helpers.tiny_student())
    distiller = Distiller(teacher=teacher, student=student,
                          losses={"logits_kl": 1.0, "labels_ce": 1.0, "relation": 1.0})
    arrays = helpers.token_arrays(8)
    labels = np.arange(8) % 5
    distiller.compile(optimizer=keras.optimizers.Adam(1e-3))
    logs = distiller.fit(arrays, {"labels": labels}, batch_size=4, verbose=0).history
    assert np.isfinite(logs["labels_ce"][0])


def test_gradual_unfreezing_keeps_lower_groups_fixed():
    student = helpers.tiny_student()
    distiller = Distiller(teacher=helpers.tiny_teacher(), student=student,
                          losses={"hidden_mse": 1.0})
    groups = distiller.layer_groups()
    # Head (the pooler), layer 2, layer 1, embeddings.
    assert len(groups) == 4
    assert {v.path for v in groups[0]} == {v.path for v in student.pooler.trainable_variables}
    distiller.set_unfrozen_groups(2)
    embeddings = student.embeddings.word_embeddings.embeddings.numpy().copy()
    bottom = student.encoder_layers[0].intermediate.kernel.numpy().copy()
    top = student.encoder_layers[-1].intermediate.kernel.numpy().copy()
    distiller.compile(optimizer=keras.optimizers.Adam(1e-2))
    distiller.optimizer.build(distiller.all_trainable_variables)
    distiller.fit(helpers.dataset(), verbose=0)
    assert np.array_equal(embeddings, student.embeddings.word_embeddings.embeddings.numpy())
    assert np.array_equal(bottom, student.encoder_layers[0].intermediate.kernel.numpy())
    assert not np.array_equal(top, student.encoder_layers[-1].intermediate.kernel.numpy())


def test_unknown_loss_lists_valid_ones():
    with pytest.raises(ValueError, match="Unknown loss 'hiden_mse'.*hidden_mse"):
        Distiller(teacher=helpers.tiny_teacher(), student=helpers.tiny_student(),
                  losses={"hiden_mse": 1.0})


def test_attention_loss_head_mismatch_suggests_relation():
    teacher = helpers.tiny_teacher(num_attention_heads=8)
    with pytest.raises(ValueError, match="'relation'"):
        Distiller(teacher=teacher, student=helpers.tiny_student(), losses={"attention_kl": 1.0})


def test_layer_map_out_of_range_is_an_error():
    settings = LossSettings(layer_map="1:2,2:9")
    with pytest.raises(ValueError, match="teacher layer 9, outside \\[0, 3\\]"):
        Distiller(teacher=helpers.tiny_teacher(), student=helpers.tiny_student(),
                  losses={"hidden_mse": 1.0}, loss_settings=settings)


@pytest.mark.parametrize("spec, expected", [
    ("uniform", [(1, 2), (2, 3)]),
    ("top1", [(2, 3)]),
    ("top2", [(1, 2), (2, 3)]),
    ("0:0,2:3", [(0, 0), (2, 3)]),
    ("3", [(2, 3)]),
])
def test_layer_maps(spec, expected):
    assert build_layer_map(spec, 3, 2) == expected


def test_layer_map_uniform_deeper_teacher():
    assert build_layer_map("uniform", 12, 6) == [(i, 2 * i) for i in range(1, 7)]
    # top<L+1> reaches the student's embedding output (layer 0).
    assert build_layer_map("top4", 12, 3) == [(0, 9), (1, 10), (2, 11), (3, 12)]
    with pytest.raises(ValueError, match="k=5"):
        build_layer_map("top5", 12, 3)


def test_cls_only_differs_from_all_tokens():
    teacher, student = helpers.tiny_teacher(), helpers.tiny_student()
    arrays = helpers.token_arrays(4)
    values = {}
    for tokens in ("all", "cls"):
        keras.utils.set_random_seed(0)
        distiller = Distiller(teacher=teacher, student=student, losses={"hidden_mse": 1.0},
                              loss_settings=LossSettings(tokens=tokens))
        values[tokens] = float(distiller.compute_losses(arrays)[0])
    assert values["all"] != pytest.approx(values["cls"])


def test_get_config_round_trip():
    distiller = Distiller(teacher=helpers.tiny_teacher(), student=helpers.tiny_student(),
                          losses={"hidden_mse": 2.0}, global_clipnorm=1.5,
                          loss_settings=LossSettings(tokens="cls"))
    clone = Distiller.from_config(distiller.get_config())
    assert clone.loss_weights == {"hidden_mse": 2.0}
    assert clone.global_clipnorm == 1.5
    assert clone.loss_settings == distiller.loss_settings
    assert clone.student.config == distiller.student.config
