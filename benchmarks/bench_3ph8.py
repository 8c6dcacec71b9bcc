"""Why the 3-phase seed-8 composite's full-resolution route misses (issue 12, h-3ph8).

``accuracy_route.py --oracle --only 3`` ("3ph seed8 0 incl drift(-2,-1) 2.5e",
48×48, 2.5 e-/A^2, interface 20 nm): n = 3, fraction maps 0.952/0.941/0.947
against the oracle 0.954/0.946/0.953, interface 17.6 ± 1.4 nm for 20.0.

For the generator's own draw and ``--draws`` Poisson redraws of the noiseless
twin (same spec: same fractions, thickness, descan; only the counts differ)
this runs the route's chain once per draw and prints, per draw:

* fraction r of ``dec.unmix()`` (default: thickness deflation where a mode
  was flagged, closure refit 0.01), with ``thickness_deflation=False``, with
  ``refit=None`` and with both off;
* fraction r of the TRUE components (least squares of the noiseless chain on
  the true fractions) projected on the same cube (:meth:`Unmixing.project`,
  the closure fit in the metric of all adjacent pairs) -- the best the route's
  refit can do with perfect components;
* boundary_width (unclipped, interior-pair metric) of phase A for each of
  these unmixings and for the true components, and on the true map.

``--metric`` instead: the closure refit's fractions (as ``Decomposition._result``
does it) with the route's vertices (plain means) or the true components, in the
all-pairs noise metric of the rank evidence or the interior-pair one
(:func:`~pyxem_epdf.physics.unmixing.interior_noise_covariance`), at
regularization 0.01 and 0.003.

``--vertex``: the same refit (all pairs, 0.01) with each route vertex in turn
replaced by the true one, and with the vertices as the mean of the noisy cube
over all truly pure pixels (true fraction > 0.99: the best vertex the data
hold); the vertex errors (rms over the window, relative to the rms contrast
of the true vertices) of the route, of that mean, and of the noise alone
averaged over the route's pure pixels.

Run ``python benchmarks/bench_3ph8.py [--draws 4] [--metric] [--vertex]``; the chain cubes are cached
in /tmp/3ph8/ (``--no-cache`` to rebuild).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
import warnings

import numpy as np

CACHE = "/tmp/3ph8"
NAME = "3ph seed8 0 incl drift(-2,-1) 2.5e"


def chain(dp, composition):
    import pyxem_epdf as epdf

    shifts = epdf.signals.descan(dp)
    ri = epdf.azimuthal_profile(dp, beam_shift=shifts[1])
    return ri.get_pdf(composition)


def cached_pdf(tag, make, use_cache=True):
    import hyperspy.api as hs

    path = os.path.join(CACHE, f"{tag}.hspy")
    if use_cache and os.path.exists(path):
        return hs.load(path)
    pdf = make()
    os.makedirs(CACHE, exist_ok=True)
    pdf.save(path, overwrite=True)
    return hs.load(path)


def metric_table(pdfs, truth, e_true):
    """Refit fraction r per (components, metric, regularization), per draw."""
    from accuracy_route import match_components, _pearson
    from pyxem_epdf.mapping import _crop_index, _nav_unfolded
    from pyxem_epdf.physics import unmixing as U

    t = truth.reshape(-1, truth.shape[-1])
    k = t.shape[1]
    res = {}
    for pdf in pdfs:
        dec = pdf.decompose()
        un = dec.unmix(k, refit_endmembers="mean")
        ev, nav = dec.evidence, _nav_unfolded(dec.source)[1]
        crop = _crop_index(dec.source.axes_manager.signal_axes[0].axis,
                           dec.signal.axes_manager.signal_axes[0].axis)
        assign, _ = match_components(np.asarray(un.loadings.data, float), truth)
        e_route = np.asarray(un.components.data)[[assign[p] for p in range(k)]][:, crop]
        tu = t[ev.used]
        covs = {"all pairs": ev.noise_cov,
                "interior": U.interior_noise_covariance(ev, e_route, nav)[0]}
        for cname, e in (("route vertices", e_route), ("true components", e_true[:, crop])):
            em = e @ ev.basis
            for mname, cov in covs.items():
                for reg in (0.01, 0.003):
                    w = U.noise_whitener(cov, regularization=reg)
                    f, _ = U.simplex_fit(ev.coordinates @ w, em @ w)
                    r = np.array([_pearson(f[:, p], tu[:, p]) for p in range(k)])
                    res.setdefault((cname, mname, reg), []).append(r)
    for key, v in res.items():
        v = np.array(v)
        print(f"    {key[0]:<16} {key[1]:<10} reg {key[2]:<6} draw 0 "
              f"{' '.join(f'{x:.3f}' for x in v[0])}   mean {' '.join(f'{x:.4f}' for x in v.mean(0))}")


def vertex_table(pdfs, clean_pdf, truth, e_true):
    """Refit fraction r with true / best-data vertices, and the vertex errors, per draw."""
    from accuracy_route import match_components, _pearson
    from pyxem_epdf.mapping import _crop_index
    from pyxem_epdf.physics import unmixing as U

    t = truth.reshape(-1, truth.shape[-1])
    k = t.shape[1]
    x0 = np.asarray(clean_pdf.data, float).reshape(len(t), -1)
    acc = {}
    for d, pdf in enumerate(pdfs):
        x = np.asarray(pdf.data, float).reshape(x0.shape)
        dec = pdf.decompose()
        un = dec.unmix(k, refit_endmembers="mean")
        ev = dec.evidence
        crop = _crop_index(dec.source.axes_manager.signal_axes[0].axis,
                           dec.signal.axes_manager.signal_axes[0].axis)
        assign, _ = match_components(np.asarray(un.loadings.data, float), truth)
        order = [assign[p] for p in range(k)]
        pure = un.pure.reshape(-1, k)[:, order]
        et = e_true[:, crop]
        scale = np.sqrt(np.mean((et - et.mean(0)) ** 2, axis=1))
        e_route = np.asarray(un.components.data)[order][:, crop]
        ok = np.isfinite(x).all(1)
        e_best = np.array([x[(t[:, p] > 0.99) & ok].mean(0)[crop] for p in range(k)])
        sets = {"route vertices": e_route, "truly pure mean": e_best}
        for p in range(k):
            e = e_route.copy()
            e[p] = et[p]
            sets[f"true vertex {p}"] = e
        w = U.noise_whitener(ev.noise_cov, regularization=0.01)
        tu = t[ev.used]
        for name, e in sets.items():
            f, _ = U.simplex_fit(ev.coordinates @ w, (e @ ev.basis) @ w)
            acc.setdefault(name, []).append([_pearson(f[:, p], tu[:, p]) for p in range(k)])
        err = lambda e: np.sqrt(np.mean((e - et) ** 2, axis=1)) / scale  # noqa: E731
        noise = np.array([(x - x0)[pure[:, p]].mean(0)[crop] for p in range(k)])
        print(f"    draw {d}: pure px {pure.sum(0)} (truly pure {(t > 0.99).sum(0)}); vertex err "
              f"route {np.round(err(e_route), 3)}, truly pure mean {np.round(err(e_best), 3)}, "
              f"noise of the route's mean {np.round(np.sqrt(np.mean(noise**2, 1)) / scale, 3)}",
              flush=True)
    for name, v in acc.items():
        print(f"    {name:<16} mean r {' '.join(f'{x:.4f}' for x in np.mean(v, 0))}")


def main():
    from accuracy_route import COMPOSITES, generate, match_components, _pearson
    from pyxem_epdf.data import average_composition
    from pyxem_epdf.mapping import boundary_width

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=4, help="Poisson redraws of the noiseless twin")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--metric", action="store_true", help="the refit-metric table only")
    p.add_argument("--vertex", action="store_true", help="the vertex table only")
    args = p.parse_args()
    warnings.filterwarnings("ignore")
    use = not args.no_cache
    spec = COMPOSITES[NAME]
    synth = generate(spec)
    clean = generate(spec, noise=False)
    composition = average_composition(synth)
    truth = np.asarray(synth.fractions)
    t = truth.reshape(-1, truth.shape[-1])
    line = synth.interface_line()
    pdf0 = cached_pdf("clean", lambda: chain(clean.signal, composition), use)
    x0 = np.asarray(pdf0.data, float).reshape(-1, pdf0.data.shape[-1])
    ok0 = np.isfinite(x0).all(1)
    e_true = np.linalg.lstsq(t[ok0], x0[ok0], rcond=None)[0]  # (n_phases, n_r) full r

    lam = np.asarray(clean.signal.data, float)
    rows = []
    pdfs = []
    for d in range(args.draws + 1):
        t0 = time.perf_counter()
        if d == 0:
            pdf = cached_pdf("draw0", lambda: chain(synth.signal, composition), use)
        else:
            def make(d=d):
                dp = clean.signal.deepcopy()
                dp.data = np.random.default_rng([8, 777, d]).poisson(lam).astype(
                    synth.signal.data.dtype)
                return chain(dp, composition)
            pdf = cached_pdf(f"draw{d}", make, use)
        if args.metric or args.vertex:
            pdfs.append(pdf)
            continue
        dec = pdf.decompose()
        flagged = None if dec.thickness_like is None else np.asarray(dec.thickness_like)
        out = {"draw": d, "n": int(dec.n_components), "thick": flagged}
        k = len(t[0])
        variants = {
            "default": dict(),
            "nodefl": dict(thickness_deflation=False),
            "norefit": dict(refit=None),
            "neither": dict(thickness_deflation=False, refit=None),
            "defl_on": dict(thickness_deflation=True),
            "refit003": dict(refit=0.003),
        }
        base = None
        for vname, kw in variants.items():
            try:
                un = dec.unmix(k, **kw)
            except ValueError as err:
                out[vname] = (np.full(k, np.nan), np.nan, str(err))
                continue
            maps = np.asarray(un.loadings.data, float)
            assign, fr = match_components(maps, truth)
            try:
                bw = un.boundary_width(assign[0], pdf, line)
                w, info = bw.width, f"{str(bw)}"
                if vname == "default":
                    w_noinc = un.boundary_width(assign[0], pdf, line, inclusions=None)
                    info += f" | inclusions=None: {w_noinc.width:.2f}"
                    out["noinc"] = (fr, w_noinc.width, "")
            except Exception as err:  # noqa: BLE001 - reported
                w, info = np.nan, f"{type(err).__name__}: {err}"
            out[vname] = (fr, w, info)
            if base is None:
                base = un
        comps = base.components.deepcopy()
        comps.data = e_true.copy()
        un_true = dataclasses.replace(base, components=comps,
                                      labels=[f"phase {i}" for i in range(k)])
        proj = np.asarray(un_true.project(pdf).loadings.data, float)
        fr_true = np.array([_pearson(proj[p].ravel()[ok0], t[ok0, p]) for p in range(k)])
        bw_true = un_true.boundary_width(0, pdf, line)
        w_true = bw_true.width
        w_true_map = boundary_width(
            base.loadings.inav[0]._deepcopy_with_new_data(truth[..., 0]), line).width
        out["true"] = (fr_true, w_true, str(bw_true))
        out["true_noinc"] = (fr_true, un_true.boundary_width(0, pdf, line, inclusions=None).width, "")
        out["truthmap_width"] = w_true_map
        out["sec"] = time.perf_counter() - t0
        rows.append(out)
        fmt = lambda v: " ".join(f"{x:.3f}" for x in v)  # noqa: E731
        print(f"--- draw {d} n={out['n']} thickness_like={flagged} "
              f"({out['sec']:.0f} s); true map width {w_true_map:.2f} nm", flush=True)
        for vname in list(variants) + ["noinc", "true", "true_noinc"]:
            fr, w, err = out[vname]
            print(f"    {vname:<8} r {fmt(fr)}  min {np.nanmin(fr):.3f}  width {w:.2f} nm {err}",
                  flush=True)
    if args.metric:
        metric_table(pdfs, truth, e_true)
    if args.vertex:
        vertex_table(pdfs, pdf0, truth, e_true)
    if args.metric or args.vertex:
        return
    print("=== mean over draws (± std of the draws)")
    for vname in ["default", "nodefl", "norefit", "neither", "defl_on", "refit003", "noinc",
                  "true", "true_noinc"]:
        fr = np.array([r[vname][0] for r in rows if vname in r])
        w = np.array([r[vname][1] for r in rows if vname in r])
        print(f"    {vname:<8} r {' '.join(f'{m:.3f}±{s:.3f}' for m, s in zip(np.nanmean(fr, 0), np.nanstd(fr, 0)))}"
              f"  width {np.nanmean(w):.2f} ± {np.nanstd(w):.2f} nm "
              f"({100 * (np.nanmean(w) / 20.0 - 1):+.1f} %)")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
