"""Registration with HyperSpy: our classes resolve, pyxem's are untouched."""

import warnings

import hyperspy.api as hs
import numpy as np
import pytest
from hyperspy.extensions import ALL_EXTENSIONS
from pyxem.signals import PairDistributionFunction1D, ReducedIntensity1D

from pyxem_epdf.signals import (
    LazyPDF1DPlus,
    LazyReducedIntensity1DPlus,
    PDF1DPlus,
    ReducedIntensity1DPlus,
)

OURS = {
    "epdf_reduced_intensity": (ReducedIntensity1DPlus, LazyReducedIntensity1DPlus),
    "epdf_pdf": (PDF1DPlus, LazyPDF1DPlus),
}


def test_listed_in_known_signal_types(capsys):
    hs.print_known_signal_types()
    printed = capsys.readouterr().out
    for name in ("ReducedIntensity1DPlus", "PDF1DPlus"):
        assert name[:20] in printed


@pytest.mark.parametrize("signal_type", sorted(OURS))
def test_set_signal_type_and_lazy(signal_type):
    eager_cls, lazy_cls = OURS[signal_type]
    s = hs.signals.Signal1D(np.zeros((2, 10)))
    s.set_signal_type(signal_type)
    assert type(s) is eager_cls
    assert type(s.as_lazy()) is lazy_cls


def test_signal_types_unique():
    signals = ALL_EXTENSIONS["signals"]
    for signal_type in OURS:
        owners = {
            v["module"]
            for v in signals.values()
            if v["signal_type"] == signal_type or signal_type in v.get("signal_type_aliases", [])
        }
        assert owners == {"pyxem_epdf.signals"}


def test_subclasses_of_pyxem():
    assert issubclass(ReducedIntensity1DPlus, ReducedIntensity1D)
    assert issubclass(PDF1DPlus, PairDistributionFunction1D)


@pytest.mark.parametrize(
    "signal_type, cls",
    [("reduced_intensity", ReducedIntensity1D), ("pair_distribution_function", PairDistributionFunction1D)],
)
def test_pyxem_types_still_resolve_to_pyxem_without_warnings(signal_type, cls, caplog):
    s = hs.signals.Signal1D(np.zeros(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.set_signal_type(signal_type)
    assert type(s) is cls
    assert "more than one" not in caplog.text
