"""fit_scattering_background(..., c_pool=...): C = κN with κ pooled over the scan or a neighbourhood."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.fit import (
    POOL_REJECT,
    check_c_pool,
    fit_scattering_background,
    pooled_gradients,
)

S = np.linspace(0.0, 3.0, 301)
F2 = 1.0 / (1.0 + S**2)
WINDOW = (1.6, 2.5)


def _scan(noise=0.05, seed=0, shape=(12, 10), kappa=0.03):
    rng = np.random.default_rng(seed)
    N = rng.uniform(2.0, 6.0, shape)
    lam = N[..., None] * (F2 + kappa)
    return N, lam, rng.normal(lam, noise) if noise else lam


@pytest.mark.parametrize("c_pool", [3, 5, "scan"])
def test_exact_on_a_common_ratio(c_pool):
    N, _, intensity = _scan(noise=0)
    res = fit_scattering_background(intensity, S, F2, WINDOW, c_pool=c_pool)
    np.testing.assert_allclose(res.N, N, rtol=1e-10)
    np.testing.assert_allclose(res.C_over_N, 0.03, rtol=1e-9)
    assert res.pooled.all() and res.valid.all()


def test_single_pattern_and_c_pool_1_are_the_free_fit():
    _, _, intensity = _scan()
    free = fit_scattering_background(intensity, S, F2, WINDOW)
    one = fit_scattering_background(intensity, S, F2, WINDOW, c_pool=1)
    np.testing.assert_array_equal(one.N, free.N)
    single = fit_scattering_background(intensity[0, 0], S, F2, WINDOW, c_pool="scan")
    assert float(single.N) == pytest.approx(float(free.N[0, 0]), rel=1e-12)


def test_pooling_shrinks_the_spread_and_n_std_matches_it():
    N, lam, _ = _scan()
    rng = np.random.default_rng(1)
    draws = {"free": [], "scan": []}
    for _ in range(200):
        x = rng.normal(lam, 0.05)
        draws["free"].append(fit_scattering_background(x, S, F2, WINDOW).N)
        draws["scan"].append(fit_scattering_background(x, S, F2, WINDOW, c_pool="scan").N)
    spread = {k: np.std(np.array(v), axis=0) for k, v in draws.items()}
    assert np.median(spread["scan"] / spread["free"]) < 0.5
    res = fit_scattering_background(rng.normal(lam, 0.05), S, F2, WINDOW, c_pool="scan")
    assert 0.85 < np.median(spread["scan"] / res.N_std) < 1.15


def test_a_pattern_whose_data_reject_the_ratio_keeps_its_free_fit():
    N, _, intensity = _scan(noise=0.01)
    intensity = intensity.copy()
    intensity[3, 4] += 0.5  # a detector offset on one pattern only
    res = fit_scattering_background(intensity, S, F2, WINDOW, c_pool="scan")
    free = fit_scattering_background(intensity, S, F2, WINDOW)
    assert not res.pooled[3, 4] and res.pooled.sum() == res.pooled.size - 1
    assert res.N[3, 4] == free.N[3, 4]
    assert POOL_REJECT > 0


@pytest.mark.parametrize("c_pool", [5, "scan"])
def test_lazy_equals_eager(c_pool):
    _, _, intensity = _scan()
    eager = fit_scattering_background(intensity, S, F2, WINDOW, c_pool=c_pool)
    lazy = fit_scattering_background(da.from_array(intensity, chunks=(5, 4, -1)), S, F2, WINDOW,
                                     c_pool=c_pool)
    for name in ("N", "C", "N_std", "C_std", "reduced_chi2", "C_over_N", "pooled"):
        np.testing.assert_allclose(np.asarray(getattr(lazy, name).compute(), float),
                                   np.asarray(getattr(eager, name), float), rtol=1e-12)


def test_non_finite_patterns_stay_out_of_the_pool():
    N, _, intensity = _scan(noise=0)
    intensity = intensity.copy()
    intensity[0, 0, 5] = np.nan
    res = fit_scattering_background(intensity, S, F2, WINDOW, c_pool="scan")
    assert not res.valid[0, 0] and res.N[0, 0] == 0
    np.testing.assert_allclose(res.N[1:], N[1:], rtol=1e-10)


def test_gradients_reproduce_the_fit():
    _, _, intensity = _scan()
    res = fit_scattering_background(intensity, S, F2, WINDOW, c_pool="scan")
    a, c = pooled_gradients(S, F2, WINDOW, res.C_over_N, res.pooled)
    np.testing.assert_allclose((a * intensity).sum(-1), res.N, rtol=1e-10)
    np.testing.assert_allclose((c * intensity).sum(-1), res.C, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("bad", [0, 4, -1, 2.0, True, "all"])
def test_bad_c_pool(bad):
    with pytest.raises(ValueError, match="'c_pool' must be 'scan', 'affine' or an odd integer"):
        check_c_pool(bad)


def _offset_scan(noise=0.05, seed=0, shape=(12, 10), kappa=0.03, offset=0.2):
    rng = np.random.default_rng(seed)
    N = rng.uniform(2.0, 6.0, shape)
    lam = N[..., None] * (F2 + kappa) + offset
    return N, lam, rng.normal(lam, noise) if noise else lam


def test_affine_exact_on_an_offset_plus_common_ratio():
    N, _, intensity = _offset_scan(noise=0)
    res = fit_scattering_background(intensity, S, F2, WINDOW, c_pool="affine")
    np.testing.assert_allclose(res.N, N, rtol=1e-10)
    np.testing.assert_allclose(res.C, 0.03 * N + 0.2, rtol=1e-10)
    np.testing.assert_allclose(res.C_over_N, 0.03, rtol=1e-8)
    np.testing.assert_allclose(res.C_offset, 0.2, rtol=1e-8)
    assert res.pooled.all() and res.valid.all()
    # one C/N for the scan cannot hold a constant offset: its noiseless patterns keep the free fit
    assert not fit_scattering_background(intensity, S, F2, WINDOW, c_pool="scan").pooled.any()


def test_affine_removes_the_thickness_bias_of_a_scan_wide_ratio():
    N, lam, intensity = _offset_scan(noise=0.03, offset=0.3, shape=(20, 20))
    scan = fit_scattering_background(intensity, S, F2, WINDOW, c_pool="scan")
    affine = fit_scattering_background(intensity, S, F2, WINDOW, c_pool="affine")
    thin = N < np.percentile(N, 20)
    # C = κN under-fits the offset of thin patterns: their N comes out high
    assert np.mean(scan.N[thin] / N[thin]) > 1.02
    assert abs(np.mean(affine.N[thin] / N[thin]) - 1) < 0.01
    assert np.std(affine.N / N) < np.std(
        fit_scattering_background(intensity, S, F2, WINDOW).N / N)


def test_affine_lazy_equals_eager_and_gradients():
    _, _, intensity = _offset_scan(shape=(6, 8))
    eager = fit_scattering_background(intensity, S, F2, WINDOW, c_pool="affine")
    lazy = fit_scattering_background(da.from_array(intensity, chunks=(3, 4, -1)), S, F2, WINDOW,
                                     c_pool="affine")
    assert hasattr(lazy.N, "dask")
    for name in ("N", "C", "N_std", "C_std", "C_offset", "C_over_N", "reduced_chi2"):
        np.testing.assert_allclose(np.asarray(getattr(lazy, name).compute()),
                                   getattr(eager, name), rtol=1e-12, atol=1e-15)
    # a, κ held fixed: pooled_gradients is the refit's response of one pattern to a bump
    # in its own I (to O(1/m): the pattern's own share of the scan-wide a, κ)
    a, c = pooled_gradients(S, F2, WINDOW, eager.C_over_N, eager.pooled)
    j = np.searchsorted(S, 2.0)
    bumped = intensity.copy()
    bumped[2, 3, j] += 1e-4
    refit = fit_scattering_background(bumped, S, F2, WINDOW, c_pool="affine")
    grad = np.broadcast_to(a, intensity.shape)[2, 3, j]
    grad_c = np.broadcast_to(c, intensity.shape)[2, 3, j]
    np.testing.assert_allclose((refit.N[2, 3] - eager.N[2, 3]) / 1e-4, grad, rtol=0.05)
    np.testing.assert_allclose((refit.C[2, 3] - eager.C[2, 3]) / 1e-4, grad_c, rtol=0.3)
