"""Small lazy frame blocks are merged after the integration (integration.merged_blocks)."""

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pyxem_epdf as epdf
from pyxem_epdf.physics.integration import merged_blocks


@settings(max_examples=40, deadline=None)
@given(ny=st.integers(1, 40), nx=st.integers(1, 40), cy=st.integers(1, 9), cx=st.integers(1, 9),
       least=st.integers(1, 600))
def test_merged_blocks_merge_never_split_and_keep_values(ny, nx, cy, cx, least):
    x = da.arange(ny * nx * 3, dtype=float).reshape(ny, nx, 3).rechunk((cy, cx, 3))
    out = merged_blocks(x, least)
    np.testing.assert_array_equal(out.compute(), x.compute())
    sizes = [max(c) for c in out.chunks[:2]]
    assert all(s % c == 0 or s == n for s, c, n in zip(sizes, (min(cy, ny), min(cx, nx)),
                                                      (ny, nx), strict=True))
    assert sizes[0] * sizes[1] >= min(least, ny * nx) or sizes == [ny, nx]
    assert out.chunks[-1] == (3,)


def test_numpy_and_large_blocks_are_left_alone():
    x = np.zeros((4, 4, 3))
    assert merged_blocks(x) is x
    big = da.zeros((128, 128, 3), chunks=(64, 64, 3))
    assert merged_blocks(big) is big


@pytest.mark.parametrize("shift", [False, True])
def test_lazy_profiles_of_small_blocks_are_merged_and_equal_eager(shift):
    synth = epdf.data.two_phase_composite(nav_shape=(16, 16), detector_shape=(32, 32),
                                          s_scale=0.16, descan=(1.0, 0.5))
    dp = synth.signal
    lazy = dp.as_lazy()
    lazy.data = lazy.data.rechunk((4, 4, 32, 32))
    kw = {"beam_shift": epdf.signals.descan(dp)[1]} if shift else {}
    ri_lazy = epdf.azimuthal_profile(lazy, npt=12, **kw)
    ri = epdf.azimuthal_profile(dp, npt=12, **kw)
    assert ri_lazy._lazy
    assert [max(c) for c in ri_lazy.data.chunks[:2]] == [16, 16]   # 16 blocks → one
    epdf.compute_all(ri_lazy)
    np.testing.assert_allclose(ri_lazy.data, ri.data, rtol=1e-12, atol=1e-12)
