"""get_pdf's calling-thread shortcuts (issue 13) change no result.

The whole exported signal (``_to_dictionary``: data, axes, every metadata leaf
with the maps' data, the history, original metadata) is compared: between a
first call (nothing cached) and a repeated one, between the threaded eager
path and the one-pass compute of a lazy input, and against the step-by-step
chain (exact everywhere except G and the coefficients, which the folded
operator rounds differently). The helpers the shortcuts use are checked
against the HyperSpy calls they replace on real metadata trees.
"""

import copy
import warnings

import hyperspy.api as hs
import numpy as np
import pytest
from hyperspy.misc.utils import DictionaryTreeBrowser

import pyxem_epdf as epdf
from pyxem_epdf.physics import chain, scattering
from pyxem_epdf.signals import _base

from ..conftest import COMPOSITION

COMP = "ZnC4H6N2"
KW = {"b": 0.8, "s_min": 0.18, "r_max": 8.0, "r_step": 0.02}


@pytest.fixture(scope="module")
def scan():
    """An integrated 24 × 24 scan (576 patterns: the product runs in two threads),
    with the integration's metadata (valid-pixel counts, edges, a map signal)."""
    synth = epdf.data.two_phase_composite(nav_shape=(24, 24), detector_shape=(48, 48),
                                          s_scale=0.11, dose=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return epdf.azimuthal_profile(synth.signal, subpixel=1)


def exported(sig):
    """Everything a signal holds, as nested plain values (arrays as (dtype, shape, bytes))."""

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(plain(v) for v in value)
        if hasattr(value, "dask"):
            value = np.asarray(value.compute())
        if isinstance(value, np.ndarray):
            return ("array", value.dtype.str, value.shape, value.tobytes())
        return value

    out = plain(sig._to_dictionary(add_models=True))
    out["class"] = type(sig).__name__
    out["navigator"] = None if sig.navigator is None else plain(sig.navigator._to_dictionary())
    return out


def quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few counts in the fit window
        return fn(*args, **kw)


CASES = {
    "default": {},
    "lorch, float32, no polynomial": {"lorch": True, "polynomial": False, "dtype": "float32"},
    "free fit, Poisson weights": {"c_pool": 1, "weights": "poisson"},
    "fixed N": {"N": 2.0},
}


@pytest.mark.parametrize("case", list(CASES))
def test_repeated_call_is_bit_identical_to_a_first_one(scan, case):
    """Cached scattering factors and chain operator give the values a first call gives."""
    scattering._FACTORS.clear()
    chain._OPERATORS.clear()
    first = exported(quiet(scan.get_pdf, COMP, (1.6, 2.5), **KW, **CASES[case]))
    assert scattering._FACTORS and chain._OPERATORS
    again = exported(quiet(scan.get_pdf, COMP, (1.6, 2.5), **KW, **CASES[case]))
    assert again == first


def test_threaded_eager_equals_one_pass_lazy_compute(scan):
    eager = exported(quiet(scan.get_pdf, COMP, (1.6, 2.5), **KW))
    lazy = exported(quiet(scan.as_lazy().get_pdf, COMP, (1.6, 2.5), lazy_output=False, **KW))
    assert lazy == eager


def _drop_arrays(d, paths):
    """``d`` with the arrays at ``paths`` (tuples of keys) taken out (returned too)."""
    d = copy.deepcopy(d)
    taken = []
    for path in paths:
        node = d
        for key in path[:-1]:
            node = node[key]
        taken.append(node.pop(path[-1]))
    return d, taken


@pytest.mark.parametrize("nav_shape", [(24, 30), (700,)])
def test_export_equals_the_step_by_step_chain(ri_signal, nav_shape):
    ri = ri_signal(nav_shape)
    fused = ri.get_pdf(COMPOSITION, (1.5, 2.8), **KW)
    steps = (ri.fit_scattering(COMPOSITION, (1.5, 2.8))
             .polynomial_correct(s_range=(KW["s_min"], float(fused.metadata.ePDF.s_max)))
             .damp_exponential(KW["b"]).extrapolate_low_s(KW["s_min"])
             .to_pdf(r_max=KW["r_max"], r_step=KW["r_step"]))
    coef = ("metadata", "ePDF", "polynomial", "_sig_coefficients", "data")
    a, (g_a, c_a) = _drop_arrays(exported(fused), [("data",), coef])
    b, (g_b, c_b) = _drop_arrays(exported(steps), [("data",), coef])
    assert a == b  # axes, class, titles, history, every map, navigator: exactly
    for x, y in ((g_a, g_b), (c_a, c_b)):
        assert x[:3] == y[:3]
        x, y = (np.frombuffer(v[3], dtype=v[1]) for v in (x, y))
        np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12 * np.abs(y).max())


def test_the_input_is_left_as_it_was(scan):
    before = exported(scan)
    quiet(scan.get_pdf, COMP, (1.6, 2.5), **KW)
    assert exported(scan) == before


def test_warnings_point_at_the_caller(ri_signal):
    bad = ri_signal((4, 5))
    bad.data[1, 2] = np.nan  # a non-finite pattern: _warn_invalid
    with pytest.warns(UserWarning, match="NaN or inf") as record:
        bad.get_pdf(COMPOSITION, (1.5, 2.8), **KW)
    assert {w.filename for w in record} == {__file__}


def test_window_count_warning_points_at_the_caller(scan):
    with pytest.warns(UserWarning, match="counts in s_range") as record:
        scan.get_pdf(COMP, (1.6, 2.5), min_window_counts=1e12, **KW)
    assert __file__ in {w.filename for w in record}


# ----------------------------------------------------------------- background φ
def test_coefficients_complete_after_ready(scan):
    s = _base.s_axis_values(scan)
    f2, fsq = scattering.mean_scattering(COMPOSITION, s)
    op = chain.chain_operator(s, np.arange(0, 8, 0.02), s_min=0.18)
    data = np.asarray(scan.data)
    N, C = np.full(data.shape[:-1], 2.0), np.zeros(data.shape[:-1])
    G, coefs = chain.intensity_to_pdf(data, s, N, C, f2, fsq, op)
    pending = chain.start_intensity_to_pdf(data, s, N, C, f2, fsq, op, threads=2)
    try:
        pending.ready()
        np.testing.assert_array_equal(pending.coefficients, coefs)
    finally:
        pending.wait()
    np.testing.assert_array_equal(pending.G, G)


# ------------------------------------------------------------------ the helpers
def test_lookup_equals_get_item(scan):
    pdf = quiet(scan.get_pdf, COMP, (1.6, 2.5), **KW)
    paths = ["ePDF.integration.n_valid", "ePDF.integration.edges", "ePDF.stage",
             "ePDF.fit.s_range", "ePDF.history.step_00.method", "General.title",
             "ePDF.missing", "ePDF.stage.deeper", "nothing.at.all", "ePDF.fit.N",
             "_HyperSpy.navigator"]
    for sig in (scan, pdf):
        for path in paths:
            got = _base.lookup(sig.metadata, path, "default")
            ref = sig.metadata.get_item(path, "default")
            assert got is ref or got == ref, path


def test_plain_export_equals_hyperspys(scan):
    pdf = quiet(scan.get_pdf, COMP, (1.6, 2.5), **KW)
    for sig in (scan, pdf):
        md = sig.metadata
        ref = copy.deepcopy(md.as_dictionary())
        for key in ("ePDF",):
            ref.pop(key, None)
        ref.get("_HyperSpy", {}).pop("_sig_navigator", None)
        ref.get("Signal", {}).pop("Noise_properties", None)
        assert _base._plain_dict(md, _base._NOT_COPIED) == ref
    # a signal outside ePDF: HyperSpy's own export is used (and gives the same signal)
    sig = scan.deepcopy()
    sig.metadata.set_item("General.thumbnail", hs.signals.Signal1D(np.arange(3.0)))
    assert _base._plain_dict(sig.metadata, _base._NOT_COPIED) is None
    out = quiet(sig.get_pdf, COMP, (1.6, 2.5), **KW)
    np.testing.assert_array_equal(out.metadata.General.thumbnail.data, np.arange(3.0))
    assert out.metadata.General.thumbnail is not sig.metadata.General.thumbnail


def test_copied_equals_deepcopy():
    value = {"a": [1.0, (2, "x"), [None, True]], "b": {"c": np.float64(2.0)},
             "d": np.arange(3), "e": (1, [2])}
    out = _base._copied(value)
    assert out.keys() == value.keys() and out["a"] == value["a"]
    assert out["a"] is not value["a"] and out["a"][2] is not value["a"][2]
    assert out["d"] is not value["d"] and np.array_equal(out["d"], value["d"])
    assert out["e"] is not value["e"] and out["e"][1] is not value["e"][1]
    value["a"][2].append(1)
    assert out["a"][2] == [None, True]


def test_map_tree_entries_as_hyperspy_sets_them():
    tree = _base.map_tree([("a b", 1), ("c", {"d": 2}), ("e", [1, 2])])
    ref = DictionaryTreeBrowser(lazy=False)
    for key, value in (("a b", 1), ("c", {"d": 2}), ("e", [1, 2])):
        ref._setattr(key, value)
    assert tree.as_dictionary() == ref.as_dictionary()
    assert list(vars(tree)) == list(vars(ref))
    assert tree.a_b == 1 and tree.c.d == 2


def test_scattering_factors_cache_returns_fresh_copies_of_the_same_layout():
    s = np.linspace(0.0, 2.5, 40)
    scattering._FACTORS.clear()
    first = scattering.scattering_factors(["Si", "O"], s)
    first[:] = -1.0  # the caller's copy: the cache is unaffected
    again = scattering.scattering_factors(["Si", "O"], s)
    scattering._FACTORS.clear()
    fresh = scattering.scattering_factors(["Si", "O"], s)
    np.testing.assert_array_equal(again, fresh)
    assert again.flags.f_contiguous == fresh.flags.f_contiguous
    assert again.flags.c_contiguous == fresh.flags.c_contiguous
    with pytest.raises(ValueError, match="'s' must be finite"):
        scattering.scattering_factors(["Si", "O"], np.r_[s[:-1], np.nan])
    with pytest.raises(ValueError, match="table"):
        scattering.scattering_factors(["Si", "O"], s, table="nope")
    with pytest.raises(ValueError):
        scattering.scattering_factors(["Xx"], s)
