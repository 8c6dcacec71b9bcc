"""Parallel analysis, simplex projection and closure-aware unmixing."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import ndtr

from pyxem_epdf.physics.unmixing import (
    closure_unmix,
    parallel_analysis,
    project_to_simplex,
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
