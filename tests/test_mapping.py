"""Mapping on the embedded composite at the paper's dose: decomposition,
closure-aware unmixing vs plain ICA, component PDFs, inclusion, interface width.

As in the paper, the scan (here 40 × 40 at 2.5 nm steps, 10 e⁻/Å² per
pattern) is binned 2 × 2 in navigation before integration (HyperSpy's
``rebin``), giving 20 × 20 probe positions at 5 nm.
"""

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
    assert set(change) == {"pdf_rms", "pdf_corr", "fraction_mean_abs"}
    assert all(0 < v < 0.5 for v in change["pdf_rms"])  # it changes, but not beyond recognition
    _, cc = _match(refined.loadings.data, truth)
    assert np.all(cc >= 0.95)


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
