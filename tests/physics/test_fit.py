"""Closed-form N, C fit and φ(s) against analytic truths."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.fit import (
    fit_scattering_background,
    poisson_weights,
    reduced_intensity,
)

S = np.linspace(0.0, 3.0, 301)
F2 = 4.0 / (1.0 + 2.0 * S**2) ** 2 + 0.3 / (1.0 + 0.2 * S**2)  # smooth, decaying


def _truth(nav_shape, seed=0):
    rng = np.random.default_rng(seed)
    N = rng.uniform(0.5, 5.0, nav_shape)
    C = rng.uniform(-0.1, 0.3, nav_shape)
    return N, C, N[..., None] * F2 + C[..., None]


@pytest.mark.parametrize("nav_shape", [(), (3,), (2, 3)])
def test_noiseless_recovers_n_and_c_exactly(nav_shape):
    N, C, intensity = _truth(nav_shape)
    fit = fit_scattering_background(intensity, S, F2, (1.6, 2.5))
    np.testing.assert_allclose(fit.N, N, rtol=1e-10)
    np.testing.assert_allclose(fit.C, C, atol=1e-10)
    assert fit.N.shape == nav_shape
    assert np.all(fit.valid)
    np.testing.assert_allclose(fit.N_std, 0, atol=1e-8)


def test_fix_c():
    N, _, _ = _truth((4,))
    fit = fit_scattering_background(N[:, None] * F2, S, F2, (1.6, 2.5), fix_c=True)
    np.testing.assert_allclose(fit.N, N, rtol=1e-12)
    assert np.all(fit.C == 0)


def test_noisy_within_poisson_error():
    """1000 Poisson realisations: N, C unbiased and scatter matches N_std."""
    rng = np.random.default_rng(1)
    n_pix = 400  # detector pixels averaged per s-bin
    N, C = 3.0, 0.05
    mean = N * F2 + C
    counts = rng.poisson(mean * n_pix, size=(1000, S.size)) / n_pix
    fit = fit_scattering_background(counts, S, F2, (1.6, 2.5))
    sem_n = fit.N.std() / np.sqrt(fit.N.size)
    assert abs(fit.N.mean() - N) < 4 * sem_n
    assert abs(fit.C.mean() - C) < 4 * fit.C.std() / np.sqrt(fit.C.size)
    # the reported standard error matches the observed scatter within 15 %
    assert fit.N_std.mean() == pytest.approx(fit.N.std(), rel=0.15)
    # Poisson-weighted second pass: also unbiased, no worse
    model = fit.N[:, None] * F2 + fit.C[:, None]
    wfit = fit_scattering_background(
        counts, S, F2, (1.6, 2.5), weights=poisson_weights(model, n_pix)
    )
    assert abs(wfit.N.mean() - N) < 4 * wfit.N.std() / np.sqrt(wfit.N.size)
    assert wfit.N.std() <= fit.N.std() * 1.05


def test_per_pixel_f2_map():
    N, C, _ = _truth((2, 3))
    f2_map = F2 * np.linspace(0.5, 1.5, 6).reshape(2, 3, 1)
    intensity = N[..., None] * f2_map + C[..., None]
    fit = fit_scattering_background(intensity, S, f2_map, (1.6, 2.5))
    np.testing.assert_allclose(fit.N, N, rtol=1e-10)


def test_lazy_equals_eager_and_stays_lazy():
    N, C, intensity = _truth((4, 5))
    lazy = da.from_array(intensity, chunks=(2, 5, -1))
    fit_l = fit_scattering_background(lazy, S, F2, (1.6, 2.5))
    fit_e = fit_scattering_background(intensity, S, F2, (1.6, 2.5))
    assert isinstance(fit_l.N, da.Array)
    np.testing.assert_allclose(fit_l.N.compute(), fit_e.N, rtol=1e-12)
    phi_l = reduced_intensity(lazy, S, fit_l.N, fit_l.C, F2, F2)
    assert isinstance(phi_l, da.Array)
    np.testing.assert_allclose(
        phi_l.compute(), reduced_intensity(intensity, S, fit_e.N, fit_e.C, F2, F2)
    )


def test_vacuum_gives_zero_not_nan():
    intensity = np.zeros((3, S.size))
    intensity[1] = 2.0 * F2
    fit = fit_scattering_background(intensity, S, F2, (1.6, 2.5))
    assert fit.valid.tolist() == [False, True, False]
    assert np.all(np.isfinite(fit.N)) and np.all(np.isfinite(fit.N_std))
    phi = reduced_intensity(intensity, S, fit.N, fit.C, F2, F2)
    assert np.all(np.isfinite(phi))
    assert np.all(phi[[0, 2]] == 0)


def test_reduced_intensity_formula():
    """φ = s (I − N f2 − C)/(N fsq) evaluated by hand at one point."""
    fsq = 0.7 * F2
    intensity = 2.0 * F2 + 0.1 + 0.25 * fsq
    phi = reduced_intensity(intensity, S, 2.0, 0.1, F2, fsq)
    np.testing.assert_allclose(phi, S * 0.25 * fsq / (2.0 * fsq))


def test_inputs_not_modified():
    _, _, intensity = _truth((2,))
    before = intensity.copy()
    fit = fit_scattering_background(intensity, S, F2, (1.6, 2.5))
    reduced_intensity(intensity, S, fit.N, fit.C, F2, F2)
    np.testing.assert_array_equal(intensity, before)


@pytest.mark.parametrize(
    "s_range, match",
    [
        ((2.5, 1.6), "lo < hi"),
        ((1.6, 3.5), "outside the data"),
        ((-1.0, 1.0), "outside the data"),
        ((1.0, 1.005), "at least 3"),
    ],
)
def test_bad_window(s_range, match):
    with pytest.raises(ValueError, match=match):
        fit_scattering_background(np.ones(S.size), S, F2, s_range)


def test_negative_weights_rejected():
    with pytest.raises(ValueError, match="'weights'"):
        fit_scattering_background(np.ones(S.size), S, F2, (1.6, 2.5), weights=-np.ones(S.size))
