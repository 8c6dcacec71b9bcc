"""End to end on the embedded 4D dataset: the issue's snippet, lazily, and the CLI."""

import json

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data
from pyxem_epdf.cli import main
from pyxem_epdf.physics import corrections, peaks, transform

from .conftest import ComputeCounter


def snippet(dp, composition):
    profile = dp.get_azimuthal_integral1d(npt=70, mean=True, show_progressbar=False)
    ri = epdf.from_profile(profile)
    return (
        ri.fit_scattering(composition, s_range=(1.6, 2.5), weights="poisson")
        .polynomial_correct(s_max=2.5)
        .damp_exponential(b=0.8)
        .extrapolate_low_s(s_min=0.18)
        .to_pdf(r_max=20, r_step=0.01)
    )


@pytest.fixture(scope="module")
def synth_pair():
    kw = {"nav_shape": (8, 8), "seed": 3}
    return data.two_phase_composite(**kw), data.two_phase_composite(lazy=True, **kw)


def test_snippet_lazy_in_lazy_out_equals_eager(synth_pair):
    eager, lazy = synth_pair
    composition = data.average_composition(eager)
    with ComputeCounter() as counter:
        pdf_lazy = snippet(lazy.signal, composition)
    assert counter.runs == 0, "building the lazy chain computed something"
    assert isinstance(pdf_lazy, epdf.LazyPDF1DPlus)
    assert isinstance(pdf_lazy.data, da.Array)
    assert isinstance(pdf_lazy.metadata.ePDF.fit.N.data, da.Array)
    pdf = snippet(eager.signal, composition)
    assert isinstance(pdf, epdf.PDF1DPlus)
    pdf_lazy.compute(show_progressbar=False)
    np.testing.assert_allclose(pdf_lazy.data, pdf.data, rtol=1e-9, atol=1e-9)
    nav = pdf.axes_manager.navigation_axes
    assert [a.units for a in nav] == ["nm", "nm"] and nav[0].scale == eager.parameters.step


def test_snippet_recovers_phase_peaks(synth_pair):
    synth, _ = synth_pair
    composition = {el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)}
    pdf = snippet(synth.signal, composition)
    r = pdf.axes_manager.signal_axes[0].axis
    s = np.linspace(0.0, 2.5, 500)
    for k, phase in enumerate(synth.phases):
        mask = synth.fractions[..., k] > 0.9
        assert mask.sum() >= 4
        g = pdf.data[mask].mean(axis=0)
        # the truth band-limited like the data: same s window, damping, low-s cut
        phi = phase.reduced_intensity(s) * corrections.exponential_damping(s, 0.8)
        truth = transform.sine_transform(corrections.extrapolate_low_s(phi, s, 0.18), s, r)
        found = peaks.find_peaks(g, r, r_range=(1.1, 3.2), n_peaks=2)[0]
        expected = peaks.find_peaks(truth, r, r_range=(1.1, 3.2), n_peaks=2)[0]
        np.testing.assert_allclose(found, expected, atol=0.04)
        win = (r > 1.1) & (r < 8)
        assert np.corrcoef(g[win], truth[win])[0, 1] > 0.95


def test_cli_demo_writes_one_analysis(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", str(out), "--scan-shape", "4", "5", "--no-progress"]) == 0
    names = sorted(p.name for p in out.iterdir())
    # one analysis, one name per result: no pdf_cube in two places or formats
    assert names == sorted(["pdf_cube.zspy", "loadings.zspy", "components.zspy", "loadings.csv",
                            "component_0.gr", "component_1.gr",
                            "components.csv", "scree.png", "loading_maps.png",
                            "component_pdfs.png", "N_map.png", "intensity_fit.png", "truth.png",
                            "report.html",
                            "provenance.json"])
    pdf = hs.load(out / "pdf_cube.zspy")
    assert isinstance(pdf, epdf.PDF1DPlus)
    assert pdf.data.shape[:2] == (4, 5)
    history = pdf.metadata.ePDF.history.as_dictionary()
    methods = [step["method"] for step in history.values()]
    assert methods == [
        "azimuthal_profile",
        "fit_scattering",
        "polynomial_correct",
        "damp_exponential",
        "extrapolate_low_s",
        "to_pdf",
    ]
    assert np.all(pdf.metadata.ePDF.fit.N.data > 0)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["frames"] == 20 and prov["complete"] is True
    assert prov["parameters"]["chain"]["weights"] == "poisson"
    assert "per-pixel maps" in prov["composition_override"]
    assert (out / "truth.png").stat().st_size > 10_000
    # the printed time is the provenance's, to the printed precision
    text = capsys.readouterr().out
    assert f"20 patterns processed in {prov['seconds']:.1f} s" in text


def test_cli_demo_old_nav_spelling_still_works(tmp_path):
    assert main(["demo", str(tmp_path / "d"), "--nav", "3", "2", "--no-progress"]) == 0
    assert hs.load(tmp_path / "d" / "pdf_cube.zspy").data.shape[:2] == (3, 2)


def test_cli_rejects_bad_scan_size(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["demo", str(tmp_path / "d"), "--scan-shape", "0", "3"])
    # too few probe positions for the decomposition: a one-line error, nothing written
    assert main(["demo", str(tmp_path / "d"), "--scan-shape", "2", "1", "--no-progress"]) == 2
    assert "at least 2 along each axis" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("lazy", [False, True])
def test_pdf_plot_with_navigator(synth_pair, lazy):
    import matplotlib.pyplot as plt

    synth = synth_pair[int(lazy)]
    pdf = snippet(synth.signal, data.average_composition(synth_pair[0]))
    pdf.plot()
    try:
        assert pdf._plot.navigator_plot is not None  # 2-D scan navigator
        line = pdf._plot.signal_plot.ax_lines[0]
        np.testing.assert_allclose(line.line.get_ydata(), np.asarray(pdf.inav[0, 0].data))
    finally:
        pdf._plot.close()
        plt.close("all")


def test_compute_all_evaluates_cube_and_maps_in_one_pass(synth_pair):
    eager, lazy = synth_pair
    composition = data.average_composition(eager)
    pdf = snippet(lazy.signal, composition)
    ref = snippet(eager.signal, composition)
    with ComputeCounter() as counter:
        epdf.compute_all(pdf, show_progressbar=False)
    assert counter.runs == 1
    assert not pdf._lazy and not pdf.metadata.ePDF.fit.N._lazy
    assert not pdf.metadata.ePDF.polynomial.coefficients._lazy
    np.testing.assert_allclose(pdf.data, ref.data, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(pdf.metadata.ePDF.fit.N.data, ref.metadata.ePDF.fit.N.data)
