"""Detector geometry from the data (physics.calibration) against known truth."""

import numpy as np
import pytest

from pyxem_epdf.data import composite, gold_standard
from pyxem_epdf.physics import calibration as cal

# ---------------------------------------------------------------- geometry


@pytest.mark.parametrize("ratio, angle", [(1.0, 0.0), (1.02, 30.0), (1.03, 135.0), (1.5, 89.0)])
def test_distortion_matrix_formula_and_inverse(ratio, angle):
    a = cal.distortion_matrix(ratio, angle)
    t = np.deg2rad(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    expected = rot @ np.diag([ratio**-0.5, ratio**0.5]) @ rot.T
    np.testing.assert_allclose(a, expected, atol=1e-14)
    assert np.linalg.det(a) == pytest.approx(1.0)
    # the point at the major semi-axis √ρ along θ maps to radius 1
    assert np.linalg.norm(a @ (np.sqrt(ratio) * rot[:, 0])) == pytest.approx(1.0)
    r, ang = cal.ellipse_parameters(a)
    assert r == pytest.approx(ratio, abs=1e-10)
    if ratio > 1:
        assert ang == pytest.approx(angle % 180, abs=1e-8)


@pytest.mark.parametrize("ratio", [0.99, 2.5, float("nan")])
def test_distortion_matrix_rejects(ratio):
    with pytest.raises(ValueError, match="'axis_ratio'"):
        cal.distortion_matrix(ratio, 0.0)


def test_corrected_radius_and_rod_beam_stop():
    r = cal.corrected_radius((5, 7), (2.0, 1.0))
    assert r[1, 2] == 0 and r[1, 5] == 3 and r[4, 6] == pytest.approx(5.0)
    a = cal.distortion_matrix(1.21, 0.0)           # major axis along x: x shrinks by 1.1
    r = cal.corrected_radius((1, 21), (10.0, 0.0), a)
    assert r[0, 20] == pytest.approx(10 / 1.1)
    stop = cal.rod_beam_stop((201, 201), 20.0, 10.0, 90.0)
    yy, xx = np.mgrid[:201, :201]
    disc = np.hypot(xx - 100, yy - 100) <= 20
    arm = (np.abs(xx - 100) <= 5) & (yy >= 100)     # columns 95..105 down from the centre
    np.testing.assert_array_equal(stop, disc | arm)
    assert stop[200, 100] and not stop[0, 100]      # arm points down the rows
    with pytest.raises(ValueError, match="'radius'"):
        cal.rod_beam_stop((9, 9), 0.0)


def test_fcc_reflections_gold():
    hkl, d, m = cal.fcc_reflections(4.0782, 1.1)
    assert [tuple(h) for h in hkl] == [(1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1), (2, 2, 2),
                                      (4, 0, 0), (3, 3, 1), (4, 2, 0)]
    np.testing.assert_allclose(d, 4.0782 / np.sqrt((hkl**2).sum(1)))
    assert m.tolist() == [8, 6, 12, 24, 8, 6, 24, 24]
    with pytest.raises(ValueError, match="'lattice_parameter'"):
        cal.fcc_reflections(-1.0)


# ---------------------------------------------------------------- ellipse


def _profile(r):
    return 200 * np.exp(-0.5 * ((r - 25.0) / 2.0) ** 2) + 400 * np.exp(-r / 10) + 5


#: radius of the intensity maximum of the ring (inside 25 on the sloping background)
R_MAX = float(np.arange(20, 30, 1e-5)[np.argmax(_profile(np.arange(20, 30, 1e-5)))])


def _ellipse_image(shape, center, ratio, angle, counts=None, seed=0):
    r = cal.corrected_radius(shape, center, cal.distortion_matrix(ratio, angle))
    lam = _profile(r)
    if counts is None:
        return lam
    return np.random.default_rng(seed).poisson(lam * counts).astype(float)


@pytest.mark.parametrize("method", ["variance", "points"])
def test_fit_ellipse_analytic(method):
    img = _ellipse_image((96, 96), (47.6, 49.2), 1.025, 70.0)
    band = (15, 40) if method == "variance" else (18, 32)
    fit = cal.fit_ellipse(img, band, method=method, n_bootstrap=30)
    assert fit.axis_ratio == pytest.approx(1.025, abs=3e-4)
    assert fit.angle == pytest.approx(70.0, abs=1.0)
    assert fit.center == pytest.approx((47.6, 49.2), abs=0.02)
    np.testing.assert_allclose(fit.matrix, cal.distortion_matrix(fit.axis_ratio, fit.angle))
    if method == "points":
        assert fit.radii[0] == pytest.approx(R_MAX, abs=0.03)


def test_fit_ellipse_errors_are_calibrated():
    # Poisson replicas: the spread of the fits matches the bootstrap error
    fits = [cal.fit_ellipse(_ellipse_image((96, 96), (47.6, 49.2), 1.02, 40.0, 2.0, s),
                            (12, 42), n_bootstrap=50) for s in range(6)]
    ratio = np.array([f.axis_ratio for f in fits])
    std = np.mean([f.axis_ratio_std for f in fits])
    assert abs(ratio.mean() - 1.02) < 3 * std / np.sqrt(len(fits)) + 2e-4
    assert 0.3 < ratio.std() / std < 3.0


def test_fit_ellipse_two_percent_in_the_composite_scan_sum():
    # issue 16: 2 % ellipticity injected in the embedded composite, rod beam stop
    synth = composite(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0))
    summed = synth.signal.data.sum((0, 1)).astype(float)
    fit = cal.fit_ellipse(summed, (9, 60), mask=synth.parameters.beam_stop_mask,
                          center=(62.0, 65.0))
    assert abs(fit.axis_ratio / 1.02 - 1) < 0.002
    assert abs(fit.axis_ratio - 1.02) < 3 * fit.axis_ratio_std
    assert abs(fit.angle - 30.0) < 4.0
    assert np.abs(np.array(fit.center) - 63.5).max() < 0.1


def test_fit_ellipse_rejects():
    img = _ellipse_image((64, 64), None, 1.02, 0.0)
    with pytest.raises(ValueError, match="'radius_range'"):
        cal.fit_ellipse(img, (10, 11))
    with pytest.raises(ValueError, match="'method'"):
        cal.fit_ellipse(img, (10, 30), method="magic")
    with pytest.raises(ValueError, match="ring points"):
        cal.fit_ellipse(np.zeros((64, 64)), (10, 30), method="points")
    with pytest.raises(ValueError, match="'mask'"):
        cal.fit_ellipse(img, (10, 30), mask=np.zeros((3, 3), bool))


def test_ring_points_on_a_circle():
    img = _ellipse_image((80, 80), (40.3, 38.7), 1.0, 0.0)
    pts, phi = cal.ring_points(img, (40.3, 38.7), (18, 32), n_angles=60)
    r = np.hypot(pts[:, 0] - 40.3, pts[:, 1] - 38.7)
    assert len(pts) == 60 and np.abs(r - R_MAX).max() < 0.03
    assert np.all(np.diff(phi) > 0)


# ---------------------------------------------------------------- masks


@pytest.mark.parametrize("stop", [(6, 3, 90.0), (8, 5, 30.0), (10, 0, 0.0)])
def test_beam_stop_mask_from_the_scan_sum(stop):
    synth = composite(beam_stop=stop, distortion=(1.02, 30.0), descan=(3.0, 2.0))
    summed = synth.signal.data.sum((0, 1)).astype(float)
    truth = synth.parameters.beam_stop_mask
    found = cal.beam_stop_mask(summed, dilation=0)
    assert (found != truth).sum() <= 0.02 * truth.sum()
    covered = cal.beam_stop_mask(summed)              # default dilation 1
    assert covered[truth].all() and covered.sum() < 1.6 * truth.sum()


def test_beam_stop_mask_ignores_dead_pixels_and_keeps_known_mask_out():
    r = cal.corrected_radius((64, 64))
    img = 1000.0 / (1 + r)
    img[10, 10] = img[50, 20] = 0.0                   # isolated dead pixels
    stop = cal.rod_beam_stop((64, 64), 5, 3, 45.0)
    img[stop] = 0.0
    gaps = np.zeros((64, 64), bool)
    gaps[:, 40] = True
    found = cal.beam_stop_mask(img, dilation=0, mask=gaps)
    assert not found[10, 10] and not found[50, 20] and not found[gaps].any()
    assert (found != (stop & ~gaps)).sum() <= 4
    with pytest.raises(ValueError, match="'threshold'"):
        cal.beam_stop_mask(img, threshold=1.5)


def test_detector_gaps():
    quad = cal.detector_gaps("Merlin-Quad")
    assert quad.shape == (515, 515) and quad.sum() == 515 * 3 * 2 - 9
    assert quad[256:259].all() and not quad[255, 0] and not quad[259, 0]
    assert cal.detector_gaps("medipix").sum() == 0
    eiger = cal.detector_gaps("eiger_1m")
    assert eiger.shape == (1065, 1030) and eiger[514:551].all()
    with pytest.raises(ValueError, match="Unknown detector 'pilatus'"):
        cal.detector_gaps("pilatus")
    with pytest.raises(ValueError, match="binned"):
        cal.detector_gaps("merlin_quad", shape=(256, 256))


# ---------------------------------------------------------------- s calibration


def test_radial_profile_mean_radius_and_counts():
    img = cal.corrected_radius((64, 64))               # value = radius
    r, mean, n = cal.radial_profile(img, step=0.5)
    np.testing.assert_allclose(mean, r)
    assert n.sum() == (img <= 31.5).sum()


@pytest.mark.parametrize("start", [None, 0.041])
def test_calibrate_rings_on_a_distorted_gold_standard(start):
    au = gold_standard(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0), center=(62.2, 65.7))
    img = au.signal.data
    mask = cal.beam_stop_mask(img)
    fit = cal.fit_ellipse(img, (9, 60), mask=mask)
    assert abs(fit.axis_ratio / 1.02 - 1) < 0.002 and abs(fit.angle - 30) < 2
    assert fit.center == pytest.approx((62.2, 65.7), abs=0.05)
    _, d, _ = cal.fcc_reflections(4.0782, 3.0)      # every ring on the detector
    res = cal.calibrate_rings(img, d, center=fit.center, distortion=fit.matrix, mask=mask,
                              r_min=8, s_per_pixel=start)
    assert abs(res.s_per_pixel / au.s_scale - 1) < 0.002
    assert 0 < res.s_per_pixel_std < 0.001 * au.s_scale
    assert len(res.ring_s) >= 25 and res.chi2 < 10
    # the strong rings' own radii agree with the joint scale within their errors
    strong = slice(0, 14)                            # up to 331-type rings at ~40 px
    pull = (res.ring_radius[strong] - res.ring_s[strong] / res.s_per_pixel) \
        / res.ring_radius_std[strong]
    assert np.abs(pull).max() < 4


def test_calibrate_rings_user_d_spacings_and_errors():
    r = cal.corrected_radius((128, 128))
    d = np.array([2.0, 1.2, 0.9])
    img = 10 + 50 * np.exp(-r / 20)
    for dj in d:
        img += 40 * np.exp(-0.5 * ((r - (1 / dj) / 0.02) / 1.0) ** 2)
    res = cal.calibrate_rings(img, d, r_min=10)
    assert res.s_per_pixel == pytest.approx(0.02, rel=1e-4) and res.width == pytest.approx(1, abs=0.02)
    with pytest.raises(ValueError, match="'d_spacings'"):
        cal.calibrate_rings(img, [2.0])
    with pytest.raises(ValueError, match="ring"):
        cal.calibrate_rings(img, d, r_min=10, s_per_pixel=0.2)


def test_scale_from_pdf_peak():
    assert cal.scale_from_pdf_peak(1.61 * 1.03, 1.61, 0.002) == pytest.approx(0.00206)
    with pytest.raises(ValueError, match="'r_known'"):
        cal.scale_from_pdf_peak(1.6, 0.0, 0.002)


# ---------------------------------------------------------------- centres


def test_compiled_objective_equals_numpy_reference():
    rng = np.random.default_rng(1)
    vals = rng.poisson(5.0, (3, 400)).astype(float)
    px, py = rng.uniform(0, 40, 400), rng.uniform(0, 40, 400)
    cand = 20 + rng.normal(0, 1, (3, 9, 2))
    a = cal.distortion_matrix(1.03, 20.0)
    weight = (np.arange(0.0, 40.0), 1 / (1 + np.arange(40.0)))
    ref = cal._variance_objective(vals, px, py, cand, a, 3.0, 18.0, weight, 0.5)
    got = cal._objective(vals, px, py, cand, a, 3.0, 18.0, weight, 0.5)
    np.testing.assert_allclose(got, ref, rtol=1e-10)


@pytest.mark.parametrize("nav_shape", [(), (5,), (3, 4)])
def test_refine_centers_noiseless_with_rod_beam_stop(nav_shape):
    synth = composite(nav_shape=nav_shape, beam_stop=(6, 3, 90.0), descan=(4.0, -3.0),
                      noise=False, distortion=(1.02, 30.0))
    p = synth.parameters
    truth = np.array(p.center[::-1]) + p.beam_shifts
    got = cal.refine_centers(synth.signal.data, (8, 40), mask=p.beam_stop_mask,
                             distortion=p.distortion_matrix)
    assert got.shape == nav_shape + (2,)
    assert np.abs(got - truth).max() < 0.02


def test_refine_centers_noisy_and_lazy_equals_eager():
    synth = composite(nav_shape=(4, 5), beam_stop=(6, 3, 90.0), descan=(3.0, 2.0), dose=100.0,
                      lazy=True, chunks=(2, 3))
    p = synth.parameters
    truth = np.array(p.center[::-1]) + p.beam_shifts
    lazy = cal.refine_centers(synth.signal.data, (8, 40), mask=p.beam_stop_mask)
    assert hasattr(lazy, "dask")
    eager = cal.refine_centers(synth.signal.data.compute(), (8, 40), mask=p.beam_stop_mask)
    np.testing.assert_allclose(lazy.compute(), eager, atol=1e-12)
    assert np.sqrt(((eager - truth) ** 2).mean()) < 0.2


def test_refine_centers_starts_and_rejects():
    img = _ellipse_image((80, 80), (41.7, 38.2), 1.0, 0.0)
    frames = np.stack([img, img])
    got = cal.refine_centers(frames, (10, 36), center=[[38.0, 40.0], [44.0, 36.0]])
    np.testing.assert_allclose(got, [[41.7, 38.2]] * 2, atol=0.02)
    with pytest.raises(ValueError, match="'center'"):
        cal.refine_centers(frames, (10, 36), center=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="'search'"):
        cal.refine_centers(frames, (10, 36), search=50)
