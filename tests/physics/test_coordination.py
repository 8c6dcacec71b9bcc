"""ρ₀ and coordination numbers: analytic shells and structure models (α-quartz, ZIF-4)."""

import collections
import warnings

import numpy as np
import pytest

from pyxem_epdf.physics import coordination as co


def _shell(r, n, r0, w):
    return n * np.exp(-((r - r0) ** 2) / (2 * w**2)) / (np.sqrt(2 * np.pi) * w)


@pytest.fixture
def analytic():
    r = np.linspace(0.0, 5.0, 501)
    rho = 0.07
    shells = _shell(r, 4.0, 1.6, 0.05) + _shell(r, 6.0, 2.6, 0.08)
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(r > 0, shells / np.where(r > 0, r, 1), 0.0) - 4 * np.pi * rho * r
    return r, rho, G


def test_slope_and_coordination_on_analytic_shells(analytic):
    r, rho, G = analytic
    est, err = co.slope_density(G, r, (0.2, 1.3))
    assert est == pytest.approx(rho, rel=1e-6) and err < 1e-6
    assert co.coordination_number(G, r, (1.3, 1.95), rho0=rho) == pytest.approx(4.0, abs=1e-4)
    assert co.coordination_number(G, r, (1.3, 1.95), r_fit=(0.2, 1.3)) == \
        pytest.approx(4.0, abs=1e-4)
    assert co.coordination_number(G, r, (2.1, 3.1), rho0=rho) == pytest.approx(6.0, abs=1e-3)
    R = co.radial_distribution(G, r, rho)
    np.testing.assert_allclose(R[r < 1.2], 0.0, atol=1e-9)
    fit = co.fit_gaussian_peaks(R, r, (1.3, 3.2), [1.6, 2.6])
    np.testing.assert_allclose(fit["area"], [4.0, 6.0], rtol=1e-4)
    np.testing.assert_allclose(fit["centre"], [1.6, 2.6], atol=1e-5)
    np.testing.assert_allclose(fit["width"], [0.05, 0.08], rtol=1e-4)


def test_vectorised_over_navigation(analytic):
    r, rho, G = analytic
    stack = np.stack([G, 2 * G])  # second: G doubled (ρ₀ and shells ×2)
    rho_est, _ = co.slope_density(stack, r, (0.2, 1.3))
    np.testing.assert_allclose(rho_est, [rho, 2 * rho])
    cn = co.coordination_number(stack, r, (1.3, 1.95), r_fit=(0.2, 1.3))
    np.testing.assert_allclose(cn, [4.0, 8.0], atol=1e-3)
    assert co.radial_distribution(stack, r, rho_est).shape == stack.shape


def test_linear_functional_equals_direct_integral(analytic):
    r, rho, G = analytic
    k, const = co.coordination_weights(r, (1.3, 1.95), rho0=rho)
    m = (r >= 1.3 - 1e-9) & (r <= 1.95 + 1e-9)
    R = r * G + 4 * np.pi * rho * r**2
    assert G @ k + const == pytest.approx(np.trapezoid(R[m], r[m]), rel=1e-12)


def test_mass_density():
    # quartz: 2.648 g/cm³, 9 atoms in a 113.0 Å³ cell
    v = 4.913**2 * 5.405 * np.sqrt(3) / 2
    assert co.mass_density_to_number_density({"Si": 1, "O": 2}, 2.648) == \
        pytest.approx(9 / v, rel=2e-3)
    with pytest.raises(ValueError, match="'mass_density'"):
        co.mass_density_to_number_density({"Si": 1}, -1.0)


def test_bad_input(analytic):
    r, rho, G = analytic
    with pytest.raises(ValueError, match="'r_range'"):
        co.coordination_number(G, r, (1.9, 1.3), rho0=rho)
    with pytest.raises(ValueError, match="'r_fit'"):
        co.slope_density(G, r, (4.0, 6.0))
    with pytest.raises(ValueError, match="exactly one"):
        co.coordination_number(G, r, (1.3, 1.9))
    with pytest.raises(ValueError, match="'rho0'"):
        co.coordination_number(G, r, (1.3, 1.9), rho0=-1.0)
    with pytest.raises(ValueError, match="Element 'Zn'"):
        co.pair_factor({"Si": 1, "O": 2}, "Zn", "O")
    with pytest.raises(ValueError, match="'centres'"):
        co.fit_gaussian_peaks(G * r, r, (1.3, 1.9), [2.5])


def _quartz():
    from diffpy.structure import Atom, Lattice, Structure
    from diffpy.structure.spacegroups import GetSpaceGroup
    from diffpy.structure.symmetryutilities import ExpandAsymmetricUnit

    # P3₂21, a = 4.913, c = 5.405 Å; Si (0.4697, 0, 0), O (0.4135, 0.2669, 0.1191) in the
    # setting with the 2-fold axis at z = 0, i.e. z + 2/3 in the ITA origin diffpy uses.
    lattice = Lattice(4.913, 4.913, 5.405, 90, 90, 120)
    expanded = ExpandAsymmetricUnit(GetSpaceGroup("P3221"),
                                    [[0.4697, 0, 2 / 3], [0.4135, 0.2669, 0.1191 + 2 / 3]])
    atoms = [Atom("Si", p) for p in expanded.expandedpos[0]]
    atoms += [Atom("O", p) for p in expanded.expandedpos[1]]
    return Structure(atoms, lattice=lattice)


def test_alpha_quartz_si_o_is_four():
    from pyxem_epdf.structure import model_pdfs

    q = _quartz()
    assert len(q) == 9
    total, _ = model_pdfs(q, r_max=2.4, dr=0.005, sigma=0.05)
    r = total.axes_manager.signal_axes[0].axis
    rho = total.metadata.ePDF.model.density
    assert rho == pytest.approx(9 / q.lattice.volume)
    assert co.slope_density(total.data, r, (0.3, 1.3))[0] == pytest.approx(rho, rel=1e-6)
    factor = co.pair_factor({"Si": 1 / 3, "O": 2 / 3}, "Si", "O")
    cn = co.coordination_number(total.data, r, (1.35, 1.9), rho0=rho, factor=factor)
    assert cn == pytest.approx(4.0, rel=0.01)
    cn_slope = co.coordination_number(total.data, r, (1.35, 1.9), r_fit=(0.3, 1.3),
                                      factor=factor)
    assert cn_slope == pytest.approx(4.0, rel=0.01)
    fit = co.fit_gaussian_peaks(co.radial_distribution(total.data, r, rho), r, (1.35, 1.9),
                                [1.6])
    assert fit["area"][0] * factor == pytest.approx(4.0, rel=0.01)
    assert fit["centre"][0] == pytest.approx(1.6085, abs=0.005)  # 1.604 and 1.613 Å bonds


def test_zif4_crystal_zn_n_is_four():
    from pyxem_epdf.data import zif4_files
    from pyxem_epdf.structure import load_model, model_pdfs

    path = zif4_files()["crystal_cif"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        total, partials = model_pdfs(path, r_max=2.6, dr=0.005, sigma=0.05)
        counts = collections.Counter(a.element for a in load_model(path))
    comp = {e: n / sum(counts.values()) for e, n in counts.items()}
    md = total.metadata.ePDF.model
    r = total.axes_manager.signal_axes[0].axis
    factor = co.pair_factor(comp, "Zn", "N")
    # the Zn-N partial alone
    i = md.pairs.index("N-Zn")
    cn_partial = co.coordination_number(partials.data[i], r, (1.75, 2.25),
                                        rho0=md.density * md.weights[i], factor=factor)
    assert cn_partial == pytest.approx(4.0, rel=0.01)
    # the total: Zn-N (2.0 Å) overlaps N···N / C···N of the ring (2.2 Å): two Gaussians
    R = co.radial_distribution(total.data, r, md.density)
    fit = co.fit_gaussian_peaks(R, r, (1.75, 2.45), [2.0, 2.2])
    assert fit["area"][0] * factor == pytest.approx(4.0, rel=0.03)
    assert fit["centre"][0] == pytest.approx(2.0, abs=0.05)
