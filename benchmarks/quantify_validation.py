"""Issue 17 numbers: σ(G) coverage, peak σ, published-result reproduction, ZIF-4, a-SiO2 ρ₀.

Run: PYTHONPATH=. python benchmarks/quantify_validation.py [--patterns 20]
Prints every number quoted in benchmarks/README.md ("Quantitative results (issue 17)").
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

warnings.simplefilter("ignore")

import pyxem_epdf as epdf  # noqa: E402
from pyxem_epdf import quantify  # noqa: E402
from pyxem_epdf.physics import uncertainty  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _dp(lam, n, seed):
    from pyxem.signals import ElectronDiffraction2D

    rng = np.random.default_rng(seed)
    stack = np.empty((1 + n,) + lam.shape, dtype=np.float32)
    stack[0] = lam
    for i in range(0, n, 100):
        k = min(100, n - i)
        stack[1 + i:1 + i + k] = rng.poisson(lam, (k,) + lam.shape)
    return ElectronDiffraction2D(stack)


def coverage(patterns, seed=17):
    synth = epdf.data.two_phase_composite(nav_shape=(), noise=False, detector_shape=(96, 96),
                                          s_scale=2.9 / 48, dose=1000.0)
    comp = epdf.data._synthetic.average_composition(synth)
    comp = {k: v for k, v in comp.items() if v > 0.01}
    comp = {k: v / sum(comp.values()) for k, v in comp.items()}
    lam = np.asarray(synth.signal.data, dtype=float)
    dp = _dp(lam, 200 * patterns, seed)
    for a, b in zip(dp.axes_manager.signal_axes, synth.signal.axes_manager.signal_axes,
                    strict=True):
        a.scale, a.offset, a.units, a.name = b.scale, b.offset, b.units, b.name
    ri = epdf.azimuthal_profile(dp)
    pdf = ri.get_pdf(comp, (1.6, 2.5), b=0.8, s_min=0.18, r_max=10.0)
    R = quantify.integration_correlation(dp, ri)
    t = {}
    for name, fn in (("pdf_sigma", lambda: quantify.pdf_sigma(ri, pdf, correlation=R)),
                     ("with_sigma", lambda: quantify.with_sigma(ri, pdf, correlation=R))):
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        t[name] = best
    sigma = quantify.pdf_sigma(ri, pdf, correlation=R)
    r = pdf.axes_manager.signal_axes[0].axis
    sel = (r >= 1.0) & (r <= 8.0)
    G, sig, truth = pdf.data[1:, sel], sigma.data[1:, sel], pdf.data[0, sel]
    print(f"# coverage: 200 realisations x {patterns} patterns = {G.shape[0]} draws per r, "
          f"{sel.sum()} r values in 1-8 A")
    for k in (1.0, 0.8, 0.95, 1.05, 1.25):
        c = uncertainty.sigma_coverage(G, k * sig, truth)
        print(f"  sigma x {k:4.2f}: coverage {c.min():.4f}-{c.max():.4f} (mean {c.mean():.4f}),"
              f" worst |c - 0.6827| {np.abs(c - 0.6827).max():.4f}")
    ratio = sig.mean(axis=0) / G.std(axis=0)
    print(f"  sigma / empirical sd: {ratio.min():.3f}-{ratio.max():.3f}")
    print(f"  time for {pdf.data.shape[0]} patterns x {r.size} r: pdf_sigma {t['pdf_sigma']:.3f} s,"
          f" with_sigma (G and dG/dr) {t['with_sigma']:.3f} s, ratio "
          f"{t['with_sigma'] / t['pdf_sigma']:.2f}")
    carried = quantify.with_sigma(ri, pdf, correlation=R)
    pos, height = carried.find_peaks(2, r_range=(1.0, 2.5))
    ps = pos.metadata.Signal.Noise_properties.variance.data[1:] ** 0.5
    hs = height.metadata.Signal.Noise_properties.variance.data[1:] ** 0.5
    p, h = pos.data[1:], height.data[1:]
    print("# peak sigma at 1000 e/A^2 (C-N, Zn-N):")
    print(f"  found {np.isfinite(p).mean(axis=0)}, predicted position sigma "
          f"{np.nanmedian(ps, axis=0).round(4)}, empirical {np.nanstd(p, axis=0).round(4)} A;"
          f" heights {np.nanmedian(hs, axis=0).round(4)} vs {np.nanstd(h, axis=0).round(4)}")


def epdfpy():
    here = ROOT / "tests" / "data" / "epdfpy_ta2o5"
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    import test_preset_reproduction as t

    preset = json.loads((here / "Test data_Ta.preset.json").read_text())
    q_table = np.genfromtxt(here / "Test data_Ta.q.csv", delimiter=",", skip_header=1)
    gr = np.loadtxt(here / "Test data_Ta.r.csv", delimiter=",", skiprows=1)
    print("# ePDFpy Ta2O5 reference (N = 195 fixed, Kirkland, b = 0.15)")
    for label, kw in (("C from the fit_at_q sample", {}),
                      ("C from a 2-sample window", {"single_sample_c": False})):
        g = t._phi(preset, q_table, **kw).to_pdf(r_min=0.01, r_max=10, r_step=0.01).data
        print(f"  {label:28s} corr {np.corrcoef(g, gr[:, 1])[0, 1]:.12f}, max|dG|/max|G| "
              f"{np.abs(g - gr[:, 1]).max() / np.abs(gr[:, 1]).max():.2e}")
    phi = t._phi(preset, q_table)
    g = phi.isig[preset["pixel_start_n"]:preset["pixel_end_n"] + 1].to_pdf(
        r_min=0.01, r_max=10, r_step=0.01).data
    print(f"  our low-s line instead of phi = 0 below the range: corr "
          f"{np.corrcoef(g, gr[:, 1])[0, 1]:.4f}")


def zif4():
    d = Path(epdf.data.zif4_files()["xray_dofr"]).parent
    fq = np.loadtxt(d / "ZIF4glassa_403.int01", comments="#")
    dr = np.loadtxt(d / "ZIF4glassa_403.dofr", comments="#")
    Q, F, r, D = fq[:, 0], fq[:, 1], dr[:, 0], dr[:, 1]
    dq = Q[1] - Q[0]
    sel = (r > 0.5) & (r < 20)

    def tr(q, f):
        return 2 / np.pi * ((dq * q * f)[:, None] * np.sin(np.outer(q, r))).sum(0)

    def rep(label, g):
        k = g[sel] @ D[sel] / (g[sel] @ g[sel])
        print(f"  {label:40s} corr {np.corrcoef(g[sel], D[sel])[0, 1]:.4f} (scale {k:.3f})")

    print("# ZIF-4 403 C: D(r) against (2/pi) int Q i(Q) M(Q) sin(Qr) dQ, r 0.5-20 A")
    rep("i(Q) as S-1, no modification", tr(Q, F))
    rep("Lorch, Qmax 24", tr(Q, F * np.sinc(Q / Q[-1])))
    q0 = np.arange(dq / 2, Q[0] - 1e-9, dq)
    rep("i(Q<Q0) = i(Q0) (what D(r) holds, below)", tr(np.r_[q0, Q], np.r_[np.full(q0.size, F[0]), F]))
    rep("F(Q) read as Q[S-1] (wrong kind)", tr(Q, F / Q))
    qb = np.arange(dq / 2, 30, dq)
    back = (D[None, :] * np.sin(np.outer(qb, r))).sum(1) * (r[1] - r[0]) / qb
    fi = np.interp(qb, Q, F, left=np.nan, right=np.nan)
    print(f"  back-transform of D(r) below Q0: {back[qb < 0.55].mean():+.3f} "
          f"(i(Q0) = {F[0]:+.3f}); M(Q) = <back i>/<i^2> in 1.5 A^-1 windows:")
    row = []
    for lo in np.arange(0.5, 23, 1.5):
        m = (qb >= lo) & (qb < lo + 1.5) & np.isfinite(fi)
        row.append(f"{lo + 0.75:.1f}:{back[m] @ fi[m] / (fi[m] @ fi[m]):.2f}")
    print("   ", " ".join(row))


def sio2():
    from pyxem_epdf.data._measured import SIO2_CHAIN as p
    from pyxem_epdf.physics.coordination import mass_density_to_number_density

    ri = epdf.data.example_profile()
    rho_bulk = mass_density_to_number_density({"Si": 1 / 3, "O": 2 / 3}, 2.2)
    print(f"# a-SiO2 profile, slope of G in (0.5, 1.3) A (bulk 2.2 g/cm3: {rho_bulk:.4f})")
    kw = dict(b=p["b"], s_min=p["s_min"], r_max=10.0)
    for label, pdf in (
            ("SIO2_CHAIN", ri.get_pdf("SiO2", p["s_range"], s_max=p["s_max"], **kw)),
            ("no polynomial", ri.isig[:p["s_max"] + 0.001].get_pdf(
                "SiO2", p["s_range"], polynomial=False, **kw)),
            ("fix_c", ri.get_pdf("SiO2", p["s_range"], s_max=p["s_max"], fix_c=True, **kw))):
        rho, _ = quantify.number_density(pdf, (0.5, 1.3))
        cn, _ = quantify.coordination(pdf, (1.4, 1.85), pair=("Si", "O"), rho0=rho_bulk)
        print(f"  {label:14s} rho0 {float(rho.data[0]):.4f}, Si-O CN (bulk rho0) "
              f"{float(cn.data[0]):.2f}")
    print("  (model alpha-quartz on the same grid: tests/test_quantify.py::"
          "test_sio2_density_bias_is_in_the_profile)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--patterns", type=int, default=20)
    args = ap.parse_args()
    epdfpy()
    zif4()
    sio2()
    coverage(args.patterns)
