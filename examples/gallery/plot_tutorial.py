"""
Tutorial: from raw scan to phase maps
=====================================

The paper's route (Laulainen et al. 2022) on the embedded synthetic composite:
a ZIF-like MOF glass with an interface to an inorganic glass holding a small
inclusion, 40 × 40 probe positions at 2.5 nm, 10 e⁻/Å² per pattern, with a
descan drift of (2, 1) detector pixels across the scan. Every step below runs
when the documentation is built, so the figures are those of this code.
``examples/compare_unmixing.py`` runs the same steps and writes a figure.
"""

# %%
# The scan
# --------
# Lazily, as from a file (``hs.load("scan.zspy", lazy=True)``): nothing is
# computed until a number is needed.
import matplotlib.pyplot as plt
import numpy as np

import pyxem_epdf as epdf
from pyxem_epdf.physics.scattering import mean_scattering

synth = epdf.data.two_phase_composite(nav_shape=(40, 40), step=2.5, descan=(2.0, 1.0), lazy=True)
dp = synth.signal
print(dp)

# %%
# Detector and beam
# -----------------
# Bad pixels and the beam stop from the scan-summed pattern, a virtual ADF
# image (counts at s = 1.5–2.5 Å⁻¹, the paper's Fig. 3a) and the dose. The
# paper bins the scan 2 × 2; the pattern centres (descan) are measured on the
# binned scan and fitted by a plane, the residual map shows outliers.
mask, report = epdf.signals.detector_mask(dp, beam_stop_radius=0.1)
print("masked detector pixels:", report)
vadf = epdf.signals.virtual_adf(dp, (1.5, 2.5))
electrons, dose = epdf.signals.dose_map(dp)
binned = dp.rebin(scale=(2, 2, 1, 1))
measured, plane, residual = epdf.signals.descan(binned)

fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), layout="constrained")
for ax, image, label in ((axes[0], vadf, "counts"), (axes[1], dose, "e⁻/Å²"),
                         (axes[2], residual, "px")):
    x, y = image.axes_manager.signal_axes
    shown = ax.imshow(np.asarray(image.data),
                      extent=[x.axis[0], x.axis[-1], y.axis[-1], y.axis[0]])
    ax.set_title(image.metadata.General.title, fontsize=9)
    ax.set_xlabel(f"x ({x.units})")
    ax.set_ylabel(f"y ({y.units})")
    fig.colorbar(shown, ax=ax, label=label, shrink=0.8)

# %%
# Integration
# -----------
# Our sparse pixel → s operator with sub-pixel splitting, the mask, the
# per-pattern centres of the descan plane and the Poisson variance of every
# bin; ``compute_all`` evaluates I(s) and its variance in one dask pass.
ri = epdf.azimuthal_profile(binned, npt=64, s_max=2.54, mask=mask, beam_shift=plane)
epdf.compute_all(ri, show_progressbar=False)
print(ri)

# %%
# Fit of the structureless scattering
# -----------------------------------
# N⟨f²⟩ + C is fitted on the high-s window of every pattern in closed form;
# φ(s) = s (I − N⟨f²⟩ − C) / (N⟨f⟩²). Here the mean profile of the scan with
# the mean fitted model, the window shaded.
comp = epdf.data.average_composition(synth)
s_range = (1.6, 2.5)
phi = ri.fit_scattering(comp, s_range=s_range, weights="variance", fix_c=True)
s = ri.axes_manager.signal_axes[0].axis
f2, _ = mean_scattering(comp, s)
fit = phi.metadata.ePDF.fit
model = float(np.mean(fit.N.data)) * f2 + float(np.mean(fit.C.data))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
axes[0].plot(s, np.asarray(ri.data).mean(axis=(0, 1)), label="I(s), scan mean")
axes[0].plot(s, model, "k--", label="N⟨f²⟩ + C (mean fit)")
axes[0].axvspan(*s_range, color="0.9", label="fit window")
axes[0].set_yscale("log")
axes[0].set_xlabel("s (Å⁻¹)")
axes[0].set_ylabel("mean counts per pixel")
axes[0].legend(fontsize=8)

# The corrections, one signal per step: every method returns a new signal
# (``inplace=False``) and records itself in ``metadata.ePDF.history``.
corrected = phi.polynomial_correct(s_range=(0.18, 2.5), s_max=2.5)  # window (s_min, s_max)
damped = corrected.damp_exponential(b=0.8)
final = damped.extrapolate_low_s(s_min=0.18)
for sig, label in ((phi, "φ(s)"), (corrected, "polynomial-corrected"),
                   (final, "damped, s < 0.18 Å⁻¹ extrapolated")):
    axes[1].plot(sig.axes_manager.signal_axes[0].axis, np.asarray(sig.data).mean(axis=(0, 1)),
                 label=label)
axes[1].axhline(0, color="0.6", lw=0.8)
axes[1].set_xlabel("s (Å⁻¹)")
axes[1].set_ylabel("φ(s), scan mean")
axes[1].legend(fontsize=8)

# %%
# How much damping the data need: the smallest b whose G(r) noise at high r
# stays below 5 % of the first peak, per pixel (region sums need less). The
# noise window stays below the aliasing limit 1/(2 Δs) of this s sampling.
suggestion = corrected.suggest_damping(s_min=0.18, high_r=(8.0, 12.0))
print("suggested b:", suggestion.b, "Å²")
suggestion.plot()

# %%
# G(r)
# ----
# The sine transform on an explicit r grid. Once the parameters are settled,
# ``get_pdf`` runs the same chain in one pass with the same G(r), maps and
# history, without the intermediate φ(s) signals (after the fit every step is
# linear in φ and becomes one matrix, :mod:`pyxem_epdf.physics.chain`).
pdf = final.to_pdf(r_max=10, r_step=0.02)
one_pass = ri.get_pdf(comp, s_range, b=0.8, s_min=0.18, s_max=2.5, weights="variance",
                      fix_c=True, r_max=10, r_step=0.02)
print("one pass == step by step:", np.allclose(one_pass.data, pdf.data))
print([step["method"] for step in pdf.metadata.ePDF.history.as_dictionary().values()])
r = pdf.axes_manager.signal_axes[0].axis
fig, ax = plt.subplots(figsize=(7, 3.2), layout="constrained")
truth = synth.fractions[::2, ::2]  # true phase fractions on the binned grid
for k, label in enumerate(("ZIF-like", "glass-like")):
    row, col = np.unravel_index(np.argmax(truth[..., k]), truth.shape[:2])
    ax.plot(r, pdf.data[row, col], label=f"one binned probe position, {label} phase")
ax.axhline(0, color="0.6", lw=0.8)
ax.set_xlabel("r (Å)")
ax.set_ylabel("G(r) (Å⁻²)")
ax.legend(fontsize=8)

# %%
# Decompose and unmix
# -------------------
# PCA with a noise floor from the cube's own (heteroscedastic, r-correlated)
# noise says how many components stand above it; closure-aware unmixing gives phase fractions (≥ 0, summing to 1) and
# pure-phase PDFs. The labels follow the number of components found.
dec = pdf.decompose((1.0, 8.0))
dec.plot_scree()
phases = dec.unmix(method="closure")
names = [f"phase {k}" for k in range(len(phases.components.data))]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
phases.plot_composite(ax=axes[0])
epdf.plot_pdfs([phases.components], labels=names, ax=axes[1])

# %%
# Interfaces, regions, peaks
# --------------------------
# The interface width along a line across it (the paper's Fig. 3e), region
# PDFs from the I(s) summed where each phase dominates (the paper's Fig. 2),
# and the main peaks of every PDF.
print(epdf.interface_width(phases.loadings.inav[0], ((16, 73), (64, 87)), linewidth=10,
                           probe_diameter=5))
dominant = phases.loadings.data.argmax(axis=0)
regions = ri.sum_regions([dominant == k for k in range(len(names))])
region_pdfs = regions.get_pdf(comp, s_range, b=0.6, s_min=0.18, s_max=2.5, fix_c=True,
                              r_max=10, r_step=0.02)
epdf.plot_pdfs([region_pdfs], labels=[f"{n} region" for n in names])
print(epdf.mapping.peak_table([phases.components, region_pdfs],
                              labels=names + [f"{n} region" for n in names]))
plt.show()

# %%
# Geometry from the data
# ----------------------
# A measured scan rarely has its geometry given: a beam stop hides the direct
# beam (so its centre of mass is wrong), the centre drifts, the projector
# lenses make the rings 0.5–3 % elliptical, and the s calibration comes from a
# standard. Here a smaller scan with all of it (rod beam stop, 2 % ellipticity
# at 30°, a (2, 1.5) px drift), its detector axes in pixels only, and a
# polycrystalline gold pattern taken with the same camera length. Each step is
# one documented call: the gold rings give s per pixel (and an ellipse); the
# scan sum gives the beam-stop mask, the ellipse and the mean centre; the ring
# centres of the 2 × 2-binned patterns give the centre track, fitted by a
# descan plane through the scan-sum centre; the integration applies the
# centres and the distortion matrix in the same pass (each pixel's s from
# its corrected coordinates, no resampling of frames); it warns that the rings
# behind the beam-stop disc hold no pixel (start the chain above them, s_min).
from pyxem_epdf import report
from pyxem_epdf.physics.geometry import fit_descan

scan = epdf.data.composite(nav_shape=(12, 12), distortion=(1.02, 30.0),
                           beam_stop=(6.0, 3.0, 90.0), descan=(2.0, 1.5), dose=50.0)
raw = scan.signal
for axis in raw.axes_manager.signal_axes:  # as from a microscope: pixels only
    axis.units, axis.scale, axis.offset = "px", 1.0, 0.0
gold = epdf.data.gold_standard(distortion=(1.02, 30.0), beam_stop=(6.0, 3.0, 90.0),
                               center=(62.2, 65.7))
cal = epdf.signals.calibrate_standard(gold.signal)
print(f"s per pixel {cal.s_per_pixel:.5f} Å⁻¹ ± {cal.s_per_pixel_std / cal.s_per_pixel:.3%} "
      "(true 0.04); "
      f"ellipse {cal.ellipse.axis_ratio:.4f} at {cal.ellipse.angle:.1f}° (true 1.02 at 30°)")
geo = epdf.signals.set_geometry(raw, s_per_pixel=cal.s_per_pixel)
summed = epdf.signals.scan_sum(geo)
stop, _ = epdf.signals.find_beam_stop(geo, summed=summed)
band = (0.3, 2.2)  # Å⁻¹, the amorphous rings used for the ellipse and the centres
ellipse = epdf.signals.fit_distortion(geo, s_range=band, mask=stop, summed=summed)
geo_binned = geo.rebin(scale=(2, 2, 1, 1))
centres = epdf.signals.find_centers(geo_binned, s_range=band, center=ellipse.center,
                                    distortion=cal.ellipse.matrix, mask=stop).data
track = fit_descan(centres)
track += np.asarray(ellipse.center) - track.reshape(-1, 2).mean(axis=0)
truth = (np.array(scan.parameters.center[::-1]) + scan.parameters.beam_shifts).reshape(
    6, 2, 6, 2, 2).mean(axis=(1, 3))
print(f"centre error {np.sqrt(np.mean(np.sum((track - truth) ** 2, -1))):.3f} px rms")
ny, nx = geo.axes_manager.signal_shape[::-1]
shift = np.stack([nx / 2 - track[..., 0], ny / 2 - track[..., 1]], axis=-1)  # pyxem convention
geo_ri = epdf.azimuthal_profile(geo_binned, s_max=2.2, mask=stop, beam_shift=shift,
                                distortion=cal.ellipse.matrix)
print("integrated with A =", np.round(geo_ri.metadata.ePDF.integration.distortion, 4).tolist())
report.geometry_figure(summed, mask=stop, center=ellipse.center, distortion=cal.ellipse.matrix,
                       radii=[v / cal.s_per_pixel for v in band], centers=track,
                       fig=plt.figure(figsize=(9.6, 4.4), layout="constrained"))

# %%
# The batch command does the same from its ``[geometry]`` section
# (``distortion = "fit"`` or ``[axis_ratio, angle]`` from the standard,
# ``beam_stop = "auto"``, ``center = "auto"``: ring centres when the beam stop
# is found, the direct beam's centre of mass otherwise) and puts this figure
# in its report.

# %%
# The same steps without Python: ``pyxem-epdf process scan.zspy --config
# config.toml --out results`` (configuration keys in :mod:`pyxem_epdf.batch`).
