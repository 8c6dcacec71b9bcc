"""Detector masks: gap layouts by name, hot/dead statistics without the excluded pixels."""

import numpy as np
import pytest

from pyxem_epdf.physics import calibration as cal
from pyxem_epdf.physics import detector


@pytest.mark.parametrize("name, shape, n_gap_rows, n_gap_cols", [
    ("eiger_500k", (514, 1030), 2, 6),
    ("EIGER X 1M", (1065, 1030), 2 + 37 + 2, 6),
    ("eiger-4m", (2167, 2070), 4 * 2 + 3 * 37, 2 * 6 + 10),
    ("Eiger 9M", (3269, 3110), 6 * 2 + 5 * 37, 3 * 6 + 2 * 10),
    ("eiger_16m", (4371, 4150), 8 * 2 + 7 * 37, 4 * 6 + 3 * 10),
    ("Merlin-Quad", (515, 515), 3, 3),
    ("medipix_quad", (515, 515), 3, 3),
    ("medipix", (256, 256), 0, 0),
    ("merlin", (256, 256), 0, 0),
    ("arina", (192, 192), 0, 0),
    ("quadro", (514, 514), 2, 2),
])
def test_gap_mask_layouts(name, shape, n_gap_rows, n_gap_cols):
    m = detector.gap_mask(name, shape=shape)
    assert m.shape == shape
    assert int(m.all(axis=1).sum()) == n_gap_rows      # full gap rows
    assert int(m.all(axis=0).sum()) == n_gap_cols      # full gap columns
    rows, cols = shape
    assert int(m.sum()) == n_gap_rows * cols + n_gap_cols * rows - n_gap_rows * n_gap_cols


def test_eiger_chips_are_256_squares_between_the_gaps():
    m = detector.gap_mask("eiger_4m")
    good_rows = ~m.all(axis=1)
    good_cols = ~m.all(axis=0)

    def runs(flags):
        edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(int), 0]))
        return (edges[1::2] - edges[::2]).tolist()

    assert runs(good_rows) == [256] * 8 and runs(good_cols) == [256] * 8


def test_gap_mask_agrees_with_the_calibration_layouts():
    for name in cal.DETECTORS:
        np.testing.assert_array_equal(detector.gap_mask(name), cal.detector_gaps(name))
    np.testing.assert_array_equal(detector.gap_mask("merlin_quad"), detector.quad_gap_mask())


def test_gap_mask_errors():
    with pytest.raises(ValueError, match="Unknown detector 'pilatus'"):
        detector.gap_mask("pilatus")
    with pytest.raises(ValueError, match="binned or cropped"):
        detector.gap_mask("eiger_1m", shape=(532, 515))
    with pytest.raises(ValueError, match="'modules'"):
        detector.eiger_layout((0, 1))


def test_bad_pixels_leaves_excluded_pixels_out_of_the_ring_statistics():
    """A dark excluded sector covering > half of the outer rings: with it in the
    statistics the ring median drops to 0 and good pixels read hot."""
    rng = np.random.default_rng(3)
    y, x = np.mgrid[:96, :96]
    r = np.hypot(x - 47.5, y - 47.5)
    img = rng.poisson(40.0 * np.exp(-r / 40)).astype(float)
    dark = np.arctan2(y - 47.5, x - 47.5) > -0.6 * np.pi   # 80 % of every ring
    img[dark] = 0.0
    img[20, 30] = 1000.0                                      # a real hot pixel, not in `dark`
    assert not dark[20, 30]
    hot_in, _ = detector.bad_pixels(img, r)                   # `dark` counted
    hot_out, dead_out = detector.bad_pixels(img, r, exclude=dark)
    good = ~dark
    assert (hot_in & good).sum() > 0.5 * good.sum()           # the failure this guards against
    assert np.argwhere(hot_out).tolist() == [[20, 30]]
    assert not (dead_out | hot_out)[dark].any()
