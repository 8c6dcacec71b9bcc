"""Property-based tests of the integration entry point (issue 14).

For random detector shapes, dtypes, non-finite pixels, masks, calibrations and
parameter values, ``azimuthal_profile`` either raises a clear ``ValueError`` /
``TypeError`` naming the parameter, or returns a finite profile and variance,
and never modifies its input.
"""

import warnings

import numpy as np
import pytest
import pyxem as pxm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyxem_epdf as epdf

PARAMETERS = ("'npt'", "'s_max'", "'subpixel'", "'mask'", "'edges'", "'center'", "negative",
              "'dp'", "detector", "valid pixel", "calibrat", "scale")


@st.composite
def scans(draw):
    nav = draw(st.sampled_from([(), (2,), (2, 3)]))
    ny = draw(st.integers(8, 24))
    nx = draw(st.integers(8, 24))
    dtype = draw(st.sampled_from(["uint8", "uint16", "int32", "float16", "float32", "float64"]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    data = rng.poisson(0.3, size=nav + (ny, nx)).astype(dtype)
    if data.dtype.kind == "f" and draw(st.booleans()):
        n_bad = draw(st.integers(1, 4))
        flat = data.reshape(-1)
        idx = rng.choice(flat.size, n_bad, replace=False)
        flat[idx] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    if data.dtype.kind in "if" and draw(st.booleans()):
        data.reshape(-1)[0] = -1  # a negative count
    scale = draw(st.sampled_from([0.02, 0.05, 0.1, 0.3]))
    dp = pxm.signals.ElectronDiffraction2D(data)
    for ax, n in zip(dp.axes_manager.signal_axes, (nx, ny), strict=True):
        ax.scale, ax.offset, ax.units = scale, -scale * (n - 1) / 2, "k_A^-1"
    mask = None
    if draw(st.booleans()):
        mask = rng.random((ny, nx)) < draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    kwargs = {"mask": mask}
    if draw(st.booleans()):
        kwargs["npt"] = draw(st.one_of(st.integers(-2, 60), st.floats(-1, 60), st.just("abc")))
    if draw(st.booleans()):
        kwargs["s_max"] = draw(st.floats(-1.0, 10.0))
    if draw(st.booleans()):
        kwargs["subpixel"] = draw(st.one_of(st.integers(0, 5), st.just(2.5)))
    return dp, kwargs


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scans())
def test_azimuthal_profile_clear_error_or_finite_output(case):
    dp, kwargs = case
    before = np.array(dp.data, copy=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # non-finite / empty-bin notices
            prof = epdf.azimuthal_profile(dp, **kwargs)
    except (ValueError, TypeError) as err:
        message = str(err)
        assert any(p in message for p in PARAMETERS), message
    else:
        assert np.all(np.isfinite(prof.data))
        var = prof.metadata.Signal.Noise_properties.variance.data
        assert np.all(np.isfinite(var)) and np.all(var >= 0)
    np.testing.assert_array_equal(np.asarray(dp.data), before)


def test_all_pixels_masked_is_a_clear_error():
    dp = pxm.signals.ElectronDiffraction2D(np.ones((2, 16, 16)))
    for ax in dp.axes_manager.signal_axes:
        ax.scale, ax.offset, ax.units = 0.1, -0.75, "k_A^-1"
    with pytest.raises(ValueError, match="'mask'"):
        epdf.azimuthal_profile(dp, mask=np.ones((16, 16), bool))
