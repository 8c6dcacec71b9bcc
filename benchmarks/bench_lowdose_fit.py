"""The N fit at low dose: spread and bias of N̂, and the mean-G(r) scale (issue 12).

For pure ZIF-like scans (24×24, 128² detector at 0.04 Å⁻¹/px, thickness
30-80 nm, descan drift, the test composite's seed 23) at 2.5, 5, 10 and 40
e⁻/Å², and for the two-phase 24×24 composites of ``tests/test_accuracy_route.py``,
the documented route (``descan`` → ``azimuthal_profile(beam_shift=plane)`` →
the ``get_pdf(composition)`` chain) is run with the background fit done by
each candidate estimator of (N, C) on the default window:

* ``free``: N and C of every pattern by least squares on its own
  (``c_pool=1``, the default before this change);
* ``pool k``: C/N from the fit of the window sums box-summed over a k × k
  neighbourhood, each pattern fitting its own N with C = κ N
  (``fit_scattering_background(..., c_pool=k)``; 5 is the new default);
* ``scan``: C/N of the whole scan (k = the scan width);
* ``affine``: C = a + κN with a scan-wide offset a and slope κ
  (``c_pool="affine"``, see ``bench_cn_robust.py``);
* ``C const k``: C itself (not C/N) taken from the k × k pooled fit;
* ``C = 0``: ``fix_c=True``;
* ``poisson``: the two-pass Poisson-weighted free fit (``weights="poisson"``).

Scores, against the same chain on the noiseless twin scan (same fit): N̂/N₀
(mean, median, standard deviation, 1st percentile), the mean-G scale (least
squares of the scan-mean G on the noiseless scan-mean G over 1-8 Å) and the
median over pixels of the relative rms G error. ``N₀/N_true`` (the noiseless
fit against the generator's N) is printed once per dose.

Run ``python benchmarks/bench_lowdose_fit.py`` (about a minute on one core).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

DOSES = (2.5, 5.0, 10.0, 40.0)
SPEC = "2ph seed23 1 incl r25nm drift(-1,2) 2.5e"
R_WINDOW = (1.0, 8.0)


def route_profile(dp):
    import pyxem_epdf as epdf

    shifts = epdf.signals.descan(dp)
    return epdf.azimuthal_profile(dp, beam_shift=shifts[1])


def chain_of(ri, composition):
    """The default chain's operator and scattering averages for ``ri`` (from get_pdf)."""
    from pyxem_epdf.physics import chain, corrections, scattering
    from pyxem_epdf.signals.reduced_intensity import _composition

    pdf = ri.get_pdf(composition)
    md = pdf.metadata.ePDF
    s = np.asarray(ri.axes_manager.signal_axes[0].axis, dtype=float)
    elements, fractions, _ = _composition(composition, ri)
    f2, fsq = scattering.scattering_averages(
        fractions, scattering.scattering_factors(elements, s, table="lobato"))
    r = np.asarray(pdf.axes_manager.signal_axes[0].axis, dtype=float)
    poly = [v for v in md.history.as_dictionary().values()
            if v["method"] == "polynomial_correct"][0]["parameters"]
    op = chain.chain_operator(s, r, s_min=md.s_min,
                              envelope=corrections.exponential_damping(s, md.damping.b),
                              s_max=poly["s_max"], polynomial=True,
                              s_range=tuple(poly["s_range"]))
    npix = np.asarray(ri.metadata.ePDF.integration.n_valid, dtype=float)
    return {"s": s, "f2": f2, "fsq": fsq, "r": r, "op": op,
            "s_range": tuple(md.fit.s_range), "npix": npix}


def _box(v, k):
    from pyxem_epdf.physics.fit import _box_sum

    return _box_sum(v, k)


def estimators(x, P, widths=(3, 5, 7)):
    """name → (N, C) maps for every candidate (see the module docstring)."""
    from pyxem_epdf.physics import fit
    from pyxem_epdf.physics._common import window_slice

    s, f2, sr = P["s"], P["f2"], P["s_range"]
    out = {"free": fit.fit_scattering_background(x, s, f2, sr)}
    for k in widths:
        out[f"pool {k}"] = fit.fit_scattering_background(x, s, f2, sr, c_pool=k)
    side = max(x.shape[:-1])
    out["scan"] = fit.fit_scattering_background(x, s, f2, sr, c_pool=2 * side + 1)
    out["affine"] = fit.fit_scattering_background(x, s, f2, sr, c_pool="affine")
    out = {k: (v.N, v.C) for k, v in out.items()}
    win = window_slice(s, *sr)
    y, a = x[..., win], f2[win]
    sums = [np.full(y.shape[:-1], float(a.size)), np.full(y.shape[:-1], a.sum()),
            np.full(y.shape[:-1], (a * a).sum()), y.sum(-1), y @ a]
    for k in (5,):
        sw, sa, saa, sy, say = (_box(v, k) for v in sums)
        # the pooled fit of box-summed sums is that of the neighbourhood's mean pattern
        c_own = (saa * sy - sa * say) / (saa * sw - sa * sa)
        n_own = (sums[4] - c_own * sums[1]) / sums[2]
        out[f"C const {k}"] = (n_own, c_own)
    zero = fit.fit_scattering_background(x, s, f2, sr, fix_c=True)
    out["C = 0"] = (zero.N, zero.C)
    first = fit.fit_scattering_background(x, s, f2, sr)
    w = fit.poisson_weights(first.N[..., None] * f2 + first.C[..., None], P["npix"])
    second = fit.fit_scattering_background(x, s, f2, sr, weights=w)
    out["poisson"] = (second.N, second.C)
    return out


def pdf_of(x, P, N, C):
    from pyxem_epdf.physics import chain

    G, _ = chain.intensity_to_pdf(x, P["s"], N, np.broadcast_to(C, np.shape(N)), P["f2"],
                                  P["fsq"], P["op"])
    return np.asarray(G).reshape(-1, P["r"].size)


def scores(x, x0, P, cands, ref):
    """Rows (name, N̂/N₀ mean, median, std, p1, mean-G scale, median rel. rms G error)."""
    r = P["r"]
    sel = (r >= R_WINDOW[0]) & (r <= R_WINDOW[1])
    g0 = pdf_of(x0, P, *ref)
    rows = []
    for name, (N, C) in cands.items():
        q = (np.asarray(N) / ref[0]).ravel()
        g = pdf_of(x, P, N, C)
        m, m0 = g.mean(0)[sel], g0.mean(0)[sel]
        err = np.sqrt(np.mean((g - g0)[:, sel] ** 2, 1) / np.mean(g0[:, sel] ** 2, 1))
        rows.append((name, q.mean(), np.median(q), q.std(), np.percentile(q, 1),
                     float(m @ m0 / (m0 @ m0)), float(np.median(err))))
    return rows


def report(title, rows):
    print(f"== {title}")
    print(f"   {'estimator':<11}{'N/N0 mean':>10}{'median':>8}{'std':>7}{'p1':>7}"
          f"{'meanG scale':>13}{'G err (med)':>13}")
    for name, mean, med, std, p1, sc, err in rows:
        print(f"   {name:<11}{mean:>10.3f}{med:>8.3f}{std:>7.3f}{p1:>7.3f}{sc:>13.3f}{err:>13.3f}")
    sys.stdout.flush()


def main():
    warnings.filterwarnings("ignore")
    import accuracy_route as ar

    from pyxem_epdf.data import ZIF_LIKE, average_composition

    t0 = time.perf_counter()
    for dose in DOSES:
        spec = dict(ar.FAST_COMPOSITES[SPEC], dose=dose)
        synth = ar.generate(spec, phases=(ZIF_LIKE,))
        clean = ar.generate(spec, noise=False, phases=(ZIF_LIKE,))
        ri, ri0 = route_profile(synth.signal), route_profile(clean.signal)
        composition = average_composition(synth)
        P = chain_of(ri0, composition)
        x, x0 = np.asarray(ri.data, float), np.asarray(ri0.data, float)
        ref = estimators(x0, P, widths=())["free"]
        from pyxem_epdf.signals.reduced_intensity import _window_counts

        wc = _window_counts(ri, x, P["s"], P["s_range"])
        report(f"pure ZIF-like 24x24, {dose:g} e/A^2: window counts median {np.median(wc):.0f}, "
               f"N0/N_true {np.median(ref[0] / synth.N_true):.3f}",
               scores(x, x0, P, estimators(x, P), ref))
    for key in ("2ph seed23 1 incl r25nm drift(-1,2) 2.5e",
                "2ph seed11 3 incl r10nm drift(2,-1.5) 10e"):
        spec = ar.FAST_COMPOSITES[key]
        synth, clean = ar.generate(spec), ar.generate(spec, noise=False)
        ri, ri0 = route_profile(synth.signal), route_profile(clean.signal)
        P = chain_of(ri0, average_composition(synth))
        x, x0 = np.asarray(ri.data, float), np.asarray(ri0.data, float)
        ref = estimators(x0, P, widths=())["free"]
        report(f"composite {key}", scores(x, x0, P, estimators(x, P), ref))
    print(f"wall time {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
