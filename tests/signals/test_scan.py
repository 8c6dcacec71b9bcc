"""Virtual ADF and dose maps on the embedded scan."""

import dask.array as da
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data


@pytest.fixture(scope="module")
def synth():
    return data.two_phase_composite(nav_shape=(6, 7), seed=4)


def test_vadf_equals_direct_annulus_sum(synth):
    dp = synth.signal
    kx = dp.axes_manager.signal_axes[0].axis
    ky = dp.axes_manager.signal_axes[1].axis
    y, x = np.meshgrid(ky, kx, indexing="ij")
    ring = (np.hypot(x, y) >= 1.5) & (np.hypot(x, y) < 2.5)
    expected = (dp.data * ring).sum(axis=(-2, -1))
    vadf = epdf.signals.virtual_adf(dp, (1.5, 2.5), subpixel=1)
    np.testing.assert_allclose(vadf.data, expected)
    assert vadf.axes_manager.signal_axes[0].units == "nm"
    assert vadf.data.shape == (6, 7)


def test_vadf_lazy(synth):
    lazy = synth.signal.as_lazy()
    vadf = epdf.signals.virtual_adf(lazy, (1.5, 2.5))
    assert isinstance(vadf.data, da.Array)
    np.testing.assert_allclose(vadf.data.compute(),
                               epdf.signals.virtual_adf(synth.signal, (1.5, 2.5)).data)


def test_dose_matches_generator_and_hand_calculation(synth):
    electrons, dose = epdf.signals.dose_map(synth.signal)
    p = synth.parameters
    expected_e = p.electrons_per_pattern + synth.C_true * np.prod(p.detector_shape)
    np.testing.assert_allclose(electrons.data.mean(), expected_e, rtol=0.005)
    area = np.pi * (10 * p.probe_diameter / 2) ** 2
    np.testing.assert_allclose(dose.data, electrons.data / area)
    assert dose.data.mean() == pytest.approx(p.dose, rel=0.01)
    # a 2-count-per-electron detector halves the electrons
    e2, _ = epdf.signals.dose_map(synth.signal, counts_per_electron=2.0)
    np.testing.assert_allclose(e2.data, electrons.data / 2)
    assert epdf.signals.electrons_from_beam(10.0, 1e-3) == pytest.approx(62415.09, rel=1e-6)


def test_errors(synth):
    with pytest.raises(ValueError, match="'s_range' must satisfy"):
        epdf.signals.virtual_adf(synth.signal, (2.5, 1.5))
    with pytest.raises(ValueError, match="contains no detector pixel"):
        epdf.signals.virtual_adf(synth.signal, (50.0, 60.0))
    bare = synth.signal.deepcopy()
    del bare.metadata.Acquisition_instrument.TEM.probe_diameter
    with pytest.raises(ValueError, match="'probe_diameter'"):
        epdf.signals.dose_map(bare)
    with pytest.raises(ValueError, match="must be > 0"):
        epdf.signals.electrons_from_beam(0.0, 1e-3)
