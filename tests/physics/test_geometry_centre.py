"""Pattern centres: first-harmonic Fisher scoring, its accuracy against the Cramér–Rao bound
and against independent ring fits."""

import dask.array as da
import numpy as np
import pytest
from scipy import ndimage as ndi
from scipy.optimize import least_squares

from pyxem_epdf import data
from pyxem_epdf.physics import calibration as cal
from pyxem_epdf.physics.geometry import (
    centre_bound,
    ellipse_matrix,
    refine_ring_centre,
    ring_centre,
)


def _rings(c, size=128, a=None, scale=1.0):
    """Expected counts of two amorphous-like rings on a decaying background about c."""
    y, x = np.mgrid[:size, :size]
    d = np.stack([x - c[0], y - c[1]])
    if a is not None:
        d = np.einsum("ij,jyx->iyx", a, d)
    r = np.hypot(*d)
    return scale * (0.3 + 2 * np.exp(-0.5 * ((r - 30) / 4) ** 2)
                    + np.exp(-0.5 * ((r - 48) / 5) ** 2) + 3 * np.exp(-r / 12))


def _rod(c, size=128, radius=10, width=4):
    y, x = np.mgrid[:size, :size]
    return (np.hypot(x - c[0], y - c[1]) < radius) | ((np.abs(y - c[1]) < width) & (x > c[0]))


@pytest.mark.parametrize("a", [None, ellipse_matrix(1.03, 25.0)])
def test_refine_noiseless_with_a_rod_beam_stop_and_distortion(a):
    c = (64.37, 61.81)
    img = _rings(c, a=a)
    stop = _rod((63.5, 63.5))        # fixed on the detector, not on the pattern centre
    img[stop] = 0.0
    got = refine_ring_centre(img, (12, 58), (62.9, 63.2), mask=stop, distortion=a)
    np.testing.assert_allclose(got, c, atol=5e-3)
    # without the mask the dark rod pulls the centre away (by 0.1 px)
    assert np.hypot(*(refine_ring_centre(img, (12, 58), (62.9, 63.2), distortion=a) - c)) > 0.05


def test_saturated_disc_with_a_bloom_streak_is_masked_out():
    c = (61.2, 66.7)
    y, x = np.mgrid[:128, :128]
    img = _rings(c, scale=50.0)
    disc = np.hypot(x - c[0], y - c[1]) < 9
    img[disc] = 5e4
    img[:, 61][y[:, 61] < 66] = 5e4          # read-out bloom up one column (asymmetric)
    sat = img >= 5e4
    img = np.minimum(img, 4095.0)            # the counter saturates
    got = ring_centre(img, (12, 58), mask=sat, guess=(63.5, 63.5))
    np.testing.assert_allclose(got, c, atol=5e-3)


@pytest.fixture(scope="module")
def doses():
    """6 x 6 composite patterns (rod beam stop, drift) at 10 and 160 e/Å², and their truth."""
    out = {}
    for dose in (10.0, 160.0):
        kw = dict(nav_shape=(6, 6), beam_stop=(6, 3, 90.0), descan=(4.0, -3.0), seed=2,
                  dose=dose)
        synth = data.composite(**kw)
        lam = data.composite(noise=False, **kw).signal.data.astype(float)
        p = synth.parameters
        truth = np.array(p.center[::-1]) + p.beam_shifts
        mask = cal.beam_stop_mask(synth.signal.data.sum((0, 1)).astype(float))
        out[dose] = synth.signal.data, lam, truth, mask
    return out


def _rms(got, truth):
    return float(np.sqrt(((got - truth) ** 2).sum(-1).mean()))


def test_single_pattern_accuracy_reaches_the_bound(doses):
    band = (3, 40)
    frames, lam, truth, mask = doses[10.0]
    bound = np.array([centre_bound(f, mask=mask, r_range=band, center=tuple(t))
                      for f, t in zip(lam.reshape(-1, 128, 128), truth.reshape(-1, 2),
                                      strict=True)])
    bound_rms = float(np.sqrt((bound ** 2).sum(1).mean()))
    assert 0.25 < bound_rms < 0.35                     # no estimator reaches 0.1 px here
    got, sd = ring_centre(frames, band, mask=mask, return_std=True)
    rms = _rms(got, truth)
    assert rms < 1.3 * bound_rms                       # measured: 1.0 x on 100 patterns
    grid = cal.refine_centers(frames, band, mask=mask)
    assert _rms(grid, truth) > 2.5 * rms               # the grid search alone: ~1 px
    # the standard errors describe the scatter
    z2 = (((got - truth) / sd) ** 2).mean()
    assert 0.4 < z2 < 2.0
    # 160 e/Å²: 0.1 px met on single patterns
    frames, _lam, truth, mask = doses[160.0]
    assert _rms(ring_centre(frames, band, mask=mask), truth) <= 0.1


def test_refine_is_per_pattern_lazy_equals_eager_any_navigation(doses):
    frames, _lam, truth, mask = doses[160.0]
    start = np.rint(truth)                               # ~0.5 px off
    eager = refine_ring_centre(frames, (3, 40), start, mask=mask)
    one = refine_ring_centre(frames[2, 3], (3, 40), start[2, 3], mask=mask)
    np.testing.assert_allclose(one, eager[2, 3], atol=1e-10)     # independent of the block
    line = refine_ring_centre(frames[1], (3, 40), start[1], mask=mask)
    np.testing.assert_allclose(line, eager[1], atol=1e-10)
    lazy = refine_ring_centre(da.from_array(frames, chunks=(4, 5, 128, 128)), (3, 40),
                              da.from_array(start, chunks=(2, 2, 2)), mask=mask,
                              return_std=True)
    assert isinstance(lazy[0], da.Array) and isinstance(lazy[1], da.Array)
    np.testing.assert_allclose(lazy[0].compute(), eager, atol=1e-10)
    assert lazy[1].shape == (6, 6, 2)


def test_centre_bound_equals_the_radial_integral():
    """For λ(r) about c, F_xx = F_yy = π ∫ λ'(r)² / λ(r) r dr (F_xy = 0)."""
    from scipy.integrate import quad

    def lam(r):
        return 0.3 + 2 * np.exp(-0.5 * ((r - 30) / 4) ** 2) + 3 * np.exp(-r / 12)

    def dlam(r):
        return -2 * (r - 30) / 16 * np.exp(-0.5 * ((r - 30) / 4) ** 2) - 0.25 * np.exp(-r / 12)

    f_xx = np.pi * quad(lambda r: dlam(r) ** 2 / lam(r) * r, 0, 60, limit=200)[0]
    y, x = np.mgrid[:160, :160]
    r = np.hypot(x - 79.5, y - 79.5)
    img = np.where(r < 60, lam(r), 0.3)
    sx, sy = centre_bound(img, r_range=(0, 60))
    assert sx == pytest.approx(1 / np.sqrt(f_xx), rel=0.03)
    assert sy == pytest.approx(sx, rel=1e-6)
    np.testing.assert_allclose(centre_bound(np.stack([img, 100 * img]), r_range=(0, 60)),
                               [[sx, sy], [sx / 10, sy / 10]])
    # masking half of every ring doubles the variance of both components
    half = x > 79.5
    np.testing.assert_allclose(centre_bound(img, mask=half, r_range=(0, 60)),
                               [sx * np.sqrt(2), sy * np.sqrt(2)], rtol=0.05)


def test_errors():
    img = _rings((63.5, 63.5))
    with pytest.raises(ValueError, match="'r_range'"):
        refine_ring_centre(img, (10, 11))
    with pytest.raises(ValueError, match="'r_range'"):
        ring_centre(img, (30, 10))
    for kw, name in ((dict(step=0.1), "'step'"), (dict(smooth=-1.0), "'smooth'"),
                     (dict(max_iter=0), "'max_iter'"), (dict(tol=0.0), "'tol'")):
        with pytest.raises(ValueError, match=name):
            refine_ring_centre(img, (10, 40), **kw)
    with pytest.raises(ValueError, match="'start' must have shape"):
        refine_ring_centre(np.stack([img, img]), (10, 40), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="'mask' must have the detector shape"):
        refine_ring_centre(img, (10, 40), mask=np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="'frames' must be real patterns"):
        refine_ring_centre(img.astype(complex), (10, 40))
    with pytest.raises(ValueError, match="'expected'"):
        centre_bound(np.ones(5))
    with pytest.raises(ValueError, match="No unmasked pixel"):
        centre_bound(img, mask=np.ones(img.shape, bool))


# -- agreement with independent ring fits ---------------------------------------------------


def _circle(points):
    """Robust geometric circle fit (scipy), from the algebraic start."""
    x, y = points.T
    c, *_ = np.linalg.lstsq(np.column_stack([x, y, np.ones_like(x)]), x ** 2 + y ** 2,
                            rcond=None)
    x0 = [c[0] / 2, c[1] / 2, np.sqrt(c[2] + c[0] ** 2 / 4 + c[1] ** 2 / 4)]
    fit = least_squares(lambda q: np.hypot(x - q[0], y - q[1]) - q[2], x0, loss="soft_l1",
                        f_scale=0.5)
    return fit.x[:2]


def _ray_peaks(img, valid, start, r_lo, r_hi, n_rays=180):
    """Sub-pixel ring maxima along rays from ``start`` (cubic interpolation, parabola)."""
    t = np.arange(r_lo, r_hi, 0.25)
    pts = []
    for th in np.linspace(0, 2 * np.pi, n_rays, endpoint=False):
        x, y = start[0] + t * np.cos(th), start[1] + t * np.sin(th)
        if ndi.map_coordinates(valid.astype(float), [y, x], order=1).min() < 0.999:
            continue                                   # the ray crosses the beam stop
        v = ndi.map_coordinates(img, [y, x], order=3)
        k = int(np.argmax(v))
        if 0 < k < len(t) - 1 and v[k - 1] - 2 * v[k] + v[k + 1] < 0:
            tk = t[k] + 0.125 * (v[k - 1] - v[k + 1]) / (v[k - 1] - 2 * v[k] + v[k + 1])
            pts.append((start[0] + tk * np.cos(th), start[1] + tk * np.sin(th)))
    return np.array(pts)


@pytest.mark.parametrize("seed", [0, 1])
def test_agrees_with_ring_point_circle_fits_on_the_gold_standard(seed):
    """Au standard (4 x 4 sub-pixel rendering, Poisson, beam stop), the most realistic 2-D
    pattern available (no measured 2-D pattern is shipped): ring maxima along rays from
    the detector centre, a circle through them (111 ring, then the 220 ring from that)."""
    truth = np.array([62.2 + 0.3 * seed, 65.7 - 0.4 * seed])
    au = data.gold_standard(beam_stop=(6, 3, 90.0), center=tuple(truth), seed=seed)
    img = au.signal.data.astype(float)
    mask = cal.beam_stop_mask(img)
    ours = ring_centre(img, (8, 40), mask=mask)
    assert np.hypot(*(ours - truth)) < 0.05
    theirs = np.array([63.5, 63.5])
    for lo, hi in ((9, 12.5), (15.5, 19)):
        for _ in range(2):
            theirs = _circle(_ray_peaks(img, ~mask, theirs, lo, hi))
        assert np.hypot(*(theirs - ours)) <= 0.5        # measured 0.03-0.1 px
        assert np.hypot(*(theirs - truth)) <= 0.5


def test_agrees_with_iso_contour_circle_fits_on_the_composite_scan_sum():
    from skimage import measure

    synth = data.composite(nav_shape=(20, 20), beam_stop=(6, 3, 90.0), seed=7)
    summed = synth.signal.data.sum((0, 1)).astype(float)
    truth = np.array(synth.parameters.center[::-1])
    mask = cal.beam_stop_mask(summed)
    ours = ring_centre(summed, (3, 40), mask=mask)
    assert np.hypot(*(ours - truth)) < 0.05
    valid = ~ndi.binary_dilation(mask, iterations=2)
    smooth = ndi.gaussian_filter(summed * valid, 1.0) / np.maximum(
        ndi.gaussian_filter(valid.astype(float), 1.0), 1e-9)
    for level in (800.0, 200.0):
        pts = np.concatenate(measure.find_contours(smooth, level))[:, ::-1]
        keep = valid[np.rint(pts[:, 1]).astype(int), np.rint(pts[:, 0]).astype(int)]
        assert np.hypot(*(_circle(pts[keep]) - ours)) <= 0.5


def test_ring_centre_lazy_reads_each_block_once_and_equals_eager(doses):
    from ..conftest import ComputeCounter

    frames, _lam, truth, mask = doses[160.0]
    eager, sd = ring_centre(frames, (3, 40), mask=mask, return_std=True)
    lazy = da.from_array(frames, chunks=(3, 4, 128, 128))
    reads = []
    counted = lazy.map_blocks(lambda b: reads.append(b.shape) or b, dtype=lazy.dtype)
    got, got_sd = ring_centre(counted, (3, 40), mask=mask, guess=(63.5, 63.5), return_std=True)
    assert isinstance(got, da.Array)
    reads.clear()               # (the grid's radial weight read the first patterns)
    with ComputeCounter() as counter:
        c, s = da.compute(got, got_sd)
    assert counter.runs == 1 and len(reads) == 4             # 4 blocks, each read once
    np.testing.assert_allclose(c, eager, atol=1e-10)
    np.testing.assert_allclose(s, sd, atol=1e-10)
    with pytest.raises(ValueError, match="'guess' must have shape"):
        ring_centre(lazy, (3, 40), guess=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="'search'"):
        ring_centre(lazy, (3, 40), search=100.0)
