"""pyxem-epdf: STEM electron pair distribution function (ePDF) mapping.

A HyperSpy extension that turns azimuthally integrated 4D-STEM diffraction
profiles I(s) into reduced intensities φ(s) and reduced pair distribution
functions G(r) for every probe position at once, eagerly or lazily, following
Laulainen et al., Nanoscale 14, 16524 (2022).

Importing this package is cheap: the signal classes and numerical modules are
loaded on first access.
"""

import importlib

__version__ = "0.1.0"

_LAZY = {
    "ReducedIntensity1DPlus": "pyxem_epdf.signals",
    "LazyReducedIntensity1DPlus": "pyxem_epdf.signals",
    "PDF1DPlus": "pyxem_epdf.signals",
    "LazyPDF1DPlus": "pyxem_epdf.signals",
    "from_profile": "pyxem_epdf.signals",
    "azimuthal_profile": "pyxem_epdf.signals",
    "parse_composition": "pyxem_epdf.physics.scattering",
    "physics": "pyxem_epdf.physics",
    "signals": "pyxem_epdf.signals",
    "compute_all": "pyxem_epdf.signals",
    "virtual_adf": "pyxem_epdf.signals",
    "descan": "pyxem_epdf.signals",
    "detector_mask": "pyxem_epdf.signals",
    "calibrate_s": "pyxem_epdf.signals",
    "electrons_from_beam": "pyxem_epdf.signals",
    "dose_map": "pyxem_epdf.signals",
    "data": "pyxem_epdf.data",
    "mapping": "pyxem_epdf.mapping",
    "eds": "pyxem_epdf.eds",
    "repeat": "pyxem_epdf.repeat",
    "compare_scans": "pyxem_epdf.repeat",
    "xray": "pyxem_epdf.xray",
    "structure": "pyxem_epdf.structure",
    "tune": "pyxem_epdf.tuning",
    "plot_pdfs": "pyxem_epdf.mapping",
    "interface_width": "pyxem_epdf.mapping",
    "boundary_width": "pyxem_epdf.mapping",
    "find_inclusions": "pyxem_epdf.mapping",
    "quantify": "pyxem_epdf.quantify",
    "pdf_sigma": "pyxem_epdf.quantify",
    "report": "pyxem_epdf.report",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        return module if module.__name__.endswith(name) else getattr(module, name)
    raise AttributeError(f"module 'pyxem_epdf' has no attribute {name!r}")


def __dir__():
    return __all__
