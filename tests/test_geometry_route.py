"""Issue 16 "done means": a drifting, elliptical scan behind a beam stop, calibrated from a gold pattern.

Given only the beam energy (200 kV, the composite's) and a polycrystalline Au
pattern taken with the same projector settings, the documented calls calibrate,
mask, centre and integrate the scan; errors against the truth of the generator
are held to the issue's numbers (s per pixel ≤ 0.2 %, first G(r) peak < 0.005 Å
and its width within 2 % of the route with the true geometry).

Scan: the embedded composite (20 × 20, 10 e⁻/Å², 128² detector at 0.04 Å⁻¹/px)
with 2 % ellipticity at 30°, a rod beam stop (6 px disc, 3 px arm), a 2 × 1.5 px
descan drift and the pattern centre 3.6 px off the detector middle (the detector
cropped), its axes stripped to pixels.
"""

import numpy as np
import pytest

from pyxem_epdf import data
from pyxem_epdf.physics.geometry import fit_descan
from pyxem_epdf.signals import (
    azimuthal_profile,
    calibrate_standard,
    find_beam_stop,
    find_centers,
    fit_distortion,
    scan_sum,
    set_geometry,
)

from .test_ellipse_route import first_peak

RATIO, ANGLE, S_SCALE = 1.02, 30.0, 0.04
COL0, ROW0, NCOL, NROW = 0, 4, 122, 124  # crop: true centre (63.5, 59.5) px
S_BAND = (0.3, 2.2)  # Å⁻¹, rings for the centres
S_MAX = 2.2  # Å⁻¹
CHAIN = {"fix_c": True, "s_min": 0.45, "r_max": 8.0, "r_step": 0.002}  # s_min above the stop


@pytest.fixture(scope="module")
def scene():
    synth = data.composite(distortion=(RATIO, ANGLE), beam_stop=(6.0, 3.0, 90.0),
                           descan=(2.0, 1.5))
    dp = synth.signal.isig[COL0:COL0 + NCOL, ROW0:ROW0 + NROW]
    for ax in dp.axes_manager.signal_axes:  # an uncalibrated scan: pixels only
        ax.units, ax.scale, ax.offset = "px", 1.0, 0.0
    p = synth.parameters
    truth = np.array([(p.detector_shape[1] - 1) / 2 - COL0,
                      (p.detector_shape[0] - 1) / 2 - ROW0]) + p.beam_shifts
    gold = data.gold_standard(distortion=(RATIO, ANGLE), beam_stop=(6.0, 3.0, 90.0),
                              center=(62.2, 65.7), beam_energy=p.beam_energy)
    return synth, dp, truth, gold


def _shift(centres, shape):
    """(x, y) pixel centres → pyxem's beam shift (the shift that centres on pixel n/2)."""
    ny, nx = shape
    return np.stack([nx / 2 - centres[..., 0], ny / 2 - centres[..., 1]], axis=-1)


@pytest.fixture(scope="module")
def route(scene):
    """The documented route, step by step."""
    synth, raw, truth, gold = scene
    # 1. s calibration and ellipse from the gold pattern
    cal = calibrate_standard(gold.signal)
    dp = set_geometry(raw, s_per_pixel=cal.s_per_pixel)
    # 2. mask (beam stop of any shape) and the scan-sum ellipse and centre
    summed = scan_sum(dp)
    mask, _ = find_beam_stop(dp, summed=summed)
    fit = fit_distortion(dp, s_range=S_BAND, mask=mask, summed=summed)
    matrix = cal.ellipse.matrix
    # 3. centres of the 2 × 2-binned patterns (the paper's binning), a descan plane
    #    through them whose constant is the scan-sum centre
    binned = dp.rebin(scale=(2, 2, 1, 1))
    measured = find_centers(binned, s_range=S_BAND, center=fit.center, distortion=matrix,
                            mask=mask).data
    plane = fit_descan(measured)
    plane += np.asarray(fit.center) - plane.reshape(-1, 2).mean(axis=0)
    # 4. the integration with the centres and the distortion, then G(r)
    shape = dp.axes_manager.signal_shape[::-1]
    with pytest.warns(UserWarning, match="hold no valid pixel"):  # the rings behind the stop
        ri = azimuthal_profile(binned, s_max=S_MAX, mask=mask, beam_shift=_shift(plane, shape),
                               distortion=matrix)
    pdf = ri.get_pdf(data.average_composition(synth), **CHAIN)
    return cal, fit, mask, plane, pdf, dp


def _reference(scene, dp, *, centres, distortion, mask):
    synth = scene[0]
    binned = dp.rebin(scale=(2, 2, 1, 1))
    shape = dp.axes_manager.signal_shape[::-1]
    with pytest.warns(UserWarning, match="hold no valid pixel"):
        ri = azimuthal_profile(binned, s_max=S_MAX, mask=mask, beam_shift=_shift(centres, shape),
                               distortion=distortion)
    return ri.get_pdf(data.average_composition(synth), **CHAIN)


def test_calibration_from_gold(route, scene):
    cal, fit, _, _, _, _ = route
    print(f"s/px {cal.s_per_pixel / S_SCALE - 1:+.4%}, ratio gold {cal.ellipse.axis_ratio:.5f} "
          f"scan {fit.axis_ratio:.5f}, angle {fit.angle:.2f}")
    assert abs(cal.s_per_pixel / S_SCALE - 1) < 0.002  # the issue: 0.2 %
    assert abs(cal.ellipse.axis_ratio / RATIO - 1) < 0.002
    # the scan's own scan-sum ellipse agrees with the standard's to 0.3 % (measured
    # 1.0164 vs 1.0194): the 2.5 px drift blurs the scan sum along the drift, a bias
    # of the sum that the standard has not, so the route integrates with the standard's A
    assert abs(fit.axis_ratio / cal.ellipse.axis_ratio - 1) < 0.004
    assert abs(fit.angle - ANGLE) < 5


def test_mask_covers_the_beam_stop(route, scene):
    synth, _, _, _ = scene
    _, _, mask, _, _, _ = route
    truth = synth.parameters.beam_stop_mask[ROW0:ROW0 + NROW, COL0:COL0 + NCOL]
    assert mask[truth].all()
    assert mask.sum() < 1.6 * truth.sum()  # one ring of pixels around the stop


def test_centres_within_a_tenth_of_a_pixel(route, scene):
    _, _, truth, _ = scene
    plane = route[3]
    # truth averaged over the 2 × 2 blocks (the binned pattern's centre)
    block = truth.reshape(10, 2, 10, 2, 2).mean(axis=(1, 3))
    err = np.hypot(*(plane - block).reshape(-1, 2).T)
    print(f"centres: rms {np.sqrt(np.mean(err ** 2)):.3f} px, max {err.max():.3f} px")
    assert np.sqrt(np.mean(err ** 2)) < 0.15 and err.max() < 0.3


def test_first_peak_against_the_true_geometry(route, scene):
    synth, _, truth, _ = scene
    cal, _, mask, _, pdf, dp = route
    true_dp = set_geometry(scene[1], s_per_pixel=S_SCALE)
    ref = _reference(scene, true_dp, centres=truth, mask=synth.parameters.beam_stop_mask[
        ROW0:ROW0 + NROW, COL0:COL0 + NCOL] | mask,
        distortion=synth.parameters.distortion_matrix)
    naive = _reference(scene, dp, centres=np.broadcast_to(
        (np.array(dp.axes_manager.signal_shape) - 1) / 2.0, truth.shape), mask=mask,
        distortion=None)
    window = (1.2, 1.8)  # the first peaks (C–N 1.34 Å, P–O 1.53 Å) of the two phases
    (p0, w0), (p1, w1), (pn, wn) = (first_peak(g, window) for g in (ref, pdf, naive))
    assert abs(p1 - p0) < 0.005
    assert abs(w1 / w0 - 1) < 0.02
    # without centres and ellipse (the detector middle as the centre) the peak is off
    assert abs(pn - p0) > 0.005 or abs(wn / w0 - 1) > 0.02
    print(f"first peak: true geometry {p0:.4f} Å FWHM {w0:.4f}; route {p1 - p0:+.4f} Å, "
          f"{w1 / w0 - 1:+.2%}; no centres/ellipse {pn - p0:+.4f} Å, {wn / w0 - 1:+.2%}")


def test_batch_route_from_a_gold_standard(scene, route, tmp_path):
    """The same scan through ``pyxem-epdf process``: [calibration] standard, [geometry]
    distortion = "standard", beam_stop = "auto" (→ ring centres); saved files, real CLI."""
    import json

    import hyperspy.api as hs

    from pyxem_epdf.cli import main

    synth, raw, truth, gold = scene
    raw.save(tmp_path / "scan.zspy")
    # the standard on the same (cropped) detector, its centre (62.2, 65.7) px there
    au = data.gold_standard(distortion=(RATIO, ANGLE), beam_stop=(6.0, 3.0, 90.0),
                            center=(62.2 + COL0, 65.7 + ROW0))
    au.signal.isig[COL0:COL0 + NCOL, ROW0:ROW0 + NROW].save(tmp_path / "au.hspy")
    comp = data.average_composition(synth)
    table = ", ".join(f"{el} = {v!r}" for el, v in comp.items())
    (tmp_path / "config.toml").write_text(
        '[calibration]\nstandard = "au.hspy"\n'
        "[navigation]\nrebin = 2\n"
        f"[integration]\ns_max = {S_MAX}\n"
        '[geometry]\ndistortion = "standard"\nbeam_stop = "auto"\n'
        f"[chain]\ncomposition = {{{table}}}\nfix_c = true\ns_min = 0.45\nr_max = 8.0\n"
        "weights = \"none\"\n"  # as get_pdf's default in the Python route
        "r_step = 0.002\n"
        "[mapping]\nn_components = 2\n", encoding="utf-8")
    args = ["process", str(tmp_path / "scan.zspy"), "--config", str(tmp_path / "config.toml"),
            "--out", str(tmp_path / "out")]
    assert main([*args, "--dry-run"]) == 0
    with pytest.warns(UserWarning, match="hold no valid pixel"):
        assert main(args) == 0
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert abs(prov["standard"]["s_per_pixel"] / S_SCALE - 1) < 0.002
    assert prov["geometry"]["distortion"]["method"].startswith("standard")
    cen = prov["geometry"]["center"]
    assert cen["method"] == "rings"
    pdf = hs.load(tmp_path / "out" / "pdf_cube.zspy")
    centres = np.asarray(pdf.metadata.ePDF.geometry.centers_px)
    err = np.hypot(*(centres - truth).reshape(-1, 2).T)
    assert np.sqrt(np.mean(err ** 2)) < 0.15
    # first peak within the numbers of the route with the true geometry
    true_dp = set_geometry(raw, s_per_pixel=S_SCALE)
    ref = _reference(scene, true_dp, centres=truth, mask=synth.parameters.beam_stop_mask[
        ROW0:ROW0 + NROW, COL0:COL0 + NCOL] | route[2],
        distortion=synth.parameters.distortion_matrix)
    (p0, w0), (p1, w1) = (first_peak(g, (1.2, 1.8)) for g in (ref, pdf))
    print(f"batch: centres {np.sqrt(np.mean(err ** 2)):.3f} px rms; first peak {p1 - p0:+.4f} Å, "
          f"FWHM {w1 / w0 - 1:+.2%}; s/px {prov['standard']['s_per_pixel'] / S_SCALE - 1:+.4%}")
    assert abs(p1 - p0) < 0.005 and abs(w1 / w0 - 1) < 0.02
    assert (tmp_path / "out" / "geometry.png").exists()
