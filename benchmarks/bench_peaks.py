"""Why the peak check of the accuracy route misses: noise, chain bias, or the check?

For each composite of ``benchmarks/accuracy_route.py`` (the fast 24×24 ones by
default, ``--bench`` for the 48×48 ones, ``--only`` to pick) and binning it
measures, for every one of the four strongest reference peaks of every phase:

* **noise**: the route's offsets on the scored draw, on ``--draws`` other
  Poisson draws of the same noiseless composite, and at 4× and 16× the dose
  (the generator's ``dose``), for the matched component and for the mean of
  the truly pure pixels (true fraction > 0.99, the peak oracle). Noise-limited
  offsets scatter in sign from draw to draw and shrink as 1/√dose;
* **predicted jitter** σ_pos = σ(ε′(r₀)) / |G_ref″(r₀)| of the pure-pixel mean
  at the scored dose: ε′ the derivative of each pure pixel's deviation from
  the thickness-scaled mean (so thickness does not count as noise), over √n;
  the linear error of a maximum's position under noise;
* **chain bias**: the same chain on the *noiseless* composite (defaults, and
  ``c_pool=1``, the free fit), mean of the truly pure pixels vs the reference
  (the chain on noiseless pure-phase patterns, :func:`accuracy_route.reference_pdfs`).

The peak identity is printed too: reference prominence and the standard error
of the pure-pixel mean there. Run ``python benchmarks/bench_peaks.py`` (about
3 min for the fast composites on one core).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from pathlib import Path

import numpy as np

_PATH = Path(__file__).resolve().parent / "accuracy_route.py"
_spec = importlib.util.spec_from_file_location("accuracy_route", _PATH)
ar = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ar)


def _signed(g, g_ref, r):
    """Signed offsets (Å) of the basin-matched peaks of ``g`` (NaN: missing)."""
    from pyxem_epdf.physics.peaks import match_peaks, peak_basins

    ref = ar.strongest_peaks(g_ref, r)
    got, _ = match_peaks(g, r, peak_basins(g_ref, r, ref))
    return got - ref, ref


def predicted_jitter(cube, g_ref, r, positions):
    """σ_pos (Å) of each peak of the mean of ``cube`` (n, r) by linear error
    propagation, and the standard error of that mean at the peak (Å⁻²)."""
    dr = r[1] - r[0]
    mu = cube.mean(0)
    res = cube - np.outer(cube @ mu / (mu @ mu), mu)
    out = []
    for q in positions:
        i = int(round((q - r[0]) / dr))
        d1 = (res[:, i + 1] - res[:, i - 1]) / (2 * dr)
        curv = (g_ref[i + 1] - 2 * g_ref[i] + g_ref[i - 1]) / dr**2
        out.append((d1.std() / np.sqrt(len(cube)) / abs(curv),
                    cube[:, i].std() / np.sqrt(len(cube))))
    return np.array(out)


def _route(spec, synth, composition, ref, binning):
    result = ar.run_route(synth.signal, composition, binning=binning, log=lambda *a: None)
    r = np.asarray(result["unmixing"].components.axes_manager.signal_axes[0].axis)
    truth = ar.bin_mean(synth.fractions, binning) if binning > 1 else np.asarray(synth.fractions)
    assignment, _ = ar.match_components(np.asarray(result["unmixing"].loadings.data), truth)
    truth = truth.reshape(-1, truth.shape[-1])
    comps = np.asarray(result["unmixing"].components.data, dtype=float)
    cube = np.asarray(result["pdf"].data, dtype=float).reshape(-1, r.size)
    return r, assignment, comps, cube, truth


def _pure(cube, truth, p):
    keep = (truth[:, p] > 0.99) & np.isfinite(cube).all(1)
    return cube[keep]


def measure(name, spec, *, binnings=(1, 2), draws=3, doses=(4.0, 16.0), log=print):
    from scipy.signal import peak_prominences

    import pyxem_epdf as epdf
    from pyxem_epdf.data import average_composition

    synth = ar.generate(spec)
    composition = average_composition(synth)
    ref = ar.reference_pdfs(spec, composition, log=lambda *a: None)
    clean = ar.generate(spec, noise=False)
    lam = np.asarray(clean.signal.data, dtype=float)
    rng = np.random.default_rng(2026)
    variants = [("scored", synth, spec)]
    for k in range(draws):
        redraw = ar.generate(spec)
        redraw.signal.data = rng.poisson(lam).astype(synth.signal.data.dtype)
        variants.append((f"draw {k + 1}", redraw, spec))
    for f in doses:
        s = {**spec, "dose": spec["dose"] * f}
        variants.append((f"dose ×{f:g}", ar.generate(s), s))
    r_ref, g_ref = ref
    for b in binnings:
        rows = {}  # (phase) -> list of (label, comp offsets, pure offsets)
        jitter = {}
        for label, syn, s in variants:
            r, assignment, comps, cube, truth = _route(s, syn, composition, ref, b)
            for p in range(g_ref.shape[0]):
                gr = np.interp(r, r_ref, g_ref[p])
                pure = _pure(cube, truth, p)
                off_c = (_signed(comps[assignment[p]], gr, r)[0] if p in assignment
                         else np.full(4, np.nan))
                off_p, peaks = _signed(pure.mean(0), gr, r)
                rows.setdefault(p, []).append((label, off_c, off_p))
                if label == "scored":
                    jitter[p] = (peaks, predicted_jitter(pure, gr, r, peaks), len(pure),
                                 peak_prominences(gr, np.rint((peaks - r[0]) / (r[1] - r[0]))
                                                  .astype(int))[0])
        # bias: the chain on the noiseless composite
        shifts = epdf.signals.descan(clean.signal)
        dp = clean.signal.rebin(scale=(b, b, 1, 1)) if b > 1 else clean.signal
        ri = epdf.azimuthal_profile(dp, beam_shift=shifts[1])
        truth = ar.bin_mean(clean.fractions, b) if b > 1 else np.asarray(clean.fractions)
        truth = truth.reshape(-1, truth.shape[-1])
        bias = {}
        for c_pool in (None, 1):
            pdf = ri.get_pdf(composition, c_pool=c_pool)
            r = np.asarray(pdf.axes_manager.signal_axes[0].axis)
            cube = np.asarray(pdf.data, dtype=float).reshape(-1, r.size)
            for p in range(g_ref.shape[0]):
                bias[p, c_pool] = _signed(_pure(cube, truth, p).mean(0),
                                          np.interp(r, r_ref, g_ref[p]), r)[0]
        res = "full" if b == 1 else f"{b}x{b}"
        log(f"=== {name} [{res}]")
        for p in range(g_ref.shape[0]):
            peaks, jit, n_pure, prom = jitter[p]
            log(f"  phase {p} ({n_pure} truly pure pixels at the scored dose)")
            log("    peak Å      " + "".join(f"{q:>9.3f}" for q in peaks))
            log("    prominence  " + "".join(f"{v:>9.3f}" for v in prom))
            log("    sem of mean " + "".join(f"{v:>9.3f}" for v in jit[:, 1]))
            log("    σ_pos pred. " + "".join(f"{v:>9.3f}" for v in jit[:, 0]))
            for label, off_c, off_p in rows[p]:
                log(f"    {label:<10}  comp " + "".join(f"{v:>+8.3f}" for v in off_c)
                    + "   pure mean " + "".join(f"{v:>+8.3f}" for v in off_p))
            scat = np.array([o for lab, _, o in rows[p] if not lab.startswith("dose")])
            log("    rms pure-mean offset over the draws at this dose "
                + "".join(f"{v:>8.3f}" for v in np.sqrt(np.nanmean(scat**2, axis=0)))
                + f"  (NaN = peak missing in {np.isnan(scat).sum()} of {scat.size})")
            log("    noiseless chain, default c_pool " + "".join(f"{v:>+8.3f}" for v in bias[p, None])
                + ";  c_pool=1 " + "".join(f"{v:>+8.3f}" for v in bias[p, 1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", action="store_true", help="the 48×48 composites")
    parser.add_argument("--only", type=int, nargs="*", help="indices of composites")
    parser.add_argument("--binnings", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--draws", type=int, default=3, help="other Poisson draws")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    specs = ar.COMPOSITES if args.bench else ar.FAST_COMPOSITES
    keys = list(specs)
    for i in (args.only if args.only is not None else range(len(keys))):
        t0 = time.perf_counter()
        measure(keys[i], specs[keys[i]], binnings=tuple(args.binnings), draws=args.draws)
        print(f"    ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
