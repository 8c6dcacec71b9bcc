"""``Unmixing.volume_fractions`` on a real route: closure fractions are
scattering-weighted, and the phases' compositions and densities convert them
to the generator's volume fractions (noiseless 3-phase composite, whose
metallic-like phase scatters 10x more per volume than the ZIF-like one)."""

import warnings

import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf.data import GLASS_LIKE, METALLIC_LIKE, ZIF_LIKE, average_composition


def _r(a, b):
    a, b = np.ravel(a), np.ravel(b)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


@pytest.fixture(scope="module")
def route():
    synth = epdf.data.composite(nav_shape=(24, 24), seed=5, inclusions=1,
                                inclusion_radius=12.0, noise=False, interface_width=15.0,
                                phases=(ZIF_LIKE, GLASS_LIKE, METALLIC_LIKE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ri = epdf.azimuthal_profile(synth.signal)
        pdf = ri.get_pdf(average_composition(synth))
        un = pdf.decompose().unmix(3)
    truth = np.moveaxis(np.asarray(synth.fractions), -1, 0)  # (3, ny, nx)
    maps = np.asarray(un.loadings.data)
    # component j is the phase whose truth map it follows best
    order = [int(np.argmax([_r(maps[j], truth[p]) for p in range(3)])) for j in range(3)]
    assert sorted(order) == [0, 1, 2]
    return synth, pdf, un, truth, order


def test_volume_fractions_recover_the_volume_truth(route):
    synth, pdf, un, truth, order = route
    phases = [synth.phases[p] for p in order]
    vol = un.volume_fractions([ph.composition for ph in phases],
                              [ph.number_density for ph in phases])
    maps = np.asarray(un.loadings.data)
    r_beta = [_r(maps[j], truth[p]) for j, p in enumerate(order)]
    r_vol = [_r(vol.data[j], truth[p]) for j, p in enumerate(order)]
    print(f"\nclosure (β) r {np.round(r_beta, 4)}; volume r {np.round(r_vol, 4)}")
    # β: the heavy phase takes the mixed pixels over (measured 0.97-0.985)
    assert min(r_beta) < 0.99
    assert min(r_vol) > 0.99 and min(r_vol) > min(r_beta) + 0.01
    # mixed pixels: the mean error against the truth drops
    mixed = truth.max(axis=0) < 0.95
    err_beta = np.mean([np.abs(maps[j] - truth[p])[mixed].mean() for j, p in enumerate(order)])
    err_vol = np.mean([np.abs(vol.data[j] - truth[p])[mixed].mean() for j, p in enumerate(order)])
    assert err_vol < 0.5 * err_beta
    np.testing.assert_allclose(vol.data.sum(axis=0), 1.0)
    # the input is not modified; the parameters are recorded
    np.testing.assert_array_equal(np.asarray(un.loadings.data), maps)
    md = vol.metadata.ePDF.unmixing
    assert md.fractions == "volume" and len(md.scattering_powers) == 3
    assert tuple(md.power_s_range) == pytest.approx(tuple(pdf.metadata.ePDF.fit.s_range))
    assert un.fit_s_range == pytest.approx(tuple(pdf.metadata.ePDF.fit.s_range))
    # the metallic-like phase scatters ~10x more per volume than the ZIF-like one
    k = np.asarray(md.scattering_powers)
    assert 5 < k[order.index(2)] / k[order.index(0)] < 20


def test_powers_given_directly_agree(route):
    synth, pdf, un, truth, order = route
    phases = [synth.phases[p] for p in order]
    vol = un.volume_fractions([ph.composition for ph in phases],
                              [ph.number_density for ph in phases])
    again = un.volume_fractions(powers=vol.metadata.ePDF.unmixing.scattering_powers)
    np.testing.assert_allclose(again.data, vol.data)


@pytest.mark.parametrize("kwargs,match", [
    ({}, "compositions"),
    ({"compositions": ["SiO2"] * 2, "number_densities": [0.07] * 2}, "3 entries"),
    ({"powers": [1.0, 2.0]}, "'powers'"),
    ({"powers": [1.0, 2.0, 0.0]}, "'powers'"),
    ({"powers": [1.0, 2.0, 3.0], "compositions": ["SiO2"] * 3}, "either"),
    ({"compositions": ["SiO2"] * 3, "number_densities": [0.07, 0.07, -1.0]},
     "'number_density'"),
])
def test_bad_input_names_the_parameter(route, kwargs, match):
    with pytest.raises(ValueError, match=match):
        route[2].volume_fractions(**kwargs)


def test_only_closure_fractions_convert(route):
    synth, pdf, un, truth, order = route
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ica = pdf.decompose().unmix(3, "ica")
    with pytest.raises(ValueError, match="closure"):
        ica.volume_fractions(powers=[1.0, 1.0, 1.0])
