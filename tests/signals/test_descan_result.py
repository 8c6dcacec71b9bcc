"""The Descan result: signals built on first access, equal to the eager construction they replace.

The reference below is the construction ``descan`` did before the deferral
(pyxem ``BeamShift`` with ``deepcopy(dp.axes_manager.signal_axes)`` in
``metadata.Shifts.signal_axes``; the residual from ``_base.nav_signals`` /
``_base.nav_signal``), written out here with HyperSpy's and pyxem's own calls.
"""

import copy
import pickle
from collections.abc import Sequence

import numpy as np
import pytest
from pyxem.signals import BeamShift

import pyxem_epdf as epdf
from pyxem_epdf.physics import geometry
from pyxem_epdf.signals import _base, calibration, scan

NAV = {"2-D": lambda s: s, "1-D": lambda s: s.inav[:, 1], "0-D": lambda s: s.inav[2, 1]}


@pytest.fixture(scope="module")
def composite():
    return epdf.data.two_phase_composite(nav_shape=(6, 7), descan=(3.0, 1.0), seed=2).signal


def _params(dp, method):
    window = geometry.disc_window(dp.data, 20.0) if method == "window" else None
    return scan._descan_arrays(dp.data, 20.0, window, False)


def eager_reference(dp, method="window"):
    """(measured, plane, residual) as descan built them eagerly."""
    shifts, fitted, dist, params = _params(dp, method)
    nav = dp.axes_manager._get_navigation_axes_dicts()

    def beam_shift(data, title):
        axes = [dict(d) for d in nav] + [{"size": 2, "name": "Beam position", "navigate": False}]
        metadata = {"General": {"title": title},
                    "Shifts": {"signal_axes": copy.deepcopy(dp.axes_manager.signal_axes)},
                    "ePDF": {"descan": scan._copy_params(params)}}
        return BeamShift(data, axes=axes, metadata=metadata)

    if dp.axes_manager.navigation_dimension in (1, 2):
        residual = _base.nav_signals(dp, {"r": (dist, "descan residual (px)")})["r"]
    else:
        residual = _base.nav_signal(dp, dist, "descan residual (px)")
    residual.metadata.set_item("ePDF.descan", scan._copy_params(params))
    return (beam_shift(shifts, "measured beam shift"), beam_shift(fitted, "descan plane"),
            residual)


def _metadata(sig):
    """The metadata as plain data; the axis objects as (class, axis dict)."""
    md = sig.metadata.as_dictionary()
    stored = md.get("Shifts", {}).pop("signal_axes", None)
    if stored is not None:
        md["Shifts"]["signal_axes"] = (type(stored).__name__,
                                       [(type(a).__name__, a.get_axis_dictionary(),
                                         a.axes_manager) for a in stored])
    return md


def assert_same_signal(a, b):
    assert type(a) is type(b)
    assert a._lazy == b._lazy
    np.testing.assert_array_equal(np.asarray(a.data), np.asarray(b.data))
    assert np.asarray(a.data).dtype == np.asarray(b.data).dtype
    assert a.axes_manager._get_axes_dicts() == b.axes_manager._get_axes_dicts()
    assert [ax.navigate for ax in a.axes_manager._axes] == \
        [ax.navigate for ax in b.axes_manager._axes]
    assert _metadata(a) == _metadata(b)
    assert a.original_metadata.as_dictionary() == b.original_metadata.as_dictionary()
    assert repr(a) == repr(b)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("nav", list(NAV))
def test_signals_built_on_access_equal_the_eager_construction(composite, nav, lazy):
    dp = NAV[nav](composite)
    dp = dp.as_lazy() if lazy else dp
    res = epdf.signals.descan(dp, show_progressbar=False)
    assert res._signals == {}
    ref = eager_reference(dp)
    assert repr(res) == "Descan(measured={!r}, plane={!r}, residual={!r})".format(*ref)
    for name, want in zip(res._fields, ref, strict=True):
        assert_same_signal(getattr(res, name), want)
    assert repr(res) == "Descan(measured={!r}, plane={!r}, residual={!r})".format(*ref)
    assert type(res.plane.metadata.Shifts.signal_axes) is type(dp.axes_manager.signal_axes)
    # each signal owns its axes and metadata
    assert res.plane.metadata.Shifts.signal_axes[0] is not \
        res.measured.metadata.Shifts.signal_axes[0]
    res.plane.metadata.ePDF.descan.window_rows.append(-1)
    assert res.measured.metadata.ePDF.descan.window_rows == \
        res.residual.metadata.ePDF.descan.window_rows == ref[0].metadata.ePDF.descan.window_rows


def test_full_method_and_pyxem_methods_on_the_built_signals(composite):
    res = epdf.signals.descan(composite, method="full")
    ref = eager_reference(composite, "full")
    for got, want in zip(res, ref, strict=True):
        assert_same_signal(got, want)
    # pyxem's own BeamShift methods see the same signal
    np.testing.assert_array_equal(res.measured.get_linear_plane().data,
                                  ref[0].get_linear_plane().data)


def test_unpacking_indexing_and_sequence_contract(composite):
    res = epdf.signals.descan(composite)
    assert isinstance(res, Sequence) and len(res) == 3
    assert res._fields == ("measured", "plane", "residual")
    plane = res[1]
    assert res._signals.keys() == {"plane"}  # only what was read is built
    measured, plane2, residual = res
    assert plane2 is plane is res.plane is res[-2]
    assert measured is res.measured is res[0] and residual is res.residual is res[-1]
    assert res[1:] == (plane, residual) and res[::-1] == (residual, plane, measured)
    assert [s for s in res] == [measured, plane, residual] == list(res)
    assert res._asdict() == {"measured": measured, "plane": plane, "residual": residual}
    assert [type(s).__name__ for s in res] == ["BeamShift", "BeamShift", "Signal2D"]
    with pytest.raises(IndexError):
        res[3]
    with pytest.raises(AttributeError):
        res.plane = None
    # a result made of signals (the public constructor), as the NamedTuple was
    made = epdf.signals.Descan(measured, plane, residual)
    assert tuple(made) == (measured, plane, residual) and made.plane is plane
    assert made._plane_source() is None
    assert repr(made) == repr(res)


@pytest.mark.parametrize(("nav", "lazy"), [("2-D", False), ("2-D", True), ("1-D", False),
                                           ("0-D", False)])
def test_passing_the_result_builds_nothing_and_equals_its_plane(composite, nav, lazy):
    dp = NAV[nav](composite)
    dp = dp.as_lazy() if lazy else dp
    res = epdf.signals.descan(dp)
    kw = {"npt": 40, "s_max": 2.0}
    direct = epdf.azimuthal_profile(dp, beam_shift=res, **kw)
    assert res._signals == {}
    centres = calibration._pattern_centres_px(dp, res)
    assert res._signals == {}
    via_plane = epdf.azimuthal_profile(dp, beam_shift=res.plane, **kw)
    assert res._signals.keys() == {"plane"}
    a, b = (np.asarray(p.data if not p._lazy else p.data.compute()) for p in (direct, via_plane))
    assert a.tobytes() == b.tobytes()
    va, vb = (np.asarray(p.metadata.Signal.Noise_properties.variance.data) for p in
              (direct, via_plane))
    assert np.asarray(va).tobytes() == np.asarray(vb).tobytes()
    assert direct.metadata.ePDF.as_dictionary().keys() == via_plane.metadata.ePDF.as_dictionary().keys()
    np.testing.assert_array_equal(centres,
                                  calibration._pattern_centres_px(dp, res.plane))
    # once the plane exists it is what is read (edits of the signal count, as before)
    res.plane.data = res.plane.data + 0.5
    moved = epdf.azimuthal_profile(dp, beam_shift=res, **kw)
    again = epdf.azimuthal_profile(dp, beam_shift=res.plane, **kw)
    np.testing.assert_array_equal(np.asarray(moved.data), np.asarray(again.data))
    assert not np.array_equal(np.asarray(moved.data), a)


def test_binned_scan_reads_the_unbuilt_plane_as_its_signal(composite):
    """A full-resolution result given for the 2×2-binned scan: its plane averaged over the
    bin blocks, read without building it, as the plane signal is."""
    dp = composite.inav[:6, :6]
    res = epdf.signals.descan(dp)
    binned = dp.rebin(scale=(2, 2, 1, 1))
    a = epdf.azimuthal_profile(binned, npt=30, s_max=1.8, beam_shift=res)
    assert res._signals == {}
    b = epdf.azimuthal_profile(binned, npt=30, s_max=1.8, beam_shift=res.plane)
    assert np.asarray(a.data).tobytes() == np.asarray(b.data).tobytes()


def test_later_edits_of_the_scan_do_not_change_the_result(composite):
    dp = composite.deepcopy()
    before = list(epdf.signals.descan(dp))
    res = epdf.signals.descan(dp)
    for ax in dp.axes_manager._axes:
        ax.scale, ax.offset = 2 * ax.scale, ax.offset + 1.0
        ax.name, ax.units = ax.name + "_edited", "edited"
    dp.data[:] = 0
    for got, want in zip(res, before, strict=True):
        assert_same_signal(got, want)


def test_pickle_copy_and_deepcopy(composite):
    res = epdf.signals.descan(composite)
    ref = list(epdf.signals.descan(composite))
    loaded = pickle.loads(pickle.dumps(res))
    assert loaded._signals == {}
    for got, want in zip(loaded, ref, strict=True):
        assert_same_signal(got, want)
    res.plane.data[0, 0, 0] += 5.0  # in-place edit of a built signal: kept
    again = pickle.loads(pickle.dumps(res))
    assert again.plane.data[0, 0, 0] == res.plane.data[0, 0, 0]
    shallow = copy.copy(res)
    assert shallow.plane is res.plane and shallow._signals.keys() == {"plane"}
    deep = copy.deepcopy(res)
    assert deep.plane is not res.plane
    assert_same_signal(deep.plane, res.plane)
    assert_same_signal(deep.residual, ref[2])
    deep.plane.data[0, 0, 0] = -1.0
    assert res.plane.data[0, 0, 0] != -1.0


def test_warning_at_descan_time_not_on_access(composite):
    dp = composite.deepcopy()
    dp.data[1, 2] = 1  # flat frame: no disc anywhere
    with pytest.warns(UserWarning, match="1 of 42 patterns show no direct-beam disc"):
        res = epdf.signals.descan(dp)
    assert res._signals == {}
    # filterwarnings = error: building the signals warns nothing
    assert np.isnan(res.measured.data[1, 2]).all() and res.plane.metadata.ePDF.descan.n_no_disc == 1
    assert np.isfinite(res.residual.data).sum() == 41
