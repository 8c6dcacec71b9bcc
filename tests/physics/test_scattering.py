"""Scattering factors against analytic and tabulated values; composition parsing."""

import dask.array as da
import numpy as np
import pytest
import xraydb

from pyxem_epdf.physics import scattering as sc

A0 = 0.529177  # Bohr radius, Å
S = np.array([0.25, 0.5, 1.0, 2.0, 3.0])


def mott_bethe(z, f_x, s):
    """Electron scattering factor (Å) from the X-ray one; s = 2 sinθ/λ."""
    return (z - f_x) / (2 * np.pi**2 * A0 * s**2)


class TestScatteringFactors:
    def test_hydrogen_analytic(self):
        # 1s hydrogen: f_x = 1/(1 + (π a0 s)²)², f_e(0) = a0 exactly.
        s = np.concatenate([[0.0], S])
        f = sc.scattering_factors(["H"], s)[0]
        f_x = 1 / (1 + (np.pi * A0 * S) ** 2) ** 2
        assert f[0] == pytest.approx(A0, rel=1e-4)
        np.testing.assert_allclose(f[1:], mott_bethe(1, f_x, S), rtol=2e-3)

    @pytest.mark.parametrize("element, z", [("C", 6), ("O", 8), ("Si", 14), ("Zn", 30)])
    def test_lobato_matches_mott_bethe_of_waasmaier_kirfel(self, element, z):
        # Mott–Bethe divides Z − f_x by s², amplifying f_x errors at low s:
        # compare from s = 0.5 Å⁻¹ up.
        s = S[S >= 0.5]
        f = sc.scattering_factors([element], s)[0]
        f_x = xraydb.f0(element, s / 2)  # xraydb takes sinθ/λ
        np.testing.assert_allclose(f, mott_bethe(z, np.asarray(f_x), s), rtol=1e-2)

    @pytest.mark.parametrize(
        "element, f0",
        # f(0) in Å, Lobato & Van Dyck (2014) = 2 Σ a_i; agrees with the
        # International Tables (Vol. C, 4.3.1.1) to the digits listed there.
        [("C", 2.510), ("O", 2.029), ("Si", 5.836), ("Zn", 6.066)],
    )
    def test_values_at_zero(self, element, f0):
        assert sc.scattering_factors([element], [0.0])[0, 0] == pytest.approx(f0, abs=2e-3)

    @pytest.mark.parametrize("element", ["H", "C", "O", "Si", "Zn", "Au"])
    def test_tables_agree(self, element):
        s = np.linspace(0.0, 2.0, 21)
        lob = sc.scattering_factors([element], s, "lobato")
        xt = sc.scattering_factors([element], s, "xtables")
        np.testing.assert_allclose(xt, lob, rtol=0.03)

    def test_shape_and_order(self):
        f = sc.scattering_factors(["O", "Si"], S)
        assert f.shape == (2, S.size)
        assert np.all(f[1] > f[0])  # heavier atom scatters more

    @pytest.mark.parametrize(
        "kwargs, match",
        [
            ({"elements": ["Si"], "s": [-0.1, 1.0]}, "'s' must be finite and >= 0"),
            ({"elements": ["Si"], "s": [[1.0]]}, "'s' must be 1-D"),
            ({"elements": ["Si"], "s": [1.0], "table": "doyle-turner"}, "'table' must be one of"),
            ({"elements": ["Qq"], "s": [1.0]}, "Unknown element 'Qq'"),
            ({"elements": ["Lr"], "s": [1.0], "table": "xtables"}, "no parameters in the 'xtables'"),
        ],
    )
    def test_errors(self, kwargs, match):
        with pytest.raises(ValueError, match=match):
            sc.scattering_factors(**kwargs)


class TestAverages:
    def test_single_element(self):
        f2, fsq = sc.mean_scattering({"Si": 1.0}, S)
        f = sc.scattering_factors(["Si"], S)[0]
        np.testing.assert_allclose(f2, f**2)
        np.testing.assert_allclose(fsq, f**2)

    def test_binary_by_hand(self):
        f = sc.scattering_factors(["Si", "O"], S)
        f2, fsq = sc.mean_scattering("SiO2", S)
        np.testing.assert_allclose(f2, (f[0] ** 2 + 2 * f[1] ** 2) / 3)
        np.testing.assert_allclose(fsq, ((f[0] + 2 * f[1]) / 3) ** 2)
        assert np.all(f2 > fsq)  # Laue term is positive for a mixture

    def test_composition_map_equals_per_pixel(self):
        rng = np.random.default_rng(0)
        frac = rng.dirichlet([1, 1, 1], size=(4, 5))
        f = sc.scattering_factors(["Zn", "C", "N"], S)
        f2, fsq = sc.scattering_averages(frac, f)
        assert f2.shape == (4, 5, S.size)
        for idx in np.ndindex(4, 5):
            one = sc.scattering_averages(frac[idx], f)
            np.testing.assert_allclose(f2[idx], one[0])
            np.testing.assert_allclose(fsq[idx], one[1])
        lazy = sc.scattering_averages(da.from_array(frac, chunks=(2, 5, 3)), f)
        assert isinstance(lazy[0], da.Array)
        np.testing.assert_allclose(lazy[0].compute(), f2)
        np.testing.assert_allclose(lazy[1].compute(), fsq)

    def test_mismatched_shapes(self):
        with pytest.raises(ValueError, match="'fractions' has 2 elements"):
            sc.scattering_averages([0.5, 0.5], np.ones((3, 4)))


class TestParseComposition:
    def test_dict(self):
        assert sc.parse_composition({"Si": 1 / 3, "O": 2 / 3}) == pytest.approx(
            {"Si": 1 / 3, "O": 2 / 3}
        )

    def test_dict_renormalised_within_tolerance(self):
        c = sc.parse_composition({"Zn": 0.054, "C": 0.378, "H": 0.351, "N": 0.217})
        assert sum(c.values()) == pytest.approx(1.0, abs=1e-12)

    def test_formula_with_parentheses_and_fractional_counts(self):
        c = sc.parse_composition("Zn(C3H3N2)1.75(C7H5N2)0.25")
        # Zn1 C7 H6.5 N4 per formula unit: 18.5 atoms
        expected = {"Zn": 1 / 18.5, "C": 7 / 18.5, "H": 6.5 / 18.5, "N": 4 / 18.5}
        assert c == pytest.approx(expected)
        assert list(c) == ["Zn", "C", "H", "N"]

    def test_nested(self):
        c = sc.parse_composition("Ca3(Al(OH)4)2")  # Ca3 Al2 O8 H8
        assert c == pytest.approx({"Ca": 3 / 21, "Al": 2 / 21, "O": 8 / 21, "H": 8 / 21})

    def test_glass_mixture_from_the_paper(self):
        c = sc.parse_composition("0.67[(Na2O)0.9(P2O5)]-0.33[(AlO1.5)(AlF3)1.5]")
        counts = {
            "Na": 0.67 * 1.8,
            "O": 0.67 * (0.9 + 5) + 0.33 * 1.5,
            "P": 0.67 * 2,
            "Al": 0.33 * 2.5,
            "F": 0.33 * 4.5,
        }
        total = sum(counts.values())
        assert c == pytest.approx({k: v / total for k, v in counts.items()})

    def test_plus_and_minus_separators_agree(self):
        a = sc.parse_composition("0.5[SiO2]+0.5[Al2O3]")
        b = sc.parse_composition("0.5[SiO2] - 0.5[Al2O3]")
        assert a == pytest.approx(b)

    def test_arrays(self):
        elements, fractions = sc.composition_arrays("H2O")
        assert elements == ("H", "O")
        np.testing.assert_allclose(fractions, [2 / 3, 1 / 3])

    @pytest.mark.parametrize(
        "composition, match",
        [
            ({"Si": 0.5}, "sum to 1"),
            ({"Si": 0.4, "O": 0.4}, "sum to 1"),
            ({"Si": -0.1, "O": 1.1}, ">= 0"),
            ({"Si": float("nan"), "O": 1.0}, ">= 0"),
            ({"Si": "a lot", "O": 1.0}, "must be a number"),
            ({"Xx": 1.0}, "Unknown element 'Xx'"),
            ({"si": 1.0}, "Unknown element 'si'"),
            ("SiQ2", "Unknown element 'Q'"),
            ("Si(O2", "missing"),
            ("SiO2)", "unbalanced"),
            ("Si$O2", "unexpected"),
            ("", "empty"),
            ("SiO2+", "trailing"),
            ("0.5[SiO2]+0.6[Al2O3]", "sum to 1.1"),
            ("(Si-O2)", "inside brackets"),
            ("Si O 2 2", "does not follow"),
        ],
    )
    def test_errors(self, composition, match):
        with pytest.raises(ValueError, match=match) as info:
            sc.parse_composition(composition)
        assert "composition" in str(info.value)

    def test_type_error(self):
        with pytest.raises(TypeError, match="'composition'"):
            sc.parse_composition(3.0)


def test_kirkland_table_is_a_third_choice_close_to_lobato():
    from pyxem_epdf.physics.scattering import SCATTERING_TABLES, scattering_factors

    s = np.linspace(0.0, 2.0, 41)
    assert "kirkland" in SCATTERING_TABLES
    kirk = scattering_factors(["H", "C", "N", "O", "Si", "Zn"], s, table="kirkland")
    lob = scattering_factors(["H", "C", "N", "O", "Si", "Zn"], s, table="lobato")
    assert kirk.shape == lob.shape
    assert np.max(np.abs(kirk / lob - 1)) < 0.03
    with pytest.raises(ValueError, match="Unknown element"):
        scattering_factors(["Xx"], s, table="kirkland")
