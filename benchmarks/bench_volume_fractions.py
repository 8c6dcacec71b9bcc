"""Closure fractions are scattering-weighted; volume fractions given the phases (issue 12).

The chain divides every pixel's I(s) by one fitted N, so a probe column with
volume fractions w_p gives the pure-phase PDFs mixed with weights
β_p = w_p k_p / Σ w_q k_q, k_p = ρ_p ⟨f²⟩_p (scattering power per volume in
the N fit window, :func:`pyxem_epdf.physics.scattering.scattering_power`).
Closure unmixing returns β. The composites of ``accuracy_route.py`` score
the maps against the generator's volume fractions w, so a phase that scatters
much more than its neighbours (metallic-like Cu-Zr next to the ZIF-like: k
1 : 10) takes the mixed pixels over and caps the map r below 1 even without
noise.

For every composite of ``accuracy_route.py`` (48×48, or ``--fast``: 24×24)
at full resolution and 2×2, this prints the fraction-map r of the default
route (closure, β) and of :meth:`pyxem_epdf.mapping.Unmixing.volume_fractions`
with each phase's composition and number density (the generator's
:class:`~pyxem_epdf.data.Phase`; components are matched to phases as in the
scoring), and on the noiseless composite the closure
fit with the pure-pixel means (the ceiling without noise).

Run: ``python benchmarks/bench_volume_fractions.py [--fast] [--only 2 3]``.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy_route as ar  # noqa: E402


def noiseless_ceiling(spec, binning, window):
    """Map r of a closure fit (pure-pixel-mean vertices) of the noiseless cube:
    as β (closure) and converted to volume fractions with the phases' powers over
    ``window``, the N fit window (Å⁻¹) of the route's chain."""
    from pyxem_epdf.data import average_composition
    from pyxem_epdf.physics.scattering import scattering_power
    from pyxem_epdf.physics.unmixing import simplex_fit, volume_fractions

    clean = ar.generate(spec, noise=False)
    comp = average_composition(clean)
    r, x0 = ar._chain_cube(clean.signal, comp, binning)
    truth = ar.bin_mean(clean.fractions, binning) if binning > 1 else np.asarray(clean.fractions)
    t = truth.reshape(-1, truth.shape[-1])
    sel = (r >= ar.R_WINDOW[0]) & (r <= ar.R_WINDOW[1])
    x0 = x0[:, sel]
    e = np.array([x0[t[:, p] > 0.999].mean(0) for p in range(t.shape[1])])
    f, _ = simplex_fit(x0, e)
    k = [scattering_power(ph.composition, ph.number_density, window) for ph in clean.phases]
    v = volume_fractions(f, k)
    r_beta = [ar._pearson(f[:, p], t[:, p]) for p in range(t.shape[1])]
    r_vol = [ar._pearson(v[:, p], t[:, p]) for p in range(t.shape[1])]
    return np.array(r_beta), np.array(r_vol), np.array(k) / k[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true")
    parser.add_argument("--only", type=int, nargs="*")
    parser.add_argument("--no-ceiling", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from pyxem_epdf.data import average_composition

    specs = ar.FAST_COMPOSITES if args.fast else ar.COMPOSITES
    if args.only:
        keys = list(specs)
        specs = {keys[i]: specs[keys[i]] for i in args.only}
    for name, spec in specs.items():
        synth = ar.generate(spec)
        comp = average_composition(synth)
        ref = ar.reference_pdfs(spec, comp, log=lambda *a: None)
        for b in (1, 2):
            t0 = time.perf_counter()
            res = ar.run_route(synth.signal, comp, binning=b, log=lambda *a: None)
            m = ar.evaluate(synth, spec, res, ref, binning=b)
            un = res["unmixing"]
            truth = ar.bin_mean(synth.fractions, b) if b > 1 else np.asarray(synth.fractions)
            assignment, _ = ar.match_components(np.asarray(un.loadings.data), truth)
            line = f"--- {name} [{'full' if b == 1 else '2x2'}] n={m['n_found']}/{m['n_true']}"
            if len(assignment) != un.loadings.data.shape[0]:
                print(line, "(n differs from the phases: no conversion)")
                continue
            order = [None] * len(assignment)
            for p, c in assignment.items():
                order[c] = synth.phases[p]
            vol = un.volume_fractions([ph.composition for ph in order],
                                      [ph.number_density for ph in order])
            _, r_vol = ar.match_components(np.asarray(vol.data), truth)
            powers = np.asarray(vol.metadata.ePDF.unmixing.scattering_powers)
            print(f"{line}  powers {np.round(powers / powers[assignment[0]], 2)}"
                  f"\n    fraction r closure (β) {ar._fmt(m['fraction_r'])}   volume "
                  f"{ar._fmt(r_vol)}   (threshold {0.95 if b == 1 else 0.98}; "
                  f"{time.perf_counter() - t0:.1f} s)", flush=True)
            if not args.no_ceiling:
                rb, rv, k = noiseless_ceiling(spec, b, res["pdf"].metadata.ePDF.fit.s_range)
                print(f"    noiseless ceiling: β {ar._fmt(rb)}  volume {ar._fmt(rv)}  "
                      f"(k per phase {np.round(k, 2)})", flush=True)


if __name__ == "__main__":
    main()
