"""Pure numerical core of the ePDF chain (NumPy/SciPy/dask only, no HyperSpy).

Every function takes arrays (NumPy or dask) and the signal-axis *values*,
works along ``axis=-1`` over any number of leading (navigation) dimensions,
never modifies its inputs and returns new arrays: NumPy in gives NumPy out,
dask in gives dask out.

Submodules are imported on first access (``pyxem_epdf.physics.fit`` works
after ``import pyxem_epdf``), so importing this package costs nothing.
"""

import importlib

#: Submodules reachable as attributes without an explicit import.
_SUBMODULES = (
    "chain",
    "corrections",
    "damping",
    "detector",
    "fit",
    "integration",
    "interface",
    "models",
    "peaks",
    "registration",
    "scattering",
    "structure_pdf",
    "transform",
    "units",
    "unmixing",
)


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(_SUBMODULES) | {k for k in globals() if not k.startswith("__")})
