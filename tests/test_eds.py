"""EDS correlation: exspy element maps, registration to the scan grid, correlation.

The synthetic EDS spectrum image (a real exspy ``EDSTEMSpectrum`` with Poisson
counts) samples the same phase and thickness fields as the 4D-STEM scan, on a
1.5× coarser grid with a known drift; the loadings come from the real chain
(integration → fit → … → G(r) → closure unmixing).
"""

import hyperspy.api as hs
import matplotlib.pyplot as plt
import numpy as np
import pytest
from scipy import stats

import pyxem_epdf as epdf
from pyxem_epdf import data
from pyxem_epdf.physics.registration import (
    correlation_table,
    register_grids,
    resample_image,
)

DRIFT = (6.3, -4.1)  # nm; the scan step is 5 nm
ORIGIN = (12.0, -6.0)  # nominal EDS origin: its field of view covers most of the scan
CHAIN = {"s_range": (1.6, 2.5), "s_max": 2.5, "b": 0.8, "s_min": 0.18}


@pytest.fixture(scope="module")
def scene():
    synth = data.two_phase_composite(nav_shape=(24, 24), seed=4)
    ri = epdf.azimuthal_profile(synth.signal, npt=80, s_max=2.56)
    pdf = (ri.fit_scattering(data.average_composition(synth), CHAIN["s_range"],
                             weights="poisson", fix_c=True)
           .polynomial_correct(s_max=CHAIN["s_max"]).damp_exponential(CHAIN["b"])
           .extrapolate_low_s(CHAIN["s_min"]).to_pdf(r_max=10, r_step=0.02))
    unmix = pdf.decompose((1.0, 8.0)).unmix(2, "closure")
    # name the components by their PDFs: the glass has the P–O peak at 1.53 Å
    r = unmix.components.axes_manager.signal_axes[0].axis
    glass = int(np.argmax([np.interp(1.53, r, g) for g in unmix.components.data]))
    loadings = [unmix.loadings.inav[1 - glass], unmix.loadings.inav[glass]]  # ZIF, glass
    eds = data.synthetic_eds(synth, origin=ORIGIN, drift=DRIFT, counts=1500, seed=9,
                             n_channels=1024)
    return synth, unmix, loadings, eds


def test_synthetic_eds_is_a_real_exspy_signal(scene, tmp_path):
    _, _, _, eds = scene
    from exspy.signals import EDSTEMSpectrum

    assert isinstance(eds.spectrum, EDSTEMSpectrum)
    assert eds.spectrum.axes_manager.navigation_axes[0].scale == pytest.approx(7.5)
    # written and read back by hs.load, it is still an EDS TEM spectrum with its lines
    path = tmp_path / "eds.hspy"
    eds.spectrum.save(path)
    back = hs.load(path)
    assert isinstance(back, EDSTEMSpectrum)
    assert back.metadata.Sample.xray_lines == ["Al_Ka", "Na_Ka", "P_Ka", "Zn_Ka"]
    # exspy's own maps follow the expected line counts (background windows subtracted)
    maps = epdf.eds.element_maps(back)
    zn = maps[[m.metadata.Sample.xray_lines[0] for m in maps].index("Zn_Ka")].data
    r = np.corrcoef(zn.ravel(), eds.line_counts["Zn"].ravel())[0, 1]
    assert r > 0.85


@pytest.mark.parametrize("route", ["haadf", "zn_vs_loading"])
def test_registration_within_half_a_pixel(scene, route):
    synth, _, loadings, eds = scene
    if route == "haadf":
        reg = epdf.eds.register_eds(eds.spectrum, eds.scan_haadf, eds.haadf)
    else:
        reg = epdf.eds.register_eds(eds.spectrum, loadings[0], "Zn_Ka")
    step = synth.parameters.step
    assert np.all(np.abs(reg.shift - DRIFT) < 0.5 * step), reg.shift
    np.testing.assert_allclose(reg.scale, [1.5, 1.5])
    # the maps are on the scan grid, NaN only outside the EDS field of view
    assert reg.maps[0].data.shape == (24, 24)
    assert 0.5 < np.isfinite(reg.maps[0].data).mean() < 1.0
    record = reg.maps[0].metadata.ePDF.eds_registration
    assert record.shift_nm == pytest.approx(list(reg.shift))
    assert reg.maps[0].axes_manager.signal_axes[0].scale == step
    plt.close(reg.plot())


def test_paper_check_in_one_call(scene):
    """Zn follows the ZIF-like loading and Al the glass-like loading, r ≥ 0.9."""
    _, unmix, loadings, eds = scene
    corr = epdf.eds.correlate_eds(eds.spectrum, loadings, labels=["ZIF", "glass"],
                                  scan_image=eds.scan_haadf, eds_image=eds.haadf,
                                  normalize="eds_image")
    assert corr.r("Zn_Ka", "ZIF") >= 0.9
    assert corr.r("Al_Ka", "glass") >= 0.9
    assert corr.r("Zn_Ka", "glass") <= -0.9
    # ranks inside the pure regions are noise, so Spearman is lower than Pearson
    assert corr.r("Zn_Ka", "ZIF", "spearman") >= 0.7
    assert corr.registration is not None
    assert "Zn_Ka" in str(corr)
    # raw counts also follow thickness: the correlation is lower but still clear
    raw = epdf.eds.correlate_eds(eds.spectrum, loadings, labels=["ZIF", "glass"],
                                 scan_image=eds.scan_haadf, eds_image=eds.haadf)
    assert 0.7 < raw.r("Zn_Ka", "ZIF") < corr.r("Zn_Ka", "ZIF")
    fig = corr.plot()
    assert len(fig.axes) == 4 * 2 * 2  # every panel with its colour bar
    plt.close(fig)
    fig = corr.plot_pair("Zn_Ka", "ZIF")
    assert fig.axes[0].get_xlabel() == "ZIF loading (a.u.)"
    plt.close(fig)
    # the Unmixing object itself is accepted as loadings
    again = corr.registration.correlate(unmix)
    assert again.labels == ["loading 0", "loading 1"]


def test_lazy_spectrum_image_gives_lazy_maps_equal_to_eager(scene):
    synth, _, _, eds = scene
    lazy = data.synthetic_eds(synth, origin=ORIGIN, drift=DRIFT, counts=1500, seed=9,
                              n_channels=1024, lazy=True, chunks=8)
    assert lazy.spectrum._lazy
    maps = epdf.eds.element_maps(lazy.spectrum, ["Zn_Ka", "P_Ka"])
    assert all(m._lazy for m in maps)  # nothing computed yet
    eager_si = lazy.spectrum.deepcopy()
    eager_si.compute()
    assert not eager_si._lazy
    eager = epdf.eds.element_maps(eager_si, ["Zn_Ka", "P_Ka"])
    for m_lazy, m_eager in zip(maps, eager, strict=True):
        np.testing.assert_allclose(m_lazy.data.compute(), m_eager.data, rtol=1e-12)
    # registration takes lazy maps (computing them once) and finds the drift
    reg = epdf.eds.register_eds(maps, eds.scan_haadf, lazy.haadf)
    assert np.all(np.abs(reg.shift - DRIFT) < 0.5 * synth.parameters.step)


def test_exspy_example_file_runs_through_maps_and_correlation(tmp_path):
    """exspy's shipped FePt spectrum, scaled pixel-wise by a known map, Poisson sampled."""
    import exspy

    spectrum = exspy.data.EDS_TEM_FePt_nanoparticles()
    yy, xx = np.mgrid[:20, :24]
    truth = 0.2 + np.exp(-((xx - 14.0) ** 2 + (yy - 8.0) ** 2) / 30.0)
    rng = np.random.default_rng(0)
    counts = rng.poisson(truth[..., None] * spectrum.data[None, None, :] * 0.5)
    si = exspy.signals.EDSTEMSpectrum(counts.astype(np.int32))
    si.axes_manager.signal_axes[0].update_from(spectrum.axes_manager.signal_axes[0],
                                               ("scale", "offset", "units", "name"))
    si.metadata.add_dictionary(spectrum.metadata.as_dictionary())
    for ax in si.axes_manager.navigation_axes:
        ax.units, ax.scale = "nm", 2.0
    path = tmp_path / "fept_si.hspy"
    si.save(path)
    back = hs.load(path)
    maps = epdf.eds.element_maps(back)  # Fe and Pt from the file's own metadata
    names = [m.metadata.Sample.xray_lines[0] for m in maps]
    assert names == ["Fe_Ka", "Pt_La"]
    loading = hs.signals.Signal2D(truth)
    for ax in loading.axes_manager.signal_axes:
        ax.units, ax.scale = "nm", 2.0
    corr = epdf.eds.correlate(maps, [loading], labels=["truth"])
    assert corr.r("Pt_La", "truth") > 0.9
    assert corr.r("Fe_Ka", "truth") > 0.8


def test_correlation_table_matches_scipy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(3, 50))
    b = a[:2] ** 3 + rng.normal(scale=0.5, size=(2, 50))
    a[0, 4] = np.nan
    pearson, spearman, n = correlation_table(a, b)
    keep = np.isfinite(a).all(0)
    assert n == keep.sum()
    for i in range(3):
        for j in range(2):
            assert pearson[i, j] == pytest.approx(stats.pearsonr(a[i, keep], b[j, keep])[0])
            assert spearman[i, j] == pytest.approx(stats.spearmanr(a[i, keep], b[j, keep])[0])


def test_resample_and_register_grids_recover_a_known_drift():
    yy, xx = np.mgrid[:60, :60] * 1.0
    scene = (np.exp(-((xx - 25) ** 2 + (yy - 20) ** 2) / 40) + 0.6 * (xx + 0.3 * yy > 40)
             + 0.01 * xx)
    for drift in [(2.6, -1.4), (-5.2, 3.7)]:
        moving = resample_image(scene, (0, 0), (1, 1), (3, -2), (2, 2), (26, 28), shift=drift)
        reg = register_grids(scene, (0, 0), (1, 1), moving, (3, -2), (2, 2))
        np.testing.assert_allclose(reg.shift, np.negative(drift), atol=0.3)
    # resampling a plane is exact (bilinear)
    plane = 2.0 * xx + 3.0 * yy
    coarse = resample_image(plane, (0, 0), (1, 1), (10, 10), (1, 1), (5, 5), shift=(0.5, 0.25))
    np.testing.assert_allclose(coarse[0, :2], [2 * 9.5 + 3 * 9.75, 2 * 10.5 + 3 * 9.75])


def test_errors(scene):
    synth, _, loadings, eds = scene
    # fields of view that do not overlap
    far = data.synthetic_eds(synth, origin=(500.0, 0.0), drift=(0, 0), n_channels=1024)
    with pytest.raises(ValueError, match="do not overlap"):
        epdf.eds.register_eds(far.spectrum, eds.scan_haadf, far.haadf)
    # no elements in the EDS metadata
    bare = eds.spectrum.deepcopy()
    del bare.metadata.Sample
    with pytest.raises(ValueError, match="names no elements"):
        epdf.eds.element_maps(bare)
    with pytest.raises(TypeError, match="exspy EDS spectrum"):
        epdf.eds.element_maps(eds.haadf)
    # uncalibrated axes
    plain = eds.haadf.deepcopy()
    plain.axes_manager.signal_axes[0].units = "<undefined>"
    with pytest.raises(ValueError, match="units"):
        epdf.eds.register_eds(eds.spectrum, eds.scan_haadf, plain)
    with pytest.raises(ValueError, match="not one of the maps"):
        epdf.eds.register_eds(eds.spectrum, loadings[0], "Cu_Ka")
    with pytest.raises(ValueError, match="different grids"):
        epdf.eds.correlate(epdf.eds.element_maps(eds.spectrum), loadings)
    with pytest.raises(ValueError, match="'normalize'"):
        epdf.eds.register_eds(eds.spectrum, eds.scan_haadf, eds.haadf, normalize="thickness")


def test_unknown_xray_lines_are_named_with_the_valid_ones():
    synth = data.two_phase_composite(nav_shape=(8, 8), detector_shape=(32, 32))
    eds = data.synthetic_eds(synth, n_channels=1024).spectrum
    # an unknown element: the message names the line and lists the spectrum's lines
    with pytest.raises(ValueError, match=r"Unknown X-ray line 'Qq_Ka' in 'xray_lines'.*"
                                         r"'Qq' is not an element.*Zn_Ka"):
        epdf.eds.element_maps(eds, ["Qq_Ka"])
    # a known element with a line it does not have: its own lines are listed
    with pytest.raises(ValueError, match=r"Unknown X-ray line 'Zn_Kz'.*Zn has Zn_Ka, Zn_Kb"):
        epdf.eds.element_maps(eds, ["Zn_Ka", "Zn_Kz"])
    with pytest.raises(ValueError, match=r"Unknown X-ray line 'Zn'.*'Element_Line'"):
        epdf.eds.element_maps(eds, ["Zn"])
    maps = epdf.eds.element_maps(eds, ["Zn_Ka"])  # valid lines still work
    assert maps[0].metadata.Sample.xray_lines == ["Zn_Ka"]
