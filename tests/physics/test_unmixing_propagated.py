"""Noise of G(r) propagated from the variance of I(s) (matrix form) and its use
as the known noise model of the rank evidence."""

import numpy as np
import pytest

from pyxem_epdf.physics import chain, fit, transform, uncertainty
from pyxem_epdf.physics.unmixing import (
    PropagatedNoise,
    propagated_noise,
    rank_evidence,
    row_basis,
)

S = np.linspace(0.0, 3.0, 151)
F2 = 1.0 / (1.0 + S**2)
FSQ = 0.8 * F2
WINDOW = (2.0, 3.0)
OP = chain.chain_operator(S, transform.r_grid(10, 0.05), s_min=0.2)
R_SEL = slice(20, 160)  # 1-8 Å


def _chain(intensity):
    """G(r) of the closed-form chain (N and C fitted on WINDOW)."""
    res = fit.fit_scattering_background(intensity, S, F2, WINDOW)
    g, _ = chain.intensity_to_pdf(intensity, S, res.N, res.C, F2, FSQ, OP)
    return g[..., R_SEL]


def test_covariance_matches_monte_carlo_of_the_chain():
    # one pattern with a structured I(s), Poisson-like variance ∝ I, many noise draws
    mean = 50.0 * F2 * (1 + 0.2 * np.sin(5 * S) * np.exp(-S)) + 2.0
    var = 0.02 * mean
    rng = np.random.default_rng(1)
    draws = mean + np.sqrt(var) * rng.standard_normal((4000, S.size))
    g = _chain(draws)
    emp = np.cov(g.T)
    res0 = fit.fit_scattering_background(mean, S, F2, WINDOW)
    noise = propagated_noise(var[None], mean[None], S, res0.N, res0.C, FSQ,
                             OP.matrix[:, R_SEL], OP.rows,
                             gradients=uncertainty.fit_gradients(S, F2, WINDOW))
    assert isinstance(noise, PropagatedNoise)
    n_r = g.shape[1]
    level = np.sqrt(np.trace(emp) / n_r)
    assert noise.level[0] == pytest.approx(level, rel=0.05)  # 4000 draws: ~2 % scatter
    pred = noise.covariance * noise.level[0] ** 2
    # the whole matrix, not only its diagonal: relative Frobenius error (0.065; two
    # independent 4000-draw estimates differ by about as much)
    assert np.linalg.norm(pred - emp) / np.linalg.norm(emp) < 0.1
    # a wrong model fails the same check: the covariance of white noise of that level
    assert np.linalg.norm(np.eye(n_r) * level**2 - emp) / np.linalg.norm(emp) > 0.5


def test_level_and_diagonal_agree_with_pdf_variance_with_bin_correlation():
    rng = np.random.default_rng(0)
    n = 7
    intensity = rng.uniform(20, 60, (n, 1)) * F2 + 1.0
    var = 0.05 * intensity
    corr = np.eye(S.size) + 0.3 * (np.eye(S.size, k=1) + np.eye(S.size, k=-1))
    grads = uncertainty.fit_gradients(S, F2, WINDOW)
    N = rng.uniform(20, 60, n)
    C = np.ones(n)
    noise = propagated_noise(var, intensity, S, N, C, FSQ, OP.matrix, OP.rows,
                             gradients=grads, correlation=corr, block=3)
    pv = uncertainty.pdf_variance(var, intensity, S, N, C, F2, FSQ, OP, gradients=grads,
                                  correlation=corr)
    assert np.allclose(noise.level, np.sqrt(pv.mean(axis=1)))
    assert np.allclose(np.diag(noise.covariance), (pv / noise.level[:, None] ** 2).mean(axis=0))
    assert np.trace(noise.covariance) == pytest.approx(OP.matrix.shape[1])


def test_patterns_without_a_fit_get_nan_level_and_bad_input_is_named():
    intensity = np.vstack([30 * F2, 40 * F2])
    var = 0.1 * intensity
    noise = propagated_noise(var, intensity, S, [30.0, 0.0], [0.0, 0.0], FSQ, OP.matrix,
                             OP.rows)
    assert np.isfinite(noise.level[0]) and np.isnan(noise.level[1])
    with pytest.raises(ValueError, match="'variance'"):
        propagated_noise(var[:, :5], intensity, S, [1, 1], [0, 0], FSQ, OP.matrix, OP.rows)
    with pytest.raises(ValueError, match="'matrix'"):
        propagated_noise(var, intensity, S, [1, 1], [0, 0], FSQ, OP.matrix[:5], OP.rows)
    with pytest.raises(ValueError, match="'correlation'"):
        propagated_noise(var, intensity, S, [1, 1], [0, 0], FSQ, OP.matrix, OP.rows,
                         correlation=np.eye(3))
    with pytest.raises(ValueError, match="'f_mean_sq'"):
        propagated_noise(var, intensity, S, [1, 1], [0, 0], FSQ[:3], OP.matrix, OP.rows)


def _correlated_cube(seed=0, n=30):
    """Two smooth phase maps, noise strongly correlated along r and of a level that
    varies 10× across the scan; returns x, nav_shape, noise cov (unit level), levels."""
    rng = np.random.default_rng(seed)
    r = np.linspace(1, 8, 120)
    e = np.stack([np.sin(2 * r) * np.exp(-0.1 * r), np.cos(3 * r) * np.exp(-0.1 * r)])
    yy, xx = np.mgrid[0:n, 0:n]
    f = (1 / (1 + np.exp(-(xx - n / 2) / 3.0))).reshape(-1, 1)
    mix = np.hstack([f, 1 - f]) @ e
    cov = np.exp(-0.5 * ((r[:, None] - r[None]) / 0.15) ** 2) + 0.05 * np.eye(r.size)
    cov *= r.size / np.trace(cov)
    level = np.exp(rng.uniform(0, np.log(10), n * n)) * 0.01
    noise = rng.normal(size=(n * n, r.size)) @ np.linalg.cholesky(cov).T
    return mix + level[:, None] * noise, (n, n), cov, level


def test_rank_evidence_uses_a_known_noise_model():
    x, nav, cov, level = _correlated_cube()
    ev = rank_evidence(x, nav, noise_scale=level, noise_cov=cov)
    assert ev.n_components == 2
    # the noise scale is the given one (median 1), the covariance the given one projected
    assert np.allclose(ev.noise_scale, level / np.median(level))
    basis = row_basis(x)
    assert np.allclose(ev.noise_cov / ev.calibration**2, basis.T @ cov @ basis)
    # with the true noise model the bulk of the spectrum sits on its floor
    bulk = ev.singular_values[4:60] / ev.noise_floor[4:60]
    assert 0.9 < np.median(bulk) < 1.0 and bulk.max() < 1.05


def test_rank_evidence_known_noise_leaves_out_pixels_without_level_and_checks_shapes():
    x, nav, cov, level = _correlated_cube(n=12)
    lv = level.copy()
    lv[[3, 50]] = np.nan
    ev = rank_evidence(x, nav, noise_scale=lv)
    assert not ev.used[3] and not ev.used[50] and ev.used.sum() == x.shape[0] - 2
    with pytest.raises(ValueError, match="'noise_scale'"):
        rank_evidence(x, nav, noise_scale=level[:5])
    with pytest.raises(ValueError, match="'noise_cov'"):
        rank_evidence(x, nav, noise_cov=cov[:5, :5])
