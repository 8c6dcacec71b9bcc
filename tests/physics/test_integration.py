"""Sparse azimuthal-integration operator against analytic images."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.geometry import ellipse_matrix
from pyxem_epdf.physics.integration import (
    fill_empty_bins,
    integrate,
    radial_operator,
    valid_area,
)

K = (np.arange(64) - 31.5) * 0.05  # pixel centres, Å⁻¹ (centre between pixels)
EDGES = np.linspace(0, 1.5, 31)


def image(fn):
    y, x = np.meshgrid(K, K, indexing="ij")
    return fn(np.hypot(x, y))


def test_flat_image_and_variance_formula():
    op = radial_operator(K, K, EDGES)
    frames = np.full((3, 64, 64), 5.0)
    mean, var, n, *_ = integrate(frames, op)
    np.testing.assert_allclose(mean, 5.0)
    w = op.matrix.toarray()
    np.testing.assert_allclose(var[0], 5.0 * (w**2).sum(0) / n**2)
    # the pixel areas sum to the area of the disk of radius 1.5 Å⁻¹ (in pixels)
    assert n.sum() == pytest.approx(np.pi * 1.5**2 / 0.05**2, rel=0.01)


@pytest.mark.parametrize("subpixel, tol", [(1, 0.01), (2, 0.005)])
def test_radial_function_recovered(subpixel, tol):
    fn = lambda r: 2 + np.cos(3 * r)  # noqa: E731
    op = radial_operator(K, K, EDGES, subpixel=subpixel)
    mean = integrate(image(fn)[None], op).mean
    centres = op.centres
    err = np.abs(mean[0, 2:] - fn(centres[2:])) / fn(centres[2:])
    assert err.max() < tol


def test_mask_excludes_not_zeroes():
    mask = np.zeros((64, 64), bool)
    mask[:, :10] = True
    frames = np.ones((1, 64, 64))
    frames[0, mask] = 1e6
    op = radial_operator(K, K, EDGES, mask=mask)
    mean, _, n, *_ = integrate(frames, op)
    np.testing.assert_allclose(mean, 1.0)
    assert np.all(n <= radial_operator(K, K, EDGES).n_valid + 1e-12)


def test_poisson_variance_matches_empirical():
    rng = np.random.default_rng(0)
    lam = image(lambda r: 0.05 + 0.5 * np.exp(-r))
    frames = rng.poisson(lam, size=(4000, 64, 64)).astype(np.uint16)
    op = radial_operator(K, K, EDGES)
    mean, var, *_ = integrate(frames, op)
    ratio = mean.var(axis=0) / var.mean(axis=0)
    np.testing.assert_allclose(ratio[3:], 1.0, atol=0.1)


def test_lazy_equals_eager_and_stays_lazy():
    rng = np.random.default_rng(1)
    frames = rng.poisson(0.3, size=(4, 5, 64, 64)).astype(np.uint16)
    op = radial_operator(K, K, EDGES)
    mean, var, *_ = integrate(frames, op)
    lm, lv, *_ = integrate(da.from_array(frames, chunks=(2, 3, 32, 64)), op)
    assert isinstance(lm, da.Array) and lm.shape == mean.shape
    np.testing.assert_allclose(lm.compute(), mean)
    np.testing.assert_allclose(lv.compute(), var)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"edges": [1.0, 0.5]}, "'edges' must be"),
        ({"subpixel": 0}, "'subpixel' must be an integer between"),
        ({"subpixel": 2.5}, "'subpixel' must be an integer between"),
        ({"mask": np.ones((64, 64), bool)}, "'mask' excludes every detector pixel"),
        ({"kx": np.zeros(64)}, "non-zero step"),
        ({"distortion": np.zeros((2, 2))}, "'distortion' must be a finite, invertible"),
        ({"mask": np.zeros((3, 3), bool)}, "'mask' must have the detector shape"),
        ({"kx": [0.0]}, "'kx' and 'ky' must be 1-D"),
    ],
)
def test_errors(kwargs, match):
    args = {"kx": K, "ky": K, "edges": EDGES, **kwargs}
    with pytest.raises(ValueError, match=match):
        radial_operator(args.pop("kx"), args.pop("ky"), args.pop("edges"), **args)


def test_shape_mismatch():
    op = radial_operator(K, K, EDGES)
    with pytest.raises(ValueError, match="detector shape"):
        integrate(np.ones((2, 32, 32)), op)


def _shifted_fixture():
    rng = np.random.default_rng(2)
    frames = rng.poisson(image(lambda r: 0.3 + 2.0 * np.exp(-r)), size=(2, 3, 64, 64)).astype(
        np.uint16)
    centres = np.zeros((2, 3, 2))
    centres[..., 0] = np.linspace(-0.1, 0.1, 6).reshape(2, 3)  # ±2 pixels in x
    centres[..., 1] = np.linspace(0.073, -0.041, 6).reshape(2, 3)
    return frames, centres


@pytest.mark.parametrize("edges, tol", [(EDGES, 1e-3), (np.linspace(0, 1.5, 61), 1e-3),
                                        (np.geomspace(0.1, 1.5, 25), 2e-3)])
def test_shifted_equals_exact_per_centre_operator(edges, tol):
    """A centre per pattern inside the kernel = the operator built for that centre: < 1e-3
    for bins of >= 1 px; 2e-3 for the quarter-pixel bins of the geometric grid at 2 px."""
    frames, centres = _shifted_fixture()
    op = radial_operator(K, K, edges)
    res = integrate(frames, op, centres)
    for i in np.ndindex(2, 3):
        exact = radial_operator(K, K, edges, center=tuple(centres[i]))
        m, v, *_ = integrate(frames[i][None], exact)
        np.testing.assert_allclose(res.mean[i], m[0], rtol=tol)
        np.testing.assert_allclose(res.variance[i], v[0], rtol=2 * tol)
        np.testing.assert_allclose(valid_area(op, centres[i]), exact.n_valid, rtol=tol)


def test_shifted_lazy_equals_eager_and_errors():
    frames, centres = _shifted_fixture()
    op = radial_operator(K, K, EDGES)
    mean, var, *_ = integrate(frames, op, centres)
    lm, lv, *_ = integrate(da.from_array(frames, chunks=(1, 2, 64, 64)), op, centres)
    assert isinstance(lm, da.Array)
    np.testing.assert_allclose(lm.compute(), mean, rtol=1e-12)
    np.testing.assert_allclose(lv.compute(), var, rtol=1e-12)
    with pytest.raises(ValueError, match="'centres' must have shape"):
        integrate(frames, op, centres[0])


def test_shifted_flat_and_ring_patterns_give_the_centred_profile():
    """A flat pattern stays flat; a ring pattern shifted by (1.7, −2.3) px and integrated
    with its centre gives the profile of the centred ring (same analytic radial function)."""
    op = radial_operator(K, K, EDGES)
    centre = np.array([1.7, -2.3]) * 0.05
    flat = integrate(np.full((1, 64, 64), 4.0), op, centre[None])
    np.testing.assert_allclose(flat.mean, 4.0, rtol=1e-3)
    y, x = np.meshgrid(K, K, indexing="ij")
    ring = lambda r: 1.0 + 3.0 * np.exp(-0.5 * ((r - 0.8) / 0.1) ** 2)  # noqa: E731
    shifted = ring(np.hypot(x - centre[0], y - centre[1]))
    ours = integrate(shifted[None], op, centre[None]).mean[0]
    centred = integrate(ring(np.hypot(x, y))[None], op).mean[0]
    # the same to the pixel sampling of a ring 2 px wide (its flanks change by 40 % per bin)
    np.testing.assert_allclose(ours[2:], centred[2:], rtol=5e-3)


def test_elliptical_ring_with_the_right_matrix_gives_the_undistorted_profile():
    """Rings stretched by 5 % along 25°: integrated with A = ellipse_matrix(1.05, 25) they give
    the circular profile at radius √(ab); without A the peak is smeared."""
    a = ellipse_matrix(1.05, 25.0)
    y, x = np.meshgrid(K, K, indexing="ij")
    u = np.einsum("ij,jyx->iyx", a, np.stack([x, y]))
    ring = lambda r: 1.0 + 3.0 * np.exp(-0.5 * ((r - 0.8) / 0.1) ** 2)  # noqa: E731
    distorted = ring(np.hypot(u[0], u[1]))
    circular = ring(np.hypot(x, y))
    op_a = radial_operator(K, K, EDGES, distortion=a)
    op = radial_operator(K, K, EDGES)
    fixed = integrate(distorted[None], op_a).mean[0]
    truth = integrate(circular[None], op).mean[0]
    naive = integrate(distorted[None], op).mean[0]
    err_fixed = np.abs(fixed[2:] / truth[2:] - 1).max()
    err_naive = np.abs(naive[2:] / truth[2:] - 1).max()
    assert err_fixed < 5e-3 and err_naive > 3 * err_fixed, (err_fixed, err_naive)
    # with a centre per pattern too
    c = np.array([[0.06, -0.04]])
    u = np.einsum("ij,jyx->iyx", a, np.stack([x - c[0, 0], y - c[0, 1]]))
    moved = integrate(ring(np.hypot(u[0], u[1]))[None], op_a, c).mean[0]
    np.testing.assert_allclose(moved[2:], truth[2:], rtol=6e-3)


def test_nonfinite_negative_and_empty_bins():
    frames = np.full((3, 64, 64), 2.0)
    frames[1, 40, 40] = np.nan
    frames[2, 10, 20] = np.inf
    op = radial_operator(K, K, EDGES)
    res = integrate(frames, op)
    assert np.all(np.isfinite(res.mean)) and res.nonfinite.tolist() == [0, 1, 1]
    np.testing.assert_allclose(res.mean, 2.0)
    shifted = integrate(frames, op, np.zeros((3, 2)) + 0.01)
    assert shifted.nonfinite.tolist() == [0, 1, 1]
    np.testing.assert_allclose(shifted.mean, 2.0, rtol=1e-3)
    neg = frames.copy()
    neg[0, 30, 30] = -1.0
    with pytest.raises(ValueError, match="negative values .* 'allow_negative=True'"):
        integrate(neg, op)
    ok = integrate(neg - 3.0, op, allow_negative=True)
    assert np.all(ok.variance >= 0)
    with pytest.raises(TypeError, match="Complex frames"):
        integrate(frames.astype(complex), op)
    np.testing.assert_allclose(integrate(frames.astype(np.float16), op).mean, 2.0)
    # a mask covering a ring: the bins are interpolated, never 0
    y, x = np.meshgrid(K, K, indexing="ij")
    r = np.hypot(x, y)
    mask = (r > 0.5) & (r < 0.7)
    lin = 1.0 + r  # linear in r: interpolation is exact up to the bin averaging
    res = integrate(lin[None], radial_operator(K, K, EDGES, mask=mask))
    assert np.any(res.n_valid_min == 0)
    centres = radial_operator(K, K, EDGES).centres
    empty = res.n_valid_min == 0
    assert np.all(np.isfinite(res.mean)) and np.all(res.mean[0, empty] > 1.4)
    far = np.abs(centres - 0.6) > 0.2  # bins away from the masked ring keep their value
    np.testing.assert_allclose(res.mean[0, far][3:], 1.0 + centres[far][3:], rtol=0.01)


def test_fill_empty_bins_edges_and_groups():
    mean = np.array([[0.0, 2.0, 0.0, 4.0, 0.0], [1.0, 0.0, 3.0, 0.0, 5.0]])
    n = np.array([[0, 1, 0, 1, 0], [1, 0, 1, 0, 1]], float)
    m, v = fill_empty_bins(mean, np.ones_like(mean), n)
    assert m.tolist() == [[2.0, 2.0, 3.0, 4.0, 4.0], [1.0, 2.0, 3.0, 4.0, 5.0]]
    assert v[0].tolist() == [1.0, 1.0, 0.5, 1.0, 1.0]


def test_compiled_kernel_equals_the_sparse_product_for_every_dtype():
    """The numba gather (zero pixels skipped, frames read in their own dtype)
    gives the CSR products M X and (M∘M) X for integer, float and big-endian frames."""
    from pyxem_epdf.physics import integration as integ

    k = np.arange(-16, 16) + 0.5
    op = integ.radial_operator(k, k, np.linspace(0, 20, 31), subpixel=2)
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.3, size=(7, 32 * 32))
    nb = 30
    for dtype in (np.uint8, np.uint16, ">u2", np.int32, np.float32, np.float64):
        flat = integ._native(counts.astype(dtype))
        got = integ._sums(flat, op)
        np.testing.assert_allclose(got[:, :nb], counts @ op.matrix.toarray(), rtol=1e-12)
        np.testing.assert_allclose(got[:, nb:2 * nb], counts @ op.matrix_sq.toarray(),
                                   rtol=1e-12)
    frames = counts.reshape(7, 32, 32).astype(np.uint16)
    one = integ._block(frames, op, threads=1)
    two = integ._block(frames, op, threads=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
