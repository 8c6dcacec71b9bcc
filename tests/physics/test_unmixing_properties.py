"""Property tests of ``physics.unmixing.interior_noise_covariance``,
``loading_thickness_correlation`` and ``thickness_deflated`` on small synthetic
two-phase cubes (the construction of tests/test_interface_bias.py, smaller)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyxem_epdf.physics import unmixing as U

SETTINGS = settings(max_examples=25, deadline=None)
N_R = 24
R = np.linspace(1, 8, N_R)
E = np.stack([np.sin(2.1 * R) * np.exp(-0.2 * R), np.cos(1.7 * R) * np.exp(-0.15 * R)])


def cube(shape, edge, noise, seed, wedge=0.0):
    """(x, fraction of phase 0, thickness map) of a straight two-phase boundary at column
    ``edge``, r-correlated Gaussian noise and (``wedge``) a thickness mode along x."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]].astype(float)
    f = (xx < edge).astype(float).ravel()
    t = 1 + xx / shape[1]
    a = np.stack([np.cos(np.pi * j * (R - 1) / 7) / (1 + 0.3 * j) for j in range(8)], 1)
    n = rng.normal(size=(f.size, 8)) @ a.T / 3 + 0.3 * rng.normal(size=(f.size, N_R))
    x = np.outer(f, E[0]) + np.outer(1 - f, E[1]) + noise * n
    x += wedge * np.outer(t.ravel() - t.mean(), np.sin(5 * R + 1))
    return x, f, t


cubes = st.fixed_dictionaries({
    "shape": st.tuples(st.integers(6, 12), st.integers(6, 12)),
    "edge": st.integers(1, 11),
    "noise": st.floats(0.02, 0.3),
    "seed": st.integers(0, 2**16),
})


def is_psd(c):
    lam = np.linalg.eigvalsh(c)
    return lam.min() >= -1e-10 * max(lam.max(), 1e-300)


# ---------------------------------------------------------------- interior_noise_covariance

@SETTINGS
@given(c=cubes, margin=st.floats(0.05, 0.95), min_pairs=st.integers(1, 60))
def test_interior_covariance_is_finite_symmetric_psd(c, margin, min_pairs):
    x, _, _ = cube(**c)
    ev = U.rank_evidence(x, c["shape"])
    cov, n = U.interior_noise_covariance(ev, E, c["shape"], margin=margin, min_pairs=min_pairs)
    m = ev.basis.shape[1]
    assert cov.shape == (m, m)
    assert np.all(np.isfinite(cov))
    np.testing.assert_array_equal(cov, cov.T)
    assert is_psd(cov)
    n_all = len(U._neighbour_pairs(c["shape"], ev.used))
    assert n <= n_all
    if n == 0:  # fell back: the evidence's own estimate, as documented
        assert cov is ev.noise_cov


@SETTINGS
@given(c=cubes)
def test_too_few_pairs_fall_back_to_the_evidence_covariance(c):
    x, _, _ = cube(**c)
    ev = U.rank_evidence(x, c["shape"])
    n_all = len(U._neighbour_pairs(c["shape"], ev.used))
    cov, n = U.interior_noise_covariance(ev, E, c["shape"], min_pairs=n_all + 1)
    assert n == 0 and cov is ev.noise_cov


@SETTINGS
@given(c=cubes)
def test_one_endmember_gives_the_all_pairs_estimate(c):
    """Documented: with one endmember every pixel is inside it, so the result is
    rank_evidence's own (all-pairs, trimmed, calibrated) estimate."""
    x, _, _ = cube(**c)
    ev = U.rank_evidence(x, c["shape"])
    cov, n = U.interior_noise_covariance(ev, E[:1], c["shape"], min_pairs=1)
    assert n > 0
    np.testing.assert_allclose(cov, ev.noise_cov, rtol=1e-9,
                               atol=1e-12 * np.abs(ev.noise_cov).max())


@SETTINGS
@given(c=cubes)
def test_transposing_the_scan_keeps_the_covariance_over_r(c):
    """The same pixels with the same neighbours in another order: the covariance over r
    (basis · cov · basisᵀ) is unchanged (the basis coordinates themselves may differ)."""
    x, _, _ = cube(**c)
    ny, nx = c["shape"]
    xt = x.reshape(ny, nx, N_R).transpose(1, 0, 2).reshape(-1, N_R)
    ev, evt = U.rank_evidence(x, (ny, nx)), U.rank_evidence(xt, (nx, ny))
    cov, n = U.interior_noise_covariance(ev, E, (ny, nx))
    covt, nt = U.interior_noise_covariance(evt, E, (nx, ny))
    assert n == nt
    a, b = ev.basis @ cov @ ev.basis.T, evt.basis @ covt @ evt.basis.T
    np.testing.assert_allclose(a, b, atol=1e-8 * np.abs(a).max())


@pytest.mark.parametrize("kw, name", [
    ({"margin": 0.0}, "margin"), ({"margin": 1.0}, "margin"), ({"margin": np.nan}, "margin"),
    ({"trim": 0.0}, "trim"), ({"trim": np.inf}, "trim"), ({"trim": np.nan}, "trim"),
    ({"min_pairs": 0}, "min_pairs"), ({"min_pairs": np.nan}, "min_pairs"),
    ({"min_pairs": 2.5}, "min_pairs"), ({"min_pairs": "many"}, "min_pairs"),
    ({"endmembers": E[:, :-1]}, "endmembers"), ({"endmembers": E[0]}, "endmembers"),
    ({"endmembers": np.zeros((0, N_R))}, "endmembers"),
    ({"nav_shape": (8, 9)}, "nav_shape"),
])
def test_interior_covariance_bad_parameters_name_themselves(kw, name):
    x, _, _ = cube((8, 8), 4, 0.1, 0)
    ev = U.rank_evidence(x, (8, 8))
    args = {"endmembers": E, "nav_shape": (8, 8)}
    args.update({k: kw.pop(k) for k in ("endmembers", "nav_shape") if k in kw})
    with pytest.raises(ValueError, match=f"'{name}'"):
        U.interior_noise_covariance(ev, args["endmembers"], args["nav_shape"], **kw)


# --------------------------------------------------------- loading_thickness_correlation

@SETTINGS
@given(c=cubes, wedge=st.sampled_from([0.0, 0.3]), scale=st.floats(1e-3, 1e3),
       smooth=st.sampled_from([0.0, 1.0, 2.5]), n_max=st.integers(2, 30))
def test_thickness_correlation_range_nan_and_scale_invariance(c, wedge, scale, smooth, n_max):
    x, f, t = cube(**c, wedge=wedge)
    ev = U.rank_evidence(x, c["shape"])
    rng = np.random.default_rng(c["seed"])
    n_hat = t.ravel() * (1 + 0.2 * f) * np.exp(0.05 * rng.normal(size=f.size))
    rho = U.loading_thickness_correlation(ev, n_hat, c["shape"], smooth=smooth, n_max=n_max)
    m = ev.components.shape[0]
    assert rho.shape == (m,)
    assert np.isnan(rho[0]) and np.all(np.isnan(rho[min(n_max, m):]))
    body = rho[1:min(n_max, m)]
    assert np.all(np.isfinite(body)) and np.all(np.abs(body) <= 1.0)
    scaled = U.loading_thickness_correlation(ev, scale * n_hat, c["shape"], smooth=smooth,
                                             n_max=n_max)
    np.testing.assert_allclose(scaled, rho, atol=1e-9, equal_nan=True)


@pytest.mark.parametrize("args, kw, name", [
    (lambda n: (n[:10], (8, 8)), {}, "n_map"),
    (lambda n: (np.where(np.arange(64) == 3, -1.0, n), (8, 8)), {}, "n_map"),
    (lambda n: (np.where(np.arange(64) == 3, np.nan, n), (8, 8)), {}, "n_map"),
    (lambda n: (np.r_[n, n[:8]], (9, 8)), {}, "nav_shape"),
    (lambda n: (n, (4, 4)), {}, "nav_shape"),
    (lambda n: (n, (8, 8, "x")), {}, "nav_shape"),
    (lambda n: (n, (8, 8)), {"n_max": 10**6}, "k"),
    (lambda n: (n, (8, 8)), {"smooth": -1.0}, "smooth"),
    (lambda n: (n, (8, 8)), {"smooth": np.nan}, "smooth"),
    (lambda n: (n, (8, 8)), {"n_max": 1}, "n_max"),
])
@pytest.mark.parametrize("func", ["correlation", "deflated"])
def test_thickness_functions_bad_input_name_the_parameter(args, kw, name, func):
    x, f, t = cube((8, 8), 4, 0.1, 0)
    ev = U.rank_evidence(x, (8, 8))
    n_map, nav = args(t.ravel())
    if func == "correlation" and name == "k":  # a large n_max is legal: all components
        rho = U.loading_thickness_correlation(ev, n_map, nav, **kw)
        assert np.isnan(rho[0]) and np.all(np.isfinite(rho[1:]))
        return
    if func == "correlation":
        call = lambda: U.loading_thickness_correlation(ev, n_map, nav, **kw)  # noqa: E731
    else:
        if "n_max" in kw:
            kw = {"k": 0 if kw["n_max"] == 1 else kw["n_max"]}
            name = "k"
        call = lambda: U.thickness_deflated(ev, n_map, nav, kw.pop("k", 2), **kw)  # noqa: E731
    with pytest.raises(ValueError, match=f"'{name}'"):
        call()


# ------------------------------------------------------------------ thickness_deflated

@SETTINGS
@given(c=cubes, wedge=st.sampled_from([0.0, 0.3]), k=st.integers(1, 3),
       smooth=st.sampled_from([0.0, 1.0]))
def test_deflated_evidence_shapes_and_finite(c, wedge, k, smooth):
    x, f, t = cube(**c, wedge=wedge)
    ev = U.rank_evidence(x, c["shape"])
    before = (ev.coordinates.copy(), ev.components.copy())
    out = U.thickness_deflated(ev, t * (1 + 0.2 * f.reshape(t.shape)), c["shape"], k,
                               smooth=smooth)
    assert out.coordinates.shape == ev.coordinates.shape
    assert out.components.shape == ev.components.shape
    assert np.all(np.isfinite(out.coordinates)) and np.all(np.isfinite(out.components))
    # orthonormal rows, as the SVD it documents
    np.testing.assert_allclose(out.components @ out.components.T,
                               np.eye(len(out.components)), atol=1e-9)
    # only coordinates and components replaced; the input evidence is unchanged
    np.testing.assert_array_equal(ev.coordinates, before[0])
    np.testing.assert_array_equal(ev.components, before[1])
    for name in ("singular_values", "noise_floor", "n_components", "used", "noise_scale"):
        assert np.array_equal(getattr(out, name), getattr(ev, name))


@SETTINGS
@given(c=cubes, k=st.integers(1, 3), level=st.floats(1e-2, 1e2),
       smooth=st.sampled_from([0.0, 1.0]))
def test_constant_thickness_deflates_nothing(c, k, level, smooth):
    """A constant N̂ has τ ≡ 0 (log N̂ is the constant the model removes): nothing to
    subtract, the coordinates stay and the components span the same directions."""
    x, _, _ = cube(**c)
    ev = U.rank_evidence(x, c["shape"])
    out = U.thickness_deflated(ev, np.full(x.shape[0], level), c["shape"], k, smooth=smooth)
    np.testing.assert_allclose(out.coordinates, ev.coordinates,
                               atol=1e-9 * np.abs(ev.coordinates).max())
    overlap = np.abs(np.sum(out.components[:3] * ev.components[:3], axis=1))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-6)
