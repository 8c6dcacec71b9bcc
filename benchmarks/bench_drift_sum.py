"""Ellipse fit on the plain vs the drift-corrected scan sum (issue 16, requirement 2).

Composite (20 x 20 scan, 128² detector, 10 e⁻/Å², 2 % ellipticity at 30°, rod
beam stop) with a linear descan of d px along x; the fit band
(9, 60) px. Prints the fitted axis ratio and angle with their 1σ bootstrap
errors for: the plain sum, the sum about each pattern's true centre
("nearest" and "bilinear"), and about the centres of ``descan()``'s plane (the
documented route: with this beam stop its centre of mass is unreliable) and
of ``find_centers`` (ring centres). Then the same on 80 exactly rendered
noise-free patterns (analytic rings about each pattern's own centre, no
interpolation: isolates the sum's own error from the composite's bilinear
pattern shift) and noise-free composites. Last the cost of each sum relative
to the plain sum.

    PYTHONPATH=. python benchmarks/bench_drift_sum.py [seeds]
"""

import sys
import time

import dask
import numpy as np

import pyxem_epdf as epdf
from pyxem_epdf.physics import calibration as cal
from pyxem_epdf.physics import geometry
from pyxem_epdf.signals import calibration

RATIO, ANGLE = 1.02, 30.0
BAND = (9, 60)


def fit_corrected(data, centres, mask, method, n_bootstrap=200):
    total, cover = geometry.centred_sum(data, centres, mask=mask, method=method)
    n = int(np.prod(data.shape[:-2]))
    good = cover >= calibration.MIN_COVERAGE * n
    img = np.where(good, n * total / np.where(good, cover, 1), 0)
    return cal.fit_ellipse(img, BAND, center=tuple(centres.reshape(-1, 2).mean(0)), mask=~good,
                           n_bootstrap=n_bootstrap)


def main(seeds):
    print(f"{'drift px':>8} {'seed':>4} {'sum':>16} {'axis ratio':>20} {'angle deg':>14}")
    for drift in (0.0, 1.0, 2.5, 4.0):
        for seed in seeds:
            synth = epdf.data.composite(distortion=(RATIO, ANGLE), beam_stop=(6, 3, 90.0),
                                        descan=(drift, 0.0), seed=seed)
            dp = synth.signal
            data = np.asarray(dp.data)
            ny, nx = data.shape[-2:]
            true_c = synth.parameters.beam_shifts + [(nx - 1) / 2, (ny - 1) / 2]
            mask, _ = calibration.find_beam_stop(dp)
            truth_mask = synth.parameters.beam_stop_mask
            rows = [("plain", calibration.fit_distortion(dp, BAND, mask=mask))]
            for method in ("nearest", "bilinear"):
                rows.append((f"true c, {method}", fit_corrected(data, true_c, truth_mask, method)))
            plane = epdf.signals.descan(dp).plane
            rows.append(("descan plane", calibration.fit_distortion(dp, BAND, mask=truth_mask,
                                                                   beam_shift=plane)))
            found = np.asarray(calibration.find_centers(dp, BAND, mask=mask).data)
            shift = np.stack([nx / 2 - found[..., 0], ny / 2 - found[..., 1]], -1)
            rows.append(("find_centers", calibration.fit_distortion(dp, BAND, mask=truth_mask,
                                                                   beam_shift=shift)))
            for name, f in rows:
                print(f"{drift:8.1f} {seed:4d} {name:>16} {f.axis_ratio:10.5f} ± {f.axis_ratio_std:.5f}"
                      f" {f.angle:7.2f} ± {f.angle_std:.2f}")
    print("noise-free: ratio / angle of plain | nearest | bilinear sums")
    yy, xx = np.mgrid[:128, :128].astype(float)
    a = cal.distortion_matrix(RATIO, ANGLE)

    def pattern(cx, cy):
        r = np.hypot(*(a @ np.stack([(xx - cx).ravel(), (yy - cy).ravel()]))).reshape(128, 128)
        return (50 * np.exp(-r / 6) + 3 * (1 + 2 * np.exp(-0.5 * ((r - 25) / 4) ** 2)
                                           + np.exp(-0.5 * ((r - 45) / 5) ** 2)) + 0.5)

    for drift in (0.0, 1.0, 2.5, 4.0):
        cxs = 63.5 + drift * (np.linspace(0, 1, 20) - 0.5)
        exact = np.repeat(np.array([pattern(cx, 63.5) for cx in cxs])[None], 4, axis=0)
        ce = np.stack(np.broadcast_arrays(cxs[None, :], np.full((4, 20), 63.5)), -1)
        synth = epdf.data.composite(distortion=(RATIO, ANGLE), descan=(drift, 0.0), noise=False)
        comp = np.asarray(synth.signal.data, float)
        cc = synth.parameters.beam_shifts + [63.5, 63.5]
        for name, data, c in (("exact", exact, ce), ("composite", comp, cc)):
            fits = [cal.fit_ellipse(data.sum((0, 1)), BAND, n_bootstrap=20)]
            nomask = np.zeros(data.shape[-2:], bool)
            fits += [fit_corrected(data, c, nomask, m) for m in ("nearest", "bilinear")]
            print(f"{drift:4.1f} {name:>9} " + " | ".join(
                f"{f.axis_ratio:.5f} {f.angle:6.2f}" for f in fits))
    # cost, best of 5, in the same process
    synth = epdf.data.composite(distortion=(RATIO, ANGLE), descan=(2.5, 1.25))
    data = np.asarray(synth.signal.data)
    c = synth.parameters.beam_shifts + [63.5, 63.5]

    def best(fn):
        ts = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t)
        return min(ts)

    t0 = best(lambda: data.sum(axis=(0, 1), dtype=np.float64))
    for method in ("nearest", "bilinear"):
        t = best(lambda m=method: geometry.centred_sum(data, c, method=m))
        print(f"cost {method}: {t * 1e3:.1f} ms vs plain sum {t0 * 1e3:.1f} ms (x{t / t0:.1f}),"
              f" {data.shape[0] * data.shape[1]} patterns of {data.shape[2]}x{data.shape[3]}")
    lazy = synth.signal.as_lazy().data
    t0 = best(lambda: lazy.sum(axis=(0, 1), dtype=np.float64).compute())
    t = best(lambda: dask.compute(*geometry.centred_sum(lazy, c)))
    print(f"cost lazy nearest (total and coverage): {t * 1e3:.1f} ms vs lazy plain sum "
          f"{t0 * 1e3:.1f} ms (x{t / t0:.1f})")


if __name__ == "__main__":
    main([int(s) for s in sys.argv[1:]] or [0, 1, 2])
