"""
EDS element maps against loading maps
=====================================

The paper checks its phase maps with EDS: Zn follows the ZIF loading, Al the
glass loading. The EDS map has its own grid (here 1.5× coarser and drifted by
(6.3, −4.1) nm); it is registered to the ePDF scan through the HAADF image
recorded with each, then every element map is correlated with every loading.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np

import pyxem_epdf as epdf

synth = epdf.data.two_phase_composite(nav_shape=(24, 24), seed=4)
ri = epdf.azimuthal_profile(synth.signal, npt=80, s_max=2.56)
pdf = (ri.fit_scattering(epdf.data.average_composition(synth), s_range=(1.6, 2.5),
                         weights="poisson", fix_c=True)
       .polynomial_correct(s_max=2.5).damp_exponential(b=0.8)
       .extrapolate_low_s(s_min=0.18).to_pdf(r_max=10, r_step=0.02))
unmix = pdf.decompose((1.0, 8.0)).unmix(2, "closure")
# name the components by their PDFs: the glass has the P–O peak at 1.53 Å
r = unmix.components.axes_manager.signal_axes[0].axis
glass = int(np.argmax([np.interp(1.53, r, g) for g in unmix.components.data]))
loadings = [unmix.loadings.inav[1 - glass], unmix.loadings.inav[glass]]

# %%
# The EDS spectrum image is a real exspy ``EDSTEMSpectrum``; with measured data
# it comes from ``hs.load("map.bcf")``.
eds = epdf.data.synthetic_eds(synth, origin=(12.0, -6.0), drift=(6.3, -4.1), counts=1500,
                              n_channels=1024, seed=9)
print(eds.spectrum)

corr = epdf.eds.correlate_eds(eds.spectrum, loadings, labels=["ZIF", "glass"],
                              scan_image=eds.scan_haadf, eds_image=eds.haadf,
                              normalize="eds_image")
print("drift found:", np.round(corr.registration.shift, 2), "nm (true (6.3, −4.1))")
print(corr)

# %%
# The registration overlay, and the 2-D histograms of every pair.
corr.registration.plot()
corr.plot()
plt.show()
