"""The sine transform against analytic φ ↔ G pairs."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.corrections import extrapolate_low_s
from pyxem_epdf.physics.models import (
    gaussian_peaks_pdf,
    gaussian_peaks_reduced_intensity,
)
from pyxem_epdf.physics.peaks import find_peaks
from pyxem_epdf.physics.transform import (
    low_s_nodes,
    r_grid,
    sine_transform,
    trapezoid_weights,
)

CENTERS = [1.61, 2.63, 3.1, 4.2]
AMPS = [0.8, 1.2, 1.0, 2.0]
SIGMAS = [0.05, 0.08, 0.1, 0.15]


def test_transform_reproduces_known_g():
    """φ from the exact inverse of a known G: G recovered to 1e-6 relative."""
    s = np.arange(0, 12.0, 0.005)  # φ decays to exp(-2π² 0.05² 144) ≈ 8e-4
    r = r_grid(8.0, 0.01)
    phi = gaussian_peaks_reduced_intensity(s, CENTERS, AMPS, SIGMAS)
    g = sine_transform(phi, s, r)
    truth = gaussian_peaks_pdf(r, CENTERS, AMPS, SIGMAS)
    tolerance = 0.01 * np.abs(truth).max()  # stated: 1 % of the largest peak
    assert np.max(np.abs(g - truth)) < tolerance
    pos, _ = find_peaks(g, r, n_peaks=4)
    np.testing.assert_allclose(pos, CENTERS, atol=0.01)


def test_truncated_transform_keeps_peak_positions():
    """With the paper's s_max = 2.5 Å⁻¹, Δs = 0.011 Å⁻¹ and damping b = 0.3–1.0 Å²,
    resolved peaks (separated by > 1 Å) move < 0.01 Å."""
    s = np.arange(0, 2.5, 0.011)
    r = r_grid(8.0, 0.01)
    centers = [1.61, 2.63, 4.2]
    for b in (0.3, 0.6, 1.0):
        phi = gaussian_peaks_reduced_intensity(s, centers, [0.8, 1.2, 2.0], [0.08, 0.12, 0.2])
        g = sine_transform(phi * np.exp(-b * s**2), s, r)
        pos, _ = find_peaks(g, r, n_peaks=3, r_range=(1.0, 5.0))
        np.testing.assert_allclose(pos, centers, atol=0.01)


def test_trapezoid_weights_cover_the_samples_only():
    s = np.array([0.5, 1.0, 1.5])
    assert trapezoid_weights(s).tolist() == [0.25, 0.5, 0.25]


def test_low_s_line_integrates_exactly():
    # φ = s is linear through 0: ∫_0^1.5 s sin(2π s r) ds in closed form
    s = np.array([0.5, 1.0, 1.5])
    r = np.array([0.3, 1.1, 2.7])
    k = 2 * np.pi * r
    exact = 8 * np.pi * (np.sin(k * 1.5) / k**2 - 1.5 * np.cos(k * 1.5) / k)
    fine = np.linspace(0.5, 1.5, 2001)
    g = sine_transform(fine, fine, r)  # the same line, densely sampled from s_0 = 0.5
    np.testing.assert_allclose(g, exact, rtol=2e-3)
    # nodes continue the spacing down to 0
    nodes, w = low_s_nodes(s)
    np.testing.assert_allclose(nodes, [0.0, 0.5])
    assert w.sum() == pytest.approx(0.5)


@pytest.mark.parametrize("k0", [1, 7, 106])
def test_cropped_axis_equals_zero_padded(k0):
    # A profile exported from the beam-stop edge gives the G of the zero-padded one
    ds = 0.00167
    s = ds * np.arange(2538)
    rng = np.random.default_rng(k0)
    phi = rng.normal(size=(2, s.size))
    padded = extrapolate_low_s(phi, s, s[k0])  # the line below the first kept sample
    r = r_grid(10, 0.05)
    g_pad = sine_transform(padded, s, r)
    g_cut = sine_transform(phi[:, k0:], s[k0:], r)
    np.testing.assert_allclose(g_cut, g_pad, rtol=1e-9, atol=1e-9 * np.abs(g_pad).max())


def test_lazy_equals_eager():
    s = np.linspace(0, 3, 300)
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(3, 4, s.size))
    r = r_grid(5, 0.05)
    lazy = sine_transform(da.from_array(phi, chunks=(1, 2, -1)), s, r)
    assert isinstance(lazy, da.Array) and lazy.shape == (3, 4, r.size)
    np.testing.assert_allclose(lazy.compute(), sine_transform(phi, s, r), rtol=1e-12)


@pytest.mark.parametrize(
    "args, match",
    [((10, 0), "'r_step' must be > 0"), ((0, 0.1), "r grid would be empty"),
     ((5, 0.1, 6), "r grid would be empty"), ((5, 0.1, -1), "'r_min' must be >= 0")],
)
def test_empty_r_grid(args, match):
    with pytest.raises(ValueError, match=match):
        r_grid(*args)


def test_negative_s_rejected():
    with pytest.raises(ValueError, match="'s' must be >= 0"):
        sine_transform(np.ones(3), [-0.1, 0.0, 0.1], [1.0])


def test_stacks_and_repeated_grids_give_the_single_spectrum_result():
    from pyxem_epdf.physics import transform as tr

    s = 0.01 * np.arange(1, 200)
    r = tr.r_grid(8.0, 0.02)
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(3, 4, s.size))
    stack = tr.sine_transform(phi, s, r)  # one 2-D product, cached matrix
    again = tr.sine_transform(phi, s, r)  # cache hit
    single = np.array([[tr.sine_transform(p, s, r) for p in row] for row in phi])
    np.testing.assert_allclose(stack, single, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(stack, again)
    # the public matrix is a fresh, writable array equal to the cached one
    m = tr.sine_transform_matrix(s, r)
    assert m.flags.writeable
    np.testing.assert_array_equal(phi[0, 0] @ m, single[0, 0])


def test_float32_transform():
    s = 0.01 * np.arange(1, 250)
    r = r_grid(10.0, 0.01)
    phi = np.random.default_rng(1).normal(size=(5, s.size))
    g64 = sine_transform(phi, s, r)
    g32 = sine_transform(phi, s, r, dtype="float32")
    assert g32.dtype == np.float32
    assert np.abs(g32 - g64).max() < 1e-5 * np.abs(g64).max()
    lazy = sine_transform(da.from_array(phi, chunks=(2, -1)), s, r, dtype="float32")
    assert lazy.dtype == np.float32
    np.testing.assert_allclose(lazy.compute(), g32, rtol=1e-6, atol=1e-6 * np.abs(g64).max())
    with pytest.raises(ValueError, match="'dtype' must be 'float32' or 'float64'"):
        sine_transform(phi, s, r, dtype="int16")


@pytest.mark.parametrize(("kw", "error", "match"), [
    ({"r_max": None}, TypeError, "'r_max' must be a number in Å"),
    ({"r_step": "0.01"}, TypeError, "'r_step' must be a number in Å"),
    ({"r_min": np.nan}, ValueError, "'r_min' must be finite"),
])
def test_r_grid_errors_name_the_parameter(kw, error, match):
    args = {"r_max": 10.0, "r_step": 0.01, "r_min": 0.0, **kw}
    with pytest.raises(error, match=match):
        r_grid(**args)
