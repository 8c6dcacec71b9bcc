"""Benchmark: azimuthal integration and descan, ours vs pyxem, same data, same run.

Poisson uint16 frames (~0.05 counts/pixel, a central beam) with a calibrated
detector. Prints patterns/s (best of ``--repeat``) for

* our ``azimuthal_profile`` with a fixed centre and with a different centre
  for every pattern (``beam_shift``), eager (threads) and lazy (dask, 2
  threads), at full resolution and 2 × 2-binned navigation, and the ratio
  per-pattern / fixed;
* pyxem's ``get_azimuthal_integral1d(npt, mean=True)``;
* our ``descan`` against pyxem's ``get_direct_beam_position(method=
  "center_of_mass", threshold=20)`` (+ ``get_linear_plane``);
* the first call of each compiled kernel in this process (compiled, or loaded
  from the on-disk cache);
* the compiled kernels alone on one thread (fixed-centre gather vs per-pattern
  weights, same frames and centres).

Fixed and per-pattern runs alternate within each repeat; the ratio printed
is the median over the repeats (and the ratio of the best times). Pin the
thread pools as the other benchmarks do (``OMP_NUM_THREADS=1
OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=2``); eager runs use
the usable cores (threads over patterns), lazy runs dask's threads (2).

Then, at the public-API level on the embedded composite of ``bench_route.py``
(the same scans, descan drift, bins and ``s_max``: 48×48×128² and 64×64×256²),
``azimuthal_profile(dp, npt=…, s_max=…, beam_shift=descan(dp).plane)`` against
the same call without ``beam_shift``, eager and lazy, at 1×1 and 2×2
navigation binning (the full-resolution plane, averaged over the bin blocks):
the per-pattern / fixed rate ratio (median of alternating runs and ratio of
the best times), and the compiled kernels alone on one thread (thread CPU
time, which the other jobs on a shared machine disturb least).

Usage::

    python benchmarks/bench_integration.py                      # 48×48×128×128
    python benchmarks/bench_integration.py --nav 32 32 --det 256
    python benchmarks/bench_integration.py --api-only --api-sizes 48:128 64:256
"""

import argparse
import time
import warnings

import dask
import hyperspy.api as hs
import numpy as np

t_import = time.perf_counter()
import pyxem_epdf as epdf  # noqa: E402
from pyxem_epdf.physics import geometry, integration  # noqa: E402

t_import = time.perf_counter() - t_import


def make(nav, det, seed=0, shift=(3.0, -2.0)):
    """Frames with the pattern centre drifting linearly by ``shift`` px over the scan."""
    rng = np.random.default_rng(seed)
    k = (np.arange(det) - (det - 1) / 2) * 0.01
    data = np.empty(tuple(nav) + (det, det), np.uint16)
    y, x = np.meshgrid(k, k, indexing="ij")
    for i in range(nav[0]):
        dy = shift[1] * (i / max(nav[0] - 1, 1) - 0.5) * 0.01
        for j0 in range(0, nav[1], 8):
            dx = shift[0] * ((j0 + 4) / max(nav[1] - 1, 1) - 0.5) * 0.01
            r = np.hypot(x - dx, y - dy)
            lam = 0.05 + 0.5 * np.exp(-r / 0.3) + 200 * np.exp(-0.5 * (r / 0.02) ** 2)
            n = min(8, nav[1] - j0)
            data[i, j0:j0 + n] = rng.poisson(lam, size=(n, det, det))
    sig = hs.signals.Signal2D(data)
    sig.set_signal_type("electron_diffraction")
    for ax in sig.axes_manager.signal_axes:
        ax.scale, ax.offset, ax.units = 0.01, float(k[0]), "k_A^-1"
    return sig


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def api_ratios(sizes, repeat):
    """Per-pattern / fixed-centre rate of ``azimuthal_profile`` on bench_route's composite.

    For each (nav, det) and each of eager/lazy × 1×1/2×2: fixed and per-pattern calls
    alternate ``repeat`` times; prints the best times, the ratio of the best times and
    the median of the per-repeat ratios, and the kernels alone on one thread.
    """
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_route import S_MAX, make_scan, npt_for

    rows = []
    for nav, det in sizes:
        dp = make_scan(nav, det).signal
        npt = npt_for(det)
        plane = epdf.signals.descan(dp).plane
        print(f"\nAPI level, bench_route composite {nav}×{nav}×{det}², npt={npt}, s_max={S_MAX} "
              f"Å⁻¹ (non-zero pixels {np.count_nonzero(dp.data) / dp.data.size:.1%}; load "
              f"average {os.getloadavg()[0]:.1f})")
        for binning in (1, 2):
            base = dp if binning == 1 else dp.rebin(scale=(2, 2, 1, 1))
            count = int(np.prod(base.data.shape[:-2]))
            # the kernels alone, one thread, thread CPU time
            from pyxem_epdf.signals.profile import _centres_from_beam_shift, _detector

            axes, kx, ky = _detector(base)
            cen = _centres_from_beam_shift(plane, axes, base.data.shape[:-2])[0].reshape(-1, 2)
            edges = np.linspace(0.0, S_MAX, npt + 1)
            op_k = integration.radial_operator(kx, ky, edges)
            flat = integration._native(np.asarray(base.data).reshape(count, -1))
            integration._sums(flat[:2], op_k), integration._sums(flat[:2], op_k, cen[:2])
            kf, ks = [], []
            for _ in range(repeat):
                for centres, ts in ((None, kf), (cen, ks)):
                    t0 = time.thread_time()
                    integration._sums(flat, op_k, centres)
                    ts.append(time.thread_time() - t0)
            rows.append((f"{nav}×{nav}×{det}², {binning}×{binning}, kernels alone (1 thread, CPU)",
                         count, min(kf), min(ks), np.median(np.array(kf) / np.array(ks))))
            r = rows[-1]
            print(f"  {r[0]:30s}\n  {'':30s} fixed {r[2] * 1e3:6.1f} ms, per-pattern {r[3] * 1e3:6.1f} ms  "
                  f"ratio best {r[2] / r[3]:4.2f}  median {r[4]:4.2f}")
            for lazy in (False, True):
                d = base.as_lazy() if lazy else base

                def run(d=d, npt=npt, **kw):
                    out = epdf.azimuthal_profile(d, npt=npt, s_max=S_MAX, **kw)
                    if out._lazy:
                        with dask.config.set(scheduler="threads", num_workers=2):
                            out.compute(show_progressbar=False)
                    return out

                run(), run(beam_shift=plane)
                tf, ts = [], []
                for _ in range(repeat):
                    tf.append(best(run, 1))
                    ts.append(best(lambda plane=plane: run(beam_shift=plane), 1))
                label = f"{nav}×{nav}×{det}², {binning}×{binning}, {'lazy' if lazy else 'eager'}"
                rows.append((label, count, min(tf), min(ts), np.median(np.array(tf) / np.array(ts))))
                r = rows[-1]
                print(f"  {label:30s} fixed {r[1] / r[2]:8.0f} /s ({r[2] * 1e3:6.1f} ms)  "
                      f"per-pattern {r[1] / r[3]:8.0f} /s ({r[3] * 1e3:6.1f} ms)  ratio best "
                      f"{r[2] / r[3]:4.2f}  median {r[4]:4.2f}")
    print(f"\nper-pattern / fixed-centre rate, azimuthal_profile (median of {repeat} alternating "
          "runs; ratio of the best times):")
    for label, _, t_f, t_s, med in rows:
        print(f"  {label:60s} {med:5.2f}  ({t_f / t_s:4.2f})")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(48, 48))
    parser.add_argument("--det", type=int, default=128)
    parser.add_argument("--npt", type=int, default=None, help="default: one bin per pixel")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--api-sizes", nargs="*", default=["48:128", "64:256"],
                        help="nav:det of the API-level runs on bench_route's composite "
                             "(none: skip them)")
    parser.add_argument("--api-only", action="store_true",
                        help="only the API-level per-pattern / fixed ratios")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    hs.preferences.General.show_progressbar = False
    sizes = [tuple(int(v) for v in s.split(":")) for s in args.api_sizes]
    if args.api_only:
        api_ratios(sizes, args.repeat)
        return
    sig = make(args.nav, args.det)
    n = int(np.prod(args.nav))
    s_max = (args.det // 2 - 4) * 0.01
    npt = args.npt or int(round(s_max / 0.01))
    print(f"{n} frames of {args.det}×{args.det} uint16, npt={npt}, s_max={s_max:.2f} Å⁻¹ "
          f"(nonzero pixels {np.count_nonzero(sig.data) / sig.data.size:.1%}); "
          f"import pyxem_epdf {t_import:.2f} s")

    # first calls: numba compiles the kernels (no disk cache)
    small = sig.inav[:2, :2]
    t0 = time.perf_counter()
    epdf.azimuthal_profile(small, npt=npt, s_max=s_max)
    t_first_fixed = time.perf_counter() - t0
    shifts_small = epdf.signals.descan(small)
    t0 = time.perf_counter()
    epdf.azimuthal_profile(small, npt=npt, s_max=s_max, beam_shift=shifts_small.measured)
    t_first_shift = time.perf_counter() - t0
    t0 = time.perf_counter()
    geometry.beam_centres(np.asarray(small.data[:1, :1]))
    t_first_com = time.perf_counter() - t0

    res = {}
    res["descan ours (eager)"] = best(lambda: epdf.signals.descan(sig), args.repeat)
    res["descan ours, centres alone (beam_centres)"] = best(
        lambda: geometry.beam_centres(sig.data, 20.0), args.repeat)
    ours = epdf.signals.descan(sig)

    def pyxem_descan():
        m = sig.get_direct_beam_position(method="center_of_mass", threshold=20)
        return m, m.get_linear_plane()

    res["descan pyxem (centre of mass + plane)"] = best(pyxem_descan, 1)
    theirs, theirs_plane = pyxem_descan()
    plane = ours.plane

    binned = sig.rebin(scale=(2, 2, 1, 1))
    lazy = sig.as_lazy()
    lazy_binned = binned.as_lazy()
    nb = int(np.prod(binned.data.shape[:-2]))

    def run(dp, **kw):
        out = epdf.azimuthal_profile(dp, npt=npt, s_max=s_max, **kw)
        if out._lazy:
            with dask.config.set(scheduler="threads", num_workers=2):
                out.compute(show_progressbar=False)
        return out

    # fixed and per-pattern runs alternate within each repeat, so that the load of the
    # shared machine hits both alike: the ratio of each repeat, then the median
    ratios = {}
    for label, dp, count in (("full", sig, n), ("2×2 binned", binned, nb),
                             ("full, lazy", lazy, n), ("2×2 binned, lazy", lazy_binned, nb)):
        run(dp)
        run(dp, beam_shift=plane)
        tf, ts = [], []
        for _ in range(args.repeat):
            tf.append(best(lambda dp=dp: run(dp), 1))
            ts.append(best(lambda dp=dp: run(dp, beam_shift=plane), 1))
        res[f"ours fixed centre, {label}"] = (min(tf), count)
        res[f"ours centre per pattern, {label}"] = (min(ts), count)
        ratios[label] = np.median(np.array(tf) / np.array(ts))

    # the compiled kernels alone, one thread, same frames and centres (no HyperSpy, no
    # valid-area set-up): fixed-centre gather vs per-pattern weights
    kx_ = sig.axes_manager.signal_axes[0].axis
    op_k = integration.radial_operator(kx_, kx_, np.linspace(0, s_max, npt + 1))
    flat_k = integration._native(sig.data.reshape(n, -1))
    cen_k = np.stack([kx_[0] + (args.det / 2 - np.asarray(plane.data)[..., 0].ravel()) * 0.01,
                      kx_[0] + (args.det / 2 - np.asarray(plane.data)[..., 1].ravel()) * 0.01],
                     axis=-1)
    integration._sums(flat_k[:2], op_k), integration._sums(flat_k[:2], op_k, cen_k[:2])
    kf, ks = [], []
    for _ in range(args.repeat):
        kf.append(best(lambda: integration._sums(flat_k, op_k), 1))
        ks.append(best(lambda: integration._sums(flat_k, op_k, cen_k), 1))
    res["kernel alone, fixed centre (1 thread)"] = (min(kf), n)
    res["kernel alone, centre per pattern (1 thread)"] = (min(ks), n)
    ratios["kernels alone, 1 thread"] = np.median(np.array(kf) / np.array(ks))
    res["pyxem get_azimuthal_integral1d (fixed centre)"] = best(
        lambda: sig.get_azimuthal_integral1d(npt=npt, radial_range=(0.0, s_max), mean=True,
                                             show_progressbar=False), 1)

    # our operator and per-pattern valid-area set-up alone
    kx = sig.axes_manager.signal_axes[0].axis
    edges = np.linspace(0, s_max, npt + 1)
    t_op = best(lambda: integration.radial_operator(kx, kx, edges), args.repeat)
    cen = np.random.default_rng(1).uniform(-0.02, 0.02, (n, 2))

    def tables():  # built once per geometry (then shared by its operators): time the build
        integration._TABLES.clear()
        op = integration.radial_operator(kx, kx, edges)
        integration.valid_area(op, cen[:1])

    t_tab = best(tables, args.repeat) - t_op
    op = integration.radial_operator(kx, kx, edges)
    integration.valid_area(op, cen)
    t_area = best(lambda: integration.valid_area(op, cen), args.repeat)

    print(f"rates (patterns/s, best of {args.repeat}; 2 cores shared with other jobs):")
    for name, t in res.items():
        t, count = t if isinstance(t, tuple) else (t, n)
        print(f"  {name:52s} {count / t:10.0f} /s  ({t:.3f} s)")
    for label, ratio in ratios.items():
        key = {"kernels alone, 1 thread": "kernel alone, {} (1 thread)"}.get(label, "ours {}, " + label)
        f = res[key.format("fixed centre")][0]
        s_ = res[key.format("centre per pattern")][0]
        print(f"  ratio per-pattern / fixed rate, {label:24s} best {f / s_:5.2f}  "
              f"median of {args.repeat} alternating runs {ratio:5.2f}")
    tp = res["pyxem get_azimuthal_integral1d (fixed centre)"]
    print(f"  ratio ours fixed / pyxem: {tp / res['ours fixed centre, full'][0]:.1f}x; "
          f"ours per-pattern / pyxem (fixed): {tp / res['ours centre per pattern, full'][0]:.1f}x")
    print(f"  descan ours / pyxem speed: "
          f"{res['descan pyxem (centre of mass + plane)'] / res['descan ours (eager)']:.0f}x")
    print(f"  set-up: operator {t_op:.3f} s, valid-area tables {t_tab:.3f} s, "
          f"per-pattern valid area {n / t_area:.0f} /s")
    print(f"  first call in the process (numba compile): fixed {t_first_fixed:.2f} s, "
          f"per-pattern {t_first_shift:.2f} s, centre of mass {t_first_com:.2f} s")
    diff = np.asarray(ours.measured.data) - np.asarray(theirs.data)
    print(f"  descan: ours − pyxem centres rms {np.sqrt(np.mean(diff**2)):.2e} px; planes "
          f"differ by {np.abs(np.asarray(plane.data) - np.asarray(theirs_plane.data)).max():.2e} px")
    if sizes:
        api_ratios(sizes, args.repeat)


if __name__ == "__main__":
    main()
