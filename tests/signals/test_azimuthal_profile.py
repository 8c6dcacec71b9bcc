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
