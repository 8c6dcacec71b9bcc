"""Sub-grid peak positions and first-peak detection."""

import numpy as np
import pytest

from pyxem_epdf.physics.peaks import find_peaks, first_peak

R = np.arange(0, 8, 0.05)


def _g(centers, heights, width=0.15):
    return sum(h * np.exp(-0.5 * ((R[..., None] - c) / width) ** 2)[..., 0] for c, h in zip(centers, heights, strict=True))


def test_subgrid_precision():
    """Off-grid, well-separated peaks found to < 0.1 of the grid step (0.005 Å)."""
    centers = [1.613, 2.627, 4.104]
    g = _g(centers, [1.0, 2.0, 1.5])
    pos, h = find_peaks(g, R, n_peaks=3)
    np.testing.assert_allclose(pos, centers, atol=0.005)
    np.testing.assert_allclose(h, [1.0, 2.0, 1.5], rtol=0.01)


def test_navigation_and_padding():
    g = np.stack([_g([2.0], [1.0]), _g([2.0, 5.0], [1.0, 0.5])])
    pos, h = find_peaks(g, R, n_peaks=3)
    assert pos.shape == (2, 3)
    assert np.isnan(pos[0, 1:]).all() and np.isnan(pos[1, 2])
    np.testing.assert_allclose(pos[1, :2], [2.0, 5.0], atol=0.005)


def test_first_peak_skips_small_wiggles():
    g = _g([1.0, 1.6, 2.6], [0.05, 1.0, 3.0])
    p, h = first_peak(g, R, r_range=(0.5, 3.0), min_fraction=0.2)
    assert p == pytest.approx(1.6, abs=0.005)
    assert h == pytest.approx(1.0, rel=0.01)


def test_first_peak_none():
    p, h = first_peak(np.zeros((2, R.size)), R)
    assert np.isnan(p).all() and np.isnan(h).all()


def test_errors():
    with pytest.raises(ValueError, match="'n_peaks'"):
        find_peaks(np.zeros(R.size), R, n_peaks=0)
    with pytest.raises(ValueError, match="'r_range'"):
        find_peaks(np.zeros(R.size), R, r_range=(5, 20))


class TestPeakWidths:
    def test_gaussian_fwhm(self):
        from pyxem_epdf.physics.peaks import find_peaks, peak_widths

        r = np.arange(0, 8, 0.01)
        g = np.exp(-0.5 * ((r - 2.0) / 0.1) ** 2) + 0.7 * np.exp(-0.5 * ((r - 4.3) / 0.25) ** 2)
        stack = np.stack([g, 2 * g, np.roll(g, 50)]).reshape(3, 1, -1)
        pos, h = find_peaks(stack, r, n_peaks=2)
        w = peak_widths(stack, r, pos, h)
        assert w.shape == (3, 1, 2)
        np.testing.assert_allclose(w[..., 0], 2.35482 * 0.1, rtol=0.01)
        np.testing.assert_allclose(w[..., 1], 2.35482 * 0.25, rtol=0.01)

    def test_nan_and_edge(self):
        from pyxem_epdf.physics.peaks import peak_widths

        r = np.arange(0, 5, 0.01)
        g = np.exp(-0.5 * ((r - 0.02) / 0.3) ** 2)  # left crossing outside the grid
        w = peak_widths(g, r, np.array([0.02, np.nan]), np.array([1.0, 1.0]))
        assert np.isnan(w).all()
