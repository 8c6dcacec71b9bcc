"""Defaults only, one meaning of s_max, low s, fit quality, bad input, conventions (issues 12, 14, 15)."""

import warnings

import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data
from pyxem_epdf.physics import chain, fit

from ..conftest import COMPOSITION, ComputeCounter


@pytest.fixture(scope="module")
def composite():
    synth = data.two_phase_composite(nav_shape=(6, 6), detector_shape=(64, 64), s_scale=0.08)
    ri = epdf.azimuthal_profile(synth.signal, npt=32, s_max=2.5, show_progressbar=False)
    return synth, ri, data.average_composition(synth)


def steps_with_defaults(ri, comp):
    return (ri.fit_scattering(comp).polynomial_correct().damp_exponential()
            .extrapolate_low_s().to_pdf())


# ------------------------------------------------------------------ defaults only
@pytest.mark.parametrize("lazy", [False, True])
def test_defaults_only_route(composite, lazy):
    synth, ri, comp = composite
    ri = ri.as_lazy() if lazy else ri
    pdf = ri.get_pdf(comp)
    assert pdf._lazy == lazy
    pdf.compute(show_progressbar=False) if lazy else None
    assert np.all(np.isfinite(pdf.data))
    params = pdf.metadata.ePDF.history.step_01.parameters
    assert params["s_range"] == pytest.approx([0.64 * 2.5, 2.5])
    b = pdf.metadata.ePDF.damping.b
    s_last = float(ri.axes_manager.signal_axes[0].axis[-1])
    assert b == pytest.approx(chain.DAMPING_AT_EDGE / s_last**2, rel=1e-3)
    assert pdf.metadata.ePDF.s_min == chain.DEFAULT_S_MIN
    assert pdf.metadata.ePDF.polynomial.s_range == pytest.approx([chain.DEFAULT_S_MIN, s_last])
    # the step-by-step chain with defaults gives the same G
    np.testing.assert_allclose(pdf.data, np.asarray(steps_with_defaults(ri, comp).data),
                               rtol=1e-9, atol=1e-9 * np.abs(pdf.data).max())


def test_defaults_only_measured_sio2():
    ri = data.example_profile()
    pdf = ri.get_pdf("SiO2", r_max=10.0)
    assert pdf.metadata.ePDF.s_min == pytest.approx(0.17702)  # the beam-stop edge of the data
    pos, _ = pdf.find_peaks(2, r_range=(1.3, 3.0))
    np.testing.assert_allclose(pos.data, [1.61, 2.63], atol=0.03)


# ------------------------------------------------------------- one meaning of s_max
def test_s_max_up_to_integration_edge(composite):
    synth, _, comp = composite
    ri = epdf.azimuthal_profile(synth.signal, npt=35, s_max=2.5, show_progressbar=False)
    assert ri.axes_manager.signal_axes[0].axis[-1] < 2.5
    phi = ri.fit_scattering(comp, (1.6, 2.5)).polynomial_correct(s_max=2.5)
    assert phi.metadata.ePDF.polynomial.s_max == 2.5
    pdf = ri.get_pdf(comp, (1.6, 2.5), s_max=2.5, r_max=10.0)
    assert np.all(np.isfinite(pdf.data))
    with pytest.raises(ValueError, match=r"'s_max' must lie in \(.*, 2.5\] Å⁻¹"):
        ri.get_pdf(comp, (1.6, 2.5), s_max=2.6)
    # the same check the batch dry run can call
    s = ri.axes_manager.signal_axes[0].axis
    assert chain.validate_chain_parameters(s, s_max=2.5, edge=2.5).s_max == 2.5


# ------------------------------------------------------------------------- low s
@pytest.mark.parametrize("route", ["get_pdf", "steps"])
def test_beam_stop_edge_profile_equals_zero_padded(route):
    padded = data.example_profile()
    k0 = int(np.argmax(padded.data > 0))
    cut = padded.isig[k0:]
    s0 = float(cut.axes_manager.signal_axes[0].axis[0])
    kw = {"b": 0.2, "s_min": s0, "r_max": 10.0}

    def run(ri):
        if route == "get_pdf":
            return ri.get_pdf("SiO2", (2.8, 4.0), s_max=4.0, **kw).data
        return (ri.fit_scattering("SiO2", (2.8, 4.0)).polynomial_correct(4.0, (s0, 4.0))
                .damp_exponential(0.2).extrapolate_low_s(s0).to_pdf(r_max=10.0)).data

    g_pad, g_cut = run(padded), run(cut)
    np.testing.assert_allclose(g_cut, g_pad, rtol=1e-9, atol=1e-9 * np.abs(g_pad).max())


# ---------------------------------------------------------------- fit quality flag
def test_outlier_pattern_flagged(composite):
    synth, ri, comp = composite
    bad = ri.deepcopy()
    rng = np.random.default_rng(3)
    bad.data[2, 4] = 0.06 * bad.data[2, 4] + rng.normal(0, 0.5, bad.data.shape[-1])
    with pytest.warns(UserWarning, match=r"1 of 36 patterns are fit-quality outliers \(e.g. at \(2, 4\)"):
        phi = bad.fit_scattering(comp)
    f = phi.metadata.ePDF.fit
    assert f.outlier.data[2, 4] and f.outlier.data.sum() == 1
    assert not f.valid.data[2, 4] and f.valid.data.sum() == 35
    assert max(abs(f.z_N.data[2, 4]), f.z_chi2.data[2, 4]) > fit.OUTLIER_Z
    assert np.all(phi.data[2, 4] != 0)  # φ kept: only marked
    # lazy: same maps, no warning (nothing computed)
    lazy = bad.as_lazy().fit_scattering(comp)
    np.testing.assert_array_equal(lazy.metadata.ePDF.fit.outlier.data.compute(), f.outlier.data)


def test_clean_scan_has_no_outliers(composite):
    _, ri, comp = composite
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        phi = ri.fit_scattering(comp)
    assert not phi.metadata.ePDF.fit.outlier.data.any()


# ------------------------------------------------------------- non-finite, negative
@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_pattern_never_reaches_g(ri_signal, lazy, value):
    ri = ri_signal((2, 3))
    ri.data[1, 2, 40] = value  # outside the fit window too
    before = ri.data.copy()
    src = ri.as_lazy() if lazy else ri
    if lazy:
        pdf = src.get_pdf(COMPOSITION, (1.6, 2.5), r_max=8.0)
        with pytest.warns(UserWarning, match="1 of 6 patterns contain NaN or inf"):
            pdf.compute(show_progressbar=False)  # the lazy fit warns once computed
    else:
        with pytest.warns(UserWarning, match="1 of 6 patterns contain NaN or inf"):
            pdf = src.get_pdf(COMPOSITION, (1.6, 2.5), r_max=8.0)
    assert np.all(np.isfinite(pdf.data)) and np.all(pdf.data[1, 2] == 0)
    f = pdf.metadata.ePDF.fit
    for key in ("N", "C", "N_std", "C_std", "reduced_chi2", "z_N", "z_chi2"):
        assert np.all(np.isfinite(np.asarray(f[key].data))), key
    assert not f.valid.data[1, 2] and not f.finite.data[1, 2]
    coefs = pdf.metadata.ePDF.polynomial.coefficients.data
    assert np.all(np.isfinite(np.asarray(coefs)))
    np.testing.assert_array_equal(ri.data, before)


def test_non_finite_profile_of_our_integration(composite):
    _, ri, comp = composite
    bad = ri.deepcopy()
    bad.data[1, 1, 5] = np.nan
    bad.data[1, 1, -3] = np.inf  # inside the fit window
    with pytest.warns(UserWarning, match="1 of 36 patterns contain NaN or inf"):
        pdf = bad.get_pdf(comp)
    for key, value in pdf.metadata.ePDF.fit:
        if hasattr(value, "data") and value.data.dtype.kind == "f":
            assert np.all(np.isfinite(value.data)), key
    assert np.isfinite(pdf.metadata.ePDF.fit.window_counts.data[1, 1])
    assert np.all(np.isfinite(pdf.data)) and not pdf.metadata.ePDF.fit.valid.data[1, 1]


def test_negative_data_clear_warning(ri_signal):
    ri = ri_signal((3,))
    ri.data[:] = -np.abs(ri.data)
    with pytest.warns(UserWarning, match="All patterns are negative everywhere"):
        phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    assert not phi.metadata.ePDF.fit.valid.data.any() and np.all(phi.data == 0)


# ---------------------------------------------------------------------- weights
def test_weights_none_string_and_variance_rule(ri_signal):
    ri = ri_signal((2, 3))
    a = ri.fit_scattering(COMPOSITION, (1.6, 2.5), weights="none")
    b = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    np.testing.assert_array_equal(a.data, b.data)
    var = ri._deepcopy_with_new_data(np.abs(ri.data) / 10)
    var.data[0, 0, 200] = -0.04  # negative counts give a negative Poisson variance
    ri.metadata.set_item("Signal.Noise_properties.variance", var)
    with pytest.warns(UserWarning, match="1 of 1800 variance values are <= 0.*weight 0"):
        phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5), weights="variance")
    assert np.all(np.isfinite(phi.data))


def test_weights_wrong_shape(ri_signal):
    ri = ri_signal((2, 3))
    with pytest.raises(ValueError, match=r"'weights' .* shape \(10,\) .* shape \(2, 3, 300\)"):
        ri.fit_scattering(COMPOSITION, (1.6, 2.5), weights=np.ones(10))


# --------------------------------------------------------------- unclear errors
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"b": "strong"}, TypeError, "'b' must be a number in Å²"),
        ({"b": -1.0}, ValueError, "'b' must be a damping factor >= 0"),
        ({"r_max": None}, TypeError, "'r_max' must be a number in Å"),
        ({"s_min": "edge"}, TypeError, "'s_min' must be a number"),
        ({"s_min": 2.45}, ValueError, "'s_min' = 2.45 .* below the fit window"),
        ({"s_min": 0.001}, ValueError, "'s_min' = 0.001 .* below the first sample"),
        ({"r_step": 1e-7}, ValueError, "'r_step' .* GB|has .* points"),
        ({"s_range": 1.6}, TypeError, "'s_range' must be a pair"),
        ({"s_range": ("a", "b")}, TypeError, r"'s_range\[0\]' must be a number"),
        ({"s_range": (2.5, 1.6)}, ValueError, "'s_range' must satisfy lo < hi"),
    ],
)
def test_get_pdf_parameter_errors(ri_signal, kwargs, error, match):
    ri = ri_signal((2,))
    before = ri.data.copy()
    with pytest.raises(error, match=match):
        ri.get_pdf(COMPOSITION, **kwargs)
    np.testing.assert_array_equal(ri.data, before)


def test_step_parameter_errors(ri_signal):
    ri = ri_signal((2,))
    with pytest.raises(TypeError, match="'s_range' must be a pair"):
        ri.fit_scattering(COMPOSITION, 1.6)
    phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    with pytest.raises(TypeError, match="'b' must be a number in Å²"):
        phi.damp_exponential("strong")
    with pytest.raises(ValueError, match=r"'s_min' = 1.8 .* In nm⁻¹\? 1.8 nm⁻¹ = 0.18 Å⁻¹"):
        phi.extrapolate_low_s(1.8)
    with pytest.raises(ValueError, match="'regions' is an empty list"):
        ri.sum_regions([])


def test_low_fit_window_needs_no_s_min(ri_signal):
    # fit_scattering knows nothing of s_min: a low window is the user's choice
    phi = ri_signal((2,)).fit_scattering(COMPOSITION, (0.005, 0.5))
    assert phi.metadata.ePDF.fit.s_range == [0.005, 0.5]


def test_unit_slips_warned(ri_signal):
    phi = ri_signal((2,)).fit_scattering(COMPOSITION, (1.6, 2.5))
    with pytest.warns(UserWarning, match=r"b is in Å².*80 nm² = 8000 Å²"):
        phi.damp_exponential(80)
    with pytest.warns(UserWarning, match=r"'s_min' = 1.2 .* In nm⁻¹"):
        phi.extrapolate_low_s(1.2)
    with pytest.raises(ValueError, match="r grid .* points.*GB"):
        phi.to_pdf(2000, 0.0001)
    with pytest.warns(UserWarning, match=r"'r_max' = 400 Å.*in nm\?"):
        phi.to_pdf(400, 0.05)


def test_q_calibrated_signal_rejected_with_advice(ri_signal):
    ri = ri_signal((2,))
    ax = ri.axes_manager.signal_axes[0]
    ax.units, ax.scale = "q_A^-1", ax.scale * 2 * np.pi
    with pytest.raises(ValueError, match="Divide the axis scale and offset by 2π"):
        ri.fit_scattering(COMPOSITION, (1.6, 2.5))


# ------------------------------------------------------------------- aliasing
def test_shared_maps_are_read_only(ri_signal):
    phi = ri_signal((2, 3)).fit_scattering(COMPOSITION, (1.6, 2.5))
    out = phi.polynomial_correct().damp_exponential(0.5)
    n_before = phi.metadata.ePDF.fit.N.data.copy()
    with pytest.raises(ValueError, match="read-only"):
        out.metadata.ePDF.fit.N.data[0, 0] = -1
    with pytest.raises(ValueError, match="read-only"):
        out.metadata.ePDF.polynomial.coefficients.data[0, 0, 0] = -1
    np.testing.assert_array_equal(phi.metadata.ePDF.fit.N.data, n_before)


def test_sample_elements_left_alone(ri_signal):
    ri = ri_signal((2,))
    ri.metadata.set_item("Sample.elements", ["Al", "C", "F", "H", "N", "Na", "O", "P", "Zn"])
    pdf = ri.get_pdf(COMPOSITION, (1.6, 2.5), r_max=8.0)
    assert len(pdf.metadata.Sample.elements) == 9
    assert pdf.metadata.ePDF.fit.elements == ["O", "Si"]
    assert pdf.metadata.ePDF.composition.as_dictionary() == pytest.approx(COMPOSITION)


# ---------------------------------------------------------------- conventions
@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize(
    ("method", "args", "kind"),
    [("damp_updated_lorch", (), "updated_lorch"), ("damp_low_q_region_erfc", (), "low_q_region_erfc"),
     ("damp_extrapolate_to_zero", (0.2,), None)],
)
def test_inherited_methods_have_our_contract(ri_signal, lazy, method, args, kind):
    phi = ri_signal((2, 3), lazy=lazy).fit_scattering(COMPOSITION, (1.6, 2.5))
    before = np.asarray(phi.data).copy()
    out = getattr(phi, method)(*args)
    assert out is not None and out._lazy == lazy
    np.testing.assert_array_equal(np.asarray(phi.data), before)
    last = list(out.metadata.ePDF.history.as_dictionary().values())[-1]["method"]
    assert last == (f"damp_{kind}" if kind else "extrapolate_low_s")
    assert not np.allclose(np.asarray(out.data), before)
    assert getattr(phi, method)(*args, inplace=True) is None
    assert not np.allclose(np.asarray(phi.data), before)
    doc = getattr(type(phi), method).__doc__.strip().splitlines()[0]
    assert doc.startswith("Returns a new signal (inplace=False), unlike pyxem's")


def test_pyxem_only_methods_point_to_ours(ri_signal):
    phi = ri_signal((2,)).fit_scattering(COMPOSITION, (1.6, 2.5))
    with pytest.raises(TypeError, match="use polynomial_correct"):
        phi.fit_thermal_multiple_scattering_correction()
    pdf = phi.to_pdf(8.0)
    with pytest.raises(TypeError, match="use normalize_first_peak"):
        pdf.normalise_signal()
    for name in ("damp_exponential", "damp_lorch"):
        doc = getattr(type(phi), name).__doc__.strip().splitlines()[0]
        assert doc.startswith("Returns a new signal (inplace=False), unlike pyxem's")


def test_compute_also_computes_metadata_maps_in_one_pass(ri_signal):
    pdf = ri_signal((2, 3), lazy=True).get_pdf(COMPOSITION, (1.6, 2.5), r_max=8.0)
    assert pdf.metadata.ePDF.fit.N._lazy
    with ComputeCounter() as counter:
        pdf.compute(show_progressbar=False)
    assert counter.runs == 1
    for key in ("N", "C", "valid", "outlier"):
        assert not pdf.metadata.ePDF.fit[key]._lazy
    assert not pdf.metadata.ePDF.polynomial.coefficients._lazy
    with ComputeCounter() as counter:
        pdf.metadata.ePDF.fit.N.data.sum()
    assert counter.runs == 0


def test_quantity_title_navigator(ri_signal):
    ri = ri_signal((2, 3))
    phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5)).polynomial_correct().damp_exponential(0.5)
    assert phi.metadata.Signal.quantity == "φ(s) (Å⁻¹)"
    assert phi.metadata.General.title == "φ(s) of test"
    pdf = phi.extrapolate_low_s(0.2).to_pdf(8.0)
    assert pdf.metadata.Signal.quantity == "G(r) (Å⁻²)"
    assert pdf.metadata.General.title == "G(r) of test"
    assert pdf.navigator is pdf.metadata.ePDF.fit.N
    assert ri.get_pdf(COMPOSITION, (1.6, 2.5), r_max=8.0).metadata.General.title == "G(r) of test"


def test_pdf_round_trip_keeps_navigator_and_maps(ri_signal, tmp_path):
    pdf = ri_signal((2, 3)).get_pdf(COMPOSITION, (1.6, 2.5), r_max=8.0)
    pdf.save(tmp_path / "pdf.hspy")
    back = hs.load(tmp_path / "pdf.hspy")
    assert type(back).__name__ == "PDF1DPlus"
    np.testing.assert_array_equal(back.navigator.data, pdf.metadata.ePDF.fit.N.data)
    np.testing.assert_array_equal(back.metadata.ePDF.fit.outlier.data,
                                  pdf.metadata.ePDF.fit.outlier.data)


def test_lazy_save_computes_maps_in_one_pass(ri_signal, tmp_path):
    pdf = ri_signal((2, 3), lazy=True).get_pdf(COMPOSITION, (1.6, 2.5), r_max=8.0)
    with ComputeCounter() as counter:
        pdf.save(tmp_path / "lazy.zspy")
    assert counter.runs <= 2  # the maps in one pass, the data streamed in another
    back = hs.load(tmp_path / "lazy.zspy")
    np.testing.assert_allclose(back.data, pdf.data.compute())
    assert not pdf.metadata.ePDF.fit.N._lazy
