"""Per-pattern centres at the API level: what the fast paths skip changes nothing.

The per-pattern path never builds the sparse operator; the valid areas skip the invalid
lattice points beyond the tighter off-centre reach (bit for bit the same areas), are
computed by the integration threads, and the pixel on a pattern's centre (r = 0) is
spread at the end of its frame. Lazy equals eager at full resolution and 2 × 2 binning
through ``azimuthal_profile(beam_shift=…)``.
"""

import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf.physics import integration
from pyxem_epdf.physics.geometry import ellipse_matrix
from pyxem_epdf.physics.integration import radial_operator

K = (np.arange(40) - 19.5) * 0.05  # 40 × 40 pixels, 0.05 Å⁻¹ per pixel


def _loose_valid_area(op, centres):
    """valid_area with the looser reach of the lattice tables (the code before the
    tighter off-centre bound), from the same compiled kernel."""
    (table_in, table_out, n_inner), reach = integration._lattice_total(op)
    pts_x, pts_y = integration._invalid_points(op, centres)
    dx, dy, amat, rest = integration._geometry_args(op)
    n_exact, near = integration._inner(op, integration.EXACT_RADIUS)
    h_max = 0.5 * (np.linalg.norm(op.distortion[:, 0]) * abs(dx)
                   + np.linalg.norm(op.distortion[:, 1]) * abs(dy))
    smin = np.linalg.svd(op.distortion, compute_uv=False).min()
    exact2 = ((float(op.edges[n_exact]) + h_max) / smin * (1 + 1e-9)) ** 2
    out = np.empty((centres.shape[0], op.edges.size - 1))
    integration._KERNELS["_valid_area"](
        np.ascontiguousarray(centres), n_exact, near, exact2, n_inner, float(op.kx[0]), dx,
        float(op.ky[0]), dy, pts_x, pts_y, (reach * (1 + 1e-9)) ** 2, *amat, *rest, table_in,
        table_out, out)
    return out


@pytest.mark.parametrize("kw", [
    dict(edges=np.linspace(0, 0.98, 21)),                          # ring leaves the detector
    dict(edges=np.linspace(0, 0.95, 39), distortion=ellipse_matrix(1.06, 25.0)),
    dict(edges=np.linspace(0.1, 0.9, 17), subpixel=2, mask=True),
])
def test_tighter_reach_gives_the_same_valid_areas_bit_for_bit(kw):
    kw = dict(kw)
    edges = kw.pop("edges")
    if kw.pop("mask", False):
        mask = np.zeros((40, 40), bool)
        mask[18:23, 22:] = True  # a beam-stop arm
        mask[0, :] = True
        kw["mask"] = mask
    op = radial_operator(K, K, edges, **kw)
    centres = np.random.default_rng(3).uniform(-0.12, 0.12, (30, 2))
    centres[0] = [K[20], K[19]]  # on a pixel centre
    assert integration._invalid_points(op, centres)[0].size > 0  # the bound is exercised
    np.testing.assert_array_equal(integration.valid_area(op, centres),
                                  _loose_valid_area(op, centres))


def test_invalid_points_are_every_off_detector_or_masked_point_in_reach_in_raster_order():
    mask = np.zeros((40, 40), bool)
    mask[5:9, 30:34] = True
    op = radial_operator(K, K, np.linspace(0, 0.99, 21), mask=mask)
    centres = np.random.default_rng(5).uniform(-0.1, 0.1, (12, 2))
    px, py = integration._invalid_points(op, centres)
    reach = integration._lattice_total(op)[1]
    j, i = np.meshgrid(np.arange(-40, 80), np.arange(-40, 80))
    x, y = K[0] + j * 0.05, K[0] + i * 0.05
    inside = (j >= 0) & (j < 40) & (i >= 0) & (i < 40)
    bad = ~inside
    bad[inside] = mask[i[inside], j[inside]]
    d = np.min(np.hypot(x[..., None] - centres[:, 0], y[..., None] - centres[:, 1]), axis=-1)
    needed = bad & (d <= reach)
    got = set(zip(np.round(px, 9), np.round(py, 9), strict=True))
    assert set(zip(np.round(x[needed], 9), np.round(y[needed], 9), strict=True)) <= got
    assert got <= set(zip(np.round(x[bad], 9), np.round(y[bad], 9), strict=True))
    rows = np.round((py - K[0]) / 0.05).astype(int) * 1000 + np.round((px - K[0]) / 0.05)
    assert np.all(np.diff(rows) > 0)  # raster order: the kernel's sums keep their order


def test_per_pattern_path_never_builds_the_operator_matrix():
    op = radial_operator(K, K, np.linspace(0, 0.9, 19))
    frames = np.random.default_rng(2).poisson(0.3, (6, 40, 40)).astype(np.uint16)
    centres = np.random.default_rng(2).uniform(-0.1, 0.1, (6, 2))
    res = integration.integrate(frames, op, centres)
    assert "matrix" not in op._cache  # only the geometry was used
    exact = integration.integrate(frames[:1], radial_operator(K, K, op.edges,
                                                              center=tuple(centres[0])))
    np.testing.assert_allclose(res.mean[0], exact.mean[0], rtol=2e-3)
    np.testing.assert_allclose(res.n_valid, integration.valid_area(op, centres).mean(axis=0))
    assert op.matrix.shape == (1600, 18) and "matrix" in op._cache  # built on demand
    assert op.n_valid is op._cache["n_valid"]


@pytest.mark.parametrize("value", [np.nan, 7.0, -3.0])
def test_the_pixel_on_the_centre_equals_the_exact_operator(value):
    """The pixel at r = 0 (spread at the end of its frame) with a finite, NaN or negative
    value, with and without distortion."""
    for distortion in (None, ellipse_matrix(1.05, 40.0)):
        op = radial_operator(K, K, np.linspace(0, 0.9, 19), distortion=distortion)
        frames = np.random.default_rng(4).poisson(1.0, (3, 40, 40)).astype(float)
        centres = np.array([[K[21], K[18]], [K[10], K[30]], [0.013, -0.02]])
        frames[0, 18, 21] = value  # on centre 0
        frames[1, 30, 10] = value  # on centre 1
        got = integration._sums(integration._native(frames.reshape(3, -1)), op, centres)
        for f in range(3):
            exact = radial_operator(K, K, op.edges, center=tuple(centres[f]),
                                    distortion=distortion)
            ref = integration._sums(integration._native(frames[f:f + 1].reshape(1, -1)),
                                    exact)[0]
            np.testing.assert_allclose(got[f, :-2], ref[:-2], rtol=1e-10, atol=1e-10)
            np.testing.assert_array_equal(got[f, -2:], ref[-2:])


@pytest.fixture(scope="module")
def drifted():
    return epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(48, 48),
                                         s_scale=0.08, descan=(1.5, -1.0))


@pytest.mark.parametrize("binning", [1, 2])
def test_lazy_equals_eager_with_beam_shift_at_any_binning(drifted, binning):
    dp = drifted.signal
    plane = epdf.signals.descan(dp).plane  # full resolution: averaged over the bin blocks
    if binning > 1:
        dp = dp.rebin(scale=(binning, binning, 1, 1))
    eager = epdf.azimuthal_profile(dp, npt=24, s_max=1.8, beam_shift=plane)
    lazy = epdf.azimuthal_profile(dp.as_lazy(), npt=24, s_max=1.8, beam_shift=plane)
    assert lazy._lazy and not eager._lazy
    lazy.compute(show_progressbar=False)
    np.testing.assert_allclose(lazy.data, eager.data, rtol=1e-12, atol=1e-14)
    var_e = eager.metadata.Signal.Noise_properties.variance.data
    var_l = lazy.metadata.Signal.Noise_properties.variance
    var_l = np.asarray(var_l.data.compute() if hasattr(var_l.data, "compute") else var_l.data)
    np.testing.assert_allclose(var_l, var_e, rtol=1e-12, atol=1e-16)
    for key in ("n_valid", "n_valid_min"):
        np.testing.assert_array_equal(lazy.metadata.ePDF.integration[key],
                                      eager.metadata.ePDF.integration[key])
    fixed = epdf.azimuthal_profile(dp, npt=24, s_max=1.8)
    assert isinstance(fixed, hs.signals.Signal1D)
    assert not np.allclose(fixed.data, eager.data, rtol=1e-3)  # the shifts were applied


K48 = (np.arange(48) - 23.5) * 0.05


@pytest.mark.parametrize("kw", [
    dict(edges=np.linspace(0, 1.1, 23), subpixel=2),
    dict(edges=np.linspace(0, 1.1, 23), subpixel=3, distortion=ellipse_matrix(1.08, 30.0)),
    dict(edges=np.linspace(0.1, 1.1, 41), subpixel=2, mask=True),  # first edge above 0
    dict(edges=np.linspace(0, 1.05, 71), subpixel=4),
    dict(edges=np.linspace(0, 0.9, 201), subpixel=2),  # > SPAN_MAX bins: the general code
])
def test_subpixel_kernel_equals_the_exact_per_centre_operator(kw):
    """subpixel > 1 with uniform bins runs _gather_sub (k² sub-squares of at most S bins,
    the pixel's weights summed before W X and W² X): equal to the operator of each centre,
    with NaN/inf/negative pixels, one near the centre inside the first edge, a centre on a
    pixel centre and one on a sub-square centre (r = 0 there: the general code)."""
    kw = dict(kw)
    edges = kw.pop("edges")
    if kw.pop("mask", False):
        mask = np.zeros((48, 48), bool)
        mask[22:27, 30:48] = True
        kw["mask"] = mask
    rng = np.random.default_rng(7)
    y, x = np.meshgrid(K48, K48, indexing="ij")
    frames = rng.poisson(0.05 + 3.0 * np.exp(-np.hypot(x, y) / 0.3), (8, 48, 48)).astype(float)
    frames[1, 20, 30] = np.nan
    frames[2, 10, 11] = np.inf
    frames[3, 24, 26] = -2.0
    frames[6, 23, 24] = np.nan  # on centre 6, inside the first edge when it is 0.1
    centres = rng.uniform(-0.15, 0.15, (8, 2))
    centres[0] = [K48[24], K48[23]]                  # on a pixel centre
    centres[5] = [K48[24] + 0.0125, K48[23] + 0.0125]  # on a sub-square centre for k = 2
    centres[6] = [K48[24], K48[23]]
    op = radial_operator(K48, K48, edges, **kw)
    flat = integration._native(frames.reshape(8, -1))
    got = integration._sums(flat, op, centres)
    assert (integration._sub_geometry(op) is not None) == (edges.size < 200)
    nb = edges.size - 1
    for f in range(8):
        exact = radial_operator(K48, K48, edges, center=tuple(centres[f]), **kw)
        ref = integration._sums(flat[f:f + 1], exact)[0]
        np.testing.assert_allclose(got[f, :3 * nb], ref[:3 * nb], rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(got[f, 3 * nb:], ref[3 * nb:])
    assert got[1, 3 * nb] == 1 and got[2, 3 * nb] == 1 and got[3, 3 * nb + 1] == 1
