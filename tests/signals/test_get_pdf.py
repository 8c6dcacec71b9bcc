"""get_pdf: the fused chain equals the step-by-step chain (data, maps, history)."""

import dask.array as da
import numpy as np
import pytest
from hyperspy.signal import BaseSignal

import pyxem_epdf as epdf
from pyxem_epdf.signals import LazyPDF1DPlus, PDF1DPlus

from ..conftest import COMPOSITION, ComputeCounter

R = {"r_max": 8.0, "r_step": 0.02}


def stepwise(ri, composition, s_range, *, b, s_min, lorch=False, polynomial=True, s_max=None,
             polynomial_range=None, dtype="float64", **fit_kw):
    out = ri.fit_scattering(composition, s_range, **fit_kw)
    if polynomial:
        if polynomial_range is None:  # get_pdf's default window: (s_min, s_max)
            last = float(ri.axes_manager.signal_axes[0].axis[-1])
            polynomial_range = (s_min, last if s_max is None else s_max)
        out = out.polynomial_correct(s_max=s_max, s_range=polynomial_range)
    out = out.damp_exponential(b)
    if lorch:
        out = out.damp_lorch()
    return out.extrapolate_low_s(s_min).to_pdf(dtype=dtype, **R)


def leaves(tree, prefix=""):
    """Flat {path: value} of a metadata tree; signals by their data."""
    out = {}
    for key, value in tree:
        path = f"{prefix}{key}"
        if isinstance(value, BaseSignal):
            data = value.data
            out[path] = np.asarray(data.compute() if hasattr(data, "compute") else data)
        elif hasattr(value, "_get_items") or type(value).__name__ == "DictionaryTreeBrowser":
            out.update(leaves(value, path + "."))
        else:
            out[path] = value
    return out


def assert_same(fused, steps, rtol=1e-9):
    assert type(fused) is type(steps)
    scale = np.abs(np.asarray(steps.data)).max()
    np.testing.assert_allclose(np.asarray(fused.data), np.asarray(steps.data),
                               rtol=0, atol=rtol * scale)
    assert fused.data.dtype == steps.data.dtype
    assert fused.metadata.General.title == steps.metadata.General.title
    a, b = leaves(fused.metadata.ePDF), leaves(steps.metadata.ePDF)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(b[key], np.ndarray) and b[key].dtype.kind == "f":
            np.testing.assert_allclose(a[key], b[key], rtol=1e-9, atol=1e-12, err_msg=key)
        elif isinstance(b[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        else:
            assert a[key] == b[key], key
    assert fused.metadata.ePDF.fit.elements == steps.metadata.ePDF.fit.elements
    ra, rb = fused.axes_manager.signal_axes[0], steps.axes_manager.signal_axes[0]
    assert (ra.name, ra.units, ra.offset, ra.scale, ra.size) == (
        rb.name, rb.units, rb.offset, rb.scale, rb.size)
    for na, nb in zip(fused.axes_manager.navigation_axes, steps.axes_manager.navigation_axes,
                      strict=True):
        assert (na.name, na.units, na.scale, na.offset) == (nb.name, nb.units, nb.scale, nb.offset)


OPTIONS = [
    {"b": 0.2, "s_min": 0.18},
    {"b": 0.5, "s_min": 0.18, "lorch": True},
    {"b": 0.0, "s_min": 0.3, "polynomial": False},
    {"b": 0.8, "s_min": 0.2, "s_max": 2.5, "polynomial_range": (0.3, 2.4)},
    {"b": 0.2, "s_min": 0.18, "fix_c": True, "weights": "poisson", "table": "xtables"},
]


@pytest.mark.parametrize("options", OPTIONS)
def test_fused_equals_stepwise(ri_signal, options):
    ri = ri_signal((2, 3))
    before = ri.data.copy()
    fused = ri.get_pdf(COMPOSITION, (1.6, 2.5), **options, **R)
    assert isinstance(fused, PDF1DPlus)
    assert_same(fused, stepwise(ri, COMPOSITION, (1.6, 2.5), **options))
    np.testing.assert_array_equal(ri.data, before)  # input untouched
    assert ri.metadata.ePDF.stage == "intensity"


def test_float32_and_composition_maps(ri_signal):
    ri = ri_signal((2, 3))
    maps = {"Si": np.linspace(0.3, 0.36, 6).reshape(2, 3)}
    maps["O"] = 1 - maps["Si"]
    kw = {"b": 0.6, "s_min": 0.18, "dtype": "float32"}
    assert_same(ri.get_pdf(maps, (1.6, 2.5), **kw, **R),
                stepwise(ri, maps, (1.6, 2.5), **kw), rtol=1e-5)


@pytest.mark.parametrize("nav_shape", [(), (3,), (2, 3)])
def test_lazy_in_lazy_out_equals_eager(ri_signal, nav_shape):
    eager = ri_signal(nav_shape).get_pdf(COMPOSITION, (1.6, 2.5), b=0.3, s_min=0.18, **R)
    lazy_ri = ri_signal(nav_shape, lazy=True)
    with ComputeCounter() as counter:
        lazy = lazy_ri.get_pdf(COMPOSITION, (1.6, 2.5), b=0.3, s_min=0.18, **R)
    assert counter.runs == 0
    assert isinstance(lazy, LazyPDF1DPlus) and isinstance(lazy.data, da.Array)
    assert isinstance(lazy.metadata.ePDF.fit.N.data, da.Array)
    assert isinstance(lazy.metadata.ePDF.polynomial.coefficients.data, da.Array)
    lazy.compute()
    assert_same(lazy, eager)


def test_lazy_input_eager_output_is_one_pass(ri_signal):
    ri = ri_signal((4, 3), lazy=True)
    with ComputeCounter() as counter:
        pdf = ri.get_pdf(COMPOSITION, (1.6, 2.5), b=0.3, s_min=0.18, lazy_output=False, **R)
    assert counter.runs == 1
    assert isinstance(pdf, PDF1DPlus) and isinstance(pdf.data, np.ndarray)
    for key in ("N", "C", "valid"):
        assert isinstance(pdf.metadata.ePDF.fit[key].data, np.ndarray)
    assert isinstance(pdf.metadata.ePDF.polynomial.coefficients.data, np.ndarray)
    assert_same(pdf, ri_signal((4, 3)).get_pdf(COMPOSITION, (1.6, 2.5), b=0.3, s_min=0.18, **R))


def test_profile_from_our_integration():
    """Window counts, Poisson weights from the valid-pixel counts, the vacuum warning."""
    synth = epdf.data.two_phase_composite(nav_shape=(6, 5), seed=3)
    ri = epdf.azimuthal_profile(synth.signal, npt=60, s_max=2.4)
    composition = {el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)}
    kw = {"b": 0.8, "s_min": 0.2, "weights": "poisson", "min_window_counts": 1e9}
    with pytest.warns(UserWarning, match="counts in s_range"):
        fused = ri.get_pdf(composition, (1.5, 2.3), **kw, **R)
    with pytest.warns(UserWarning, match="counts in s_range"):
        steps = stepwise(ri, composition, (1.5, 2.3), **kw)
    assert fused.metadata.has_item("ePDF.fit.window_counts")
    assert_same(fused, steps)


def test_vacuum_pattern(ri_signal):
    ri = ri_signal((3,))
    ri.data[1] = 0.0
    with pytest.warns(UserWarning, match="1 of 3 patterns have no counts at all"):
        pdf = ri.get_pdf(COMPOSITION, (1.6, 2.5), b=0.5, s_min=0.18, **R)
    assert np.all(pdf.data[1] == 0) and np.all(np.isfinite(pdf.data))


def test_errors(ri_signal):
    ri = ri_signal((2,))
    kw = {"b": 0.5, "s_min": 0.18}
    with pytest.raises(ValueError, match="need polynomial=True"):
        ri.get_pdf(COMPOSITION, (1.6, 2.5), polynomial=False, s_max=2.0, **kw)
    with pytest.raises(ValueError, match="'dtype' must be"):
        ri.get_pdf(COMPOSITION, (1.6, 2.5), dtype="complex", **kw)
    with pytest.raises(ValueError, match="'b' must be"):
        ri.get_pdf(COMPOSITION, (1.6, 2.5), b=-1, s_min=0.18)
    with pytest.raises(ValueError, match="'s_min' = .* must lie below the fit window"):
        ri.get_pdf(COMPOSITION, (1.6, 2.5), b=0.5, s_min=3.5)
    with pytest.raises(ValueError, match="'r_step' must be > 0"):
        ri.get_pdf(COMPOSITION, (1.6, 2.5), r_step=0, **kw)
    with pytest.raises(ValueError, match="needs I"):
        ri.fit_scattering(COMPOSITION, (1.6, 2.5)).get_pdf(COMPOSITION, (1.6, 2.5), **kw)


def test_eager_profile_with_lazy_variance(ri_signal):
    """Eager I(s) whose variance is still lazy (e.g. from a lazy integration): eager result."""
    ri = ri_signal((3, 2))
    ri.estimate_poissonian_noise_variance()
    variance = ri.metadata.Signal.Noise_properties.variance
    ri.metadata.Signal.Noise_properties.variance = variance.as_lazy()
    kw = {"b": 0.4, "s_min": 0.18, "weights": "variance"}
    fused = ri.get_pdf(COMPOSITION, (1.6, 2.5), **kw, **R)
    assert isinstance(fused.data, np.ndarray)
    assert_same(fused, stepwise(ri, COMPOSITION, (1.6, 2.5), **kw))
