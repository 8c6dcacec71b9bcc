"""get_pdf's bookkeeping shortcuts change nothing: maps, GC state, one-pass compute into place."""

import gc
import tracemalloc

import dask
import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.signals import _base

from ..conftest import COMPOSITION

KW = {"b": 0.3, "s_min": 0.18, "r_max": 8.0, "r_step": 0.02}


def axes(sig):
    return sig.axes_manager._get_axes_dicts()


@pytest.mark.parametrize("nav_shape", [(24, 30), (700,)])
def test_maps_as_the_step_by_step_chain_builds_them(ri_signal, nav_shape):
    """≥ 512 patterns: the product runs in two threads while the maps are built."""
    ri = ri_signal(nav_shape)
    fused = ri.get_pdf(COMPOSITION, (1.5, 2.8), **KW)
    ref = ri.fit_scattering(COMPOSITION, (1.5, 2.8))
    keys = [k for k, v in ref.metadata.ePDF.fit if hasattr(v, "axes_manager")]
    assert len(keys) >= 10
    for key in keys:
        a, b = fused.metadata.ePDF.fit[key], ref.metadata.ePDF.fit[key]
        assert type(a) is type(b), key
        assert axes(a) == axes(b), key
        assert a.metadata.General.title == b.metadata.General.title, key
        np.testing.assert_array_equal(a.data, b.data, err_msg=key)
        assert not a.data.flags.writeable, key
    coef = fused.metadata.ePDF.polynomial.coefficients
    assert coef.data.shape == nav_shape + (3,) and not coef.data.flags.writeable


def test_lazy_maps_are_lazy_signals_of_the_same_class(ri_signal):
    ri = ri_signal((4, 5), lazy=True)
    fused = ri.get_pdf(COMPOSITION, (1.5, 2.8), **KW)
    ref = ri.fit_scattering(COMPOSITION, (1.5, 2.8))
    for key in ("N", "valid", "z_chi2"):
        a, b = fused.metadata.ePDF.fit[key], ref.metadata.ePDF.fit[key]
        assert a._lazy and type(a) is type(b) and axes(a) == axes(b)
        np.testing.assert_array_equal(a.data.compute(), b.data.compute())


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collector_left_as_found(ri_signal, enabled):
    ri = ri_signal((3, 4))
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        ri.get_pdf(COMPOSITION, (1.5, 2.8), **KW)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_nav_signals_checks_the_shape(ri_signal):
    with pytest.raises(ValueError, match="map 'N' has shape"):
        _base.nav_signals(ri_signal((3, 4)), {"N": (np.zeros((4, 3)), "N")})


def test_compute_into_place_equals_dask_compute_without_the_second_copy():
    rng = np.random.default_rng(0)
    x = da.from_array(rng.normal(size=(16, 1000, 125)), chunks=(1, 1000, 125))  # 16 MB
    y = (x * 2 + 1).sum(axis=-1)
    with dask.config.set(scheduler="threads"):
        ref = dask.compute(x * 3, y)
        tracemalloc.start()
        try:
            got = _base.compute(x * 3, y, show_progressbar=False)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    for a, b in zip(got, ref, strict=True):
        assert type(a) is np.ndarray and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    # dask.compute holds every block and then their concatenation (2 × 16 MB);
    # blocks written into place: the result plus blocks in flight
    assert peak < 1.5 * x.nbytes
    single = _base.compute(x[0, 0, :3], show_progressbar=False)  # one array: not a tuple
    np.testing.assert_array_equal(single, np.asarray(x[0, 0, :3]))
