"""start_intensity_to_pdf: the product in background threads equals the one-thread product."""

import dask.array as da
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from pyxem_epdf.physics import chain, transform

S = np.linspace(0.0, 3.0, 121)
R = transform.r_grid(10.0, 0.05)


def scan(n, per_pixel=False, seed=0):
    rng = np.random.default_rng(seed)
    f2 = fsq = 1 / (1 + S**2)
    N = rng.uniform(1.0, 3.0, n)
    intensity = N[:, None] * f2 * (1 + 0.1 * np.sin(4 * S)) + rng.normal(0, 0.01, (n, S.size))
    if per_pixel:
        f2 = f2 * rng.uniform(0.9, 1.1, (n, 1))
        fsq = fsq * rng.uniform(0.9, 1.1, (n, 1))
    return intensity, N, np.full(n, 0.01), f2, fsq


def one_thread(intensity, N, C, f2, fsq, op, dtype=None):
    """The reference: φ, then one product in this thread."""
    G, coefs = chain._eager(intensity, S, N, C, np.asarray(f2), np.asarray(fsq), op,
                            op.matrix if dtype is None else op.matrix.astype(dtype))
    return G, coefs


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("per_pixel", [False, True])
def test_background_product_equals_one_thread(threads, per_pixel):
    intensity, N, C, f2, fsq = scan(1500, per_pixel)  # 3 parts of 500 patterns with 3 threads
    op = chain.chain_operator(S, R, s_min=0.2)
    pending = chain.start_intensity_to_pdf(intensity, S, N, C, f2, fsq, op, threads=threads)
    pending.wait()
    pending.wait()  # a second wait returns at once
    G, coefs = one_thread(intensity, N, C, f2, fsq, op)
    # rows are split between threads, never the sums within a row: the same values
    np.testing.assert_allclose(pending.G, G, rtol=1e-13, atol=1e-13 * np.abs(G).max())
    np.testing.assert_array_equal(pending.coefficients, coefs)
    assert pending.G.shape == (1500, R.size) and pending.G.flags.c_contiguous


def test_navigation_shape_float32_and_sync_route():
    intensity, N, C, f2, fsq = scan(24 * 30)
    op = chain.chain_operator(S, R, s_min=0.2)
    i3, n3, c3 = intensity.reshape(24, 30, -1), N.reshape(24, 30), C.reshape(24, 30)
    G, coefs = chain.intensity_to_pdf(i3, S, n3, c3, f2, fsq, op, dtype="float32")
    ref, ref_c = one_thread(intensity, N, C, f2, fsq, op, dtype=np.float32)
    assert G.shape == (24, 30, R.size) and G.dtype == np.float32 and coefs.shape == (24, 30, 3)
    np.testing.assert_allclose(G.reshape(ref.shape), ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    np.testing.assert_array_equal(coefs.reshape(ref_c.shape), ref_c)


def blas_counts():
    return sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")


def test_blas_one_thread_while_running_restored_after_wait():
    intensity, N, C, f2, fsq = scan(1024)
    op = chain.chain_operator(S, R, s_min=0.2)
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_counts()
        pending = chain.start_intensity_to_pdf(intensity, S, N, C, f2, fsq, op, threads=2)
        during = blas_counts()
        pending.wait()
        assert blas_counts() == before
    assert set(during) == {1}


def test_dask_input_stays_lazy():
    intensity, N, C, f2, fsq = scan(600)
    op = chain.chain_operator(S, R, s_min=0.2)
    pending = chain.start_intensity_to_pdf(da.from_array(intensity, chunks=(200, -1)), S, N, C,
                                           f2, fsq, op)
    assert isinstance(pending.G, da.Array) and isinstance(pending.coefficients, da.Array)
    pending.wait()  # nothing to wait for
    G, coefs = one_thread(intensity, N, C, f2, fsq, op)
    np.testing.assert_allclose(pending.G.compute(), G, rtol=1e-12, atol=1e-12 * np.abs(G).max())


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_bad_thread_count(threads):
    intensity, N, C, f2, fsq = scan(10)
    op = chain.chain_operator(S, R, s_min=0.2)
    with pytest.raises(ValueError, match="'threads' must be an integer >= 1"):
        chain.start_intensity_to_pdf(intensity, S, N, C, f2, fsq, op, threads=threads)
