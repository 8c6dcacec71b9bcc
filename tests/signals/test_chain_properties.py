"""Property tests: every get_pdf/fit_scattering input gives a clear error naming the
parameter, or finite output; the input is never changed (issue 14)."""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import COMPOSITION

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.floats(min_value=-1.0, max_value=5.0),
    st.integers(min_value=-3, max_value=30),
    st.none(),
    st.text(max_size=3),
    st.lists(st.floats(0, 3), max_size=3),
)
pairs = st.one_of(st.tuples(st.floats(-1, 4), st.floats(-1, 4)), numbers)


def named(err, names):
    return any(f"'{n}" in str(err) for n in names)


def check(call, before, signal, names):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = call()
        except (ValueError, TypeError) as err:
            assert named(err, names), str(err)
            out = None
    np.testing.assert_array_equal(signal.data, before)
    if out is not None:
        assert np.all(np.isfinite(np.asarray(out.data)))


@SETTINGS
@given(s_range=pairs, b=numbers, s_min=numbers)
def test_get_pdf_parameters(ri_signal, s_range, b, s_min):
    ri = ri_signal((2,))
    before = ri.data.copy()
    check(lambda: ri.get_pdf(COMPOSITION, s_range, b=b, s_min=s_min, r_max=6.0, r_step=0.05),
          before, ri, ("s_range", "b", "s_min", "r_max", "r_step"))


@SETTINGS
@given(r_max=numbers, r_step=numbers, s_max=numbers)
def test_get_pdf_grid_parameters(ri_signal, r_max, r_step, s_max):
    ri = ri_signal((2,))
    before = ri.data.copy()
    check(lambda: ri.get_pdf(COMPOSITION, (1.6, 2.5), s_max=s_max, r_max=r_max, r_step=r_step),
          before, ri, ("s_max", "r_max", "r_step", "r_min", "polynomial_range", "s_range"))


@SETTINGS
@given(s_range=pairs, min_window_counts=numbers)
def test_fit_scattering_parameters(ri_signal, s_range, min_window_counts):
    ri = ri_signal((3,))
    before = ri.data.copy()
    check(lambda: ri.fit_scattering(COMPOSITION, s_range, min_window_counts=min_window_counts),
          before, ri, ("s_range", "min_window_counts"))


@SETTINGS
@given(nav=st.sampled_from([(), (3,), (2, 3)]), lazy=st.booleans(),
       bad=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 299),
                              st.sampled_from([np.nan, np.inf, -np.inf])), max_size=4))
def test_non_finite_data_never_reach_g(ri_signal, nav, lazy, bad):
    ri = ri_signal(nav)
    flat = ri.data.reshape(-1, ri.data.shape[-1])
    for k, j, v in bad:
        flat[k % flat.shape[0], j] = v
    before = ri.data.copy()
    src = ri.as_lazy() if lazy else ri
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pdf = src.get_pdf(COMPOSITION, (1.6, 2.5), r_max=6.0, r_step=0.05)
        if lazy:
            pdf.compute(show_progressbar=False)
    assert np.all(np.isfinite(pdf.data))
    for key in ("N", "C", "reduced_chi2", "z_N", "z_chi2"):
        assert np.all(np.isfinite(np.asarray(pdf.metadata.ePDF.fit[key].data)))
    np.testing.assert_array_equal(ri.data, before)
