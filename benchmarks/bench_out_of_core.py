"""Out-of-core run: a large .zspy scan → PDF cube, with peak resident memory.

Step 1 (``make``) writes a synthetic Poisson 4D-STEM scan of the requested
size to a .zspy chunk by chunk (never in memory). Step 2 (``run``) loads it
lazily, integrates it with ``azimuthal_profile`` and runs the chain to G(r),
saving the PDF cube to .zspy, and prints wall time and the peak resident
memory of the process (``resource.getrusage``, Linux: KiB).

Usage::

    python benchmarks/bench_out_of_core.py make /tmp/scan.zspy --gb 16
    python benchmarks/bench_out_of_core.py run /tmp/scan.zspy /tmp/pdf.zspy
    python benchmarks/bench_out_of_core.py run /tmp/scan.zspy /tmp/pdf.zspy --cluster
"""

import argparse
import resource
import time
import warnings

import dask
import dask.array as da
import numpy as np


def make(path, gb, det=256):
    import hyperspy.api as hs

    frame_bytes = det * det * 2
    n = int(np.sqrt(gb * 1e9 / frame_bytes))
    k = (np.arange(det) - (det - 1) / 2) * 0.01
    y, x = np.meshgrid(k, k, indexing="ij")
    r = np.hypot(x, y)
    lam = (0.05 + 0.5 * np.exp(-r / 0.3) + 200 * np.exp(-0.5 * (r / 0.02) ** 2)).astype(np.float32)

    def block(block_info=None):
        loc = block_info[None]["array-location"]
        shape = (loc[0][1] - loc[0][0], loc[1][1] - loc[1][0], det, det)
        rng = np.random.default_rng(loc[0][0] * 100_003 + loc[1][0])
        return rng.poisson(lam, size=shape).astype(np.uint16)

    chunks = ((16,) * (n // 16) + ((n % 16,) if n % 16 else ()),) * 2 + ((det,), (det,))
    data = da.map_blocks(block, chunks=chunks, dtype=np.uint16)
    sig = hs.signals.Signal2D(data).as_lazy()
    sig.set_signal_type("electron_diffraction")
    for ax in sig.axes_manager.signal_axes:
        ax.scale, ax.offset, ax.units = 0.01, float(k[0]), "k_A^-1"
    t0 = time.perf_counter()
    sig.save(path, overwrite=True)
    print(f"wrote {n}×{n}×{det}×{det} uint16 ({data.nbytes / 1e9:.1f} GB) in {time.perf_counter() - t0:.0f} s")


def _worker_peak_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run(path, out, cluster=False):
    import hyperspy.api as hs

    import pyxem_epdf as epdf

    client = None
    if cluster:
        from dask.distributed import Client, LocalCluster

        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None))
    t0 = time.perf_counter()
    dp = hs.load(path, lazy=True)
    ri = epdf.azimuthal_profile(dp, npt=120, s_max=1.2)
    # the chain in one pass (same result as fit_scattering → polynomial_correct →
    # damp_exponential → extrapolate_low_s → to_pdf)
    pdf = ri.get_pdf({"Si": 1 / 3, "O": 2 / 3}, (0.8, 1.2), b=0.8, s_min=0.1,
                     weights="variance", r_max=10, r_step=0.02)
    if client is None:
        with dask.config.set(scheduler="threads", num_workers=2):
            # one pass for the cube and its lazy metadata maps (N, C, coefficients …)
            epdf.compute_all(pdf, show_progressbar=False)
    else:  # the active distributed client is dask's default scheduler
        epdf.compute_all(pdf, show_progressbar=False)
    pdf.save(out, overwrite=True)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    frames = int(np.prod(dp.data.shape[:-2]))
    mode = "threads (2)"
    if client is not None:
        workers = client.run(_worker_peak_gb)
        mode = ("LocalCluster (2 worker processes), worker peaks "
                + ", ".join(f"{v:.2f}" for v in workers.values()) + " GB")
        client.close()
    print(f"{mode}: {frames} frames ({dp.data.nbytes / 1e9:.1f} GB) → PDF cube in {dt:.0f} s "
          f"({frames / dt:.0f} frames/s); peak resident memory of this process {peak:.2f} GB")


def main():
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("path")
    m.add_argument("--gb", type=float, default=16.0)
    r = sub.add_parser("run")
    r.add_argument("path")
    r.add_argument("out")
    r.add_argument("--cluster", action="store_true",
                   help="run on a dask.distributed LocalCluster with 2 worker processes")
    args = parser.parse_args()
    if args.cmd == "make":
        make(args.path, args.gb)
    else:
        run(args.path, args.out, cluster=args.cluster)


if __name__ == "__main__":
    main()
