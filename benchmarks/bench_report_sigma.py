"""Cost and check of the report's propagated σ of closure component peaks.

Prints (1) the cost of ``report.component_sigmas`` (with the integration's bin
correlation) against ``report.build`` on the demo (20×20) and on a 64×64 scan,
best of 3 in the same process; (2) the first-peak position σ of each closure
component against the bootstrap σ of its region's G(r); (3) over N noise
realisations of the demo scan (seeds; the phase map is the same), the scatter
of the closure components' first-peak positions against the σ the report
prints (region stand-in) and the least-squares form.

Run: ``python benchmarks/bench_report_sigma.py [N_MC]`` (default 60; ~1 s each).
"""

import pathlib
import sys
import tempfile
import time

import numpy as np

from pyxem_epdf import batch, data, mapping, quantify, report
from pyxem_epdf.cli import demo_config


def run(nav, seed=0, lazy=True):
    synth = data.two_phase_composite(nav_shape=nav, lazy=lazy, seed=seed)
    cfg = batch.load_config(demo_config(synth))
    comp = {el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)}
    got = {}
    batch.process(synth.signal, cfg, pathlib.Path(tempfile.mkdtemp()) / "o", composition=comp,
                  show_progressbar=False, extra=lambda f, r: got.update(vars(r)) or {})
    return synth, cfg, comp, got


def region_pure(unmix):
    frac = np.asarray(unmix.loadings.data, float)
    pure = np.nan_to_num(frac.reshape(len(frac), -1).T) > report.REGION_THRESHOLD
    pure[:, pure.sum(axis=0) < report.MIN_REGION_PIXELS] = False
    return pure


def cost_and_bootstrap(nav):
    synth, cfg, comp, got = run(nav)
    pdf, ri, dec, unmix = got["pdf"], got["profile"], got["decomposition"], got["unmixing"]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        corr = quantify.integration_correlation(synth.signal, ri)
        t1 = time.perf_counter() - t
        t = time.perf_counter()
        carried = report.component_sigmas(pdf, ri, unmix, comp, correlation=corr,
                                          pure=region_pure(unmix))
        t2 = time.perf_counter() - t
        t = time.perf_counter()
        report.build(pdf, ri, dec, unmix, comp, cfg["chain"], correlation=corr)
        t3 = time.perf_counter() - t
        times.append((t1, t2, t3))
    t1, t2, t3 = np.min(times, axis=0)
    n = int(np.prod(nav))
    print(f"{nav[0]}x{nav[1]} ({n} patterns): integration_correlation {t1:.3f} s, "
          f"component_sigmas {t2:.2f} s, build (all, incl. it) {t3:.2f} s, "
          f"share {t2 / t3:.0%}")
    r = unmix.components.axes_manager.signal_axes[0].axis
    table = mapping.peak_table(carried, r_range=report._inside((1.0, 8.0), r))
    regions = report.region_pdfs(ri, unmix, comp, cfg["chain"])
    for i, reg in enumerate(regions):
        if reg is None:
            continue
        boot = report.region_peaks(reg)["positions_sd"]
        print(f"  phase {i}: first-peak σ component {table.position_sigma[i, 0]:.4f} Å, region "
              f"bootstrap {boot[0]:.4f} Å ({reg['n_pixels']} positions), ratio "
              f"{table.position_sigma[i, 0] / boot[0]:.2f}")


def monte_carlo(n_mc, nav=(20, 20)):
    pos, s_reg, s_ls = [], [], []
    for seed in range(n_mc):
        synth = data.two_phase_composite(nav_shape=nav, seed=seed)
        cfg = batch.load_config(demo_config(synth))
        comp = {el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)}
        _, ri, pdf = batch._build(synth.signal, cfg, composition=comp)
        m = cfg["mapping"]
        unmix = pdf.decompose(tuple(m["r_range"]),
                              n_components=m["n_components"] or None).unmix(method=m["method"])
        corr = quantify.integration_correlation(synth.signal, ri)
        rr = (1.0, 3.0)
        t_reg = mapping.peak_table(report.component_sigmas(
            pdf, ri, unmix, comp, correlation=corr, pure=region_pure(unmix)), n_peaks=1,
            r_range=rr)
        t_ls = mapping.peak_table(report.component_sigmas(pdf, ri, unmix, comp, correlation=corr),
                                  n_peaks=1, r_range=rr)
        order = np.argsort(t_reg.positions[:, 0])  # phase A (short r₁) first
        pos.append(t_reg.positions[order, 0])
        s_reg.append(t_reg.position_sigma[order, 0])
        s_ls.append(t_ls.position_sigma[order, 0])
    sd = np.std(pos, axis=0, ddof=1)
    print(f"Monte Carlo, {n_mc} noise realisations of the {nav[0]}x{nav[1]} demo scan, "
          "first peak (phase A, phase B):")
    print(f"  scatter of the closure components' r1: {np.round(sd, 4).tolist()} Å")
    for name, s in (("region stand-in (report)", s_reg), ("least squares", s_ls)):
        rms = np.sqrt(np.mean(np.square(s), axis=0))
        print(f"  {name}: rms σ {np.round(rms, 4).tolist()} Å, ratio σ/scatter "
              f"{np.round(rms / sd, 2).tolist()}")
    print(f"  (a scatter from {n_mc} samples is itself uncertain by ±{1 / np.sqrt(2 * (n_mc - 1)):.0%})")


if __name__ == "__main__":
    cost_and_bootstrap((20, 20))
    cost_and_bootstrap((64, 64))
    monte_carlo(int(sys.argv[1]) if len(sys.argv) > 1 else 60)
