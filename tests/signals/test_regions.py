"""ReducedIntensity1DPlus.sum_regions: masks, ROIs, laziness, the region route."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data
from pyxem_epdf.physics import corrections, peaks, transform

from ..conftest import COMPOSITION


@pytest.fixture
def ri(ri_signal):
    return ri_signal((4, 5))  # nav axes x (5, scale 5 nm, offset 10), y (4)


def test_mask_sum_equals_manual(ri):
    mask = np.zeros((4, 5), bool)
    mask[1:3, 2:] = True
    out = ri.sum_regions(mask)
    np.testing.assert_allclose(out.data, ri.data[mask].sum(axis=0))
    assert out.axes_manager.navigation_dimension == 0
    assert out.axes_manager.signal_axes[0].scale == ri.axes_manager.signal_axes[0].scale
    assert out.metadata.ePDF.regions.n_pixels == [6]
    assert out.metadata.ePDF.history.as_dictionary()[f"step_{1:02d}"]["method"] == "sum_regions"
    mean = ri.sum_regions(mask, mean=True)
    np.testing.assert_allclose(mean.data, ri.data[mask].mean(axis=0))


def test_list_gives_region_axis_and_lazy_equals_eager(ri):
    masks = [np.eye(4, 5, dtype=bool), ~np.eye(4, 5, dtype=bool)]
    eager = ri.sum_regions(masks)
    assert eager.data.shape == (2, ri.data.shape[-1])
    assert eager.axes_manager.navigation_axes[0].name == "region"
    lazy = ri.as_lazy().sum_regions(masks)
    assert isinstance(lazy, epdf.LazyReducedIntensity1DPlus)
    assert isinstance(lazy.data, da.Array)
    lazy.compute()
    np.testing.assert_allclose(lazy.data, eager.data, rtol=1e-12)
    np.testing.assert_allclose(eager.data.sum(0), ri.data.sum(axis=(0, 1)))


def test_rois_match_masks(ri):
    # x = 10, 15, 20, 25, 30 nm; y = 10, 15, 20, 25 nm
    rect = hs.roi.RectangularROI(left=14, right=26, top=9, bottom=21)
    expected = np.zeros((4, 5), bool)
    expected[0:3, 1:4] = True
    np.testing.assert_allclose(ri.sum_regions(rect).data, ri.data[expected].sum(0))
    circle = hs.roi.CircleROI(cx=20, cy=15, r=5.1)
    yy, xx = np.meshgrid([10, 15, 20, 25], [10, 15, 20, 25, 30], indexing="ij")
    expected = (xx - 20) ** 2 + (yy - 15) ** 2 <= 5.1**2
    np.testing.assert_allclose(ri.sum_regions(circle).data, ri.data[expected].sum(0))


def test_span_roi_on_line_scan(ri_signal):
    line = ri_signal((6,))
    out = line.sum_regions(hs.roi.SpanROI(left=14, right=26))  # x = 15, 20, 25
    np.testing.assert_allclose(out.data, line.data[1:4].sum(0))


def test_variance_summed(ri):
    ri.estimate_poissonian_noise_variance()
    mask = np.ones((4, 5), bool)
    out = ri.sum_regions(mask)
    var = out.metadata.Signal.Noise_properties.variance
    np.testing.assert_allclose(var.data, ri.data.sum(axis=(0, 1)))


def test_input_not_modified(ri):
    before = ri.data.copy()
    ri.sum_regions(np.ones((4, 5), bool))
    np.testing.assert_array_equal(ri.data, before)


@pytest.mark.parametrize(
    "region, match",
    [
        (np.ones((5, 4), bool), "navigation shape \\(4, 5\\)"),
        (np.ones((4, 5)), "must be boolean"),
        (np.zeros((4, 5), bool), "selects no probe position"),
        (hs.roi.RectangularROI(left=100, right=120, top=100, bottom=120), "outside the scan"),
        (hs.roi.SpanROI(left=0, right=1), "needs a 1-D scan"),
    ],
)
def test_errors(ri, region, match):
    with pytest.raises(ValueError, match=match):
        ri.sum_regions(region)


def test_stage_and_nav_errors(ri, ri_signal):
    phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    with pytest.raises(ValueError, match="Sum the intensity before fit_scattering"):
        phi.sum_regions(np.ones((4, 5), bool))
    with pytest.raises(ValueError, match="no navigation axes"):
        ri_signal(()).sum_regions(np.ones((), bool))


def test_region_route_on_composite():
    """Paper Fig. 2 route: region sums of the synthetic composite match the truth."""
    synth = data.two_phase_composite(nav_shape=(12, 12), seed=5)
    profile = synth.signal.get_azimuthal_integral1d(npt=70, mean=True, show_progressbar=False)
    ri = epdf.from_profile(profile)
    masks = [synth.fractions[..., k] > 0.9 for k in range(2)]
    sums = ri.sum_regions(masks)
    pdf = []
    for k, phase in enumerate(synth.phases):
        pdf = (
            sums.inav[k]
            .fit_scattering(phase.composition, s_range=(1.6, 2.5))
            .polynomial_correct(s_max=2.5)
            .damp_exponential(b=0.6)
            .extrapolate_low_s(s_min=0.18)
            .to_pdf(r_max=10, r_step=0.01)
        )
        r = pdf.axes_manager.signal_axes[0].axis
        s = np.linspace(0, 2.5, 600)
        phi = phase.reduced_intensity(s) * corrections.exponential_damping(s, 0.6)
        truth = transform.sine_transform(corrections.extrapolate_low_s(phi, s, 0.18), s, r)
        win = (r > 1.1) & (r < 8)
        assert np.corrcoef(pdf.data[win], truth[win])[0, 1] > 0.95
        found = peaks.find_peaks(pdf.data, r, r_range=(1.1, 3.2), n_peaks=2)[0]
        expected = peaks.find_peaks(truth, r, r_range=(1.1, 3.2), n_peaks=2)[0]
        np.testing.assert_allclose(found, expected, atol=0.04)


def test_damping_suggestion_per_pixel_vs_region():
    """Per-pixel data need more damping than the region sum (the paper's practice)."""
    synth = data.two_phase_composite(nav_shape=(12, 12), seed=6)
    # 150 bins: Δs = 0.024 Å⁻¹, aliasing limit 21 Å > the 15–20 Å noise window
    profile = synth.signal.get_azimuthal_integral1d(npt=150, mean=True, show_progressbar=False)
    ri = epdf.from_profile(profile)
    glass = synth.fractions[..., 1] > 0.9

    def corrected(sig):
        return (
            sig.fit_scattering(synth.phases[1].composition, (1.6, 2.5), fix_c=True)
            .polynomial_correct(s_max=2.5)
        )

    per_pixel = corrected(ri).suggest_damping(s_min=0.18)
    region = corrected(ri.sum_regions(glass)).suggest_damping(s_min=0.18)
    assert region.b < per_pixel.b
    with pytest.raises(ValueError, match="already damped"):
        corrected(ri).damp_exponential(0.5).suggest_damping(s_min=0.18)
    with pytest.raises(ValueError, match="Call fit_scattering"):
        ri.suggest_damping(s_min=0.18)
