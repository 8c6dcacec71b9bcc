"""Interface widths of affine fraction maps: the noise metric must not widen the edges.

``physics.unmixing.interior_noise_covariance`` against an analytic truth: a
two-phase cube with sharp boundaries (steep, as on 2×2-binned maps of small
inclusions) and Gaussian noise of a known, r-correlated covariance. The
all-pairs neighbour estimate of ``rank_evidence`` takes in the phase contrast
of the boundary pairs (and its product with their noise); the interior one
does not, and the fraction map's edge width comes out right in its metric.
"""

import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf.mapping import boundary_width
from pyxem_epdf.physics import unmixing as U
from pyxem_epdf.physics.interface import soft_union

N_R = 60
SIGMA_PX = 0.8  # edge σ in pixels: steep, like a 2×2-binned 15 nm edge at 10 nm steps


def _cube(seed, shape=(16, 16), noise=0.15):
    """(x, fraction map, endmembers, true noise covariance) of a disc + straight edge."""
    rng = np.random.default_rng(seed)
    r = np.linspace(1, 8, N_R)
    e = np.stack([np.sin(2.1 * r) * np.exp(-0.2 * r), np.cos(1.7 * r) * np.exp(-0.15 * r)])
    y, x = np.mgrid[0:shape[0], 0:shape[1]].astype(float)
    shapes = [{"kind": "half-plane", "angle": 0.25, "offset": 4.0},
              {"kind": "disc", "cx": 11.0, "cy": 9.0, "radius": 2.5}]
    f = soft_union(x, y, shapes, sigma=SIGMA_PX)
    # r-correlated noise: a smooth random profile basis (the noise of G is the
    # transform of the φ(s) noise, strongly correlated along r)
    a = np.stack([np.cos(np.pi * j * (r - 1) / 7) / (1 + 0.3 * j) for j in range(12)], 1)
    cov = noise**2 * (a @ a.T / 4 + 0.05 * np.eye(N_R))
    n = rng.multivariate_normal(np.zeros(N_R), cov, size=f.size)
    cube = f.reshape(-1, 1) * e[0] + (1 - f.reshape(-1, 1)) * e[1] + n
    return cube, f, e, cov


def _along(c, d):
    """Variance along d relative to the mean eigenvalue."""
    return float(d @ c @ d / (d @ d)) / (np.trace(c) / len(c))


def _width_sigma(cube, e, cov_basis, ev, shape):
    w = ev.basis @ U.noise_whitener(cov_basis, regularization=0.01)
    f, _ = U.simplex_fit(cube[ev.used] @ w, e @ w, affine=True)
    out = np.full(ev.used.size, np.nan)
    out[ev.used] = f[:, 0]
    m = hs.signals.Signal2D(out.reshape(shape))
    return boundary_width(m, ((0.0, 0.0), (8.0, 2.0)), inclusions=[(11.0, 9.0, 2.5)]).fit.sigma


def test_interior_covariance_matches_the_true_noise_along_the_phase_difference():
    ratios_all, ratios_int = [], []
    for seed in range(4):
        cube, f, e, cov = _cube(seed)
        ev = U.rank_evidence(cube, f.shape)
        interior, n_pairs = U.interior_noise_covariance(ev, e, f.shape)
        assert n_pairs > 150
        true = ev.basis.T @ cov @ ev.basis * ev.calibration**2
        d = (e[0] - e[1]) @ ev.basis
        ratios_all.append(_along(ev.noise_cov, d) / _along(true, d))
        ratios_int.append(_along(interior, d) / _along(true, d))
    # all pairs: the phase contrast of the boundary pairs inflates it (1.9×)
    assert np.mean(ratios_all) > 1.5, ratios_all
    # interior pairs: the noise alone (1.00 measured; ~290 pairs)
    assert abs(np.mean(ratios_int) - 1) < 0.1, ratios_int


def test_interior_metric_gives_the_true_edge_width():
    """Over 16 noise draws the edge σ of the affine map in the interior metric
    is unbiased (the truth is the generating σ: +0.9 ± 1.0 % measured); in
    the all-pairs metric of the map's own draw it is wider (+4.1 ± 0.5 %
    more, paired)."""
    got_int, got_all = [], []
    for seed in range(16):
        cube, f, e, cov = _cube(seed)
        ev = U.rank_evidence(cube, f.shape)
        interior, _ = U.interior_noise_covariance(ev, e, f.shape)
        got_int.append(_width_sigma(cube, e, interior, ev, f.shape))
        got_all.append(_width_sigma(cube, e, ev.noise_cov, ev, f.shape))
    bias_int = np.array(got_int) / SIGMA_PX - 1
    bias_all = np.array(got_all) / SIGMA_PX - 1
    print(f"\nedge σ bias: interior {100 * bias_int.mean():+.1f} %, all pairs "
          f"{100 * bias_all.mean():+.1f} %")
    assert abs(bias_int.mean()) < 0.035
    assert (bias_all - bias_int).mean() > 0.02


@pytest.mark.parametrize("k", [1, 2])
def test_interior_covariance_without_a_boundary_is_the_all_pairs_one(k):
    """One phase everywhere (or one component): every pair is interior, the
    estimate is rank_evidence's."""
    rng = np.random.default_rng(3)
    e = rng.normal(size=(2, 30))
    x = np.tile(e[0], (144, 1)) + 0.3 * rng.normal(size=(144, 30))
    ev = U.rank_evidence(x, (12, 12))
    cov, n_pairs = U.interior_noise_covariance(ev, e[:k], (12, 12))
    assert n_pairs > 200
    assert np.linalg.norm(cov - ev.noise_cov) < 0.1 * np.linalg.norm(ev.noise_cov)


def test_interior_covariance_falls_back_and_validates():
    rng = np.random.default_rng(0)
    e = rng.normal(size=(2, 20))
    x = rng.normal(size=(9, 20))
    ev = U.rank_evidence(x, (3, 3))
    cov, n = U.interior_noise_covariance(ev, e, (3, 3))  # 12 pairs < min_pairs
    assert n == 0 and cov is ev.noise_cov
    with pytest.raises(ValueError, match="'endmembers'"):
        U.interior_noise_covariance(ev, e[:, :5], (3, 3))
    with pytest.raises(ValueError, match="'margin'"):
        U.interior_noise_covariance(ev, e, (3, 3), margin=1.0)
    with pytest.raises(ValueError, match="'trim'"):
        U.interior_noise_covariance(ev, e, (3, 3), trim=0)
    with pytest.raises(ValueError, match="'min_pairs'"):
        U.interior_noise_covariance(ev, e, (3, 3), min_pairs=0)
    with pytest.raises(ValueError, match="'nav_shape'"):
        U.interior_noise_covariance(ev, e, (4, 3))


def test_unclipped_uses_the_interior_metric():
    """Unmixing.unclipped on a real PDF1DPlus cube: the same map as the
    affine fit in the interior metric (not the all-pairs one)."""
    cube, f, e, cov = _cube(5)
    r = np.linspace(1, 8, N_R)
    pdf = epdf.PDF1DPlus(cube.reshape(f.shape + (N_R,)))
    ax = pdf.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units = r[1] - r[0], r[0], "Å"
    un = pdf.decompose((1.0, 8.0)).unmix(2)
    k = int(np.argmax([np.corrcoef(m.ravel(), f.ravel())[0, 1] for m in un.loadings.data]))
    got = np.asarray(un.unclipped(pdf).data)[k]
    win = un._window(pdf)
    ev = U.rank_evidence(cube[:, win], f.shape)
    comps = np.asarray(un.components.data)[:, win]
    interior, _ = U.interior_noise_covariance(ev, comps, f.shape)
    w = ev.basis @ U.noise_whitener(interior, regularization=0.01)
    want, _ = U.simplex_fit(cube[:, win] @ w, comps @ w, affine=True)
    np.testing.assert_allclose(got.ravel(), want[:, k], atol=1e-8)
