"""Pattern centres in the batch route: which ``geometry.center`` default (issue 16).

Scan: the embedded composite (20 × 20, 128² detector at 0.04 Å⁻¹/px, 10 e⁻/Å²) with
2 % ellipticity at 30°, 2 px × 1.5 px descan drift, a pattern centre 3 px / −2 px
off the detector middle (the detector cropped to 122 × 124, calibrated by
``[calibration] s_per_pixel`` only, so the axes put s = 0 at the detector middle),
with and without a rod beam stop. For each ``geometry.center`` the batch's own
steps (mask → [geometry] → centres) run; printed: rms and max error of the
per-pattern centre against the truth (px), and the rms difference of the
scan-mean G(r) (1–8 Å) from the route with the TRUE centres, relative to its rms,
plus the time of the centre step.

    python benchmarks/bench_geometry_route.py
"""

import time

import numpy as np

from pyxem_epdf import batch, data
from pyxem_epdf.signals import azimuthal_profile, descan, detector_mask, scan_sum

COL0, ROW0, NCOL, NROW = 0, 4, 122, 124  # crop: centre (63.5, 59.5) on a (122, 124) detector


def scene(beam_stop, seed=0):
    synth = data.composite(distortion=(1.02, 30.0), descan=(2.0, 1.5), seed=seed,
                           beam_stop=(6.0, 3.0, 90.0) if beam_stop else None)
    dp = synth.signal.isig[COL0:COL0 + NCOL, ROW0:ROW0 + NROW]
    p = synth.parameters
    truth = np.array([(p.detector_shape[1] - 1) / 2 - COL0,
                      (p.detector_shape[0] - 1) / 2 - ROW0]) + p.beam_shifts
    return synth, dp, truth


def main():
    for beam_stop in (True, False):
        synth, raw, truth = scene(beam_stop)
        base = {"chain": {"composition": data.average_composition(synth), "fix_c": True,
                          "r_max": 8.0, "r_step": 0.01, "s_min": 0.45 if beam_stop else 0.14},
                "calibration": {"s_per_pixel": 0.04},
                "integration": {"s_max": 2.2}}
        geom = {"distortion": "fit", **({"beam_stop": "auto"} if beam_stop else {})}
        print(f"## beam stop: {'rod (6, 3, 90°)' if beam_stop else 'none'}; offset centre "
              f"(+3, -2) px; drift (2, 1.5) px; 2 % ellipticity")
        ref = None
        rows = []
        for method in ("truth", "rings1", "rings2", "rings4", "sum", "descan", "none"):
            batch.CENTER_BINNING = int(method[-1]) if method.startswith("rings") else 4
            cfg = batch.load_config({**base, "geometry": {**geom, "center": (
                "none" if method == "truth" else method.rstrip("124"))}})
            dp = batch._calibrated(raw, cfg)
            summed = scan_sum(dp, show_progressbar=False)
            mask, _ = detector_mask(batch._summed_signal(dp, summed), show_progressbar=False)
            t = time.perf_counter()
            mask, distortion, record, centres = batch._geometry(dp, cfg, summed, mask)
            if method == "descan":
                centres = batch._centres_of_shift(dp, descan(dp).plane.data)
            elif method == "truth":
                centres = truth
            elif method == "none":
                centres = np.broadcast_to(batch._pixel_frame(dp)[0], truth.shape)
            seconds = time.perf_counter() - t
            ny, nx = dp.axes_manager.signal_shape[::-1]
            shift = np.stack([nx / 2 - centres[..., 0], ny / 2 - centres[..., 1]], -1)
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ri = azimuthal_profile(dp, s_max=2.2, mask=mask, beam_shift=shift,
                                       distortion=distortion, show_progressbar=False)
                pdf = ri.get_pdf(cfg["chain"]["composition"], fix_c=True, s_min=cfg["chain"]["s_min"],
                                 r_max=8.0, r_step=0.01)
            r = pdf.axes_manager.signal_axes[0].axis
            g = pdf.data.reshape(-1, r.size).mean(0)[(r >= 1) & (r <= 8)]
            if ref is None:
                ref = g
            err = np.hypot(*(centres - truth).reshape(-1, 2).T)
            rows.append((method, float(np.sqrt(np.mean(err ** 2))), float(err.max()),
                         float(np.sqrt(np.mean((g - ref) ** 2)) / np.sqrt(np.mean(ref ** 2))),
                         seconds))
        print(f"{'center':8s} {'rms px':>8s} {'max px':>8s} {'ΔG rms/rms':>11s} {'s':>6s}")
        for m, rms, mx, dg, sec in rows:
            print(f"{m:8s} {rms:8.3f} {mx:8.3f} {dg:11.4f} {sec:6.2f}")


if __name__ == "__main__":
    main()
