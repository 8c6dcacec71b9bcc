"""Every figure of :mod:`pyxem_epdf.xray`, :mod:`pyxem_epdf.eds`,
:mod:`pyxem_epdf.repeat` and the damping suggestion, drawn without an ``ax``:
constrained layout, every axis labelled with its quantity and unit, a colour
bar with a unit for every scalar image, a legend where several labelled
artists are drawn, and every label inside the figure after drawing (issue 15).
"""

import re

import hyperspy.api as hs
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import QuadMesh
from matplotlib.layout_engine import ConstrainedLayoutEngine

import pyxem_epdf as epdf
from pyxem_epdf.physics.damping import suggest_damping
from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity

matplotlib.use("Agg")

#: A unit in parentheses at the end of a label: "r (Å)", "x (nm)", "(counts)",
#: "(dimensionless)" for ratios.
UNIT = re.compile(r"\S.*\s\([^()\s][^()]*\)\s*$")


def _colourbar_axes(fig):
    out = set()
    for ax in fig.axes:
        for m in [*ax.images, *ax.collections]:
            if getattr(m, "colorbar", None) is not None:
                out.add(m.colorbar.ax)
    return out


def _inside(artist, fig, renderer):
    if not artist.get_visible():
        return
    bb = artist.get_window_extent(renderer)
    fb = fig.bbox
    tol = 1.0
    assert bb.x0 >= fb.x0 - tol and bb.x1 <= fb.x1 + tol, (artist, bb, fb)
    assert bb.y0 >= fb.y0 - tol and bb.y1 <= fb.y1 + tol, (artist, bb, fb)


def check_figure(fig):
    """The issue-15 contract, for every axes of ``fig``."""
    assert isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine)
    cbars = _colourbar_axes(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if ax in cbars:
            label = ax.get_ylabel() or ax.get_xlabel()
            assert UNIT.match(label), f"colour bar label {label!r} has no unit"
            _inside(ax.yaxis.label if ax.get_ylabel() else ax.xaxis.label, fig, renderer)
            continue
        for which, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
            assert UNIT.match(label), f"{which} label {label!r} of {ax.get_title()!r} lacks a unit"
        # scalar images need a colour bar; an RGB overlay needs a legend instead
        for m in [*ax.images, *[c for c in ax.collections if isinstance(c, QuadMesh)]]:
            if m.get_array() is not None and np.ndim(m.get_array()) == 3:
                assert ax.get_legend() is not None, "RGB image without a legend"
            else:
                assert m.colorbar is not None, f"image in {ax.get_title()!r} has no colour bar"
        labelled = [a for a in [*ax.lines, *ax.collections, *ax.patches]
                    if not a.get_label().startswith("_")]
        if len(labelled) > 1:
            assert ax.get_legend() is not None, f"{len(labelled)} labelled artists, no legend"
        artists = [ax.xaxis.label, ax.yaxis.label, ax.title]
        if ax.get_legend() is not None:
            artists.append(ax.get_legend())
        for a in artists:
            if hasattr(a, "get_text") and not a.get_text():
                continue
            _inside(a, fig, renderer)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_unit_pattern_can_fail():
    for bad in ("", "G(r)", "Zn_Ka", "ratio", "(Å)"):
        assert not UNIT.match(bad)
    for good in ("r (Å)", "G(r) (Å⁻²)", "x (nm)", "ratio (dimensionless)"):
        assert UNIT.match(good)


def test_check_figure_catches_missing_unit_and_colour_bar():
    fig, ax = plt.subplots(layout="constrained")
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("G(r)")
    with pytest.raises(AssertionError, match="lacks a unit"):
        check_figure(fig)
    ax.set_ylabel("G(r) (Å⁻²)")
    ax.imshow(np.eye(3))
    with pytest.raises(AssertionError, match="no colour bar"):
        check_figure(fig)


def test_xray_plot_comparison():
    x = epdf.xray.load_xray_pdf(epdf.data.zif4_files()["xray_dofr"])
    ax = epdf.xray.plot_comparison(epdf.xray.compare(x, x, r_range=(1.0, 6.0)))
    assert ax.get_ylabel() == "G(r) (Å⁻²)"
    check_figure(ax.figure)


@pytest.fixture(scope="module")
def registration():
    synth = epdf.data.two_phase_composite(nav_shape=(24, 24), detector_shape=(32, 32))
    eds = epdf.data.synthetic_eds(synth, drift=(4.0, -3.0), n_channels=1024)
    reg = epdf.eds.register_eds(eds.spectrum, eds.scan_haadf, eds.haadf)
    return synth, reg


def test_eds_registration_plot(registration):
    _, reg = registration
    fig = reg.plot()
    units = reg.scan_image.axes_manager.signal_axes[0].units
    assert fig.axes[0].get_xlabel() == f"x ({units})"
    check_figure(fig)


def test_eds_correlation_plots(registration):
    synth, reg = registration
    truth = hs.signals.Signal2D(synth.fractions.transpose(2, 0, 1))
    corr = reg.correlate(truth, labels=["ZIF", "glass"])
    fig = corr.plot(bins=10)
    assert len(fig.axes) == 2 * len(corr.names) * 2  # panels + colour bars
    check_figure(fig)
    fig = corr.plot_pair("Zn_Ka", "ZIF", bins=10)
    assert fig.axes[0].get_ylabel() == "Zn_Ka intensity (counts)"
    check_figure(fig)


def test_eds_quantity_from_metadata():
    x = np.arange(16.0).reshape(4, 4)
    m, lo = hs.signals.Signal2D(x), hs.signals.Signal2D(x ** 2)
    lo.metadata.set_item("Signal.quantity", "fraction (dimensionless)")
    c = epdf.eds.correlate([m], [lo], names=["Zn_Ka"], labels=["ZIF"])
    fig = c.plot_pair("Zn_Ka", "ZIF", bins=4)
    assert fig.axes[0].get_xlabel() == "ZIF fraction (dimensionless)"
    check_figure(fig)


@pytest.fixture(scope="module")
def scans():
    kw = dict(nav_shape=(8, 8), detector_shape=(64, 64), s_scale=0.08)
    first = epdf.data.two_phase_composite(seed=1, **kw)
    second = epdf.data.two_phase_composite(seed=2, **kw)
    comp = epdf.data.average_composition(first)

    def chain(x):
        return (x.fit_scattering(comp, (1.6, 2.4), weights="poisson", fix_c=True)
                .polynomial_correct().damp_exponential(0.8).extrapolate_low_s(0.2)
                .to_pdf(8, 0.02))

    ri_a = epdf.azimuthal_profile(first.signal, npt=40)
    ri_b = epdf.azimuthal_profile(second.signal, npt=40)
    glass = first.fractions[..., 1] > 0.9
    return ri_a, ri_b, glass, chain


def test_region_pdf_plot(scans):
    ri_a, _, glass, chain = scans
    reg = epdf.repeat.region_pdf(ri_a, glass, chain, n_bootstrap=10)
    ax = reg.plot(label="glass")
    check_figure(ax.figure)


def test_compare_scans_plot(scans):
    ri_a, ri_b, glass, chain = scans
    check = epdf.compare_scans(ri_a, ri_b, [glass, ~glass], chain, labels=["glass", "rest"],
                               n_peaks=1, r_range=(1.0, 1.7), n_bootstrap=10, n_null=19)
    fig = check.plot()
    assert len(fig.axes) == 2
    check_figure(fig)


def test_damping_suggestion_plot():
    # the result of ReducedIntensity1DPlus.suggest_damping is this same class
    s = np.arange(0.01, 2.5, 0.01)
    phi = gaussian_peaks_reduced_intensity(s, [1.6, 2.6], [1.0, 1.5], [0.08, 0.1])
    noisy = phi + 0.05 * s * np.random.default_rng(0).normal(size=(20, s.size))
    check_figure(suggest_damping(noisy, s, s_min=0.2).plot().figure)
