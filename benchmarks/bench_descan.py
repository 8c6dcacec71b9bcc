"""Benchmark: descan measurement (thresholded centre of mass of every pattern) on 256² frames.

Poisson uint16 frames of the integration benchmark (a direct-beam disc of σ = 2 px
with ~5,000 counts, diffuse scattering ~0.05–0.5 counts/pixel, the centre drifting
by (3, −2) px over the scan). Prints patterns/s, best of ``--repeat``, in the
same run:

* ``geometry.beam_centres`` (the compiled kernel, threads over patterns, eager),
  and on one thread;
* the full-frame reference: the same thresholded centre of mass summing every
  pixel in raster order (the kernel before the run skipping, compiled here), on
  one thread — the result must be bit-identical;
* a plain ``frames.sum(axis=(-2, -1))`` of the same frames (NumPy, one pass:
  what reading the frames costs);
* ``geometry.windowed_centres`` (the default of ``descan``: the disc located
  once, ``disc_window``, then a compiled pass over a window around it), with
  threads and on one thread, and ``disc_window`` alone;
* ``signals.descan`` (centres + plane fit + the BeamShift signals), eager and
  lazy (dask, 2 threads), ``method="window"`` (default) and ``"full"``;
* pyxem's ``get_direct_beam_position(method="center_of_mass", threshold=20)``
  on a quarter of the scan.

``--route`` instead times the descan stage of ``bench_route.py`` on its data (the
embedded composite, ``bench_route.make_scan``) at ``--sizes`` (default 48:128 and
64:256): ``signals.descan(dp)`` with its default route against
``bench_route.plain_descan`` (centre of mass of the thresholded central window +
``lstsq`` plane), alternated in the same process, ``gc.collect()`` before every
repeat of both and BLAS limited to one thread (threadpoolctl) for both; best and
median of ``--repeat`` (≥ 15). Also the first access to ``.plane``, ``.measured``
and ``.residual`` of a fresh result (the HyperSpy signal constructions the result
defers), all three together (the eager construction ``descan`` did before the
deferral), the pieces of the measurement (``disc_window``, ``windowed_centres``,
``fit_descan``), the window kernel against a one-frame-at-a-time reference compiled
here (bit-identical; the speed of reading the window), and ``azimuthal_profile`` given
the result itself or its ``.plane`` (bit-identical profiles; the result builds no signal).

``--accuracy`` instead measures, on the package's composite (the generator's
true centres), the rms error of the measured centres and of the fitted plane
for ``method="full"`` and the window at several cuts (``fraction``) and
margins, with the guard's counts: 48×48×128² at 10 and 2.5 e⁻/Å², descan drift
up to 4 px, 2×2-binned, 256² frames, and a scan with a beam stop.

Usage::

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=2 python benchmarks/bench_descan.py   # 64×64×256²
    python benchmarks/bench_descan.py --nav 32 32 --det 256 --repeat 5
    python benchmarks/bench_descan.py --accuracy
    python benchmarks/bench_descan.py --route --repeat 15 --sizes 48:128 64:256
"""

import argparse
import gc
import time
import warnings

import dask
import numba
import numpy as np

import pyxem_epdf as epdf
from pyxem_epdf.physics import geometry
from pyxem_epdf.physics._common import usable_cores

try:
    from bench_integration import best, make
except ImportError:  # run from another directory
    import os
    import sys

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_integration import best, make


@numba.njit(nogil=True)
def full_frame(flat, ny, nx, threshold, out):
    """Every pixel of every frame in raster order (the reference)."""
    for f in range(flat.shape[0]):
        row = flat[f]
        total = 0
        for p in range(row.shape[0]):
            total += row[p]
        thr = threshold * total / row.shape[0]
        s = 0.0
        sx = 0.0
        sy = 0.0
        for i in range(ny):
            rs = 0.0
            rx = 0.0
            for j in range(nx):
                v = float(row[i * nx + j])
                w = v if v >= thr else 0.0
                rs += w
                rx += w * j
            s += rs
            sx += rx
            sy += rs * i
        out[f, 0] = sx / s if s > 0 else np.nan
        out[f, 1] = sy / s if s > 0 else np.nan


@numba.njit(nogil=True)
def window_reference(flat, nx, r0, r1, c0, c1, floor, fraction, reach, min_pixels, out,
                     status):
    """The window pass one frame at a time, maximum then weighted sums (the reference for
    ``geometry._window_kernel``: same per-frame arithmetic, so bit-identical results)."""
    for f in range(flat.shape[0]):
        row = flat[f]
        peak = row[r0 * nx + c0]
        for i in range(r0, r1):
            for j in range(c0, c1):
                v = row[i * nx + j]
                peak = v if v > peak else peak
        if not peak >= floor:
            out[f, 0] = np.nan
            out[f, 1] = np.nan
            status[f] = 1
            continue
        cut = max(fraction * peak, floor)
        s = 0.0
        sx = 0.0
        sy = 0.0
        n_on = 0
        for i in range(r0, r1):
            rs = 0.0
            rx = 0.0
            for j in range(c0, c1):
                v = float(row[i * nx + j])
                on = v >= cut
                w = v if on else 0.0
                n_on += on
                rs += w
                rx += w * j
            s += rs
            sx += rx
            sy += rs * i
        x = sx / s
        y = sy / s
        out[f, 0] = x
        out[f, 1] = y
        inside = (x - c0 >= reach and c1 - 1 - x >= reach
                  and y - r0 >= reach and r1 - 1 - y >= reach)
        status[f] = 1 if (not inside or n_on < min_pixels
                          or not row[int(y + 0.5) * nx + int(x + 0.5)] >= cut) else 0


ACCURACY_CASES = (
    ("48×48×128², 10 e⁻/Å², drift (2, 1) px", {}),
    ("48×48×128², 2.5 e⁻/Å²", {"dose": 2.5}),
    ("48×48×128², drift (4, 4) px", {"drift": (4.0, 4.0)}),
    ("48×48×128², 2.5 e⁻/Å², drift (4, −4) px", {"dose": 2.5, "drift": (4.0, -4.0)}),
    ("48×48×128², 2×2-binned", {"binning": 2}),
    ("32×32×256², 10 e⁻/Å²", {"det": 256, "nav": 32}),
    ("32×32×256², 2.5 e⁻/Å², drift (4, 4) px", {"det": 256, "nav": 32, "drift": (4.0, 4.0),
                                                "dose": 2.5}),
    ("16×16×128², rod beam stop r = 6 px", {"nav": 16, "beam_stop": (6.0, 3.0, 45.0)}),
)
FRACTIONS = (0.003, 0.01, 0.03, 0.1)
MARGINS = (1.0, 2.0, 3.0)


def accuracy_case(nav=48, det=128, dose=10.0, drift=(2.0, 1.0), binning=1, beam_stop=None,
                  seed=0):
    """rms errors (px) of the measured centres and of the plane vs the truth, per method."""
    scale = det / 128
    synth = epdf.data.composite(nav_shape=(nav, nav), detector_shape=(det, det),
                                s_scale=0.04 / scale, dose=dose, seed=seed,
                                descan=(drift[0] * scale, drift[1] * scale), beam_stop=beam_stop)
    frames = synth.signal.data
    truth = np.array([(det - 1) / 2, (det - 1) / 2]) + synth.parameters.beam_shifts  # (x, y)
    if binning > 1:
        b, m = binning, nav // binning
        frames = frames.reshape(m, b, m, b, det, det).sum((1, 3), dtype=np.uint32)
        truth = truth.reshape(m, b, m, b, 2).mean((1, 3))

    def errors(c):
        ok = np.isfinite(c).all(-1)
        plane = geometry.fit_descan(c)
        return (float(np.sqrt(np.mean((c[ok] - truth[ok]) ** 2))),
                float(np.sqrt(np.mean((plane - truth) ** 2))))

    rows = {"full": errors(geometry.beam_centres(frames, 20.0)) + ("",)}
    for frac in FRACTIONS:
        for margin in (MARGINS if frac == geometry.WINDOW_FRACTION else (geometry.WINDOW_MARGIN,)):
            key = f"window {frac:g}, margin {margin:g}"
            try:
                c, status, win = geometry.windowed_centres(frames, 20.0, fraction=frac,
                                                           margin=margin)
            except ValueError as err:
                rows[key] = (np.nan, np.nan, "ValueError: " + str(err).split(" (")[0])
                continue
            n = np.bincount(status.ravel(), minlength=3)
            area = (win.rows[1] - win.rows[0]) * (win.cols[1] - win.cols[0])
            rows[key] = errors(c) + (f"window {win.rows[1] - win.rows[0]}×"
                                     f"{win.cols[1] - win.cols[0]} ({area / det**2:.1%} of the "
                                     f"frame), fallback {n[1]}, no disc {n[2]}",)
    return rows


def accuracy():
    print("rms error (px) of the measured centres / of the fitted plane vs the generator's true "
          "centres; window = the centre of mass of the pixels >= max(fraction × window max, "
          "20 × sampled mean)")
    for name, kw in ACCURACY_CASES:
        print(f"\n{name}")
        for key, (per, plane, note) in accuracy_case(**kw).items():
            print(f"  {key:24s} {per:8.4f} {plane:8.4f}   {note}")


def _timed(fn, setup=None):
    """Wall time of ``fn(setup())`` (or ``fn()``) in s, ``gc.collect()`` first, setup untimed."""
    arg = setup() if setup is not None else None
    gc.collect()
    t0 = time.perf_counter()
    fn(arg) if setup is not None else fn()
    return time.perf_counter() - t0


def route_size(nav, det, repeat):
    """The descan stage of bench_route at nav×nav×det²: ours vs the plain script."""
    from bench_route import make_scan, plain_descan
    from threadpoolctl import threadpool_limits

    dp = make_scan(nav, det).signal
    frames = np.asarray(dp.data)
    data = dp.data
    npt = max(1, int(round(2.0 / (0.04 * 128 / det))))
    print(f"\n== {nav}×{nav} scan × {det}² ({nav * nav} patterns, {frames.nbytes / 1e6:.0f} MB "
          f"uint16); best / median of {repeat}, gc.collect() before each, BLAS 1 thread")
    with threadpool_limits(limits=1, user_api="blas"):
        res = epdf.signals.descan(dp)
        list(res)
        plain_descan(frames)
        win = geometry.disc_window(data, 20.0)
        com, _, _ = geometry.windowed_centres(data, 20.0, window=win)
        measured = np.stack([det / 2 - com[..., 0], det / 2 - com[..., 1]], axis=-1)
        flat = frames.reshape(-1, det * det)
        (r0, r1), (c0, c1) = win.rows, win.cols
        ref_out, ref_status = np.empty((len(flat), 2)), np.empty(len(flat), np.int8)

        def reference():
            window_reference(flat, det, r0, r1, c0, c1, float(win.floor), float(win.fraction),
                             float(win.radius), geometry.MIN_DISC_PIXELS, ref_out, ref_status)

        reference()
        kernel_out, kernel_status = geometry._window(flat, det, win)
        identical = (kernel_out.tobytes() == ref_out.tobytes()
                     and np.array_equal(kernel_status, ref_status))
        t = {k: [] for k in ("ours", "plain", "plane", "measured", "residual", "all three",
                             "ours + all three", "disc_window", "windowed_centres",
                             "fit_descan", "kernel", "reference")}
        fresh = lambda: epdf.signals.descan(dp)  # noqa: E731
        for _ in range(repeat):  # alternated: the load of the shared machine hits both
            t["ours"].append(_timed(lambda: epdf.signals.descan(dp)))
            t["plain"].append(_timed(lambda: plain_descan(frames)))
            for name in ("plane", "measured", "residual"):
                t[name].append(_timed(lambda r, n=name: getattr(r, n), fresh))
            t["all three"].append(_timed(lambda r: list(r), fresh))
            t["ours + all three"].append(_timed(lambda: list(epdf.signals.descan(dp))))
            t["disc_window"].append(_timed(lambda: geometry.disc_window(data, 20.0)))
            t["windowed_centres"].append(
                _timed(lambda: geometry.windowed_centres(data, 20.0, window=win)))
            t["fit_descan"].append(_timed(lambda: geometry.fit_descan(measured)))
            t["kernel"].append(_timed(lambda: geometry._window(flat, det, win)))
            t["reference"].append(_timed(reference))
    labels = {
        "ours": "ours: signals.descan(dp) (default, signals deferred)",
        "plain": "plain script: bench_route.plain_descan",
        "plane": "first access .plane (BeamShift)",
        "measured": "first access .measured (BeamShift)",
        "residual": "first access .residual (map)",
        "all three": "first access to all three (list(result))",
        "ours + all three": "list(signals.descan(dp)) (= the eager construction before)",
        "disc_window": "  of which disc_window (9 frames)",
        "windowed_centres": "  of which windowed_centres (window given)",
        "fit_descan": "  of which fit_descan (lstsq plane)",
        "kernel": "window kernel (geometry._window), 1 thread",
        "reference": "  one-frame-at-a-time reference kernel (this file)",
    }
    plain_best, plain_med = min(t["plain"]), float(np.median(t["plain"]))
    for key, label in labels.items():
        b, m = min(t[key]) * 1e3, float(np.median(t[key])) * 1e3
        ratio = ""
        if key in ("ours", "ours + all three"):
            ratio = (f"   ours/plain best {min(t[key]) / plain_best:.2f}, median "
                     f"{np.median(t[key]) / plain_med:.2f}, paired median "
                     f"{np.median(np.array(t[key]) / np.array(t['plain'])):.2f}")
        print(f"  {label:60s} {b:7.2f} / {m:7.2f} ms{ratio}")
    print(f"  window kernel {r1 - r0}×{c1 - c0} px bit-identical to the reference: {identical}; "
          f"reference / kernel {np.median(np.array(t['reference']) / np.array(t['kernel'])):.2f} "
          "(paired median)")
    # the route: the result itself as beam_shift builds nothing and gives the same profile
    res = epdf.signals.descan(dp)
    a = epdf.azimuthal_profile(dp, npt=npt, s_max=2.0, beam_shift=res)
    built = sorted(res._signals)
    b = epdf.azimuthal_profile(dp, npt=npt, s_max=2.0, beam_shift=res.plane)
    same = np.asarray(a.data).tobytes() == np.asarray(b.data).tobytes()
    print(f"  azimuthal_profile(beam_shift=result) built {built or 'no signal'}; profile "
          f"bit-identical to beam_shift=result.plane: {same}")
    return t


def route(args):
    import hyperspy.api as hs

    hs.preferences.General.show_progressbar = False
    import os

    print(f"descan stage, ours vs bench_route's plain script; load average "
          f"{os.getloadavg()[0]:.1f}; {usable_cores()} usable cores")
    for size in args.sizes:
        nav, det = map(int, size.split(":"))
        route_size(nav, det, max(args.repeat, 15))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(64, 64))
    parser.add_argument("--det", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--accuracy", action="store_true",
                        help="accuracy of full vs window on the composite instead of speed")
    parser.add_argument("--route", action="store_true",
                        help="the descan stage of bench_route: descan(dp) vs plain_descan")
    parser.add_argument("--sizes", nargs="+", default=["48:128", "64:256"],
                        help="--route: nav:det sizes (default 48:128 64:256)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.accuracy:
        return accuracy()
    if args.route:
        return route(args)
    import hyperspy.api as hs

    hs.preferences.General.show_progressbar = False
    sig = make(args.nav, args.det)
    data = sig.data
    n = data.shape[0] * data.shape[1]
    flat = data.reshape(n, -1)
    det = args.det
    ref = np.empty((n, 2))
    full_frame(flat[:2], det, det, 20.0, ref[:2])
    geometry.beam_centres(data[:1, :2])
    ours = geometry.beam_centres(data, 20.0).reshape(n, 2)
    full_frame(flat, det, det, 20.0, ref)
    _, n_read = geometry._com(flat, det, det, 20.0, stats=True)
    print(f"{n} frames of {det}×{det} uint16 ({data.nbytes / 1e9:.2f} GB), threshold 20 × mean; "
          f"{usable_cores()} usable cores; weighted sums read {n_read / flat.size:.2%} of the "
          f"pixels; bit-identical to the full-frame sums: {np.array_equal(ours, ref)}")
    lazy = sig.as_lazy()
    res = {}
    # alternate ours and the references in each repeat (load on the shared machine)
    geometry.windowed_centres(data[:1, :2])
    win = geometry.disc_window(data)
    t = {k: [] for k in ("ours", "ours1", "full1", "sum", "win", "win1", "locate", "dw", "df")}
    for _ in range(args.repeat):
        t["ours"].append(best(lambda: geometry.beam_centres(data, 20.0), 1))
        t["ours1"].append(best(lambda: geometry.beam_centres(data, 20.0, threads=1), 1))
        t["full1"].append(best(lambda: full_frame(flat, det, det, 20.0, ref), 1))
        t["sum"].append(best(lambda: data.sum(axis=(-2, -1)), 1))
        t["win"].append(best(lambda: geometry.windowed_centres(data, 20.0), 1))
        t["win1"].append(best(lambda: geometry.windowed_centres(data, 20.0, threads=1), 1))
        t["locate"].append(best(lambda: geometry.disc_window(data, 20.0), 1))
        t["dw"].append(best(lambda: epdf.signals.descan(sig), 1))
        t["df"].append(best(lambda: epdf.signals.descan(sig, method="full"), 1))
    res["beam_centres (threads)"] = min(t["ours"])
    res["beam_centres, 1 thread"] = min(t["ours1"])
    res["full-frame reference, 1 thread"] = min(t["full1"])
    res["numpy frames.sum (1 pass, 1 thread)"] = min(t["sum"])
    res["windowed_centres (threads; incl. disc_window)"] = min(t["win"])
    res["windowed_centres, 1 thread"] = min(t["win1"])
    res["disc_window alone (9 frames read whole)"] = min(t["locate"])
    res["signals.descan eager, window (default)"] = min(t["dw"])
    res["signals.descan eager, method='full'"] = min(t["df"])

    def lazy_descan(method):
        with dask.config.set(scheduler="threads", num_workers=2):
            epdf.signals.descan(lazy, method=method, show_progressbar=False)

    for method in ("window", "full"):
        lazy_descan(method)
        res[f"signals.descan lazy (dask, 2 threads), {method}"] = best(
            lambda m=method: lazy_descan(m), args.repeat)
    quarter = sig.inav[: max(args.nav[1] // 2, 1), : max(args.nav[0] // 2, 1)]
    nq = int(np.prod(quarter.data.shape[:-2]))
    tp = best(lambda: quarter.get_direct_beam_position(method="center_of_mass", threshold=20), 1)
    print(f"rates (patterns/s, best of {args.repeat}):")
    for name, sec in res.items():
        print(f"  {name:52s} {n / sec:10.0f} /s  ({sec:.3f} s)")
    print(f"  {'pyxem get_direct_beam_position (centre of mass)':52s} {nq / tp:10.0f} /s")
    print(f"  ratio beam_centres 1 thread / full-frame reference 1 thread: "
          f"{np.median(np.array(t['full1']) / np.array(t['ours1'])):.2f} (median of the repeats)")
    print(f"  ratio beam_centres 1 thread / numpy sum: "
          f"{np.median(np.array(t['sum']) / np.array(t['ours1'])):.2f}")
    print(f"  ratio beam_centres (threads) / pyxem: {n / res['beam_centres (threads)'] / (nq / tp):.0f}x")
    print(f"  window {win.rows[1] - win.rows[0]}×{win.cols[1] - win.cols[0]} px of {det}²; "
          f"descan window / full: {np.median(np.array(t['dw']) / np.array(t['df'])):.2f} "
          f"(median of the repeats); windowed_centres / beam_centres: "
          f"{np.median(np.array(t['win']) / np.array(t['ours'])):.2f}")


if __name__ == "__main__":
    main()
