"""Drift-corrected scan sum (:func:`pyxem_epdf.physics.geometry.centred_sum`)."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.geometry import centred_sum


def _loop(frames, centres, reference, mask, method):
    """Direct reference: every pixel of every pattern moved on its own."""
    nav = frames.shape[:-2]
    ny, nx = frames.shape[-2:]
    total, cover = np.zeros((ny, nx)), np.zeros((ny, nx))
    valid = ~mask
    for p in np.ndindex(*nav):
        dx, dy = np.asarray(reference) - centres[p]
        if method == "nearest":
            parts = [(int(np.floor(dx + 0.5)), int(np.floor(dy + 0.5)), 1.0)]
        else:
            ix, iy = int(np.floor(dx)), int(np.floor(dy))
            fx, fy = dx - ix, dy - iy
            parts = [(ix, iy, (1 - fx) * (1 - fy)), (ix + 1, iy, fx * (1 - fy)),
                     (ix, iy + 1, (1 - fx) * fy), (ix + 1, iy + 1, fx * fy)]
        for y in range(ny):
            for x in range(nx):
                if not valid[y, x]:
                    continue
                for ox, oy, w in parts:
                    if 0 <= y + oy < ny and 0 <= x + ox < nx:
                        total[y + oy, x + ox] += w * frames[p + (y, x)]
                        cover[y + oy, x + ox] += w
    return total, cover


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_matches_direct_loop(method):
    rng = np.random.default_rng(1)
    frames = rng.poisson(3.0, (3, 4, 7, 9)).astype(np.uint16)
    centres = np.stack([4 + rng.uniform(-2.6, 2.6, (3, 4)), 3 + rng.uniform(-1.8, 1.8, (3, 4))], -1)
    mask = np.zeros((7, 9), bool)
    mask[3, 4:] = True
    ref = (4.2, 2.9)
    total, cover = centred_sum(frames, centres, reference=ref, mask=mask, method=method)
    t0, c0 = _loop(frames, centres, ref, mask, method)
    np.testing.assert_allclose(total, t0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cover, c0, rtol=1e-12, atol=1e-12)
    assert frames.dtype == np.uint16  # input untouched


def test_no_shift_is_plain_sum_and_counts_are_conserved():
    rng = np.random.default_rng(2)
    frames = rng.poisson(2.0, (5, 16, 16)).astype(float)
    total, cover = centred_sum(frames, (7.5, 7.5))
    np.testing.assert_array_equal(total, frames.sum(0))
    np.testing.assert_array_equal(cover, np.full((16, 16), 5.0))
    # a pattern with zero border moved by a sub-pixel amount keeps all its counts
    img = np.zeros((1, 16, 16))
    img[0, 4:12, 4:12] = rng.poisson(5.0, (8, 8))
    moved, _ = centred_sum(img, [[7.5 - 1.3, 7.5 + 0.4]], reference=(7.5, 7.5), method="bilinear")
    assert moved.sum() == pytest.approx(img.sum(), rel=1e-13)
    # centroid moves by exactly the shift
    yy, xx = np.mgrid[:16, :16]
    cx0, cy0 = (img[0] * xx).sum() / img.sum(), (img[0] * yy).sum() / img.sum()
    cx1, cy1 = (moved * xx).sum() / moved.sum(), (moved * yy).sum() / moved.sum()
    assert (cx1 - cx0, cy1 - cy0) == (pytest.approx(1.3, abs=1e-12), pytest.approx(-0.4, abs=1e-12))


def test_lazy_equals_eager_and_stays_lazy():
    rng = np.random.default_rng(3)
    frames = rng.poisson(1.0, (6, 5, 20, 20)).astype(np.float32)
    centres = np.stack([9.5 + rng.normal(0, 1.5, (6, 5)), 9.5 + rng.normal(0, 1.5, (6, 5))], -1)
    mask = np.zeros((20, 20), bool)
    mask[8:12, 8:12] = True
    eager = centred_sum(frames, centres, mask=mask)
    lazy = centred_sum(da.from_array(frames, chunks=(4, 2, 10, 20)), centres, mask=mask)
    assert all(isinstance(x, da.Array) for x in lazy)
    for e, z in zip(eager, lazy, strict=True):
        np.testing.assert_allclose(z.compute(), e, rtol=1e-12, atol=1e-9)
    one = centred_sum(frames[0, 0], centres[0, 0])  # 0-D navigation
    np.testing.assert_allclose(one[1].max(), 1.0)


def test_bad_input():
    frames = np.zeros((2, 8, 8))
    with pytest.raises(ValueError, match="'method'"):
        centred_sum(frames, (4, 4), method="spline")
    with pytest.raises(ValueError, match="'centres' must have shape"):
        centred_sum(frames, np.zeros((3, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        centred_sum(frames, [[np.nan, 1.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="'mask'"):
        centred_sum(frames, (4, 4), mask=np.zeros((4, 4), bool))
    with pytest.raises(ValueError, match="'reference'"):
        centred_sum(frames, (4, 4), reference=(1.0,))
    with pytest.raises(ValueError, match="'frames'"):
        centred_sum(np.zeros(4), (4, 4))
