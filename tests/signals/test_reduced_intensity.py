"""ReducedIntensity1DPlus: chain, method contract, laziness, metadata, errors."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf.physics.models import gaussian_peaks_pdf
from pyxem_epdf.signals import (
    LazyPDF1DPlus,
    LazyReducedIntensity1DPlus,
    PDF1DPlus,
    ReducedIntensity1DPlus,
)

from ..conftest import COMPOSITION, PEAKS, analytic_intensity

NAV_SHAPES = [(), (3,), (2, 3)]


def chain(ri, **kw):
    return (
        ri.fit_scattering(COMPOSITION, s_range=(1.6, 2.5), **kw)
        .polynomial_correct()
        .damp_exponential(b=0.2)
        .extrapolate_low_s(s_min=0.18)
        .to_pdf(r_max=8, r_step=0.01)
    )


@pytest.mark.parametrize("nav_shape", NAV_SHAPES)
@pytest.mark.parametrize("lazy", [False, True])
def test_fit_recovers_n_and_c_maps(ri_signal, nav_shape, lazy):
    ri = ri_signal(nav_shape, lazy=lazy, structure=False)
    phi = ri.fit_scattering(COMPOSITION, s_range=(1.6, 2.5))
    assert phi._lazy is lazy
    N = phi.metadata.ePDF.fit.N
    assert N.axes_manager.signal_shape == tuple(reversed(nav_shape)) or nav_shape == ()
    C = phi.metadata.ePDF.fit.C
    n, c = (x.data.compute() if lazy else x.data for x in (N, C))
    _, n_true, c_true = analytic_intensity(nav_shape)
    np.testing.assert_allclose(np.reshape(n, nav_shape), n_true, rtol=1e-9)
    np.testing.assert_allclose(np.reshape(c, nav_shape), c_true, atol=1e-9)


@pytest.mark.parametrize("nav_shape", NAV_SHAPES)
def test_full_chain_lazy_equals_eager_and_is_lazy(ri_signal, nav_shape):
    eager = chain(ri_signal(nav_shape))
    lazy = chain(ri_signal(nav_shape, lazy=True))
    assert isinstance(eager, PDF1DPlus) and not eager._lazy
    assert isinstance(lazy, LazyPDF1DPlus) and isinstance(lazy.data, da.Array)
    np.testing.assert_allclose(lazy.data.compute(), eager.data, rtol=1e-9, atol=1e-9)
    assert eager.axes_manager.navigation_shape == ri_signal(nav_shape).axes_manager.navigation_shape


def test_chain_reproduces_known_peak_positions(ri_signal):
    pdf = chain(ri_signal((2, 3)))
    r = pdf.axes_manager.signal_axes[0]
    assert (r.name, r.units, r.scale, r.offset) == ("r", "Å", 0.01, 0.0)
    pos, _ = pdf.find_peaks(3, r_range=(1.0, 5.0))
    np.testing.assert_allclose(pos.data, np.broadcast_to(PEAKS["centers"], (2, 3, 3)), atol=0.02)


def test_navigation_axes_kept(ri_signal):
    ri = ri_signal((2, 3))
    pdf = chain(ri)
    for a, b in zip(ri.axes_manager.navigation_axes, pdf.axes_manager.navigation_axes, strict=True):
        assert (a.name, a.units, a.scale, a.offset) == (b.name, b.units, b.scale, b.offset)
    N = pdf.metadata.ePDF.fit.N
    assert N.axes_manager.signal_axes[0].scale == 5.0


def test_inplace_contract(ri_signal):
    ri = ri_signal((3,))
    before = ri.data.copy()
    out = ri.fit_scattering(COMPOSITION, s_range=(1.6, 2.5))
    np.testing.assert_array_equal(ri.data, before)
    assert ri.metadata.ePDF.stage == "intensity"
    assert ri.fit_scattering(COMPOSITION, s_range=(1.6, 2.5), inplace=True) is None
    np.testing.assert_allclose(ri.data, out.data)
    assert ri.metadata.ePDF.stage == "reduced_intensity"
    damped = ri.damp_exponential(0.5)
    assert ri.damp_exponential(0.5, inplace=True) is None
    np.testing.assert_allclose(ri.data, damped.data)
    assert "fit" in ri.metadata.ePDF  # metadata carried


def test_lazy_output(ri_signal):
    ri = ri_signal((3,))
    lazy = ri.fit_scattering(COMPOSITION, s_range=(1.6, 2.5), lazy_output=True)
    assert isinstance(lazy, LazyReducedIntensity1DPlus)
    eager = ri_signal((3,), lazy=True).fit_scattering(
        COMPOSITION, s_range=(1.6, 2.5), lazy_output=False
    )
    assert isinstance(eager, ReducedIntensity1DPlus) and not eager._lazy
    np.testing.assert_allclose(lazy.data.compute(), eager.data)
    with pytest.raises(ValueError, match="'lazy_output=True' requires 'inplace=False'"):
        ri.fit_scattering(COMPOSITION, (1.6, 2.5), inplace=True, lazy_output=True)


def test_metadata_records_every_step(ri_signal):
    pdf = chain(ri_signal((2,)))
    steps = [v["method"] for v in pdf.metadata.ePDF.history.as_dictionary().values()]
    assert steps == [
        "from_profile", "fit_scattering", "polynomial_correct",
        "damp_exponential", "extrapolate_low_s", "to_pdf",
    ]
    md = pdf.metadata.ePDF
    assert md.fit.s_range == [1.6, 2.5] and md.damping.b == 0.2 and md.s_min == 0.18
    assert md.polynomial.coefficients.data.shape == (2, 3)
    assert pdf.metadata.ePDF.fit.elements == ["O", "Si"]
    assert not pdf.metadata.has_item("Sample.elements")  # the sample's own elements untouched
    assert pdf.metadata.General.title == "G(r) of test"  # one level; the steps are in history
    assert pdf.metadata.Signal.quantity == "G(r) (Å⁻²)"


def test_formula_composition_equals_dict(ri_signal):
    ri = ri_signal(())
    a = ri.fit_scattering("SiO2", (1.6, 2.5))
    b = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    np.testing.assert_allclose(a.data, b.data)


def test_composition_map(ri_signal):
    """A uniform per-pixel map gives the same φ as the scalar composition."""
    ri = ri_signal((2, 3))
    maps = {"Si": np.full((2, 3), 1 / 3), "O": hs.signals.Signal2D(np.full((2, 3), 2 / 3))}
    np.testing.assert_allclose(
        ri.fit_scattering(maps, (1.6, 2.5)).data,
        ri.fit_scattering(COMPOSITION, (1.6, 2.5)).data,
    )
    with pytest.raises(ValueError, match="navigation shape"):
        ri.fit_scattering({"Si": np.ones((3, 2)) / 3, "O": np.ones((3, 2)) * 2 / 3}, (1.6, 2.5))
    with pytest.raises(ValueError, match="sum to 1"):
        ri.fit_scattering({"Si": np.ones((2, 3)), "O": np.ones((2, 3))}, (1.6, 2.5))


def test_fix_c_and_weights(ri_signal):
    ri = ri_signal((3,))
    fixed = ri.fit_scattering(COMPOSITION, (1.6, 2.5), fix_c=True)
    assert np.all(fixed.metadata.ePDF.fit.C.data == 0)
    poisson = ri.fit_scattering(COMPOSITION, (1.6, 2.5), weights="poisson")
    assert poisson.metadata.ePDF.fit.weights == "poisson"
    with pytest.raises(ValueError, match="Noise_properties"):
        ri.fit_scattering(COMPOSITION, (1.6, 2.5), weights="variance")
    ri.estimate_poissonian_noise_variance()
    ri.fit_scattering(COMPOSITION, (1.6, 2.5), weights="variance")
    with pytest.raises(ValueError, match="'weights' must be"):
        ri.fit_scattering(COMPOSITION, (1.6, 2.5), weights="bogus")


def test_vacuum_pattern_no_nan(ri_signal):
    ri = ri_signal((3,))
    ri.data[1] = 0.0
    with pytest.warns(UserWarning, match="1 of 3 patterns have no counts at all"):
        phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    assert phi.metadata.ePDF.fit.valid.data.tolist() == [True, False, True]
    pdf = phi.polynomial_correct().damp_exponential(0.5).extrapolate_low_s(0.18).to_pdf()
    assert np.all(np.isfinite(pdf.data)) and np.all(pdf.data[1] == 0)
    for key in ("N", "C", "N_std", "C_std", "reduced_chi2"):
        assert np.all(np.isfinite(phi.metadata.ePDF.fit[key].data))


def test_polynomial_crop_and_range(ri_signal):
    phi = ri_signal((2,)).fit_scattering(COMPOSITION, (1.6, 2.5))
    cropped = phi.polynomial_correct(s_max=2.5)
    assert cropped.axes_manager.signal_axes[0].axis[-1] <= 2.5
    assert cropped.metadata.ePDF.polynomial.s_range == [0.14, 2.5]  # (default s_min, s_max)


def test_damp_lorch(ri_signal):
    phi = ri_signal(()).fit_scattering(COMPOSITION, (1.6, 2.5))
    out = phi.damp_lorch(s_max=2.0)
    s = out.axes_manager.signal_axes[0].axis
    assert np.all(out.data[s > 2.0] == 0)
    assert out.metadata.ePDF.damping.as_dictionary() == {"kind": "lorch", "s_max": 2.0}


# ------------------------------------------------------------------ errors
def test_uncalibrated_axis():
    sig = hs.signals.Signal1D(np.ones((2, 100)))
    with pytest.raises(ValueError, match="not calibrated in s"):
        epdf.from_profile(sig)
    sig.set_signal_type("epdf_reduced_intensity")
    with pytest.raises(ValueError, match="not calibrated in s"):
        sig.fit_scattering("SiO2", (0.5, 0.9))


def test_nm_axis_converted(ri_signal):
    sig = hs.signals.Signal1D(ri_signal(()).data)
    ax = sig.axes_manager.signal_axes[0]
    ax.offset, ax.scale, ax.units = 0.05, 0.1, "nm^-1"
    ri = epdf.from_profile(sig)
    out = ri.axes_manager.signal_axes[0]
    assert out.units == "Å^-1" and out.scale == pytest.approx(0.01)
    assert out.offset == pytest.approx(0.005)


def test_pyxem_left_edges_recentred():
    sig = hs.signals.Signal1D(np.ones(10))
    ax = sig.axes_manager.signal_axes[0]
    ax.name, ax.scale, ax.units = "Radius", 0.1, "k_A^-1"
    assert epdf.from_profile(sig).axes_manager.signal_axes[0].offset == pytest.approx(0.05)
    assert epdf.from_profile(sig, bin_position="center").axes_manager.signal_axes[0].offset == 0
    with pytest.raises(ValueError, match="'bin_position'"):
        epdf.from_profile(sig, bin_position="middle")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"s_range": (2.5, 3.5)}, "outside the data"),
        ({"s_range": (1.6, 2.5), "table": "doyle-turner"}, "'table' must be one of"),
    ],
)
def test_fit_errors(ri_signal, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ri_signal(()).fit_scattering(COMPOSITION, **kwargs)


@pytest.mark.parametrize(
    "composition, match",
    [
        ({"Xx": 1.0}, "Xx"),
        ({"Si": -0.5, "O": 1.5}, "composition"),
        ({"Si": 0.5, "O": 0.6}, "sum"),
    ],
)
def test_composition_errors(ri_signal, composition, match):
    with pytest.raises(ValueError, match=match):
        ri_signal(()).fit_scattering(composition, (1.6, 2.5))


def test_stage_errors(ri_signal):
    ri = ri_signal(())
    with pytest.raises(ValueError, match="Call fit_scattering"):
        ri.damp_exponential(0.5)
    phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    with pytest.raises(ValueError, match="already holds"):
        phi.fit_scattering(COMPOSITION, (1.6, 2.5))
    with pytest.raises(ValueError, match="'b' must be"):
        phi.damp_exponential(-0.1)
    with pytest.raises(ValueError, match="r grid would be empty"):
        phi.to_pdf(r_max=0)
    with pytest.raises(ValueError, match="'s_min' = .* must lie below the fit window"):
        phi.extrapolate_low_s(5.0)


def test_truth_pdf_matches_transform_of_truth(ri_signal):
    """Chain on noiseless data ≈ G truth band-limited to the same s range."""
    pdf = chain(ri_signal(()))
    r = pdf.axes_manager.signal_axes[0].axis
    truth = gaussian_peaks_pdf(r, **PEAKS)
    win = (r > 1.2) & (r < 5)
    assert np.corrcoef(pdf.data[win], truth[win])[0, 1] > 0.95


def test_steps_share_result_maps_but_not_the_rest_of_the_metadata(ri_signal):
    ri = ri_signal()
    phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    poly = phi.polynomial_correct()
    # the fitted maps are the same objects (not re-created at every step) …
    assert poly.metadata.ePDF.fit.N is phi.metadata.ePDF.fit.N
    # … while the input keeps its own metadata: nothing of the new step leaks back
    assert not phi.metadata.has_item("ePDF.polynomial")
    assert poly.metadata.has_item("ePDF.polynomial")
    assert len(phi.metadata.ePDF.history) == len(poly.metadata.ePDF.history) - 1
    poly.metadata.ePDF.fit.s_range[0] = 0.0  # plain values are copies
    assert phi.metadata.ePDF.fit.s_range[0] == 1.6


def test_to_pdf_in_float32_lazy_and_eager(ri_signal):
    phi = ri_signal(nav_shape=(3, 4)).fit_scattering(COMPOSITION, (1.6, 2.5))
    g64 = phi.to_pdf(10, 0.02)
    g32 = phi.to_pdf(10, 0.02, dtype="float32")
    lazy32 = phi.as_lazy().to_pdf(10, 0.02, dtype="float32")
    assert g32.data.dtype == np.float32 and lazy32.data.dtype == np.float32
    assert np.abs(g32.data - g64.data).max() < 1e-5 * np.abs(g64.data).max()
    np.testing.assert_allclose(lazy32.data.compute(), g32.data, rtol=0,
                               atol=1e-6 * np.abs(g64.data).max())
    history = g32.metadata.ePDF.history.as_dictionary()
    assert history[sorted(history)[-1]]["parameters"]["dtype"] == "float32"
    with pytest.raises(ValueError, match="'dtype'"):
        phi.to_pdf(10, 0.02, dtype="complex")
