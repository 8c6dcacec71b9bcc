"""windowed_centres / disc_window: the direct-beam centre read in a window around the disc,
with the per-pattern guard (full-frame fallback, NaN where no disc)."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics import geometry
from pyxem_epdf.physics.geometry import (
    WINDOW_FALLBACK,
    WINDOW_NO_DISC,
    WINDOW_OK,
    beam_centres,
    disc_window,
    windowed_centres,
)


def _scan(rng, nav=(6, 7), size=64, drift=(3.0, -2.0), sigma=1.0, counts=4000.0):
    """Poisson patterns: a Gaussian disc drifting linearly by ``drift`` px plus a diffuse halo."""
    y, x = np.mgrid[:size, :size]
    i, j = np.meshgrid(*[np.linspace(-0.5, 0.5, n) for n in nav], indexing="ij")
    truth = np.stack([size / 2 + 0.3 + drift[0] * j, size / 2 - 0.6 + drift[1] * i], -1)
    frames = np.empty(nav + (size, size))
    for k in np.ndindex(nav):
        cx, cy = truth[k]
        r2 = (x - cx) ** 2 + (y - cy) ** 2
        lam = 0.05 + 0.5 * np.exp(-np.sqrt(r2) / 12) \
            + counts / (2 * np.pi * sigma**2) * np.exp(-0.5 * r2 / sigma**2)
        frames[k] = rng.poisson(lam)
    return frames.astype(np.uint16), truth


def _windowed_numpy(frame, rows, cols, fraction, floor):
    """Reference: centre of mass of the pixels >= max(fraction × max, floor) in the window."""
    win = frame[rows[0]:rows[1], cols[0]:cols[1]].astype(float)
    w = np.where(win >= max(fraction * win.max(), floor), win, 0.0)
    yy, xx = np.mgrid[rows[0]:rows[1], cols[0]:cols[1]]
    return [(w * xx).sum() / w.sum(), (w * yy).sum() / w.sum()]


def test_window_covers_the_drift_and_equals_the_numpy_reference():
    frames, truth = _scan(np.random.default_rng(0))
    centres, status, win = windowed_centres(frames)
    assert np.all(status == WINDOW_OK)
    # the window holds every true centre with the disc radius + margin around it
    lo = truth.reshape(-1, 2).min(0) - win.radius - geometry.WINDOW_MARGIN
    hi = truth.reshape(-1, 2).max(0) + win.radius + geometry.WINDOW_MARGIN
    assert win.cols[0] <= lo[0] + 1 and win.cols[1] >= hi[0] - 1
    assert win.rows[0] <= lo[1] + 1 and win.rows[1] >= hi[1] - 1
    # it reads a small part of the frame
    area = (win.rows[1] - win.rows[0]) * (win.cols[1] - win.cols[0])
    assert area < 0.15 * 64 * 64
    ref = np.array([[_windowed_numpy(f, win.rows, win.cols, win.fraction, win.floor) for f in row]
                    for row in frames])
    np.testing.assert_allclose(centres, ref, rtol=0, atol=1e-12)
    # accurate: per pattern and as a plane (Poisson noise of ~4000 counts, σ = 1 px)
    assert np.sqrt(np.mean((centres - truth) ** 2)) < 0.05
    assert np.sqrt(np.mean((geometry.fit_descan(centres) - truth) ** 2)) < 0.02
    # the sampled positions: corners, edge midpoints and centre of the scan
    assert win.sampled == (0, 3, 6, 14, 17, 20, 35, 38, 41)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.float32, np.float64])
def test_dtypes_threads_and_lazy_give_the_same_numbers(dtype):
    frames, _ = _scan(np.random.default_rng(1), counts=600.0)
    frames = np.minimum(frames, 250).astype(dtype)
    one, s1, win = windowed_centres(frames, threads=1)
    frames_big = np.concatenate([frames] * 4, axis=0)          # enough patterns for threads
    two, s2, _ = windowed_centres(frames_big, window=win, threads=2)
    np.testing.assert_array_equal(two, np.concatenate([one] * 4, axis=0))
    lazy, sl, wl = windowed_centres(da.from_array(frames, chunks=(2, 3, 64, 64)))
    assert isinstance(lazy, da.Array) and isinstance(sl, da.Array)
    assert (wl.rows, wl.cols, wl.sampled, wl.level) == (win.rows, win.cols, win.sampled, win.level)
    np.testing.assert_array_equal(lazy.compute(), one)
    np.testing.assert_array_equal(sl.compute(), s1)


def test_guard_falls_back_where_the_disc_leaves_the_window_and_is_nan_where_there_is_none():
    frames, truth = _scan(np.random.default_rng(2))
    win = disc_window(frames)
    moved, _ = _scan(np.random.default_rng(3), nav=(1, 1), drift=(0, 0))
    # pattern (2, 3) (not sampled): its disc jumps 20 px, out of the window
    y, x = np.mgrid[:64, :64]
    jumped = np.random.default_rng(4).poisson(
        0.05 + 4000 / (2 * np.pi) * np.exp(-0.5 * ((x - 12.4) ** 2 + (y - 50.2) ** 2)))
    frames[2, 3] = jumped
    # pattern (4, 5): a beam stop over the disc (dark disc of radius 6 at the centre) and a
    # bright pixel cluster elsewhere the full frame would pick: no disc -> NaN
    stop = np.hypot(x - truth[4, 5, 0], y - truth[4, 5, 1]) < 6
    frames[4, 5][stop] = 0
    frames[4, 5, 5, 40:60] = 60            # a bright streak, not a compact disc
    # pattern (1, 1): the disc at the window edge (half outside)
    frames[1, 1] = np.random.default_rng(5).poisson(
        0.05 + 4000 / (2 * np.pi) * np.exp(-0.5 * ((x - win.cols[1] + 0.5) ** 2
                                                  + (y - truth[1, 1, 1]) ** 2)))
    centres, status, _ = windowed_centres(frames, window=win)
    assert status[2, 3] == WINDOW_FALLBACK
    np.testing.assert_allclose(centres[2, 3], [12.4, 50.2], atol=0.1)
    assert status[1, 1] == WINDOW_FALLBACK
    np.testing.assert_allclose(centres[1, 1, 0], win.cols[1] - 0.5, atol=0.1)
    assert status[4, 5] == WINDOW_NO_DISC and np.all(np.isnan(centres[4, 5]))
    # pyxem's full-frame centre of mass gives a wrong number here, silently
    assert np.all(np.isfinite(beam_centres(frames[4, 5], 20.0)))
    others = np.ones(status.shape, bool)
    others[2, 3] = others[4, 5] = others[1, 1] = False
    assert np.all(status[others] == WINDOW_OK)
    assert np.sqrt(np.mean((centres[others] - truth[others]) ** 2)) < 0.05


def test_no_disc_anywhere_is_an_error_naming_the_alternatives():
    frames, _ = _scan(np.random.default_rng(6), nav=(3, 3))
    y, x = np.mgrid[:64, :64]
    frames[..., np.hypot(x - 32, y - 32) < 9] = 0          # a beam stop hides every disc
    with pytest.raises(ValueError, match="No direct-beam disc.*ring_cent.*method='full'"):
        windowed_centres(frames)
    with pytest.raises(ValueError, match="No direct-beam disc"):
        disc_window(np.zeros((2, 16, 16)))


def test_bad_parameters():
    frames, _ = _scan(np.random.default_rng(7), nav=(2, 2))
    for kw, msg in (({"threshold": 0}, "'threshold'"), ({"fraction": 1.0}, "'fraction'"),
                    ({"fraction": 0}, "'fraction'"), ({"margin": -1}, "'margin'"),
                    ({"margin": np.inf}, "'margin'")):
        with pytest.raises(ValueError, match=msg):
            windowed_centres(frames, **kw)
    with pytest.raises(TypeError, match="real numbers"):
        disc_window(frames.astype(complex))


@pytest.mark.parametrize("lead", [(), (5,), (2, 3, 4)])
def test_any_navigation_shape(lead):
    frames, truth = _scan(np.random.default_rng(8), nav=(4, 6))
    frames, truth = frames.reshape(24, 64, 64), truth.reshape(24, 2)
    frames = frames[: int(np.prod(lead))].reshape(lead + (64, 64))
    truth = truth[: int(np.prod(lead))].reshape(lead + (2,))
    centres, status, win = windowed_centres(frames)
    assert centres.shape == lead + (2,) and status.shape == lead
    assert np.all(status == WINDOW_OK)
    assert np.abs(centres - truth).max() < 0.1
