"""Geometry: ellipse matrix, thresholded centre of mass, descan fit, ring centre."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.geometry import (
    beam_centres,
    ellipse_matrix,
    fit_descan,
    ring_centre,
)


@pytest.mark.parametrize("ratio, angle", [(1.0, 0.0), (1.02, 0.0), (1.05, 37.0), (1.3, -80.0)])
def test_ellipse_matrix_maps_the_ellipse_onto_a_circle(ratio, angle):
    a = ellipse_matrix(ratio, angle)
    t = np.deg2rad(angle)
    major, minor = np.sqrt(ratio), 1 / np.sqrt(ratio)  # semi-axes, geometric mean 1
    phi = np.linspace(0, 2 * np.pi, 50)
    pts = (major * np.cos(phi)[:, None] * [np.cos(t), np.sin(t)]
           + minor * np.sin(phi)[:, None] * [-np.sin(t), np.cos(t)])
    np.testing.assert_allclose(np.linalg.norm(pts @ a.T, axis=1), 1.0, rtol=1e-12)
    assert np.linalg.det(a) == pytest.approx(1.0)
    np.testing.assert_allclose(a, a.T)  # symmetric: no rotation of the pattern


@pytest.mark.parametrize("bad", [0.9, np.nan, 3.0])
def test_ellipse_matrix_errors(bad):
    with pytest.raises(ValueError, match="'axis_ratio'"):
        ellipse_matrix(bad, 0.0)


def test_beam_centres_threshold_lazy_and_dtypes():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[:64, :64]
    truth = rng.uniform(28, 36, (3, 4, 2))
    frames = np.empty((3, 4, 64, 64))
    for i in np.ndindex(3, 4):
        r = np.hypot(x - truth[i][0], y - truth[i][1])
        frames[i] = np.where(r < 4, 500.0, 0.0) + 0.2
    got = beam_centres(frames, threshold=20)
    np.testing.assert_allclose(got, truth, atol=0.25)  # centroid of a pixelated disc
    # the same as the explicit formula on the thresholded frames
    f = frames[1, 2]
    w = np.where(f >= 20 * f.mean(), f, 0)
    np.testing.assert_allclose(got[1, 2], [(w * x).sum() / w.sum(), (w * y).sum() / w.sum()])
    lazy = beam_centres(da.from_array(frames, chunks=(2, 3, 64, 64)), threshold=20)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), got)
    for dtype in (np.uint16, ">u2", np.float32, np.float16):
        np.testing.assert_allclose(beam_centres(frames.astype(dtype), 20), got, atol=1e-3)
    np.testing.assert_allclose(beam_centres(frames, 20, threads=2), got)
    with pytest.raises(ValueError, match="'threshold'"):
        beam_centres(frames, threshold=0)
    assert np.all(np.isnan(beam_centres(np.zeros((1, 8, 8)))))


def test_fit_descan_plane_line_point():
    i, j = np.mgrid[:5, :6]
    plane = np.stack([1.0 + 0.3 * j - 0.1 * i, -2.0 + 0.2 * i], axis=-1)
    np.testing.assert_allclose(fit_descan(plane), plane)
    line = plane[2]
    np.testing.assert_allclose(fit_descan(line), line)
    np.testing.assert_allclose(fit_descan(plane[2, 3]), plane[2, 3])
    noisy = plane.copy()
    noisy[1, 1] = np.nan  # left out
    np.testing.assert_allclose(fit_descan(noisy), plane)
    with pytest.raises(ValueError, match="'centres' must have shape"):
        fit_descan(np.zeros((2, 2, 2, 2)))


def _stopped_ring(c, scale=None, rng=None, size=128):
    y, x = np.mgrid[:size, :size]
    r = np.hypot(x - c[0], y - c[1])
    lam = 0.3 + 2 * np.exp(-0.5 * ((r - 30) / 4) ** 2) + np.exp(-r / 12)
    stop = (r < 10) | ((np.abs(y - c[1]) < 4) & (x > c[0]))  # disc + rod to the edge
    img = lam if scale is None else rng.poisson(scale * lam).astype(float)
    return np.where(stop, 0.0, img), stop


def test_ring_centre_with_a_rod_beam_stop():
    rng = np.random.default_rng(1)
    c = (64.37, 61.81)
    img, stop = _stopped_ring(c)
    np.testing.assert_allclose(ring_centre(img, (16, 55), mask=stop), c, atol=5e-3)
    # the centre of mass is pulled off by the rod; the ring centre is not
    assert np.hypot(*(beam_centres(img[None], threshold=0.01)[0] - c)) > 1.0
    noisy, _ = _stopped_ring(c, scale=20, rng=rng)
    assert np.hypot(*(ring_centre(noisy, (16, 55), mask=stop) - c)) <= 0.1


@pytest.mark.parametrize("nav", [(3,), (2, 2)])
def test_ring_centre_over_navigation(nav):
    rng = np.random.default_rng(2)
    truth = 63.5 + rng.uniform(-2.5, 2.5, nav + (2,))
    frames, masks = [], []
    for i in np.ndindex(nav):
        img, stop = _stopped_ring(truth[i], size=96 + 32)
        frames.append(img)
        masks.append(stop)
    frames = np.array(frames).reshape(nav + (128, 128))
    common = np.any(masks, axis=0)  # one mask for all patterns
    got = ring_centre(np.where(common, 0, frames), (20, 55), mask=common)
    assert got.shape == nav + (2,)
    np.testing.assert_allclose(got, truth, atol=0.02)


def test_ring_centre_errors():
    img = np.ones((32, 32))
    with pytest.raises(ValueError, match="'r_range'"):
        ring_centre(img, (10, 5))
    with pytest.raises(ValueError, match="'mask' must have the detector shape"):
        ring_centre(img, (2, 10), mask=np.zeros((3, 3), bool))
