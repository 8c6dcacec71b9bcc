"""The documented route, defaults only, on composites unlike the embedded one (issue 12).

Fast version of ``benchmarks/accuracy_route.py`` (its functions, its
thresholds): three 24×24 scans on the 128² detector of the embedded data —
two-phase with two small inclusions, drift (2, −1.5) px, 10 e⁻/Å²;
two-phase with one large inclusion, drift (−1, 2) px, 2.5 e⁻/Å², thicker;
three-phase (ZIF-like | glass-like / metallic-like), drift (1.5, 1.5) px,
5 e⁻/Å² — each at full resolution and 2×2-binned. Thresholds are issue 12's
and must not be weakened. Every metric is printed (``pytest -s``) before the
assertions, together with any fallback the route needed because an API the
README shows is not there yet, and the warnings the route raised.
"""

import functools
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

from pyxem_epdf.data import average_composition

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "accuracy_route.py"
_spec = importlib.util.spec_from_file_location("accuracy_route", _PATH)
ar = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ar)

T = ar.THRESHOLDS

pytestmark = pytest.mark.slow  # ~25 s on one core for all six cases


@functools.cache
def _prepared(name):
    """Composite, composition, reference PDFs and warnings of one case (once per run)."""
    spec = ar.FAST_COMPOSITES[name]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        synth = ar.generate(spec)
        composition = average_composition(synth)
        ref = ar.reference_pdfs(spec, composition)
    return name, spec, synth, composition, ref, caught


@functools.cache
def _clean(name):
    return ar.generate(ar.FAST_COMPOSITES[name], noise=False)


@pytest.fixture(scope="module", params=list(ar.FAST_COMPOSITES))
def case(request):
    return _prepared(request.param)


@pytest.fixture(scope="module", params=[1, 2], ids=["full", "2x2"])
def metrics(request, case):
    name, spec, synth, composition, ref, caught = case
    with warnings.catch_warnings(record=True) as route_caught:
        warnings.simplefilter("always")
        result = ar.run_route(synth.signal, composition, binning=request.param)
        m = ar.evaluate(synth, spec, result, ref, binning=request.param)
    print()
    print(ar.format_report(name, m, float("nan")))
    for w in {str(w.message) for w in list(caught) + list(route_caught)}:
        print(f"    warning: {w[:160]}")
    return m


#: Cases that still miss issue 12's thresholds (measured 2026-12-01 on main after the
#: chain, integration and mapping changes; see benchmarks/README.md). The interface
#: check uses the whole-boundary fit on the unclipped fractions since 2026-12-01
#: (h-interface, Unmixing.boundary_width). Two interface cases left this list:
#: full-resolution seed 11 (line fit 24.4 ± 5.8 nm → 16.5 ± 0.9 nm for 15.0, +9.9 %;
#: over 8 other noise seeds +7.3 % on average, 6 of 8 within 10 %: a measured pass)
#: and 2×2 seed 11 (21.3 → 17.5 ± 2.2 nm for 16.3, +7.6 %; over 8 other seeds
#: +16 % on average then). The 2×2 widening was the noise metric of the unclipped
#: fit (all adjacent pairs, boundaries included: correlated with the boundary
#: pixels' own noise); with pairs inside one phase (h-width, interior_noise_covariance)
#: the 8-seed means are +2.1 % (seed 11) and +0.2 % (seed 23) at 2×2, and the 2×2
#: seed-23 and 3-phase interface cases left this list. Strict: a case
#: that starts passing fails here until it is taken off this list, so the list can
#: only shrink. Thresholds are not relaxed.
KNOWN_MISSES = {
    # Peak misses (h-peaks, benchmarks/bench_peaks.py): the missed peaks are always the
    # broad 3rd/4th ones (ZIF-like 4.11/5.87, glass-like 4.91/6.44, metallic-like
    # 5.31/7.35 Å). The linear jitter of the truly-pure-pixel mean there, σ_pos =
    # σ(ε')/|G_ref''|, is 0.04-0.21 Å; over 4 noise draws the offsets change sign
    # with rms ≈ σ_pos, and at 16× the dose they are ≤ 0.07 Å; the chain on the
    # noiseless composite is off by ≤ 0.013 Å (c_pool default or 1). Matching is
    # the basin rule since h-peaks (stricter; no verdict changed).
    ("test_four_strongest_peaks", "full-2ph seed11"):
        "noise-limited at 24×24: 0.052/0.073 Å (pure mean 0.052/0.145) at ZIF 5.87 / "
        "glass 4.91 Å, σ_pos 0.115/0.042, rms over 4 draws 0.097/0.055; the 48×48 "
        "benchmark passes (0.027/0.006)",
    ("test_fraction_maps", "full-2ph seed23"):
        "information-limited: oracle 0.922 < 0.95 (test_oracle_bounds_the_information_limited_cases)",
    ("test_four_strongest_peaks", "full-2ph seed23"):
        "2.5 e/Å², noise-limited: 0.143/0.284 Å (pure mean 0.065/0.127) at ZIF 5.87 / "
        "glass 6.44 Å, σ_pos 0.184/0.190, rms over 4 draws 0.221/0.076",
    # 2×2 seed 23 left this list with the interior noise metric of Unmixing.unclipped
    # (h-width): 27.6 → 22.2 ± 1.3 nm for 21.0 (+6 %); 8 other seeds +22.5 → +0.2 %
    ("test_interface_width", "full-2ph seed23"):
        "2.5 e/Å²: this draw +18 % (23.6 ± 1.5 nm for 20); with the true noise covariance "
        "+19 %, with the true components +16 %: the draw's own map; seeds 1–24 "
        "+3 ± 7.5 %, 19 of 24 within 10 % (benchmarks/bench_interface_bias.py)",
    ("test_four_strongest_peaks", "2x2-2ph seed23"):
        "2.5 e/Å², 2×2, noise-limited: 0.038/0.094 Å (pure mean 0.055/0.120) at glass "
        "4.91 Å, σ_pos 0.094, rms over 4 draws 0.078",
    ("test_four_strongest_peaks", "2x2-2ph seed11"):
        "noise-limited: 0.054/0.068 Å (pure mean 0.062/0.204) at ZIF 5.87 / glass 4.91 Å, "
        "σ_pos 0.124/0.044, rms over 4 draws 0.094/0.064",
    # 3-phase: n = 3 found at both binnings since the loading-coherence test
    # (h-rank, 2026-12-01; third phase strength 0.065 < 0.07, coherence z 10.8 / 8.9):
    # component PDFs r 0.976–0.996 pass; what is left is information-limited
    # 3-phase maps: closure fractions are scattering-weighted (β_p ∝ w_p ρ_p ⟨f²⟩_p; the
    # metallic-like phase scatters 10x the ZIF-like per volume), the truth is the volume
    # fraction w: on the noiseless 48×48 composite the closure maps reach only
    # 0.983/0.987/0.970 (0.997/0.999/0.997 converted with Unmixing.volume_fractions);
    # with noise the conversion amplifies it (here 2×2 0.963/0.971/0.966, full
    # 0.927/0.939/0.922; benchmarks/bench_volume_fractions.py)
    ("test_fraction_maps", "2x2-3ph seed5"):
        "3-phase, 5 e/Å²: 0.979/0.967/0.963, oracle 0.980/0.972/0.966 < 0.98; the noiseless "
        "ceiling of scattering-weighted fractions against the volume truth is 0.970-0.973",
    ("test_four_strongest_peaks", "2x2-3ph seed5"):
        "3-phase, 5 e/Å²: 0.209 Å, the truly-pure-pixel mean misses too (0.168), at glass "
        "6.44 Å: σ_pos 0.135 (full: rms over 4 draws 0.185, 16× dose 0.046)",
    ("test_fraction_maps", "full-3ph seed5"):
        "3-phase, 5 e/Å²: 0.959/0.945/0.948, oracle 0.950/0.936/0.947 < 0.95 (noise and the "
        "scattering weighting of the fractions)",
    ("test_interface_width", "full-3ph seed5"):
        "3-phase, n = 3: 13.1 ± 0.9 nm for 15.0 (−13 %); 8 other seeds −7.5 ± 6.3 %, "
        "the mean of their maps −7.1 % (narrower in expectation, with the true noise "
        "covariance too: −6.8 %; noiseless chain −1.4 %)",
    ("test_four_strongest_peaks", "full-3ph seed5"):
        "3-phase, 5 e/Å²: 0.197 Å, the truly-pure-pixel mean misses too (0.153), at glass "
        "6.44 Å: σ_pos 0.166, rms over 4 draws 0.185; 16× dose 0.046 Å",
}


@pytest.fixture(autouse=True)
def _known_misses(request):
    callspec = getattr(request.node, "callspec", None)
    if callspec is None:
        return
    for (name, prefix), why in KNOWN_MISSES.items():
        if request.node.originalname == name and callspec.id.startswith(prefix):
            request.applymarker(pytest.mark.xfail(strict=True, reason=f"issue 12 open: {why}"))


def test_route_finds_the_number_of_phases(metrics):
    assert metrics["n_found"] == metrics["n_true"], (
        f"decompose() suggested {metrics['n_found']} components for "
        f"{metrics['n_true']} phases"
    )


def _maps_meet_the_threshold(metrics, key, context):
    threshold = T["fraction_r_full"] if metrics["binning"] == 1 else T["fraction_r_2x2"]
    r = np.nan_to_num(metrics[key], nan=-1.0)
    assert np.all(r >= threshold), (
        f"fraction-map r {np.round(metrics[key], 3)} below {threshold}; {context}")


def test_fraction_maps(metrics):
    _maps_meet_the_threshold(
        metrics, "fraction_r",
        f"n={metrics['n_used']} used; with n forced to {metrics['n_true']}: "
        f"{np.round(metrics['fraction_r_forced'], 3)}")


def test_fraction_maps_of_what_closure_estimates(metrics):
    """The same threshold against the scattering-weighted truth
    (``ar.scattering_weighted``: each phase's volume fraction times its
    scattering power per volume, normalised), the mixture weights a PDF cube
    carries and the documented meaning of closure maps
    (:meth:`~pyxem_epdf.mapping.Unmixing.volume_fractions` converts them).
    No known misses: every fast case passes (measured 0.952-0.994)."""
    _maps_meet_the_threshold(
        metrics, "fraction_r_scattering",
        f"against the scattering-weighted truth (against the volume truth "
        f"{np.round(metrics['fraction_r'], 3)})")


def test_component_pdfs(metrics):
    r = np.nan_to_num(metrics["component_r"], nan=-1.0)
    assert np.all(r >= T["component_r"]), (
        f"component-PDF r {np.round(metrics['component_r'], 3)} against the chain on "
        f"noiseless pure-phase patterns, below {T['component_r']}"
    )


def test_four_strongest_peaks(metrics):
    assert np.all(metrics["peak_shift"] <= T["peak_shift"]), (
        f"largest peak offsets {np.round(metrics['peak_shift'], 3)} Å > {T['peak_shift']} Å"
    )


def test_interface_width(metrics):
    got, want = metrics["interface_width"], metrics["interface_truth"]
    assert abs(got / want - 1) <= T["interface_rel"], (
        f"interface 10–90 % width {got:.2f} nm vs truth {want:.2f} nm "
        f"{metrics['interface_error']}".strip()
    )


# ------------------------------------------------ propagated noise (decompose(ri=...))


@pytest.mark.parametrize("binning", [1, 2], ids=["full", "2x2"])
@pytest.mark.parametrize("key", list(ar.FAST_COMPOSITES))
def test_propagated_noise_finds_the_number_of_phases(key, binning):
    """With the noise propagated from I(s) (level, r-covariance, bin correlation)
    the rank evidence gives the right n on every fast composite, and the maps
    are no worse than with the estimated noise. With the pooled N fit the
    propagated floor is right and two cases failed on the old strength rule
    alone (2-phase at 2.5 e/Å², full: a white direction above the floor,
    strength 0.142, coherence z 0.07 → n = 3; 3-phase, full: third phase
    strength 0.068 < 0.07, z 10.5 → n = 2); the loading-coherence test
    (``min_coherence`` 4, ``coherent_strength`` 0.04, measured on pure-noise
    cubes and 36 route runs; benchmarks/README.md, "Issue 12: rank criteria
    with the pooled fit") gives 6/6, as it does on the estimated path."""
    name, spec, synth, composition, ref, _ = _prepared(key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ar.run_route(synth.signal, composition, binning=binning, propagated=True,
                              log=lambda *a: None)
        m = ar.evaluate(synth, spec, result, ref, binning=binning)
        estimated = ar.evaluate(synth, spec,
                                ar.run_route(synth.signal, composition, binning=binning,
                                             log=lambda *a: None), ref, binning=binning)
    print(f"\n{name} [{binning}x{binning}] propagated: n={m['n_found']} maps "
          f"{np.round(m['fraction_r'], 3)}; estimated: n={estimated['n_found']} maps "
          f"{np.round(estimated['fraction_r'], 3)}")
    assert result["dec"].signal.metadata.ePDF.decomposition.noise == "propagated"
    assert m["n_found"] == m["n_true"]
    if estimated["n_found"] == estimated["n_true"]:
        assert np.all(m["fraction_r"] >= estimated["fraction_r"] - 0.005)


# ------------------------------------------------ information limit


def test_peak_misses_are_noise_limited(metrics, request):
    """Where the peak check is a known miss, the route's own cube averaged
    over the truly pure pixels (the best component these patterns allow)
    misses it too: the offsets come from the noise, not from the unmixing.
    That this is noise (not the chain's bias) is measured by
    ``benchmarks/bench_peaks.py``: the offsets scatter in sign over other
    noise draws with rms ≈ the linear jitter σ(ε')/|G''|, shrink with dose,
    and the chain on the noiseless composite is within 0.013 Å."""
    callspec_id = request.node.callspec.id
    known = any(name == "test_four_strongest_peaks" and callspec_id.startswith(prefix)
                for name, prefix in KNOWN_MISSES)
    if not known:
        pytest.skip("the peak check is not a known miss here")
    oracle = metrics["peak_shift_oracle"]
    print(f"\npeak offsets {np.round(metrics['peak_shift'], 3)}; of the truly pure pixels' "
          f"mean {np.round(oracle, 3)} Å")
    assert np.any(oracle > T["peak_shift"]), (
        f"the truly pure pixels' mean meets the peak check ({np.round(oracle, 3)} Å): the "
        f"miss {np.round(metrics['peak_shift'], 3)} Å is the route's, not the noise's"
    )


#: (case prefix, binning) whose fraction-map threshold even the oracle misses:
#: true component PDFs and the true noise covariance (from independent Poisson
#: redraws, not the scored draw), per-pixel closure fit (measured 2026-12-01:
#: 0.915; 0.950/0.931/0.947; 0.980/0.970/0.966; in-sample covariance before:
#: 0.922; 0.950/0.936/0.947; 0.980/0.972/0.966).
INFORMATION_LIMITED = [("2ph seed23", 1), ("3ph seed5", 1), ("3ph seed5", 2)]


@pytest.mark.parametrize("prefix,binning", INFORMATION_LIMITED,
                         ids=[f"{p}-{'full' if b == 1 else '2x2'}" for p, b in INFORMATION_LIMITED])
def test_oracle_bounds_the_information_limited_cases(prefix, binning):
    """The fraction-map misses kept as xfail above are not the route's fault:
    with the truth's components and noise a per-pixel closure fit still
    stays below the threshold at this dose and scan size."""
    (key,) = [k for k in ar.FAST_COMPOSITES if k.startswith(prefix)]
    name, spec, synth, composition, ref, _ = _prepared(key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        oracle = ar.oracle_fraction_r(spec, synth, composition, ref, binning=binning,
                                      clean=_clean(key))
    best = oracle[oracle["best"]]
    print(f"\noracle {name} binning {binning}: {oracle}")
    threshold = T["fraction_r_full"] if binning == 1 else T["fraction_r_2x2"]
    assert np.all(np.isfinite(best)) and best.min() > 0.5  # a working fit, not a failure
    assert best.min() < threshold, (
        f"the oracle reaches {np.round(best, 3)} >= {threshold}: the case is not "
        f"information-limited any more; close the gap in the route"
    )


# ------------------------------------------------ the metrics themselves


def test_metrics_are_perfect_on_the_truth():
    """The scoring functions give r = 1, zero offsets and the right matching."""
    rng = np.random.default_rng(0)
    truth = rng.dirichlet(np.ones(3), size=(6, 7))  # (6, 7, 3)
    maps = np.moveaxis(truth, -1, 0)[[2, 0, 1]]  # components permuted
    assignment, r = ar.match_components(maps, truth)
    assert assignment == {0: 1, 1: 2, 2: 0}
    np.testing.assert_allclose(r, 1.0)
    # two closure phases: |r| cannot tell them apart, the signed r does
    two = np.stack([truth[..., 0], 1 - truth[..., 0]], axis=-1)
    assignment, r = ar.match_components(np.moveaxis(two, -1, 0)[::-1], two)
    assert assignment == {0: 1, 1: 0} and np.allclose(r, 1.0)
    # peaks
    x = np.arange(0.0, 10.0, 0.01)
    g = sum(np.exp(-0.5 * ((x - c) / 0.1) ** 2) * h
            for c, h in [(1.5, 3), (2.5, 2), (3.1, 1.5), (4.2, 1), (6.0, 0.2)])
    shifts, ref = ar.peak_shifts(np.interp(x - 0.02, x, g), g, x)
    np.testing.assert_allclose(ref, [1.5, 2.5, 3.1, 4.2], atol=1e-3)
    np.testing.assert_allclose(shifts, 0.02, atol=2e-3)
    # strength is prominence: a high shoulder on a strong peak's flank (2.58 Å)
    # is not one of the four strongest, the weak isolated 6 Å peak is
    gs = lambda c, s, h: h * np.exp(-0.5 * ((x - c) / s) ** 2)  # noqa: E731
    g = gs(2.0, 0.3, 3) + gs(2.6, 0.03, 0.2) + gs(4, 0.1, 0.5) + gs(5, 0.1, 0.4) + gs(6, 0.1, 0.3)
    np.testing.assert_allclose(ar.strongest_peaks(g, x), [2.0, 4.0, 5.0, 6.0], atol=1e-3)
    # bin means
    np.testing.assert_allclose(ar.bin_mean(np.arange(16.0).reshape(4, 4), 2),
                               [[2.5, 4.5], [10.5, 12.5]])
