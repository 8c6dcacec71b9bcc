"""Measurements behind the chain's defaults (s_range, b, s_min, polynomial window, outlier z).

Run: ``python benchmarks/chain_defaults.py [window|b|smin|poly|sio2|outliers|all]``.
Prints the numbers quoted in :mod:`pyxem_epdf.physics.chain` and
:mod:`pyxem_epdf.physics.fit` (see benchmarks/README.md, "Chain defaults").

Data: the embedded composite (20 × 20, 128² detector, 10 e⁻/Å², direct beam)
noiseless (truth) and noisy, profiles from ``azimuthal_profile(dp)`` (default
outer edge 2.54 Å⁻¹), average composition; and the measured a-SiO2 profile.
Scores: median over pure-phase pixels (fraction > 0.95) of the correlation of
G(r) with the phase's truth G over 1–8 Å; low-r error: rms of G below the
first truth peak (r < r₁ − 3σ₁) against the truth scaled to G on 1–8 Å,
relative to the first-peak height.
"""

import sys
import warnings

import numpy as np

import pyxem_epdf as epdf

warnings.simplefilter("ignore")
R = np.arange(0, 20.0001, 0.01)
RM = (R >= 1.0) & (R <= 8.0)


def corr(a, b, m):
    a, b = a[..., m], b[..., m]
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean(-1, keepdims=True)
    return (a * b).sum(-1) / np.sqrt((a * a).sum(-1) * (b * b).sum(-1))


def composite(seed=0, noise=True, nav_shape=(20, 20)):
    synth = epdf.data.two_phase_composite(noise=noise, seed=seed, nav_shape=nav_shape)
    return synth, epdf.azimuthal_profile(synth.signal, show_progressbar=False)


def scores(synth, pdf):
    pure = [synth.fractions[..., p] > 0.95 for p in (0, 1)]
    out_c, out_l = [], []
    for p, ph in enumerate(synth.phases):
        t = ph.pdf(R)
        g = pdf.data[pure[p]]
        out_c.append(float(np.median(corr(g, t[None], RM))))
        r1 = ph.peaks[0].center
        m = (R > 0.3) & (R < r1 - 3 * ph.peaks[0].sigma)
        a = (g[:, RM] @ t[RM]) / (t[RM] @ t[RM])
        d = g[:, m] - a[:, None] * t[None, m]
        out_l.append(float(np.median(np.sqrt((d**2).mean(-1)) / (a * t.max()))))
    return np.round(out_c, 3), np.round(out_l, 3)


def run(what):
    if what in ("window", "b", "smin", "poly", "all"):
        truth, ri0 = composite(noise=False)
        _, ri1 = composite(noise=True)
        comp = epdf.data.average_composition(truth)
        edge = ri0.metadata.ePDF.integration.edges[-1]
    if what in ("window", "all"):
        print("# fit window (f·s_edge, s_edge), b 0.8, s_min 0.14: [noiseless, noisy] corr / low-r")
        for f in (0.4, 0.5, 0.6, 0.64, 0.7, 0.8):
            row = [scores(truth, ri.get_pdf(comp, (f * edge, edge), b=0.8, s_min=0.14))
                   for ri in (ri0, ri1)]
            print(f"f={f:4}: noiseless corr {row[0][0]} low-r {row[0][1]}; noisy corr {row[1][0]}")
    if what in ("b", "all"):
        print("# damping b (Å²), default window and s_min: median corr [ZIF, glass]")
        for b in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.5):
            row = [scores(truth, ri.get_pdf(comp, b=b))[0] for ri in (ri0, ri1)]
            print(f"b={b:4}: noiseless {row[0]} noisy {row[1]}")
    if what in ("smin", "all"):
        print("# s_min (Å⁻¹), default window and b: corr and low-r [ZIF, glass]")
        for sm in (0.06, 0.1, 0.14, 0.18, 0.22, 0.26):
            row = [scores(truth, ri.get_pdf(comp, s_min=sm)) for ri in (ri0, ri1)]
            print(f"s_min={sm:4}: noiseless corr {row[0][0]} low-r {row[0][1]}; "
                  f"noisy corr {row[1][0]} low-r {row[1][1]}")
    if what in ("poly", "all"):
        print("# polynomial window lo (Å⁻¹) with s_min 0.14: low-r error [ZIF, glass]")
        s_last = float(ri0.axes_manager.signal_axes[0].axis[-1])
        for lo in (0.14, 0.18, 0.1 * s_last, 0.3, 0.5):
            row = [scores(truth, ri.get_pdf(comp, polynomial_range=(lo, s_last)))
                   for ri in (ri0, ri1)]
            print(f"lo={lo:.3f}: noiseless corr {row[0][0]} low-r {row[0][1]}; "
                  f"noisy corr {row[1][0]} low-r {row[1][1]}")
    if what in ("sio2", "all"):
        sio2()
    if what in ("outliers", "all"):
        outliers()


def sio2():
    ri = epdf.data.example_profile()
    s = ri.axes_manager.signal_axes[0].axis
    rho0 = 2.2 / 60.08 * 6.02214e23 * 3 / 1e24  # atoms/Å³ of a-SiO2 (2.2 g/cm³)
    ref = epdf.data.example_pdf()  # the package's tuned chain (SIO2_CHAIN)
    r_ref = ref.axes_manager.signal_axes[0].axis

    def report(label, pdf):
        r = pdf.axes_manager.signal_axes[0].axis
        pos, _ = pdf.find_peaks(2, r_range=(1.3, 3.0))
        low = (r > 0.2) & (r < 1.3)
        slope = -4 * np.pi * rho0
        g = np.asarray(pdf.data)
        rms = np.sqrt(np.mean((g[low] - slope * r[low]) ** 2))
        gi = np.interp(r_ref, r, g)
        m = (r_ref >= 1.0) & (r_ref <= 8.0)
        print(f"{label}: peaks {np.round(pos.data, 3).tolist()} (1.61, 2.63); low-r rms vs "
              f"-4πρ₀r {rms:.3f}; corr with tuned G {corr(gi, ref.data, m):.4f}")

    print("# a-SiO2 (zeros below 0.177 Å⁻¹, edge artefacts above 4.0)")
    report("defaults only          ", ri.get_pdf("SiO2", r_max=10.0))
    report("defaults, s_max 4.0    ", ri.get_pdf("SiO2", s_max=4.0, r_max=10.0))
    for sm in (0.177, 0.2, 0.25):
        for lo in ("s_min", "0.1 s_max"):
            rng = (sm, 4.0) if lo == "s_min" else (0.4, 4.0)
            report(f"s_min {sm} window {lo:9}", ri.get_pdf("SiO2", (2.8, 4.0), b=0.2, s_min=sm,
                                                          s_max=4.0, polynomial_range=rng,
                                                          r_max=10.0))
    # a profile exported from the beam-stop edge vs the zero-padded one
    k0 = int(np.argmax(ri.data > 0))
    cut = ri.isig[k0:]
    kw = dict(s_range=(2.8, 4.0), b=0.2, s_min=float(s[k0]), s_max=4.0, r_max=10.0)
    g_pad = ri.get_pdf("SiO2", **kw).data
    g_cut = cut.get_pdf("SiO2", **kw).data
    print(f"beam-stop-edge profile (s0 = {s[k0]:.4f}) vs zero-padded: max |ΔG| = "
          f"{np.abs(g_cut - g_pad).max():.2e} (max |G| {np.abs(g_pad).max():.2f})")


def outliers():
    from pyxem_epdf.physics import fit

    print("# robust z (log N, log χ²) on clean scans: max |z| over the scan")
    for seed in (0, 1, 2):
        synth, ri = composite(seed=seed)
        comp = epdf.data.average_composition(synth)
        for label, sig in (("full", ri), ("2x2", ri.rebin(scale=(2, 2, 1)))):
            for weights in (None, "poisson"):
                phi = sig.fit_scattering(comp, weights=weights)
                f = phi.metadata.ePDF.fit
                print(f"seed {seed} {label:4} weights={str(weights):7}: max|z_N| "
                      f"{np.abs(f.z_N.data).max():.2f}, max z_chi2 {f.z_chi2.data.max():.2f}, "
                      f"outliers {int(f.outlier.data.sum())}")
    # the demo route of issue 12 (pyxem integration to the corner, poisson weights, per-pixel
    # composition): pixel (6, 10)
    synth = epdf.data.two_phase_composite(nav_shape=(20, 20), seed=0)
    prof = synth.signal.get_azimuthal_integral1d(npt=70, mean=True, show_progressbar=False)
    ri = epdf.from_profile(prof)
    comp = {el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)}
    phi = ri.fit_scattering(comp, (1.6, 2.5), weights="poisson")
    f = phi.metadata.ePDF.fit
    print(f"demo route: pixel (6, 10) N {f.N.data[6, 10]:.3f} (median "
          f"{np.median(f.N.data):.3f}), χ² {f.reduced_chi2.data[6, 10]:.2f} (median "
          f"{np.median(f.reduced_chi2.data):.2f}), z_N {f.z_N.data[6, 10]:.1f}, z_chi2 "
          f"{f.z_chi2.data[6, 10]:.1f}, outliers {np.argwhere(f.outlier.data).tolist()}; "
          f"threshold {fit.OUTLIER_Z}")


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else "all")
