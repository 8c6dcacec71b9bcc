"""Closed-form σ(G): checked against a finite-difference Jacobian of the whole chain."""

import numpy as np
import pytest

from pyxem_epdf.physics import chain, corrections, fit, transform, uncertainty
from pyxem_epdf.physics.integration import radial_operator


def _setup(n_pat=3, seed=0):
    rng = np.random.default_rng(seed)
    s = np.linspace(0.02, 3.0, 150)
    r = transform.r_grid(8.0, 0.1)
    f2 = 1.0 / (1.0 + s**2) ** 2
    fsq = 0.8 * f2
    env = corrections.exponential_damping(s, 0.5)
    op = chain.chain_operator(s, r, s_min=0.2, envelope=env, s_range=(0.2, 3.0))
    N = rng.uniform(50, 100, n_pat)
    intensity = N[:, None] * f2 * (1 + 0.2 * np.sin(6 * s) * np.exp(-s)) + 0.3
    var = rng.uniform(0.5, 2.0, intensity.shape) * 1e-3 * intensity
    return s, r, f2, fsq, op, intensity, var


def _chain(intensity, s, f2, fsq, op, s_range, fix_c=False):
    res = fit.fit_scattering_background(intensity, s, f2, s_range, fix_c=fix_c)
    G, _ = chain.intensity_to_pdf(intensity, s, res.N, res.C, f2, fsq, op)
    return G, res


@pytest.mark.parametrize("fix_c", [False, True])
@pytest.mark.parametrize("banded", [False, True])
def test_matches_finite_difference_jacobian(fix_c, banded):
    s, r, f2, fsq, op, intensity, var = _setup()
    s_range = (1.6, 2.5)
    G0, res = _chain(intensity, s, f2, fsq, op, s_range, fix_c)
    R = None
    if banded:
        R = np.eye(s.size) + 0.3 * (np.eye(s.size, k=1) + np.eye(s.size, k=-1))
    grad = uncertainty.fit_gradients(s, f2, s_range, fix_c=fix_c)
    got = uncertainty.pdf_variance(var, intensity, s, res.N, res.C, f2, fsq, op, gradients=grad,
                                   correlation=R)
    h = 1e-6
    for p in range(intensity.shape[0]):
        J = np.empty((s.size, r.size))
        for j in range(s.size):
            i_p = intensity[p].copy()
            i_p[j] += h * intensity[p, j]
            J[j] = (_chain(i_p, s, f2, fsq, op, s_range, fix_c)[0] - G0[p]) / (h * intensity[p, j])
        sd = np.sqrt(var[p])
        cov = sd[:, None] * (np.eye(s.size) if R is None else R) * sd[None]
        want = np.einsum("jr,jk,kr->r", J, cov, J)
        np.testing.assert_allclose(got[p], want, rtol=1e-4, atol=1e-6 * want.max())


def test_per_pattern_weighted_gradients_match_finite_difference():
    s, r, f2, fsq, op, intensity, var = _setup()
    s_range = (1.6, 2.5)
    w = 1.0 / var  # fixed per-pattern weights

    def chain_w(x):
        res = fit.fit_scattering_background(x, s, f2, s_range, weights=w)
        return chain.intensity_to_pdf(x, s, res.N, res.C, f2, fsq, op)[0], res

    G0, res = chain_w(intensity)
    grad = uncertainty.fit_gradients(s, f2, s_range, weights=w)
    assert grad[0].shape == intensity.shape
    got = uncertainty.pdf_variance(var, intensity, s, res.N, res.C, f2, fsq, op,
                                   gradients=grad)
    h = 1e-6
    J = np.empty((intensity.shape[0], s.size, r.size))
    for j in range(s.size):
        x = intensity.copy()
        x[:, j] += h * intensity[:, j]
        J[:, j] = (chain_w(x)[0] - G0) / (h * intensity[:, j])[:, None]
    want = np.einsum("pjr,pj->pr", J**2, var)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6 * want.max())
    da = pytest.importorskip("dask.array")
    lazy = uncertainty.pdf_variance(da.from_array(var, chunks=(1, -1)), intensity, s, res.N,
                                    res.C, f2, fsq, op,
                                    gradients=tuple(da.from_array(g, chunks=(1, -1))
                                                    for g in grad))
    np.testing.assert_allclose(lazy.compute(), got, rtol=1e-12)


def test_fit_gradients_reproduce_fit():
    s, r, f2, fsq, op, intensity, var = _setup()
    a, c = uncertainty.fit_gradients(s, f2, (1.6, 2.5))
    res = fit.fit_scattering_background(intensity, s, f2, (1.6, 2.5))
    np.testing.assert_allclose(intensity @ a, res.N)
    np.testing.assert_allclose(intensity @ c, res.C, atol=1e-10)


def test_independent_n_term_adds_variance():
    s, r, f2, fsq, op, intensity, var = _setup()
    _, res = _chain(intensity, s, f2, fsq, op, (1.6, 2.5))
    naive = uncertainty.pdf_variance(var, intensity, s, res.N, res.C, f2, fsq, op)
    with_n = uncertainty.pdf_variance(var, intensity, s, res.N, res.C, f2, fsq, op,
                                      N_std=0.01 * res.N, C_std=0.0)
    # the added term is (dG/dN)² N_std², dG/dN = -(G + (s⟨f²⟩/⟨f⟩²) L)/N
    G, _ = chain.intensity_to_pdf(intensity, s, res.N, res.C, f2, fsq, op)
    dG = -(G + ((s * f2 / fsq)[op.rows] @ op.matrix)[None]) / res.N[:, None]
    np.testing.assert_allclose(with_n - naive, (dG * 0.01 * res.N[:, None]) ** 2,
                               rtol=1e-8, atol=1e-12)


def test_lazy_equals_eager_and_stays_lazy():
    da = pytest.importorskip("dask.array")
    s, r, f2, fsq, op, intensity, var = _setup(n_pat=6)
    _, res = _chain(intensity, s, f2, fsq, op, (1.6, 2.5))
    grad = uncertainty.fit_gradients(s, f2, (1.6, 2.5))
    eager = uncertainty.pdf_variance(var, intensity, s, res.N, res.C, f2, fsq, op, gradients=grad)
    lazy = uncertainty.pdf_variance(da.from_array(var, chunks=(2, -1)),
                                    da.from_array(intensity, chunks=(2, -1)), s,
                                    da.from_array(res.N, chunks=2), res.C, f2, fsq, op,
                                    gradients=grad)
    assert hasattr(lazy, "dask")
    np.testing.assert_allclose(lazy.compute(), eager, rtol=1e-12)


def test_vacuum_pattern_has_zero_variance_and_inputs_untouched():
    s, r, f2, fsq, op, intensity, var = _setup()
    N = np.array([60.0, 0.0, -1.0])
    i0, v0 = intensity.copy(), var.copy()
    out = uncertainty.pdf_variance(var, intensity, s, N, np.zeros(3), f2, fsq, op)
    assert np.all(out[1:] == 0) and np.all(out[0, 1:] > 0) and np.all(np.isfinite(out))
    np.testing.assert_array_equal(intensity, i0)
    np.testing.assert_array_equal(var, v0)


def test_bad_input():
    s, r, f2, fsq, op, intensity, var = _setup()
    with pytest.raises(ValueError, match="'variance'"):
        uncertainty.pdf_variance(var[:, :-1], intensity, s, 1.0, 0.0, f2, fsq, op)
    with pytest.raises(ValueError, match="'gradients'"):
        uncertainty.pdf_variance(var, intensity, s, 1.0, 0.0, f2, fsq, op,
                                 gradients=(f2, f2), N_std=1.0)
    with pytest.raises(ValueError, match="'correlation'"):
        uncertainty.pdf_variance(var, intensity, s, 1.0, 0.0, f2, fsq, op, correlation=np.eye(3))
    with pytest.raises(ValueError, match="'f2_mean'"):
        uncertainty.pdf_variance(var, intensity, s, 1.0, 0.0, f2[:-1], fsq, op)


def test_bin_correlation_is_a_correlation_of_subpixel_splitting():
    k = np.arange(-16, 16) + 0.5
    edges = np.arange(0, 17, 1.0)
    op = radial_operator(k, k, edges, subpixel=4)
    R = uncertainty.bin_correlation(op.matrix)
    np.testing.assert_allclose(np.diag(R), 1.0)
    np.testing.assert_allclose(R, R.T)
    assert np.all(np.linalg.eigvalsh(R) > -1e-10)
    # a pixel one bin wide touches at most two neighbours: tridiagonal-ish
    assert np.all(np.triu(R, 3) == 0)
    assert 0.1 < R[8, 9] < 0.5
    # Monte-Carlo check on a flat Poisson field
    rng = np.random.default_rng(0)
    frames = rng.poisson(50.0, size=(4000, 32, 32)).reshape(4000, -1).astype(float)
    sums = frames @ op.matrix.toarray()
    emp = np.corrcoef(sums[:, 2:14].T)
    np.testing.assert_allclose(emp, R[2:14, 2:14], atol=0.06)


def test_component_variance_matches_monte_carlo():
    rng = np.random.default_rng(1)
    F = rng.dirichlet([1, 1], size=40)
    E = rng.normal(size=(2, 5))
    sd = rng.uniform(0.1, 0.3, (40, 5))
    noise = rng.normal(size=(3000, 40, 5)) * sd
    est = np.linalg.pinv(F) @ (F @ E + noise)
    np.testing.assert_allclose(est.std(axis=0),
                               np.sqrt(uncertainty.component_variance(F, sd**2)), rtol=0.08)


def test_sigma_coverage_counts_band():
    G = np.array([[0.0, 2.0], [0.5, -0.5]])
    assert uncertainty.sigma_coverage(G, np.ones_like(G), 0.0).tolist() == [1.0, 0.5]
