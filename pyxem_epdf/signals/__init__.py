"""Signal classes registered with HyperSpy (see ``hyperspy_extension.yaml``).

Thin wrappers around :mod:`pyxem_epdf.physics`: they handle axes, metadata,
laziness and plotting.
"""

from ._base import compute_all
from .pdf import LazyPDF1DPlus, PDF1DPlus
from .profile import azimuthal_profile, from_profile
from .reduced_intensity import LazyReducedIntensity1DPlus, ReducedIntensity1DPlus
from .scan import (
    calibrate_s,
    descan,
    detector_mask,
    dose_map,
    electrons_from_beam,
    virtual_adf,
)

__all__ = [
    "ReducedIntensity1DPlus",
    "LazyReducedIntensity1DPlus",
    "PDF1DPlus",
    "LazyPDF1DPlus",
    "azimuthal_profile",
    "from_profile",
    "calibrate_s",
    "compute_all",
    "descan",
    "detector_mask",
    "dose_map",
    "electrons_from_beam",
    "virtual_adf",
]
