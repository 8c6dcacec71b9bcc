"""Report figures and tables: phase names, uncertainty bands, calibrated map panels, HTML."""

import re

import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data, report
from pyxem_epdf.mapping import Unmixing

CHAIN = {"s_range": [1.6, 2.4], "weights": "poisson", "fix_c": True, "b": 0.8, "s_min": 0.2,
         "r_max": 8.0, "r_step": 0.05}


def _pdf_stack(g, r_step):
    sig = epdf.PDF1DPlus(np.asarray(g, float))
    sig.axes_manager.signal_axes[0].scale = r_step
    sig.axes_manager.signal_axes[0].units = "Å"
    return sig


def _unmixing(loadings, comps, r_step=0.01, scale=2.5):
    """A real Unmixing (HyperSpy signals) from given maps (k, rows, cols) and components."""
    maps = hs.signals.Signal2D(np.asarray(loadings, float))
    for ax in maps.axes_manager.signal_axes:
        ax.scale, ax.units = scale, "nm"
    maps.axes_manager.signal_axes[0].name = "x"
    maps.axes_manager.signal_axes[1].name = "y"
    return Unmixing(loadings=maps, components=_pdf_stack(comps, r_step),
                    residual=maps.inav[0], method="closure", r_range=(1.0, 8.0))


@pytest.fixture(scope="module")
def small():
    synth = data.two_phase_composite(nav_shape=(10, 10), detector_shape=(64, 64),
                                     s_scale=0.08, seed=3)
    ri = epdf.azimuthal_profile(synth.signal, npt=40, show_progressbar=False)
    comp = data.average_composition(synth)
    pdf = report._chain_pdf(ri, comp, CHAIN)
    dec = pdf.decompose((1.0, 6.0))
    return synth, ri, comp, pdf, dec, dec.unmix(2)


def test_phase_labels_follow_first_peak_and_order():
    r = np.arange(0.0, 8.0, 0.01)
    g = np.stack([np.exp(-0.5 * ((r - r0) / 0.1) ** 2) for r0 in (2.53, 1.42, 1.98)])
    assert report.phase_labels(_pdf_stack(g, 0.01)) == [
        "phase A (r₁ = 2.53 Å)", "phase B (r₁ = 1.42 Å)", "phase C (r₁ = 1.98 Å)"]
    flat = _pdf_stack(np.zeros((1, r.size)), 0.01)
    assert report.phase_labels(flat) == ["phase A"]


def test_component_errors_match_least_squares_theory():
    """Known loadings, known components, white noise σ: SE = σ √((L Lᵀ)⁻¹)ₖₖ."""
    rng = np.random.default_rng(0)
    rows, cols, n_r, sigma = 20, 20, 400, 0.05
    f = rng.uniform(0, 1, (rows, cols))
    load = np.stack([f, 1 - f])
    r = np.arange(n_r) * 0.02
    comps = np.stack([np.sin(3 * r), np.cos(2 * r)])
    x = np.einsum("kij,kr->ijr", load, comps) + rng.normal(0, sigma, (rows, cols, n_r))
    pdf = _pdf_stack(x, 0.02)
    err = report.component_errors(pdf, _unmixing(load, comps, 0.02))
    flat = load.reshape(2, -1)
    expected = sigma * np.sqrt(np.diag(np.linalg.inv(flat @ flat.T)))
    np.testing.assert_allclose(err.mean(axis=1), expected, rtol=0.05)


def test_component_errors_leave_out_excluded_positions():
    """Positions the decomposition excluded have NaN loadings: they do not enter the SE."""
    rng = np.random.default_rng(1)
    rows, cols, n_r, sigma = 12, 12, 200, 0.05
    f = rng.uniform(0, 1, (rows, cols))
    load = np.stack([f, 1 - f])
    r = np.arange(n_r) * 0.02
    comps = np.stack([np.sin(3 * r), np.cos(2 * r)])
    x = np.einsum("kij,kr->ijr", load, comps) + rng.normal(0, sigma, (rows, cols, n_r))
    holed = load.copy()
    holed[:, 3, 4] = np.nan
    err = report.component_errors(_pdf_stack(x, 0.02), _unmixing(holed, comps, 0.02))
    keep = np.ones((rows, cols), bool)
    keep[3, 4] = False
    flat = load[:, keep]
    expected = sigma * np.sqrt(np.diag(np.linalg.inv(flat @ flat.T)))
    assert np.all(np.isfinite(err))
    np.testing.assert_allclose(err.mean(axis=1), expected, rtol=0.06)


def test_value_pm_precision():
    assert report._value_pm(1.98734, 0.0123, " Å") == "1.987 ± 0.012 Å"
    assert report._value_pm(1.98734, 0.043) == "1.99 ± 0.04"
    assert report._value_pm(2.7634, 0.2) == "2.8 ± 0.2"
    assert report._value_pm(0.5, np.nan) == "0.50"
    assert report._value_pm(np.nan, 0.1) == "–"


def test_region_pdfs_band_and_threshold(small):
    synth, ri, comp, pdf, dec, _ = small
    frac = synth.fractions[..., 0]
    maps = np.stack([frac, 1 - frac])
    r = pdf.axes_manager.signal_axes[0].axis
    unmix = _unmixing(maps, np.zeros((2, r.size)), 0.05)
    regions = report.region_pdfs(ri, unmix, comp, CHAIN, n_bootstrap=30)
    for k, reg in enumerate(regions):
        mask = maps[k] > report.REGION_THRESHOLD
        if mask.sum() < report.MIN_REGION_PIXELS:
            assert reg is None
            continue
        assert reg["n_pixels"] == mask.sum()
        # the point estimate is the chain on the region sum
        total = ri.sum_regions(mask, lazy_output=False, show_progressbar=False)
        np.testing.assert_allclose(reg["g"], report._chain_pdf(total, comp, CHAIN).data.ravel())
        assert reg["boot"].shape == (30, r.size)
        assert np.all(reg["sd"] >= 0) and reg["sd"].max() > 0
        # the band is the spread of the resamples around the region G(r)
        inside = np.abs(reg["boot"] - reg["g"]) <= 3 * reg["sd"] + 1e-12
        assert inside.mean() > 0.95
        peaks = report.region_peaks(reg)
        ok = np.isfinite(peaks["positions"])
        assert ok.any() and np.all(peaks["positions_sd"][ok & np.isfinite(
            peaks["positions_sd"])] < 0.2)
    assert sum(reg is not None for reg in regions) >= 1
    none = _unmixing(np.full_like(maps, 0.5), np.zeros((2, r.size)), 0.05)
    assert report.region_pdfs(ri, none, comp, CHAIN, n_bootstrap=5) == [None, None]


def test_map_figure_calibrated_edges_units_and_legend(small):
    _, _, _, pdf, _, unmix = small
    labels = report.phase_labels(unmix.components)
    fig = report._map_figure(unmix, labels, pdf)
    axes = [ax for ax in fig.axes if ax.images and ax.get_xlabel()]
    assert len(axes) == 3  # two fraction maps and the composite
    ax_x, ax_y = pdf.axes_manager.navigation_axes
    edges = [ax_x.axis[0] - ax_x.scale / 2, ax_x.axis[-1] + ax_x.scale / 2,
             ax_y.axis[-1] + ax_y.scale / 2, ax_y.axis[0] - ax_y.scale / 2]
    for ax in axes:  # every panel, the composite included, on the same pixel edges
        np.testing.assert_allclose(ax.images[0].get_extent(), edges)
        assert ax.get_xlabel() == f"x ({ax_x.units})" and "nm" in ax.get_ylabel()
    colorbars = [ax for ax in fig.axes if ax not in axes]
    assert [cb.get_ylabel() for cb in colorbars] == ["phase fraction (0–1)"] * 2 + [
        "fraction of phase A"]
    assert [t.get_text() for t in colorbars[-1].get_yticklabels()] == [
        "0: phase B", "0.5", "1: phase A"]
    assert all(lab in ax.get_title() for lab, ax in zip(labels, axes, strict=False))


def test_composite_of_three_phases_has_a_legend_and_pixel_edges():
    rng = np.random.default_rng(1)
    f = rng.dirichlet([1, 1, 1], size=(6, 5)).transpose(2, 0, 1)
    r = np.arange(0.0, 8.0, 0.01)
    comps = np.stack([np.exp(-0.5 * ((r - r0) / 0.1) ** 2) for r0 in (1.4, 2.0, 2.5)])
    unmix = _unmixing(f, comps)
    maps_pdf = epdf.PDF1DPlus(np.zeros((6, 5, 4)))
    for ax in maps_pdf.axes_manager.navigation_axes:
        ax.scale, ax.units = 2.5, "nm"
    labels = report.phase_labels(unmix.components)
    fig = report._map_figure(unmix, labels, maps_pdf)
    composite = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert len(composite) == 1
    assert [t.get_text() for t in composite[0].get_legend().get_texts()] == labels
    np.testing.assert_allclose(composite[0].images[0].get_extent(), [-1.25, 11.25, 13.75, -1.25])
    rgb = composite[0].images[0].get_array()
    from matplotlib.colors import to_rgb
    expected = np.einsum("kij,kc->ijc", f, np.array([to_rgb(f"C{i}") for i in range(3)]))
    np.testing.assert_allclose(rgb, np.clip(expected, 0, 1))


def test_build_and_html_self_contained(small):
    _, ri, comp, pdf, dec, unmix = small
    figures, content = report.build(pdf, ri, dec, unmix, comp, CHAIN, n_bootstrap=20)
    assert sorted(figures) == ["N_map", "component_pdfs", "intensity_fit", "loading_maps",
                               "scree"]
    assert all(png.startswith(b"\x89PNG") for png in figures.values())
    assert [p["label"] for p in content["phases"]] == content["labels"]
    prov = {"software": "pyxem-epdf", "started": "2026-01-02T03:04:05Z",
            "finished": "2026-01-02T03:04:09Z", "seconds": 4.0,
            "stage_seconds": {"check": 0.5, "write": 3.5}, "frames": 100, "input": None,
            "parameters": {"chain": {"composition": "SiO2", **CHAIN},
                           "mapping": {"method": "closure"}},
            "plan": ["one step"], "dose": None, "n_components": 2, "parallel_analysis": 1,
            "versions": {"numpy": np.__version__}}
    text = report.report_html(prov, figures, content)
    assert "2 January 2026, 03:04:09 UTC" in text
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', text)) == 5
    assert not re.search(r'(src|href)="(?!data:)', text)  # nothing fetched
    assert "<td class=l>write</td><td>3.50 s</td>" in text
    assert not re.search(r"\d\.\d{6,}", text)
    assert "dose unknown" in text.lower() or "Dose unknown" in text


def test_tuner_labels_inside_the_figure_and_clear_of_the_sliders():
    import matplotlib.pyplot as plt

    from pyxem_epdf import tuning

    synth = data.two_phase_composite(nav_shape=(2, 2), detector_shape=(64, 64), s_scale=0.08)
    ri = epdf.azimuthal_profile(synth.signal, npt=40, show_progressbar=False)
    tuner = tuning.tune(ri.sum_regions(np.ones((2, 2), bool)), data.average_composition(synth))
    fig = tuner.figure
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        width, height = fig.bbox.width, fig.bbox.height
        sliders = [s.ax for s in tuner.sliders.values()]
        top_of_sliders = max(ax.get_window_extent(renderer).y1 for ax in sliders)
        for ax in fig.axes:
            if ax in sliders:
                for text in ax.texts:  # slider names and values
                    box = text.get_window_extent(renderer)
                    assert box.x0 >= 0 and box.x1 <= width, text.get_text()
                continue
            assert ax.get_xlabel() and ax.get_ylabel()
            box = ax.xaxis.label.get_window_extent(renderer)
            assert box.y0 > top_of_sliders and ax.yaxis.label.get_window_extent(renderer).x0 >= 0
            assert ax.title.get_window_extent(renderer).y1 <= height
    finally:
        plt.close(fig)


def test_geometry_figure_draws_the_ellipse_mask_and_track():
    """The ellipse is drawn where |A·(p − c)| = ρ; labels carry units (the issue-15 contract)."""
    from pyxem_epdf.physics.calibration import distortion_matrix

    from .test_figure_labels import check_figure

    a = distortion_matrix(1.02, 30.0)
    y, x = np.mgrid[:64, :60]
    img = 1.0 + x + y
    mask = np.hypot(x - 30.2, y - 31.7) < 5
    track = np.stack(np.meshgrid(30 + 0.1 * np.arange(5), 31 + 0.2 * np.arange(4)), axis=-1)
    fig = report.geometry_figure(img, mask=mask, center=(30.2, 31.7), distortion=a,
                                 radii=(10.0, 25.0), centers=track)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    check_figure(fig)
    ax = fig.axes[0]
    rings = [ln for ln in ax.lines if ln.get_color() == "C1"]
    assert len(rings) == 2
    for line, rho in zip(rings, (10.0, 25.0), strict=True):
        p = np.stack([line.get_xdata() - 30.2, line.get_ydata() - 31.7])
        np.testing.assert_allclose(np.hypot(*(a @ p)), rho, rtol=1e-12)
    assert "mask (" in " ".join(t.get_text() for t in ax.get_legend().get_texts())
    track_ax = next(a for a in fig.axes if a.get_title().startswith("pattern centre"))
    offsets = track_ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets, track.reshape(-1, 2))
    # without a track: one panel
    assert len([a for a in report.geometry_figure(img).axes if a.get_xlabel()]) == 1


def test_batch_report_component_peaks_carry_propagated_sigma(tmp_path):
    """A real batch run: the component rows of the peak table carry counting-noise σ."""
    from pyxem_epdf import batch, quantify
    from pyxem_epdf.cli import demo_config

    synth = data.two_phase_composite(nav_shape=(8, 8), lazy=False, seed=2)
    cfg = batch.load_config(demo_config(synth))
    composition = {el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)}
    got = {}
    batch.process(synth.signal, cfg, tmp_path / "out", composition=composition,
                  show_progressbar=False, extra=lambda folder, res: got.update(vars(res)) or {})
    text = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr><td class=l>([^<]*)<br><small>([^<]*)</small></td>(.*?)</tr>", text)
    comp_rows = [cells for _, kind, cells in rows if kind == "closure component"]
    assert len(comp_rows) == 2
    for cells in comp_rows:  # first peak of each component: position ± σ and height ± σ
        first = re.findall(r"<td>([^<]*)</td>", cells)[:2]
        assert all(" ± " in c for c in first), first
    # the batch passes the integration's bin correlation
    assert "counting noise only" in text and "with the bin correlation of the integration" in text

    # the same numbers from build, with the integration's bin correlation given
    pdf, ri, dec, unmix = got["pdf"], got["profile"], got["decomposition"], got["unmixing"]
    corr = quantify.integration_correlation(synth.signal, ri)
    _, content = report.build(pdf, ri, dec, unmix, composition, cfg["chain"],
                              n_bootstrap=10, correlation=corr)
    comp = [p for p in content["peaks"] if p["label"].endswith("closure component")]
    for p in comp:
        ok = np.isfinite(p["positions"])
        assert ok[0] and np.all(np.isfinite(p["positions_sd"][ok]))
        assert np.all(np.isfinite(p["heights_sd"][ok]))
        assert np.all(p["positions_sd"][ok] > 0) and np.all(p["positions_sd"][ok] < 0.5)
    assert "with the bin correlation of the integration" in content["band_note"]
    assert "(Unmixing.pure)" in content["band_note"]
    # closure's own pure pixels: each component is exactly their mean
    pure = unmix.pure.reshape(-1, 2)
    x = np.asarray(pdf.data).reshape(pure.shape[0], -1)
    for j in np.flatnonzero(pure.any(axis=0)):
        np.testing.assert_allclose(unmix.components.data[j], x[pure[:, j]].mean(axis=0))
    exact = report.component_sigmas(pdf, ri, unmix, composition, correlation=corr, pure=pure)
    r = unmix.components.axes_manager.signal_axes[0].axis
    table = epdf.mapping.peak_table(exact, r_range=report._inside((1.0, 8.0), r))
    np.testing.assert_allclose([p["positions_sd"] for p in comp], table.position_sigma)
    # an Unmixing without them (e.g. projected): the region stands in
    projected = unmix.project(pdf)
    assert projected.pure is None
    _, content = report.build(pdf, ri, dec, projected, composition, cfg["chain"],
                              n_bootstrap=10, correlation=corr)
    assert "stands in for them" in content["band_note"]


def test_component_sigmas_leave_out_excluded_positions_and_refuse_ica(small):
    _, ri, comp, pdf, dec, unmix = small
    full = report.component_sigmas(pdf, ri, unmix, comp)
    assert full.metadata.ePDF.uncertainty.positions == 100
    maps = unmix.loadings.deepcopy()
    maps.data[:, 0, :3] = np.nan  # positions the decomposition left out
    cut = Unmixing(loadings=maps, components=unmix.components, residual=unmix.residual,
                   method="closure", r_range=unmix.r_range)
    out = report.component_sigmas(pdf, ri, cut, comp)
    var = out.metadata.Signal.Noise_properties.variance.data
    assert out.metadata.ePDF.uncertainty.positions == 97 and np.all(np.isfinite(var))
    # fewer positions: a larger (never NaN) σ on average
    assert var.mean() > full.metadata.Signal.Noise_properties.variance.data.mean()
    ica = Unmixing(loadings=maps, components=unmix.components, residual=unmix.residual,
                   method="ica", r_range=unmix.r_range)
    with pytest.raises(ValueError, match="closure"):
        report.component_sigmas(pdf, ri, ica, comp)
    _, content = report.build(pdf, ri, dec, ica, comp, CHAIN, n_bootstrap=10)
    assert "ica loadings are not phase fractions" in content["band_note"]
    assert all(np.all(np.isnan(p["positions_sd"])) for p in content["peaks"]
               if p["label"].endswith("ica component"))


def test_component_sigmas_of_pure_pixel_means(small):
    """With the pure pixels given, σ of each component is √(Σσ²)/n over them."""
    _, ri, comp, pdf, dec, unmix = small
    from pyxem_epdf import quantify

    sigma = quantify.pdf_sigma(ri, pdf, lazy_output=False).data.reshape(100, -1)
    frac = unmix.loadings.data.reshape(2, -1).T
    pure = frac > 0.9
    assert pure.sum(axis=0).min() >= 5
    out = report.component_sigmas(pdf, ri, unmix, comp, pure=pure)
    got = np.sqrt(out.metadata.Signal.Noise_properties.variance.data)
    for j in range(2):
        want = np.sqrt((sigma[pure[:, j]] ** 2).sum(axis=0)) / pure[:, j].sum()
        np.testing.assert_allclose(got[j], want, rtol=1e-10)
    ls = np.sqrt(report.component_sigmas(pdf, ri, unmix, comp)
                 .metadata.Signal.Noise_properties.variance.data)
    assert np.all(ls.mean(axis=1) < got.mean(axis=1))  # all positions: smaller σ
    with pytest.raises(ValueError, match="'pure'"):
        report.component_sigmas(pdf, ri, unmix, comp, pure=pure[:50])
