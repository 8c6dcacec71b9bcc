"""Benchmark: azimuthal integration, ours (sparse operator) vs pyxem, same data, same run.

Poisson uint16 frames (~0.05 counts/pixel, a central beam) with a calibrated
detector; prints frames/s for pyxem's ``get_azimuthal_integral1d(npt,
mean=True)`` (whole call), for our ``azimuthal_profile`` eager (first call in
the process, which loads the cached numba kernel, and the repeat) and lazy
(dask, 2 threads), our operator set-up time separately, and the ratios.

Usage::

    python benchmarks/bench_integration.py                      # 32×32×256×256
    python benchmarks/bench_integration.py --nav 64 64          # the issue's size
    python benchmarks/bench_integration.py --det 515 --nav 32 32
"""

import argparse
import time
import warnings

import dask
import hyperspy.api as hs
import numpy as np

import pyxem_epdf as epdf
from pyxem_epdf.physics import integration


def make(nav, det, seed=0):
    rng = np.random.default_rng(seed)
    k = (np.arange(det) - (det - 1) / 2) * 0.01
    y, x = np.meshgrid(k, k, indexing="ij")
    r = np.hypot(x, y)
    lam = 0.05 + 0.5 * np.exp(-r / 0.3) + 200 * np.exp(-0.5 * (r / 0.02) ** 2)
    data = np.empty(tuple(nav) + (det, det), np.uint16)
    for i in range(nav[0]):
        data[i] = rng.poisson(lam, size=(nav[1], det, det))
    sig = hs.signals.Signal2D(data)
    sig.set_signal_type("electron_diffraction")
    for ax in sig.axes_manager.signal_axes:
        ax.scale, ax.offset, ax.units = 0.01, float(k[0]), "k_A^-1"
    return sig


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(32, 32))
    parser.add_argument("--det", type=int, default=256)
    parser.add_argument("--npt", type=int, default=180)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    hs.preferences.General.show_progressbar = False
    sig = make(args.nav, args.det)
    n = int(np.prod(args.nav))
    s_max = (args.det // 2 - 1) * 0.01
    print(f"{n} frames of {args.det}×{args.det} uint16, npt={args.npt}, s_max={s_max:.2f} Å⁻¹")

    t0 = time.perf_counter()
    sig.get_azimuthal_integral1d(npt=args.npt, radial_range=(0.0, s_max), mean=True,
                                 show_progressbar=False)
    t_pyxem = time.perf_counter() - t0

    kx = sig.axes_manager.signal_axes[0].axis
    t0 = time.perf_counter()
    integration.radial_operator(kx, kx, np.linspace(0, s_max, args.npt + 1))
    t_setup = time.perf_counter() - t0

    # first call in this process: numba loads (or, on a new machine, compiles
    # once and caches) the kernel for this dtype; the repeat is the steady state
    t0 = time.perf_counter()
    epdf.azimuthal_profile(sig, npt=args.npt, s_max=s_max)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    epdf.azimuthal_profile(sig, npt=args.npt, s_max=s_max)
    t_eager = time.perf_counter() - t0

    lazy = sig.as_lazy()
    times = []
    for _ in range(2):  # the first also loads the kernel for read-only dask blocks
        t0 = time.perf_counter()
        with dask.config.set(scheduler="threads", num_workers=2):
            out = epdf.azimuthal_profile(lazy, npt=args.npt, s_max=s_max)
            out.compute(show_progressbar=False)
        times.append(time.perf_counter() - t0)
    t_lazy_first, t_lazy = times

    t0 = time.perf_counter()
    sig.data.sum(axis=(-2, -1), dtype=np.uint64)
    t_bound = time.perf_counter() - t0

    rows = {
        "bound: plain numpy sum of the frames": t_bound,
        "pyxem get_azimuthal_integral1d": t_pyxem,
        "ours eager, first call (kernel load)": t_first,
        "ours eager (incl. set-up)": t_eager,
        "ours lazy, first call (kernel load)": t_lazy_first,
        "ours lazy, 2 threads (incl. set-up)": t_lazy,
    }
    for name, t in rows.items():
        print(f"  {name:38s} {n / t:10.0f} frames/s  ({t:.2f} s)")
    print(f"  our operator set-up alone: {t_setup:.2f} s")
    print(f"  ratio ours eager / pyxem: {t_pyxem / t_eager:.1f}x; lazy / pyxem: {t_pyxem / t_lazy:.1f}x")
    print(f"  fraction of the memory-bandwidth bound: ours eager {t_bound / t_eager:.0%}, "
          f"lazy {t_bound / t_lazy:.0%}, pyxem {t_bound / t_pyxem:.1%}")


if __name__ == "__main__":
    main()
