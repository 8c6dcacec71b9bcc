"""``physics.unmixing.volume_fractions`` and ``physics.scattering.scattering_power``:
the scattering weighting of closure fractions and its inverse, against analytic truths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyxem_epdf.physics.scattering import scattering_factors, scattering_power
from pyxem_epdf.physics.unmixing import volume_fractions

SETTINGS = settings(max_examples=40, deadline=None)


def weighted(w, k):
    """Scattering-weighted fractions β_p = w_p k_p / Σ w_q k_q (the forward model)."""
    b = w * k
    return b / b.sum(axis=-1, keepdims=True)


@SETTINGS
@given(k=st.integers(2, 4), n=st.integers(1, 30), seed=st.integers(0, 2**16),
       spread=st.floats(0.0, 3.0))
def test_inverts_the_scattering_weighting(k, n, seed, spread):
    rng = np.random.default_rng(seed)
    w = rng.dirichlet(np.ones(k), size=n)
    powers = np.exp(rng.uniform(-spread, spread, size=k))
    got = volume_fractions(weighted(w, powers), powers)
    np.testing.assert_allclose(got, w, atol=1e-10)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0)


@SETTINGS
@given(seed=st.integers(0, 2**16), scale=st.floats(1e-3, 1e3))
def test_only_ratios_of_the_powers_matter(seed, scale):
    rng = np.random.default_rng(seed)
    beta = rng.dirichlet(np.ones(3), size=(4, 5))  # any leading shape
    powers = rng.uniform(0.5, 10.0, size=3)
    np.testing.assert_allclose(volume_fractions(beta, powers),
                               volume_fractions(beta, scale * powers), atol=1e-12)
    assert volume_fractions(beta, powers).shape == (4, 5, 3)


def test_equal_powers_change_nothing_and_pure_pixels_stay_pure():
    beta = np.array([[1.0, 0.0], [0.0, 1.0], [0.3, 0.7]])
    np.testing.assert_allclose(volume_fractions(beta, [2.0, 2.0]), beta)
    np.testing.assert_allclose(volume_fractions(beta, [1.0, 10.0])[:2], beta[:2])
    # a 50/50 column of a phase 10x stronger reads 1/11 of the light phase as β
    np.testing.assert_allclose(volume_fractions([[1 / 11, 10 / 11]], [1.0, 10.0]), [[0.5, 0.5]])


def test_nan_rows_and_a_nonpositive_total_give_nan():
    beta = np.array([[np.nan, np.nan], [0.5, 0.5], [-0.2, 1.2]])  # last: affine fractions
    got = volume_fractions(beta, [1.0, 10.0])
    assert np.isnan(got[0]).all()
    np.testing.assert_allclose(got[1], [0.5 / 0.55, 0.05 / 0.55])  # q = β/k = (0.5, 0.05)
    assert np.isnan(got[2]).all()  # Σ β/k = -0.2 + 0.12 < 0


@pytest.mark.parametrize("powers", [[1.0], [1.0, 0.0], [1.0, -2.0], [1.0, np.nan],
                                    [[1.0, 2.0]], "ab"])
def test_bad_powers_name_the_parameter(powers):
    with pytest.raises(ValueError, match="'powers'"):
        volume_fractions(np.full((3, 2), 0.5), powers)


def test_scattering_power_is_density_times_mean_f2_in_the_window():
    s = np.linspace(1.6, 2.5, 64)
    f = scattering_factors(["Zr"], s)[0]
    assert scattering_power("Zr", 0.05, (1.6, 2.5)) == pytest.approx(0.05 * np.mean(f**2))
    # proportional to the density; a mixture is the atomic-fraction mean of f²
    assert scattering_power("Zr", 0.1, (1.6, 2.5)) == pytest.approx(
        2 * scattering_power("Zr", 0.05, (1.6, 2.5)))
    fc = scattering_factors(["C"], s)[0]
    assert scattering_power("ZrC", 0.05, (1.6, 2.5)) == pytest.approx(
        0.05 * np.mean((f**2 + fc**2) / 2))


@pytest.mark.parametrize("kwargs,name", [
    ({"number_density": 0.0}, "number_density"),
    ({"number_density": "x"}, "number_density"),
    ({"s_range": (2.5, 1.6)}, "s_range"),
    ({"s_range": (-1.0, 1.6)}, "s_range"),
    ({"s_range": 1.6}, "s_range"),
    ({"n_s": 1}, "n_s"),
])
def test_scattering_power_rejects_bad_input(kwargs, name):
    args = {"composition": "SiO2", "number_density": 0.066, "s_range": (1.6, 2.5)}
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"'{name}'"):
        scattering_power(**args)


@SETTINGS
@given(elements=st.lists(st.sampled_from(["H", "C", "N", "O", "Si", "Zn", "Zr", "Cu"]),
                         min_size=1, max_size=3, unique=True),
       seed=st.integers(0, 2**16), rho=st.floats(1e-3, 0.2),
       lo=st.floats(0.0, 2.0), width=st.floats(0.1, 2.0))
def test_scattering_power_is_positive_linear_in_density_and_between_its_elements(
        elements, seed, rho, lo, width):
    rng = np.random.default_rng(seed)
    x = rng.dirichlet(np.ones(len(elements)))
    composition = dict(zip(elements, x.tolist(), strict=True))
    window = (lo, lo + width)
    k = scattering_power(composition, rho, window)
    assert k > 0
    assert scattering_power(composition, 2 * rho, window) == pytest.approx(2 * k)
    pure = [scattering_power(e, rho, window) for e in elements]
    assert min(pure) * (1 - 1e-9) <= k <= max(pure) * (1 + 1e-9)  # an atomic-fraction mean
