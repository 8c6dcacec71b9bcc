"""Mu polynomial, damping and low-s extrapolation against exact expectations."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.corrections import (
    apply_envelope,
    exponential_damping,
    extrapolate_low_s,
    fit_polynomial_correction,
    lorch_damping,
    polynomial_baseline,
)

S = np.linspace(0.0, 2.8, 281)


def test_polynomial_is_zero_at_ends_and_fourth_order():
    p = polynomial_baseline([0.3, -0.2, 0.05], S, 2.8)
    assert p[0] == 0 and abs(p[-1]) < 1e-12
    # 4th-order: the 5th finite difference of an exact quartic vanishes
    assert np.max(np.abs(np.diff(p, 5))) < 1e-10


@pytest.mark.parametrize("nav_shape", [(), (3,), (2, 3)])
def test_injected_polynomial_removed_exactly(nav_shape):
    rng = np.random.default_rng(0)
    coefs = rng.normal(size=nav_shape + (3,))
    signal = np.sin(2 * np.pi * 1.9 * S) * np.exp(-S)  # oscillating "structure"
    phi = signal + polynomial_baseline(coefs, S, 2.8)
    # on a pure polynomial the fit is exact
    pure = polynomial_baseline(coefs, S, 2.8)
    np.testing.assert_allclose(fit_polynomial_correction(pure, S), coefs, atol=1e-10)
    # with structure present, the residual difference is the structure's own projection
    proj = fit_polynomial_correction(signal, S)
    np.testing.assert_allclose(
        fit_polynomial_correction(phi, S), coefs + proj, atol=1e-10
    )


def test_polynomial_lazy_equals_eager():
    rng = np.random.default_rng(1)
    phi = rng.normal(size=(4, 6, S.size))
    lazy = da.from_array(phi, chunks=(2, 3, -1))
    c = fit_polynomial_correction(lazy, S, s_range=(0.2, 2.8))
    assert isinstance(c, da.Array)
    np.testing.assert_allclose(c.compute(), fit_polynomial_correction(phi, S, s_range=(0.2, 2.8)))


def test_polynomial_s_max_checks():
    with pytest.raises(ValueError, match="'s_max'"):
        fit_polynomial_correction(np.ones(S.size), S, s_max=3.5)
    with pytest.raises(ValueError, match="'s_range'"):
        fit_polynomial_correction(np.ones(S.size), S, s_max=2.0, s_range=(0.5, 2.5))


def test_exponential_damping_values_and_errors():
    np.testing.assert_allclose(exponential_damping(S, 0.8), np.exp(-0.8 * S**2))
    assert np.all(exponential_damping(S, 0.0) == 1)
    with pytest.raises(ValueError, match="'b' must be .* >= 0"):
        exponential_damping(S, -0.1)


def test_lorch():
    w = lorch_damping(S, 2.0)
    assert w[0] == 1.0
    np.testing.assert_allclose(w[100], np.sin(np.pi * 0.5) / (np.pi * 0.5))
    assert np.all(w[S > 2.0] == 0)
    with pytest.raises(ValueError, match="'s_max'"):
        lorch_damping(S, 0)


def test_extrapolation_is_linear_to_zero_and_keeps_rest():
    phi = np.cos(S) + 5.0 * (S < 0.18)  # "direct beam" below s_min
    out = extrapolate_low_s(phi, S, 0.18)
    below = S < 0.18
    np.testing.assert_allclose(out[below], np.cos(0.18) * S[below] / 0.18, rtol=1e-3)
    np.testing.assert_array_equal(out[~below], phi[~below])
    assert out[0] == 0


def test_extrapolation_interpolates_between_bins():
    phi = S.copy()  # φ = s: the extrapolated line is φ itself, for any s_min
    for s_min in (0.151, 0.155, 0.159):
        np.testing.assert_allclose(extrapolate_low_s(phi, S, s_min), phi, atol=1e-12)


def test_extrapolation_errors_and_no_mutation():
    phi = np.ones((2, S.size))
    before = phi.copy()
    extrapolate_low_s(phi, S, 0.5)
    np.testing.assert_array_equal(phi, before)
    with pytest.raises(ValueError, match=r"'s_min' must lie in \[0, 2.8\)"):
        extrapolate_low_s(phi, S, 3.0)
    with pytest.raises(ValueError, match="'s_min' must lie in"):
        extrapolate_low_s(phi[:, 10:], S[10:], 0.05)
    with pytest.raises(TypeError, match="'s_min' must be a number"):
        extrapolate_low_s(phi, S, None)


def test_extrapolation_at_first_sample_is_identity_copy():
    phi = np.random.default_rng(2).normal(size=(3, S.size - 17))
    out = extrapolate_low_s(phi, S[17:], S[17])
    np.testing.assert_array_equal(out, phi)
    assert out is not phi and not np.shares_memory(out, phi)
    lazy = extrapolate_low_s(da.from_array(phi), S[17:], S[17])
    np.testing.assert_array_equal(lazy.compute(), phi)
    # s_min = 0 on an axis from 0 is the same: nothing to replace
    np.testing.assert_array_equal(extrapolate_low_s(np.ones(S.size), S, 0.0), np.ones(S.size))


def test_polynomial_s_max_up_to_outer_edge():
    s = (np.arange(70) + 0.5) * 2.5 / 70  # bin centres of 70 bins to 2.5
    phi = polynomial_baseline([1.0, -0.5, 0.25], s, 2.5)
    np.testing.assert_allclose(fit_polynomial_correction(phi, s, s_max=2.5),
                               [1.0, -0.5, 0.25], atol=1e-9)
    with pytest.raises(ValueError, match=r"'s_max' must lie in \(.*, 2.5\]"):
        fit_polynomial_correction(phi, s, s_max=2.52)


@pytest.mark.parametrize("bad", [None, "strong", [0.8], True])
def test_b_type_errors(bad):
    with pytest.raises(TypeError, match="'b' must be a number in Å²"):
        exponential_damping(S, bad)


def test_envelope_lazy():
    phi = np.ones((2, 3, S.size))
    env = exponential_damping(S, 1.0)
    out = apply_envelope(da.from_array(phi), env)
    assert isinstance(out, da.Array)
    np.testing.assert_allclose(out.compute(), phi * env)
