"""Property tests of ``physics.peaks.peak_basins`` and ``match_peaks``: basins of a curve's
peaks are disjoint, ordered and hold their peak; a curve matched to itself gives its own
refined maxima; a shifted curve's matches move by the shift; bad input names the parameter."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyxem_epdf.physics.peaks import find_peaks, match_peaks, peak_basins

SETTINGS = settings(max_examples=60, deadline=None)
STEP = 0.01
R = np.arange(0.0, 6.0, STEP)


@st.composite
def curves(draw, min_sep=0.0):
    """Sums of 1–5 Gaussians (any overlap) on a uniform grid, with a smooth baseline."""
    n = draw(st.integers(1, 5))
    sigma = draw(st.floats(0.08, 0.3))
    centres = sorted(draw(st.lists(st.floats(1.0, 5.0), min_size=n, max_size=n)))
    if min_sep:
        centres = [1.2 + i * min_sep * sigma for i in range(n)]
        if centres[-1] > 4.6:
            centres = centres[: int((4.6 - 1.2) / (min_sep * sigma)) + 1]
    heights = draw(st.lists(st.floats(0.3, 2.0), min_size=len(centres), max_size=len(centres)))
    slope = draw(st.floats(-0.05, 0.05))
    return np.array(centres), np.array(heights), sigma, slope


def gauss(r, centres, heights, sigma, slope, shift=0.0):
    return slope * r + sum(h * np.exp(-0.5 * ((r - c - shift) / sigma) ** 2)
                           for c, h in zip(centres, heights, strict=True))


def all_maxima(g):
    pos, _ = find_peaks(g, R, n_peaks=R.size, min_height=-np.inf)
    return pos[np.isfinite(pos)]


@SETTINGS
@given(curve=curves(), seed=st.integers(0, 2**32 - 1), amp=st.sampled_from([0.0, 1e-3, 0.02]))
def test_basins_are_disjoint_ordered_and_hold_their_peak(curve, seed, amp):
    g = gauss(R, *curve) + amp * np.random.default_rng(seed).normal(size=R.size)  # rough curves: many maxima
    pos = all_maxima(g)
    b = peak_basins(g, R, pos)
    assert b.shape == (len(pos), 2)
    assert np.all(b[:, 0] < pos) and np.all(pos < b[:, 1])
    assert np.all(b[:, 0] >= R[0]) and np.all(b[:, 1] <= R[-1])
    assert np.all(np.diff(b[:, 0]) > 0) and np.all(np.diff(b[:, 1]) > 0)
    assert np.all(b[1:, 0] >= b[:-1, 1])  # meet at most at the minimum between them


@SETTINGS
@given(curve=curves(), seed=st.integers(0, 2**32 - 1), amp=st.sampled_from([0.0, 1e-3, 0.02]))
def test_a_curve_matched_to_itself_gives_its_own_maxima(curve, seed, amp):
    g = gauss(R, *curve) + amp * np.random.default_rng(seed).normal(size=R.size)
    pos, heights = find_peaks(g, R, n_peaks=R.size, min_height=-np.inf)
    ok = np.isfinite(pos)
    got, got_h = match_peaks(g, R, peak_basins(g, R, pos[ok]))
    np.testing.assert_array_equal(got, pos[ok])
    np.testing.assert_array_equal(got_h, heights[ok])


@SETTINGS
@given(curve=curves(min_sep=6.0), shift_frac=st.floats(-0.5, 0.5))
def test_a_shifted_curve_matches_shifted_by_the_shift(curve, shift_frac):
    centres, heights, sigma, slope = curve
    shift = shift_frac * sigma
    g = gauss(R, centres, heights, sigma, 0.0)
    basins = peak_basins(g, R, all_maxima(g))
    ref, _ = match_peaks(g, R, basins)
    moved, _ = match_peaks(gauss(R, centres, heights, sigma, 0.0, shift), R, basins)
    assert np.all(np.isfinite(moved))
    np.testing.assert_allclose(moved - ref, shift, atol=0.05 * STEP)


def test_nan_positions_and_empty_basins_give_nan():
    g = gauss(R, [2.0, 3.5], [1.0, 0.5], 0.2, 0.0)
    b = peak_basins(g, R, [2.0, np.nan])
    assert np.all(np.isnan(b[1])) and np.all(np.isfinite(b[0]))
    pos, h = match_peaks(g, R, [[2.6, 2.7], [np.nan, np.nan]])  # 2.6–2.7: no maximum
    assert np.all(np.isnan(pos)) and np.all(np.isnan(h))
    pos, h = match_peaks(R.copy(), R, [[0.0, 5.0]])  # monotonic: no maximum at all
    assert np.isnan(pos[0]) and np.isnan(h[0])


@pytest.mark.parametrize("call, name", [
    (lambda g: peak_basins(g[:-1], R, [2.0]), "g_ref"),
    (lambda g: peak_basins(np.stack([g, g]), R, [2.0]), "g_ref"),
    (lambda g: peak_basins(g, R[::-1], [2.0]), "r"),
    (lambda g: peak_basins(g, R[:1], [2.0]), "r"),
    (lambda g: peak_basins(g, R, [[2.0, 3.0]]), "positions"),
    (lambda g: peak_basins(g, R, [7.0]), "positions"),
    (lambda g: peak_basins(g, R, [-1.0]), "positions"),
    (lambda g: peak_basins(g, R, [np.inf]), "positions"),
    (lambda g: match_peaks(g[:-1], R, [[1.0, 3.0]]), "'g'"),
    (lambda g: match_peaks(g, np.r_[R[:5], R[:5]], [[1.0, 3.0]]), "r"),
    (lambda g: match_peaks(g, R, [1.0, 2.0, 3.0]), "basins"),
    (lambda g: match_peaks(g, R, [[1.0, 2.0, 3.0]]), "basins"),
    (lambda g: match_peaks(g, R, [[3.0, 1.0]]), "basins"),
])
def test_bad_input_names_the_parameter(call, name):
    g = gauss(R, [2.0, 3.5], [1.0, 0.5], 0.2, 0.0)
    with pytest.raises(ValueError, match=name if name.startswith("'") else f"'{name}'"):
        call(g)
