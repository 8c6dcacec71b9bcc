"""Signal classes registered with HyperSpy (see ``hyperspy_extension.yaml``).

Thin wrappers around :mod:`pyxem_epdf.physics`: they handle axes, metadata,
laziness and plotting.

The public names are loaded on first access (PEP 562), so that importing this
package, or one of its light submodules (``_base``, ``profile``, ``scan``),
does not import pyxem: the signal classes subclass pyxem's, and importing
pyxem costs ~2 s (its ``__init__`` loads orix, diffsims, scikit-learn and
matplotlib). HyperSpy resolves ``module: pyxem_epdf.signals`` of the
extension yaml with ``getattr``, which goes through the same lazy lookup.
"""

import importlib

#: Public name → submodule defining it.
_LAZY = {
    "ReducedIntensity1DPlus": "reduced_intensity",
    "LazyReducedIntensity1DPlus": "reduced_intensity",
    "PDF1DPlus": "pdf",
    "LazyPDF1DPlus": "pdf",
    "azimuthal_profile": "profile",
    "from_profile": "profile",
    "calibrate_s": "scan",
    "compute_all": "_base",
    "descan": "scan",
    "detector_mask": "scan",
    "dose_map": "scan",
    "electrons_from_beam": "scan",
    "virtual_adf": "scan",
    "Descan": "scan",
    "ring_center": "scan",
    "scan_sum": "calibration",
    "find_beam_stop": "calibration",
    "fit_distortion": "calibration",
    "find_centers": "calibration",
    "calibrate_standard": "calibration",
    "calibrate_from_amorphous": "calibration",
    "set_geometry": "calibration",
}

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
    "Descan",
    "ring_center",
    "scan_sum",
    "find_beam_stop",
    "fit_distortion",
    "find_centers",
    "calibrate_standard",
    "calibrate_from_amorphous",
    "set_geometry",
]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(__all__) | {k for k in globals() if not k.startswith("__")})
