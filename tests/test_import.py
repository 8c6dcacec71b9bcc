"""Start-up stays light: what importing the package pulls in (structure, not timing).

Each check runs in a fresh interpreter (``sys.modules`` of the test process
already holds everything). HyperSpy's own import is ~0.1–0.3 s; pyxem's is
~2 s (its ``__init__`` loads orix, diffsims, scikit-learn and matplotlib),
numba's, dask's and scikit-learn's 0.1–0.3 s each. None of them may be
imported by ``import pyxem_epdf`` or by the two subpackages' ``__init__``;
they load when a function that needs them runs. The timing lives in
``benchmarks/bench_route.py``.
"""

import json
import subprocess
import sys

import pytest

#: Imported by none of the entry points below.
HEAVY = ("pyxem", "numba", "sklearn", "matplotlib", "dask", "orix", "diffsims", "scipy")


def _loaded_after(code):
    """Top-level packages of HEAVY (and pyxem_epdf submodules) present after ``code``."""
    probe = (
        "import json, sys\n"
        f"{code}\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "ours = sorted(m for m in sys.modules if m.startswith('pyxem_epdf'))\n"
        "print(json.dumps([heavy, ours]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("statement", [
    "import pyxem_epdf",
    "import pyxem_epdf.signals",
    "import pyxem_epdf.physics",
    "import pyxem_epdf; pyxem_epdf.__version__; dir(pyxem_epdf); dir(pyxem_epdf.signals)",
])
def test_package_import_is_light(statement):
    heavy, ours = _loaded_after(statement)
    assert heavy == []
    # no submodule with numerics or signal classes is loaded either
    assert set(ours) <= {"pyxem_epdf", "pyxem_epdf.signals", "pyxem_epdf.physics"}


def test_hyperspy_registers_the_extension_without_importing_it():
    # HyperSpy reads our yaml at its import and imports pyxem_epdf.signals only
    # when a signal of our type is created
    heavy, ours = _loaded_after(
        "import numpy as np, hyperspy.api as hs\n"
        "from hyperspy.extensions import ALL_EXTENSIONS\n"
        "assert 'PDF1DPlus' in ALL_EXTENSIONS['signals']\n"
        "hs.signals.Signal1D(np.ones((2, 5)))"
    )
    assert ours == []
    assert "pyxem" not in heavy


def test_signal_type_resolves_through_the_lazy_names():
    heavy, ours = _loaded_after(
        "import numpy as np, hyperspy.api as hs\n"
        "s = hs.signals.Signal1D(np.ones((2, 5)))\n"
        "s.set_signal_type('epdf_pdf')\n"
        "assert type(s).__name__ == 'PDF1DPlus', type(s)"
    )
    assert "pyxem_epdf.signals.pdf" in ours
    assert "pyxem" in heavy  # PDF1DPlus subclasses pyxem's PairDistributionFunction1D


def test_lazy_names_resolve_to_their_definitions():
    import pyxem_epdf
    import pyxem_epdf.physics
    import pyxem_epdf.signals as signals

    assert sorted(signals._LAZY) == sorted(signals.__all__)
    for name in signals.__all__:
        obj = getattr(signals, name)
        assert obj.__module__ == f"pyxem_epdf.signals.{signals._LAZY[name]}"
        assert name in dir(signals)
    for name in pyxem_epdf.__all__:
        assert getattr(pyxem_epdf, name) is not None
    for name in pyxem_epdf.physics._SUBMODULES:
        assert getattr(pyxem_epdf.physics, name).__name__ == f"pyxem_epdf.physics.{name}"
    assert pyxem_epdf.descan is signals.descan


@pytest.mark.parametrize("module", ["pyxem_epdf", "pyxem_epdf.signals", "pyxem_epdf.physics"])
def test_unknown_attribute_names_the_module(module):
    import importlib

    mod = importlib.import_module(module)
    with pytest.raises(AttributeError, match=f"module '{module}' has no attribute 'nope'"):
        mod.nope  # noqa: B018
