"""Structure-model PDFs: fcc Ni, Debye sum of a cluster, cluster density and shape function,
ZIF-4 partials, weights, bounded-memory pair search."""


import numpy as np
import pytest
from diffpy.structure import loadStructure
from scipy.spatial.distance import pdist

from pyxem_epdf import data
from pyxem_epdf.physics import peaks
from pyxem_epdf.physics.scattering import scattering_factors
from pyxem_epdf.physics.structure_pdf import (
    cluster_shape_function,
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
    # density=0: the plain pair sum, whose transform is the Debye equation
    m = model_pdf((xyz, elements), r_max=16.0, dr=0.001, sigma=0.0, density=0.0)
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
    with pytest.raises(ValueError, match="at least 2 atoms"):
        model_pdf((np.zeros((1, 3)), ["Si"]))
    with pytest.raises(ValueError, match="non-finite"):
        model_pdf((np.array([[0, 0, 0], [np.nan, 0, 0]]), ["Si", "O"]))
    with pytest.raises(ValueError, match="'density'"):
        model_pdf((np.array([[0, 0, 0], [1.6, 0, 0]]), ["Si", "O"]), density=-1.0)


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


A_NI = 3.524
FCC = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


def _ni_ball(radius):
    k = np.arange(-int(radius / A_NI) - 2, int(radius / A_NI) + 3)
    cells = np.stack(np.meshgrid(k, k, k, indexing="ij"), -1).reshape(-1, 1, 3)
    xyz = ((cells + FCC[None]) * A_NI).reshape(-1, 3)
    return xyz[np.linalg.norm(xyz - 0.01, axis=1) < radius]


def test_dimer_has_one_neighbour_and_its_own_density():
    d = 2.0
    m = model_pdf((np.array([[0, 0, 0], [d, 0, 0]]), ["Si", "Si"]), r_max=6.0, dr=0.005,
                  sigma=0.05)
    assert not m.periodic
    # R(r) = r G + 4π r² ρ₀ γ₀: one neighbour per atom in the peak at d
    shell = (m.r > d - 0.4) & (m.r < d + 0.4)
    n = np.sum(m.r[shell] * (m.total[shell] + 4 * np.pi * m.density * m.shape[shell] * m.r[shell]))
    assert n * 0.005 == pytest.approx(1.0, rel=1e-3)
    pos, _ = peaks.find_peaks(m.total, m.r, r_range=(1.0, 3.0), n_peaks=1)
    assert pos[0] == pytest.approx(d, abs=0.01)
    # the capsule around the dimer: V = πδ²(d + 4δ/3) with δ = d/2
    delta = d / 2
    assert 2 / m.density == pytest.approx(np.pi * delta**2 * (d + 4 * delta / 3), rel=0.03)
    assert m.shape[0] == pytest.approx(1.0, abs=0.01) and m.shape[-1] == 0.0  # none beyond d + 2δ


def test_cut_out_crystal_coordination_density_and_shape():
    ball = _ni_ball(12.0)
    m = model_pdf((ball, ["Ni"] * len(ball)), r_max=12.0, dr=0.005, sigma=0.05)
    bulk = model_pdf((FCC * A_NI, ["Ni"] * 4, np.eye(3) * A_NI), r_max=12.0, dr=0.005,
                     sigma=0.05)
    # the first shell (12 in the crystal) counted atom by atom
    dist = pdist(ball)
    nn = 2 * np.count_nonzero((dist > 2.2) & (dist < 2.8)) / len(ball)
    assert 8 < nn < 12
    first = (m.r > 2.1) & (m.r < 2.9)
    area = np.sum(m.r[first] * (m.total[first]
                                + 4 * np.pi * m.density * m.shape[first] * m.r[first])) * 0.005
    assert area == pytest.approx(nn, rel=0.005)
    # the cluster's own density is the crystal's, not diffpy's 1 Å cell (200 atoms/Å³)
    assert m.density == pytest.approx(4 / A_NI**3, rel=0.02)
    # finite-size model: G_cluster(r) = γ₀(r) G_bulk(r)
    sel = m.r > 1.0
    pred = m.shape * bulk.total
    assert np.corrcoef(m.total[sel], pred[sel])[0, 1] > 0.999
    assert np.sqrt(np.mean((m.total - pred)[sel] ** 2)) < 0.01 * np.abs(pred).max()
    assert abs(m.total[(m.r > 3) & (m.r < 12)].mean()) < 0.01 * m.total.max()


@pytest.mark.parametrize("shape", ["sphere", "cube"])
def test_shape_function_matches_the_analytic_one(shape):
    r = np.linspace(0.0, 19.0, 39)
    if shape == "sphere":
        i = np.arange(3000) + 0.5
        phi, theta = np.arccos(1 - 2 * i / 3000), np.pi * (1 + 5**0.5) * i
        pts = 10 * np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi),
                             np.cos(phi)], -1)
        x = r / 20
        exact = 1 - 1.5 * x + 0.5 * x**3
    else:
        pts = np.mgrid[0:11, 0:11, 0:11].reshape(3, -1).T * 2.0  # a 20 Å cube
        x = r / 20
        exact = 1 - 1.5 * x + 2 / np.pi * x**2 - x**3 / (4 * np.pi)  # Goodisman (1980)
    density, gamma, volume = cluster_shape_function(pts, r, dilation=0.0)
    np.testing.assert_allclose(gamma, exact, atol=0.005)
    assert density == pytest.approx(len(pts) / volume)


def test_pair_search_is_chunked_without_changing_the_counts():
    structure = loadStructure(str(STRUCTURES / "ZIF4_15glass01.cif"))
    xyz = np.asarray(structure.xyz_cartn)
    els = [a.element for a in structure]
    r, h1, _ = pair_histograms(xyz, els, lattice=structure.lattice.base, r_max=6.0, dr=0.01)
    _, h2, _ = pair_histograms(xyz, els, lattice=structure.lattice.base, r_max=6.0, dr=0.01,
                               max_pairs=2000)
    for key in h1:
        np.testing.assert_array_equal(h1[key], h2[key])
    with pytest.raises(ValueError, match="'max_pairs'"):
        pair_histograms(xyz, els, max_pairs=0)


def test_diffpy_structure_without_a_cell_is_a_cluster(tmp_path):
    from diffpy.structure import Atom, Structure

    ball = _ni_ball(7.0)
    placeholder = Structure([Atom("Ni", xyz) for xyz in ball])  # diffpy's 1 Å cubic cell
    placeholder.placeInLattice(placeholder.lattice)
    m = model_pdf(placeholder, r_max=6.0, dr=0.01)
    ref = model_pdf((ball, ["Ni"] * len(ball)), r_max=6.0, dr=0.01)
    assert not m.periodic and m.density == pytest.approx(ref.density)
    np.testing.assert_allclose(m.total, ref.total)
    assert m.total.min() > -10  # not −6,800 as with a 1 Å periodic cell
