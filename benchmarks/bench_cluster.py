"""Benchmark: PDF of a finite cluster (issue 17.5): 80,000 atoms at r_max = 20 Å.

The cluster is a ball cut from an fcc lattice (a = 3.524 Å, 0.0914 atoms/Å³),
every atom displaced by a Gaussian of σ = 0.1 Å, with a ZIF-like random mix of
Zn, C, N, H (10 ordered pairs), dr = 0.01 Å — so the pair search sees
≈ 3,000 neighbours per atom, 2.4 × 10⁸ ordered pairs in all.

Each case runs in its own process so that its peak resident memory
(``ru_maxrss``) is its own. The reference is the previous route (one
``cKDTree.sparse_distance_matrix`` over all atoms at once, measured in the same
run): its pair list grows as n × neighbours (≈ 24 bytes per pair) and it is run
only up to 10,000 atoms. Prints wall time, peak memory, and new/old ratios.

Usage: ``python benchmarks/bench_cluster.py [N ...]`` (default 10000 80000).
"""

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np


def cluster(n, seed=0):
    a = 3.524
    radius = (3 * n / (4 * np.pi * 4 / a**3)) ** (1 / 3) + 2 * a
    k = np.arange(-int(radius / a) - 1, int(radius / a) + 2)
    cells = np.stack(np.meshgrid(k, k, k, indexing="ij"), -1).reshape(-1, 1, 3)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    xyz = ((cells + basis[None]) * a).reshape(-1, 3)
    xyz = xyz[np.argsort(np.linalg.norm(xyz - 0.01, axis=1))[:n]]
    rng = np.random.default_rng(seed)
    xyz = xyz + rng.normal(scale=0.1, size=xyz.shape)
    elements = rng.choice(["Zn", "C", "N", "H"], size=n, p=[0.06, 0.38, 0.21, 0.35]).tolist()
    return xyz, elements


def old_route(xyz, r_max, dr):
    """The previous pair search: all pairs within r_max in one array."""
    from scipy.spatial import cKDTree

    tree = cKDTree(xyz)
    pairs = tree.sparse_distance_matrix(tree, r_max, output_type="ndarray")
    d = pairs["v"][pairs["v"] > 1e-8]
    return np.bincount(np.minimum((d / dr).astype(np.intp), int(r_max / dr) - 1))


def run_case(route, n):
    from pyxem_epdf.physics.structure_pdf import model_pdf

    xyz, elements = cluster(n)
    t0 = time.perf_counter()
    if route == "new":
        m = model_pdf((xyz, elements), r_max=20.0, dr=0.01, sigma=0.05)
        extra = {"density": m.density, "gamma_20": float(m.shape[-1]),
                 "g_min": float(m.total.min()), "g_max": float(m.total.max())}
    else:
        old_route(xyz, 20.0, 0.01)
        extra = {}
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB → GB
    print(json.dumps({"route": route, "n": n, "seconds": dt, "peak_gb": peak, **extra}))


def measure(route, n):
    out = subprocess.run([sys.executable, __file__, "--case", route, str(n)], check=True,
                         capture_output=True, text=True, env=os.environ)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(sizes):
    base = measure("new", 1000)  # interpreter + imports + a small cluster
    print(f"baseline (1,000 atoms, imports included): {base['seconds']:.2f} s, "
          f"{base['peak_gb']:.2f} GB")
    for n in sizes:
        new = measure("new", n)
        line = (f"{n:6d} atoms, new chunked route: {new['seconds']:6.1f} s, peak "
                f"{new['peak_gb']:.2f} GB; ρ₀ = {new['density']:.4f} atoms/Å³ "
                f"(lattice 0.0914), γ₀(20 Å) = {new['gamma_20']:.3f}, "
                f"G in [{new['g_min']:.1f}, {new['g_max']:.1f}] Å⁻²")
        if n <= 10000:
            old = measure("old", n)
            line += (f"\n{'':6s}        old one-shot route: {old['seconds']:6.1f} s, peak "
                     f"{old['peak_gb']:.2f} GB → time ratio new/old "
                     f"{new['seconds'] / old['seconds']:.2f}, memory ratio "
                     f"{new['peak_gb'] / old['peak_gb']:.2f}")
        print(line, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--case":
        run_case(sys.argv[2], int(sys.argv[3]))
    else:
        main([int(a) for a in sys.argv[1:]] or [10000, 80000])
