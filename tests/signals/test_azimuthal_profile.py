"""azimuthal_profile on the embedded 4D dataset: against pyxem, lazily, into the chain."""

import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data

from ..conftest import ComputeCounter


@pytest.fixture(scope="module")
def synth():
    return data.two_phase_composite(nav_shape=(4, 5), noise=False, seed=2)


def test_matches_pyxem_mean_and_the_model(synth):
    ours = epdf.azimuthal_profile(synth.signal, npt=60, s_max=2.4)
    theirs = epdf.from_profile(synth.signal.get_azimuthal_integral1d(
        npt=60, radial_range=(0.0, 2.4), mean=True, show_progressbar=False))
    s = ours.axes_manager.signal_axes[0].axis
    np.testing.assert_allclose(s, theirs.axes_manager.signal_axes[0].axis, atol=1e-9)
    mid = (s > 0.3) & (s < 2.3)
    np.testing.assert_allclose(ours.data[..., mid], theirs.data[..., mid], rtol=0.03)
    # and against the generator's noiseless profile at the bin centres
    model = synth.profiles(s[mid])
    np.testing.assert_allclose(ours.data[..., mid], model, rtol=0.02)


def test_lazy_in_lazy_out_and_variance(synth):
    lazy_synth = data.two_phase_composite(nav_shape=(4, 5), noise=True, seed=2, lazy=True)
    eager_synth = data.two_phase_composite(nav_shape=(4, 5), noise=True, seed=2)
    with ComputeCounter() as c:
        lazy = epdf.azimuthal_profile(lazy_synth.signal, npt=60, s_max=2.4)
    assert c.runs == 0 and lazy._lazy
    eager = epdf.azimuthal_profile(eager_synth.signal, npt=60, s_max=2.4)
    lazy.compute(show_progressbar=False)
    np.testing.assert_allclose(lazy.data, eager.data)
    var = eager.metadata.Signal.Noise_properties.variance
    assert var.data.shape == eager.data.shape and np.all(var.data >= 0)
    assert len(eager.metadata.ePDF.integration.n_valid) == 60
    # the variance feeds the weighted fit
    phi = eager.fit_scattering(data.average_composition(eager_synth), (1.6, 2.3), weights="variance")
    assert phi.metadata.ePDF.fit.weights == "variance"
    nav = eager.axes_manager.navigation_axes
    assert [a.units for a in nav] == ["nm", "nm"]


def test_mask_and_errors(synth):
    mask = np.zeros(synth.signal.data.shape[-2:], bool)
    mask[:, :20] = True
    masked = epdf.azimuthal_profile(synth.signal, npt=30, s_max=2.4, mask=mask)
    full = epdf.azimuthal_profile(synth.signal, npt=30, s_max=2.4)
    assert np.all(np.array(masked.metadata.ePDF.integration.n_valid)
                  <= np.array(full.metadata.ePDF.integration.n_valid))
    bad = synth.signal.deepcopy()
    for ax in bad.axes_manager.signal_axes:
        ax.units = "px"
    with pytest.raises(ValueError, match="not calibrated in s"):
        epdf.azimuthal_profile(bad, npt=10)
    with pytest.raises(ValueError, match="'npt' must be >= 1"):
        epdf.azimuthal_profile(synth.signal, npt=0)


@pytest.mark.parametrize("lazy", [False, True])
def test_descan_corrected_inside_the_integration(lazy):
    """pyxem's thresholded centre of mass + plane, applied as shifted radii."""
    kw = {"nav_shape": (6, 8), "noise": False, "seed": 3}
    centred = data.two_phase_composite(**kw)
    drifted = data.two_phase_composite(descan=(6.0, -4.0), lazy=lazy, **kw)
    shifts = drifted.signal.get_direct_beam_position(method="center_of_mass", threshold=20)
    if lazy:
        shifts.compute(show_progressbar=False)
    plane = shifts.get_linear_plane()
    truth = 0.5 - drifted.parameters.beam_shifts  # pyxem's convention (centre at n/2)
    np.testing.assert_allclose(np.asarray(plane.data), truth, atol=0.02)
    ref = epdf.azimuthal_profile(centred.signal, npt=50, s_max=2.0)
    naive = epdf.azimuthal_profile(drifted.signal, npt=50, s_max=2.0)
    fixed = epdf.azimuthal_profile(drifted.signal, npt=50, s_max=2.0, beam_shift=plane)
    if lazy:
        assert fixed._lazy
        fixed.compute(show_progressbar=False)
        naive.compute(show_progressbar=False)
    s = ref.axes_manager.signal_axes[0].axis
    # the generator shifts patterns by bilinear interpolation, which smears the
    # half-pixel-wide central beam: compare outside it (s > 0.3 Å⁻¹)
    sel = s > 0.3
    err_fixed = np.abs(fixed.data[..., sel] / ref.data[..., sel] - 1).max()
    err_naive = np.abs(naive.data[..., sel] / ref.data[..., sel] - 1).max()
    assert err_fixed < 0.03 < 0.1 < err_naive
    with pytest.raises(ValueError, match="'beam_shift' must have shape"):
        epdf.azimuthal_profile(centred.signal, npt=10, beam_shift=np.zeros((2, 2)))


def test_descan_helper_recovers_injected_shifts_at_paper_dose():
    noisy = data.two_phase_composite(nav_shape=(8, 8), descan=(5.0, -3.0), seed=9)  # 10 e⁻/Å²
    measured, plane, residual = epdf.signals.descan(noisy.signal)
    truth = 0.5 - noisy.parameters.beam_shifts
    assert np.abs(np.asarray(measured.data) - truth).max() < 0.2
    assert np.abs(np.asarray(plane.data) - truth).max() < 0.05
    assert residual.data.shape == (8, 8) and residual.data.max() < 0.2


def test_region_sum_before_integration_equals_after(synth):
    mask = np.zeros((4, 5), bool)
    mask[1:3, 1:4] = True
    frames = np.asarray(synth.signal.data)[mask].sum(axis=0)
    summed_dp = synth.signal.inav[0, 0].deepcopy()
    summed_dp.data = frames
    before = epdf.azimuthal_profile(summed_dp, npt=40, s_max=2.4)
    after = epdf.azimuthal_profile(synth.signal, npt=40, s_max=2.4).sum_regions(mask)
    np.testing.assert_allclose(after.data, before.data, rtol=1e-6)  # float32 frames


def test_gap_does_not_bias_the_profile():
    noisy = data.two_phase_composite(nav_shape=(6, 6), seed=10)
    gap = np.zeros((128, 128), bool)
    gap[62:65, :] = True
    gap[:, 62:65] = True
    with_gap = epdf.azimuthal_profile(noisy.signal, npt=40, s_max=2.4, mask=gap)
    without = epdf.azimuthal_profile(noisy.signal, npt=40, s_max=2.4)
    s = without.axes_manager.signal_axes[0].axis
    sel = s > 0.3
    total_a = with_gap.data.sum(axis=(0, 1))[sel]
    total_b = without.data.sum(axis=(0, 1))[sel]
    var = without.metadata.Signal.Noise_properties.variance.data.sum(axis=(0, 1))[sel]
    assert np.all(np.abs(total_a - total_b) < 5 * np.sqrt(var))


def test_flat_pattern_stays_flat_at_low_s():
    import hyperspy.api as hs

    flat = hs.signals.Signal2D(np.ones((2, 64, 64)))
    flat.set_signal_type("electron_diffraction")
    for ax in flat.axes_manager.signal_axes:
        ax.scale, ax.offset, ax.units = 0.05, -31.5 * 0.05, "k_A^-1"
    prof = epdf.azimuthal_profile(flat, npt=30, s_max=1.5)  # first bins hold < 1 pixel each
    np.testing.assert_allclose(prof.data, 1.0, rtol=1e-12)


def test_geometry_errors(synth):
    with pytest.raises(ValueError, match="beyond the detector corner"):
        epdf.azimuthal_profile(synth.signal, npt=10, s_max=10.0)
    with pytest.raises(ValueError, match="'center' .* lies outside the detector"):
        epdf.azimuthal_profile(synth.signal, npt=10, center=(9.0, 0.0))
    with pytest.raises(ValueError, match="'mask' must have the detector shape"):
        epdf.azimuthal_profile(synth.signal, npt=10, mask=np.zeros((3, 3), bool))


@pytest.fixture(scope="module")
def drifted():
    return data.two_phase_composite(nav_shape=(8, 8), descan=(4.0, -3.0), noise=False, seed=5)


def test_descan_result_as_beam_shift_and_on_the_binned_scan(drifted):
    """descan(dp) itself is a beam_shift; a full-resolution map is averaged over the bin
    blocks of a navigation-binned scan, whose profile is 4× the block mean of the
    full-resolution profiles (rebin sums counts; the detector axes are unchanged)."""
    dp = drifted.signal
    result = epdf.signals.descan(dp)
    full = epdf.azimuthal_profile(dp, npt=50, s_max=2.0, beam_shift=result)
    same = epdf.azimuthal_profile(dp, npt=50, s_max=2.0, beam_shift=result.plane)
    np.testing.assert_array_equal(full.data, same.data)
    binned = dp.rebin(scale=(2, 2, 1, 1))
    assert binned.axes_manager.signal_axes[0].scale == dp.axes_manager.signal_axes[0].scale
    prof = epdf.azimuthal_profile(binned, npt=50, s_max=2.0, beam_shift=result)
    assert prof.metadata.ePDF.integration.beam_shift_binning == [2, 2]
    assert prof.metadata.ePDF.history.step_00.parameters.beam_shift_binning == [2, 2]
    block = 4 * full.data.reshape(4, 2, 4, 2, -1).mean(axis=(1, 3))
    s = full.axes_manager.signal_axes[0].axis
    sel = s > 0.3
    # the four patterns of a block are 0.5 px apart and integrated with their mean centre:
    # 0.6 % on the steep tail of the beam, 0.1 % beyond 0.8 Å⁻¹
    np.testing.assert_allclose(prof.data[..., sel], block[..., sel], rtol=1e-2)
    np.testing.assert_allclose(prof.data[..., s > 0.8], block[..., s > 0.8], rtol=5e-3)
    # the truth: the binned scan integrated with the block-mean of the true centres
    truth = 0.5 - drifted.parameters.beam_shifts
    exact = epdf.azimuthal_profile(binned, npt=50, s_max=2.0,
                                   beam_shift=truth.reshape(4, 2, 4, 2, 2).mean(axis=(1, 3)))
    np.testing.assert_allclose(prof.data[..., sel], exact.data[..., sel], rtol=5e-3)
    with pytest.raises(ValueError, match=r"integer multiple of \(4, 4\).*got \(3, 3, 2\)"):
        epdf.azimuthal_profile(binned, npt=10, beam_shift=np.zeros((3, 3, 2)))


def test_default_outer_edge_is_the_smallest_full_ring_over_the_patterns(drifted):
    dp = drifted.signal
    plane = epdf.signals.descan(dp).plane
    prof = epdf.azimuthal_profile(dp, beam_shift=plane)
    ax = dp.axes_manager.signal_axes[0]
    centres_px = ax.size / 2 - np.asarray(plane.data)  # pixel index of every centre
    n = ax.size
    full_px = np.min(np.minimum.reduce([centres_px[..., 0], n - 1 - centres_px[..., 0],
                                        centres_px[..., 1], n - 1 - centres_px[..., 1]]))
    edges = np.asarray(prof.metadata.ePDF.integration.edges)
    assert edges[-1] == pytest.approx(full_px * ax.scale, rel=1e-9)
    assert prof.metadata.ePDF.history.step_00.parameters.s_max == pytest.approx(edges[-1])
    centred = epdf.azimuthal_profile(dp)
    assert centred.metadata.ePDF.integration.edges[-1] > edges[-1]
    # no bin reaches beyond the detector for any pattern: valid areas equal the annuli
    n_min = np.asarray(prof.metadata.ePDF.integration.n_valid_min)
    annulus = np.pi * np.diff(edges**2) / ax.scale**2
    np.testing.assert_allclose(n_min[5:], annulus[5:], rtol=2e-3)


@pytest.mark.parametrize("nav", ["0d", "1d"])
def test_descan_and_profile_on_0d_and_1d_navigation(drifted, nav):
    dp = drifted.signal.inav[:, 2] if nav == "1d" else drifted.signal.inav[3, 2]
    result = epdf.signals.descan(dp)
    truth = (0.5 - drifted.parameters.beam_shifts)[2] if nav == "1d" else \
        (0.5 - drifted.parameters.beam_shifts)[2, 3]
    assert np.abs(np.asarray(result.measured.data) - truth).max() < 0.05
    assert np.abs(np.asarray(result.plane.data) - truth).max() < 0.05
    if nav == "0d":
        np.testing.assert_array_equal(result.plane.data, result.measured.data)
    assert result.residual.metadata.ePDF.descan.fit == ("line" if nav == "1d" else "none")
    prof = epdf.azimuthal_profile(dp, npt=40, s_max=2.0, beam_shift=result)
    assert prof.data.shape == (() if nav == "0d" else (8,)) + (40,)
    assert np.all(np.isfinite(prof.data))


def test_descan_lazy_equals_eager(drifted):
    eager = epdf.signals.descan(drifted.signal)
    lazy = epdf.signals.descan(drifted.signal.as_lazy())
    np.testing.assert_allclose(lazy.measured.data, eager.measured.data, rtol=1e-12)
    assert type(lazy.plane).__name__ == "BeamShift"
    assert lazy.plane.metadata.Shifts.signal_axes[0].scale == \
        drifted.signal.axes_manager.signal_axes[0].scale


@pytest.mark.parametrize("lazy", [False, True])
def test_nonfinite_pixels_are_left_out_and_counted(synth, lazy):
    dp = synth.signal.deepcopy()
    dp.data = dp.data.astype(np.float32)
    dp.data[1, 2, 40, 70] = np.nan
    dp.data[3, 0, 10, 64] = np.inf
    if lazy:
        dp = dp.as_lazy()
        prof = epdf.azimuthal_profile(dp, npt=30, s_max=2.4)
        prof.compute(show_progressbar=False)
        bad = prof.metadata.ePDF.integration.nonfinite_pixels
        assert not bad._lazy  # computed with the profile, in the same pass
    else:
        with pytest.warns(UserWarning, match="2 non-finite"):
            prof = epdf.azimuthal_profile(dp, npt=30, s_max=2.4)
        bad = prof.metadata.ePDF.integration.nonfinite_pixels
    assert np.all(np.isfinite(prof.data))
    assert bad.data[1, 2] == 1 and bad.data[3, 0] == 1 and bad.data.sum() == 2
    clean = epdf.azimuthal_profile(synth.signal, npt=30, s_max=2.4)
    np.testing.assert_allclose(prof.data[0, 0], clean.data[0, 0], rtol=1e-6)


def test_beam_stop_mask_bins_are_interpolated_with_a_warning(synth):
    mask, _ = epdf.signals.detector_mask(synth.signal, beam_stop_radius=0.15)
    with pytest.warns(UserWarning, match="hold no valid pixel"):
        prof = epdf.azimuthal_profile(synth.signal, npt=40, s_max=2.4, mask=mask)
    empty = prof.metadata.ePDF.integration.empty_bins
    assert empty and empty[0] == 0
    assert np.all(np.asarray(prof.metadata.ePDF.integration.n_valid_min)[empty] == 0)
    assert np.all(np.isfinite(prof.data)) and np.all(prof.data[..., empty] > 0)
    first = max(empty) + 1
    np.testing.assert_allclose(prof.data[..., empty],
                               np.broadcast_to(prof.data[..., first:first + 1],
                                               prof.data[..., empty].shape))


def test_input_validation(synth):
    dp = synth.signal
    for bad in (20.7, "abc", True):
        with pytest.raises(ValueError, match="'npt' must be an integer"):
            epdf.azimuthal_profile(dp, npt=bad)
    with pytest.raises(ValueError, match="'subpixel' must be an integer"):
        epdf.azimuthal_profile(dp, npt=10, subpixel=2.5)
    with pytest.raises(ValueError, match=r"'npt'|GB"):
        epdf.azimuthal_profile(dp, npt=10**9)
    tiny = dp.inav[0, 0].deepcopy().isig[:3, :3]
    with pytest.raises(ValueError, match="3 × 3 pixels.*at least 8 × 8"):
        epdf.azimuthal_profile(tiny)
    with pytest.raises(TypeError, match="complex"):
        cplx = dp.inav[0, 0].deepcopy()
        cplx.data = cplx.data.astype(np.complex64)
        epdf.azimuthal_profile(cplx, npt=10)
    half = dp.deepcopy()
    half.data = half.data.astype(np.float16)
    np.testing.assert_allclose(epdf.azimuthal_profile(half, npt=30, s_max=2.4).data,
                               epdf.azimuthal_profile(dp, npt=30, s_max=2.4).data, rtol=2e-3)
    zero = dp.deepcopy()
    zero.axes_manager.signal_axes[0].scale = 0.0
    with pytest.raises(ValueError, match="has scale 0.0"):
        epdf.azimuthal_profile(zero)
    with pytest.raises(ValueError, match="'mask' excludes every detector pixel"):
        epdf.azimuthal_profile(dp, npt=10, mask=np.ones(dp.data.shape[-2:], bool))
    neg = dp.deepcopy()
    neg.data = neg.data.astype(np.float32) - 0.5
    with pytest.raises(ValueError, match="negative values"):
        epdf.azimuthal_profile(neg, npt=30, s_max=2.4)
    ok = epdf.azimuthal_profile(neg, npt=30, s_max=2.4, allow_negative=True)
    assert ok.metadata.ePDF.integration.variance_clipped_at_0
    assert np.all(ok.metadata.Signal.Noise_properties.variance.data >= 0)


def test_from_profile_copies_and_warns_on_pyxem_sums(synth):
    prof = synth.signal.inav[:2, :1].get_azimuthal_integral1d(
        npt=60, radial_range=(0.0, 2.4), mean=True, show_progressbar=False)
    ri = epdf.from_profile(prof)
    ri.data[...] = -1.0
    assert not np.any(prof.data == -1.0)
    # a uniform detector: the ring means are flat, pyxem's default ring sums grow ∝ s
    flat = synth.signal.inav[0, 0].deepcopy()
    flat.data = np.full(flat.data.shape, 3.0, dtype=np.float32)
    summed = flat.get_azimuthal_integral1d(npt=60, radial_range=(0.0, 2.4),
                                           show_progressbar=False)
    with pytest.warns(UserWarning, match="ring \\*sums\\*"):
        epdf.from_profile(summed)
    epdf.from_profile(flat.get_azimuthal_integral1d(npt=60, radial_range=(0.0, 2.4), mean=True,
                                                    show_progressbar=False))  # no warning
