"""Sparse azimuthal-integration operator against analytic images."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.integration import integrate, radial_operator

K = (np.arange(64) - 31.5) * 0.05  # pixel centres, Å⁻¹ (centre between pixels)
EDGES = np.linspace(0, 1.5, 31)


def image(fn):
    y, x = np.meshgrid(K, K, indexing="ij")
    return fn(np.hypot(x, y))


def test_flat_image_and_variance_formula():
    op = radial_operator(K, K, EDGES)
    frames = np.full((3, 64, 64), 5.0)
    mean, var, n = integrate(frames, op)
    np.testing.assert_allclose(mean, 5.0)
    w = op.matrix.toarray()
    np.testing.assert_allclose(var[0], 5.0 * (w**2).sum(0) / n**2)
    # the pixel areas sum to the area of the disk of radius 1.5 Å⁻¹ (in pixels)
    assert n.sum() == pytest.approx(np.pi * 1.5**2 / 0.05**2, rel=0.01)


@pytest.mark.parametrize("subpixel, tol", [(1, 0.05), (4, 0.01)])
def test_radial_function_recovered(subpixel, tol):
    fn = lambda r: 2 + np.cos(3 * r)  # noqa: E731
    op = radial_operator(K, K, EDGES, subpixel=subpixel)
    mean, _, _ = integrate(image(fn)[None], op)
    centres = op.centres
    err = np.abs(mean[0, 2:] - fn(centres[2:])) / fn(centres[2:])
    assert err.max() < tol


def test_mask_excludes_not_zeroes():
    mask = np.zeros((64, 64), bool)
    mask[:, :10] = True
    frames = np.ones((1, 64, 64))
    frames[0, mask] = 1e6
    op = radial_operator(K, K, EDGES, mask=mask)
    mean, _, n = integrate(frames, op)
    np.testing.assert_allclose(mean, 1.0)
    assert np.all(n <= radial_operator(K, K, EDGES).n_valid + 1e-12)


def test_poisson_variance_matches_empirical():
    rng = np.random.default_rng(0)
    lam = image(lambda r: 0.05 + 0.5 * np.exp(-r))
    frames = rng.poisson(lam, size=(4000, 64, 64)).astype(np.uint16)
    op = radial_operator(K, K, EDGES)
    mean, var, _ = integrate(frames, op)
    ratio = mean.var(axis=0) / var.mean(axis=0)
    np.testing.assert_allclose(ratio[3:], 1.0, atol=0.1)


def test_lazy_equals_eager_and_stays_lazy():
    rng = np.random.default_rng(1)
    frames = rng.poisson(0.3, size=(4, 5, 64, 64)).astype(np.uint16)
    op = radial_operator(K, K, EDGES)
    mean, var, _ = integrate(frames, op)
    lm, lv, _ = integrate(da.from_array(frames, chunks=(2, 3, 32, 64)), op)
    assert isinstance(lm, da.Array) and lm.shape == mean.shape
    np.testing.assert_allclose(lm.compute(), mean)
    np.testing.assert_allclose(lv.compute(), var)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"edges": [1.0, 0.5]}, "'edges' must be"),
        ({"subpixel": 0}, "'subpixel' must be between"),
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


def test_shifted_equals_per_centre_operator_and_lazy():
    from pyxem_epdf.physics.integration import integrate_shifted

    rng = np.random.default_rng(2)
    frames = rng.poisson(0.5, size=(2, 3, 64, 64)).astype(np.uint16)
    centres = np.zeros((2, 3, 2))
    centres[..., 0] = np.linspace(-0.1, 0.1, 6).reshape(2, 3)  # ±2 pixels in x
    mean, var = integrate_shifted(frames, K, K, EDGES, centres, quantum=0.25)
    for i in np.ndindex(2, 3):
        q = np.round(centres[i] / (0.25 * 0.05)) * 0.25 * 0.05
        op = radial_operator(K, K, EDGES, center=tuple(q))
        m, v, _ = integrate(frames[i][None], op)
        np.testing.assert_allclose(mean[i], m[0])
        np.testing.assert_allclose(var[i], v[0])
    lm, lv = integrate_shifted(da.from_array(frames, chunks=(1, 2, 64, 64)), K, K, EDGES,
                               da.from_array(centres, chunks=(1, 2, 2)))
    np.testing.assert_allclose(lm.compute(), mean)
    np.testing.assert_allclose(lv.compute(), var)
    with pytest.raises(ValueError, match="'centres' must have shape"):
        integrate_shifted(frames, K, K, EDGES, centres[0])
    with pytest.raises(ValueError, match="'quantum' must be in"):
        integrate_shifted(frames, K, K, EDGES, centres, quantum=2.0)


def test_compiled_kernel_equals_the_sparse_product_for_every_dtype():
    """The numba gather (zero pixels skipped, frames read in their own dtype)
    gives the CSR product [M | M∘M]ᵀ X of scipy for integer, float and big-endian frames."""
    from pyxem_epdf.physics import integration as integ

    assert integ._KERNEL is not None  # numba comes with pyxem
    k = np.arange(-16, 16) + 0.5
    op = integ.radial_operator(k, k, np.linspace(0, 20, 31), subpixel=4)
    rng = np.random.default_rng(3)
    counts = rng.poisson(0.3, size=(7, 32 * 32))
    for dtype in (np.uint8, np.uint16, ">u2", np.int32, np.float32, np.float64):
        flat = counts.astype(dtype)
        expected = (op.stacked_t @ counts.T.astype(float)).T
        np.testing.assert_allclose(integ._sums(flat, op), expected, rtol=1e-12, atol=1e-12)
    # threads split the frames, same result
    frames = counts.reshape(7, 32, 32).astype(np.uint16)
    one = integ._block(frames, op, threads=1)
    two = integ._block(frames, op, threads=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
