"""Error-function interface fit."""

import numpy as np
import pytest

from pyxem_epdf.physics.interface import Z90, erf_step, fit_interface


@pytest.mark.parametrize("amplitude", [1.0, -0.8])
def test_exact(amplitude):
    x = np.linspace(-30, 30, 61)
    fit = fit_interface(x, erf_step(x, 4.0, 3.0, amplitude, 0.1))
    assert fit.center == pytest.approx(4.0, abs=1e-6)
    assert fit.width_10_90 == pytest.approx(2 * Z90 * 3.0, rel=1e-6)
    assert fit.amplitude == pytest.approx(amplitude, rel=1e-6)


def test_noisy_with_consistent_uncertainty():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 100, 41)  # nm, 2.5 nm steps
    truth_width = 10.0
    y = erf_step(x, 47.0, truth_width / (2 * Z90), 1.0, 0.0) + 0.05 * rng.normal(size=x.size)
    fit = fit_interface(x, y)
    assert abs(fit.width_10_90 - truth_width) < 4 * fit.width_10_90_err
    assert abs(fit.center - 47.0) < 4 * fit.center_err
    assert fit.width_10_90_err < 3.0
    assert fit.residual_rms == pytest.approx(0.05, rel=0.4)


def test_unsorted_input_and_given_sigma():
    x = np.linspace(-10, 10, 21)
    y = erf_step(x, 0.0, 2.0, 1.0, 0.0)
    perm = np.random.default_rng(1).permutation(x.size)
    fit = fit_interface(x[perm], y[perm], sigma=np.full(x.size, 0.01))
    assert fit.center == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    "x, y, match",
    [
        (np.arange(4.0), np.arange(4.0), "at least 5 points"),
        (np.arange(6.0), np.ones(6), "no step"),
        (np.arange(6.0), np.array([0, 0, np.nan, 1, 1, 1.0]), "finite"),
        (np.arange(6.0), np.arange(5.0), "equal length"),
    ],
)
def test_errors(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_interface(x, y)


def test_failed_fit_gives_nan_with_a_reason():
    """Noise with a faint step: curve_fit fails; NaN and a reason, no SciPy exception."""
    rng = np.random.default_rng(0)
    y = rng.normal(size=12)
    y[-3:] += 0.3
    fit = fit_interface(np.arange(12.0), y)
    assert "did not converge" in fit.reason
    assert np.isnan(fit.width_10_90) and np.isnan(fit.center)


def test_edge_wider_than_profile_is_flagged():
    x = np.linspace(-5, 5, 21)
    fit = fit_interface(x, erf_step(x, 0.0, 20.0, 1.0, 0.0))
    assert "wider than the profile" in fit.reason
