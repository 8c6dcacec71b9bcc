"""Regression: calibrate_standard on cropped / off-centre Au patterns (issue 16, req. 3).

A beam-stop mask grown over the 111 ring of a cropped pattern used to push the
true scale outside the indexing search: −9.1 % on the 128 × 124 crop of the
off-centre pattern, −8.9 % on the centred pattern without beam stop. Every case
must now be within 0.2 %, with the reported 1σ covering the error (3σ).
"""

import numpy as np
import pytest

from pyxem_epdf.data import gold_standard
from pyxem_epdf.signals import calibration as scal

BS = dict(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0), center=(62.2, 65.7))
CASES = {
    # name: (gold_standard keywords, crop (x0, x1, y0, y1) or None)
    "bs-offcentre-full": (BS, None),
    "bs-offcentre-crop-128x124": (BS, (0, 128, 4, 128)),
    "bs-offcentre-crop-124x124": (BS, (2, 126, 4, 128)),
    "bs-centred-full": (dict(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0), seed=1), None),
    "bs-centred-crop-120": (dict(distortion=(1.01, -20.0), beam_stop=(6, 3, 0.0), seed=2),
                            (4, 124, 4, 124)),
    "bs-offcentre-crop-128x120": (dict(distortion=(1.02, 60.0), beam_stop=(5, 2, 45.0),
                                       center=(66.3, 61.1), seed=3), (0, 128, 0, 120)),
    "nobs-centred-full": (dict(seed=4), None),
    "nobs-offcentre-crop-122x128": (dict(distortion=(1.015, 10.0), center=(60.4, 63.2), seed=5),
                                    (6, 128, 0, 128)),
    "nobs-offcentre-crop-116": (dict(distortion=(1.02, 75.0), center=(65.5, 62.5), seed=6),
                                (6, 122, 8, 124)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_calibrate_standard_within_0p2_percent_and_covered(name):
    kwargs, crop = CASES[name]
    au = gold_standard(**kwargs)
    sig = au.signal if crop is None else au.signal.isig[crop[0]:crop[1], crop[2]:crop[3]]
    res = scal.calibrate_standard(sig, show_progressbar=False)   # no warning (filterwarnings)
    err = res.s_per_pixel / au.s_scale - 1
    assert abs(err) < 0.002, f"{name}: {err * 100:.3f} %"
    assert 0 < res.s_per_pixel_std < 0.001 * au.s_scale
    assert abs(res.s_per_pixel - au.s_scale) < 3 * res.s_per_pixel_std
    # the pattern centre in the cropped frame
    c = au.center if kwargs.get("center") else (63.5, 63.5)
    x0, y0 = (0, 0) if crop is None else (crop[0], crop[2])
    assert res.ellipse.center == pytest.approx((c[0] - x0, c[1] - y0), abs=0.1)
    # the runner-up assignment is far behind
    assert all(dbic > 10 for _k, dbic in res.rings.alternatives)
    assert res.as_dict()["rings_used"] == len(res.rings.ring_s) >= 20


def test_calibrate_standard_cropped_input_not_modified():
    au = gold_standard(**BS)
    sig = au.signal.isig[:, 4:128]
    before = sig.data.copy()
    scal.calibrate_standard(sig, show_progressbar=False)
    np.testing.assert_array_equal(sig.data, before)


def test_calibrate_standard_center_start_and_bad_center():
    kwargs, crop = CASES["nobs-offcentre-crop-122x128"]
    au = gold_standard(**kwargs)
    sig = au.signal.isig[crop[0]:crop[1], crop[2]:crop[3]]
    res = scal.calibrate_standard(sig, center=(54.0, 63.0), show_progressbar=False)
    assert res.ellipse.center == pytest.approx((54.4, 63.2), abs=0.1)
    assert abs(res.s_per_pixel / au.s_scale - 1) < 0.002
    with pytest.raises(ValueError, match="'center'"):
        scal.calibrate_standard(sig, center=(np.nan, 3.0), show_progressbar=False)


def test_calibrate_standard_ambiguous_d_spacings_warn():
    # only the 111 and 222 d-spacings of gold: k and k/2 both index the rings
    au = gold_standard(**BS)
    d111 = 4.0782 / np.sqrt(3)
    with pytest.warns(UserWarning, match="Ambiguous ring assignment"):
        scal.calibrate_standard(au.signal, d_spacings=[d111, d111 / 2, d111 / 4],
                                show_progressbar=False)
