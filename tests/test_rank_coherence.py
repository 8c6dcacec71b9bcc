"""Loading-coherence criterion of the rank evidence (issue 12, pooled N fit).

A phase's loading map is spatially coherent; the loading of a noise
direction is white, so the neighbour correlation of its loadings, as a
z-score (× √n_pairs), is ≈ N(0, 1) (benchmarks/README.md, "Issue 12: rank
criteria with the pooled fit").
"""

import numpy as np
import pytest

from pyxem_epdf.physics.unmixing import rank_evidence

R = np.arange(1.0, 8.0, 0.02)
S = np.linspace(0.05, 2.5, 64)


def _noise(n, seed):
    rng = np.random.default_rng(seed)
    sine = np.sin(2 * np.pi * np.outer(R, S)) * np.exp(-0.8 * S**2) * S
    nz = (rng.standard_normal((n * n, S.size)) * (1 + S)) @ sine.T
    return nz / nz.std()


def _two_phase(n=24, seed=0, noise=0.05):
    y, x = np.mgrid[0:n, 0:n]
    a = (1 / (1 + np.exp(-(x - n / 2) / 1.5))).ravel()[:, None]
    e = np.stack([np.exp(-0.5 * ((R - c) / 0.12) ** 2) for c in (1.5, 1.9)])
    return np.hstack([a, 1 - a]) @ e + noise * _noise(n, seed)


def test_white_loadings_have_unit_z():
    """Pure noise around one mean direction: the z-scores of components 1–8
    are standard normal (20 draws of 24 × 24)."""
    z = []
    base = np.exp(-0.5 * ((R - 2) / 0.2) ** 2)
    for seed in range(20):
        x = base + 0.05 * _noise(24, seed)
        z.append(rank_evidence(x, (24, 24)).coherence[1:9])
    z = np.concatenate(z)
    assert np.isnan(rank_evidence(base + 0.05 * _noise(24, 0), (24, 24)).coherence[0])
    assert abs(z.mean()) < 0.35 and 0.8 < z.std() < 1.2
    assert np.abs(z).max() < 4.0  # the default threshold of the propagated path


def test_white_direction_above_the_floor_is_rejected():
    """An extra direction with a white loading, strong enough for the
    strength test, counts without the coherence test and not with it; the
    same direction with a coherent (smooth) loading counts with it."""
    n = 24
    x = _two_phase(n)
    extra = np.exp(-0.5 * ((R - 6.5) / 0.3) ** 2)
    contrast = np.linalg.svd(x - x.mean(0), compute_uv=False)[0]
    rng = np.random.default_rng(1)
    white = rng.uniform(-1, 1, n * n)
    smooth = np.sin(np.mgrid[0:n, 0:n][0] / n * np.pi).ravel() - 0.5
    for w in (white, smooth):
        w *= 0.4 * contrast / np.linalg.norm(w) / np.linalg.norm(extra)
    plain = rank_evidence(x + white[:, None] * extra, (n, n))
    assert plain.n_components == 3 and plain.min_coherence is None
    ev = rank_evidence(x + white[:, None] * extra, (n, n), min_coherence=4.0)
    assert ev.singular_values[2] > ev.noise_floor[2] and ev.strength[2] > 0.07
    assert abs(ev.coherence[2]) < 4.0 and ev.n_components == 2
    assert ev.coherence[1] > 10  # the phase contrast
    coherent = rank_evidence(x + smooth[:, None] * extra, (n, n), min_coherence=4.0)
    assert coherent.coherence[2] > 10 and coherent.n_components == 3


def test_coherent_strength_replaces_min_strength_for_coherent_components():
    n = 24
    x = _two_phase(n, noise=0.01)
    extra = np.exp(-0.5 * ((R - 6.5) / 0.3) ** 2)
    contrast = np.linalg.svd(x - x.mean(0), compute_uv=False)[0]
    smooth = np.sin(np.mgrid[0:n, 0:n][0] / n * np.pi).ravel() - 0.5
    smooth *= 0.2 * contrast / np.linalg.norm(smooth) / np.linalg.norm(extra)
    y = x + smooth[:, None] * extra
    ev = rank_evidence(y, (n, n), min_coherence=4.0)
    s = ev.strength[2]
    assert 0 < s < 0.2
    assert rank_evidence(y, (n, n), min_coherence=4.0, min_strength=min(0.99, 1.5 * s)
                         ).n_components == 2
    assert rank_evidence(y, (n, n), min_coherence=4.0, min_strength=min(0.99, 1.5 * s),
                         coherent_strength=0.5 * s).n_components == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"min_coherence": 0.0}, "'min_coherence' must be"),
        ({"min_coherence": np.inf}, "'min_coherence' must be"),
        ({"min_coherence": 4.0, "coherent_strength": 1.0}, "'coherent_strength' must lie"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rank_evidence(_two_phase(8), (8, 8), **kwargs)


def test_needs_adjacent_pixels():
    x = _two_phase(8)
    checkerboard = (np.add.outer(np.arange(8), np.arange(8)) % 2 == 0).ravel()
    with pytest.raises(ValueError, match="needs adjacent pixel pairs"):
        rank_evidence(x, (8, 8), valid=checkerboard, min_coherence=4.0)
    assert np.isnan(rank_evidence(x, (8, 8), valid=checkerboard).coherence).all()
