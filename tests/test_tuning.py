"""Interactive tuning: sliders drive the chain; values come back as parameters."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import tomllib

import pyxem_epdf as epdf
from pyxem_epdf import batch, data


@pytest.fixture(scope="module")
def region():
    synth = data.two_phase_composite(nav_shape=(8, 8), seed=11)
    ri = epdf.azimuthal_profile(synth.signal, npt=64, s_max=2.54)
    glass = synth.fractions[..., 1] > 0.9
    return ri, ri.sum_regions(glass), synth.phases[1].composition


def test_sliders_update_view_and_params(region):
    ri, summed, comp = region
    tuner = epdf.tune(summed, comp, s_range=(1.6, 2.5), b=0.8, s_min=0.18, r_max=10, r_step=0.02)
    try:
        g_before = tuner._lines["G"].get_ydata().copy()
        tuner.sliders["b"].set_val(0.4)
        tuner.sliders["s_lo"].set_val(1.4)
        tuner.sliders["s_min"].set_val(0.22)
        assert tuner.params["b"] == 0.4
        assert tuner.params["s_range"] == [1.4, 2.5]
        assert tuner.params["s_min"] == 0.22
        assert not np.allclose(tuner._lines["G"].get_ydata(), g_before)
        # what the view shows is what the chain gives with those values
        pdf = tuner.apply(summed, r_max=10, r_step=0.02)
        np.testing.assert_allclose(tuner._lines["G"].get_ydata(), pdf.data, rtol=1e-9, atol=1e-9)
        # also when s_min is far from 0.1 s_max (the polynomial window stays the chain's)
        tuner.sliders["s_min"].set_val(0.4)
        pdf = tuner.apply(summed, r_max=10, r_step=0.02)
        np.testing.assert_allclose(tuner._lines["G"].get_ydata(), pdf.data, rtol=1e-9, atol=1e-9)
        tuner.sliders["s_min"].set_val(0.22)
        # and it runs on the whole cube
        cube = tuner.apply(ri, r_max=10, r_step=0.02)
        assert cube.data.shape[:2] == (8, 8)
        # the values go straight into a batch configuration
        cfg = tomllib.loads(tuner.config_toml())
        cfg["chain"]["composition"] = comp
        assert batch.load_config(cfg)["chain"]["b"] == 0.4
    finally:
        plt.close(tuner.figure)


def test_invalid_window_reports_and_keeps_the_view(region):
    _, summed, comp = region
    tuner = epdf.tune(summed, comp)
    try:
        before = tuner._lines["G"].get_ydata().copy()
        tuner.sliders["s_lo"].set_val(2.6)  # above s_hi
        assert "s_range" in tuner.message
        np.testing.assert_array_equal(tuner._lines["G"].get_ydata(), before)
    finally:
        plt.close(tuner.figure)


def test_needs_one_profile(region):
    ri, _, comp = region
    with pytest.raises(ValueError, match="sum a region first"):
        epdf.tune(ri, comp)
