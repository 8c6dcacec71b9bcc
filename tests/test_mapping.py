"""Mapping on the embedded composite at the paper's dose: decomposition,
closure-aware unmixing vs plain ICA, component PDFs, inclusion, interface width.

As in the paper, the scan (here 40 × 40 at 2.5 nm steps, 10 e⁻/Å² per
pattern) is binned 2 × 2 in navigation before integration (HyperSpy's
``rebin``), giving 20 × 20 probe positions at 5 nm.
"""

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data
from pyxem_epdf.mapping import interface_width, plot_pdfs
from pyxem_epdf.physics import peaks

CHAIN = {"s_range": (1.6, 2.5), "s_max": 2.5, "b": 0.8, "s_min": 0.18}
BIN = 2
R_RANGE = (1.0, 8.0)


def chain(ri, composition):
    return (
        ri.fit_scattering(composition, s_range=CHAIN["s_range"], weights="poisson", fix_c=True)
        .polynomial_correct(s_max=CHAIN["s_max"])
        .damp_exponential(b=CHAIN["b"])
        .extrapolate_low_s(s_min=CHAIN["s_min"])
        .to_pdf(r_max=10, r_step=0.02)
    )


@pytest.fixture(scope="module")
def composite():
    synth = data.two_phase_composite(nav_shape=(40, 40), step=2.5, seed=0)
    binned = synth.signal.rebin(scale=(BIN, BIN, 1, 1))
    profile = binned.get_azimuthal_integral1d(npt=70, mean=True, show_progressbar=False)
    ri = epdf.from_profile(profile)
    composition = data.average_composition(synth)
    pdf = chain(ri, composition)
    # reference: the same chain on noiseless pure-phase profiles
    s = ri.axes_manager.signal_axes[0].axis
    refs = []
    for phase in synth.phases:
        pure = ri.inav[0, 0].deepcopy()
        pure.data = phase.intensity_profile(s, 40.0)
        refs.append(chain(pure, composition))
    decomposition = pdf.decompose(R_RANGE)
    return synth, pdf, refs, decomposition


def truth_fractions(synth, k):
    f = synth.fractions[..., k]
    n = f.shape[0] // BIN
    return f.reshape(n, BIN, n, BIN).mean(axis=(1, 3))


def _match(maps, truth):
    """Correlation of each true fraction map with its best-matching map."""
    cc = np.array([[np.corrcoef(m.ravel(), t.ravel())[0, 1] for t in truth] for m in maps])
    order = [int(np.argmax(cc[:, k])) for k in range(len(truth))]
    return order, np.array([cc[order[k], k] for k in range(len(truth))])


def test_parallel_analysis_finds_two_components(composite):
    _, _, _, dec = composite
    assert dec.evidence.n_components == 2  # mean + phase contrast (uncentred count)
    assert dec.n_components == 2
    ax = dec.plot_scree()
    assert len(ax.lines) >= 2
    plt.close("all")


def test_closure_unmixing_recovers_both_fraction_maps(composite):
    synth, _, refs, dec = composite
    unmix = dec.unmix(method="closure")
    fractions = unmix.loadings.data
    assert fractions.shape == (2, 20, 20)
    assert fractions.min() >= 0 and np.allclose(fractions.sum(0), 1)
    truth = [truth_fractions(synth, k) for k in range(2)]
    order, cc = _match(fractions, truth)
    assert sorted(order) == [0, 1]
    assert np.all(cc >= 0.95), cc
    # pure-phase PDFs vs the same chain on noiseless pure-phase patterns
    r = unmix.components.axes_manager.signal_axes[0].axis
    win = (r >= 1.2) & (r <= 8.0)
    for k in range(2):
        comp = unmix.components.data[order[k]]
        ref = refs[k].data
        assert np.corrcoef(comp[win], ref[win])[0, 1] >= 0.95
        pos, _ = peaks.find_peaks(comp, r, r_range=(1.2, 8.0), n_peaks=4)
        ref_pos, _ = peaks.find_peaks(ref, r, r_range=(1.2, 8.0), n_peaks=4)
        np.testing.assert_allclose(pos, ref_pos, atol=0.05)
    # the small inclusion of phase A inside phase B is found
    inc = truth_fractions(synth, 0) > 0.5
    inc[:, :11] = False  # right of the straight interface only
    assert inc.sum() >= 4
    assert fractions[order[0]][inc].mean() > 0.5
    assert fractions[order[0]][14:, 16:].mean() < 0.3  # B matrix around it


def test_plain_ica_mixes_the_second_map(composite):
    """The reason for closure: ICA of complementary fractions."""
    synth, _, _, dec = composite
    ica = dec.unmix(method="ica")
    truth = [truth_fractions(synth, k) for k in range(2)]
    cc = np.array([[abs(np.corrcoef(m.ravel(), t.ravel())[0, 1]) for t in truth]
                   for m in ica.loadings.data])
    one_to_one = max(min(cc[0, 0], cc[1, 1]), min(cc[1, 0], cc[0, 1]))
    closure = dec.unmix(method="closure")
    _, cc_closure = _match(closure.loadings.data, truth)
    assert cc.max() > 0.9  # ICA gets one map ...
    assert one_to_one < 0.9 < cc_closure.min()  # ... but not both; closure does
    # sign convention: loadings mostly positive
    assert np.all(ica.loadings.data.reshape(2, -1).sum(axis=1) > 0)


def test_interface_width_within_one_scan_pixel(composite):
    synth, _, _, dec = composite
    unmix = dec.unmix(method="closure")
    order, _ = _match(unmix.loadings.data, [truth_fractions(synth, 0)])
    fmap = unmix.loadings.inav[order[0]]
    # across the straight interface, away from the inclusion, along its normal
    a = np.deg2rad(15.0)
    x0, y0, half = 30.6, 80.0, 22.0  # on the interface (0.4 W − (y − H/2) tan 15°)
    line = ((x0 - half * np.cos(a), y0 - half * np.sin(a)),
            (x0 + half * np.cos(a), y0 + half * np.sin(a)))
    result = interface_width(fmap, line, linewidth=10.0, probe_diameter=5.0)
    pixel = synth.parameters.step * BIN
    assert abs(result.width - synth.parameters.interface_width) <= pixel
    assert "nm" in str(result) and "probe" in str(result)


def test_composition_map_and_refit(composite):
    synth, pdf, _, dec = composite
    unmix = dec.unmix(method="closure")
    order, _ = _match(unmix.loadings.data, [truth_fractions(synth, k) for k in range(2)])
    comps = [None, None]
    for k, phase in enumerate(synth.phases):
        comps[order[k]] = phase.composition
    cmap = unmix.composition_map(comps)
    total = sum(cmap.values())
    np.testing.assert_allclose(total, 1.0)
    zif_fraction = unmix.loadings.data[order[0]]
    zn_in_zif = epdf.parse_composition(synth.phases[0].composition)["Zn"]
    np.testing.assert_allclose(cmap["Zn"], zif_fraction * zn_in_zif, rtol=1e-12)
    na_in_glass = epdf.parse_composition(synth.phases[1].composition)["Na"]
    np.testing.assert_allclose(cmap["Na"], (1 - zif_fraction) * na_in_glass, rtol=1e-9)


def test_overlay_plot(composite):
    _, pdf, refs, dec = composite
    unmix = dec.unmix(2, method="closure")
    ax = plot_pdfs([unmix.components, *refs], labels=["c0", "c1", "ref A", "ref B"])
    assert len(ax.get_lines()) == 5  # four PDFs + zero line
    ax = unmix.plot_composite()
    assert ax.images[0].get_array().shape == (20, 20, 3)
    plt.close("all")


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda pdf: pdf.decompose((5.0, 50.0)), "'r_range'"),
        (lambda pdf: pdf.decompose((3.0, 2.0)), "'r_range'"),
        (lambda pdf: pdf.decompose(R_RANGE, n_components=1000), "between 1 and the number of used pixels"),
        (lambda pdf: pdf.inav[0, 0].decompose(R_RANGE), "navigation axes"),
        (lambda pdf: pdf.inav[:1, :2].decompose(R_RANGE), "at least 3 probe positions"),
    ],
)
def test_errors(composite, call, match):
    with pytest.raises(ValueError, match=match):
        call(composite[1])


def test_unmix_and_interface_errors(composite):
    synth, _, _, dec = composite
    with pytest.raises(ValueError, match="'n_components' must be between"):
        dec.unmix(n_components=10_000)
    unmix = dec.unmix(2)
    with pytest.raises(ValueError, match="'phase_compositions' needs 2"):
        unmix.composition_map(["SiO2"])
    with pytest.raises(ValueError, match="outside the map"):
        interface_width(unmix.loadings.inav[0], ((0, 0), (500, 0)))
    with pytest.raises(ValueError, match="'line' must be"):
        interface_width(unmix.loadings.inav[0], (1, 2, 3))


def test_composition_refinement_report(composite):
    synth, pdf, _, dec = composite
    unmix = dec.unmix(2, method="closure")
    truth = [truth_fractions(synth, k) for k in range(2)]
    order, _ = _match(unmix.loadings.data, truth)
    comps = [None, None]
    for k, phase in enumerate(synth.phases):
        comps[order[k]] = phase.composition
    binned = synth.signal.rebin(scale=(BIN, BIN, 1, 1))
    ri = epdf.from_profile(binned.get_azimuthal_integral1d(npt=70, mean=True,
                                                           show_progressbar=False))
    refined, change = unmix.refine_composition(ri, comps, chain)
    assert set(change) == {"pdf_rms", "pdf_corr", "fraction_mean_abs", "n_pure"}
    assert all(0 < v < 0.5 for v in change["pdf_rms"])  # it changes, but not beyond recognition
    assert all(v > 0.95 for v in change["pdf_corr"])  # mostly a rescaling
    assert all(n >= 3 for n in change["n_pure"]) and change["fraction_mean_abs"] == [0.0, 0.0]
    np.testing.assert_array_equal(refined.loadings.data, unmix.loadings.data)  # maps kept
    assert refined.labels == unmix.labels
    assert refined.fit_s_range == unmix.fit_s_range is not None  # volume_fractions' window
    with pytest.raises(ValueError, match="'phase_compositions' needs 2"):
        unmix.refine_composition(ri, comps[:1], chain)


def test_peak_table_and_compare(composite, tmp_path):
    from pyxem_epdf.mapping import peak_table

    _, _, refs, dec = composite
    unmix = dec.unmix(2)
    a = peak_table(refs, labels=["A", "B"])
    b = peak_table(unmix.components, labels=["c0", "c1"])
    assert a.positions.shape == (2, 4) and np.all(a.widths > 0)
    diff = a.compare(a)
    np.testing.assert_array_equal(diff.positions, 0)
    assert "r1 (Å)" in str(b)
    a.save_csv(tmp_path / "peaks.csv")
    lines = (tmp_path / "peaks.csv").read_text().splitlines()
    assert lines[0].startswith("label,peak") and len(lines) == 9
    with pytest.raises(ValueError, match="differ in shape"):
        a.compare(peak_table(refs[0]))


def test_interactive_region_pdf_follows_roi(composite):
    import hyperspy.api as hs

    from pyxem_epdf.mapping import interactive_region_pdf

    synth, _, _, _ = composite
    binned = synth.signal.rebin(scale=(BIN, BIN, 1, 1))
    ri = epdf.from_profile(binned.get_azimuthal_integral1d(npt=70, mean=True,
                                                           show_progressbar=False))
    roi = hs.roi.RectangularROI(left=0, right=20, top=0, bottom=20)
    comp = data.average_composition(synth)
    region_pdf = interactive_region_pdf(ri, roi, lambda sig: chain(sig, comp))
    before = region_pdf.data.copy()
    roi.left, roi.right = 60, 85  # move it into the other phase
    assert not np.allclose(region_pdf.data, before)
    expected = chain(ri.sum_regions(roi), comp)
    np.testing.assert_allclose(region_pdf.data, expected.data)


def test_lazy_pdf_cube_gives_the_same_unmixing(composite):
    _, pdf, _, dec = composite
    lazy = pdf.as_lazy()
    dec_lazy = lazy.decompose(R_RANGE)
    assert dec_lazy.n_components == dec.n_components
    a = dec.unmix(2, method="closure")
    b = dec_lazy.unmix(2, method="closure")
    np.testing.assert_allclose(b.loadings.data, a.loadings.data, atol=1e-8)
    np.testing.assert_allclose(b.components.data, a.components.data, atol=1e-8)
    assert pdf._lazy is False and lazy._lazy is True  # inputs untouched


def test_other_algorithms_pass_through(composite):
    _, _, _, dec = composite
    with pytest.raises(ValueError, match="method='nmf' needs non-negative data"):
        dec.unmix(2, method="nmf")
    res = dec.unmix(2, method="orthomax")  # any HyperSpy BSS algorithm
    assert res.loadings.data.shape == (2, 20, 20) and res.method == "orthomax"


def test_thresholded_loading_map_as_region(composite):
    synth, _, _, dec = composite
    unmix = dec.unmix(2)
    binned = synth.signal.rebin(scale=(BIN, BIN, 1, 1))
    ri = epdf.from_profile(binned.get_azimuthal_integral1d(npt=70, mean=True,
                                                           show_progressbar=False))
    mask_signal = unmix.loadings.inav[0] > 0.8
    region = ri.sum_regions(mask_signal)
    np.testing.assert_allclose(region.data, ri.data[unmix.loadings.data[0] > 0.8].sum(0))


# --- fast cubes synthesised in numpy: PDF-like noise (sine transform of φ noise,
# correlated along r), a noise level changing 10× across the scan, thickness-like
# amplitude wedge (issue 12's rank-estimate failure modes)

from scipy.special import ndtr  # noqa: E402

R_AX = np.arange(0.0, 10.0, 0.02)
S_AX = np.linspace(0.05, 2.5, 64)


def _phases(k):
    centres = [(1.5, 2.6, 4.0), (1.9, 3.1, 5.0), (1.3, 2.2, 3.6)][:k]
    return np.stack([sum(np.exp(-0.5 * ((R_AX - c) / 0.12) ** 2) for c in cs) for cs in centres])


def _fractions(n, k):
    y, x = np.mgrid[0:n, 0:n]
    a = ndtr((n / 2 - x) / 1.5)
    if k == 2:
        return np.stack([a, 1 - a], -1)
    b = (1 - a) * ndtr((y - n / 2) / 1.5)
    return np.stack([a, b, 1 - a - b], -1)


def synthetic_pdf(n=32, k=2, noise=0.08, seed=0):
    rng = np.random.default_rng(seed)
    f = _fractions(n, k)
    t = np.mgrid[0:n, 0:n][1] / (n - 1)
    sine = np.sin(2 * np.pi * np.outer(R_AX, S_AX)) * np.exp(-0.8 * S_AX**2) * S_AX
    nz = (rng.standard_normal((n, n, S_AX.size)) * (1 + S_AX)) @ sine.T
    nz *= noise / nz.std()
    g = (1 + 0.3 * (t - 0.5))[..., None] * (f @ _phases(k)) + (10.0**t)[..., None] * nz
    pdf = epdf.PDF1DPlus(g)
    ax = pdf.axes_manager.signal_axes[0]
    ax.scale, ax.units, ax.name = 0.02, "Å", "r"
    for a in pdf.axes_manager.navigation_axes:
        a.scale, a.units = 2.5, "nm"
    return pdf, f


def _best(maps, truth):
    return max(abs(np.corrcoef(np.nan_to_num(m).ravel(), truth.ravel())[0, 1]) for m in maps)


@pytest.mark.parametrize("k", [2, 3])
def test_rank_and_maps_on_heteroscedastic_cube(k):
    pdf, f = synthetic_pdf(k=k)
    before = pdf.data.copy()
    dec = pdf.decompose((1, 8))
    assert dec.n_components == k and dec.evidence.n_components == k
    np.testing.assert_array_equal(pdf.data, before)  # input untouched
    assert pdf.learning_results.factors is None
    lr = dec.signal.learning_results  # HyperSpy's layout on the cropped copy
    assert lr.factors.shape[0] == dec.signal.axes_manager.signal_size
    assert lr.loadings.shape[0] == 32 * 32 and lr.decomposition_algorithm == "SVD"
    un = dec.unmix()
    assert un.loadings.data.shape == (k, 32, 32)
    for j in range(k):
        assert _best(un.loadings.data, f[..., j]) > 0.95
    ax = dec.plot_scree()
    assert len(ax.lines) >= 2 and "noise floor" in ax.get_legend_handles_labels()[1][1]
    plt.close("all")


def test_invalid_patterns_are_excluded_and_counted():
    pdf, f = synthetic_pdf()
    valid = np.ones((32, 32), bool)
    valid[3, 4] = valid[10, 20] = False
    pdf.data[7, 7] *= 500.0  # a failed N fit the flag missed
    pdf.metadata.set_item("ePDF.fit.valid", hs.signals.Signal2D(valid))
    dec = pdf.decompose((1, 8))
    assert dec.excluded == {"invalid": 2, "non_finite": 0, "outlier": 1}
    assert "excluded 2 invalid, 1 outlier" in str(dec)
    un = dec.unmix()
    assert np.isnan(un.loadings.data[:, 3, 4]).all() and np.isnan(un.loadings.data[:, 7, 7]).all()
    assert np.isfinite(un.loadings.data[:, 0, 0]).all()
    assert np.isnan(dec.signal.learning_results.loadings[3 * 32 + 4]).all()
    kept = pdf.decompose((1, 8), exclude_invalid=False)
    assert kept.excluded["invalid"] == 0
    # composition maps fill excluded pixels with the mean fractions
    cmap = un.composition_map(["SiO2", "Al2O3"])
    assert np.isfinite(cmap["Si"]).all()


def test_binned_decomposition_projected_to_full_resolution():
    pdf, f = synthetic_pdf(n=32)
    binned = pdf.rebin(scale=(2, 2, 1)) / 4.0
    un = binned.decompose((1, 8)).unmix(labels=["A", "B"])
    full = un.project(pdf)
    assert full.loadings.data.shape == (2, 32, 32) and full.labels == ["A", "B"]
    assert _best(full.loadings.data, f[..., 0]) > 0.95
    np.testing.assert_allclose(np.nansum(full.loadings.data, axis=0), 1.0)
    ols = un.project(pdf, gls=None)
    assert _best(ols.loadings.data, f[..., 0]) > 0.9
    with pytest.raises(ValueError, match="must have the r samples"):
        un.project(pdf.isig[2.0:9.0])


def test_labels_title_maps_and_components():
    pdf, _ = synthetic_pdf()
    un = pdf.decompose((1, 8)).unmix(2, labels=["ZIF", "glass"])
    assert un.map("glass").metadata.General.title == "glass fraction"
    assert un.component("ZIF").metadata.General.title == "ZIF PDF (closure)"
    assert "ZIF, glass" in un.loadings.metadata.General.title
    un.labels = ["a", "b"]
    assert "a, b" in un.components.metadata.General.title
    assert pdf.decompose((1, 8)).unmix(2).labels == ["phase 0", "phase 1"]
    with pytest.raises(ValueError, match="'labels' needs 2"):
        un.labels = ["only one"]
    with pytest.raises(ValueError, match="Unknown component 'c'"):
        un.map("c")


def test_interface_width_of_unclipped_fractions_and_failed_fit():
    pdf, _ = synthetic_pdf()
    un = pdf.decompose((1, 8)).unmix(2, labels=["left", "right"])
    line = ((20.0, 40.0), (60.0, 40.0))  # across the vertical interface at x = 16 px = 40 nm
    width = un.interface_width("left", line, pdf, linewidth=20.0)
    truth = 2 * 1.2816 * 1.5 * 2.5  # 10–90 % width of the ndtr edge, nm
    assert abs(width.width - truth) < 0.25 * truth
    nan_map = un.map("left")
    nan_map.data[:] = np.nan
    failed = interface_width(nan_map, line)
    assert np.isnan(failed.width) and "finite pixels" in failed.fit.reason
    assert "not measured" in str(failed)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda pdf: pdf.decompose((1.0, 1.1)), "holds 6 r samples"),
        (lambda pdf: pdf.decompose((1.0, 1.02)), "at least 10"),
        (lambda pdf: pdf.decompose((1, 8)).unmix(2, "foo"), "'closure', 'ica', 'nmf'"),
        (lambda pdf: pdf.decompose((1, 8)).unmix(2, labels=["x"]), "'labels' needs 2"),
    ],
)
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call(synthetic_pdf(n=8)[0])


@pytest.mark.parametrize("fill, match", [(np.nan, "finite, valid"), (0.0, "vacuum")])
def test_nan_or_vacuum_cube_raises_before_lapack(fill, match, capfd):
    pdf, _ = synthetic_pdf(n=8)
    pdf.data[:] = fill
    with pytest.raises(ValueError, match=match):
        pdf.decompose((1, 8))
    assert "DLASCL" not in capfd.readouterr().err and "illegal value" not in capfd.readouterr().err


def test_decompose_with_the_noise_propagated_from_the_profile():
    """decompose(ri=...): noise level and r-covariance from the variance of I(s)."""
    synth = data.two_phase_composite(nav_shape=(12, 12), detector_shape=(64, 64), s_scale=0.08)
    ri = epdf.azimuthal_profile(synth.signal, npt=40)
    pdf = (ri.fit_scattering(data.average_composition(synth), (1.6, 2.4), weights="poisson",
                             fix_c=True)
           .polynomial_correct().damp_exponential(0.8).extrapolate_low_s(0.2).to_pdf(8, 0.05))
    estimated = pdf.decompose((1.0, 6.0))
    corr = epdf.quantify.integration_correlation(synth.signal, ri)
    dec = pdf.decompose((1.0, 6.0), ri=ri, noise_correlation=corr)
    # the bins' correlation is part of the model: without it the noise of
    # neighbouring s bins is under-estimated and noise rises above the floor;
    # those directions have spatially white loadings, which the coherence
    # test (on by default on this path) rejects
    uncorrelated = pdf.decompose((1.0, 6.0), ri=ri, min_coherence=False)
    assert uncorrelated.n_components > 2
    assert uncorrelated.evidence.min_coherence is None
    guarded = pdf.decompose((1.0, 6.0), ri=ri)
    assert guarded.n_components == 2
    ev = guarded.evidence
    extra = slice(2, uncorrelated.n_components)
    assert np.all(ev.singular_values[extra] > ev.noise_floor[extra])
    assert np.all(np.abs(ev.coherence[extra]) < ev.min_coherence)
    assert guarded.signal.metadata.ePDF.decomposition.min_coherence == 4.0
    assert dec.signal.metadata.ePDF.decomposition.noise == "propagated"
    assert estimated.signal.metadata.ePDF.decomposition.noise == "estimated"
    assert dec.n_components == 2
    # the noise level is the propagated one: rms of pdf_sigma over the window (median 1)
    r = pdf.axes_manager.signal_axes[0].axis
    sel = np.isin(np.round(r, 6), np.round(dec.signal.axes_manager.signal_axes[0].axis, 6))
    sigma = epdf.quantify.pdf_sigma(ri, pdf, correlation=corr).data.reshape(144, -1)[:, sel]
    level = np.sqrt((sigma**2).mean(axis=1))[dec.evidence.used]
    assert np.allclose(dec.evidence.noise_scale, np.maximum(level / np.median(level), 0.05))
    truth = synth.fractions[..., 0].ravel()
    maps = dec.unmix().loadings.data.reshape(2, -1)
    assert max(abs(np.corrcoef(m, truth)[0, 1]) for m in maps) > 0.9
    with pytest.raises(ValueError, match="navigation shape"):
        pdf.decompose((1.0, 6.0), ri=ri.inav[:6])


def test_refit_endmembers_weighted_vs_mean(composite):
    """The fractions are refitted on the inverse-variance weighted pure-pixel means;
    the component PDFs returned stay the plain region means."""
    synth, pdf, refs, dec = composite
    weighted = dec.unmix()
    plain = dec.unmix(refit_endmembers="mean")
    np.testing.assert_allclose(weighted.components.data, plain.components.data)
    assert not np.allclose(weighted.loadings.data, plain.loadings.data, equal_nan=True)
    truth = truth_fractions(synth, 0).ravel()
    r = [max(abs(np.corrcoef(m, truth)[0, 1]) for m in u.loadings.data.reshape(2, -1))
         for u in (weighted, plain)]
    assert r[0] >= r[1] - 0.003, r  # measured on this composite: see benchmarks/README.md
    with pytest.raises(ValueError, match="'refit_endmembers'"):
        dec.unmix(refit_endmembers="median")
