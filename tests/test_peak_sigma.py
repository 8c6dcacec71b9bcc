"""σ carried by a PDF (quantify.with_sigma): peak positions ± σ, bands in plot_pdfs, peak tables."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from pyxem.signals import ElectronDiffraction2D  # noqa: E402

import pyxem_epdf as epdf  # noqa: E402
from pyxem_epdf import mapping, quantify  # noqa: E402

N_DRAWS = 300


@pytest.fixture(scope="module")
def draws():
    """The expected pattern (index 0) and 300 Poisson draws of it, with σ carried.

    4000 e⁻/Å², so that the weaker Zn–N maximum survives in (almost) every draw and the
    first-order position σ is tested where it applies (σ ≪ peak width)."""
    synth = epdf.data.two_phase_composite(nav_shape=(), noise=False, detector_shape=(96, 96),
                                          s_scale=2.9 / 48, dose=4000.0)
    comp = epdf.data._synthetic.average_composition(synth)
    comp = {k: v for k, v in comp.items() if v > 0.01}
    comp = {k: v / sum(comp.values()) for k, v in comp.items()}
    lam = np.asarray(synth.signal.data, dtype=float)
    rng = np.random.default_rng(5)
    stack = np.concatenate([lam[None], rng.poisson(lam, (N_DRAWS,) + lam.shape)])
    dp = ElectronDiffraction2D(stack.astype(np.float32))
    for a, b in zip(dp.axes_manager.signal_axes, synth.signal.axes_manager.signal_axes,
                    strict=True):
        a.scale, a.offset, a.units, a.name = b.scale, b.offset, b.units, b.name
    ri = epdf.azimuthal_profile(dp)
    pdf = ri.get_pdf(comp, (1.6, 2.5), b=0.8, s_min=0.18, r_max=8.0)
    R = quantify.integration_correlation(dp, ri)
    return ri, pdf, R, quantify.with_sigma(ri, pdf, correlation=R)


def test_with_sigma_carries_the_pdf_sigma_and_leaves_the_input(draws):
    ri, pdf, R, carried = draws
    assert not pdf.metadata.has_item("Signal.Noise_properties.variance")
    np.testing.assert_array_equal(carried.data, pdf.data)
    assert carried.data is not pdf.data
    var = carried.metadata.Signal.Noise_properties.variance
    np.testing.assert_allclose(var.data ** 0.5, quantify.pdf_sigma(ri, pdf, correlation=R).data,
                               rtol=1e-10, atol=1e-14)
    assert carried.metadata.ePDF.uncertainty.slope_variance.data.shape == pdf.data.shape
    assert carried.metadata.ePDF.history[list(carried.metadata.ePDF.history.keys())[-1]] \
        ["method"] == "with_sigma"


def test_peak_position_and_height_sigma_match_monte_carlo(draws):
    _, _, _, carried = draws
    pos, height = carried.find_peaks(2, r_range=(1.0, 2.5))  # C–N 1.35 Å, Zn–N 1.95 Å
    p_sig = pos.metadata.Signal.Noise_properties.variance.data[1:] ** 0.5
    h_sig = height.metadata.Signal.Noise_properties.variance.data[1:] ** 0.5
    p, h = pos.data[1:], height.data[1:]
    # a draw whose Zn–N maximum drowned in the noise has NaN there, and NaN σ
    found = np.isfinite(p)
    assert found[:, 0].all() and found[:, 1].mean() > 0.97
    np.testing.assert_array_equal(np.isfinite(p_sig), found)
    np.testing.assert_array_equal(np.isfinite(h_sig), found)
    # (a peak that a draw lacks is NaN, and so is its σ)
    third, _ = carried.find_peaks(3, r_range=(1.0, 3.3))
    np.testing.assert_array_equal(np.isnan(third.data),
                                  np.isnan(third.metadata.Signal.Noise_properties.variance.data))
    # σ of the 300 draws' positions and heights (sd of an sd from 300 draws: 4 %)
    ratio_p = np.nanmedian(p_sig, axis=0) / np.nanstd(p, axis=0)
    ratio_h = np.nanmedian(h_sig, axis=0) / np.nanstd(h, axis=0)
    np.testing.assert_allclose(ratio_p, 1.0, atol=0.15)
    np.testing.assert_allclose(ratio_h, 1.0, atol=0.15)
    # the truth's peaks lie within ±1σ for ~68 % of the draws
    cover = np.nanmean(np.where(found, np.abs(p - pos.data[0]) <= p_sig, np.nan), axis=0)
    assert np.all(np.abs(cover - 0.683) < 0.1), cover


def test_lazy_with_sigma_and_find_peaks_equal_eager(draws):
    ri, pdf, R, carried = draws
    lazy = quantify.with_sigma(ri, pdf, correlation=R, lazy_output=True)
    assert lazy._lazy
    pos, height = lazy.find_peaks(3, r_range=(1.0, 3.3))
    assert pos._lazy
    epos, eheight = carried.find_peaks(3, r_range=(1.0, 3.3))
    pos.compute()
    np.testing.assert_allclose(pos.data, epos.data, rtol=1e-12)
    var = pos.metadata.Signal.Noise_properties.variance
    np.testing.assert_allclose(np.asarray(var.data.compute() if var._lazy else var.data),
                               epos.metadata.Signal.Noise_properties.variance.data, rtol=1e-9)


def test_variance_without_slope_gives_heights_only(draws):
    _, pdf, _, carried = draws
    only = pdf.deepcopy()
    only.metadata.set_item("Signal.Noise_properties.variance",
                           carried.metadata.Signal.Noise_properties.variance.deepcopy())
    pos, height = only.find_peaks(2, r_range=(1.0, 3.0))
    assert np.all(np.isnan(pos.metadata.Signal.Noise_properties.variance.data))
    np.testing.assert_allclose(
        height.metadata.Signal.Noise_properties.variance.data,
        carried.find_peaks(2, r_range=(1.0, 3.0))[1].metadata.Signal.Noise_properties.variance.data)
    table = mapping.peak_table(only, n_peaks=2, r_range=(1.0, 3.0))
    assert np.all(np.isnan(table.position_sigma))
    np.testing.assert_array_equal(np.isfinite(table.height_sigma), np.isfinite(table.positions))
    # without σ: plain PeakTable and positions without a variance
    assert type(mapping.peak_table(pdf.inav[:3])).__name__ == "PeakTable"
    assert not pdf.find_peaks(2)[0].metadata.has_item("Signal.Noise_properties.variance")


def test_slicing_a_carried_pdf_keeps_sigma_of_heights_and_warns_for_positions(draws):
    _, _, _, carried = draws
    part = carried.inav[:4]
    np.testing.assert_array_equal(part.metadata.Signal.Noise_properties.variance.data,
                                  carried.metadata.Signal.Noise_properties.variance.data[:4])
    with pytest.warns(UserWarning, match="sliced after quantify.with_sigma"):
        pos, height = part.find_peaks(2, r_range=(1.0, 2.5))
    assert np.all(np.isnan(pos.metadata.Signal.Noise_properties.variance.data))
    assert np.all(np.isfinite(height.metadata.Signal.Noise_properties.variance.data))


def test_peak_table_positions_pm_sigma(draws, tmp_path):
    _, pdf, _, carried = draws
    n = N_DRAWS + 1
    table = mapping.peak_table([carried, pdf.inav[:2]], n_peaks=2, r_range=(1.0, 2.5))
    assert isinstance(table, quantify.PeakTableWithSigma)
    pos, height = carried.find_peaks(2, r_range=(1.0, 2.5))
    np.testing.assert_allclose(table.positions[:n], pos.data)
    np.testing.assert_allclose(table.position_sigma[:n],
                               pos.metadata.Signal.Noise_properties.variance.data ** 0.5)
    np.testing.assert_allclose(table.height_sigma[:n],
                               height.metadata.Signal.Noise_properties.variance.data ** 0.5)
    assert np.all(np.isnan(table.position_sigma[n:]))  # the PDF without σ
    assert "±σ" in str(table)
    table.save_csv(tmp_path / "peaks.csv")
    lines = (tmp_path / "peaks.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("label,peak,position_A,position_sigma_A")
    assert len(lines) == 1 + (n + 2) * 2
    diff = table.compare(table)
    np.testing.assert_allclose(diff.positions[:1], 0.0)
    np.testing.assert_allclose(diff.position_sigma[:n], np.sqrt(2) * table.position_sigma[:n])


@pytest.mark.parametrize("normalize", [False, True])
def test_plot_pdfs_draws_sigma_bands(draws, normalize):
    _, pdf, _, carried = draws
    two = carried.inav[:2]  # inav slices Noise_properties.variance: bands stay
    ax = mapping.plot_pdfs([two, pdf.inav[2]], ["a", "b", "c"], normalize=normalize)
    assert len(ax.collections) == 2  # a band for each line of the PDF with σ
    sigma = carried.metadata.Signal.Noise_properties.variance.data[0] ** 0.5
    line = ax.lines[0].get_ydata()
    scale = line[100] / carried.data[0, 100]
    path = ax.collections[0].get_paths()[0].vertices
    top = path[:, 1].max()
    assert top == pytest.approx(np.max((carried.data[0] + sigma) * scale), rel=1e-9)
    labels = ax.get_legend_handles_labels()[1]
    assert labels.count("±1σ") == 1
    plt.close(ax.figure)
    ax = mapping.plot_pdfs(two, bands=False)
    assert len(ax.collections) == 0
    plt.close(ax.figure)


def test_components_carry_sigma_from_the_pixels():
    # component PDFs by least squares of a 3 × 4 scan with known fractions carry
    # component_sigma of the per-pixel σ (G and slope); peak tables and bands follow
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        synth = epdf.data.two_phase_composite(nav_shape=(3, 4), detector_shape=(64, 64),
                                              s_scale=0.09, dose=400.0)
        ri = epdf.azimuthal_profile(synth.signal, subpixel=1)
        pdf = ri.get_pdf("ZnC4H6N2", (1.6, 2.5), b=0.8, s_min=0.18, r_max=10.0)
    carried = quantify.with_sigma(ri, pdf)
    F = synth.fractions.reshape(-1, 2)
    comps = epdf.PDF1DPlus(np.linalg.pinv(F) @ pdf.data.reshape(12, -1))
    comps.axes_manager.signal_axes[0].scale = pdf.axes_manager.signal_axes[0].scale
    with_sig = quantify.components_with_sigma(comps, F, carried)
    assert not comps.metadata.has_item("Signal.Noise_properties.variance")
    np.testing.assert_allclose(with_sig.metadata.Signal.Noise_properties.variance.data,
                               quantify.component_sigma(F, quantify.pdf_sigma(ri, pdf)) ** 2,
                               rtol=1e-10)
    slope = carried.metadata.ePDF.uncertainty.slope_variance.data.reshape(12, -1)
    np.testing.assert_allclose(with_sig.metadata.ePDF.uncertainty.slope_variance.data,
                               np.linalg.pinv(F) ** 2 @ slope, rtol=1e-10)
    table = mapping.peak_table(with_sig, ["A", "B"], n_peaks=2, r_range=(1.0, 3.0))
    np.testing.assert_array_equal(np.isfinite(table.position_sigma), np.isfinite(table.positions))
    assert np.isfinite(table.positions[0]).all() and np.all(table.position_sigma[0] < 0.2)
    ax = mapping.plot_pdfs(with_sig, ["A", "B"])
    assert len(ax.collections) == 2
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="carries no σ"):
        quantify.components_with_sigma(comps, F, pdf)
    with pytest.raises(ValueError, match="'fractions' has 3 components"):
        quantify.components_with_sigma(comps, np.ones((12, 3)) / 3, carried)


def test_lazy_variance_without_slope_equals_eager(draws):
    _, pdf, _, carried = draws
    var = carried.metadata.Signal.Noise_properties.variance
    eager = pdf.deepcopy()
    eager.metadata.set_item("Signal.Noise_properties.variance", var.deepcopy())
    lazy = pdf.as_lazy()
    lazy.metadata.set_item("Signal.Noise_properties.variance", var.as_lazy())
    pos, height = lazy.find_peaks(2, r_range=(1.0, 2.5))
    assert pos._lazy
    epos, eheight = eager.find_peaks(2, r_range=(1.0, 2.5))
    hv = height.metadata.Signal.Noise_properties.variance
    np.testing.assert_allclose(np.asarray(hv.data.compute() if hv._lazy else hv.data),
                               eheight.metadata.Signal.Noise_properties.variance.data, rtol=1e-12)
    pv = pos.metadata.Signal.Noise_properties.variance
    assert np.all(np.isnan(np.asarray(pv.data.compute() if pv._lazy else pv.data)))


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_carried_sigma_survives_a_file(tmp_path, ext):
    import hyperspy.api as hs

    synth = epdf.data.two_phase_composite(nav_shape=(2, 2), detector_shape=(64, 64),
                                          s_scale=0.09)
    ri = epdf.azimuthal_profile(synth.signal, subpixel=1)
    pdf = quantify.with_sigma(ri, ri.get_pdf("ZnC4H6N2", (1.6, 2.5), b=0.8, s_min=0.18,
                                             r_max=10))
    pdf.save(tmp_path / f"carried.{ext}")
    back = hs.load(tmp_path / f"carried.{ext}")
    assert type(back).__name__ == "PDF1DPlus"
    for a, b in zip(pdf.find_peaks(2, (1.0, 3.0)), back.find_peaks(2, (1.0, 3.0)), strict=True):
        np.testing.assert_allclose(b.data, a.data)
        np.testing.assert_allclose(b.metadata.Signal.Noise_properties.variance.data,
                                   a.metadata.Signal.Noise_properties.variance.data)
        assert np.all(np.isfinite(b.metadata.Signal.Noise_properties.variance.data))
