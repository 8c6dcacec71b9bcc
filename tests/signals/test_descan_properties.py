"""Property tests of the ``Descan`` result of ``epdf.signals.descan`` on small random scans:
it is the tuple (measured, plane, residual) whichever way and order it is read, the plane
``azimuthal_profile`` reads from the unbuilt result is the plane signal, and the scan is
never changed."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import pyxem_epdf as epdf

SETTINGS = settings(max_examples=12, deadline=None)
FIELDS = ("measured", "plane", "residual")

scans = st.fixed_dictionaries({
    "nav_shape": st.tuples(st.integers(1, 5), st.integers(2, 5)).filter(lambda s: s[0] * s[1] >= 3),
    "descan": st.tuples(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0)),
    "seed": st.integers(0, 2**16),
})


def scan(params, lazy=False):
    dp = epdf.data.two_phase_composite(detector_shape=(32, 32), lazy=lazy, **params).signal
    return dp


def data(sig):
    return np.asarray(sig.data.compute() if sig._lazy else sig.data)


@SETTINGS
@given(params=scans, order=st.permutations(["attr", "index", "iter", "unpack", "slice"]))
def test_every_way_of_reading_gives_the_same_three_signals(params, order):
    dp = scan(params)
    before = dp.data.copy()
    reference = tuple(epdf.signals.descan(dp))  # read in order, fresh result
    res = epdf.signals.descan(dp)
    assert len(res) == 3
    first = None
    for way in order:  # each way may be the one that builds the signals
        if way == "attr":
            got = tuple(getattr(res, name) for name in FIELDS)
        elif way == "index":
            got = (res[0], res[1], res[-1])
        elif way == "iter":
            got = tuple(iter(res))
        elif way == "unpack":
            measured, plane, residual = res
            got = (measured, plane, residual)
        else:
            got = res[:]
        assert len(got) == 3
        first = got if first is None else first
        assert all(a is b for a, b in zip(got, first, strict=True))  # built once, then kept
    assert res._asdict() == dict(zip(FIELDS, first, strict=True))
    for a, b in zip(first, reference, strict=True):
        assert type(a) is type(b)
        np.testing.assert_array_equal(data(a), data(b))
        assert a.axes_manager._get_axes_dicts() == b.axes_manager._get_axes_dicts()
        assert a.metadata.General.title == b.metadata.General.title
    assert [s.metadata.General.title for s in first] == \
        ["measured beam shift", "descan plane", "descan residual (px)"]
    nav = tuple(params["nav_shape"])
    assert data(first[0]).shape == data(first[1]).shape == nav + (2,)
    assert data(first[2]).shape == nav
    np.testing.assert_array_equal(dp.data, before)


@SETTINGS
@given(params=scans, lazy=st.booleans())
def test_profile_reads_the_plane_of_the_unbuilt_result(params, lazy):
    dp = scan(params, lazy=lazy)
    before = data(dp).copy()
    res = epdf.signals.descan(dp)
    kw = {"npt": 16, "s_max": 0.8}
    direct = epdf.azimuthal_profile(dp, beam_shift=res, **kw)
    assert res._signals == {}  # nothing built on that route
    via_plane = epdf.azimuthal_profile(dp, beam_shift=res.plane, **kw)
    assert data(direct).tobytes() == data(via_plane).tobytes()
    # the plane is a plane: second differences along each scan axis vanish
    p = data(res.plane)
    for ax in (0, 1):
        if p.shape[ax] > 2:
            np.testing.assert_allclose(np.diff(p, 2, axis=ax), 0.0, atol=1e-9)
    np.testing.assert_array_equal(data(dp), before)
    assert dp._lazy == lazy


@SETTINGS
@given(params=scans)
def test_lazy_and_eager_results_agree(params):
    eager = epdf.signals.descan(scan(params))
    lazy = epdf.signals.descan(scan(params, lazy=True))
    for a, b in zip(lazy, eager, strict=True):
        np.testing.assert_allclose(data(a), data(b), rtol=1e-12, atol=1e-12)
