"""The per-pattern-centre kernel's sums Σ w X, Σ w² X and the non-finite weights equal those
of the sparse operator built for each pattern's own centre (the same footprint weights),
for the few-bin paths (3, 4, 5–8 bins per footprint) and the general one, with distortion, mask, NaN, negative values,
a first edge above 0 and centres on a pixel centre (r = 0)."""

import numpy as np
import pytest

from pyxem_epdf.physics import integration
from pyxem_epdf.physics.geometry import ellipse_matrix
from pyxem_epdf.physics.integration import radial_operator

K = (np.arange(48) - 23.5) * 0.05  # 48 × 48 pixels, 0.05 Å⁻¹ per pixel


def _frames(rng, n):
    y, x = np.meshgrid(K, K, indexing="ij")
    lam = 0.05 + 3.0 * np.exp(-np.hypot(x, y) / 0.3)
    frames = rng.poisson(lam, size=(n, 48, 48)).astype(float)
    frames[1, 20, 30] = np.nan
    frames[2, 10, 11] = np.inf
    frames[3, 24, 26] = -2.0
    return frames


CASES = {  # name: (keywords, bins per footprint of the fast path; 0 = general code)
    "one bin per pixel": (dict(edges=np.linspace(0, 1.1, 23)), 3),
    "coarse bins, first edge 0.2": (dict(edges=np.linspace(0.2, 1.1, 10)), 3),
    "distortion 1.08 @ 30°, mask": (dict(edges=np.linspace(0, 1.1, 21),
                                          distortion=ellipse_matrix(1.08, 30.0), mask=True), 3),
    "one bin per pixel, distortion 1.05 @ 60°": (
        dict(edges=np.linspace(0, 1.1, 23), distortion=ellipse_matrix(1.05, 60.0)), 3),
    "bins 0.92 px (the default grid's kind)": (dict(edges=np.linspace(0, 1.1, 25)), 3),
    "bins 0.7 px": (dict(edges=np.linspace(0, 1.05, 31)), 4),
    "bins 0.6 px, distortion 1.4 @ 10°": (
        dict(edges=np.linspace(0, 1.05, 36), distortion=ellipse_matrix(1.4, 10.0)), 4),
    "half-pixel bins, first edge 0.1": (dict(edges=np.linspace(0.1, 1.1, 41)), 4),
    "bins 0.3 px": (dict(edges=np.linspace(0, 1.05, 71)), 6),
    "quarter-pixel bins": (dict(edges=np.linspace(0, 1.0, 81)), 7),
    "bins 0.15 px": (dict(edges=np.linspace(0, 0.9, 121)), 0),
    "non-uniform bins": (dict(edges=np.geomspace(0.05, 1.1, 30)), 0),
    "subpixel 2": (dict(edges=np.linspace(0, 1.1, 23), subpixel=2), 0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_kernel_sums_equal_the_exact_per_centre_operator(case):
    kw, span = dict(CASES[case][0]), CASES[case][1]
    edges = kw.pop("edges")
    if kw.pop("mask", False):
        mask = np.zeros((48, 48), bool)
        mask[22:27, 30:48] = True  # a beam-stop arm
        kw["mask"] = mask
    rng = np.random.default_rng(7)
    frames = _frames(rng, 8)
    centres = rng.uniform(-0.15, 0.15, (8, 2))  # up to 3 px off
    centres[0] = [K[24], K[23]]                 # on a pixel centre: r = 0 there
    centres[4] = [0.0, 0.0]                     # on a pixel corner
    op = radial_operator(K, K, edges, **kw)
    flat = integration._native(frames.reshape(8, -1))
    got = integration._sums(flat, op, centres)
    assert integration._shifted_geometry(op)[2] == span
    nb = edges.size - 1
    for f in range(8):
        exact = radial_operator(K, K, edges, center=tuple(centres[f]), **kw)
        ref = integration._sums(flat[f:f + 1], exact)[0]
        np.testing.assert_allclose(got[f, :3 * nb], ref[:3 * nb], rtol=1e-10, atol=1e-10)  # rounding only
        np.testing.assert_array_equal(got[f, 3 * nb:], ref[3 * nb:])  # the counts
    assert got[1, 3 * nb] == 1 and got[2, 3 * nb] == 1 and got[3, 3 * nb + 1] == 1


def test_pixels_beyond_reach_are_not_read_and_flat_stays_flat():
    """Counts placed beyond the outer edge's reach change nothing; a flat frame integrated
    with a centre per pattern is flat (its valid areas from the tables)."""
    edges = np.linspace(0, 0.6, 13)
    op = radial_operator(K, K, edges)
    reach = integration._shifted_geometry(op)[0]
    assert 0.6 < reach < 0.6 + 0.05 * (1 + 1e-6)  # outer edge + h_max = (dx + dy) / 2
    centres = np.array([[0.1, -0.05], [-0.12, 0.08]])
    y, x = np.meshgrid(K, K, indexing="ij")
    frames = np.ones((2, 48, 48))
    far = np.hypot(x[None] - centres[:, 0, None, None], y[None] - centres[:, 1, None, None])
    with_far = np.where(far > reach + 0.06, 1e6, frames)
    flat = integration._sums(integration._native(frames.reshape(2, -1)), op, centres)
    flat_far = integration._sums(integration._native(with_far.reshape(2, -1)), op, centres)
    np.testing.assert_array_equal(flat, flat_far)
    res = integration.integrate(frames, op, centres)
    np.testing.assert_allclose(res.mean, 1.0, rtol=1e-3)


def test_valid_area_threads_and_shared_tables():
    """Threads over the centres give the same areas; operators of one geometry share one
    read-only set of lattice tables, a different bin grid gets its own."""
    edges = np.linspace(0, 1.1, 23)
    op = radial_operator(K, K, edges)
    centres = np.random.default_rng(1).uniform(-0.1, 0.1, (40, 2))
    one = integration.valid_area(op, centres, threads=1)
    np.testing.assert_array_equal(integration.valid_area(op, centres, threads=3), one)
    mask = np.zeros((48, 48), bool)
    mask[:, :2] = True
    other = radial_operator(K, K, edges, mask=mask)  # the mask does not enter the tables
    assert integration._lattice_total(other)[0][1] is integration._lattice_total(op)[0][1]
    assert not integration._lattice_total(op)[0][1].flags.writeable
    finer = radial_operator(K, K, np.linspace(0, 1.1, 45))
    assert integration._lattice_total(finer)[0][1].shape[-1] == 44
    exact = radial_operator(K, K, edges, mask=mask, center=tuple(centres[3]))
    np.testing.assert_allclose(integration.valid_area(other, centres[3]), exact.n_valid,
                               rtol=1e-3)
