"""fit_scattering_background(..., N=...): only C fitted, against the analytic model."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.fit import (
    check_fixed_n,
    fit_scattering_background,
    flag_outliers,
)
from pyxem_epdf.physics.scattering import mean_scattering

S = np.linspace(0.05, 3.0, 296)
F2, FSQ = mean_scattering({"Si": 1 / 3, "O": 2 / 3}, S)
WINDOW = (1.6, 2.5)


def model(nav_shape, seed=0):
    rng = np.random.default_rng(seed)
    N0 = rng.uniform(50, 150, nav_shape)
    C0 = rng.uniform(-0.2, 0.3, nav_shape)
    return N0[..., None] * F2 + C0[..., None], N0, C0


@pytest.mark.parametrize("nav_shape", [(), (4,), (2, 3)])
def test_c_recovered_exactly_with_true_n(nav_shape):
    intensity, N0, C0 = model(nav_shape)
    res = fit_scattering_background(intensity, S, F2, WINDOW, N=N0)
    np.testing.assert_allclose(res.N, N0, rtol=0, atol=0)
    np.testing.assert_allclose(res.C, C0, rtol=1e-12, atol=1e-12)
    assert np.all(res.N_std == 0)
    assert np.shape(res.C) == nav_shape and np.shape(res.N_std) == nav_shape
    assert np.all(res.reduced_chi2 < 1e-20) and np.all(res.valid)


def test_scalar_n_broadcast_and_c_is_weighted_mean_of_residual():
    rng = np.random.default_rng(3)
    intensity = 80.0 * F2 + 0.1 + rng.normal(0, 0.05, (5, S.size))
    w = rng.uniform(0.5, 2.0, S.size)
    res = fit_scattering_background(intensity, S, F2, WINDOW, weights=w, N=80.0)
    win = (S >= WINDOW[0]) & (S <= WINDOW[1])
    expected = ((intensity - 80.0 * F2)[:, win] * w[win]).sum(-1) / w[win].sum()
    np.testing.assert_allclose(res.C, expected, rtol=1e-12)
    np.testing.assert_array_equal(res.N, np.full(5, 80.0))
    resid = (intensity - 80.0 * F2 - expected[:, None])[:, win]
    chi2 = (resid**2 * w[win]).sum(-1) / (win.sum() - 1)  # one parameter: C
    np.testing.assert_allclose(res.reduced_chi2, chi2, rtol=1e-10)
    np.testing.assert_allclose(res.C_std, np.sqrt(chi2 / w[win].sum()), rtol=1e-10)


def test_wrong_n_shifts_c_only_by_the_window_mean():
    intensity, N0, C0 = model((3,))
    res = fit_scattering_background(intensity, S, F2, WINDOW, N=1.1 * N0)
    win = (S >= WINDOW[0]) & (S <= WINDOW[1])
    np.testing.assert_allclose(res.C, C0 - 0.1 * N0 * F2[win].mean(), rtol=1e-12)


def test_fix_c_and_n_fits_nothing():
    intensity, N0, C0 = model((2, 2))
    res = fit_scattering_background(intensity - C0[..., None], S, F2, WINDOW, N=N0, fix_c=True)
    assert np.all(res.C == 0) and np.all(res.C_std == 0) and np.all(res.N_std == 0)
    np.testing.assert_array_equal(res.N, N0)
    assert np.all(res.reduced_chi2 < 1e-20)
    # a wrong C shows up in χ² with n degrees of freedom
    res = fit_scattering_background(intensity, S, F2, WINDOW, N=N0, fix_c=True)
    np.testing.assert_allclose(res.reduced_chi2, C0**2, rtol=1e-10)


def test_free_fit_agrees_with_fixed_n_at_its_own_n():
    rng = np.random.default_rng(1)
    intensity = model((6,))[0] + rng.normal(0, 0.02, (6, S.size))
    free = fit_scattering_background(intensity, S, F2, WINDOW)
    fixed = fit_scattering_background(intensity, S, F2, WINDOW, N=free.N)
    np.testing.assert_allclose(fixed.C, free.C, rtol=1e-9)


@pytest.mark.parametrize("fix_c", [False, True])
def test_lazy_equals_eager(fix_c):
    intensity, N0, _ = model((4, 3))
    eager = fit_scattering_background(intensity, S, F2, WINDOW, N=N0, fix_c=fix_c)
    for n in (N0, da.from_array(N0, chunks=(2, 3))):
        lazy = fit_scattering_background(da.from_array(intensity, chunks=(2, 3, -1)), S, F2,
                                         WINDOW, N=n, fix_c=fix_c)
        assert hasattr(lazy.C, "dask")
        for name in ("N", "C", "N_std", "C_std", "reduced_chi2", "valid"):
            np.testing.assert_allclose(np.asarray(getattr(lazy, name)),
                                       np.asarray(getattr(eager, name)), rtol=1e-12, atol=0)


def test_non_finite_pattern_is_invalid_with_fixed_n():
    intensity, N0, _ = model((3,))
    intensity[1, 10] = np.nan
    res = fit_scattering_background(intensity, S, F2, WINDOW, N=N0)
    assert res.valid.tolist() == [True, False, True]
    assert res.N[1] == 0 and res.C[1] == 0


def test_outlier_test_skips_fixed_n():
    rng = np.random.default_rng(2)
    N0 = rng.uniform(50, 60, 20)
    N0[4] = 5000.0  # a user map with an extreme value is no fit outlier
    intensity = N0[:, None] * F2 + rng.normal(0, 0.01, (20, S.size))
    res = fit_scattering_background(intensity, S, F2, WINDOW, N=N0)
    _, outlier, z_n, _ = flag_outliers(res, test_n=False)
    assert not outlier.any() and np.all(z_n == 0)
    _, outlier, z_n, _ = flag_outliers(res)
    assert outlier[4] and z_n[4] > 8


@pytest.mark.parametrize(
    ("N", "error", "match"),
    [
        (0.0, ValueError, r"'N' must be finite and > 0.*min 0"),
        (-2.0, ValueError, r"'N' must be finite and > 0.*min -2"),
        (np.nan, ValueError, r"'N' must be finite and > 0.*1 of 1 non-finite"),
        (np.inf, ValueError, r"'N' must be finite"),
        (np.array([1.0, 2.0]), ValueError, r"'N' of shape \(2,\) must be .*shape \(2, 3\)"),
        (np.ones((3, 2)), ValueError, r"'N' of shape \(3, 2\)"),
        ("80", TypeError, r"'N' must be a number"),
        (True, TypeError, r"'N' must be a number"),
        ([1.0, "a", 2.0], TypeError, r"'N' must be a number"),
    ],
)
def test_bad_n(N, error, match):
    intensity = model((2, 3))[0]
    with pytest.raises(error, match=match):
        fit_scattering_background(intensity, S, F2, WINDOW, N=N)


def test_check_fixed_n_broadcasts_and_does_not_alias():
    n = np.array([[1.0], [2.0]])
    out = check_fixed_n(n, (2, 3))
    assert out.shape == (2, 3) and out.flags.writeable
    out[0, 0] = 9.0
    assert n[0, 0] == 1.0
    lazy = check_fixed_n(da.from_array(np.array([1.0, -1.0])), (2,))
    assert hasattr(lazy, "dask")  # values of a dask map are not computed here


def test_input_unchanged():
    intensity, N0, _ = model((3,))
    before, n_before = intensity.copy(), N0.copy()
    fit_scattering_background(intensity, S, F2, WINDOW, N=N0)
    np.testing.assert_array_equal(intensity, before)
    np.testing.assert_array_equal(N0, n_before)
