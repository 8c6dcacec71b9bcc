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
