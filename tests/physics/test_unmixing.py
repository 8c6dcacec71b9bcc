"""Parallel analysis, simplex projection and closure-aware unmixing."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import ndtr

from pyxem_epdf.physics.unmixing import (
    _neighbour_pairs,
    blas_threads,
    closure_unmix,
    noise_whitener,
    parallel_analysis,
    project_to_simplex,
    rank_evidence,
    residual_covariance,
    row_basis,
    simplex_fit,
)

R = np.linspace(1, 8, 300)


def endmembers(k=2):
    centres = [(1.5, 2.6, 4.0), (1.9, 3.1, 5.0), (1.3, 2.2, 3.6)][:k]
    return np.stack([sum(np.exp(-0.5 * ((R - c) / 0.15) ** 2) for c in cs) for cs in centres])


def fractions_map(n=30, k=2):
    y, x = np.mgrid[0:n, 0:n]
    a = ndtr((n / 2 - x) / 2.0)  # erf interface
    inc = ((x - 0.75 * n) ** 2 + (y - 0.5 * n) ** 2) < (0.1 * n) ** 2
    a = np.where(inc, 1.0, a)
    if k == 2:
        return np.stack([a, 1 - a], -1).reshape(-1, 2)
    b = (1 - a) * ndtr((y - n / 2) / 2.0)
    return np.stack([a, b, 1 - a - b], -1).reshape(-1, 3)


def data(k=2, noise=0.0, seed=0):
    f, e = fractions_map(k=k), endmembers(k)
    x = f @ e
    return x + noise * np.random.default_rng(seed).normal(size=x.shape), f, e


def best_corr(est, truth):
    return [max(abs(np.corrcoef(est[:, j], truth[:, i])[0, 1]) for j in range(est.shape[1]))
            for i in range(truth.shape[1])]


class TestSimplex:
    def test_properties_and_fixed_points(self):
        y = np.random.default_rng(1).normal(size=(50, 4))
        p = project_to_simplex(y)
        assert np.all(p >= 0) and np.allclose(p.sum(1), 1)
        np.testing.assert_allclose(project_to_simplex(p), p, atol=1e-12)

    def test_matches_brute_force(self):
        rng = np.random.default_rng(2)
        for y in rng.normal(size=(5, 3)):
            res = minimize(lambda a, y=y: np.sum((a - y) ** 2), np.full(3, 1 / 3), method="SLSQP",
                           options={"ftol": 1e-14}, bounds=[(0, None)] * 3,
                           constraints={"type": "eq", "fun": lambda a: a.sum() - 1})
            np.testing.assert_allclose(project_to_simplex(y[None])[0], res.x, atol=1e-5)

    def test_bad_shape(self):
        with pytest.raises(ValueError, match="'y' must be 2-D"):
            project_to_simplex([1.0, 2.0])


class TestParallelAnalysis:
    @pytest.mark.parametrize("k", [2, 3])
    @pytest.mark.parametrize("null", ["neighbour", "shuffle"])
    def test_counts_phases_minus_one(self, k, null):
        x, _, _ = data(k, noise=0.05)
        assert parallel_analysis(x, null=null).n_components == k - 1

    def test_correlated_noise_fools_shuffle_not_neighbour(self):
        """Noise smooth along r (as in G(r)) inflates the classic shuffle count."""
        x, _, _ = data(2)
        rng = np.random.default_rng(3)
        white = rng.normal(size=(x.shape[0], R.size + 40))
        kernel = np.exp(-0.5 * (np.arange(-20, 21) / 6.0) ** 2)
        smooth = np.apply_along_axis(np.convolve, 1, white, kernel, mode="valid")
        noisy = x + 0.15 * smooth / smooth.std()
        assert parallel_analysis(noisy, null="neighbour").n_components == 1
        assert parallel_analysis(noisy, null="shuffle").n_components > 1

    def test_deterministic(self):
        x, _, _ = data(2, noise=0.05)
        a, b = parallel_analysis(x, seed=4), parallel_analysis(x, seed=4)
        np.testing.assert_array_equal(a.null_singular_values, b.null_singular_values)

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"n_shuffles": 0}, "'n_shuffles' must be >= 1"),
            ({"quantile": 1.0}, "'quantile' must lie in"),
            ({"null": "gaussian"}, "'null' must be"),
        ],
    )
    def test_errors(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            parallel_analysis(data(2)[0], **kwargs)


class TestClosureUnmix:
    @pytest.mark.parametrize("k", [2, 3])
    def test_exact_without_noise(self, k):
        x, f, e = data(k)
        res = closure_unmix(x, k, pure_threshold=None, tol=1e-10)
        assert res.converged
        np.testing.assert_allclose(res.fractions @ res.endmembers, x, atol=1e-5)
        assert min(best_corr(res.fractions, f)) > 0.99999
        # the default pure-pixel endmembers: within 2 % without noise
        res = closure_unmix(x, k)
        for est in res.endmembers:
            assert min(np.abs(est - t).max() for t in e) < 0.02

    def test_noisy_recovery_and_closure(self):
        x, f, e = data(2, noise=0.2)
        before = x.copy()
        res = closure_unmix(x, 2)
        np.testing.assert_array_equal(x, before)
        assert np.all(res.fractions >= 0) and np.allclose(res.fractions.sum(1), 1)
        assert min(best_corr(res.fractions, f)) > 0.99
        for est in res.endmembers:
            assert max(np.corrcoef(est, t)[0, 1] for t in e) > 0.995
        assert res.pure.any(axis=0).all()
        assert res.residual.shape == (x.shape[0],)

    def test_pure_pixel_endmembers_are_not_exaggerated(self):
        """Least-squares vertices are pushed outwards by noise; pure-pixel means are not."""
        x, f, e = data(2, noise=0.4, seed=5)
        ls = closure_unmix(x, 2, pure_threshold=None)
        pp = closure_unmix(x, 2)

        def amplitude_error(res):
            return max(min(abs(est.max() / t.max() - 1) for t in e) for est in res.endmembers)

        assert amplitude_error(ls) > 0.1  # exaggerated by > 10 %
        assert amplitude_error(pp) < amplitude_error(ls)
        assert amplitude_error(pp) < 0.05

    def test_deterministic(self):
        x, _, _ = data(2, noise=0.1)
        np.testing.assert_array_equal(closure_unmix(x, 2).fractions, closure_unmix(x, 2).fractions)

    @pytest.mark.parametrize(
        "args, kwargs, match",
        [
            ((np.ones((10, 5)), 1), {}, "'n_phases' must be between 2"),
            ((np.ones((3, 5)), 4), {}, "'n_phases' must be between 2"),
            ((np.ones(5), 2), {}, "'X' must be 2-D"),
            ((np.full((4, 5), np.nan), 2), {}, "'X' must be finite"),
            ((np.ones((10, 5)), 2), {"init": np.ones((3, 5))}, "'init' must have shape"),
        ],
    )
    def test_errors(self, args, kwargs, match):
        with pytest.raises(ValueError, match=match):
            closure_unmix(*args, **kwargs)


S = np.linspace(0.05, 2.5, 64)


def pdf_cube(k=2, n=30, noise=0.05, spread=10.0, amp=0.3, seed=0):
    """PDF-like cube: k phases, thickness-like amplitude wedge, and noise that is the
    sine transform of φ(s) noise (correlated along r) with a level changing
    ``spread`` times across the scan (heteroscedastic)."""
    rng = np.random.default_rng(seed)
    f, e = fractions_map(n, k), endmembers(k)
    t = (np.mgrid[0:n, 0:n][1] / (n - 1)).ravel()
    sine = np.sin(2 * np.pi * np.outer(R, S)) * np.exp(-0.8 * S**2) * S
    nz = (rng.standard_normal((n * n, S.size)) * (1 + S)) @ sine.T
    nz *= noise / nz.std()
    x = (1 + amp * (t - 0.5))[:, None] * (f @ e) + (spread**t)[:, None] * nz
    return x, f, e


class TestRankEvidence:
    @pytest.mark.parametrize("k", [2, 3])
    @pytest.mark.parametrize("noise, spread", [(0.02, 1.0), (0.05, 10.0), (0.1, 10.0)])
    def test_counts_phases_with_heteroscedastic_correlated_noise(self, k, noise, spread):
        x, _, _ = pdf_cube(k, noise=noise, spread=spread)
        ev = rank_evidence(x, (30, 30))
        assert ev.n_components == k  # the mean counts: k phases → k
        assert np.all(ev.singular_values[:k] > ev.noise_floor[:k])
        assert ev.singular_values[k] < 1.05 * ev.noise_floor[k]
        assert ev.noise_scale.shape == (900,) and np.median(ev.noise_scale) == pytest.approx(1.0, rel=1e-3)

    def test_centred_count_plus_one_fails_with_amplitude_changes(self):
        """Why the count is uncentred: thickness scales G, so after centring a
        2-phase cube has two varying directions (the old 'significant + 1' gave 3)."""
        x, _, _ = pdf_cube(2, noise=0.02, spread=1.0)
        assert parallel_analysis(x).n_components + 1 == 3
        assert rank_evidence(x, (30, 30)).n_components == 2

    def test_noise_scale_tracks_the_true_level(self):
        x, _, _ = pdf_cube(2, noise=0.05, spread=10.0)
        ev = rank_evidence(x, (30, 30))
        truth = 10.0 ** (np.mgrid[0:30, 0:30][1] / 29).ravel()
        ratio = ev.noise_scale / truth
        assert np.std(ratio) / np.mean(ratio) < 0.25  # ~50 noise dof per pixel

    def test_weak_structure_above_the_floor_needs_min_strength(self):
        """A faint extra direction (5 % of the phase contrast's energy, like a
        thickness-driven shape change) is above the noise but not a phase."""
        x, f, e = pdf_cube(2, noise=0.01, spread=1.0, amp=0.0)
        extra = np.exp(-0.5 * ((R - 6.5) / 0.3) ** 2)
        contrast = np.linalg.svd(x - x.mean(0), compute_uv=False)[0]
        w = np.random.default_rng(1).uniform(-1, 1, len(x))
        w *= 0.22 * contrast / np.linalg.norm(w) / np.linalg.norm(extra)
        y = x + w[:, None] * extra
        ev = rank_evidence(y, (30, 30))
        assert ev.singular_values[2] > 2 * ev.noise_floor[2]
        assert 0 < ev.strength[2] < 0.12
        assert ev.n_components == 2
        assert rank_evidence(y, (30, 30), min_strength=0.0).n_components == 3

    def test_excluded_rows(self):
        x, _, _ = pdf_cube(2)
        x[5] = np.nan
        x[7] *= 300.0  # a failed N fit
        valid = np.ones(900, bool)
        valid[11] = False
        ev = rank_evidence(x, (30, 30), valid=valid)
        assert not ev.used[[5, 7, 11]].any() and ev.used.sum() == 897
        assert ev.n_components == 2
        assert ev.coordinates.shape == (897, ev.basis.shape[1])

    def test_deterministic_and_input_untouched(self):
        x, _, _ = pdf_cube(2)
        before = x.copy()
        a, b = rank_evidence(x, (30, 30), seed=3), rank_evidence(x, (30, 30), seed=3)
        np.testing.assert_array_equal(a.noise_floor, b.noise_floor)
        np.testing.assert_array_equal(x, before)

    @pytest.mark.parametrize(
        "x, kwargs, match",
        [
            (np.ones(5), {}, "'X' must be 2-D"),
            (np.ones((9, 1)), {}, "at least 2 r samples"),
            (np.full((9, 4), np.nan), {}, "at least 3 finite, valid pixels"),
            (np.zeros((9, 4)), {}, "all zero"),
            (np.ones((9, 4)), {"nav_shape": (2, 2)}, "does not hold 9 pixels"),
            (np.ones((9, 4)), {"n_draws": 0}, "'n_draws' must be >= 1"),
            (np.ones((9, 4)), {"quantile": 0.0}, "'quantile' must lie in"),
            (np.ones((9, 4)), {"min_strength": 1.0}, "'min_strength' must lie in"),
            (np.ones((9, 4)), {"valid": np.ones(3, bool)}, "'valid' must hold 9"),
        ],
    )
    def test_errors(self, x, kwargs, match):
        with pytest.raises(ValueError, match=match):
            rank_evidence(x, **kwargs)


class TestSubspaceTools:
    def test_row_basis_randomized_path(self):
        rng = np.random.default_rng(0)
        x = rng.normal(size=(400, 6)) @ rng.normal(size=(6, 500))  # n_r > max_rank
        v = row_basis(x, max_rank=32)
        assert v.shape == (500, 6)
        np.testing.assert_allclose(v.T @ v, np.eye(6), atol=1e-10)
        np.testing.assert_allclose(x @ v @ v.T, x, atol=1e-8 * np.abs(x).max())

    def test_simplex_fit_matches_projection_and_affine(self):
        e = endmembers(3)
        f = fractions_map(10, 3)
        f_fit, res = simplex_fit(f @ e, e)
        np.testing.assert_allclose(f_fit, f, atol=1e-6)
        assert res.max() < 1e-6
        beyond = np.array([[1.3, -0.3, 0.0]])
        clipped, _ = simplex_fit(beyond @ e, e)
        affine, _ = simplex_fit(beyond @ e, e, affine=True)
        assert np.all(clipped >= 0) and clipped.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(affine, beyond, atol=1e-10)
        with pytest.raises(ValueError, match="linearly dependent"):
            simplex_fit(beyond @ e, np.vstack([e[0], e[0]]))
        with pytest.raises(ValueError, match="'endmembers' must have shape"):
            simplex_fit(beyond @ e, e[:, :10])

    def test_gls_fractions_beat_ols_with_correlated_noise(self):
        x, f, e = pdf_cube(2, noise=0.3, spread=1.0, amp=0.0)
        ev = rank_evidence(x, (30, 30))
        w = ev.basis @ noise_whitener(ev.noise_cov)
        ols, _ = simplex_fit(x, e)
        gls, _ = simplex_fit(x @ w, e @ w)
        err = [np.sqrt(np.mean((g[:, 0] - f[:, 0]) ** 2)) for g in (ols, gls)]
        assert err[1] < 0.8 * err[0]

    def test_residual_covariance_adds_unmodelled_structure(self):
        x, _, _ = pdf_cube(3, noise=0.02, spread=1.0)
        ev = rank_evidence(x, (30, 30))
        full = residual_covariance(ev, 3)
        short = residual_covariance(ev, 2)  # the third phase is unmodelled structure
        assert np.trace(short) > 2 * np.trace(full)
        assert np.trace(full) == pytest.approx(np.trace(ev.noise_cov), rel=0.3)
        with pytest.raises(ValueError, match="'k' must be between"):
            residual_covariance(ev, 0)

    def test_blas_threads(self):
        from threadpoolctl import threadpool_info

        with blas_threads(1):
            assert {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"} == {1}
        with pytest.raises(ValueError, match="BLAS threads"):
            with blas_threads(0):
                pass


def test_closure_weights_and_two_phase_shortcut():
    x, f, _ = data(2, noise=0.1)
    w = np.ones(len(x))
    a = closure_unmix(x, 2)
    b = closure_unmix(x, 2, weights=w)
    np.testing.assert_allclose(a.fractions, b.fractions, atol=1e-12)
    with pytest.raises(ValueError, match="'weights' must be"):
        closure_unmix(x, 2, weights=np.ones(3))
    y = np.random.default_rng(0).normal(size=(20, 2))  # closed form == brute force
    grid = np.linspace(0, 1, 100_001)
    cost = (grid[None] - y[:, :1]) ** 2 + (1 - grid[None] - y[:, 1:]) ** 2
    best = grid[np.argmin(cost, axis=1)]
    np.testing.assert_allclose(project_to_simplex(y)[:, 0], best, atol=2e-5)


def test_closure_purity_from_neighbours_removes_the_selection_bias():
    """Selecting pure pixels on their own fractions picks the ones whose noise
    points along the endmember (here: a per-pixel amplitude spread as the N
    fit gives at low dose); their neighbours' fractions do not."""
    x, f, e = data(2, noise=0.4, seed=1)
    amp = np.exp(0.3 * np.random.default_rng(5).normal(size=(len(x), 1)))
    x = x * amp
    pairs = _neighbour_pairs((30, 30), np.ones(len(x), bool))
    assert pairs.shape == (2 * 30 * 29, 2)

    def scales(res):
        out = []
        for p in range(2):
            j = int(np.argmax([np.corrcoef(res.endmembers[q], e[p])[0, 1] for q in range(2)]))
            out.append(res.endmembers[j] @ e[p] / (e[p] @ e[p]))
        return np.array(out)

    own = closure_unmix(x, 2)
    nb = closure_unmix(x, 2, neighbours=pairs)
    truth = [amp[f[:, p] > 0.99].mean() for p in range(2)]  # mean amplitude of pure pixels
    assert scales(own).max() > 1.3  # exaggerated endmember, few "pure" pixels
    np.testing.assert_allclose(scales(nb), truth, atol=0.05)
    assert nb.pure.sum(axis=0).min() > 200
    with pytest.raises(ValueError, match="'neighbours' must be"):
        closure_unmix(x, 2, neighbours=np.array([[0, len(x)]]))
    with pytest.raises(ValueError, match="'neighbours' must be"):
        closure_unmix(x, 2, neighbours=np.zeros((3, 2)))
