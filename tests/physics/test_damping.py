"""Damping choice: metrics and the suggested b."""

import numpy as np
import pytest

from pyxem_epdf.physics.damping import damping_metrics, suggest_damping
from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity

S = np.arange(0.01, 2.5, 0.01)
PHI = gaussian_peaks_reduced_intensity(S, [1.6, 2.6, 3.1, 4.2], [1.0, 1.5, 1.0, 2.0],
                                       [0.06, 0.1, 0.12, 0.2])


def noisy(level, n=40, seed=0):
    """φ noise grows like s, as φ = s (I − N⟨f²⟩ − C)/(N⟨f⟩²) makes it."""
    return PHI + level * S * np.random.default_rng(seed).normal(size=(n, S.size))


def test_noisier_data_need_more_damping():
    quiet = suggest_damping(noisy(0.02), S, s_min=0.2)    # region-summed-like
    loud = suggest_damping(noisy(0.15), S, s_min=0.2)     # per-pixel-like
    clean = suggest_damping(PHI, S, s_min=0.2)
    assert clean.b <= quiet.b < loud.b <= 1.5
    assert 0 < loud.b
    assert "FWHM" in loud.criterion


def test_metrics_monotone_in_b():
    m = damping_metrics(noisy(0.1), S, [0.0, 0.3, 0.6, 0.9, 1.2], s_min=0.2)
    noise = np.median(m.high_r_noise, axis=1)
    assert np.all(np.diff(noise) < 0)
    width = np.median(m.first_peak_width, axis=1)
    assert width[-1] > width[0]
    assert m.high_r_noise.shape == (5, 40)


def test_unreachable_tolerance_returns_largest():
    res = suggest_damping(noisy(1.0), S, s_min=0.2, b_values=[0.0, 0.1], tolerance=1e-4)
    assert res.b == 0.1 and "largest b returned" in res.criterion


def test_plot():
    import matplotlib.pyplot as plt

    ax = suggest_damping(noisy(0.1), S, s_min=0.2).plot()
    assert len(ax.lines) == 4
    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"b_values": [-0.1, 0.5]}, "'b_values' must be"),
        ({"b_values": []}, "'b_values' must be"),
        ({"s_min": 3.0}, "'s_min' must lie inside"),
        ({"tolerance": 0.0}, "'tolerance' must be > 0"),
        ({"high_r": (15.0, 30.0)}, "'high_r' must satisfy"),
        ({"high_r": (15.0, 20.0), "r_max": 30.0, "s": S[::3]}, "aliasing limit"),
    ],
)
def test_errors(kwargs, match):
    kw = {"s_min": 0.2, **kwargs}
    s = kw.pop("s", S)
    with pytest.raises(ValueError, match=match):
        suggest_damping(PHI[:: S.size // s.size] if s is not S else PHI, s, **kw)
