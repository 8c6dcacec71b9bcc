"""Embedded datasets with known answers.

* :func:`two_phase_composite` — a deterministic synthetic 4D-STEM scan of a
  two-phase amorphous composite (ZIF-like MOF glass / glass-like inorganic
  glass, after Laulainen et al. 2022) with its full ground truth: phase
  fractions, thickness, the truth G(r) and φ(s) of each phase
  (:data:`ZIF_LIKE`, :data:`GLASS_LIKE`), the scattering scale N and noiseless
  profiles. Eager or lazy (dask), bit-identical either way.
* :func:`composite` — the same generator for one to three phases (a third,
  metallic-glass-like phase :data:`METALLIC_LIKE`) and other inclusion
  numbers and sizes, to validate the chain on composites unlike the embedded one.
* :func:`gold_standard` — a polycrystalline Au calibration pattern (fcc rings
  from a = 4.0782 Å) with the detector options of :func:`composite`
  (calibration, ellipticity, beam stop) and its truth.
* :func:`synthetic_eds` — an exspy EDS spectrum image (and HAADF) of the same
  composite on a coarser, drifted grid, for EDS correlation.
* :func:`example_profile` / :func:`example_pdf` — a measured I(s) of an 18 nm
  amorphous SiO2 film and its processed G(r).
* :func:`zif4_files` — X-ray PDF/F(Q) of amorphous ZIF-4 and crystal/glass CIF
  models (CC BY 4.0).

Examples
--------
>>> import pyxem_epdf as epdf
>>> synth = epdf.data.two_phase_composite(nav_shape=(4, 4), detector_shape=(32, 32))
>>> synth.signal.data.shape
(4, 4, 32, 32)
"""

from ._eds import EDS_LINES, SyntheticEDS, synthetic_eds
from ._measured import (
    SIO2_CHAIN,
    SIO2_PEAKS,
    SIO2_S_SCALE,
    example_pdf,
    example_profile,
    zif4_files,
)
from ._synthetic import (
    BACKGROUND_COUNTS,
    CONVERGENCE_SEMIANGLE,
    GLASS_LIKE,
    GLASS_LIKE_COMPOSITION,
    GLASS_LIKE_PEAKS,
    GOLD_B_FACTOR,
    MEAN_FREE_PATH_200KV,
    METALLIC_LIKE,
    METALLIC_LIKE_COMPOSITION,
    METALLIC_LIKE_PEAKS,
    MULTIPLE_SCATTERING_STRENGTH,
    MULTIPLE_SCATTERING_WIDTH,
    ZIF_LIKE,
    ZIF_LIKE_COMPOSITION,
    ZIF_LIKE_PEAKS,
    CompositeParameters,
    GoldStandard,
    Peak,
    Phase,
    SyntheticComposite,
    average_composition,
    composite,
    gold_standard,
    inclusion_centers,
    mean_free_path,
    phase_fractions,
    thickness_map,
    two_phase_composite,
)

__all__ = [
    "BACKGROUND_COUNTS",
    "CONVERGENCE_SEMIANGLE",
    "CompositeParameters",
    "GLASS_LIKE",
    "GLASS_LIKE_COMPOSITION",
    "GLASS_LIKE_PEAKS",
    "GOLD_B_FACTOR",
    "GoldStandard",
    "MEAN_FREE_PATH_200KV",
    "METALLIC_LIKE",
    "METALLIC_LIKE_COMPOSITION",
    "METALLIC_LIKE_PEAKS",
    "MULTIPLE_SCATTERING_STRENGTH",
    "MULTIPLE_SCATTERING_WIDTH",
    "Peak",
    "Phase",
    "SIO2_CHAIN",
    "SIO2_PEAKS",
    "SIO2_S_SCALE",
    "SyntheticComposite",
    "SyntheticEDS",
    "EDS_LINES",
    "ZIF_LIKE",
    "ZIF_LIKE_COMPOSITION",
    "ZIF_LIKE_PEAKS",
    "average_composition",
    "composite",
    "example_pdf",
    "gold_standard",
    "example_profile",
    "inclusion_centers",
    "mean_free_path",
    "phase_fractions",
    "thickness_map",
    "synthetic_eds",
    "two_phase_composite",
    "zif4_files",
]
