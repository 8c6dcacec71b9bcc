"""calibrate_standard on Au patterns cropped / off-centre / with and without beam stop.

Prints, per case, the s-per-pixel error (%), the reported 1σ (%), their ratio
and whether a warning was raised. Run: ``python benchmarks/calibrate_standard_cases.py``.
"""
import time
import warnings

import pyxem_epdf
from pyxem_epdf.signals import calibration as scal

TRUE = 0.04
CASES = [
    # name, gold_standard kwargs, crop (x0, x1, y0, y1) or None
    ("bs off-centre full", dict(distortion=(1.02, 30), beam_stop=(6, 3, 90), center=(62.2, 65.7)), None),
    ("bs off-centre crop y4:128", dict(distortion=(1.02, 30), beam_stop=(6, 3, 90), center=(62.2, 65.7)),
     (0, 128, 4, 128)),
    ("bs off-centre crop 124x124", dict(distortion=(1.02, 30), beam_stop=(6, 3, 90), center=(62.2, 65.7)),
     (2, 126, 4, 128)),
    ("bs centred full s1", dict(distortion=(1.02, 30), beam_stop=(6, 3, 90), seed=1), None),
    ("bs centred crop 120x120 s2", dict(distortion=(1.01, -20), beam_stop=(6, 3, 0), seed=2),
     (4, 124, 4, 124)),
    ("bs off-centre crop y0:120 s3", dict(distortion=(1.02, 60), beam_stop=(5, 2, 45), center=(66.3, 61.1),
                                         seed=3), (0, 128, 0, 120)),
    ("no bs centred full s4", dict(seed=4), None),
    ("no bs off-centre crop x6:128 s5", dict(distortion=(1.015, 10), center=(60.4, 63.2), seed=5),
     (6, 128, 0, 128)),
    ("no bs off-centre crop 116x116 s6", dict(distortion=(1.02, 75), center=(65.5, 62.5), seed=6),
     (6, 122, 8, 124)),
]


def run_case(kwargs, crop):
    g = pyxem_epdf.data.gold_standard(**kwargs)
    sig = g.signal if crop is None else g.signal.isig[crop[0]:crop[1], crop[2]:crop[3]]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        t = time.perf_counter()
        cal = scal.calibrate_standard(sig, show_progressbar=False)
        dt = time.perf_counter() - t
    err = (cal.s_per_pixel / TRUE - 1) * 100
    std = cal.s_per_pixel_std / TRUE * 100
    return err, std, [str(x.message)[:60] for x in w], dt


if __name__ == "__main__":
    print(f"{'case':34} {'err %':>9} {'1σ %':>8} {'|err|/σ':>8} {'t s':>6}  warnings")
    for name, kw, crop in CASES:
        err, std, warns, dt = run_case(kw, crop)
        print(f"{name:34} {err:9.3f} {std:8.3f} {abs(err) / std:8.2f} {dt:6.2f}  {len(warns)} {warns[:1]}")
