"""Thickness test of the rank evidence (issue 12): a coherent component whose
loading follows the scan's log N̂ map beyond the phases before it is a
thickness-driven change of G(r) within the phases, not a phase
(``mapping.loading_thickness_correlation``, ``decompose(thickness_correlation=)``;
benchmarks/README.md, "Issue 12: thickness modes in the rank (h-rank3)").
"""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import mapping
from pyxem_epdf.physics.unmixing import rank_evidence

R = np.arange(1.0, 8.0, 0.02)
N = 30
YY, XX = np.mgrid[:N, :N]
WEDGE = 1 + 1.5 * (XX + YY) / (2 * N)  # thickness, arbitrary units
A = (YY < N / 2).astype(float)  # phase A | phase B
C = ((XX > 18) & (YY > 18)).astype(float)  # a third phase in one corner


def _peaks(centres, width=0.12):
    return sum(np.exp(-0.5 * ((R - c) / width) ** 2) for c in centres)


G = np.stack([_peaks([1.5, 2.6]), _peaks([1.9, 3.1]), _peaks([2.2, 4.0])])


def _scan(kind, seed=0):
    """(cube, N̂ map): two phases plus a thickness mode, three blocky phases (the
    third 1.8× denser: N̂ jumps there), or two phases and white noise only."""
    rng = np.random.default_rng(seed)
    f2 = np.stack([A, 1 - A], -1).reshape(-1, 2)
    n_hat = WEDGE * (1 + 0.3 * A)
    if kind == "thickness":
        # a broad shape change that grows with thickness in both phases
        x = f2 @ G[:2] + 0.5 * (WEDGE - WEDGE.mean()).ravel()[:, None] * _peaks([5.0], 0.5)
    elif kind == "phase":
        fa, fb = A * (1 - C), (1 - A) * (1 - C)
        x = np.stack([fa, fb, C], -1).reshape(-1, 3) @ (G * np.array([[1.0], [1.2], [0.8]]))
        n_hat = WEDGE * (1 + 0.3 * fa + 0.8 * C)
    else:
        x = f2 @ G[:2]
    n_hat = n_hat * np.exp(0.03 * rng.standard_normal((N, N)))
    return x + 0.03 * rng.standard_normal(x.shape), n_hat


@pytest.mark.parametrize("seed", [0, 1])
def test_statistic_tells_thickness_from_a_blocky_phase_and_from_noise(seed):
    """Known answers: the wedge-following loading |ρ| ≈ 1; a third phase whose
    N̂ jumps (denser) |ρ| small, because log N̂'s jump lies in the span of a
    constant and the earlier loadings (the fractions sum to one); white noise
    directions |ρ| ≈ 0."""
    x, n_hat = _scan("thickness", seed)
    ev = rank_evidence(x, (N, N), min_coherence=4.0, coherent_strength=0.03)
    rho = mapping.loading_thickness_correlation(ev, n_hat, (N, N))
    assert np.isnan(rho[0]) and np.all(np.isnan(rho[mapping.THICKNESS_MAX_COMPONENTS:]))
    assert ev.coherence[2] > 10 and ev.strength[2] > 0.03 and ev.n_components == 3
    assert abs(rho[2]) > 0.9

    x, n_hat = _scan("phase", seed)
    ev = rank_evidence(x, (N, N), min_coherence=4.0, coherent_strength=0.03)
    rho = mapping.loading_thickness_correlation(ev, n_hat, (N, N))
    assert ev.n_components == 3 and ev.strength[2] > 0.1
    assert abs(rho[2]) < 0.2 < mapping.THICKNESS_CORRELATION

    x, n_hat = _scan("white", seed)
    ev = rank_evidence(x, (N, N), min_coherence=4.0)
    rho = mapping.loading_thickness_correlation(ev, n_hat, (N, N))
    assert ev.n_components == 2
    assert np.nanmax(np.abs(rho[2:8])) < 0.15


def test_the_residual_on_the_earlier_phases_is_what_keeps_a_denser_phase():
    """Without residualising log N̂ on the earlier loadings its correlation
    with the third phase's loading is large (the density jump); with it, small."""
    x, n_hat = _scan("phase")
    ev = rank_evidence(x, (N, N), min_coherence=4.0)
    u = (ev.coordinates / ev.noise_scale[:, None]) @ ev.components[:3].T
    t = np.log(n_hat.ravel())
    raw = abs(np.corrcoef(t, u[:, 2])[0, 1])
    rho = mapping.loading_thickness_correlation(ev, n_hat, (N, N))
    assert raw > 0.5 and abs(rho[2]) < 0.2


def test_count_ends_at_the_first_thickness_mode():
    x, n_hat = _scan("thickness")
    ev = rank_evidence(x, (N, N), min_coherence=4.0, coherent_strength=0.03)
    rho = mapping.loading_thickness_correlation(ev, n_hat, (N, N))
    n, thick = mapping._count_phases(ev, 0.03, rho, mapping.THICKNESS_CORRELATION)
    assert n == 2 and thick[2] and not thick[:2].any()
    n_off, thick_off = mapping._count_phases(ev, 0.03, rho, np.inf)
    assert n_off == ev.n_components == 3 and not thick_off.any()


def _pdf(x, n_hat=None):
    pdf = epdf.PDF1DPlus(x.reshape(N, N, -1))
    ax = pdf.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = float(R[0]), 0.02, "Å"
    if n_hat is not None:
        pdf.metadata.set_item("ePDF.fit.N", np.asarray(n_hat, dtype=float))
    return pdf


def test_decompose_uses_the_fit_n_map_and_records_the_test():
    x, n_hat = _scan("thickness")
    dec = _pdf(x, n_hat).decompose((1.0, 7.9))
    md = dec.signal.metadata.ePDF.decomposition
    assert dec.n_components == 2 and dec.evidence.n_components == 2
    assert dec.thickness_like[2] and dec.thickness_threshold == mapping.THICKNESS_CORRELATION
    assert md.thickness_correlation == mapping.THICKNESS_CORRELATION
    assert md.thickness_like == [2]
    assert md.coherent_strength == mapping.COHERENT_STRENGTH_WITH_THICKNESS
    assert abs(dec.thickness_correlation[2]) > 0.9
    off = _pdf(x, n_hat).decompose((1.0, 7.9), thickness_correlation=False)
    assert off.n_components == 3 and off.thickness_threshold is None
    assert np.all(np.isnan(off.thickness_correlation)) and not off.thickness_like.any()
    assert off.signal.metadata.ePDF.decomposition.coherent_strength == mapping.COHERENT_STRENGTH
    # the blocky, denser third phase still counts
    xp, n_p = _scan("phase")
    assert _pdf(xp, n_p).decompose((1.0, 7.9)).n_components == 3


@pytest.mark.parametrize("n_map", [None, "constant", "nonpositive"])
def test_without_a_usable_n_map_the_rule_is_todays(n_map):
    """No fit N̂ (a PDF made from G(r) profiles), a constant one or one with a
    non-positive value at a used pixel: no thickness test, coherent strength 0.04."""
    x, n_hat = _scan("thickness")
    if n_map == "constant":
        n_hat = np.ones((N, N))
    elif n_map == "nonpositive":
        n_hat = n_hat.copy()
        n_hat[3, 4] = 0.0
    else:
        n_hat = None
    dec = _pdf(x, n_hat).decompose((1.0, 7.9))
    md = dec.signal.metadata.ePDF.decomposition
    assert dec.thickness_threshold is None and md.thickness_correlation == "none"
    assert md.coherent_strength == mapping.COHERENT_STRENGTH
    assert dec.n_components == 3  # the thickness mode counts, as before


def test_scree_marks_thickness_modes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, n_hat = _scan("thickness")
    ax = _pdf(x, n_hat).decompose((1.0, 7.9)).plot_scree()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(lab.startswith("thickness-like loading") for lab in labels)
    plt.close(ax.figure)


def test_bad_parameters():
    x, n_hat = _scan("thickness")
    pdf = _pdf(x, n_hat)
    for bad in (0.0, 1.5, np.nan, True):
        with pytest.raises(ValueError, match="thickness_correlation"):
            pdf.decompose((1.0, 7.9), thickness_correlation=bad)
    ev = rank_evidence(x, (N, N), min_coherence=4.0)
    with pytest.raises(ValueError, match="'n_map' must hold 900"):
        mapping.loading_thickness_correlation(ev, n_hat[:10], (N, N))
    bad_n = n_hat.copy()
    bad_n[0, 0] = -1.0
    with pytest.raises(ValueError, match="finite and > 0"):
        mapping.loading_thickness_correlation(ev, bad_n, (N, N))
    with pytest.raises(ValueError, match="'smooth'"):
        mapping.loading_thickness_correlation(ev, n_hat, (N, N), smooth=-1)
    with pytest.raises(ValueError, match="'n_max'"):
        mapping.loading_thickness_correlation(ev, n_hat, (N, N), n_max=1)


# ------------------------------------------------ the documented route on real signals

_AR = Path(__file__).resolve().parents[1] / "benchmarks" / "accuracy_route.py"
_spec = importlib.util.spec_from_file_location("accuracy_route", _AR)
ar = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ar)

#: 24×24, thickness 20–160 nm (the stress set of benchmarks/bench_rank_thickness.py)
STRESS = {"nav_shape": (24, 24), "inclusions": 2, "inclusion_radius": 12.0,
          "descan": (1.0, 1.0), "dose": 10.0, "interface_width": 15.0,
          "thickness_range": (20.0, 160.0)}


@pytest.mark.slow
@pytest.mark.parametrize("n_phases", [2, 3])
def test_route_wide_thickness_range(n_phases):
    """The documented route, defaults only, full resolution, seed 23 at 20–160 nm:
    the 2-phase scan's coherent thickness mode (strength 0.10, |ρ| 0.46) counted
    as a third phase before and is now a thickness mode (n = 2); the 3-phase
    scan's third phase (|ρ| 0.29) still counts (n = 3)."""
    spec = {**STRESS, "seed": 23, "n_phases": n_phases}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth = ar.generate(spec)
        result = ar.run_route(synth.signal, epdf.data.average_composition(synth),
                              log=lambda *a: None)
    dec = result["dec"]
    assert dec.thickness_threshold == mapping.THICKNESS_CORRELATION
    assert dec.n_components == n_phases
    if n_phases == 2:
        assert dec.thickness_like[2]
        assert abs(dec.thickness_correlation[2]) >= mapping.THICKNESS_CORRELATION
        before = result["pdf"].decompose(thickness_correlation=False,
                                         coherent_strength=mapping.COHERENT_STRENGTH)
        assert before.n_components == 3
    else:
        assert not dec.thickness_like[:3].any()
        assert abs(dec.thickness_correlation[2]) < mapping.THICKNESS_CORRELATION


def _map_r(un, truth):
    maps = np.asarray(un.loadings.data).reshape(len(un.loadings.data), -1)
    return max(abs(np.corrcoef(m, truth.ravel())[0, 1]) for m in maps)


def test_deflation_removes_the_thickness_mode_from_the_unmixing():
    """With a thickness mode found, closure unmixes the cube with the
    thickness-driven variation removed (default). Two phases mixed across a
    soft boundary, each changing its G(r) with the thickness in its own way
    (as strong as the phase contrast at the thick end): the fraction map is
    closer to the truth (measured 0.974 → 0.991), and the deflated
    coordinates leave less outside the 2-component subspace."""
    rng = np.random.default_rng(0)
    f = 1 / (1 + np.exp(-(YY - N / 2) / 3.0))
    th = (WEDGE - WEDGE.mean()).ravel()[:, None]
    x = (np.stack([f, 1 - f], -1).reshape(-1, 2) @ G[:2]
         + th * f.ravel()[:, None] * _peaks([1.7, 2.9], 0.2)
         + th * (1 - f).ravel()[:, None] * _peaks([5.0], 0.5))
    x = x + 0.03 * rng.standard_normal(x.shape)
    n_hat = WEDGE * (1 + 0.3 * f) * np.exp(0.03 * rng.standard_normal((N, N)))
    dec = _pdf(x, n_hat).decompose((1.0, 7.9))
    assert dec.n_components == 2 and dec.thickness_like[2]
    r_plain = _map_r(dec.unmix(thickness_deflation=False), f)
    r_defl = _map_r(dec.unmix(), f)
    assert r_plain < 0.98 and r_defl > r_plain + 0.01
    flat = mapping.thickness_deflated(dec.evidence, n_hat, (N, N), 2)
    assert flat.singular_values is dec.evidence.singular_values

    def outside(ev):
        y = ev.coordinates / ev.noise_scale[:, None]
        return np.linalg.norm(y - (y @ ev.components[:2].T) @ ev.components[:2])

    assert outside(flat) < 0.8 * outside(dec.evidence)


def test_deflation_parameters():
    x, n_hat = _scan("white")
    dec = _pdf(x, n_hat).decompose((1.0, 7.9))
    assert not dec.thickness_like.any()
    # not found: the default leaves the unmixing as it was
    a = np.asarray(dec.unmix().loadings.data)
    b = np.asarray(dec.unmix(thickness_deflation=False).loadings.data)
    assert np.array_equal(a, b, equal_nan=True)
    with pytest.raises(ValueError, match="method='closure' only"):
        dec.unmix(method="ica", thickness_deflation=True)
    no_map = _pdf(x).decompose((1.0, 7.9))
    with pytest.raises(ValueError, match="needs the fitted N̂ map"):
        no_map.unmix(thickness_deflation=True)
    with pytest.raises(ValueError, match="'k' must be >= 1"):
        mapping.thickness_deflated(dec.evidence, n_hat, (N, N), 0)
    with pytest.raises(ValueError, match="'n_map' must hold 900"):
        mapping.thickness_deflated(dec.evidence, n_hat[:3], (N, N), 2)


def test_str_names_the_thickness_modes():
    x, n_hat = _scan("thickness")
    text = str(_pdf(x, n_hat).decompose((1.0, 7.9)))
    assert "thickness-like (not counted): component 3" in text


def test_an_explicit_threshold_needs_the_map_and_the_coherence_test():
    x, n_hat = _scan("thickness")
    with pytest.raises(ValueError, match="needs the coherence test .* this PDF has none"):
        _pdf(x).decompose((1.0, 7.9), thickness_correlation=0.3)
    with pytest.raises(ValueError, match="has one"):
        _pdf(x, n_hat).decompose((1.0, 7.9), thickness_correlation=0.3, min_coherence=False)
    dec = _pdf(x, n_hat).decompose((1.0, 7.9), thickness_correlation=0.99)
    assert dec.thickness_threshold == 0.99 and dec.n_components == 3  # |ρ| 0.98 < 0.99
