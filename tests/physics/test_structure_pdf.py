"""Structure-model PDFs: fcc Ni, Debye sum of a cluster, ZIF-4 partials, weights."""


import numpy as np
import pytest
from diffpy.structure import loadStructure
from scipy.spatial.distance import pdist

from pyxem_epdf import data
from pyxem_epdf.physics import peaks
from pyxem_epdf.physics.scattering import scattering_factors
from pyxem_epdf.physics.structure_pdf import (
    model_pdf,
    model_reduced_intensity,
    pair_histograms,
    pair_weights,
)

STRUCTURES = data.zif4_files()["glass_cif"].parent


def test_fcc_nickel_first_peak():
    a = 3.524
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) * a
    m = model_pdf((basis, ["Ni"] * 4, np.eye(3) * a), r_max=8.0, dr=0.002, sigma=0.03)
    pos, _ = peaks.find_peaks(m.total, m.r, r_range=(2.0, 3.0), n_peaks=1)
    assert pos[0] == pytest.approx(a / np.sqrt(2), abs=0.01)  # 2.49 Å
    # coordination 12 in the first shell: area of the peak = 12 / r1
    first = (m.r > 2.2) & (m.r < 2.8)
    area = np.sum(m.total[first] + 4 * np.pi * m.density * m.r[first]) * 0.002
    assert area == pytest.approx(12 / (a / np.sqrt(2)), rel=0.01)


def test_cluster_histogram_route_equals_brute_force_debye():
    rng = np.random.default_rng(0)
    xyz = rng.uniform(0, 8, size=(60, 3))
    elements = ["Zn"] * 20 + ["N"] * 40
    m = model_pdf((xyz, elements), r_max=16.0, dr=0.001, sigma=0.0)
    s = np.linspace(0.1, 2.0, 40)
    phi = model_reduced_intensity(m.total, m.r, s, taper=False)
    f = dict(zip(["Zn", "N"], scattering_factors(["Zn", "N"], [0.0])[:, 0], strict=True))
    fi = np.array([f[e] for e in elements])
    mean = fi.mean()
    d = pdist(xyz)
    ii, jj = np.triu_indices(len(xyz), 1)
    ff = fi[ii] * fi[jj]
    debye = 2 * (ff[:, None] * np.sin(2 * np.pi * np.outer(d, s)) / (2 * np.pi * d[:, None])).sum(0)
    debye /= len(xyz) * mean**2
    np.testing.assert_allclose(phi, debye, atol=2e-3 * np.abs(debye).max())


@pytest.mark.parametrize("name, expected", [("ZIF-4_Lewis2009_P1.cif", 2.03),
                                            ("ZIF4_15glass01.cif", 2.01)])
def test_zif4_zn_n_partial_at_the_mean_bond_length(name, expected):
    structure = loadStructure(str(STRUCTURES / name))
    m = model_pdf(structure, r_max=8.0, dr=0.002, sigma=0.05)
    # the models' own mean Zn–N bond length
    xyz = np.asarray(structure.xyz_cartn)
    els = np.array([a.element for a in structure])
    r, h, _ = pair_histograms(xyz, list(els), lattice=structure.lattice.base, r_max=2.4, dr=0.001)
    zn_n = h[("Zn", "N")]
    mean_bond = float((r * zn_n).sum() / zn_n.sum())
    assert mean_bond == pytest.approx(expected, abs=0.02)
    part = m.partials[("N", "Zn")] if ("N", "Zn") in m.partials else m.partials[("Zn", "N")]
    shell = (m.r > 1.7) & (m.r < 2.4)
    peak = part + m.weights[("N", "Zn") if ("N", "Zn") in m.weights else ("Zn", "N")] \
        * 4 * np.pi * m.density * m.r  # the shell itself, without the density line
    centroid = float((m.r[shell] * peak[shell]).sum() / peak[shell].sum())
    assert centroid == pytest.approx(mean_bond, abs=0.02)
    pos, _ = peaks.find_peaks(part, m.r, r_range=(1.7, 2.4), n_peaks=1)
    assert pos[0] == pytest.approx(mean_bond, abs=0.03)  # the mode of a skewed glass shell
    np.testing.assert_allclose(sum(m.partials.values()), m.total)


def test_electron_and_xray_totals_differ_as_the_weights_predict():
    structure = loadStructure(str(STRUCTURES / "ZIF4_15glass01.cif"))
    e = model_pdf(structure, kind="electron", r_max=6.0, dr=0.002)
    x = model_pdf(structure, kind="xray", r_max=6.0, dr=0.002)
    def key(m, a, b):
        return (a, b) if (a, b) in m.weights else (b, a)
    zn_n_e, zn_n_x = e.weights[key(e, "Zn", "N")], x.weights[key(x, "Zn", "N")]
    assert zn_n_x > 1.5 * zn_n_e  # X-rays see Zn (Z = 30) much more strongly
    for m, w in ((e, zn_n_e), (x, zn_n_x)):
        part = m.partials[key(m, "Zn", "N")]
        assert part.max() / m.total[(m.r > 1.8) & (m.r < 2.2)].max() == pytest.approx(
            1.0, abs=0.35)
        assert w == pytest.approx(sum(v for k, v in m.weights.items() if set(k) == {"Zn", "N"}))
    assert sum(e.weights.values()) == pytest.approx(1.0) and sum(x.weights.values()) == pytest.approx(1.0)
    # heights (above the −4πρ₀r line) of the Zn–N peak relative to the C–N/C–C peak scale
    # between the two totals as the weight table predicts
    def ratio(m, w):
        g = m.total + 4 * np.pi * m.density * m.r
        zn_n = g[(m.r > 1.9) & (m.r < 2.1)].max()
        first = g[(m.r > 1.25) & (m.r < 1.45)].max()
        return zn_n / first, w[key(m, "Zn", "N")] / (w[key(m, "C", "N")] + w[("C", "C")])

    (me, pe), (mx, px) = ratio(e, e.weights), ratio(x, x.weights)
    assert mx / me == pytest.approx(px / pe, rel=0.15)


def test_errors():
    with pytest.raises(ValueError, match="model without atoms"):
        model_pdf((np.zeros((0, 3)), []))
    with pytest.raises(ValueError, match="Unknown element 'Qq'"):
        model_pdf((np.zeros((2, 3)) + [[0, 0, 0], [1, 0, 0]], ["Qq", "Qq"]))
    with pytest.raises(ValueError, match="'kind' must be"):
        pair_weights({"Si": 1.0}, "neutron")


def test_signals_and_processing_like_data():
    from pyxem_epdf.structure import model_pdfs, process_like_data

    total, partials = model_pdfs(STRUCTURES / "ZIF4_15glass01.cif", r_max=10.0, dr=0.01)
    assert partials.axes_manager.navigation_axes[0].name == "pair"
    np.testing.assert_allclose(partials.data.sum(0), total.data)
    assert "N-Zn" in total.metadata.ePDF.model.pairs or "Zn-N" in total.metadata.ePDF.model.pairs
    s = np.arange(1, 64) * 0.04
    processed = process_like_data(total, s, b=0.8, s_min=0.18, r_max=10.0, r_step=0.02)
    pos, h = processed.find_peaks(1, r_range=(1.1, 1.6))
    raw_pos, raw_h = total.find_peaks(1, r_range=(1.1, 1.6))
    # the s window and damping broaden and lower the C–N peak but keep it in place
    assert abs(pos.data[0] - raw_pos.data[0]) < 0.05
    assert h.data[0] < raw_h.data[0]
    r = total.axes_manager.signal_axes[0].axis
    raw_on_grid = np.interp(processed.axes_manager.signal_axes[0].axis, r, total.data)
    win = (processed.axes_manager.signal_axes[0].axis > 1.0)
    assert np.corrcoef(processed.data[win], raw_on_grid[win])[0, 1] > 0.7


def test_pair_contributions_assign_the_zif4_peaks():
    from pyxem_epdf.physics.structure_pdf import pair_contributions

    structure = loadStructure(str(STRUCTURES / "ZIF4_15glass01.cif"))
    m = model_pdf(structure, kind="electron", r_max=7.0, dr=0.005, sigma=0.05)
    table = pair_contributions(m, [1.36, 2.0, 5.9])
    for row in table:
        assert sum(row.values()) == pytest.approx(1.0)
    first = table[0]
    assert first.get(("C", "N"), first.get(("N", "C"), 0)) + first.get(("C", "C"), 0) > 0.8
    zn_n = next(k for k in table[1] if set(k) == {"Zn", "N"})
    assert list(table[1])[0] == zn_n and table[1][zn_n] > 0.5
    with pytest.raises(ValueError, match="outside the model's r range"):
        pair_contributions(m, [50.0])
