"""Benchmark: EDS element maps, registration and correlation, 256 × 256 × 2,048.

A synthetic exspy ``EDSTEMSpectrum`` (int32 counts, 0.5 GB) of the embedded
composite on a 256 × 256 grid at 7.5 nm, drifted by (6.3, −4.1) nm, is mapped
(Zn, Al, P, Na with background windows: exspy's ``get_lines_intensity``),
registered to a 384 × 384 scan grid at 5 nm through the HAADF recorded with
each, and correlated with the scan's two phase-fraction maps. Prints wall
time per step, the exspy step's share of the total (the part that is exspy's
own work), the drift error and the peak resident memory. In lazy mode the
spectrum image is generated block by block and the maps are computed (one
pass for all lines) inside the registration step.

Usage: ``python benchmarks/bench_eds.py [eager|lazy]``
"""

import resource
import sys
import time
import warnings

import hyperspy.api as hs
import numpy as np

import pyxem_epdf as epdf

warnings.simplefilter("ignore")


def main(mode="eager"):
    drift = (6.3, -4.1)
    synth = epdf.data.two_phase_composite(nav_shape=(384, 384), lazy=True)  # fields only
    t0 = time.perf_counter()
    eds = epdf.data.synthetic_eds(synth, shape=(256, 256), drift=drift, counts=1500,
                                  n_channels=2048, lazy=(mode == "lazy"), chunks=64)
    t_make = time.perf_counter() - t0
    print(f"spectrum image {eds.spectrum.data.shape} {eds.spectrum.data.dtype} "
          f"({eds.spectrum.data.nbytes / 1e9:.2f} GB, {mode}); made in {t_make:.1f} s")
    loadings = hs.signals.Signal2D(synth.fractions.transpose(2, 0, 1))
    for ax in loadings.axes_manager.signal_axes:
        ax.units, ax.scale = "nm", synth.parameters.step
    t0 = time.perf_counter()
    maps = epdf.eds.element_maps(eds.spectrum)
    t_maps = time.perf_counter() - t0
    t0 = time.perf_counter()
    reg = epdf.eds.register_eds(maps, eds.scan_haadf, eds.haadf, normalize="eds_image")
    t_reg = time.perf_counter() - t0
    t0 = time.perf_counter()
    corr = reg.correlate(loadings, labels=["ZIF", "glass"])
    t_corr = time.perf_counter() - t0
    total = t_maps + t_reg + t_corr
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    err = np.abs(np.asarray(reg.shift) - drift)
    print(f"element maps (exspy get_lines_intensity): {t_maps:6.2f} s"
          + (" (graph only; computed in the next step)" if mode == "lazy" else ""))
    print(f"registration (HAADF ↔ HAADF, resampling): {t_reg:6.2f} s, drift error "
          f"({err[0]:.2f}, {err[1]:.2f}) nm = {err.max() / synth.parameters.step:.2f} scan px")
    print(f"correlation (4 maps × 2 loadings, {corr.n_pixels} px): {t_corr:6.2f} s")
    print(f"total {total:.2f} s; exspy's share {t_maps / total:.0%}; "
          f"Zn_Ka–ZIF r = {corr.r('Zn_Ka', 'ZIF'):.3f}, Al_Ka–glass r = "
          f"{corr.r('Al_Ka', 'glass'):.3f}")
    print(f"peak resident memory {peak:.2f} GB")


if __name__ == "__main__":
    main(*(sys.argv[1:2] or ["eager"]))
