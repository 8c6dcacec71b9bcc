"""Figures of :mod:`pyxem_epdf.mapping`: units on every axis, the composite on
pixel edges with a legend naming each phase, nothing clipped (issue 15).

Small analytic cubes (two Gaussian-peak phases mixed along x, seeded noise) on
a calibrated scan with an offset, so that pixel edges differ from pixel
centres and from the indices.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.layout_engine import ConstrainedLayoutEngine
from scipy.special import ndtr

import pyxem_epdf as epdf
from pyxem_epdf.mapping import plot_pdfs

R_AX = np.arange(0.0, 10.0, 0.02)
CENTRES = [(1.5, 2.6, 4.0), (1.9, 3.1, 5.0)]
SCALE, OFFSET = 2.5, 10.0  # nm


def _cube(ny, nx, seed=0):
    """PDF1DPlus of shape (ny, nx | r): fraction of phase 0 falls off along x."""
    rng = np.random.default_rng(seed)
    phases = np.stack([sum(np.exp(-0.5 * ((R_AX - c) / 0.12) ** 2) for c in cs)
                       for cs in CENTRES])
    x = np.arange(nx)[None, :] * np.ones((ny, 1))
    a = ndtr((nx / 2 - x) / 1.5)
    f = np.stack([a, 1 - a], -1)
    g = f @ phases + 0.02 * rng.standard_normal((ny, nx, R_AX.size))
    pdf = epdf.PDF1DPlus(g)
    ax = pdf.axes_manager.signal_axes[0]
    ax.scale, ax.units, ax.name = 0.02, "Å", "r"
    for a_, name in zip(pdf.axes_manager.navigation_axes, ("x", "y"), strict=True):
        a_.scale, a_.offset, a_.units, a_.name = SCALE, OFFSET, "nm", name
    return pdf


@pytest.fixture(scope="module")
def square():
    dec = _cube(12, 12).decompose((1.0, 8.0))
    return dec, dec.unmix(2, "closure", labels=["ZIF", "glass"])


def _edges(axis):
    c = np.asarray(axis.axis, float)
    return c[0] - axis.scale / 2, c[-1] + axis.scale / 2


def _assert_inside_figure(ax):
    """Every drawn tick label, axis label, title and legend lies within the figure."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fb = fig.bbox
    artists = [ax.xaxis.label, ax.yaxis.label, ax.title]
    for minor in (False, True):
        for axis, i in ((ax.xaxis, 0), (ax.yaxis, 1)):
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * (hi - lo)
            # the locator also labels ticks just beyond the limits, which are not drawn
            artists += [t for t in axis.get_ticklabels(minor=minor)
                        if lo - tol <= t.get_position()[i] <= hi + tol]
    if ax.get_legend() is not None:
        artists.append(ax.get_legend())
    checked = 0
    for art in artists:
        if not art.get_visible() or (hasattr(art, "get_text") and not art.get_text()):
            continue
        bb = art.get_window_extent(renderer)
        assert bb.x0 >= fb.x0 - 0.5 and bb.x1 <= fb.x1 + 0.5, (art, bb, fb)
        assert bb.y0 >= fb.y0 - 0.5 and bb.y1 <= fb.y1 + 0.5, (art, bb, fb)
        checked += 1
    assert checked >= 4  # both axis labels and some tick labels were really measured


def test_composite_extent_is_pixel_edges_in_scan_units(square):
    _, unmix = square
    ax = unmix.plot_composite()
    ax_x, ax_y = unmix.loadings.axes_manager.signal_axes
    (x0, x1), (y0, y1) = _edges(ax_x), _edges(ax_y)
    np.testing.assert_allclose(ax.images[0].get_extent(), [x0, x1, y1, y0])
    np.testing.assert_allclose([x0, x1], [OFFSET - SCALE / 2, OFFSET + 11.5 * SCALE])
    np.testing.assert_allclose(sorted(ax.get_xlim()), [x0, x1])
    np.testing.assert_allclose(sorted(ax.get_ylim()), [y0, y1])
    assert ax.get_xlabel() == "x (nm)" and ax.get_ylabel() == "y (nm)"
    plt.close("all")


def test_composite_legend_names_each_colour(square):
    _, unmix = square
    ax = unmix.plot_composite(colors=["tab:orange", "tab:blue"])
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["ZIF", "glass"] == unmix.labels
    from matplotlib.colors import to_rgba

    faces = [tuple(h.get_facecolor()) for h in getattr(legend, "legend_handles", None) or legend.legendHandles]
    assert faces == [to_rgba("tab:orange"), to_rgba("tab:blue")]
    unmix.labels = ["A", "B"]  # renaming the phases renames the legend
    ax = unmix.plot_composite()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["A", "B"]
    unmix.labels = ["ZIF", "glass"]
    plt.close("all")


def test_composite_of_a_one_pixel_wide_scan_draws_without_warning():
    unmix = _cube(1, 16).decompose((1.0, 8.0)).unmix(2, "closure")
    assert unmix.loadings.data.shape == (2, 1, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = unmix.plot_composite()
        ax.figure.canvas.draw()
    ax_y = unmix.loadings.axes_manager.signal_axes[1]
    np.testing.assert_allclose(sorted(ax.get_ylim()), [OFFSET - SCALE / 2, OFFSET + SCALE / 2])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["phase 0", "phase 1"]
    assert ax_y.size == 1
    _assert_inside_figure(ax)
    plt.close("all")


def test_composite_needs_a_colour_per_component(square):
    _, unmix = square
    with pytest.raises(ValueError, match="'colors' needs 2 entries; got 1"):
        unmix.plot_composite(colors=["red"])


def test_pdf_overlay_labels_carry_units(square):
    dec, unmix = square
    ax = plot_pdfs(unmix.components, labels=unmix.labels, normalize=False)
    assert ax.get_xlabel() == "r (Å)" and ax.get_ylabel() == "G(r) (Å⁻²)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ZIF", "glass"]
    ax = plot_pdfs(unmix.components)
    assert ax.get_ylabel() == "G(r) / first-peak height"  # dimensionless
    plt.close("all")


def test_scree_labels(square):
    dec, _ = square
    ax = dec.plot_scree()
    assert ax.get_xlabel() == "component index"
    assert ax.get_ylabel() == "singular value, noise-whitened (Å⁻²)"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), dec.evidence.singular_values[:30])
    plt.close("all")


@pytest.mark.parametrize("which", ["pdfs", "scree", "composite"])
def test_new_figures_are_constrained_and_nothing_is_clipped(square, which):
    dec, unmix = square
    ax = {"pdfs": lambda: plot_pdfs(unmix.components, labels=unmix.labels),
          "scree": dec.plot_scree,
          "composite": unmix.plot_composite}[which]()
    assert isinstance(ax.figure.get_layout_engine(), ConstrainedLayoutEngine)
    _assert_inside_figure(ax)
    plt.close("all")


@pytest.mark.parametrize("which", ["pdfs", "scree", "composite"])
def test_given_axes_are_drawn_into(square, which):
    dec, unmix = square
    fig, given = plt.subplots()
    ax = {"pdfs": lambda: plot_pdfs(unmix.components, ax=given),
          "scree": lambda: dec.plot_scree(ax=given),
          "composite": lambda: unmix.plot_composite(ax=given)}[which]()
    assert ax is given and plt.gcf() is fig and len(fig.axes) == 1
    plt.close("all")
