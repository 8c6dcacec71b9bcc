"""Benchmark: structure-model PDF (KD-tree route) for 1,000 / 5,000 / 20,000 atoms.

Random periodic models at 0.08 atoms/Å³ (ZIF-like composition), r_max = 20 Å,
dr = 0.01 Å; prints wall time and peak resident memory (KiB → GB).

Usage: ``python benchmarks/bench_structure.py [N ...]``
"""

import resource
import sys
import time

import numpy as np

from pyxem_epdf.physics.structure_pdf import model_pdf


def main(sizes):
    rng = np.random.default_rng(0)
    for n in sizes:
        box = (n / 0.08) ** (1 / 3)
        xyz = rng.uniform(0, box, size=(n, 3))
        elements = rng.choice(["Zn", "C", "N", "H"], size=n, p=[0.06, 0.38, 0.21, 0.35]).tolist()
        t0 = time.perf_counter()
        model_pdf((xyz, elements, np.eye(3) * box), r_max=20.0, dr=0.01)
        dt = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
        print(f"{n:6d} atoms: {dt:6.2f} s, peak resident memory so far {peak:.2f} GB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 5000, 20000])
