"""Peak positions against analytic truths: sub-sample refinement, basins and
basin matching (the peak check of ``benchmarks/accuracy_route.py``)."""

import numpy as np
import pytest

from pyxem_epdf.physics.peaks import find_peaks, match_peaks, peak_basins

R = np.arange(0.0, 10.0, 0.01)  # the chain's 0.01 Å grid


def gauss(c, s, h):
    return h * np.exp(-0.5 * ((R - c) / s) ** 2)


def test_parabolic_vertex_resolves_well_below_the_grid():
    """Centres off the 0.01 Å grid come back to < 1e-3 Å (the vertex of the
    parabola through the top three samples; the grid alone would give 5e-3)."""
    centres = np.array([1.3737, 2.6012, 4.9151, 6.4368])
    g = sum(gauss(c, s, h) for c, s, h in zip(centres, [0.08, 0.12, 0.25, 0.3],
                                               [2.0, 1.3, 0.3, 0.2], strict=True))
    pos, _ = find_peaks(g, R, r_range=(1, 8), n_peaks=4)
    assert np.max(np.abs(pos - centres)) < 1e-3


def test_basins_are_bounded_by_the_nearest_minima():
    g = gauss(2.0, 0.2, 1.0) + gauss(3.0, 0.2, 1.0) + gauss(5.0, 0.3, 0.5)
    basins = peak_basins(g, R, [2.0, 3.0, 5.0, np.nan])
    np.testing.assert_allclose(basins[0], [R[0], 2.5], atol=0.011)
    np.testing.assert_allclose(basins[1, 0], 2.5, atol=0.011)
    assert 3.0 < basins[1, 1] < 5.0 and basins[1, 1] == basins[2, 0]
    assert basins[2, 1] == R[-1]  # no minimum above: the grid end
    assert np.isnan(basins[3]).all()


def test_a_low_true_peak_is_found_where_a_count_cut_drops_it():
    """Truth: a low broad peak at 6.44 Å (height 0.05) and a strong peak at 1.6 Å
    carrying 18 wiggles higher than it. The 12 highest maxima (the cut the peak
    check used before) miss 6.44 Å and the nearest of them is 1.6+ Å away; the
    maximum in its own basin is found within 0.01 Å, under weak noise too."""
    rng = np.random.default_rng(0)
    ripple = 0.08 * np.sin(2 * np.pi * R / 0.1) * (R > 1.2) * (R < 3.0)
    truth = gauss(1.6, 0.1, 2.0) + gauss(6.44, 0.35, 0.05) + 0.3
    g = truth + ripple + rng.normal(0, 1e-5, R.size)
    top12, _ = find_peaks(g, R, r_range=(1, 8), n_peaks=12)
    assert np.nanmin(np.abs(top12 - 6.44)) > 1.0
    basins = peak_basins(truth, R, [1.6, 6.44])
    pos, h = match_peaks(g, R, basins)
    assert abs(pos[1] - 6.44) < 0.01 and abs(h[1] - 0.35) < 0.01


def test_a_wiggle_near_the_reference_is_not_the_peak():
    """A small wiggle 0.01 Å from the reference position, the curve's real peak
    0.2 Å away in the same basin: the match is the real peak (nearest-maximum
    matching took the wiggle, 0.01 Å)."""
    ref = gauss(4.0, 0.3, 1.0)
    g = gauss(4.2, 0.3, 1.0) + gauss(4.01, 0.01, 0.05)
    pos, _ = match_peaks(g, R, peak_basins(ref, R, [4.0]))
    assert abs(pos[0] - 4.2) < 2e-3
    all_max, _ = find_peaks(g, R, n_peaks=50)
    assert np.nanmin(np.abs(all_max - 4.0)) < 0.02  # what the old rule matched


def test_a_vanished_peak_is_missing_not_the_neighbour():
    """A weak peak (prominence 1 % of its neighbour's) absent from the curve:
    NaN, not the neighbour's position 0.7 Å away."""
    ref = gauss(4.6, 0.15, 1.0) + gauss(5.3, 0.1, 0.05)
    g = gauss(4.6, 0.15, 1.0) - 0.05 * R  # monotonic past 4.6
    basins = peak_basins(ref, R, [4.6, 5.3])
    pos, _ = match_peaks(g, R, basins)
    assert abs(pos[0] - 4.6) < 0.01 and np.isnan(pos[1])


def test_noise_jitter_of_a_broad_peak_follows_the_linear_prediction():
    """Position scatter of a broad peak under white noise of σ per sample,
    smoothed to the chain's ~0.1 Å correlation: σ_pos ≈ σ(ε')/|G''| (the
    estimate benchmarks/bench_peaks.py uses on the route's cubes)."""
    rng = np.random.default_rng(1)
    truth = gauss(6.44, 0.3, 0.3)
    basins = peak_basins(truth, R, [6.44])
    kernel = np.exp(-0.5 * (np.arange(-30, 31) * 0.01 / 0.05) ** 2)
    kernel /= np.sqrt((kernel**2).sum())
    noise = np.array([np.convolve(rng.normal(0, 0.01, R.size), kernel, "same")
                      for _ in range(400)])
    pos = np.array([match_peaks(truth + e, R, basins)[0][0] for e in noise])
    i = int(round(6.44 / 0.01))
    d1 = (noise[:, i + 1] - noise[:, i - 1]) / 0.02
    curv = (truth[i + 1] - 2 * truth[i] + truth[i - 1]) / 1e-4
    predicted = d1.std() / abs(curv)
    assert abs(np.mean(pos) - 6.44) < 3 * predicted / np.sqrt(len(pos))  # unbiased
    assert 0.8 < np.std(pos) / predicted < 1.25


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="'g_ref'"):
        peak_basins(np.ones(5), R, [1.0])
    with pytest.raises(ValueError, match="'g'"):
        match_peaks(np.ones(5), R, [[0.0, 1.0]])
