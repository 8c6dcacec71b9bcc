"""The fused chain operator against the step functions and analytic truths."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics import chain, corrections, fit, transform
from pyxem_epdf.physics.scattering import mean_scattering

from ..conftest import COMPOSITION, ComputeCounter

S = np.linspace(0.0, 3.0, 301)
R = transform.r_grid(10.0, 0.02)


def steps(phi, s, r, *, s_min, envelope=None, s_max=None, polynomial=True, s_range=None):
    """The step-by-step route of the pure functions (what the operator must equal)."""
    s_max = float(s[-1]) if s_max is None else s_max
    keep = int(np.searchsorted(s, s_max * (1 + 1e-12), side="right"))
    coefs = None
    out = phi[..., :keep]
    if polynomial:
        coefs = corrections.fit_polynomial_correction(phi, s, s_max=s_max, s_range=s_range)
        out = out - corrections.polynomial_baseline(coefs, s[:keep], s_max)
    if envelope is not None:
        out = out * envelope[:keep]
    out = corrections.extrapolate_low_s(out, s[:keep], s_min)
    return transform.sine_transform(out, s[:keep], r), coefs


OPTIONS = [
    {"s_min": 0.2},
    {"s_min": 0.2, "envelope": corrections.exponential_damping(S, 0.8), "s_range": (0.3, 3.0)},
    {"s_min": 0.35, "s_max": 2.5, "s_range": (0.25, 2.5)},  # window reaches below s_min
    {"s_min": 0.2, "polynomial": False, "envelope": corrections.lorch_damping(S, 3.0)},
    {"s_min": 0.2, "s_max": 2.0, "polynomial": False},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_operator_equals_the_steps(options):
    phi = np.random.default_rng(1).normal(size=(2, 3, S.size))
    op = chain.chain_operator(S, R, **options)
    g_steps, c_steps = steps(phi, S, R, **options)
    np.testing.assert_allclose(phi[..., op.rows] @ op.matrix, g_steps,
                               rtol=0, atol=1e-10 * np.abs(g_steps).max())
    if options.get("polynomial", True):
        np.testing.assert_allclose(phi[..., op.rows] @ op.coefficients, c_steps, rtol=1e-10)
    else:
        assert op.coefficients is None


def test_rows_drop_the_direct_beam_and_bins_beyond_s_max():
    op = chain.chain_operator(S, R, s_min=0.2, s_max=2.5, s_range=(0.3, 2.5))
    # only the two samples bracketing s_min (0.2 lies on a sample: 0.19 is
    # kept with weight 0) and the bins up to s_max reach G
    assert op.rows == slice(20, 251)
    assert op.matrix.shape == (231, R.size) and op.s_max == 2.5


def test_polynomial_is_removed_exactly():
    """φ equal to a Mu polynomial is corrected to 0, so G = 0."""
    phi = corrections.polynomial_baseline([[0.3, -0.2, 0.05], [1.0, 0.0, -0.1]], S, 3.0)
    op = chain.chain_operator(S, R, s_min=0.2, s_range=(0.3, 3.0))
    np.testing.assert_allclose(phi[:, op.rows] @ op.matrix, 0, atol=1e-10)
    np.testing.assert_allclose(phi[:, op.rows] @ op.coefficients,
                               [[0.3, -0.2, 0.05], [1.0, 0.0, -0.1]], atol=1e-12)


def test_single_shell_transforms_to_a_gaussian():
    """φ = sin(2π s r₀) exp(−2π²σ²s²)/(2π) gives a Gaussian of area 1 at r₀."""
    s = np.linspace(0, 12, 2401)
    r = transform.r_grid(3.0, 0.01, r_min=1.0)
    r0, sigma = 2.0, 0.1
    phi = np.sin(2 * np.pi * s * r0) * np.exp(-2 * np.pi**2 * sigma**2 * s**2) / (2 * np.pi)
    op = chain.chain_operator(s, r, s_min=0.01, polynomial=False)
    truth = np.exp(-((r - r0) ** 2) / (2 * sigma**2)) / (sigma * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(phi[op.rows] @ op.matrix, truth, atol=2e-4 * truth.max())


def intensity_fixture(nav=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    f2, fsq = mean_scattering(COMPOSITION, S)
    N = rng.uniform(0.5, 2.0, nav)
    C = rng.uniform(0, 0.1, nav)
    intensity = N[..., None] * f2 * (1 + 0.1 * np.sin(6 * S)) + C[..., None]
    intensity = rng.poisson(200 * intensity) / 200.0
    return intensity, N, C, f2, fsq


def test_intensity_to_pdf_equals_phi_then_operator():
    intensity, N, C, f2, fsq = intensity_fixture()
    op = chain.chain_operator(S, R, s_min=0.2, envelope=corrections.exponential_damping(S, 0.5),
                              s_range=(0.3, 3.0))
    G, coefs = chain.intensity_to_pdf(intensity, S, N, C, f2, fsq, op)
    phi = fit.reduced_intensity(intensity, S, N, C, f2, fsq)
    np.testing.assert_allclose(G, phi[..., op.rows] @ op.matrix, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(coefs, phi[..., op.rows] @ op.coefficients, rtol=1e-12)
    G32, _ = chain.intensity_to_pdf(intensity, S, N, C, f2, fsq, op, dtype="float32")
    assert G32.dtype == np.float32
    assert np.abs(G32 - G).max() < 1e-5 * np.abs(G).max()


@pytest.mark.parametrize("per_pixel", [False, True])
def test_intensity_to_pdf_lazy_equals_eager(per_pixel):
    intensity, N, C, f2, fsq = intensity_fixture(nav=(5, 4))
    if per_pixel:  # composition maps: ⟨f²⟩, ⟨f⟩² per probe position
        scale = np.linspace(0.9, 1.1, 20).reshape(5, 4, 1)
        f2, fsq = f2 * scale, fsq * scale**2
    op = chain.chain_operator(S, R, s_min=0.2, s_range=(0.3, 3.0))
    eager = chain.intensity_to_pdf(intensity, S, N, C, f2, fsq, op)
    lazy_in = da.from_array(intensity, chunks=(2, 3, 100))
    with ComputeCounter() as counter:
        G, coefs = chain.intensity_to_pdf(lazy_in, S, da.from_array(N, chunks=2), C,
                                          da.from_array(f2) if per_pixel else f2, fsq, op)
    assert counter.runs == 0 and isinstance(G, da.Array) and isinstance(coefs, da.Array)
    np.testing.assert_allclose(G.compute(), eager[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(coefs.compute(), eager[1], rtol=1e-12, atol=1e-14)


def test_invalid_patterns_give_zero():
    intensity, N, C, f2, fsq = intensity_fixture(nav=(4,))
    N[1], N[2] = 0.0, np.nan
    intensity[2] = np.nan  # no data at all in a vacuum pattern: still 0, as φ
    op = chain.chain_operator(S, R, s_min=0.2)
    for x in (intensity, da.from_array(intensity, chunks=(2, -1))):
        G, coefs = chain.intensity_to_pdf(x, S, N, C, f2, fsq, op)
        G, coefs = np.asarray(G), np.asarray(coefs)
        assert np.all(G[1:3] == 0) and np.all(coefs[1:3] == 0)
        assert np.all(np.isfinite(G)) and np.any(G[0] != 0)


def test_errors():
    with pytest.raises(ValueError, match="'s_min' must lie in"):
        chain.chain_operator(S, R, s_min=2.8, s_max=2.5)
    with pytest.raises(ValueError, match="'s_max' must lie in"):
        chain.chain_operator(S, R, s_min=0.2, s_max=3.5)
    with pytest.raises(ValueError, match="'envelope' must have the shape"):
        chain.chain_operator(S, R, s_min=0.2, envelope=np.ones(10))
    with pytest.raises(ValueError, match="'envelope' must be finite"):
        chain.chain_operator(S, R, s_min=0.2, envelope=np.full(S.size, np.nan))
    with pytest.raises(ValueError, match="'s' must be >= 0"):
        chain.chain_operator(S - 1, R, s_min=0.2)
    intensity, N, C, f2, fsq = intensity_fixture()
    op = chain.chain_operator(S, R, s_min=0.2)
    with pytest.raises(ValueError, match="'dtype'"):
        chain.intensity_to_pdf(intensity, S, N, C, f2, fsq, op, dtype="int8")
    with pytest.raises(ValueError, match="'intensity' has 300 s values"):
        chain.intensity_to_pdf(intensity[..., 1:], S, N, C, f2, fsq, op)


def test_reduced_intensity_in_place_and_lazy_paths_agree_with_the_formula():
    intensity, N, C, f2, fsq = intensity_fixture(nav=(6,))
    N[0] = -1.0
    intensity[0] = np.inf
    with np.errstate(invalid="ignore"):
        expected = S * (intensity - N[:, None] * f2 - C[:, None]) / (N[:, None] * fsq)
    expected[0] = 0.0
    eager = fit.reduced_intensity(intensity, S, N, C, f2, fsq)
    lazy = fit.reduced_intensity(da.from_array(intensity, chunks=(3, -1)), S, N, C, f2, fsq)
    np.testing.assert_allclose(eager, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12, atol=1e-12)
    single = fit.reduced_intensity(intensity[1], S, N[1], C[1], f2, fsq)
    np.testing.assert_allclose(single, expected[1], rtol=1e-12)
    assert np.all(fit.reduced_intensity(intensity[0], S, N[0], C[0], f2, fsq) == 0)


def test_operator_is_cached_and_read_only():
    env = corrections.exponential_damping(S, 0.8)
    a = chain.chain_operator(S, R, s_min=0.2, envelope=env)
    assert chain.chain_operator(S, R, s_min=0.2, envelope=env.copy()) is a
    assert chain.chain_operator(S, R, s_min=0.21, envelope=env) is not a
    with pytest.raises(ValueError, match="read-only"):
        a.matrix[0, 0] = 1.0


@pytest.mark.parametrize("per_pixel", [False, True])
def test_many_patterns_in_blocks(per_pixel):
    """More patterns than one block of the eager product (2048): same as one product."""
    intensity, N, C, f2, fsq = intensity_fixture(nav=(45, 100), seed=2)
    if per_pixel:
        f2 = f2 * np.linspace(0.9, 1.1, 100)[:, None]  # broadcasts over the first axis
    op = chain.chain_operator(S, R, s_min=0.2, s_range=(0.3, 3.0))
    G, coefs = chain.intensity_to_pdf(intensity, S, N, C, f2, fsq, op)
    phi = fit.reduced_intensity(intensity, S, N, C, f2, fsq)
    np.testing.assert_allclose(G, phi[..., op.rows] @ op.matrix, rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(coefs, phi[..., op.rows] @ op.coefficients, rtol=1e-12,
                               atol=1e-14)


def test_lazy_fit_maps_with_numpy_intensity_stay_lazy():
    """N from a fit weighted by a lazy variance is dask while I(s) is NumPy: a dask result."""
    intensity, N, C, f2, fsq = intensity_fixture(nav=(4, 5))
    op = chain.chain_operator(S, R, s_min=0.2)
    eager = chain.intensity_to_pdf(intensity, S, N, C, f2, fsq, op)
    G, coefs = chain.intensity_to_pdf(intensity, S, da.from_array(N, chunks=2), C, f2, fsq, op)
    assert isinstance(G, da.Array)
    np.testing.assert_allclose(G.compute(), eager[0], rtol=1e-12, atol=1e-12)
