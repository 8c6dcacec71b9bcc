"""beam_centres: the run-skipping kernel equals the full-frame thresholded centre of mass
bit for bit (the raster-order sums pyxem's ``center_of_mass`` defines)."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics import geometry
from pyxem_epdf.physics.geometry import beam_centres


def _full_frame(frame, threshold):
    """Every pixel in raster order: per-row sums, then over rows (the pre-skip kernel)."""
    ny, nx = frame.shape
    flat = frame.ravel()
    total = 0 if flat.dtype.kind in "ui" else 0.0
    for v in flat.tolist():
        total += v
    thr = threshold * total / flat.size
    s = sx = sy = 0.0
    for i in range(ny):
        rs = rx = 0.0
        for j in range(nx):
            v = float(frame[i, j])
            w = v if v >= thr else 0.0
            rs += w
            rx += w * j
        s += rs
        sx += rx
        sy += rs * i
    return [sx / s, sy / s] if s > 0 else [np.nan, np.nan]


def _frames(rng, n=6, size=40):
    y, x = np.mgrid[:size, :size]
    out = np.empty((n, size, size))
    for f in range(n):
        c = rng.uniform(12, 28, 2)
        lam = 0.05 + 0.4 * np.exp(-np.hypot(x - c[0], y - c[1]) / 8) \
            + 60 * np.exp(-0.5 * ((x - c[0]) ** 2 + (y - c[1]) ** 2) / 2.0**2)
        out[f] = rng.poisson(lam)
    out[1, 2, 37] = 40.0   # isolated pixels above the threshold far from the disc,
    out[3, 39, 0] = 25.0   # in the first/last run of a row: they must be counted
    out[4, 0, 0] = 30.0
    return out


@pytest.mark.parametrize("dtype", [np.uint16, np.int32, np.float32, np.float64])
def test_bit_identical_to_the_full_frame_sums(dtype):
    frames = _frames(np.random.default_rng(3)).astype(dtype)
    truth = np.array([_full_frame(f, 20.0) for f in frames])
    got = beam_centres(frames, 20.0)
    assert np.array_equal(got, truth)  # bit for bit, not to a tolerance
    for run in (1, 7, 32, 41, 1000):  # any run length: the same numbers
        assert np.array_equal(geometry._com(frames.reshape(6, -1), 40, 40, 20.0, run), truth)
    # the isolated pixel far from the disc is counted (it moves the centre)
    without = frames.copy()
    without[1, 2, 37] = 0
    assert abs(beam_centres(without, 20.0)[1, 0] - got[1, 0]) > 0.05


def test_reads_only_the_runs_that_reach_the_threshold():
    frames = _frames(np.random.default_rng(4))
    _, n_read = geometry._com(frames.reshape(6, -1), 40, 40, 20.0, 8, stats=True)
    assert 0 < n_read < 0.2 * frames.size
    # a threshold <= 0 (negative, background-subtracted values): more runs reach it,
    # still the full-frame result
    neg = frames - (frames.mean(axis=(1, 2), keepdims=True) + 0.01)  # mean -0.01: thr -0.2
    got, n_all = geometry._com(neg.reshape(6, -1), 40, 40, 20.0, 8, stats=True)
    assert n_all > 3 * n_read
    assert np.all(np.isfinite(got))
    assert np.array_equal(got, np.array([_full_frame(f, 20.0) for f in neg]))


def test_nan_inf_empty_and_lazy():
    frames = _frames(np.random.default_rng(5))
    frames[0, 5, 5] = np.nan
    frames[2] = 0.0
    got = beam_centres(frames, 20.0)
    assert np.all(np.isnan(got[0])) and np.all(np.isnan(got[2]))
    assert np.array_equal(got[3:], np.array([_full_frame(f, 20.0) for f in frames[3:]]))
    lazy = beam_centres(da.from_array(frames.reshape(2, 3, 40, 40), chunks=(1, 2, 40, 40)), 20.0)
    assert isinstance(lazy, da.Array)
    assert np.array_equal(lazy.compute(), got.reshape(2, 3, 2), equal_nan=True)
    assert np.array_equal(beam_centres(frames, 20.0, threads=2), got, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.uint64, np.float32])
def test_vectorised_pass_any_row_length(dtype):
    """The SIMD pass 1 (row maxima and the raster-order total) has a remainder loop
    for row lengths that are no multiple of the vector width: odd, prime and
    short rows give the full-frame numbers bit for bit."""
    rng = np.random.default_rng(6)
    for ny, nx in ((37, 53), (5, 3), (1, 67), (29, 1)):
        frames = rng.poisson(0.3, (5, ny, nx)).astype(float)
        frames[:, ny // 2, nx // 2] += 90.0
        frames[2, -1, -1] = 80.0  # the last pixel of the frame: after the vector body
        frames = frames.astype(dtype)
        truth = np.array([_full_frame(f, 5.0) for f in frames])
        assert np.array_equal(beam_centres(frames, 5.0, threads=1), truth), (ny, nx)
