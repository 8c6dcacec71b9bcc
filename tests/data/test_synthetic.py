"""Synthetic composites (embedded two-phase, 1-3 phases): geometry, counts, determinism, laziness, truth."""

import dataclasses

import numpy as np
import pytest
from scipy.signal import find_peaks

from pyxem_epdf.data import (
    BACKGROUND_COUNTS,
    GLASS_LIKE,
    METALLIC_LIKE,
    MULTIPLE_SCATTERING_STRENGTH,
    MULTIPLE_SCATTERING_WIDTH,
    ZIF_LIKE,
    CompositeParameters,
    average_composition,
    composite,
    inclusion_centers,
    two_phase_composite,
)

SMALL = {"nav_shape": (6, 7), "detector_shape": (48, 48), "s_scale": 0.06}


def pixel_s(shape, s_scale):
    """s of every detector pixel, centre at ((n - 1)/2, (m - 1)/2)."""
    rows, cols = shape
    yy, xx = np.meshgrid(
        np.arange(rows) - (rows - 1) / 2,
        np.arange(cols) - (cols - 1) / 2,
        indexing="ij",
    )
    return np.hypot(yy, xx) * s_scale


@pytest.fixture(scope="module")
def default():
    return two_phase_composite()


@pytest.fixture(scope="module")
def noiseless():
    return two_phase_composite(nav_shape=(5, 6), noise=False)


# ---------------------------------------------------------------- geometry


@pytest.mark.parametrize("nav_shape", [(20, 20), (7, 13), (9,), ()])
def test_fractions_sum_to_one_and_bounded(nav_shape):
    synth = two_phase_composite(nav_shape=nav_shape, detector_shape=(16, 16))
    w = synth.fractions
    assert w.shape == nav_shape + (2,)
    assert np.all((w >= 0) & (w <= 1))
    np.testing.assert_array_equal(w.sum(-1), 1.0)
    assert synth.thickness.shape == nav_shape


def test_interface_and_inclusion(default):
    a = default.fractions[..., 0]
    assert a[:, 0].min() > 0.999 and a[:, -1].max() < 1e-3  # A left, B right
    p = default.parameters
    rows, cols = p.nav_shape
    # inclusion of A at (0.72 W, 0.45 H), inside B (B > 0.99 between it and the edge)
    ci, cj = round(0.45 * (rows - 1)), round(0.72 * (cols - 1))
    assert a[ci, cj] > 0.9
    assert a[ci, cols - 1] < 0.01 and a[0, cj] < 0.01
    # the interface is soft: some probe positions are genuinely mixed
    assert np.sum((a > 0.1) & (a < 0.9)) >= rows


def test_interface_width_is_10_to_90_percent_width():
    width, step = 20.0, 0.5
    synth = two_phase_composite(
        nav_shape=(1, 400), detector_shape=(16, 16), step=step, interface_width=width
    )
    a = synth.fractions[0, :, 0]
    x = np.arange(a.size) * step
    cut = slice(0, int(0.6 * a.size))  # interface only, not the inclusion
    x90 = np.interp(-0.9, -a[cut], x[cut])
    x10 = np.interp(-0.1, -a[cut], x[cut])
    # the interface is tilted by 15° in the scan plane: width along x is w / cos 15°
    assert (x10 - x90) == pytest.approx(width / np.cos(np.deg2rad(15)), rel=0.02)


def test_thickness_smooth_within_range(default):
    t = default.thickness
    a, b = default.parameters.thickness_range
    assert t.min() == a and t.max() == b
    assert np.abs(np.diff(t, axis=0)).max() < 0.1 * (b - a)
    assert np.abs(np.diff(t, axis=1)).max() < 0.1 * (b - a)


# ---------------------------------------------------------------- counts


def test_counts_at_paper_dose(default):
    p = default.parameters
    data = default.signal.data
    assert data.dtype == np.uint16
    s = pixel_s(p.detector_shape, p.s_scale)
    high = (s >= 1.6) & (s <= 2.5)
    assert 0.005 < data[..., high].mean() < 0.1
    electrons = p.dose * np.pi * (10 * p.probe_diameter / 2) ** 2
    assert default.electrons_per_pattern == pytest.approx(electrons)
    expected = electrons + BACKGROUND_COUNTS * s.size
    totals = data.sum(axis=(-2, -1), dtype=np.int64)
    assert np.all(np.abs(totals - expected) < 5 * np.sqrt(expected))
    assert abs(totals.mean() - expected) < 5 * np.sqrt(expected / totals.size)


def test_noiseless_total_is_exact(noiseless):
    data = noiseless.signal.data
    assert data.dtype == np.float32
    n_pixels = np.prod(noiseless.parameters.detector_shape)
    expected = noiseless.electrons_per_pattern + BACKGROUND_COUNTS * n_pixels
    np.testing.assert_allclose(
        data.sum(axis=(-2, -1), dtype=np.float64), expected, rtol=1e-5
    )
    # the central beam carries exp(-t/λ) of the electrons, near s = 0
    s = pixel_s(noiseless.parameters.detector_shape, noiseless.parameters.s_scale)
    central = data[..., s < 0.1].sum(-1)
    assert np.all(
        central
        > 0.95 * noiseless.unscattered_fraction * noiseless.electrons_per_pattern
    )


def test_high_dose_switches_to_uint32():
    synth = two_phase_composite(nav_shape=(1,), detector_shape=(16, 16), dose=1000.0)
    assert synth.signal.data.dtype == np.uint32
    assert synth.signal.data.max() > np.iinfo(np.uint16).max


# ---------------------------------------------------------------- the model


def test_pixels_follow_the_intensity_model(noiseless):
    p = noiseless.parameters
    s = pixel_s(p.detector_shape, p.s_scale)
    model = noiseless.profiles(s.ravel(), direct_beam=True).reshape(
        noiseless.signal.data.shape
    )
    np.testing.assert_allclose(noiseless.signal.data, model, rtol=2e-4)
    # pixels on one ring hold one value: the azimuthal mean is the model
    ring = np.isclose(s, s[0, 10])
    assert ring.sum() >= 4
    values = noiseless.signal.data[2, 3][ring]
    np.testing.assert_allclose(
        values.mean(), noiseless.profiles(s[0, 10:11])[2, 3, 0], rtol=2e-4
    )


def test_profiles_match_pure_phase_intensity():
    sharp = two_phase_composite(
        nav_shape=(5, 6), detector_shape=(32, 32), interface_width=0.1
    )
    s = np.linspace(0.0, 3.0, 61)
    profiles = sharp.profiles(s, direct_beam=True)
    for index, phase in enumerate(sharp.phases):
        i, j = np.argwhere(sharp.fractions[..., index] == 1.0)[-1]
        expected = phase.intensity_profile(s, sharp.thickness[i, j], direct_beam=True)
        np.testing.assert_allclose(profiles[i, j], expected, rtol=1e-12)
        assert np.all(expected > 0)


def test_n_true_is_the_scale_of_the_local_mixture(noiseless):
    from pyxem_epdf.physics.scattering import mean_scattering

    s = np.linspace(0.3, 2.5, 45)
    intensity = noiseless.profiles(s)
    densities = np.array([ZIF_LIKE.number_density, GLASS_LIKE.number_density])
    m = (
        MULTIPLE_SCATTERING_STRENGTH
        * noiseless.thickness
        / noiseless.parameters.mean_free_path
    )
    for i, j in np.ndindex(noiseless.thickness.shape):
        comp = dict(
            zip(noiseless.elements, noiseless.element_fractions[i, j], strict=True)
        )
        f2, _ = mean_scattering(comp, s)
        weights = noiseless.fractions[i, j] * densities
        weights = weights / weights.sum()
        structure = sum(
            w
            * (
                ph.scattering(s)[1] * ph.reduced_intensity(s) / s
                + m[i, j]
                * ph.scattering(np.zeros(1))[0]
                * np.exp(-0.5 * (s / MULTIPLE_SCATTERING_WIDTH) ** 2)
            )
            for w, ph in zip(weights, (ZIF_LIKE, GLASS_LIKE), strict=True)
        )
        expected = noiseless.N_true[i, j] * (f2 + structure) + noiseless.C_true
        np.testing.assert_allclose(intensity[i, j], expected, rtol=1e-9)


@pytest.mark.parametrize("phase", [ZIF_LIKE, GLASS_LIKE], ids=lambda p: p.name)
def test_truth_pdf_peaks_at_tabulated_centres(phase):
    r = np.arange(0.5, 8.0, 0.001)
    g = phase.pdf(r)
    found, _ = find_peaks(g, prominence=0.05)
    centres = np.array([p.center for p in phase.peaks])
    assert found.size == centres.size
    np.testing.assert_allclose(r[found], centres, atol=0.01)


@pytest.mark.parametrize("phase", [ZIF_LIKE, GLASS_LIKE], ids=lambda p: p.name)
def test_truth_phi_transforms_to_truth_pdf(phase):
    s = np.linspace(0.0, 25.0, 25001)
    r = np.linspace(0.5, 8.0, 151)
    phi = phase.reduced_intensity(s)
    g = 8 * np.pi * np.trapezoid(phi * np.sin(2 * np.pi * np.outer(r, s)), s, axis=1)
    np.testing.assert_allclose(g, phase.pdf(r), atol=1e-6 * np.abs(phase.pdf(r)).max())


def test_truth_pdfs_are_distinct():
    r = np.arange(0.5, 8.0, 0.01)
    a, b = ZIF_LIKE.pdf(r), GLASS_LIKE.pdf(r)
    assert np.corrcoef(a, b)[0, 1] < 0.5


def test_average_composition(default):
    comp = average_composition(default)
    assert sum(comp.values()) == pytest.approx(1.0)
    assert set(comp) == set(default.elements)
    assert (
        0
        < comp["Zn"]
        < dict(zip(ZIF_LIKE.elements, ZIF_LIKE.atomic_fractions, strict=True))["Zn"]
    )


# ---------------------------------------------------------------- determinism, laziness


def test_deterministic_and_seeded():
    a = two_phase_composite(**SMALL, seed=3).signal.data
    b = two_phase_composite(**SMALL, seed=3).signal.data
    c = two_phase_composite(**SMALL, seed=4).signal.data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_data_do_not_depend_on_chunks():
    a = two_phase_composite(**SMALL, chunks=(6, 7)).signal.data
    b = two_phase_composite(**SMALL, chunks=(4, 3)).signal.data
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("nav_shape", [(6, 7), (5,), ()])
@pytest.mark.parametrize("noise", [True, False])
def test_lazy_equals_eager(nav_shape, noise):
    kw = dict(SMALL, nav_shape=nav_shape, noise=noise, chunks=(4, 3)[: len(nav_shape)])
    eager = two_phase_composite(**kw)
    lazy = two_phase_composite(lazy=True, **kw)
    assert lazy.signal._lazy and not eager.signal._lazy
    assert lazy.signal.data.dtype == eager.signal.data.dtype
    np.testing.assert_array_equal(lazy.signal.data.compute(), eager.signal.data)
    np.testing.assert_array_equal(lazy.N_true, eager.N_true)


def test_lazy_is_really_lazy():
    import dask.array as da
    from dask.callbacks import Callback

    started = []

    class Spy(Callback):
        def _start(self, dsk):
            started.append(len(dsk))

    with Spy():
        synth = two_phase_composite(
            nav_shape=(64, 64), detector_shape=(256, 256), lazy=True
        )
    assert not started
    data = synth.signal.data
    assert isinstance(data, da.Array)
    assert type(synth.signal).__name__ == "LazyElectronDiffraction2D"
    assert data.shape == (64, 64, 256, 256) and data.chunksize[2:] == (256, 256)
    assert data.numblocks == (8, 8, 1, 1)
    block = data.blocks[7, 7].compute()  # one block, bounded memory
    assert block.shape == (8, 8, 256, 256) and block.dtype == np.uint16


# ---------------------------------------------------------------- signal, metadata, pyxem


def test_axes_and_metadata(default):
    sig = default.signal
    p = default.parameters
    nav = sig.axes_manager.navigation_axes
    assert [a.name for a in nav] == ["x", "y"]
    assert all(a.units == "nm" and a.scale == p.step for a in nav)
    for axis, n in zip(
        sig.axes_manager.signal_axes, p.detector_shape[::-1], strict=True
    ):
        assert axis.units == "k_A^-1" and axis.scale == p.s_scale
        assert axis.offset == pytest.approx(-(n - 1) / 2 * p.s_scale)
    assert sig.calibration.center == pytest.approx(
        [(n - 1) / 2 for n in p.detector_shape]
    )
    md = sig.metadata
    assert md.Acquisition_instrument.TEM.beam_energy == p.beam_energy
    assert md.General.title == "Synthetic two-phase composite"
    assert "ZIF-like" in md.General.notes
    assert sorted(md.Sample.elements) == sorted(default.elements)


def test_truth_is_frozen(default):
    with pytest.raises(dataclasses.FrozenInstanceError):
        default.seed = 1
    with pytest.raises(ValueError, match="read-only"):
        default.fractions[0, 0, 0] = 0.5


def test_pyxem_azimuthal_integral_matches_model_at_bin_centres():
    synth = two_phase_composite(
        nav_shape=(2,), detector_shape=(64, 64), s_scale=0.08, noise=False
    )
    profile = synth.signal.get_azimuthal_integral1d(
        npt=32, mean=True, show_progressbar=False
    )
    axis = profile.axes_manager.signal_axes[0]
    s_label = axis.axis
    keep = (s_label > 0.3) & (s_label < 2.3)
    centre = synth.profiles(s_label + axis.scale / 2)
    left = synth.profiles(s_label)
    err_centre = np.abs(profile.data / centre - 1)[..., keep]
    err_left = np.abs(profile.data / left - 1)[..., keep]
    # pyxem labels each bin by its left edge; the data belong to the bin centre
    assert err_centre.max() < 0.05 and np.median(err_centre) < 0.01
    assert np.median(err_left) > 3 * np.median(err_centre)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"nav_shape": (0, 5)}, "'nav_shape'"),
        ({"nav_shape": (-2, 5)}, "'nav_shape'"),
        ({"nav_shape": (2, 2, 2)}, "'nav_shape'"),
        ({"nav_shape": (2.5, 2)}, "'nav_shape'"),
        ({"detector_shape": (8, 8)}, "'detector_shape'.*>= 16"),
        ({"detector_shape": (64,)}, "'detector_shape'"),
        ({"s_scale": 0.0}, "'s_scale'.*> 0"),
        ({"s_scale": -0.01}, "'s_scale'"),
        ({"dose": 0}, "'dose'.*> 0"),
        ({"dose": np.nan}, "'dose'"),
        ({"probe_diameter": -5.0}, "'probe_diameter'.*> 0"),
        ({"step": 0.0}, "'step'"),
        ({"thickness_range": (0.0, 10.0)}, "'thickness_range'.*0 < a <= b"),
        ({"thickness_range": (50.0, 10.0)}, "'thickness_range'"),
        ({"thickness_range": (10.0,)}, "'thickness_range'"),
        ({"interface_width": 0.0}, "'interface_width'.*> 0"),
        ({"beam_energy": -200.0}, "'beam_energy'.*> 0"),
        ({"beam_energy": "high"}, "'beam_energy'"),
        ({"seed": -1}, "'seed'"),
        ({"chunks": (0, 4)}, "'chunks'"),
        ({"chunks": (4,)}, "'chunks'"),
    ],
)
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        two_phase_composite(**kwargs)


def test_parameters_round_trip(default):
    p = default.parameters
    assert CompositeParameters(**p.as_dict()) == p
    assert p.center == (63.5, 63.5)


def test_descan_plane_moves_the_beam():
    synth = two_phase_composite(nav_shape=(3, 4), detector_shape=(64, 64), noise=False,
                                descan=(4.0, -2.0))
    shifts = synth.parameters.beam_shifts
    assert shifts.shape == (3, 4, 2)
    np.testing.assert_allclose(shifts[0, 0], [-2.0, 1.0])
    np.testing.assert_allclose(shifts[-1, -1], [2.0, -1.0])
    frames = np.asarray(synth.signal.data)
    peak = np.unravel_index(frames[0, 0].argmax(), (64, 64))
    peak_end = np.unravel_index(frames[-1, -1].argmax(), (64, 64))
    assert peak_end[1] - peak[1] >= 3  # moved right by ~4 px
    with pytest.raises(ValueError, match="'descan' must be two numbers"):
        two_phase_composite(nav_shape=(2, 2), descan=(1.0,))


# ------------------------------------------- composite(): 1-3 phases, geometry


def _sha(a):
    import hashlib

    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def test_embedded_default_output_is_unchanged():
    # checksums of the counts computed before composite() generalised the
    # generator (numpy 2 / scipy on x86-64): the embedded data must not move
    synth = two_phase_composite(**SMALL)
    assert _sha(synth.signal.data) == "e6dc5cf091fe65b1"
    assert _sha(synth.fractions) == "7731af98a887ba77"
    drifted = two_phase_composite(nav_shape=(4, 5), detector_shape=(32, 32),
                                  descan=(3.0, -1.0), seed=3)
    assert _sha(drifted.signal.data) == "4dbb86cc36038da5"
    # the general generator with two phases is the same function
    np.testing.assert_array_equal(composite(**SMALL).signal.data, synth.signal.data)


@pytest.fixture(scope="module")
def three():
    return composite(nav_shape=(30, 30), detector_shape=(32, 32),
                     phases=(ZIF_LIKE, GLASS_LIKE, METALLIC_LIKE), inclusions=2,
                     inclusion_radius=15.0, seed=5, dose=2.5)


def test_three_phase_layout(three):
    w = three.fractions
    assert w.shape == (30, 30, 3)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-12)
    assert np.all((w >= 0) & (w <= 1))
    for k in range(3):  # every phase has pure regions
        assert (w[..., k] > 0.99).sum() >= 20
    # A left, C bottom right, B top right
    assert w[:, 0, 0].min() > 0.999
    assert w[-1, -1, 2] > 0.99 and w[0, -1, 1] > 0.99
    assert three.signal.metadata.General.title == "Synthetic three-phase composite"
    assert set(three.signal.metadata.Sample.phases.as_dictionary()) == {"A", "B", "C"}
    assert {"Cu", "Zr", "Zn", "P"} <= set(three.elements)
    np.testing.assert_allclose(three.element_fractions.sum(-1), 1.0)
    comp = average_composition(three)
    assert comp["Zr"] > 0 and sum(comp.values()) == pytest.approx(1.0)


def test_three_phase_pixels_follow_the_model():
    synth = composite(nav_shape=(3, 4), detector_shape=(32, 32), noise=False,
                      phases=(ZIF_LIKE, GLASS_LIKE, METALLIC_LIKE))
    p = synth.parameters
    s = pixel_s(p.detector_shape, p.s_scale)
    model = synth.profiles(s.ravel(), direct_beam=True).reshape(synth.signal.data.shape)
    np.testing.assert_allclose(synth.signal.data, model, rtol=2e-4)
    # N = K Σ n_p, and the scattered electrons are exactly E (1 - exp(-t/λ))
    n_pixels = np.prod(p.detector_shape)
    expected = synth.electrons_per_pattern + BACKGROUND_COUNTS * n_pixels
    np.testing.assert_allclose(synth.signal.data.sum(axis=(-2, -1), dtype=np.float64),
                               expected, rtol=1e-5)
    np.testing.assert_allclose(synth.N_true, synth._coefficients[..., :3].sum(-1))


def test_three_phase_lazy_equals_eager():
    kw = {"nav_shape": (5, 6), "detector_shape": (32, 32), "inclusions": 0,
          "phases": (ZIF_LIKE, GLASS_LIKE, METALLIC_LIKE), "descan": (1.5, 0.5)}
    eager = composite(**kw)
    lazy = composite(lazy=True, chunks=(2, 4), **kw)
    assert lazy.signal._lazy
    np.testing.assert_array_equal(lazy.signal.data.compute(), eager.signal.data)


def test_single_phase_is_the_pure_phase_intensity():
    t_range = (25.0, 45.0)
    pure = composite(nav_shape=(2, 3), detector_shape=(32, 32), noise=False,
                     thickness_range=t_range, phases=(METALLIC_LIKE,))
    assert pure.fractions.shape == (2, 3, 1) and np.all(pure.fractions == 1)
    assert pure.signal.metadata.General.title == "Synthetic single-phase scan"
    s = np.linspace(0.2, 2.0, 19)
    np.testing.assert_allclose(pure.profiles(s),
                               pure.phases[0].intensity_profile(s, pure.thickness),
                               rtol=1e-12)
    assert pure.elements == ("Cu", "Zr")


def _inclusion_count(frac_a, mask):
    from scipy import ndimage

    return ndimage.label((frac_a > 0.5) & mask)[1]


@pytest.mark.parametrize("n", [0, 1, 3])
def test_inclusions_number_and_size(n):
    synth = composite(nav_shape=(48, 48), detector_shape=(16, 16), inclusions=n,
                      inclusion_radius=12.0, seed=2)
    p = synth.parameters
    width = height = 47 * p.step
    yy, xx = np.mgrid[0:48, 0:48] * p.step
    angle = np.deg2rad(15)
    d = (xx - 0.4 * width) * np.cos(angle) + (yy - 0.5 * height) * np.sin(angle)
    right = d > 2 * p.interface_width
    a = synth.fractions[..., 0]
    assert _inclusion_count(a, right) == n
    centres = inclusion_centers(p, width, height)
    assert centres.shape == (n, 2)
    for cx, cy in centres:  # the A fraction is 1/2 one radius from each centre
        i, j = round(cy / p.step), round(cx / p.step)
        assert a[i, j] > 0.9
    if n:
        area = (a[right] > 0.5).sum() * p.step**2
        assert area == pytest.approx(n * np.pi * 12.0**2, rel=0.15)


def test_inclusions_are_seeded():
    kw = {"nav_shape": (40, 40), "detector_shape": (16, 16), "inclusions": 3,
          "inclusion_radius": 10.0}
    a = composite(seed=1, **kw).fractions
    np.testing.assert_array_equal(a, composite(seed=1, **kw).fractions)
    assert not np.array_equal(a, composite(seed=2, **kw).fractions)
    # one inclusion, any radius: the embedded position
    big = composite(nav_shape=(40, 40), detector_shape=(16, 16), inclusion_radius=30.0)
    assert big.fractions[round(0.45 * 39), round(0.72 * 39), 0] > 0.999


@pytest.mark.parametrize("n_phases", [2, 3])
def test_interface_line_crosses_a_clean_edge(n_phases):
    from pyxem_epdf.data._synthetic import fractions_at
    from pyxem_epdf.physics.interface import fit_interface

    phases = (ZIF_LIKE, GLASS_LIKE, METALLIC_LIKE)[:n_phases]
    synth = composite(nav_shape=(48, 48), detector_shape=(16, 16), phases=phases,
                      inclusions=3, inclusion_radius=12.0, interface_width=15.0, seed=7)
    (x1, y1), (x2, y2) = synth.interface_line()
    assert np.hypot(x2 - x1, y2 - y1) == pytest.approx(90.0, rel=0.01)
    # along the line the true A fraction is one clean error-function edge
    t = np.linspace(0.0, 1.0, 181)
    x, y = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
    extent = 47 * synth.parameters.step
    a = fractions_at(synth.parameters, x, y, extent, extent)[:, 0]
    fit = fit_interface(t * 90.0, a)
    assert fit.width_10_90 == pytest.approx(15.0, rel=0.005)
    assert fit.center == pytest.approx(45.0, abs=0.5)
    assert fit.residual_rms < 1e-3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"phases": (ZIF_LIKE,) * 4}, "'phases' must be one to three"),
        ({"phases": ("ZIF",)}, "'phases' must be one to three"),
        ({"inclusions": -1}, r"'inclusions' must be an integer in \[0, 100\]"),
        ({"inclusions": 2.0}, "'inclusions'"),
        ({"inclusion_radius": 0.0}, "'inclusion_radius'.*> 0"),
        ({"inclusions": 40, "inclusion_radius": 20.0}, "do not fit"),
    ],
)
def test_composite_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        composite(nav_shape=(20, 20), detector_shape=(16, 16), **kwargs)


def test_two_phase_composite_takes_two_phases_only():
    with pytest.raises(ValueError, match="'phases' must be two Phase objects"):
        two_phase_composite(nav_shape=(2, 2), detector_shape=(16, 16),
                            phases=(ZIF_LIKE, GLASS_LIKE, METALLIC_LIKE))


# ---------------------------------------------------------------- detector options (issue 16)


def test_distortion_renders_s_of_the_corrected_coordinate():
    from pyxem_epdf.physics.calibration import corrected_radius, distortion_matrix

    kw = {"nav_shape": (2, 2), "detector_shape": (48, 48), "s_scale": 0.06, "noise": False}
    synth = composite(distortion=(1.03, 40.0), **kw)
    p = synth.parameters
    assert p.distortion == (1.03, 40.0)
    np.testing.assert_allclose(p.distortion_matrix, distortion_matrix(1.03, 40.0))
    s = corrected_radius(p.detector_shape, None, p.distortion_matrix) * p.s_scale
    model = synth.profiles(s.ravel(), direct_beam=True).reshape(synth.signal.data.shape)
    np.testing.assert_allclose(synth.signal.data, model, rtol=2e-3, atol=2e-4)
    # ratio 1 is no distortion: same data as the default
    same = composite(distortion=(1.0, 10.0), **kw)
    assert same.parameters.distortion is None
    np.testing.assert_array_equal(same.signal.data, composite(**kw).signal.data)


def test_beam_stop_pixels_get_only_background():
    synth = composite(nav_shape=(3, 4), detector_shape=(48, 48), beam_stop=(5, 3, 30.0),
                      descan=(2.0, 1.0), noise=False)
    stop = synth.parameters.beam_stop_mask
    assert stop.shape == (48, 48) and stop[23, 23] and stop[23 + 10, 23 + 17]
    np.testing.assert_allclose(synth.signal.data[..., stop], BACKGROUND_COUNTS, rtol=1e-6)
    open_ = composite(nav_shape=(3, 4), detector_shape=(48, 48), descan=(2.0, 1.0), noise=False)
    np.testing.assert_array_equal(synth.signal.data[..., ~stop], open_.signal.data[..., ~stop])
    assert CompositeParameters().beam_stop_mask is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"distortion": (0.9, 0.0)}, "'distortion'"),
        ({"distortion": (1.02,)}, "'distortion'"),
        ({"beam_stop": (0.0, 3.0, 0.0)}, "'beam_stop'"),
        ({"beam_stop": (5.0, -1.0, 0.0)}, "'beam_stop'"),
    ],
)
def test_detector_options_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        composite(nav_shape=(2, 2), detector_shape=(16, 16), **kwargs)


def test_detector_options_lazy_equals_eager():
    kw = dict(SMALL, distortion=(1.02, 75.0), beam_stop=(4, 2, 180.0), chunks=(4, 3))
    np.testing.assert_array_equal(composite(lazy=True, **kw).signal.data.compute(),
                                  composite(**kw).signal.data)


def test_gold_standard_rings_counts_and_options():
    from pyxem_epdf.data import gold_standard
    from pyxem_epdf.physics.calibration import corrected_radius, fcc_reflections

    au = gold_standard(noise=False, center=(60.4, 66.2), distortion=(1.02, 30.0))
    _, d, m = fcc_reflections(4.0782, 1 / au.d_spacings.min() + 1e-9)
    np.testing.assert_allclose(au.d_spacings, d)
    np.testing.assert_array_equal(au.multiplicities, m)
    assert 1 / d.min() > 0.04 * np.hypot(64, 64)    # every ring up to the detector corner
    assert au.center == (60.4, 66.2) and au.beam_stop_mask is None
    # expected counts: the requested total minus what falls off the detector
    total = au.signal.data.sum()
    assert 0.8 * 2e7 < total < 2e7
    # the 111 ring's azimuthal maximum in the corrected frame is at (1/d111)/s_scale
    r = corrected_radius((128, 128), au.center, au.matrix)
    band = (r > 8) & (r < 13)
    rb = np.round(r[band] * 10).astype(int)
    prof = np.bincount(rb, au.signal.data[band]) / np.maximum(np.bincount(rb), 1)
    r_peak = np.argmax(prof) / 10
    assert abs(r_peak - (1 / d[0]) / 0.04) < 0.15
    # ring 111 has the largest counts; the axes carry the true calibration and centre
    assert np.argmax(au.ring_counts) == 0
    ax = au.signal.axes_manager.signal_axes
    assert ax[0].scale == 0.04 and ax[0].offset == pytest.approx(-60.4 * 0.04)
    noisy = gold_standard(beam_stop=(6, 3, 90.0), seed=2)
    assert noisy.signal.data[noisy.beam_stop_mask].max() <= 2
    np.testing.assert_array_equal(noisy.signal.data,
                                  gold_standard(beam_stop=(6, 3, 90.0), seed=2).signal.data)
    with pytest.raises(ValueError, match="'ring_fraction'"):
        gold_standard(ring_fraction=0.9, beam_fraction=0.2)
    with pytest.raises(ValueError, match="'counts'"):
        gold_standard(counts=0)
