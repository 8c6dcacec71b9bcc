"""descan(method="window"), the default: as accurate as pyxem's full-frame centre of mass on
the composite, lazy == eager, the guard recorded in metadata and warned about."""

import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data


@pytest.fixture(scope="module")
def drifting():
    return data.two_phase_composite(nav_shape=(12, 12), descan=(4.0, -4.0), dose=2.5, seed=3)


def _truth(synth):
    return 0.5 - synth.parameters.beam_shifts  # pyxem's convention (centre at n/2)


def _rms(a, b):
    return float(np.sqrt(np.nanmean((np.asarray(a) - b) ** 2)))


def test_window_is_as_accurate_as_the_full_frame_and_records_the_window(drifting):
    dp = drifting.signal
    window = epdf.signals.descan(dp)
    full = epdf.signals.descan(dp, method="full")
    truth = _truth(drifting)
    assert _rms(window.measured.data, truth) <= _rms(full.measured.data, truth)
    assert _rms(window.plane.data, truth) < 0.01 and _rms(full.plane.data, truth) < 0.01
    md = window.plane.metadata.ePDF.descan
    assert md.method == "window" and md.fraction == 0.01 and md.margin == 3.0
    assert (md.n_window, md.n_fallback, md.n_no_disc) == (144, 0, 0)
    rows, cols = md.window_rows, md.window_cols
    assert (rows[1] - rows[0]) * (cols[1] - cols[0]) < 0.05 * 128 * 128
    for res in (window, full):  # the same three signals either way
        assert type(res.measured).__name__ == type(res.plane).__name__ == "BeamShift"
        assert res.residual.metadata.ePDF.descan.method == res.plane.metadata.ePDF.descan.method
        assert res.plane.metadata.Shifts.signal_axes[0].scale == \
            dp.axes_manager.signal_axes[0].scale
        assert res.plane.axes_manager._get_axes_dicts()[:2] == \
            dp.axes_manager._get_navigation_axes_dicts()
    assert full.plane.metadata.ePDF.descan.method == "full"
    assert "n_fallback" not in full.plane.metadata.ePDF.descan


def test_lazy_equals_eager_and_binned(drifting):
    dp = drifting.signal
    eager = epdf.signals.descan(dp)
    lazy = epdf.signals.descan(dp.as_lazy(), show_progressbar=False)
    np.testing.assert_array_equal(lazy.measured.data, eager.measured.data)
    np.testing.assert_array_equal(lazy.plane.data, eager.plane.data)
    assert lazy.plane.metadata.ePDF.descan.as_dictionary() == \
        eager.plane.metadata.ePDF.descan.as_dictionary()
    binned = dp.rebin(scale=(2, 2, 1, 1))
    b = epdf.signals.descan(binned)
    truth = _truth(drifting).reshape(6, 2, 6, 2, 2).mean(axis=(1, 3))
    assert _rms(b.plane.data, truth) < 0.01
    assert b.plane.metadata.ePDF.descan.n_window == 36


def test_a_pattern_without_disc_is_nan_and_warned(drifting):
    import pyxem as pxm

    frames = np.array(drifting.signal.data)
    frames[5, 7, 54:74, 54:74] = 0            # a beam stop over this pattern's disc
    dp = pxm.signals.ElectronDiffraction2D(frames)
    with pytest.warns(UserWarning, match="1 of 144 patterns show no direct-beam disc"):
        res = epdf.signals.descan(dp)
    assert np.all(np.isnan(res.measured.data[5, 7]))
    assert np.all(np.isfinite(res.plane.data))
    assert res.plane.metadata.ePDF.descan.n_no_disc == 1
    truth = _truth(drifting)
    assert _rms(res.plane.data, truth) < 0.01


def test_beam_stop_scan_is_an_error_not_a_wrong_centre():
    synth = data.composite(nav_shape=(4, 4), beam_stop=(6.0, 3.0, 45.0), descan=(2.0, 1.0))
    with pytest.raises(ValueError, match="No direct-beam disc.*ring_cent"):
        epdf.signals.descan(synth.signal)
    # the full frame (pyxem's semantics) gives a number, off by a pixel
    full = epdf.signals.descan(synth.signal, method="full")
    assert _rms(full.plane.data, _truth(synth)) > 0.2


def test_bad_arguments(drifting):
    dp = drifting.signal.inav[:3, :3]
    with pytest.raises(ValueError, match="'method' must be one of"):
        epdf.signals.descan(dp, method="com")
    with pytest.raises(ValueError, match="apply to method='window' only"):
        epdf.signals.descan(dp, method="full", fraction=0.1)
    with pytest.raises(ValueError, match="'fraction' must lie in"):
        epdf.signals.descan(dp, fraction=2)
