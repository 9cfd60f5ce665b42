"""The teacher cache: same numbers as the live teacher, reused when valid, never when stale."""
import dataclasses

import numpy as np
import pytest

from tests.distill import helpers
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.teacher_cache import TeacherCache, fingerprint_variables

LOSSES = {"pooled_mse": 1.0, "pooled_cosine": 1.0, "hidden_mse": 1.0}


def _build(tmp_path, distiller, inputs, logs):
    return TeacherCache.build(
        str(tmp_path), distiller.teacher_targets, inputs, distiller.teacher_keys,
        fingerprint_variables(distiller.teacher.weights), token_dtype="float32",
        batch_size=4, shard_size=5, log=logs.append)


def test_cache_matches_live_teacher_and_is_reused(tmp_path):
    distiller = Distiller(teacher=helpers.tiny_teacher(), student=helpers.tiny_student(),
                          losses=LOSSES)
    inputs = helpers.token_arrays(13)
    logs = []
    cache = _build(tmp_path, distiller, inputs, logs)
    assert len(cache.manifest["shards"]) == 3  # 13 examples in shards of 5
    rows = np.array([12, 0, 7, 5])
    batch = {k: v[rows] for k, v in inputs.items()}
    live = distiller.teacher_targets(batch)
    cached = cache.gather(rows)
    assert sorted(cached) == sorted(live)
    for key in live:
        np.testing.assert_allclose(cached[key], live[key], rtol=1e-5, atol=1e-6)
    live_loss = distiller.compute_losses(batch)[0]
    cached_loss = distiller.compute_losses(batch, {"teacher": cached})[0]
    np.testing.assert_allclose(cached_loss, live_loss, rtol=1e-5)

    again = _build(tmp_path, distiller, inputs, logs)
    assert again.folder == cache.folder
    assert "reusing" in logs[-1]


def test_stale_cache_is_not_reused(tmp_path):
    teacher = helpers.tiny_teacher()
    distiller = Distiller(teacher=teacher, student=helpers.tiny_student(), losses=LOSSES)
    inputs = helpers.token_arrays(6)
    logs = []
    old = _build(tmp_path, distiller, inputs, logs)
    pooler = teacher.encoder_layers[-1].ffn_output.bias
    # Not a constant: the LayerNorm after this bias would cancel a uniform shift.
    pooler.assign(pooler.numpy() + np.linspace(-0.5, 0.5, pooler.shape[0]))
    new = _build(tmp_path, distiller, inputs, logs)
    assert new.folder != old.folder
    assert "computing" in logs[-1]
    fresh = distiller.teacher_targets(inputs)["pooled/mean"]
    np.testing.assert_allclose(new.gather(np.arange(6))["pooled/mean"], fresh, rtol=1e-5, atol=1e-6)
    assert not np.allclose(old.gather(np.arange(6))["pooled/mean"], fresh)
    # Other text is another cache too.
    other = _build(tmp_path, distiller, helpers.token_arrays(6, seed=9), logs)
    assert other.folder not in (old.folder, new.folder)


def test_float16_storage_for_token_outputs(tmp_path):
    distiller = Distiller(teacher=helpers.tiny_teacher(), student=helpers.tiny_student(),
                          losses=LOSSES)
    inputs = helpers.token_arrays(4)
    cache = TeacherCache.build(str(tmp_path), distiller.teacher_targets, inputs,
                               distiller.teacher_keys,
                               fingerprint_variables(distiller.teacher.variables),
                               token_dtype="float16", log=lambda _: None)
    spec = cache.spec()
    assert spec["hidden_states/3"][1] == np.float16
    assert spec["pooled/mean"][1] == np.float32
    with pytest.raises(KeyError):
        spec["attention_probs/1"]


def test_worker_without_a_cache_computes_into_its_scratch_folder(tmp_path):
    """A non-chief worker reads the shared cache when complete, else builds its own."""
    distiller = Distiller(teacher=helpers.tiny_teacher(), student=helpers.tiny_student(),
                          losses=LOSSES)
    inputs = helpers.token_arrays(6)
    shared, scratch = tmp_path / "shared", tmp_path / "scratch"

    def build(**kwargs):
        return TeacherCache.build(
            str(shared), distiller.teacher_targets, inputs, distiller.teacher_keys,
            fingerprint_variables(distiller.teacher.variables), log=lambda _: None, **kwargs)

    own = build(scratch_root=str(scratch))
    assert own.folder.startswith(str(scratch)) and not shared.exists()
    chief = build()
    assert build(scratch_root=str(scratch)).folder == chief.folder


def test_fingerprint_follows_the_weights_not_the_layer_names(tmp_path):
    """A teacher read back from disk gets new layer names (Keras numbers them per
    process) but the same weights: its cache must still be found."""
    import keras

    from xtremedistil_tf.models.encoder import Encoder

    teacher = helpers.tiny_teacher()
    path = str(tmp_path / "teacher.keras")
    teacher.save(path)
    reloaded = keras.models.load_model(path)
    other_names = Encoder(teacher.config, name="renamed")
    other_names.build()
    other_names.set_weights(teacher.get_weights())
    assert [v.path for v in other_names.weights] != [v.path for v in teacher.weights]
    expected = fingerprint_variables(teacher.weights)
    assert fingerprint_variables(reloaded.weights) == expected
    assert fingerprint_variables(other_names.weights) == expected
    # Dropout seed states are in `variables`, not in `weights`: random per instance and
    # advanced by every training-mode call, so a teacher fine-tuned in this process must
    # not be keyed by them, or it misses the cache of the same teacher read back.
    dropping = Encoder(dataclasses.replace(teacher.config, hidden_dropout_prob=0.1,
                                           attention_probs_dropout_prob=0.1))
    dropping.build()
    dropping.set_weights(teacher.get_weights())
    seeds_before = fingerprint_variables(dropping.variables)
    ids = np.arange(2 * 7).reshape(2, 7) % teacher.config.vocab_size
    dropping({"input_ids": ids, "attention_mask": np.ones_like(ids)}, training=True)
    assert fingerprint_variables(dropping.variables) != seeds_before
    assert fingerprint_variables(dropping.weights) == expected
    changed = teacher.weights[3]
    changed.assign(changed.numpy() + 1e-3)
    assert fingerprint_variables(teacher.weights) != expected
