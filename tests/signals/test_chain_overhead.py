"""get_pdf's signal overhead (issue 13): maps built on first read, output built in one go.

The fit maps, the coefficient map and the navigator of an eager chain are kept
as recipes in a ``MapTree`` metadata node and become signals when read. These
tests check that every public way of reaching them gives the same signals as
before (attribute, item, ``get_item``, iteration, printing, deep copies, real
``.hspy``/``.zspy`` files), that each built map is independent (an in-place
``crop`` of one leaves the others alone), that nothing is built before it is
read, and that the output signal built in one go equals the step-by-step one.
"""

import copy
import multiprocessing

import hyperspy.api as hs
import numpy as np
import pytest
from hyperspy.misc.utils import DictionaryTreeBrowser

import pyxem_epdf as epdf
from pyxem_epdf.signals import PDF1DPlus, _base
from pyxem_epdf.signals.reduced_intensity import _coef_signal

from ..conftest import COMPOSITION

R = {"r_max": 8.0, "r_step": 0.02}
#: Maps every fit records (others may be added: the tests read the list from the node).
FIT_MAPS = ["C", "C_std", "N", "N_std", "finite", "outlier", "reduced_chi2", "valid", "z_N",
            "z_chi2"]


def maps_of(node):
    """Keys of the map signals (built or not) stored in a metadata node, sorted."""
    from hyperspy.signal import BaseSignal

    return sorted(k for k, v in node.recipes() if isinstance(v, (_base.MapRecipe, BaseSignal)))


def pdf_of(ri, **kw):
    return ri.get_pdf(COMPOSITION, (1.6, 2.5), b=0.2, s_min=0.18, **R, **kw)


@pytest.fixture
def pdf(ri_signal):
    return pdf_of(ri_signal((4, 5)))


def reference_map(template, key, node):
    """The map as nav_signals built it before maps were deferred."""
    value = _base.stored(node, key)
    assert isinstance(value, _base.MapRecipe)
    return _base.nav_signals(template, {key: (value.data.copy(), value.title)},
                             read_only=True)[key]


# ----------------------------------------------------------------- nothing built early
def test_maps_are_recipes_until_read(pdf):
    md = pdf.metadata
    fit = md.ePDF.fit
    assert isinstance(fit, _base.MapTree) and isinstance(fit, DictionaryTreeBrowser)
    maps = maps_of(fit)
    assert set(FIT_MAPS) <= set(maps) and fit.pending() == maps
    assert md.ePDF.polynomial.pending() == ["coefficients"]
    assert md._HyperSpy.pending() == ["navigator"]
    # presence and plain entries do not build anything
    assert fit.has_item("N") and md.has_item("ePDF.fit.z_chi2") and "valid" in fit
    assert md.has_item("_HyperSpy.navigator")
    assert fit.s_range == [1.6, 2.5] and fit.N_fixed is False and len(fit) > len(maps)
    assert md.get_item("_HyperSpy.Folding.unfolded") is False  # child node of a MapTree
    assert fit.pending() == maps and md._HyperSpy.pending() == ["navigator"]
    # reading one map builds that one only
    n = fit.N
    assert type(n) is hs.signals.Signal2D and n is fit["N"] is md.get_item("ePDF.fit.N")
    assert fit.pending() == [k for k in maps if k != "N"]
    assert pdf.navigator is n and md._HyperSpy.pending() == []


def test_built_maps_equal_the_eager_construction(pdf):
    fit = pdf.metadata.ePDF.fit
    refs = {key: reference_map(pdf, key, fit) for key in maps_of(fit)}
    for key, ref in refs.items():
        sig = fit[key]
        assert type(sig) is type(ref), key
        assert sig.axes_manager._get_axes_dicts() == ref.axes_manager._get_axes_dicts(), key
        assert sig.metadata.as_dictionary() == ref.metadata.as_dictionary(), key
        np.testing.assert_array_equal(sig.data, ref.data, err_msg=key)
        assert sig.data.dtype == ref.data.dtype and not sig.data.flags.writeable, key
    coefs = pdf.metadata.ePDF.polynomial.coefficients
    ref = _coef_signal(pdf, np.asarray(coefs.data))
    assert type(coefs) is type(ref)
    assert coefs.axes_manager._get_axes_dicts() == ref.axes_manager._get_axes_dicts()
    assert coefs.metadata.as_dictionary() == ref.metadata.as_dictionary()
    assert not coefs.data.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        fit.N.data[0, 0] = -1.0


def test_crop_of_one_map_leaves_the_others(pdf):
    fit = pdf.metadata.ePDF.fit
    n, c = fit.N, fit.C
    n.crop(0, 1, 3)
    assert n.data.shape == (4, 2)
    assert c.data.shape == (4, 5) and c.axes_manager.signal_shape == (5, 4)
    assert fit.valid.data.shape == (4, 5)  # built after the crop: untouched too
    assert pdf.metadata.ePDF.polynomial.coefficients.data.shape == (4, 5, 3)
    assert pdf.axes_manager.navigation_shape == (5, 4)


def test_iteration_printing_search_and_copies_see_signals(ri_signal):
    for reader in (lambda f: dict(iter(f)),
                   lambda f: repr(f),
                   lambda f: f._repr_html_(),
                   lambda f: f.get_item("N", full_path=False),
                   lambda f: f.as_dictionary(),
                   lambda f: copy.deepcopy(f),
                   lambda f: f.copy()):
        pdf = pdf_of(ri_signal((4, 5)))
        fit = pdf.metadata.ePDF.fit
        assert fit.pending()
        out = reader(fit)
        assert fit.pending() == [], reader
        if isinstance(out, dict) and "N" in out:
            assert out["N"] is fit.N
        if isinstance(out, DictionaryTreeBrowser):  # copies are plain trees of signals
            assert type(out) is DictionaryTreeBrowser
            assert isinstance(out.N, hs.signals.Signal2D)
    pdf = pdf_of(ri_signal((4, 5)))
    assert "N = <Signal2D, title: N" in repr(pdf.metadata)
    deep = pdf.deepcopy()
    assert isinstance(deep.metadata.ePDF.fit.N, hs.signals.Signal2D)
    assert deep.metadata.ePDF.fit.N is not pdf.metadata.ePDF.fit.N
    np.testing.assert_array_equal(deep.navigator.data, pdf.metadata.ePDF.fit.N.data)


def test_later_steps_share_the_recipes(ri_signal):
    ri = ri_signal((4, 5))
    phi = ri.fit_scattering(COMPOSITION, (1.6, 2.5))
    poly = phi.polynomial_correct()
    maps = maps_of(phi.metadata.ePDF.fit)
    assert phi.metadata.ePDF.fit.pending() == poly.metadata.ePDF.fit.pending() == maps
    assert poly.metadata.ePDF.fit.N is phi.metadata.ePDF.fit.N  # read later first
    pdf = pdf_of(ri)
    later = pdf.normalize_first_peak(r_range=(1.2, 2.0))
    assert later.metadata.ePDF.fit.valid is pdf.metadata.ePDF.fit.valid


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_file_round_trip(pdf, tmp_path, ext):
    fit = pdf.metadata.ePDF.fit
    maps = maps_of(fit)
    assert fit.pending() == maps
    path = tmp_path / f"pdf.{ext}"
    pdf.save(path)
    back = hs.load(path)
    assert isinstance(back, PDF1DPlus)
    np.testing.assert_array_equal(back.data, pdf.data)
    for key in maps:
        np.testing.assert_array_equal(back.metadata.ePDF.fit[key].data, fit[key].data,
                                      err_msg=key)
    np.testing.assert_array_equal(back.metadata.ePDF.polynomial.coefficients.data,
                                  pdf.metadata.ePDF.polynomial.coefficients.data)
    np.testing.assert_array_equal(back.navigator.data, fit.N.data)
    assert back.metadata.ePDF.fit.s_range == [1.6, 2.5]
    assert [s["method"] for s in back.metadata.ePDF.history.as_dictionary().values()] == [
        s["method"] for s in pdf.metadata.ePDF.history.as_dictionary().values()]


def test_lazy_in_lazy_out_maps_stay_lazy_signals(ri_signal):
    lazy = pdf_of(ri_signal((4, 5), lazy=True))
    fit = lazy.metadata.ePDF.fit
    assert lazy._lazy
    for key, value in fit.recipes():  # dask maps are built at once; only NumPy ones wait
        if isinstance(value, _base.MapRecipe):
            assert isinstance(value.data, np.ndarray), key
    assert not {"N", "C", "reduced_chi2"} & set(fit.pending())
    assert all(fit[k]._lazy for k in ("N", "C", "reduced_chi2"))
    eager = pdf_of(ri_signal((4, 5)))
    lazy.compute(show_progressbar=False)
    assert not fit.N._lazy
    np.testing.assert_array_equal(lazy.data, eager.data)
    for key in maps_of(fit):
        np.testing.assert_array_equal(fit[key].data, eager.metadata.ePDF.fit[key].data)


@pytest.mark.parametrize("nav_shape", [(), (6,), (2, 3), (2, 2, 2)])
def test_navigation_shapes(ri_signal, nav_shape):
    if len(nav_shape) == 3:  # the fixture names two navigation axes at most
        flat = ri_signal((8,))
        sig = hs.signals.Signal1D(flat.data.reshape(nav_shape + flat.data.shape[-1:]))
        sig.axes_manager.signal_axes[0].update_from(
            flat.axes_manager.signal_axes[0], attributes=("scale", "offset", "units", "name"))
        ri = epdf.from_profile(sig)
    else:
        ri = ri_signal(nav_shape)
    pdf = pdf_of(ri)
    fit = pdf.metadata.ePDF.fit
    for key in FIT_MAPS:
        assert np.shape(fit[key].data) == (nav_shape or (1,)), key
    assert pdf.metadata.ePDF.polynomial.coefficients.data.shape == nav_shape + (3,)
    if len(nav_shape) in (1, 2):
        assert pdf.navigator is fit.N
    else:
        assert pdf.navigator is None


# -------------------------------------------------------------- output in one go
def test_new_signal_as_equals_step_by_step(ri_signal):
    ri = ri_signal((4, 5))
    variance = ri.deepcopy()
    ri.metadata.set_item("Signal.Noise_properties.variance", variance)
    nav = hs.signals.Signal2D(np.ones((4, 5)))
    ri.navigator = nav
    ri.original_metadata.set_item("a.b", [1, 2])
    before = ri.metadata.as_dictionary()
    data = np.arange(4 * 5 * 7, dtype=float).reshape(4, 5, 7)
    axis = {"name": "r", "units": "Å", "offset": 0.5, "scale": 0.25, "size": 7}
    fast = _base.new_signal_as(ri, data, axis, "epdf_pdf")
    slow = _base.new_signal(ri, data)
    slow.get_dimensions_from_data()
    slow._assign_subclass()
    _base.set_signal_axis(slow, **axis)
    slow.set_signal_type("epdf_pdf")
    assert type(fast) is type(slow) is PDF1DPlus
    assert fast.axes_manager._get_axes_dicts() == slow.axes_manager._get_axes_dicts()
    assert fast.metadata.as_dictionary() == slow.metadata.as_dictionary()
    assert fast.original_metadata.as_dictionary() == slow.original_metadata.as_dictionary()
    assert fast.data is data and fast.navigator is None
    assert not fast.metadata.has_item("Signal.Noise_properties")
    # the input keeps its variance, navigator and metadata
    assert ri.metadata.Signal.Noise_properties.variance is variance and ri.navigator is nav
    assert ri.metadata.as_dictionary().keys() == before.keys()
    # lazy data take the step-by-step route, same result
    import dask.array as da

    lazy = _base.new_signal_as(ri, da.from_array(data, chunks=(2, 5, 7)), axis, "epdf_pdf")
    assert type(lazy).__name__ == "LazyPDF1DPlus"
    assert lazy.axes_manager._get_axes_dicts() == slow.axes_manager._get_axes_dicts()


def test_finish_refuses_signal_axis_in_place(ri_signal):
    ri = ri_signal((2, 3))
    with pytest.raises(ValueError, match="'signal_axis' needs inplace=False"):
        _base.finish(ri, ri.data, inplace=True, lazy=False, title="t", method="m",
                     parameters={}, signal_axis={"name": "r"}, signal_type="epdf_pdf")


def test_record_steps_numbering_and_values(ri_signal):
    ri = ri_signal((2, 3))
    params = {"c": {"Si": 0.5}, "t": (1, 2), "n": None, "g": np.float64(2.0)}
    _base.record_steps(ri, [("first", params), ("second", {})])
    params["c"]["Si"] = 9.0  # the record does not follow later changes of its input
    _base.record(ri, "third", {"x": 1})
    steps = ri.metadata.ePDF.history.as_dictionary()
    assert [s["method"] for s in steps.values()][-3:] == ["first", "second", "third"]
    assert list(steps)[-3:] == [f"step_{i:02d}" for i in range(1, 4)]
    assert steps["step_01"]["parameters"] == {"c": {"Si": 0.5}, "t": [1, 2], "n": "None",
                                              "g": 2.0}


# ---------------------------------------------------------------- product threads
def _tiled_profile():
    """The example profile on a 24 × 24 scan (576 patterns: the product runs in threads)."""
    ri = epdf.data.example_profile()
    data = np.broadcast_to(ri.data, (24, 24, ri.data.shape[-1])).copy()
    sig = hs.signals.Signal1D(data)
    sig.axes_manager.signal_axes[0].update_from(ri.axes_manager.signal_axes[0],
                                                attributes=("scale", "offset", "units", "name"))
    return epdf.from_profile(sig)


def _child(queue):
    queue.put(float(np.abs(pdf_of(_tiled_profile()).data).sum()))


def test_product_pool_survives_fork(ri_signal):
    """The product's thread pool is made again in a forked child (no hang)."""
    from pyxem_epdf.physics import chain

    parent = float(np.abs(pdf_of(_tiled_profile()).data).sum())  # 576 patterns: threads
    assert chain._POOL.get("pool") is not None
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue,))
    proc.start()
    proc.join(60)
    alive = proc.is_alive()
    if alive:
        proc.kill()
    assert not alive, "get_pdf hung in a forked child"
    assert proc.exitcode == 0
    assert queue.get(timeout=5) == parent


@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_sigmask"), reason="POSIX only")
def test_product_workers_leave_interrupts_to_the_main_thread():
    import signal

    from pyxem_epdf.physics import chain

    masks = [f.result() for f in [chain._pool(2).submit(signal.pthread_sigmask,
                                                         signal.SIG_BLOCK, []) for _ in range(4)]]
    assert all({signal.SIGINT, signal.SIGTERM} <= set(m) for m in masks)
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
