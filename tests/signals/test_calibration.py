"""Signal wrappers of the geometry calibration (signals.calibration) on real pyxem signals."""

import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf.data import SIO2_S_SCALE, composite, example_profile, gold_standard
from pyxem_epdf.signals import calibration as scal


@pytest.fixture(scope="module")
def scan():
    """Scan with a rod beam stop, 2 % ellipticity and drift (eager), and its truth."""
    return composite(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0), descan=(3.0, -2.0))


def test_scan_sum_lazy_equals_eager(scan):
    lazy = composite(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0), descan=(3.0, -2.0),
                     lazy=True, chunks=(7, 6))
    eager_sum = scal.scan_sum(scan.signal)
    np.testing.assert_array_equal(scal.scan_sum(lazy.signal, show_progressbar=False), eager_sum)
    assert eager_sum.sum() == scan.signal.data.sum()


def test_find_beam_stop_and_gaps(scan):
    mask, report = scal.find_beam_stop(scan.signal)
    truth = scan.parameters.beam_stop_mask
    assert mask[truth].all() and report["beam_stop"] < 1.6 * truth.sum()
    assert report["gaps"] == 0 and report["total"] == mask.sum()
    with pytest.raises(ValueError, match="binned"):
        scal.find_beam_stop(scan.signal, detector="merlin_quad")
    # a precomputed sum gives the same mask
    again, _ = scal.find_beam_stop(scan.signal, summed=scal.scan_sum(scan.signal))
    np.testing.assert_array_equal(again, mask)


def test_fit_distortion_pixels_or_s(scan):
    mask, _ = scal.find_beam_stop(scan.signal)
    fit = scal.fit_distortion(scan.signal, (9, 60), mask=mask)
    k = scan.parameters.s_scale
    fit_s = scal.fit_distortion(scan.signal, s_range=(9 * k, 60 * k), mask=mask)
    assert fit_s.axis_ratio == pytest.approx(fit.axis_ratio, abs=1e-9)
    assert abs(fit.axis_ratio / 1.02 - 1) < 0.002 and abs(fit.angle - 30) < 4
    # the sum is centred on the count-weighted mean of the drifted centres
    p = scan.parameters
    weight = scan.signal.data[..., ~mask].sum(-1).astype(float)
    mean_shift = (p.beam_shifts * weight[..., None]).sum((0, 1)) / weight.sum()
    assert fit.center == pytest.approx(tuple(np.array(p.center[::-1]) + mean_shift), abs=0.05)
    with pytest.raises(ValueError, match="exactly one"):
        scal.fit_distortion(scan.signal, (9, 60), s_range=(0.3, 2.0))


@pytest.mark.parametrize("nav_shape", [(), (4,), (2, 3)])
@pytest.mark.parametrize("lazy", [False, True])
def test_find_centers_nav_shapes_and_laziness(nav_shape, lazy):
    synth = composite(nav_shape=nav_shape, beam_stop=(6, 3, 90.0), descan=(3.0, -2.0),
                      noise=False, lazy=lazy, detector_shape=(96, 96))
    p = synth.parameters
    truth = np.array(p.center[::-1]) + p.beam_shifts
    centres = scal.find_centers(synth.signal, (8, 36), mask=p.beam_stop_mask)
    assert centres._lazy == lazy
    assert centres.axes_manager.navigation_shape == synth.signal.axes_manager.navigation_shape
    data = centres.data.compute() if lazy else centres.data
    assert data.shape == nav_shape + (2,)
    np.testing.assert_allclose(data, truth, atol=0.02)
    assert centres.metadata.ePDF.centers.radius_range_px == [8.0, 36.0]
    if lazy:
        eager = scal.find_centers(synth.signal, (8, 36), mask=p.beam_stop_mask,
                                  lazy_output=False)
        assert not eager._lazy
        np.testing.assert_allclose(eager.data, data, atol=1e-12)


def test_find_centers_lazy_output_from_eager():
    synth = composite(nav_shape=(3, 3), detector_shape=(64, 64), noise=False,
                      beam_stop=(4, 2, 0.0))
    out = scal.find_centers(synth.signal, (5, 25), lazy_output=True,
                            mask=synth.parameters.beam_stop_mask)
    assert out._lazy
    out.compute(show_progressbar=False)
    np.testing.assert_allclose(out.data, 31.5, atol=0.02)


def test_calibrate_standard_gold():
    au = gold_standard(distortion=(1.02, 120.0), beam_stop=(6, 3, 90.0), center=(64.6, 62.1),
                       seed=3)
    res = scal.calibrate_standard(au.signal)
    assert abs(res.s_per_pixel / au.s_scale - 1) < 0.002
    assert abs(res.s_per_pixel - au.s_scale) < 5 * res.s_per_pixel_std
    assert abs(res.ellipse.axis_ratio / 1.02 - 1) < 0.002
    assert abs(res.ellipse.angle - 120.0) < 3
    assert res.ellipse.center == pytest.approx((64.6, 62.1), abs=0.05)
    assert res.mask[au.beam_stop_mask].all()
    record = res.as_dict()
    assert record["s_per_pixel"] == res.s_per_pixel and len(record["distortion_matrix"]) == 2


def test_calibrate_from_amorphous_recovers_a_wrong_scale():
    ri = example_profile()
    k_ref, r_ref = scal.calibrate_from_amorphous(ri)
    assert r_ref == pytest.approx(1.61, abs=0.02)
    wrong = ri.deepcopy()
    wrong.axes_manager.signal_axes[0].scale = SIO2_S_SCALE * 1.03   # 3 % miscalibrated
    k, r1 = scal.calibrate_from_amorphous(wrong)
    assert r1 == pytest.approx(r_ref / 1.03, rel=0.01)
    assert k == pytest.approx(k_ref, rel=0.01)


def test_set_geometry_contract_and_file_round_trip(scan, tmp_path):
    mask, _ = scal.find_beam_stop(scan.signal)
    fit = scal.fit_distortion(scan.signal, (9, 60), mask=mask)
    before = scan.signal.axes_manager.signal_axes[0].offset
    out = scal.set_geometry(scan.signal, s_per_pixel=0.041, ellipse=fit)
    assert scan.signal.axes_manager.signal_axes[0].offset == before    # input untouched
    assert not scan.signal.metadata.has_item("ePDF.geometry")
    geo = out.metadata.ePDF.geometry
    assert geo.s_per_pixel == 0.041 and geo.center_px == list(fit.center)
    np.testing.assert_allclose(geo.distortion_matrix, fit.matrix)
    ax = out.axes_manager.signal_axes
    assert ax[0].offset == pytest.approx(-fit.center[0] * 0.041)
    assert ax[1].offset == pytest.approx(-fit.center[1] * 0.041)
    assert out.metadata.ePDF.history.step_00.method == "set_geometry"
    path = tmp_path / "geometry.hspy"
    out.save(path)
    back = hs.load(path)
    assert back.metadata.ePDF.geometry.axis_ratio == pytest.approx(fit.axis_ratio)
    copy = scan.signal.deepcopy()
    assert scal.set_geometry(copy, s_per_pixel=0.05, inplace=True) is None
    assert copy.axes_manager.signal_axes[0].scale == 0.05
    with pytest.raises(ValueError, match="'s_per_pixel'"):
        scal.set_geometry(copy, s_per_pixel=-1.0)


def test_wrappers_reject_a_1d_signal():
    with pytest.raises(ValueError, match="two signal"):
        scal.scan_sum(hs.signals.Signal1D(np.zeros((3, 10))))
    assert epdf.signals.calibration is scal
