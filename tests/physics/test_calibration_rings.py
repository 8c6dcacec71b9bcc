"""Ring indexing of calibrate_rings: hidden first rings, k → 2k, ambiguity warnings."""

import numpy as np
import pytest

from pyxem_epdf.data import gold_standard
from pyxem_epdf.physics import calibration as cal


@pytest.fixture(scope="module")
def gold():
    au = gold_standard(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0), center=(62.2, 65.7))
    img = au.signal.data
    mask = cal.beam_stop_mask(img)
    fit = cal.fit_ellipse(img, (9, 60), mask=mask)
    return au, img, mask, fit


@pytest.mark.parametrize("r_min", [8.0, 11.5, 13.0, 18.0])
def test_first_rings_hidden_by_r_min_are_indexed(gold, r_min):
    # r_min 11.5 hides 111 (10.6 px), 13 also 200 (12.3 px), 18 also 220 (17.3 px):
    # the old comb search assumed 111 beyond r_min and missed by up to -9 %
    au, img, mask, fit = gold
    _, d, _ = cal.fcc_reflections(4.0782, 3.0)
    res = cal.calibrate_rings(img, d, center=fit.center, distortion=fit.matrix, mask=mask,
                              r_min=r_min)
    assert abs(res.s_per_pixel / au.s_scale - 1) < 0.002
    assert abs(res.s_per_pixel - au.s_scale) < 3 * res.s_per_pixel_std
    assert res.ring_s.min() * 1 / res.s_per_pixel >= r_min
    # k -> 2k (every fcc ring is also a 2(hkl) reflection) is among the losers
    assert res.alternatives and min(dbic for _k, dbic in res.alternatives) > 10


def test_pixel_area_radius_removes_the_small_ring_bias():
    # rings rendered with 8 x 8 sub-pixel sampling: the pixel average puts a ring of
    # radius R at pixel-centre radius R - 1/(24 R); the model accounts for it
    n, k, sub = 96, 0.04, 8
    off = (np.arange(sub) + 0.5) / sub - 0.5
    y, x = np.mgrid[0:n, 0:n].astype(float)
    c = (n - 1) / 2
    s_ring = np.array([0.4, 0.55, 0.8, 1.0, 1.3])
    img = np.zeros((n, n))
    for dy in off:
        for dx in off:
            r = np.hypot(x + dx - c, y + dy - c)
            img += (50 + sum(400 * np.exp(-0.5 * ((r - s / k) / 0.6) ** 2) for s in s_ring)) / sub**2
    res = cal.calibrate_rings(img, 1 / s_ring, r_min=5, s_per_pixel=0.041)
    assert abs(res.s_per_pixel / k - 1) < 2e-5


def test_ambiguous_assignment_warns():
    # two rings at s = 0.5 and 1.0 Å⁻¹ (25 and 50 px), reflections 0.5, 1, 2 Å⁻¹: k = 0.02
    # and k = 0.04 (rings at 12.5 (empty), 25, 50 px) explain the profile alike; that must
    # not pass silently
    r = cal.corrected_radius((128, 128))
    img = 20 + 100 * np.exp(-r / 30)
    for s in (0.5, 1.0):
        img += 60 * np.exp(-0.5 * ((r - s / 0.02) / 0.8) ** 2)
    with pytest.warns(UserWarning, match="Ambiguous ring assignment"):
        res = cal.calibrate_rings(img, 1 / np.array([0.5, 1.0, 2.0]), r_min=6)
    ks = sorted([res.s_per_pixel] + [k for k, _ in res.alternatives[:1]])
    assert ks == pytest.approx([0.02, 0.04], rel=1e-3)


def test_alternatives_empty_with_a_start(gold):
    au, img, mask, fit = gold
    _, d, _ = cal.fcc_reflections(4.0782, 3.0)
    res = cal.calibrate_rings(img, d, center=fit.center, distortion=fit.matrix, mask=mask,
                              r_min=9, s_per_pixel=0.0415)
    assert res.alternatives == () and abs(res.s_per_pixel / au.s_scale - 1) < 0.002
