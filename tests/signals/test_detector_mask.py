"""detector_mask: user mask out of the hot/dead statistics, a precomputed scan sum, gaps by name."""

import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data
from pyxem_epdf.physics import detector

from ..conftest import ComputeCounter


@pytest.fixture(scope="module")
def wide_arm():
    """Composite with a wide beam-stop arm (12 px disc, 40 px arm at 45°): dark pixels
    cover most of the corner rings."""
    return data.composite(nav_shape=(8, 8), beam_stop=(12, 40, 45.0), seed=1)


def test_user_mask_is_left_out_of_the_hot_dead_statistics(wide_arm):
    dp = wide_arm.signal.deepcopy()
    stop = wide_arm.parameters.beam_stop_mask
    good = ~stop
    # the behaviour before: the user's (dark) pixels inside the ring statistics
    summed = dp.data.sum((0, 1), dtype=float)
    s_px = np.hypot(*np.meshgrid(np.arange(128) - 63.5, np.arange(128) - 63.5, indexing="ij"))
    old_hot, old_dead = detector.bad_pixels(summed, s_px)
    false_before = int(((old_hot | old_dead) & good).sum())
    assert false_before > 100                         # several % of the good pixels
    mask, report = epdf.signals.detector_mask(dp, user_mask=stop)
    assert int((mask & good).sum()) == 0              # no good pixel flagged
    assert report["hot"] == report["dead"] == 0 and report["user"] == int(stop.sum())
    assert report["total"] == int(stop.sum())
    # real bad pixels on rings crossing the mask are still found
    hot = (40, 100)                                   # ring ~42 px, crossed by the arm
    dead = tuple(int(v) for v in np.argwhere(good & (s_px > 15) & (s_px < 16))[0])
    assert good[hot] and stop[np.abs(s_px - s_px[dead]) < 0.5].any()
    dp.data[..., hot[0], hot[1]] = 40
    dp.data[..., dead[0], dead[1]] = 0
    mask, report = epdf.signals.detector_mask(dp, user_mask=stop)
    assert {tuple(p) for p in np.argwhere(mask & good)} == {hot, dead}
    assert report["hot"] == 1 and report["dead"] == 1


def test_summed_pattern_is_not_recomputed(wide_arm, tmp_path):
    path = tmp_path / "scan.hspy"
    wide_arm.signal.save(path)
    lazy = hs.load(path, lazy=True)
    stop = wide_arm.parameters.beam_stop_mask
    eager_mask, eager_report = epdf.signals.detector_mask(wide_arm.signal, user_mask=stop,
                                                          beam_stop_radius=0.3)
    summed = epdf.signals.scan_sum(lazy, show_progressbar=False)
    with ComputeCounter() as counter:
        mask, report = epdf.signals.detector_mask(lazy, user_mask=stop, beam_stop_radius=0.3,
                                                  summed=summed)
    assert counter.runs == 0                          # the scan is not read again
    np.testing.assert_array_equal(mask, eager_mask)
    assert report == eager_report
    with ComputeCounter() as counter:
        again, _ = epdf.signals.detector_mask(lazy, user_mask=stop, beam_stop_radius=0.3,
                                              show_progressbar=False)
    assert counter.runs == 1
    np.testing.assert_array_equal(again, eager_mask)
    with pytest.raises(ValueError, match="'summed' must be a real pattern of the detector"):
        epdf.signals.detector_mask(lazy, summed=summed[:64])


def test_detector_gaps_by_name():
    synth = data.composite(nav_shape=(2, 2), detector_shape=(515, 515), s_scale=0.01, seed=2)
    mask, report = epdf.signals.detector_mask(synth.signal, detector="Merlin-Quad")
    gaps = detector.gap_mask("merlin_quad")
    assert report["gaps"] == int(gaps.sum()) == 3081
    assert mask[gaps].all()
    with pytest.raises(ValueError, match="binned or cropped"):
        epdf.signals.detector_mask(data.composite(nav_shape=(2,), seed=0).signal,
                                   detector="merlin_quad")
