"""
Repeat scan: damage check
=========================

A second scan of the same area shows whether the first damaged the material.
The scans are registered by their vADF images, region PDFs of both get
bootstrap uncertainties, and every peak is judged against a tolerance.

Here the second scan is drawn from the same composite with half of the ZIF's
Zn–N bonds broken, shifted by (2, 1) probe positions.
"""

# %%
import dataclasses

import matplotlib.pyplot as plt

import pyxem_epdf as epdf
from pyxem_epdf import data


def crop(synth, rows, cols):
    sig = synth.signal.inav[cols:cols + 24, rows:rows + 24]
    for ax in sig.axes_manager.navigation_axes:
        ax.offset = 0.0
    return epdf.azimuthal_profile(sig, npt=80, s_max=2.56)


first = data.two_phase_composite(nav_shape=(26, 26), seed=1)
damaged_zif = dataclasses.replace(data.ZIF_LIKE, peaks=tuple(
    p._replace(coordination=0.45) if p.label == "Zn-N" else p for p in data.ZIF_LIKE.peaks))
second = data.two_phase_composite(nav_shape=(26, 26), seed=4,
                                  phases=(damaged_zif, data.GLASS_LIKE))
composition = data.average_composition(first)


def chain(ri):
    return (ri.fit_scattering(composition, (1.6, 2.5), weights="poisson", fix_c=True)
            .polynomial_correct(s_max=2.5).damp_exponential(0.8).extrapolate_low_s(0.18)
            .to_pdf(r_max=8, r_step=0.01))


fractions = first.fractions[:24, :24]
check = epdf.compare_scans(crop(first, 0, 0), crop(second, 2, 1),
                           [fractions[..., 0] > 0.9, fractions[..., 1] > 0.9], chain,
                           labels=["ZIF", "glass"], n_peaks=2, r_range=(1.0, 2.8),
                           tolerance=0.05, height_tolerance=0.2, window=0.2)
print(check)

# %%
check.plot()
plt.show()
