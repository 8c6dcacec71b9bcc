"""fit_scattering / get_pdf with N fixed (issue 17.4): C alone fitted, maps and metadata."""

import dask.array as da
import numpy as np
import pytest

from pyxem_epdf.physics.scattering import mean_scattering

from ..conftest import COMPOSITION, S_AXIS, ComputeCounter, analytic_intensity
from .test_get_pdf import R, leaves, stepwise

WINDOW = (1.6, 2.5)
NAV_SHAPES = [(), (3,), (2, 3)]


def computed(x):
    return np.asarray(x.compute() if hasattr(x, "compute") else x)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("nav_shape", NAV_SHAPES)
def test_c_recovered_exactly_with_true_n(ri_signal, nav_shape, lazy):
    ri = ri_signal(nav_shape, lazy=lazy, structure=False)  # I = N0⟨f²⟩ + C0
    _, N0, C0 = analytic_intensity(nav_shape, structure=False)
    phi = ri.fit_scattering(COMPOSITION, WINDOW, N=N0)
    assert phi._lazy is lazy
    md = phi.metadata.ePDF.fit
    np.testing.assert_allclose(computed(md.C.data).reshape(C0.shape), C0, rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_array_equal(computed(md.N.data).reshape(N0.shape), N0)
    assert np.all(computed(md.N_std.data) == 0)
    assert md.N_fixed is True and md.N.metadata.General.title == "N (fixed)"
    assert np.all(computed(md.z_N.data) == 0)
    last = phi.metadata.ePDF.history.as_dictionary()
    params = last[sorted(last)[-1]]["parameters"]
    assert params["N"] == ("per-pixel map" if nav_shape else float(N0))
    # structureless data and the true N: φ(s) = 0
    np.testing.assert_allclose(computed(phi.data), 0.0, atol=1e-10)
    if lazy:
        eager = ri_signal(nav_shape, structure=False).fit_scattering(COMPOSITION, WINDOW, N=N0)
        phi.compute()
        np.testing.assert_allclose(phi.data, eager.data, rtol=1e-12, atol=1e-14)
        for key in ("N", "C", "N_std", "C_std", "reduced_chi2", "valid"):
            np.testing.assert_allclose(computed(md[key].data),
                                       eager.metadata.ePDF.fit[key].data, rtol=1e-12, atol=0)


@pytest.mark.parametrize("nav_shape", NAV_SHAPES)
def test_n_as_signal_from_an_earlier_fit(ri_signal, nav_shape):
    ri = ri_signal(nav_shape)
    free = ri.fit_scattering(COMPOSITION, WINDOW)
    n_map = free.metadata.ePDF.fit.N
    again = ri.fit_scattering(COMPOSITION, WINDOW, N=n_map)
    np.testing.assert_allclose(again.metadata.ePDF.fit.C.data, free.metadata.ePDF.fit.C.data,
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(again.data, free.data, rtol=1e-9, atol=1e-12)
    assert again.metadata.ePDF.fit.N_fixed and not free.metadata.ePDF.fit.N_fixed
    assert free.metadata.ePDF.fit.N.metadata.General.title == "N"


def test_scalar_n_and_c_is_the_window_mean_of_the_residual(ri_signal):
    ri = ri_signal((2, 3), structure=False)
    _, N0, C0 = analytic_intensity((2, 3), structure=False)
    phi = ri.fit_scattering(COMPOSITION, WINDOW, N=100.0)
    f2, _ = mean_scattering(COMPOSITION, S_AXIS)
    win = (S_AXIS >= WINDOW[0]) & (S_AXIS <= WINDOW[1])
    expected = C0 + (N0 - 100.0) * f2[win].mean()
    np.testing.assert_allclose(phi.metadata.ePDF.fit.C.data, expected, rtol=1e-12)
    np.testing.assert_array_equal(phi.metadata.ePDF.fit.N.data, np.full((2, 3), 100.0))
    last = phi.metadata.ePDF.history.as_dictionary()
    assert last[sorted(last)[-1]]["parameters"]["N"] == 100.0


def test_fix_c_with_n_fits_nothing(ri_signal):
    ri = ri_signal((3,), structure=False)
    _, N0, C0 = analytic_intensity((3,), structure=False)
    phi = ri.fit_scattering(COMPOSITION, WINDOW, N=N0, fix_c=True)
    md = phi.metadata.ePDF.fit
    assert np.all(md.C.data == 0) and np.all(md.C_std.data == 0) and np.all(md.N_std.data == 0)
    f2, fsq = mean_scattering(COMPOSITION, S_AXIS)
    np.testing.assert_allclose(phi.data, S_AXIS * C0[:, None] / (N0[:, None] * fsq),
                               rtol=1e-10)
    np.testing.assert_allclose(md.reduced_chi2.data, C0**2, rtol=1e-9)


@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("nav_shape", NAV_SHAPES)
@pytest.mark.parametrize("fix_c", [False, True])
def test_get_pdf_equals_step_route(ri_signal, nav_shape, lazy, fix_c):
    ri = ri_signal(nav_shape, lazy=lazy)
    _, N0, _ = analytic_intensity(nav_shape)
    kw = {"b": 0.3, "s_min": 0.2}
    fused = ri.get_pdf(COMPOSITION, WINDOW, N=0.97 * N0, fix_c=fix_c, **kw, **R)
    steps = stepwise(ri, COMPOSITION, WINDOW, N=0.97 * N0, fix_c=fix_c, **kw)
    assert fused._lazy is lazy and steps._lazy is lazy
    g1, g2 = computed(fused.data), computed(steps.data)
    np.testing.assert_allclose(g1, g2, rtol=0, atol=1e-12 * np.abs(g2).max())
    a, b = leaves(fused.metadata.ePDF), leaves(steps.metadata.ePDF)
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(b[key], np.ndarray) and b[key].dtype.kind == "f":
            np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-14, err_msg=key)
        elif isinstance(b[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        else:
            assert a[key] == b[key], key
    assert a["fit.N_fixed"] is True


def test_lazy_n_map_with_lazy_signal_computes_nothing(ri_signal):
    ri = ri_signal((2, 3), lazy=True)
    _, N0, _ = analytic_intensity((2, 3))
    n_map = ri.fit_scattering(COMPOSITION, WINDOW).metadata.ePDF.fit.N  # lazy map
    assert isinstance(n_map.data, da.Array)
    with ComputeCounter() as counter:
        pdf = ri.get_pdf(COMPOSITION, WINDOW, N=n_map, b=0.3, s_min=0.2, **R)
        phi = ri.fit_scattering(COMPOSITION, WINDOW, N=N0)
    assert counter.runs == 0 and pdf._lazy and phi._lazy
    eager = ri_signal((2, 3)).get_pdf(COMPOSITION, WINDOW, N=computed(n_map.data), b=0.3,
                                      s_min=0.2, **R)
    np.testing.assert_allclose(computed(pdf.data), eager.data, rtol=0,
                               atol=1e-12 * np.abs(eager.data).max())


def test_lazy_n_with_eager_output(ri_signal):
    ri = ri_signal((2, 3))
    _, N0, _ = analytic_intensity((2, 3))
    phi = ri.fit_scattering(COMPOSITION, WINDOW, N=da.from_array(N0, chunks=(1, 3)))
    assert not phi._lazy and isinstance(phi.metadata.ePDF.fit.C.data, np.ndarray)
    ref = ri.fit_scattering(COMPOSITION, WINDOW, N=N0)
    np.testing.assert_array_equal(phi.data, ref.data)


def test_input_and_n_untouched(ri_signal):
    ri = ri_signal((2, 3))
    _, N0, _ = analytic_intensity((2, 3))
    data, n = ri.data.copy(), N0.copy()
    ri.fit_scattering(COMPOSITION, WINDOW, N=N0)
    ri.get_pdf(COMPOSITION, WINDOW, N=N0, b=0.3, s_min=0.2, **R)
    np.testing.assert_array_equal(ri.data, data)
    np.testing.assert_array_equal(N0, n)
    assert ri.metadata.get_item("ePDF.fit.N", None) is None


@pytest.mark.parametrize(
    ("N", "error", "match"),
    [
        (0.0, ValueError, r"'N' must be finite and > 0"),
        (-5.0, ValueError, r"'N' must be finite and > 0.*min -5"),
        (np.nan, ValueError, r"'N' must be finite and > 0.*non-finite"),
        (np.full((2, 3), np.nan), ValueError, r"'N' must be finite.*6 of 6 non-finite"),
        (np.ones((3, 2)), ValueError, r"'N' of shape \(3, 2\) must be .*navigation shape \(2, 3\)"),
        (np.ones(6), ValueError, r"'N' of shape \(6,\)"),
        ("auto", TypeError, r"'N' must be a number"),
    ],
)
@pytest.mark.parametrize("route", ["fit_scattering", "get_pdf"])
def test_bad_n(ri_signal, N, error, match, route):
    ri = ri_signal((2, 3))
    with pytest.raises(error, match=match):
        getattr(ri, route)(COMPOSITION, WINDOW, N=N)


def test_map_of_other_scan_rejected(ri_signal):
    other = ri_signal((3,)).fit_scattering(COMPOSITION, WINDOW).metadata.ePDF.fit.N
    with pytest.raises(ValueError, match=r"'N' of shape \(3,\).*navigation shape \(2, 3\)"):
        ri_signal((2, 3)).fit_scattering(COMPOSITION, WINDOW, N=other)
