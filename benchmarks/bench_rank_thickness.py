"""Issue 12, rank: can the N̂ map tell a thickness mode from a phase?

A component beyond the first counts today (``decompose`` defaults) if it is
above the noise floor, its loading map is spatially coherent (z ≥ 4) and its
strength is ≥ 0.04. A wide thickness range makes a coherent within-phase
shape change of G that neither strength nor coherence separates from a
phase. Idea measured here: a thickness mode's loading follows the scan's
fitted N̂ map (``metadata.ePDF.fit.N``) *within* phases, a phase's loading is
piecewise constant. For every candidate k the statistic is the partial
correlation of its loading with log N̂, both residualised on a constant and
the loadings of components 0 … k−1 (``mapping.loading_thickness_correlation``),
log N̂'s residual smoothed over 1 scan pixel.

Runs the documented route (descan → ``azimuthal_profile(beam_shift=)`` →
``get_pdf(composition)``) once per composite and binning, caches the G(r)
cube over 0.9–8.1 Å and the fit maps to ``--cache`` (npz), then evaluates
the rules offline (``rank_evidence`` on the cached cubes, as ``decompose``
calls it). Sets: "issue" = the 3 fast composites of
``tests/test_accuracy_route.py``, the same specs with seeds 3 and 7, the 4
48×48 composites of ``accuracy_route.py`` and the embedded
``two_phase_composite(nav_shape=(48, 48))``; "stress" = 24×24, thickness
20–160 nm, seeds 11 and 23, 2 and 3 phases. Each at full resolution and 2×2.

Usage::

    python benchmarks/bench_rank_thickness.py [--cache /tmp/rank3/bench] [--grid]
"""

import argparse
import glob
import importlib.util
import os
import time
import warnings
from pathlib import Path

import numpy as np

_AR = Path(__file__).resolve().parent / "accuracy_route.py"


def _accuracy_route():
    spec = importlib.util.spec_from_file_location("accuracy_route", _AR)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def composites(ar):
    """name → (set, spec or None for the embedded composite)."""
    out = {}
    for k, s in ar.FAST_COMPOSITES.items():
        out["fast " + k] = ("issue", s)
        for sd in (3, 7):
            out[f"fast {k} s{sd}"] = ("issue", {**s, "seed": sd})
    for k, s in ar.COMPOSITES.items():
        out["big " + k] = ("issue", s)
    out["embedded 48"] = ("issue", None)
    for sd in (11, 23):
        spec = {"nav_shape": (24, 24), "seed": sd, "n_phases": 2, "inclusions": 2,
                "inclusion_radius": 12.0, "descan": (1.0, 1.0), "dose": 10.0,
                "interface_width": 15.0, "thickness_range": (20.0, 160.0)}
        out[f"stress 2ph seed{sd}"] = ("stress", spec)
        out[f"stress 3ph seed{sd}"] = ("stress", {**spec, "n_phases": 3})
    # held out (not used to choose the threshold): other seeds, a narrower wide range
    for sd in (3, 5, 8, 17):
        for th in ((20.0, 160.0), (20.0, 100.0)):
            spec = {"nav_shape": (24, 24), "seed": sd, "n_phases": 2, "inclusions": 2,
                    "inclusion_radius": 12.0, "descan": (1.0, 1.0), "dose": 10.0,
                    "interface_width": 15.0, "thickness_range": th}
            for nph in (2, 3):
                out[f"holdout {nph}ph seed{sd} t{th[1]:g}"] = ("holdout", {**spec, "n_phases": nph})
    for sd in (11, 23):
        spec = {"nav_shape": (48, 48), "seed": sd, "n_phases": 2, "inclusions": 3,
                "inclusion_radius": 12.0, "descan": (1.5, -1.0), "dose": 10.0,
                "interface_width": 15.0, "thickness_range": (20.0, 160.0)}
        for nph in (2, 3):
            out[f"holdout48 {nph}ph seed{sd} t160"] = ("holdout", {**spec, "n_phases": nph})
    return out


def cache(directory):
    """Run the route on every composite × binning; one npz per run."""
    import pyxem_epdf as epdf
    from pyxem_epdf.data import average_composition, two_phase_composite
    from pyxem_epdf.mapping import propagated_pdf_noise

    ar = _accuracy_route()
    os.makedirs(directory, exist_ok=True)
    for i, (name, (group, spec)) in enumerate(composites(ar).items()):
        if all(os.path.exists(f"{directory}/run{i:02d}_b{b}.npz") for b in (1, 2)):
            continue
        t0 = time.time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            synth = two_phase_composite(nav_shape=(48, 48)) if spec is None else ar.generate(spec)
            comp = average_composition(synth)
            dp = synth.signal
            shifts = epdf.signals.descan(dp)
            for b in (1, 2):
                src = dp if b == 1 else dp.rebin(scale=(b, b, 1, 1))
                ri = epdf.azimuthal_profile(src, beam_shift=shifts[1])
                pdf = ri.get_pdf(comp)
                crop = pdf.isig[0.9:8.1]
                fit = pdf.metadata.ePDF.fit
                r_dec = np.asarray(pdf.isig[1.0:8.0].axes_manager.signal_axes[0].axis)
                prop = propagated_pdf_noise(ri, pdf, r_dec,
                                            correlation=ar.bin_correlation_of(dp, ri))
                binf = (lambda a: a) if b == 1 else (lambda a, b=b: ar.bin_mean(a, b))
                np.savez_compressed(
                    f"{directory}/run{i:02d}_b{b}.npz", name=name, group=group, binning=b,
                    n_true=synth.fractions.shape[-1], x=np.asarray(crop.data, dtype=float),
                    r=np.asarray(crop.axes_manager.signal_axes[0].axis),
                    N=np.asarray(fit.N.data, dtype=float),
                    valid=np.asarray(fit.valid.data, dtype=bool),
                    r_dec=r_dec, prop_level=np.asarray(prop.level),
                    prop_cov=np.asarray(prop.covariance),
                    fractions=binf(synth.fractions), thickness=binf(synth.thickness))
        print(f"cached {name} ({time.time() - t0:.1f} s)", flush=True)


def runs(directory):
    out = []
    for f in sorted(glob.glob(f"{directory}/run*_b?.npz")):
        d = {k: (v.item() if v.ndim == 0 else v) for k, v in np.load(f).items()}
        out.append(d)
    return out


def evidence(d, propagated=False, **kw):
    """``rank_evidence`` on a cached cube over ``pdf.isig[1.0:8.0]``, as ``decompose``
    calls it (``propagated``: with the noise propagated from I(s), ``decompose(ri=)``)."""
    from pyxem_epdf.physics import unmixing

    x, r = d["x"], d["r"]
    nav = x.shape[:-1]
    sel = np.isin(np.round(r, 9), np.round(d["r_dec"], 9))
    xx = x[..., sel].reshape(-1, int(sel.sum()))
    xx = np.where(d["valid"].ravel()[:, None], xx, np.nan)
    kw = {"min_coherence": 4.0, "coherent_strength": 0.04, **kw}
    if propagated:
        kw.update(noise_scale=d["prop_level"], noise_cov=d["prop_cov"])
    return unmixing.rank_evidence(xx, nav, n_draws=20, min_strength=0.07, seed=0, **kw), nav


def as_pdf(d):
    """A PDF1DPlus of a cached cube carrying the fit's N̂ and validity maps (what
    ``decompose`` reads from ``metadata.ePDF.fit``)."""
    import pyxem_epdf as epdf

    pdf = epdf.PDF1DPlus(d["x"])
    ax = pdf.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = float(d["r"][0]), float(d["r"][1] - d["r"][0]), "Å"
    pdf.metadata.set_item("ePDF.fit.N", np.asarray(d["N"], dtype=float))
    pdf.metadata.set_item("ePDF.fit.valid", np.asarray(d["valid"], dtype=bool))
    return pdf


def null_table(recs):
    """ρ and z = ρ √(n − k − 2) of the components beyond the true n (index ≤ 7)."""
    lines = []
    for label, pick in (("all", lambda ev, k: True),
                        ("incoherent (z < 4)", lambda ev, k: ev.coherence[k] < 4),
                        ("coherent (z ≥ 4)", lambda ev, k: ev.coherence[k] >= 4)):
        rz = [(rho[k], rho[k] * np.sqrt(ev.used.sum() - k - 2)) for d, ev, rho in recs
              for k in range(d["n_true"], min(8, len(rho))) if pick(ev, k)]
        if not rz:
            continue
        rho, z = np.array(rz).T
        lines.append(f"  {label:20s} n={len(z):4d}  z mean {z.mean():+.2f} std {z.std():.2f}  "
                     f"0.999q |z| {np.quantile(abs(z), 0.999):5.2f}  max |z| {abs(z).max():5.2f}  "
                     f"|ρ| 0.99q {np.quantile(abs(rho), 0.99):.2f}  max |ρ| {abs(rho).max():.2f}")
    return lines


def score(recs, coherent_strength, rho_max, smooth=None):
    """Right n per set for the rule; misses listed."""
    from pyxem_epdf import mapping

    res = {g: [0, 0, []] for g in ("issue", "stress", "holdout")}
    for d, ev, rho in recs:
        if smooth is not None:
            rho = mapping.loading_thickness_correlation(ev, d["N"], ev_nav(d), smooth=smooth)
        n, _ = mapping._count_phases(ev, coherent_strength, rho,
                                     np.inf if rho_max is None else rho_max)
        g = res[d["group"]]
        g[1] += 1
        if n == d["n_true"]:
            g[0] += 1
        else:
            g[2].append(f"{d['name'][:26]} b{d['binning']}: {n}")
    return res


def ev_nav(d):
    return d["x"].shape[:-1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", default="/tmp/rank3/bench")
    p.add_argument("--grid", action="store_true", help="threshold × smoothing grid")
    args = p.parse_args()
    from pyxem_epdf import mapping

    cache(args.cache)
    data = runs(args.cache)
    print("\nShipped decompose() on the cached cubes (estimated noise), right n:")
    for label, kw in (("today: z ≥ 4, strength ≥ 0.04 (thickness_correlation=False)",
                       {"thickness_correlation": False}),
                      ("today at strength 0.03", {"thickness_correlation": False,
                                                  "coherent_strength": 0.03}),
                      ("new default (thickness test, strength 0.03)", {})):
        res = {g: [0, 0, []] for g in ("issue", "stress", "holdout")}
        for d in data:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dec = mapping.decompose(as_pdf(d), (1.0, 8.0), **kw)
            g = res[d["group"]]
            g[1] += 1
            n = dec.evidence.n_components
            if n == d["n_true"]:
                g[0] += 1
            else:
                g[2].append(f"{d['name'][:26]} b{d['binning']}: {n}")
        print(f"  {label:62s} issue {res['issue'][0]}/{res['issue'][1]}  stress "
              f"{res['stress'][0]}/{res['stress'][1]}  held out {res['holdout'][0]}/"
              f"{res['holdout'][1]}")
        print(f"      misses: {res['issue'][2] + res['stress'][2] + res['holdout'][2]}")

    ar = _accuracy_route()
    print("\nFraction maps (closure, defaults; r with the truth) where the new rule changes n "
          "or finds a thickness mode: old rule | new n, thickness_deflation=False | new default")
    gains = {1: [], 2: []}
    for d in data:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            old = mapping.decompose(as_pdf(d), (1.0, 8.0), thickness_correlation=False)
            new = mapping.decompose(as_pdf(d), (1.0, 8.0))
            if old.n_components == new.n_components and not new.thickness_like.any():
                continue
            r_maps = []
            for dec, kw in ((old, {}), (new, {"thickness_deflation": False}), (new, {})):
                maps = np.asarray(dec.unmix(**kw).loadings.data)
                r_maps.append(ar.match_components(maps, d["fractions"])[1])
        if new.n_components == d["n_true"]:
            gains[d["binning"]].append(np.nanmin(r_maps[2]) - np.nanmin(r_maps[1]))
        print(f"  {d['name'][:34]:34s} b{d['binning']} (n {d['n_true']}): n {old.n_components} "
              f"{np.round(r_maps[0], 3)} | n {new.n_components} {np.round(r_maps[1], 3)} | "
              f"{np.round(r_maps[2], 3)}", flush=True)
    for b, g in gains.items():
        if g:
            print(f"  deflation, right-n runs at {'full' if b == 1 else '2x2'}: worst-map r change "
                  f"{min(g):+.3f} … {max(g):+.3f} (median {np.median(g):+.3f}, {len(g)} runs)")

    for prop in (False, True):
        recs = []
        for d in data:
            ev, nav = evidence(d, propagated=prop, coherent_strength=0.0)
            recs.append((d, ev, mapping.loading_thickness_correlation(ev, d["N"], nav)))
        path = "propagated (decompose(ri=))" if prop else "estimated (default)"
        print(f"\n=== noise {path} ===")
        print("Candidates above the floor, coherent (z ≥ 4), strength ≥ 0.02, index ≥ 2:")
        print(f"  {'run':40s} k kind   strength   z    ρ(log N̂, smoothed 1 px)")
        for d, ev, rho in recs:
            for k in range(2, min(8, len(rho))):
                if ev.singular_values[k] > ev.noise_floor[k] and ev.coherence[k] >= 4 \
                        and ev.strength[k] >= 0.02:
                    kind = "phase" if k < d["n_true"] else "extra"
                    print(f"  {d['name'][:36]:36s} b{d['binning']} {k} {kind}  "
                          f"{ev.strength[k]:.3f}  {ev.coherence[k]:5.1f}  {rho[k]:+.2f}")
        print("Null of ρ: components beyond the true n:")
        print("\n".join(null_table(recs)))
        print("Right n (issue 28 runs, stress 8, held out 40):")
        for cs, rmax in ((0.04, None), (0.03, None), (0.04, 0.36), (0.03, 0.36)):
            res = score(recs, cs, rmax)
            print(f"  strength ≥ {cs}, thickness {'off' if rmax is None else f'|ρ| ≥ {rmax}':10s}"
                  f"  issue {res['issue'][0]}/{res['issue'][1]}  stress {res['stress'][0]}/"
                  f"{res['stress'][1]}  held out {res['holdout'][0]}/{res['holdout'][1]}"
                  f"\n      misses: {res['issue'][2] + res['stress'][2] + res['holdout'][2]}")
        if args.grid and not prop:
            print("Grid (strength 0.03): smoothing σ × threshold → issue/stress/held out")
            for sm in (0.0, 1.0, 2.0):
                line = []
                for th in (0.28, 0.31, 0.34, 0.36, 0.38, 0.40, 0.45):
                    res = score(recs, 0.03, th, smooth=sm)
                    line.append(f"{th:.2f}: {res['issue'][0]}/{res['stress'][0]}/"
                                f"{res['holdout'][0]}")
                print(f"  σ {sm:g}: " + "  ".join(line))


if __name__ == "__main__":
    main()
