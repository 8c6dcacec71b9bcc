"""Random sweep of calibrate_standard: centre ±4 px, crops up to 10 px a side,
ellipticity 0–3 %, beam stop on/off, 24 seeds. Prints the worst |error| and
|error|/σ and the warnings. Run: ``python benchmarks/calibrate_standard_sweep.py [n]``.
"""
import sys
import warnings

import numpy as np

import pyxem_epdf
from pyxem_epdf.signals import calibration as scal

n = int(sys.argv[1]) if len(sys.argv) > 1 else 24
rng = np.random.default_rng(16)
errs, pulls, nwarn, fails = [], [], 0, []
for seed in range(n):
    c = tuple(63.5 + rng.uniform(-4, 4, 2))
    dist = (1 + rng.uniform(0, 0.03), rng.uniform(0, 180))
    bs = (rng.uniform(4, 7), rng.uniform(1, 3), rng.uniform(0, 180)) if seed % 2 else None
    crop = rng.integers(0, 11, 4)
    g = pyxem_epdf.data.gold_standard(center=c, distortion=dist, beam_stop=bs, seed=seed)
    sig = g.signal.isig[int(crop[0]):128 - int(crop[1]), int(crop[2]):128 - int(crop[3])]
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            cal = scal.calibrate_standard(sig, show_progressbar=False)
        except ValueError as exc:
            fails.append((seed, str(exc)[:80]))
            continue
    nwarn += bool(w)
    e = (cal.s_per_pixel / 0.04 - 1) * 100
    errs.append(e)
    pulls.append(abs(cal.s_per_pixel - 0.04) / cal.s_per_pixel_std)
    flag = "  <-- warned" if w else ""
    print(f"seed {seed:2d} c=({c[0]:.1f},{c[1]:.1f}) bs={'y' if bs else 'n'} crop={crop.tolist()} "
          f"err {e:8.3f} %  1σ {cal.s_per_pixel_std / 0.04 * 100:.3f} %  pull {pulls[-1]:.2f}{flag}")
errs = np.abs(errs)
print(f"n={len(errs)}  max|err| {errs.max():.3f} %  median {np.median(errs):.3f} %  "
      f"max pull {max(pulls):.2f}  >0.2 %: {(errs > 0.2).sum()}  warned {nwarn}  errors {fails}")
