"""Projections start at their least-squares fit."""
import numpy as np
from tests.distill.helpers import tiny_student, tiny_teacher, token_arrays
from xtremedistil_tf.distill.distiller import Distiller
from xtremedistil_tf.distill.loss_settings import LossSettings
from xtremedistil_tf.distill.projection_fit import fit_projections, solve_ridge


def test_ridge_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(500, 5))
    w, b = rng.normal(size=(5, 3)), rng.normal(size=3)
    kernel, bias = solve_ridge(s, s @ w + b, ridge=1e-9)
    np.testing.assert_allclose(kernel, w, atol=1e-6)
    np.testing.assert_allclose(bias, b, atol=1e-6)


def test_fit_lowers_the_loss_and_skips_named_projections():
    teacher, student = tiny_teacher(), tiny_student()
    distiller = Distiller(teacher=teacher, student=student,
                          losses={"hidden_mse": 1.0, "pooled_mse": 1.0},
                          loss_settings=LossSettings(pooling="mean"))
    batches = [token_arrays(16, seed) for seed in range(4)]
    before, _ = distiller.compute_losses(batches[0])
    fitted = fit_projections(distiller, batches)
    after, parts = distiller.compute_losses(batches[0])
    assert sorted(fitted) == sorted(distiller.projections)
    assert float(after) < 0.5 * float(before)
    # A projection already trained is left alone.
    name = fitted[0]
    kept = distiller.projections[name].kernel.numpy().copy()
    distiller.projections[name].kernel.assign(kept + 1.0)
    assert name not in fit_projections(distiller, batches, skip={name})
    np.testing.assert_array_equal(distiller.projections[name].kernel.numpy(), kept + 1.0)
