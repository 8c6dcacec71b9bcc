"""Kirkland (2010) electron scattering factors against physical limits and Lobato."""

import numpy as np
import pytest

from pyxem_epdf.physics.kirkland import kirkland_parameters, kirkland_scattering_factors
from pyxem_epdf.physics.scattering import scattering_factors

ELEMENTS = ["H", "C", "N", "O", "F", "Na", "Al", "Si", "P", "Zn", "Cu", "Zr"]
Z = {"H": 1, "C": 6, "N": 7, "O": 8, "F": 9, "Na": 11, "Al": 13, "Si": 14, "P": 15,
     "Zn": 30, "Cu": 29, "Zr": 40}
BOHR = 0.529177  # Å


def test_hydrogen_f0_is_bohr_radius():
    # Mott-Bethe for the exact H 1s density: f_e(0) = a0
    f0 = kirkland_scattering_factors(["H"], [0.0])[0, 0]
    assert f0 == pytest.approx(BOHR, rel=2e-3)


@pytest.mark.parametrize("element", ELEMENTS)
def test_large_s_is_mott_bethe_rutherford_limit(element):
    # f_e(s) = (Z - f_x(s)) / (2π² a0 s²) → Z / (2π² a0 s²); Gaussians have vanished
    a, b, c, d = kirkland_parameters(element)
    assert np.sum(a) == pytest.approx(Z[element] / (2 * np.pi**2 * BOHR), rel=0.05)
    s = np.array([8.0])
    tail = kirkland_scattering_factors([element], s)[0, 0] * s[0] ** 2
    assert tail == pytest.approx(Z[element] / (2 * np.pi**2 * BOHR), rel=0.06)


def test_agrees_with_lobato_below_2_per_angstrom():
    s = np.linspace(0.0, 2.0, 201)
    fk = kirkland_scattering_factors(ELEMENTS, s)
    fl = scattering_factors(ELEMENTS, s, "lobato")
    fx = scattering_factors(ELEMENTS, s, "xtables")
    assert np.max(np.abs(fk / fl - 1)) < 0.025
    assert np.max(np.abs(fk / fx - 1)) < 0.025
    # but it is a table of its own, not a copy of either
    assert np.max(np.abs(fk / fl - 1)) > 1e-3


def test_decreasing_and_positive():
    f = kirkland_scattering_factors(ELEMENTS, np.linspace(0, 6, 601))
    assert np.all(f > 0) and np.all(np.diff(f, axis=1) < 0)


def test_bad_input():
    with pytest.raises(ValueError, match="Unknown element 'Xx'"):
        kirkland_scattering_factors(["Xx"], [0.0])
    with pytest.raises(ValueError, match="Unknown element 'si'"):
        kirkland_parameters("si")
    with pytest.raises(ValueError, match="'s' must be finite and >= 0"):
        kirkland_scattering_factors(["Si"], [-1.0])
    with pytest.raises(ValueError, match="'s' must be 1-D"):
        kirkland_scattering_factors(["Si"], [[0.0]])
