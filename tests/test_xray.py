"""X-ray PDF files: ZIF-4 D(r) and F(Q) read, .gr round trip, comparison with a ZIF-like ePDF."""


import numpy as np
import pytest

from pyxem_epdf import data, xray
from pyxem_epdf.physics import corrections, transform

XRAY = data.zif4_files()["xray_dofr"].parent


def test_read_zif4_dofr_peaks():
    d = xray.load_xray_pdf(XRAY / "ZIF4glassa_403.dofr")
    assert d.axes_manager.signal_axes[0].scale == pytest.approx(0.02)
    assert d.metadata.has_item("Signal.Noise_properties.variance")
    pos, _ = d.find_peaks(3, r_range=(1.1, 3.3))
    np.testing.assert_allclose(pos.data, [1.34, 1.98, 2.98], atol=0.04)


def test_read_fq_on_s():
    fq = xray.load_xray_fq(XRAY / "ZIF4glassa_403.int01")
    s = fq.axes_manager.signal_axes[0].axis
    assert s[0] == pytest.approx(0.6125 / (2 * np.pi))
    assert fq.data.shape == (936,)


def test_gr_round_trip(tmp_path):
    d = xray.load_xray_pdf(XRAY / "ZIF4glassa_403.dofr")
    xray.write_gr(d, tmp_path / "zif4.gr", comment="test")
    back = xray.load_xray_pdf(tmp_path / "zif4.gr")
    np.testing.assert_allclose(back.data, d.data, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(back.axes_manager.signal_axes[0].axis, d.axes_manager.signal_axes[0].axis)


def test_compare_with_zif_like_epdf():
    d = xray.load_xray_pdf(XRAY / "ZIF4glassa_403.dofr")
    s = np.arange(1, 64) * 0.04
    phi = data.ZIF_LIKE.reduced_intensity(s) * corrections.exponential_damping(s, 0.3)
    r = np.arange(0, 10, 0.02)
    epdf = xray.pdf_from_arrays(r, transform.sine_transform(corrections.extrapolate_low_s(phi, s, 0.18), s, r), "ZIF-like")
    res = xray.compare(epdf, d, r_range=(1.0, 6.5))
    assert 0 < res["rw"] < 1 and res["scale"] > 0
    # the first two shells (C–N, Zn–N) sit at the same r in both
    np.testing.assert_allclose(res["peaks_e"][:2], res["peaks_x"][:2], atol=0.06)
    res_fp = xray.compare(epdf, d, r_range=(1.0, 6.5), scale="first_peak")
    assert res_fp["scale"] > 0


def test_errors(tmp_path):
    bad = tmp_path / "bad.gr"
    bad.write_text("# only a header\n# nothing else\n")
    with pytest.raises(ValueError, match="no \\(r, G\\) data columns|Cannot read"):
        xray.load_xray_pdf(bad)
    d = xray.load_xray_pdf(XRAY / "ZIF4glassa_403.dofr")
    with pytest.raises(ValueError, match="'r_range'"):
        xray.compare(d, d, r_range=(1.0, 60.0))
    with pytest.raises(ValueError, match="'scale' must be"):
        xray.compare(d, d, scale="max")


# --------------------------------------------------------------- reading: warnings, bad files
def test_reading_emits_no_warning(recwarn):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        xray.load_xray_pdf(XRAY / "ZIF4glassa_403.dofr")
        xray.load_xray_fq(XRAY / "ZIF4glassa_403.int01")
        xray.load_reduced_intensity(XRAY / "ZIF4glassa_403.int01", kind="S(Q)-1")
    assert len(recwarn) == 0


def _gr(tmp_path, name, body):
    path = tmp_path / name
    path.write_text("[DEFAULT]\nqmax = 20.0\n#### start data\n#S 1\n" + body, encoding="utf-8")
    return path


def test_bad_line_is_named(tmp_path):
    rows = [f"{0.1 * i:.2f} {np.sin(i):.5f}" for i in range(20)]
    rows[12] = "1.20 0.3x1"
    path = _gr(tmp_path, "bad_line.gr", "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"bad_line.gr, line 17: expected 2 numbers .*'1.20 0.3x1'"):
        xray.load_xray_pdf(path)
    rows[12] = "1.20 0.5 0.1"  # a row of another width
    path = _gr(tmp_path, "ragged.gr", "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match="ragged.gr, line 17"):
        xray.load_xray_pdf(path)


def test_nan_rows_are_refused_with_their_lines(tmp_path):
    rows = [f"{0.1 * i:.2f} {np.sin(i):.5f}" for i in range(20)]
    rows[3], rows[8] = "0.30 nan", "0.80 inf"
    path = _gr(tmp_path, "nan.gr", "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"nan.gr: 2 data row\(s\) hold NaN or inf \(line 8, 13\)"):
        xray.load_xray_pdf(path)


def test_missing_file_and_non_uniform_grid(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.gr"):
        xray.load_xray_pdf(tmp_path / "nowhere.gr")
    r = np.r_[np.arange(0, 1, 0.1), np.arange(1, 3, 0.2)]
    path = _gr(tmp_path, "steps.gr", "\n".join(f"{a:.3f} {np.sin(a):.4f}" for a in r) + "\n")
    with pytest.raises(ValueError, match="steps.gr: The r column is not uniformly spaced"):
        xray.load_xray_pdf(path)


# --------------------------------------------------------------- compare: NaN, zero
def test_compare_refuses_nan_and_zero_pdfs():
    d = xray.load_xray_pdf(XRAY / "ZIF4glassa_403.dofr")
    r = d.axes_manager.signal_axes[0].axis
    g = np.array(d.data)
    g[(r > 2.0) & (r < 2.1)] = np.nan
    holes = xray.pdf_from_arrays(r, g, "holes")
    with pytest.raises(ValueError, match=r"'xpdf' \('holes'\) has \d+ NaN/inf values in 'r_range'"):
        xray.compare(d, holes, r_range=(1.0, 6.0))
    with pytest.raises(ValueError, match=r"'epdf' \('holes'\) has 4 NaN/inf"):
        xray.compare(holes, d, r_range=(1.0, 6.0))
    # NaN outside the window does not matter
    res = xray.compare(holes, d, r_range=(3.0, 6.0))
    assert np.isfinite(res["rw"]) and res["rw"] < 1e-12
    zero = xray.pdf_from_arrays(r, np.zeros_like(g), "zero")
    with pytest.raises(ValueError, match="'xpdf' \\('zero'\\) is zero everywhere"):
        xray.compare(d, zero, r_range=(1.0, 6.0))
    with pytest.raises(ValueError, match="'epdf' \\('zero'\\) is zero everywhere"):
        xray.compare(zero, d, r_range=(1.0, 6.0), scale="first_peak")


# --------------------------------------------------------------- .gr export with header
@pytest.fixture(scope="module")
def chain_pdfs():
    synth = data.two_phase_composite(nav_shape=(6, 6), detector_shape=(64, 64), s_scale=0.08)
    from pyxem_epdf import azimuthal_profile

    ri = azimuthal_profile(synth.signal, npt=40)
    comp = data.average_composition(synth)
    pdf = (ri.fit_scattering(comp, (1.6, 2.4)).polynomial_correct().damp_exponential(0.8)
           .extrapolate_low_s(0.2).to_pdf(8, 0.02))
    return pdf, comp


def test_save_gr_header_loads_in_diffpy(tmp_path, chain_pdfs):
    from diffpy.utils.parsers import load_data

    from pyxem_epdf.physics.scattering import parse_composition

    pdf, comp = chain_pdfs
    (path,) = xray.save_gr(pdf, tmp_path / "pixel.gr", index=(2, 3))
    head = load_data(path, headers=True)
    md = pdf.metadata.ePDF
    assert head["mode"] == "electron" and head["software"] == "pyxem-epdf"
    assert head["qmin"] == pytest.approx(2 * np.pi * md.s_min, rel=1e-5)
    assert head["qmax"] == pytest.approx(2 * np.pi * md.s_max, rel=1e-5)
    assert head["smax"] == pytest.approx(md.s_max, rel=1e-5)
    assert head["damping"] == "exponential" and head["dampingb"] == 0.8
    assert (head["rmin"], head["rmax"], head["rstep"]) == (0.0, 8.0, 0.02)
    assert head["position"] == "2 3"
    back = parse_composition(head["composition"])
    for el, v in comp.items():
        assert back[el] == pytest.approx(v, rel=1e-3)
    cols = load_data(path)
    np.testing.assert_allclose(cols[:, 0], pdf.axes_manager.signal_axes[0].axis)
    np.testing.assert_allclose(cols[:, 1], pdf.data[2, 3], rtol=1e-7, atol=1e-9)
    # PDFgui's own qmax pattern
    import re

    text = path.read_text(encoding="utf-8")
    assert float(re.search(r"\bqmax *= *([-+]?\d*\.?\d+(?:[eE][-+]?\d+)?)\b", text).group(1)) \
        == pytest.approx(head["qmax"])
    assert not re.search("(x-?ray|PDFgetX)", text, re.I)  # PDFgui would take it as X-ray data
    # our own reader keeps the header
    ours = xray.load_xray_pdf(path)
    assert ours.metadata.ePDF.source_header.qmax == pytest.approx(head["qmax"])
    with pytest.raises(FileExistsError, match="pixel.gr"):
        xray.save_gr(pdf, path, index=(2, 3))
    with pytest.raises(ValueError, match="'index'"):
        xray.save_gr(pdf, tmp_path / "x.gr", index=(9, 0))


def test_save_gr_components_regions_and_scans(tmp_path, chain_pdfs):
    from diffpy.utils.parsers import load_data

    from pyxem_epdf import repeat

    pdf, _ = chain_pdfs
    unmix = pdf.decompose((1.0, 6.0)).unmix(2, "closure")
    files = xray.save_gr(unmix, tmp_path / "phases" / "zif_glass.gr", metadata_from=pdf,
                         names=["ZIF", "glass"])
    assert [f.name for f in files] == ["zif_glass_ZIF.gr", "zif_glass_glass.gr"]
    for f, comp in zip(files, unmix.components.data, strict=True):
        np.testing.assert_allclose(load_data(f)[:, 1], comp, rtol=1e-7, atol=1e-9)
        assert load_data(f, headers=True)["dampingb"] == 0.8  # from metadata_from
    default = xray.save_gr(unmix, tmp_path / "comp")
    assert [f.name for f in default] == ["comp_component0.gr", "comp_component1.gr"]
    scan = xray.save_gr(pdf.inav[:2, :1], tmp_path / "scan")
    assert [f.name for f in scan] == ["scan_y0_x0.gr", "scan_y0_x1.gr"]
    # a region PDF carries its bootstrap σ as dG
    chain = lambda x: (x.fit_scattering(pdf.metadata.ePDF.composition.as_dictionary(),  # noqa: E731
                                        (1.6, 2.4)).polynomial_correct().damp_exponential(0.8)
                       .extrapolate_low_s(0.2).to_pdf(8, 0.02))
    from pyxem_epdf import azimuthal_profile

    synth = data.two_phase_composite(nav_shape=(6, 6), detector_shape=(64, 64), s_scale=0.08)
    reg = repeat.region_pdf(azimuthal_profile(synth.signal, npt=40),
                            np.ones((6, 6), bool), chain, n_bootstrap=10)
    (f,) = xray.save_gr(reg, tmp_path / "region.gr")
    cols = load_data(f)
    assert cols.shape[1] == 3
    np.testing.assert_allclose(cols[:, 2], reg.std, rtol=1e-7, atol=1e-12)
    back = xray.load_xray_pdf(f)
    np.testing.assert_allclose(np.sqrt(back.metadata.Signal.Noise_properties.variance.data),
                               reg.std, rtol=1e-7, atol=1e-12)


def test_save_gr_of_a_lazy_pdf_equals_eager(tmp_path, chain_pdfs):
    pdf, _ = chain_pdfs
    (a,) = xray.save_gr(pdf, tmp_path / "eager.gr", index=(1, 1))
    (b,) = xray.save_gr(pdf.as_lazy(), tmp_path / "lazy.gr", index=(1, 1))
    np.testing.assert_array_equal(xray.load_xray_pdf(a).data, xray.load_xray_pdf(b).data)


# --------------------------------------------------------------- F(Q), S(Q), I(Q) → chain
def test_zif4_xray_iq_through_the_electron_transform():
    d = xray.load_xray_pdf(XRAY / "ZIF4glassa_403.dofr")
    phi = xray.load_reduced_intensity(XRAY / "ZIF4glassa_403.int01", kind="S(Q)-1")
    assert phi.metadata.ePDF.stage == "reduced_intensity"
    assert phi.metadata.has_item("Signal.Noise_properties.variance")
    s = phi.axes_manager.signal_axes[0].axis
    assert s[0] == pytest.approx(0.6125 / (2 * np.pi))
    pdf = phi.to_pdf(r_max=10, r_step=0.02)
    r = pdf.axes_manager.signal_axes[0].axis
    sel = (r > 0.8) & (r < 10)
    dofr = np.interp(r, d.axes_manager.signal_axes[0].axis, d.data)
    assert np.corrcoef(pdf.data[sel], dofr[sel])[0, 1] > 0.98
    # reading the same numbers as F(Q) = Q[S − 1] gives a much worse match: the kind matters
    wrong = xray.load_reduced_intensity(XRAY / "ZIF4glassa_403.int01", kind="F(Q)")
    g_wrong = wrong.to_pdf(r_max=10, r_step=0.02).data
    assert np.corrcoef(g_wrong[sel], dofr[sel])[0, 1] < 0.8
    # and the damped chain works on it like on electron data
    damped = phi.damp_exponential(0.02).to_pdf(r_max=10, r_step=0.02)
    pos, _ = damped.find_peaks(3, r_range=(1.1, 3.3))
    np.testing.assert_allclose(pos.data, [1.34, 1.98, 2.98], atol=0.06)


@pytest.mark.parametrize("kind", ["F(Q)", "S(Q)", "S(Q)-1", "phi(s)"])
@pytest.mark.parametrize("axis", ["Q", "s"])
def test_kinds_and_axes_give_the_same_phi(tmp_path, kind, axis):
    """One analytic φ(s) written as F(Q), S(Q), S(Q) − 1 or φ, on a Q or an s axis."""
    s = np.arange(0.05, 3.0, 0.01)
    phi = np.sin(2 * np.pi * 1.5 * s) * np.exp(-0.3 * s**2)
    q = 2 * np.pi * s
    value = {"F(Q)": 2 * np.pi * phi, "S(Q)": 1 + phi / s, "S(Q)-1": phi / s, "phi(s)": phi}[kind]
    x = q if axis == "Q" else s
    path = tmp_path / "sq.txt"
    np.savetxt(path, np.column_stack([x, value]), header="an analytic test")
    out = xray.load_reduced_intensity(path, kind=kind, axis=axis)
    np.testing.assert_allclose(out.axes_manager.signal_axes[0].axis, s, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out.data, phi, rtol=1e-7, atol=1e-10)
    assert out.axes_manager.signal_axes[0].is_uniform
    history = out.metadata.ePDF.history.as_dictionary()
    assert history[sorted(history)[-1]]["parameters"]["kind"] == kind


def test_iq_is_an_intensity_to_fit(tmp_path):
    s = np.arange(0.05, 3.0, 0.01)
    path = tmp_path / "iq.txt"
    np.savetxt(path, np.column_stack([2 * np.pi * s, 100 + np.exp(-s)]))
    ri = xray.load_reduced_intensity(path, kind="I(Q)")
    assert ri.metadata.ePDF.stage == "intensity"
    with pytest.raises(ValueError, match="needs φ"):
        ri.to_pdf()
    with pytest.raises(ValueError, match="'kind' must be one of"):
        xray.load_reduced_intensity(path, kind="G(r)")
    with pytest.raises(ValueError, match="'axis' must be"):
        xray.load_reduced_intensity(path, kind="I(Q)", axis="2theta")


def test_save_gr_refuses_non_finite_pdfs_before_writing(tmp_path, chain_pdfs):
    pdf, _ = chain_pdfs
    stack = pdf.inav[:3, 0].deepcopy()
    stack.data[2, 10] = np.nan
    with pytest.raises(ValueError, match="1 of the PDFs hold NaN or inf.*nothing was written"):
        xray.save_gr(stack, tmp_path / "stack")
    assert not list(tmp_path.glob("**/*.gr"))
