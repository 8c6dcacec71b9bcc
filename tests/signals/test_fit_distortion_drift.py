"""fit_distortion(beam_shift=...): the ellipse of the drift-corrected scan sum."""

import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf.physics import geometry
from pyxem_epdf.signals import calibration

BAND = (9, 60)


def _shifts(synth):
    """The true pattern centres in pyxem's beam-shift convention (n/2 − centre)."""
    ny, nx = synth.signal.data.shape[-2:]
    c = synth.parameters.beam_shifts + [(nx - 1) / 2, (ny - 1) / 2]
    return c, np.stack([nx / 2 - c[..., 0], ny / 2 - c[..., 1]], -1)


@pytest.fixture(scope="module")
def drifting():
    return epdf.data.composite(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0),
                               descan=(4.0, 0.0), seed=1)


def test_corrected_sum_removes_the_drift_bias(drifting):
    mask = drifting.parameters.beam_stop_mask
    centres, shifts = _shifts(drifting)
    plain = calibration.fit_distortion(drifting.signal, BAND, mask=mask)
    fixed = calibration.fit_distortion(drifting.signal, BAND, mask=mask, beam_shift=shifts)
    # plain sum: the 4 px smear turns the major axis by > 5σ (measured 21.5° ± 1.2°)
    assert abs(plain.angle - 30.0) > 5 * plain.angle_std
    # drift-corrected: ratio and angle within 2σ of the truth (measured 1.0205 ± 0.0013, 30.0°)
    assert abs(fixed.axis_ratio - 1.02) < 2 * fixed.axis_ratio_std + 1e-3
    assert abs(fixed.angle - 30.0) < 2 * fixed.angle_std
    # the corrected sum is centred on the mean pattern centre (true centres given)
    np.testing.assert_allclose(fixed.center, centres.reshape(-1, 2).mean(0), atol=0.1)


def test_descan_result_lazy_and_binned_map(drifting):
    dp = drifting.signal
    mask = drifting.parameters.beam_stop_mask
    result = epdf.signals.descan(dp, method="full")  # beam stop: the window refuses
    eager = calibration.fit_distortion(dp, BAND, mask=mask, beam_shift=result, n_bootstrap=20)
    same = calibration.fit_distortion(dp, BAND, mask=mask, beam_shift=result.plane,
                                      n_bootstrap=20)
    lazy = calibration.fit_distortion(dp.as_lazy(), BAND, mask=mask, beam_shift=result.plane,
                                      n_bootstrap=20)
    assert eager.axis_ratio == same.axis_ratio
    assert lazy.axis_ratio == pytest.approx(eager.axis_ratio, abs=1e-9)
    assert lazy.angle == pytest.approx(eager.angle, abs=1e-6)
    np.testing.assert_allclose(lazy.center, eager.center, atol=1e-7)
    # a 2x2-binned scan with the full-resolution centre map: the shifts averaged per bin
    binned = dp.rebin(scale=(2, 2, 1, 1))
    _, shifts = _shifts(drifting)
    fb = calibration.fit_distortion(binned, BAND, mask=mask, beam_shift=shifts, n_bootstrap=20)
    assert abs(fb.axis_ratio - 1.02) < 3 * fb.axis_ratio_std + 1e-3


def test_pattern_centres_match_the_pure_function(drifting):
    dp = drifting.signal
    centres, shifts = _shifts(drifting)
    np.testing.assert_allclose(calibration._pattern_centres_px(dp, shifts), centres, atol=1e-9)
    total, cover = geometry.centred_sum(np.asarray(dp.data), centres)
    assert cover.max() == 400 and total.sum() < dp.data.sum()  # edge strip leaves the canvas


def test_bad_input(drifting):
    dp = drifting.signal
    _, shifts = _shifts(drifting)
    with pytest.raises(ValueError, match="not both"):
        calibration.fit_distortion(dp, BAND, beam_shift=shifts, summed=np.ones((128, 128)))
    with pytest.raises(ValueError, match="'beam_shift' must have shape"):
        calibration.fit_distortion(dp, BAND, beam_shift=shifts[:3])
    uncalibrated = dp.deepcopy()
    for axis in uncalibrated.axes_manager.signal_axes:
        axis.units = "px"
    with pytest.raises(ValueError, match="'beam_shift' is read in the detector's s calibration"):
        calibration.fit_distortion(uncalibrated, BAND, beam_shift=shifts)
    # the plain fit needs no calibration and the input is not modified
    calibration.fit_distortion(uncalibrated, BAND, n_bootstrap=10)
    assert uncalibrated.axes_manager.signal_axes[0].units == "px"
