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
* ``signals.descan`` (centres + plane fit + the BeamShift signals), eager and
  lazy (dask, 2 threads);
* pyxem's ``get_direct_beam_position(method="center_of_mass", threshold=20)``
  on a quarter of the scan.

Usage::

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=2 python benchmarks/bench_descan.py   # 64×64×256²
    python benchmarks/bench_descan.py --nav 32 32 --det 256 --repeat 5
"""

import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(64, 64))
    parser.add_argument("--det", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
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
    t = {k: [] for k in ("ours", "ours1", "full1", "sum")}
    for _ in range(args.repeat):
        t["ours"].append(best(lambda: geometry.beam_centres(data, 20.0), 1))
        t["ours1"].append(best(lambda: geometry.beam_centres(data, 20.0, threads=1), 1))
        t["full1"].append(best(lambda: full_frame(flat, det, det, 20.0, ref), 1))
        t["sum"].append(best(lambda: data.sum(axis=(-2, -1)), 1))
    res["beam_centres (threads)"] = min(t["ours"])
    res["beam_centres, 1 thread"] = min(t["ours1"])
    res["full-frame reference, 1 thread"] = min(t["full1"])
    res["numpy frames.sum (1 pass, 1 thread)"] = min(t["sum"])
    res["signals.descan eager (centres + plane + signals)"] = best(
        lambda: epdf.signals.descan(sig), args.repeat)

    def lazy_descan():
        with dask.config.set(scheduler="threads", num_workers=2):
            epdf.signals.descan(lazy, show_progressbar=False)

    lazy_descan()
    res["signals.descan lazy (dask, 2 threads)"] = best(lazy_descan, args.repeat)
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


if __name__ == "__main__":
    main()
