"""σ(G) for PDFs fitted with per-pixel composition maps (⟨f²⟩, ⟨f⟩² vary from pixel to pixel)."""

import numpy as np
import pytest
from pyxem.signals import ElectronDiffraction2D

import pyxem_epdf as epdf
from pyxem_epdf import quantify
from pyxem_epdf.physics import uncertainty

N_DRAWS = 150


@pytest.fixture(scope="module")
def line_scan():
    """An 8-pixel line across the ZIF-like / glass-like interface: the expected patterns
    (row 0) and 150 Poisson draws of each, with the true composition of every pixel."""
    synth = epdf.data.two_phase_composite(nav_shape=(1, 8), noise=False,
                                          detector_shape=(96, 96), s_scale=2.9 / 48,
                                          dose=1000.0)
    lam = np.asarray(synth.signal.data, dtype=float)[0]  # (8, 96, 96)
    rng = np.random.default_rng(3)
    stack = np.concatenate([lam[None], rng.poisson(lam, (N_DRAWS,) + lam.shape)])
    dp = ElectronDiffraction2D(stack.astype(np.float32))
    for a, b in zip(dp.axes_manager.signal_axes, synth.signal.axes_manager.signal_axes,
                    strict=True):
        a.scale, a.offset, a.units, a.name = b.scale, b.offset, b.units, b.name
    fr = synth.element_fractions[0]  # (8, n_elements)
    keep = fr.max(axis=0) > 1e-6
    fr = fr[:, keep] / fr[:, keep].sum(axis=1, keepdims=True)
    elements = [e for e, k in zip(synth.elements, keep, strict=True) if k]
    maps = {e: np.broadcast_to(fr[:, i], (N_DRAWS + 1, 8)).copy()
            for i, e in enumerate(elements)}
    ri = epdf.azimuthal_profile(dp)
    pdf = ri.get_pdf(maps, (1.6, 2.5), b=0.8, s_min=0.18, r_max=8.0)
    return dp, ri, pdf, maps, fr


def test_composition_varies_along_the_line(line_scan):
    *_, fr = line_scan
    assert np.ptp(fr, axis=0).max() > 0.2  # the maps matter: not one composition


def test_sigma_with_composition_maps_matches_monte_carlo(line_scan):
    dp, ri, pdf, maps, _ = line_scan
    R = quantify.integration_correlation(dp, ri)
    sigma = quantify.pdf_sigma(ri, pdf, correlation=R, composition=maps)
    r = pdf.axes_manager.signal_axes[0].axis
    sel = (r >= 1.0) & (r <= 8.0)
    G, sig, truth = pdf.data[1:][..., sel], sigma.data[1:][..., sel], pdf.data[0][..., sel]
    ratio = sig.mean(axis=0) / G.std(axis=0)  # per pixel and r; sd of an sd (150): 6 %
    assert np.all(np.abs(np.median(ratio, axis=1) - 1) < 0.05), np.median(ratio, axis=1)
    assert np.all(np.abs(ratio - 1) < 0.25)
    cover = np.mean(np.abs(G - truth) <= sig, axis=0)
    assert np.all(np.abs(cover.mean(axis=1) - 0.683) < 0.03), cover.mean(axis=1)
    # σ of the two ends of the line differ (different ⟨f⟩²): the maps are used per pixel
    ends = sig.mean(axis=0)[[0, -1]]
    assert np.abs(np.log(ends[0] / ends[1])).mean() > 0.1
    # lazy == eager; with_sigma carries the same σ
    lazy = quantify.pdf_sigma(ri, pdf, correlation=R, composition=maps, lazy_output=True)
    assert lazy._lazy
    np.testing.assert_allclose(lazy.data.compute(), sigma.data, rtol=1e-10, atol=1e-14)
    carried = quantify.with_sigma(ri, pdf, correlation=R, composition=maps)
    np.testing.assert_allclose(carried.metadata.Signal.Noise_properties.variance.data,
                               sigma.data**2, rtol=1e-10, atol=1e-20)


def test_composition_maps_are_required_and_checked(line_scan):
    _, ri, pdf, maps, _ = line_scan
    with pytest.raises(ValueError, match="per-pixel composition maps.*'composition'"):
        quantify.pdf_sigma(ri, pdf)
    wrong = dict(list(maps.items())[:-1])
    first = next(iter(wrong))
    wrong[first] = wrong[first] + maps[list(maps)[-1]]
    with pytest.raises(ValueError, match="not those of the fit"):
        quantify.pdf_sigma(ri, pdf, composition=wrong)
    single = ri.inav[:, 0].get_pdf("ZnC4H6N2", (1.6, 2.5), b=0.8, s_min=0.18, r_max=8.0)
    with pytest.raises(ValueError, match="only for PDFs fitted with per-pixel"):
        quantify.pdf_sigma(ri.inav[:, 0], single, composition=maps)


def test_pdf_variance_per_pattern_f_equals_shared_f():
    # the per-pattern ⟨f⟩² path gives the shared result when every pattern has the same ⟨f⟩²
    from pyxem_epdf.physics import chain, transform

    s, r = np.linspace(0, 3, 301), transform.r_grid(10, 0.05)
    f2 = 1 / (1 + s**2)
    fsq = 0.8 * f2
    op = chain.chain_operator(s, r, s_min=0.2)
    rng = np.random.default_rng(0)
    intensity = 2.0 * f2 + rng.normal(0, 0.01, (4, 301))
    v = np.full((4, 301), 1e-4)
    grads = uncertainty.fit_gradients(s, f2, (1.5, 2.5))
    shared = uncertainty.pdf_variance(v, intensity, s, np.full(4, 2.0), np.zeros(4), f2, fsq, op,
                                      gradients=grads)
    tiled = [np.broadcast_to(a, (4, 301)) for a in (f2, fsq)]
    per = uncertainty.pdf_variance(v, intensity, s, np.full(4, 2.0), np.zeros(4), *tiled, op,
                                   gradients=grads)
    np.testing.assert_allclose(per, shared, rtol=1e-12)
    with pytest.raises(ValueError, match="'f2_mean' and 'f_mean_sq'"):
        uncertainty.pdf_variance(v, intensity, s, np.full(4, 2.0), np.zeros(4), f2, tiled[1], op)
