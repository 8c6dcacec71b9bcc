"""
Component PDF against a bulk X-ray PDF
======================================

A component PDF of the ZIF-like phase is compared with the bulk X-ray PDF of
amorphous ZIF-4 (Gaillac et al. 2017, shipped with the package): both on one
r grid, scaled by least squares, with Rw and peak differences. The pair-weight
table explains why the two differ: X-rays weight Zn pairs far more.
"""

# %%
import matplotlib.pyplot as plt

import pyxem_epdf as epdf

xpdf = epdf.xray.load_xray_pdf(epdf.data.zif4_files()["xray_dofr"])

# the ZIF-like region PDF of the synthetic composite
synth = epdf.data.two_phase_composite(nav_shape=(24, 24), seed=0)
ri = epdf.azimuthal_profile(synth.signal, npt=80, s_max=2.56)
zif = ri.sum_regions(synth.fractions[..., 0] > 0.9)
epdf_zif = (zif.fit_scattering(synth.phases[0].composition, s_range=(1.6, 2.5), fix_c=True)
            .polynomial_correct(s_max=2.5).damp_exponential(b=0.8)
            .extrapolate_low_s(s_min=0.18).to_pdf(r_max=10, r_step=0.01))

result = epdf.xray.compare(epdf_zif, xpdf, r_range=(1.0, 6.0))
print("peak positions ePDF (Å):", result["peaks_e"].round(2))
print("peak positions xPDF (Å):", result["peaks_x"].round(2))
fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
epdf.xray.plot_comparison(result, ax=ax, labels=("ZIF-like ePDF (synthetic)",
                                                 "a-ZIF-4 X-ray D(r), scaled"))

# %%
# Pair weights of the composition: electron versus X-ray.
print(epdf.xray.weight_table(synth.phases[0].composition))
