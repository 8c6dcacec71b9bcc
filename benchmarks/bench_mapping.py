"""Benchmark: rank estimate + decomposition, closure unmixing and projection.

The PDF cube is the documented route on the embedded composite (48 × 48 scan,
128² detector, descan drift, 10 e⁻/Å²): ``azimuthal_profile(beam_shift=...)``
→ ``get_pdf(comp, (1.6, 2.5), b=0.8, s_min=0.18)`` → 2304 patterns × 2001 r
samples, decomposed over r = 1–8 Å (700 samples). The 65,536-pattern cube is
that cube tiled 29 times (timing only: the arithmetic does not depend on the
values).

Every time is the best of ``--repeat`` runs, measured twice: on an idle
machine and with one extra process spinning on a core (``python -c "while
True: pass"``, started and killed by this script), the situation in which
OpenBLAS's default threads oversubscribe the cores. References measured in
the same run: HyperSpy's own ``decomposition()`` (SVD) on the same cropped
cube, with BLAS limited to one thread and with its default threads, and the
previous rank estimate (:func:`pyxem_epdf.physics.unmixing.parallel_analysis`,
20 null SVDs + a 700 × 700 eigh) at 2304 patterns.

Usage::

    python benchmarks/bench_mapping.py            # both sizes, idle and busy
    python benchmarks/bench_mapping.py --repeat 5 --no-large
"""

import argparse
import contextlib
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

import pyxem_epdf as epdf
from pyxem_epdf import data
from pyxem_epdf.physics import unmixing


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


@contextlib.contextmanager
def busy_core(on):
    """One spinning process (ours, killed by its pid) while ``on``."""
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        proc.kill()
        proc.wait()


def make_cube():
    synth = data.two_phase_composite(nav_shape=(48, 48), descan=(1.5, -1.0), seed=0)
    ri = epdf.azimuthal_profile(synth.signal, beam_shift=synth.parameters.beam_shifts)
    pdf = ri.get_pdf(data.average_composition(synth), (1.6, 2.5), b=0.8, s_min=0.18)
    return synth, pdf


def tiled(pdf, n_side=256):
    x = np.asarray(pdf.data).reshape(-1, pdf.data.shape[-1])
    reps = -(-n_side * n_side // len(x))
    big = epdf.PDF1DPlus(np.tile(x, (reps, 1))[: n_side * n_side].reshape(n_side, n_side, -1))
    ax, src = big.axes_manager.signal_axes[0], pdf.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units, ax.name = src.scale, src.offset, src.units, src.name
    return big


def run(pdf, label, repeat, busy, references):
    rows = {}
    with busy_core(busy):
        t_dec, dec = best(lambda: pdf.decompose((1, 8)), repeat)
        t_un, un = best(lambda: dec.unmix(), repeat)
        t_proj, _ = best(lambda: un.project(pdf), max(1, repeat // 2))
        rows["decompose (rank evidence + SVD)"] = t_dec
        rows["unmix closure"] = t_un
        rows["project onto a cube"] = t_proj
        if references:
            crop = pdf.isig[1.0:8.0].deepcopy()
            with threadpool_limits(1, "blas"):
                rows["ref: HyperSpy decomposition, 1 BLAS thread"] = best(
                    lambda: crop.decomposition(print_info=False), repeat)[0]
            rows["ref: HyperSpy decomposition, default threads"] = best(
                lambda: crop.decomposition(print_info=False), repeat)[0]
            if len(crop.data.reshape(-1, crop.data.shape[-1])) <= 5000:
                x = np.asarray(crop.data).reshape(-1, crop.data.shape[-1])
                with threadpool_limits(1, "blas"):
                    rows["ref: previous parallel_analysis (20 null SVDs)"] = best(
                        lambda: unmixing.parallel_analysis(x), 1)[0]
    print(f"\n{label}{' — one core busy' if busy else ''}: n = {dec.n_components}")
    for name, t in rows.items():
        print(f"  {name:<48s} {t:8.3f} s")
    if references:
        ref = rows["ref: HyperSpy decomposition, 1 BLAS thread"]
        print(f"  ratio decompose / HyperSpy SVD (1 thread): {t_dec / ref:.2f}; "
              f"decompose + unmix = {t_dec + t_un:.3f} s")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-large", action="store_true", help="skip the 65,536 cube")
    args = parser.parse_args()
    _, pdf = make_cube()
    sizes = [("2304 patterns × 700 r", pdf, True)]
    if not args.no_large:
        sizes.append(("65,536 patterns × 700 r", tiled(pdf), True))
    for busy in (False, True):
        for label, cube, refs in sizes:
            run(cube, label, args.repeat if cube is pdf else 1, busy, refs)


if __name__ == "__main__":
    main()
