"""Benchmark: the 1D chain fit → φ → polynomial → damping → G(r), ours vs pyxem's.

Both routes run in the same process on the same I(s) profiles (a 64×64 scan of
noisy synthetic profiles by default) and the script prints time per pattern
and the ratio. pyxem's route is the one its documentation shows:
``ReducedIntensityGenerator1D.fit_atomic_scattering`` (HyperSpy multifit per
pattern) + ``get_reduced_intensity`` +
``ReducedIntensity1D.fit_thermal_multiple_scattering_correction`` (multifit) +
``damp_exponential`` + ``PDFGenerator1D.get_pdf``.

Usage::

    python benchmarks/bench_chain.py              # 64×64 scan, pyxem on a 16×16 subset
    python benchmarks/bench_chain.py --nav 32 32 --pyxem-nav 8 8

pyxem's multifit is timed on a subset (``--pyxem-nav``) and reported per
pattern, because its cost is linear in the number of patterns.

``--route 48:128 64:256`` instead times the chain stage of
``benchmarks/bench_route.py`` on the same profiles (the embedded composite,
descan + per-pattern-centre integration): ``get_pdf`` interleaved with that
benchmark's plain NumPy chain, best and median of ``--repeat`` calls each,
with the calling thread's CPU time per call and the cost of reading every
deferred map afterwards (issue 13: the fit maps, the coefficient map and the
navigator are built when first read). ``--after-pyxem`` runs pyxem's chain
on a 16×16 subset first, as ``bench_route`` does before its chain row.

Two routes of ours: the five chained methods (every intermediate φ(s) is a
signal) and :meth:`ReducedIntensity1DPlus.get_pdf`, which runs the same chain
in one pass (the linear steps after the fit folded into one matrix) and gives
the same G(r), maps and history. Every time is the best of ``--repeat`` runs,
pyxem's included.
"""

import argparse
import contextlib
import gc
import io
import time
import warnings

import hyperspy.api as hs
import numpy as np

import pyxem_epdf as epdf
from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity
from pyxem_epdf.physics.scattering import mean_scattering

COMPOSITION = {"Si": 1 / 3, "O": 2 / 3}
PARAMS = {"s_range": (1.6, 2.5), "b": 0.8, "s_min": 0.18, "r_max": 20.0, "r_step": 0.01}


def make_profiles(nav_shape, n_s=250, s_scale=0.011, seed=0):
    """Noisy mean-count profiles I(s) (Poisson, ~0.05 counts/pixel at high s)."""
    rng = np.random.default_rng(seed)
    s = s_scale * np.arange(n_s)
    s_safe = np.where(s > 0, s, s_scale / 2)
    f2, fsq = mean_scattering(COMPOSITION, s)
    phi = gaussian_peaks_reduced_intensity(s_safe, [1.61, 2.63, 4.2], [0.8, 1.2, 2.0], [0.08, 0.12, 0.2])
    N = rng.uniform(0.5, 1.5, nav_shape)[..., None]
    mean = N * (f2 + fsq * phi / s_safe)
    npix = np.maximum(2 * np.pi * np.arange(n_s), 1)  # detector pixels per ring
    data = rng.poisson(mean * npix) / npix
    sig = hs.signals.Signal1D(data.astype("float64"))
    ax = sig.axes_manager.signal_axes[0]
    ax.scale, ax.units, ax.name = s_scale, "Å^-1", "s"
    return sig


def ours(profile, lazy, dtype="float64"):
    ri = epdf.from_profile(profile.as_lazy() if lazy else profile, bin_position="center")
    pdf = (
        ri.fit_scattering(COMPOSITION, s_range=PARAMS["s_range"])
        .polynomial_correct()
        .damp_exponential(b=PARAMS["b"])
        .extrapolate_low_s(s_min=PARAMS["s_min"])
        .to_pdf(r_max=PARAMS["r_max"], r_step=PARAMS["r_step"], dtype=dtype)
    )
    if lazy:
        pdf.compute(show_progressbar=False)
    return pdf


def fused(profile, lazy, dtype="float64"):
    ri = epdf.from_profile(profile.as_lazy() if lazy else profile, bin_position="center")
    pdf = ri.get_pdf(COMPOSITION, PARAMS["s_range"], b=PARAMS["b"], s_min=PARAMS["s_min"],
                     r_max=PARAMS["r_max"], r_step=PARAMS["r_step"], dtype=dtype)
    if lazy:
        pdf.compute(show_progressbar=False)
    return pdf


def core(profile):
    """The same chain with the pure array functions only (no signal overhead)."""
    from pyxem_epdf.physics import corrections, fit, scattering, transform

    data = np.asarray(profile.data)
    ax = profile.axes_manager.signal_axes[0]
    s = ax.offset + ax.scale * np.arange(data.shape[-1]) + ax.scale / 2
    f2, fsq = scattering.mean_scattering(COMPOSITION, s)
    res = fit.fit_scattering_background(data, s, f2, PARAMS["s_range"])
    phi = fit.reduced_intensity(data, s, res.N, res.C, f2, fsq)
    coef = corrections.fit_polynomial_correction(phi, s, s_max=s[-1], s_range=(0.1 * s[-1], s[-1]))
    phi = phi - corrections.polynomial_baseline(coef, s, s[-1])
    phi = phi * corrections.exponential_damping(s, PARAMS["b"])
    phi = corrections.extrapolate_low_s(phi, s, PARAMS["s_min"])
    r = transform.r_grid(PARAMS["r_max"], PARAMS["r_step"])
    return transform.sine_transform(phi, s, r)


def pyxem_route(profile):
    from pyxem.generators import PDFGenerator1D, ReducedIntensityGenerator1D

    sig = profile.deepcopy()
    sig.set_signal_type("electron_diffraction")
    gen = ReducedIntensityGenerator1D(sig)
    gen.set_s_cutoff(*PARAMS["s_range"])
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen.fit_atomic_scattering(
            list(COMPOSITION), list(COMPOSITION.values()), scattering_factor="lobato",
            plot_fit=False, show_progressbar=False,
        )
        ri = gen.get_reduced_intensity()
        ri.fit_thermal_multiple_scattering_correction()
        ri.damp_exponential(b=PARAMS["b"], inplace=True)
        ri.damp_extrapolate_to_zero(s_min=PARAMS["s_min"])
        return PDFGenerator1D(ri).get_pdf(
            s_min=0.0, s_max=None, r_max=PARAMS["r_max"], r_increment=PARAMS["r_step"]
        )


def timed(fn, *args, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def route_overhead(sizes, repeat, after_pyxem):
    """The chain row of bench_route: get_pdf vs the plain chain, interleaved."""
    import sys
    from pathlib import Path

    from threadpoolctl import threadpool_limits

    sys.path.insert(0, str(Path(__file__).parent))
    import bench_route as br

    for size in sizes:
        nav, det = (int(v) for v in size.split(":"))
        _route_size(br, nav, det, repeat, after_pyxem, threadpool_limits)


def _route_size(br, nav, det, repeat, after_pyxem, threadpool_limits):
    """One size of :func:`route_overhead`."""
    import os

    ch = br.CHAIN
    synth = br.make_scan(nav, det)
    dp = synth.signal
    ri = epdf.azimuthal_profile(dp, npt=br.npt_for(det), s_max=br.S_MAX,
                                beam_shift=epdf.signals.descan(dp))  # as bench_route
    comp = epdf.data.average_composition(synth)
    s = np.asarray(ri.axes_manager.signal_axes[0].axis)
    if after_pyxem:
        br.pyxem_chain(ri.inav[:16, :16], comp)

    def ours():
        return ri.get_pdf(comp, ch["s_range"], b=ch["b"], s_min=ch["s_min"],
                          r_max=ch["r_max"], r_step=ch["r_step"])

    def plain():
        with threadpool_limits(limits=1, user_api="blas"):
            return br.plain_chain(np.asarray(ri.data), s, comp, **ch)

    ours(), plain()
    t = {"ours": [], "plain": [], "cpu": [], "proc": [], "maps": []}
    for _ in range(repeat):
        gc.collect()  # same heap for both: see bench_route.best_of
        t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
        pdf = ours()
        t["ours"].append(time.perf_counter() - t0)
        t["cpu"].append(time.thread_time() - c0)
        t["proc"].append(time.process_time() - p0)
        t0 = time.perf_counter()
        md = pdf.metadata
        read = [md.ePDF.fit[k] for k in md.ePDF.fit.keys()]
        read += [md.ePDF.polynomial.coefficients, pdf.navigator]
        t["maps"].append(time.perf_counter() - t0)
        del pdf, md, read
        gc.collect()
        t0 = time.perf_counter()
        plain()
        t["plain"].append(time.perf_counter() - t0)
    best = {k: min(v) * 1e3 for k, v in t.items()}
    med = {k: float(np.median(v)) * 1e3 for k, v in t.items()}
    print(f"{nav}×{nav}×{det}² ({nav * nav} patterns{', after pyxem' if after_pyxem else ''},"
          f" load {os.getloadavg()[0]:.1f}), {repeat} interleaved calls:")
    print(f"  get_pdf     best {best['ours']:6.1f} ms  median {med['ours']:6.1f} ms   "
          f"calling thread CPU {best['cpu']:5.1f} / {med['cpu']:5.1f} ms, "
          f"process CPU {best['proc']:5.1f} / {med['proc']:5.1f} ms")
    print(f"  plain chain best {best['plain']:6.1f} ms  median {med['plain']:6.1f} ms")
    print(f"  ratio       best {best['ours'] / best['plain']:.2f}×   median "
          f"{med['ours'] / med['plain']:.2f}×")
    print(f"  reading every deferred map afterwards: best {best['maps']:.1f} ms, "
          f"median {med['maps']:.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(64, 64))
    parser.add_argument("--pyxem-nav", type=int, nargs=2, default=(16, 16))
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--route", nargs="+", metavar="SCAN:DETECTOR",
                        help="time bench_route's chain stage at these sizes (e.g. 48:128)")
    parser.add_argument("--after-pyxem", action="store_true",
                        help="with --route: run pyxem's chain on a subset first")
    args = parser.parse_args()
    hs.preferences.General.show_progressbar = False
    if args.route:
        route_overhead(args.route, args.repeat, args.after_pyxem)
        return

    big = make_profiles(tuple(args.nav))
    small = make_profiles(tuple(args.pyxem_nav), seed=1)
    n_big, n_small = int(np.prod(args.nav)), int(np.prod(args.pyxem_nav))
    rep = args.repeat

    # same result from both routes of ours (checked, not assumed)
    g_steps, g_fused = ours(big, False).data, fused(big, False).data
    max_diff = float(np.abs(g_steps - g_fused).max() / np.abs(g_steps).max())

    t = {
        "core": timed(core, big, repeat=rep),
        "steps": timed(ours, big, False, repeat=rep),
        "steps32": timed(ours, big, False, "float32", repeat=rep),
        "steps_lazy": timed(ours, big, True, repeat=rep),
        "fused": timed(fused, big, False, repeat=rep),
        "fused32": timed(fused, big, False, "float32", repeat=rep),
        "fused_lazy": timed(fused, big, True, repeat=rep),
        "steps_small": timed(ours, small, False, repeat=rep),
        "fused_small": timed(fused, small, False, repeat=rep),
        "pyxem": timed(pyxem_route, small, repeat=max(1, min(rep, 2))),
    }
    pyxem = t["pyxem"] / n_small
    rows = [
        (f"array core, step by step ({n_big})", t["core"] / n_big),
        (f"ours, 5 chained methods ({n_big})", t["steps"] / n_big),
        (f"ours, 5 methods, float32 G ({n_big})", t["steps32"] / n_big),
        (f"ours, 5 methods, lazy ({n_big})", t["steps_lazy"] / n_big),
        (f"ours, get_pdf ({n_big})", t["fused"] / n_big),
        (f"ours, get_pdf, float32 G ({n_big})", t["fused32"] / n_big),
        (f"ours, get_pdf, lazy ({n_big})", t["fused_lazy"] / n_big),
        (f"ours, 5 methods ({n_small})", t["steps_small"] / n_small),
        (f"ours, get_pdf ({n_small})", t["fused_small"] / n_small),
        (f"pyxem route ({n_small})", pyxem),
    ]
    print(f"1D chain fit -> G(r), {big.data.shape[-1]} s-bins, r 0-{PARAMS['r_max']} Å "
          f"step {PARAMS['r_step']} Å, best of {rep}")
    for name, per in rows:
        ratio = "" if name.startswith("pyxem") else f"{pyxem / per:8.0f}x pyxem"
        print(f"  {name:38s} {per * 1e6:9.1f} µs/pattern {ratio}")
    print(f"  get_pdf vs 5 methods, max |ΔG| / max |G|: {max_diff:.1e}")
    print(f"  signal/metadata overhead of the 5 methods (vs array core, {n_big} patterns): "
          f"{t['steps'] - t['core']:.2f} s per chain")


if __name__ == "__main__":
    main()
