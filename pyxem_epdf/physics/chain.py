"""The whole chain I(s) → G(r) in one pass: its linear part as one matrix.

Once N and C are fitted, every later step of the chain is *linear* in φ(s):
cropping at s_max, subtracting the least-squares Mu polynomial (a projection),
multiplying by a damping envelope, replacing φ below s_min by a straight line
through φ(s_min), and the sine transform. Their composition is one matrix L
(n_s × n_r), so for every probe position

.. math::

    G = φ\\, L, \\qquad L = \\text{crop}\\,(1 - Π)\\, D\\, E\\, M .

:func:`chain_operator` builds L by running the step functions of
:mod:`~pyxem_epdf.physics.corrections` and :mod:`~pyxem_epdf.physics.transform`
on the identity basis (row j is the chain's response to a unit φ in bin j), so
it is the step-by-step chain by construction, not a re-derivation.
:func:`intensity_to_pdf` then forms φ only on the s bins that reach G and
applies L in one matrix product: the cost of the chain is that of the sine
transform alone, without the intermediate φ arrays of the step-by-step route.
"""

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import corrections, transform
from ._common import (
    as_array,
    as_axis,
    as_float,
    as_pair,
    check_s_max,
    count_up_to,
    float_dtype,
    outer_edge,
    usable_cores,
)

#: Default fit window: the upper part of the profile, (0.64 s_edge, s_edge)
#: with s_edge its outer bin edge — the paper's (1.6, 2.5) Å⁻¹ for 2.5 Å⁻¹.
#: Measured (``benchmarks/chain_defaults.py``): on the embedded composite the
#: G(r) correlation with the truth is flat (±0.01) for fractions 0.4–0.8.
FIT_WINDOW_FRACTION = 0.64
#: Default damping: exp(−b s²) = e^−5 at the last sample used, b = 5/s_last²
#: (the paper's 0.8 Å² at 2.5 Å⁻¹). Measured (``benchmarks/chain_defaults.py``):
#: per-pixel G(r) of the noisy composite (s_last 2.52 Å⁻¹, b = 0.79) reach
#: 96–98 % of their best correlation with the truth (b = 0.8: 0.472/0.668, best
#: 0.492/0.681 at 1.2–1.5), noiseless ones lose 2–7 % against b = 0.6; on the
#: measured a-SiO2 profile (s_last 4.24 Å⁻¹) a fixed 0.8 Å² shifts O–O to
#: 2.711 Å (truth 2.63), b = 5/s_last² = 0.28 gives 1.611/2.655 Å.
DAMPING_AT_EDGE = 5.0
#: The paper's b in Å² (at s_last = 2.5 Å⁻¹); used when no s axis is known.
DEFAULT_B = 0.8
#: Default direct-beam edge in Å⁻¹ when the data do not start later (beam stop).
DEFAULT_S_MIN = 0.14
#: Memory a result may take before the chain refuses to build it (fraction of RAM).
MEMORY_FRACTION = 0.5


@dataclass(frozen=True)
class ChainOperator:
    """The linear part of the chain, φ(s) → (G(r), Mu coefficients).

    Attributes
    ----------
    rows : slice
        The s bins whose φ reaches G or the polynomial fit; the others (the
        direct beam below s_min, bins beyond s_max) are multiplied by zero.
    matrix : numpy.ndarray
        ``(rows, n_r)``, in Å⁻¹: ``G = φ[..., rows] @ matrix`` (Å⁻²).
    coefficients : numpy.ndarray or None
        ``(rows, 3)``: the Mu polynomial coefficients (c₀, c₁, c₂ in Å⁻³,
        Å⁻⁴, Å⁻⁵) are ``φ[..., rows] @ coefficients``; ``None`` without the
        polynomial step.
    s_max : float
        Upper end of the s range used, in Å⁻¹ (data beyond it are dropped).

    Examples
    --------
    Below s_min only the two samples bracketing it reach G:

    >>> from pyxem_epdf.physics.transform import r_grid
    >>> op = chain_operator(np.linspace(0, 3, 301), r_grid(10, 0.05), s_min=0.205,
    ...                     s_range=(0.3, 3.0))
    >>> op.rows, op.matrix.shape, op.coefficients.shape
    (slice(20, 301, None), (281, 201), (281, 3))
    """

    rows: slice
    matrix: np.ndarray
    coefficients: np.ndarray | None
    s_max: float


def chain_operator(s, r, *, s_min, envelope=None, s_max=None, polynomial=True, s_range=None):
    """The matrix of the steps after the fit: polynomial → envelope → low-s line → transform.

    Parameters
    ----------
    s : array_like
        s in Å⁻¹ (1-D, increasing, ≥ 0) of φ.
    r : array_like
        r grid in Å (e.g. from :func:`~pyxem_epdf.physics.transform.r_grid`).
    s_min : float
        Edge of the direct beam in Å⁻¹, inside the data below s_max
        (:func:`~pyxem_epdf.physics.corrections.extrapolate_low_s`).
    envelope : array_like, optional
        Damping envelope on ``s`` (dimensionless, shape ``(n_s,)``), e.g.
        :func:`~pyxem_epdf.physics.corrections.exponential_damping`; ``None``:
        no damping.
    s_max : float, optional
        Upper zero of the Mu polynomial in Å⁻¹ and end of the data used;
        default the last s.
    polynomial : bool
        Include the Mu polynomial correction.
    s_range : tuple of float, optional
        (lo, hi) fit window of the polynomial in Å⁻¹; default (s[0], s_max)
        as :func:`~pyxem_epdf.physics.corrections.fit_polynomial_correction`.

    Returns
    -------
    ChainOperator

    Raises
    ------
    ValueError
        As the step functions: ``s_max`` outside the data, ``s_range`` outside
        (s[0], s_max), ``s_min`` not inside (s[0], s_max), a non-finite damping
        envelope or one of the wrong length, an empty r grid.

    Examples
    --------
    The operator applied to φ equals the steps one after the other:

    >>> from pyxem_epdf.physics import corrections, transform
    >>> s, r = np.linspace(0, 3, 301), transform.r_grid(10, 0.05)
    >>> env = corrections.exponential_damping(s, 0.5)
    >>> op = chain_operator(s, r, s_min=0.2, envelope=env, s_range=(0.3, 3.0))
    >>> phi = np.random.default_rng(0).normal(size=(4, 301))
    >>> c = corrections.fit_polynomial_correction(phi, s, s_range=(0.3, 3.0))
    >>> step = phi - corrections.polynomial_baseline(c, s, 3.0)
    >>> step = corrections.extrapolate_low_s(step * env, s, 0.2)
    >>> bool(np.allclose(phi[:, op.rows] @ op.matrix, transform.sine_transform(step, s, r)))
    True
    >>> bool(np.allclose(phi[:, op.rows] @ op.coefficients, c))
    True
    """
    s = as_axis(s)
    r = np.asarray(r, dtype=float)
    env = None if envelope is None else np.asarray(envelope, dtype=float)
    key = (s.tobytes(), r.tobytes(), None if env is None else env.tobytes(), float(s_min),
           None if s_max is None else float(s_max), bool(polynomial),
           None if s_range is None else tuple(map(float, s_range)))
    operator = _OPERATORS.get(key)
    if operator is None:
        operator = _build(s, r, s_min=float(s_min), envelope=env, s_max=s_max,
                          polynomial=polynomial, s_range=s_range)
        if len(_OPERATORS) >= 4:
            _OPERATORS.pop(next(iter(_OPERATORS)))
        _OPERATORS[key] = operator
    return operator


#: The last few operators (a whole scan is usually processed on one grid, and
#: :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.get_pdf` is called again
#: with the same parameters on regions and repeats). Their arrays are read-only.
_OPERATORS: dict = {}


def _build(s, r, *, s_min, envelope, s_max, polynomial, s_range):
    if s[0] < 0:
        raise ValueError(f"'s' must be >= 0 Å⁻¹; the axis starts at {s[0]:g}.")
    s_max = float(s[-1]) if s_max is None else check_s_max(s, s_max)
    keep = count_up_to(s, s_max)
    basis = np.eye(s.size)  # row j: the chain's response to a unit φ in bin j
    coefficients = None
    phi = basis[:, :keep]
    if polynomial:
        coefficients = corrections.fit_polynomial_correction(
            basis, s, s_max=s_max, s_range=s_range
        )
        phi = phi - corrections.polynomial_baseline(coefficients, s[:keep], s_max)
    if envelope is not None:
        if envelope.shape != s.shape:
            raise ValueError(
                f"'envelope' must have the shape of s, {s.shape}; got {envelope.shape}."
            )
        if not np.all(np.isfinite(envelope)):
            raise ValueError("'envelope' must be finite.")
        phi = phi * envelope[:keep]
    phi = corrections.extrapolate_low_s(phi, s[:keep], s_min)
    matrix = transform.sine_transform(phi, s[:keep], r)
    used = np.any(matrix != 0, axis=1)
    if coefficients is not None:
        used |= np.any(coefficients != 0, axis=1)
    index = np.flatnonzero(used)
    rows = slice(int(index[0]), int(index[-1]) + 1) if index.size else slice(0, 1)
    matrix = np.ascontiguousarray(matrix[rows])
    matrix.flags.writeable = False
    if coefficients is not None:
        coefficients = np.ascontiguousarray(coefficients[rows])
        coefficients.flags.writeable = False
    return ChainOperator(rows=rows, matrix=matrix, coefficients=coefficients, s_max=s_max)


def intensity_to_pdf(intensity, s, N, C, f2_mean, f_mean_sq, operator, *, dtype=None):
    """G(r) and the Mu coefficients straight from I(s) and the fitted N, C.

    φ(s) = s (I − N⟨f²⟩ − C)/(N⟨f⟩²) is formed only on ``operator.rows``
    (:func:`~pyxem_epdf.physics.fit.reduced_intensity`) and multiplied by the
    chain matrix: one product for all probe positions.

    Parameters
    ----------
    intensity : numpy.ndarray or dask.array.Array
        I(s), navigation dimensions first, s last.
    s : array_like
        s in Å⁻¹ (the grid ``operator`` was built on).
    N, C : array_like
        Fitted scale and constant, navigation-shaped (NumPy or dask).
    f2_mean, f_mean_sq : array_like
        ⟨f²⟩ and ⟨f⟩² in Å², shape ``(n_s,)`` or per pixel (navigation +
        ``(n_s,)``).
    operator : ChainOperator
        From :func:`chain_operator`.
    dtype : {None, "float64", "float32"}
        Precision of the product and of G (as
        :func:`~pyxem_epdf.physics.transform.sine_transform`); φ is always
        formed in float64.

    Returns
    -------
    G : array
        G(r) in Å⁻², navigation + ``(n_r,)``; NumPy in, NumPy out, dask in,
        dask out (nothing computed). NumPy data of 512 patterns or more are
        multiplied in threads as :func:`start_intensity_to_pdf` does (one
        per usable core, BLAS on one thread each).
    coefficients : array or None
        Mu coefficients, navigation + ``(3,)``.

    Examples
    --------
    >>> from pyxem_epdf.physics import fit, transform
    >>> s, r = np.linspace(0, 3, 301), transform.r_grid(10, 0.05)
    >>> f2 = fsq = 1 / (1 + s**2)
    >>> I = 2.0 * f2 * (1 + 0.1 * np.sin(4 * s))[None] + np.zeros((3, 1))
    >>> op = chain_operator(s, r, s_min=0.2)
    >>> G, c = intensity_to_pdf(I, s, np.full(3, 2.0), np.zeros(3), f2, fsq, op)
    >>> phi = fit.reduced_intensity(I, s, np.full(3, 2.0), np.zeros(3), f2, fsq)
    >>> bool(np.allclose(G, phi[:, op.rows] @ op.matrix)), G.shape, c.shape
    (True, (3, 201), (3, 3))
    """

    pending = _dispatch(intensity, s, N, C, f2_mean, f_mean_sq, operator, dtype=dtype,
                        threads=None, background=False)
    pending.wait()
    return pending.G, pending.coefficients


def _done():
    """``wait`` of a result that is already complete (or lazy)."""


class PendingPDF(NamedTuple):
    """Result of :func:`start_intensity_to_pdf`: G(r) being filled in the background.

    Attributes
    ----------
    G : numpy.ndarray or dask.array.Array
        G(r) in Å⁻², navigation + ``(n_r,)``. A NumPy ``G`` holds its values
        only after ``wait()`` has returned.
    coefficients : numpy.ndarray, dask.array.Array or None
        Mu coefficients, navigation + ``(3,)``. NumPy coefficients formed in
        the background are complete once ``ready()`` (or ``wait()``) has
        returned.
    wait : callable
        ``wait()`` blocks until ``G`` and the coefficients are complete and
        re-raises an error of the product; calling it again returns at once.
    ready : callable
        ``ready()`` blocks until the coefficients are complete (φ and the
        coefficients are formed first in each background thread, ~1/20 of
        the product's time); it returns at once when nothing runs in the
        background. An error is re-raised by ``wait()``.
    """

    G: object
    coefficients: object
    wait: Callable[[], None]
    ready: Callable[[], None] = _done


def start_intensity_to_pdf(intensity, s, N, C, f2_mean, f_mean_sq, operator, *, dtype=None,
                           threads=None):
    """:func:`intensity_to_pdf` with the product running while the caller goes on.

    φ, the Mu coefficients and the product φ L, which is most of the work,
    run in ``threads`` background threads (contiguous parts of the patterns,
    each forming its part of φ and of the coefficients first, then its part
    of G; BLAS on one thread each: NumPy releases the GIL in these array
    operations, so the caller's Python work — e.g. building the output
    signal and its maps — runs meanwhile on the other core). Read the
    coefficients only after ``ready()`` and ``G`` only after ``wait()``.
    Dask input is returned lazy (nothing computed, ``wait`` and ``ready`` do
    nothing).

    Parameters
    ----------
    intensity, s, N, C, f2_mean, f_mean_sq, operator, dtype
        As :func:`intensity_to_pdf`.
    threads : int, optional
        Background threads of the product (≥ 1); default: the usable cores
        (:func:`~pyxem_epdf.physics._common.usable_cores`), fewer for small
        scans (at least 256 patterns per thread).

    Returns
    -------
    PendingPDF
        ``(G, coefficients, wait, ready)``.

    Examples
    --------
    >>> s, r = np.linspace(0, 3, 301), transform.r_grid(10, 0.05)
    >>> f2 = fsq = 1 / (1 + s**2)
    >>> I = 2.0 * f2 * (1 + 0.1 * np.sin(4 * s))[None] + np.zeros((600, 1))
    >>> op = chain_operator(s, r, s_min=0.2)
    >>> args = (I, s, np.full(600, 2.0), np.zeros(600), f2, fsq, op)
    >>> pending = start_intensity_to_pdf(*args, threads=2)
    >>> pending.ready()  # the coefficients complete from here on
    >>> pending.wait()  # G too
    >>> G, c = intensity_to_pdf(*args)
    >>> bool(np.array_equal(pending.G, G)), bool(np.array_equal(pending.coefficients, c))
    (True, True)
    """
    return _dispatch(intensity, s, N, C, f2_mean, f_mean_sq, operator, dtype=dtype,
                     threads=threads, background=True)


def _dispatch(intensity, s, N, C, f2_mean, f_mean_sq, operator, *, dtype, threads, background):
    """Checks, then the lazy graph or :func:`_start` (in the background or not)."""
    s = as_axis(s)
    dtype = None if dtype is None else float_dtype(dtype)
    x = as_array(intensity)
    if x.shape[-1] != s.size:
        raise ValueError(
            f"'intensity' has {x.shape[-1]} s values, the grid 's' has {s.size}."
        )
    threads = usable_cores() if threads is None else threads
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"'threads' must be an integer >= 1; got {threads!r}.")
    f2, fsq = as_array(f2_mean), as_array(f_mean_sq)
    matrix = operator.matrix if dtype is None else operator.matrix.astype(dtype, copy=False)
    if not hasattr(x, "dask") and any(hasattr(a, "dask") for a in (N, C, f2, fsq)):
        import dask.array as da  # e.g. a fit weighted by a lazy variance: stay lazy

        x = da.from_array(x, chunks=("auto",) * (x.ndim - 1) + (-1,))
    if hasattr(x, "dask"):
        if x.ndim == 1:  # a single pattern: one navigation row for map_blocks
            G, coefs = _lazy(x[None], s, np.reshape(N, (1,)), np.reshape(C, (1,)),
                             f2, fsq, operator, matrix)
            return PendingPDF(G[0], None if coefs is None else coefs[0], _done, _done)
        return PendingPDF(*_lazy(x, s, N, C, f2, fsq, operator, matrix), _done, _done)
    return _start(x, s, N, C, f2, fsq, operator, matrix, threads=int(threads),
                  background=background)


#: Patterns per block of φ: a block (~1 MB) is still in cache when its
#: coefficients are formed.
_BLOCK = 2048

#: Fewest patterns per background thread of the product.
_MIN_ROWS_PER_THREAD = 256


def _phi(x, s, N, C, f2, fsq, rows):
    """φ on the operator's rows for a 2-D (patterns × s) block."""
    from .fit import reduced_intensity

    return reduced_intensity(x[:, rows], s[rows], N, C, f2[..., rows], fsq[..., rows])


def _eager(x, s, N, C, f2, fsq, operator, matrix, *, with_g=True):
    """(G, coefficients) of NumPy data in this thread (a dask block)."""
    pending = _start(x, s, N, C, f2, fsq, operator, matrix, threads=1, background=False,
                     with_g=with_g)
    return pending.G, pending.coefficients


def _start(x, s, N, C, f2, fsq, operator, matrix, *, threads, background, with_g=True):
    """φ, the coefficients and the product φ L, here or in background threads.

    φ on the used rows is ~3 % of G's size (n_rows of n_r columns), so each
    part of the patterns forms its φ whole, block by block, before its
    product: the product is then one BLAS call per part, which holds the GIL
    only to start and to end. In the background, each thread does this for
    its own contiguous part (:func:`_in_threads`), so nothing of it runs in
    the caller.
    """
    nav = x.shape[:-1]
    n = int(np.prod(nav))
    x2 = x.reshape(n, x.shape[-1])
    N2, C2 = (np.broadcast_to(as_array(a), nav).reshape(n) for a in (N, C))
    f2, fsq = (np.broadcast_to(f, nav + f.shape[-1:]).reshape(n, f.shape[-1])
               if np.ndim(f) > 1 else f for f in (f2, fsq))
    coefs = None if operator.coefficients is None else np.empty((n, 3))
    out_coefs = None if coefs is None else coefs.reshape(nav + (3,))
    G = np.empty((n, matrix.shape[1]), dtype=matrix.dtype) if with_g else None
    out = None if G is None else G.reshape(nav + (matrix.shape[1],))
    k = max(1, min(threads, n // _MIN_ROWS_PER_THREAD))
    part = _Part(x2, s, N2, C2, f2, fsq, operator, matrix, coefs, G)
    if not with_g or (not background and k == 1):
        part(0, n)
        return PendingPDF(out, out_coefs, _done, _done)
    return PendingPDF(out, out_coefs, *_in_threads(part, n, k))


class _Part:
    """φ, the coefficients and G of the patterns ``a:b`` (``part(a, b)``), into place.

    ``coefs`` (n × 3) and ``G`` (n × n_r) are written on rows ``a:b`` only,
    so parts run in separate threads write disjoint rows.
    """

    def __init__(self, x2, s, N2, C2, f2, fsq, operator, matrix, coefs, G):
        self.x2, self.s, self.N2, self.C2, self.f2, self.fsq = x2, s, N2, C2, f2, fsq
        self.rows, self.coef_matrix = operator.rows, operator.coefficients
        self.matrix, self.coefs, self.G = matrix, coefs, G

    def coefficients(self, a, b):
        """φ of rows ``a:b`` (returned) and their coefficients (into ``coefs``)."""
        f2, fsq, coefs = self.f2, self.fsq, self.coefs
        phi = np.empty((b - a, self.matrix.shape[0]))
        for i in range(a, b, _BLOCK):
            j = slice(i, min(i + _BLOCK, b))
            phi[i - a:j.stop - a] = _phi(self.x2[j], self.s, self.N2[j], self.C2[j],
                                         f2[j] if np.ndim(f2) > 1 else f2,
                                         fsq[j] if np.ndim(fsq) > 1 else fsq, self.rows)
            if coefs is not None:
                np.matmul(phi[i - a:j.stop - a], self.coef_matrix, out=coefs[j])
        return phi

    def product(self, phi, a, b):
        """``G[a:b] = φ L``."""
        np.matmul(phi.astype(self.matrix.dtype, copy=False), self.matrix, out=self.G[a:b])

    def __call__(self, a, b):
        phi = self.coefficients(a, b)
        if self.G is not None:
            self.product(phi, a, b)


#: Worker threads of the product, kept between calls: ``(pid, executor)``.
_POOL = {}


def _pool(k):
    """A thread pool of at least ``k`` workers, started once per process.

    Starting a thread waits until it runs: on a loaded 2-core machine the two
    threads of a fresh pool cost the caller 2–3 ms each of waiting per call
    (measured with cProfile, ``threading.Thread.start``), a tenth of the
    whole chain of a 48×48 scan. Idle workers block on the pool's queue and
    take no CPU. A pool inherited through ``fork`` has no threads in the
    child, so a new one is made there. The workers block SIGINT and SIGTERM
    (POSIX): the kernel then hands those to the main thread, as when no
    worker existed between calls, so a caller that blocks them for a moment
    (the batch command's final rename) still defers them.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    if _POOL.get("pid") != os.getpid() or _POOL["size"] < k:
        size = max(k, usable_cores())
        _POOL.update(pid=os.getpid(), size=size,
                     pool=ThreadPoolExecutor(size, thread_name_prefix="epdf-pdf",
                                             initializer=_block_signals))
    return _POOL["pool"]


def _block_signals():
    """Block SIGINT and SIGTERM in the calling (worker) thread, where POSIX allows."""
    import signal

    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _in_threads(part, n, k):
    """Start ``part`` (a :class:`_Part`) on ``n`` patterns in ``k`` threads (rows
    split); return its ``wait`` and ``ready``."""
    import contextlib
    import threading

    from .unmixing import blas_threads

    # One BLAS thread per part: OpenBLAS's own threads busy-wait for a core that
    # another part, the caller or another process holds (on 2 loaded cores the
    # 2304-pattern chain took 112–175 ms with its two threads, 37 ms with one).
    stack = contextlib.ExitStack()
    stack.enter_context(blas_threads(1))
    edges = np.linspace(0, n, k + 1).astype(int)
    formed = [threading.Event() for _ in range(k)]

    def run(a, b, done):
        try:
            phi = part.coefficients(a, b)
        finally:
            done.set()  # also on an error: wait() re-raises it
        part.product(phi, a, b)

    try:
        pool = _pool(k)
        futures = [pool.submit(run, a, b, done)
                   for a, b, done in zip(edges[:-1], edges[1:], formed, strict=True)]
    except BaseException:
        stack.close()
        raise

    def ready():
        for done in formed:
            done.wait()

    def wait():
        from concurrent.futures import wait as all_done

        try:
            all_done(futures)
            for f in futures:
                f.result()  # re-raises an error of the product
        finally:
            stack.close()  # restores the BLAS threads (once: ExitStack is emptied)

    return wait, ready


def _lazy(x, s, N, C, f2, fsq, operator, matrix):
    """The same, block by block of the dask array (nothing computed)."""
    import dask.array as da

    nav_chunks = x.chunks[:-1]
    x = x.rechunk(nav_chunks + (-1,))

    def nav(a):
        a = a if hasattr(a, "dask") else da.from_array(np.asarray(a, dtype=float))
        a = da.broadcast_to(a, x.shape[:-1]) if a.ndim < x.ndim - 1 else a
        return a.rechunk(nav_chunks)

    def per_pixel(f):
        if np.ndim(f) <= 1:
            return None
        f = f if hasattr(f, "dask") else da.from_array(np.asarray(f, dtype=float))
        return da.broadcast_to(f, x.shape).rechunk(x.chunks)

    lazy_f = {"f2": per_pixel(f2), "fsq": per_pixel(fsq)}
    per = [f for f in lazy_f.values() if f is not None]
    shared = {"f2": f2, "fsq": fsq}

    def block(xb, nb, cb, *fb, with_g):
        it = iter(fb)
        f = {k: (next(it) if lazy_f[k] is not None else shared[k]) for k in ("f2", "fsq")}
        return _eager(xb, s, nb, cb, f["f2"], f["fsq"], operator, matrix, with_g=with_g)

    # N and C have the navigation shape; a trailing axis lets map_blocks align them.
    args = (x, nav(N)[..., None], nav(C)[..., None], *per)

    def block_g(xb, nb, cb, *fb):
        return block(xb, nb[..., 0], cb[..., 0], *fb, with_g=True)[0]

    def block_c(xb, nb, cb, *fb):
        return block(xb, nb[..., 0], cb[..., 0], *fb, with_g=False)[1]

    # Two block functions rather than one (n_r + 3)-wide block sliced apart: recomputing
    # φ of a block for its 3 coefficients is cheaper than copying G out of a wider block.
    G = da.map_blocks(block_g, *args, chunks=nav_chunks + ((matrix.shape[1],),),
                      dtype=matrix.dtype)
    coefs = None
    if operator.coefficients is not None:
        coefs = da.map_blocks(block_c, *args, chunks=nav_chunks + ((3,),), dtype=float)
    return G, coefs


@dataclass(frozen=True)
class ChainParameters:
    """Validated chain parameters with every default resolved (Å⁻¹, Å², Å).

    Attributes
    ----------
    s_range : tuple of float
        Fit window of N⟨f²⟩ + C.
    b : float
        Exponential damping factor.
    s_min : float
        Direct-beam edge (φ linear to 0 below).
    s_max : float
        Upper zero of the Mu polynomial and end of the data used.
    polynomial_range : tuple of float
        Fit window of the Mu polynomial, (s_min, s_max) by default.
    r : numpy.ndarray
        The r grid.
    defaults : tuple of str
        Names of the parameters that took their default.

    Examples
    --------
    >>> p = validate_chain_parameters(np.linspace(0.02, 2.5, 64), b=0.6, r_max=10.0)
    >>> p.b, p.s_min, p.r.size, "b" in p.defaults
    (0.6, 0.14, 1001, False)
    """

    s_range: tuple
    b: float
    s_min: float
    s_max: float
    polynomial_range: tuple
    r: np.ndarray
    defaults: tuple


def check_b(b, s_last=None):
    """The damping factor b in Å², validated; ``None`` gives the default.

    The default is :data:`DAMPING_AT_EDGE`/s_last² (e^−5 at the last sample
    used, s_last in Å⁻¹; the paper's 0.8 Å² at 2.5 Å⁻¹), or
    :data:`DEFAULT_B` without ``s_last``. A ``TypeError`` for a non-number, a
    ``ValueError`` below 0, a warning above 10 Å² (a value in nm²?).

    Examples
    --------
    >>> check_b(None, 2.5), check_b(0.6), round(check_b(None, 4.2366), 3)
    (0.8, 0.6, 0.279)
    """
    if b is None:
        if s_last is None:
            return DEFAULT_B
        return round(DAMPING_AT_EDGE / float(s_last) ** 2, 4)
    b = as_float(b, "b", units="Å²")
    if b < 0:
        raise ValueError(f"'b' must be a damping factor >= 0 Å²; got {b:g}.")
    if b > 10:
        warnings.warn(
            f"'b' = {b:g} Å² damps φ(s) by exp(-{b:g}·s²), e^-{b * 0.25:.3g} already at "
            "0.5 Å⁻¹: b is in Å² (the paper: 0.6–1.0). A value in nm² is 100× too large: "
            f"{b:g} nm² = {b * 100:g} Å², {b:g} Å² = {b / 100:g} nm².",
            UserWarning, stacklevel=3,
        )
    return b


def default_s_min(s, first_valid=None):
    """The default direct-beam edge: :data:`DEFAULT_S_MIN`, or the first sample
    with counts (``first_valid``, e.g. the beam-stop edge) if that is later.

    Examples
    --------
    >>> default_s_min(np.linspace(0.02, 2.5, 64))
    0.14
    >>> default_s_min(np.linspace(0.0, 4.0, 401), first_valid=0.177)
    0.177
    """
    s = as_axis(s)
    lo = float(s[0]) if first_valid is None else max(float(first_valid), float(s[0]))
    return max(DEFAULT_S_MIN, lo)


def validate_chain_parameters(s, *, s_range=None, b=None, s_min=None, s_max=None,
                              polynomial_range=None, r_max=20.0, r_step=0.01, r_min=0.0,
                              edge=None, first_valid=None, n_patterns=1, itemsize=8,
                              eager=True):
    """Check every chain parameter against the s axis and resolve the defaults.

    The one validation of the chain: :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.get_pdf`,
    the step methods and the batch command's dry run call it, so a value one
    accepts the others accept. Errors name the parameter, the value and the
    valid range; likely unit slips are warned about.

    Parameters
    ----------
    s : array_like
        s in Å⁻¹ of the profile (bin centres).
    s_range, b, s_min, s_max, polynomial_range : optional
        As :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.get_pdf`; ``None``
        takes the default: s_range (0.64 s_edge, s_edge), b 5/s_last² Å²
        (:func:`check_b`; 0.8 Å² for s_last = 2.5 Å⁻¹), s_min
        :func:`default_s_min`, s_max the last sample, polynomial_range
        (s_min, s_max).
    r_max, r_step, r_min : float
        r grid in Å.
    edge : float, optional
        Outer edge of the last s bin (``metadata.ePDF.integration.edges[-1]``);
        default the last sample plus half a spacing.
    first_valid : float, optional
        First s with counts (below: beam stop or mask).
    n_patterns : int
        Number of patterns (for the memory estimate).
    itemsize : int
        Bytes per G value (8: float64, 4: float32).
    eager : bool
        The result is held in memory (else only the chain matrix is).

    Returns
    -------
    ChainParameters

    Examples
    --------
    >>> s = (np.arange(70) + 0.5) * 2.5 / 70
    >>> p = validate_chain_parameters(s)
    >>> p.s_range, p.b, p.s_min, p.defaults
    ((1.6, 2.5), 0.8116, 0.14, ('s_range', 'b', 's_min', 's_max', 'polynomial_range'))
    >>> validate_chain_parameters(s, s_max=2.5).s_max
    2.5
    >>> validate_chain_parameters(s, s_min=2.45)
    Traceback (most recent call last):
    ...
    ValueError: 's_min' = 2.45 Å⁻¹ must lie below the fit window s_range = (1.6, 2.5) Å⁻¹ ...
    """
    s = as_axis(s)
    edge = outer_edge(s) if edge is None else as_float(edge, "edge", units="Å⁻¹")
    defaults = []
    if s_max is None:
        defaults.append("s_max")
        s_max = float(s[-1])
    else:
        s_max = check_s_max(s, s_max, edge=edge)
    if s_range is None:
        defaults.append("s_range")
    s_range = resolve_s_range(s, s_range, edge=edge,
                              s_max=None if "s_max" in defaults else s_max)
    if b is None:
        defaults.append("b")
    b = check_b(b, float(s[count_up_to(s, s_max) - 1]))
    if s_min is None:
        defaults.append("s_min")
        s_min = default_s_min(s, first_valid)
    s_min = as_float(s_min, "s_min", units="Å⁻¹")
    if s_min < s[0] - 1e-9 * max(abs(s[0]), 1.0):
        raise ValueError(
            f"'s_min' = {s_min:g} Å⁻¹ lies below the first sample s = {s[0]:g} Å⁻¹; φ is "
            "taken linear to 0 from the first sample anyway: pass s_min >= "
            f"{s[0]:g} or None."
        )
    if not s_min < s_range[0]:
        if s_min > 1.0:
            hint = f" Is it in nm⁻¹? {s_min:g} nm⁻¹ = {s_min / 10:g} Å⁻¹."
        else:
            hint = ""
        raise ValueError(
            f"'s_min' = {s_min:g} Å⁻¹ must lie below the fit window s_range = "
            f"({s_range[0]:g}, {s_range[1]:g}) Å⁻¹ (the direct-beam edge is at low s).{hint}"
        )
    if s_min > 1.0:
        warnings.warn(
            f"'s_min' = {s_min:g} Å⁻¹ discards φ(s) below {s_min:g} Å⁻¹; the direct beam ends "
            f"near 0.1–0.2 Å⁻¹ (the paper: 0.18). In nm⁻¹? {s_min:g} nm⁻¹ = {s_min / 10:g} Å⁻¹.",
            UserWarning, stacklevel=3,
        )
    if first_valid is not None and s_min < float(first_valid) - 1e-9:
        warnings.warn(
            f"'s_min' = {s_min:g} Å⁻¹ lies below the first s with counts, {float(first_valid):g} "
            "Å⁻¹ (beam stop or mask): φ there is not data. Use s_min >= "
            f"{float(first_valid):g} (the default).",
            UserWarning, stacklevel=3,
        )
    if polynomial_range is None:
        defaults.append("polynomial_range")
        polynomial_range = (max(s_min, float(s[0])), s_max)
    polynomial_range = as_pair(polynomial_range, "polynomial_range")
    if polynomial_range[1] > s_max * (1 + 1e-12):
        raise ValueError(
            f"'polynomial_range' upper end {polynomial_range[1]:g} exceeds 's_max' = "
            f"{s_max:g} Å⁻¹."
        )
    r = checked_r_grid(r_max, r_step, r_min, n_s=s.size, n_patterns=n_patterns,
                       itemsize=itemsize, eager=eager)
    return ChainParameters(s_range=s_range, b=b, s_min=s_min, s_max=s_max,
                           polynomial_range=polynomial_range, r=r,
                           defaults=tuple(d for d in ("s_range", "b", "s_min", "s_max",
                                                      "polynomial_range") if d in defaults))


def resolve_s_range(s, s_range=None, *, edge=None, s_max=None):
    """The fit window (lo, hi) in Å⁻¹, validated; ``None`` gives the default.

    The default is the upper part of the profile, (0.64 s_edge, s_edge), with
    s_edge the outer edge of the last bin (or ``s_max`` if lower).

    Examples
    --------
    >>> s = (np.arange(70) + 0.5) * 2.5 / 70
    >>> resolve_s_range(s), resolve_s_range(s, [1.5, 2.4])
    ((1.6, 2.5), (1.5, 2.4))
    >>> resolve_s_range(s, 1.6)
    Traceback (most recent call last):
    ...
    TypeError: 's_range' must be a pair (lo, hi) of numbers in Å⁻¹; got 1.6 (float).
    """
    s = as_axis(s)
    edge = outer_edge(s) if edge is None else float(edge)
    if s_range is None:
        hi = edge if s_max is None else min(edge, float(s_max))
        s_range = (round(FIT_WINDOW_FRACTION * hi, 6), hi)
    s_range = as_pair(s_range, "s_range")
    top = max(edge, float(s[-1]))
    if s_range[0] < s[0] - 1e-6 or s_range[1] > top + 1e-6:
        raise ValueError(
            f"'s_range' = {s_range} Å⁻¹ lies outside the data, {s[0]:g} to {top:g} Å⁻¹."
        )
    return s_range


def _available_memory():
    import os

    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 16e9


def checked_r_grid(r_max, r_step, r_min=0.0, *, n_s=1, n_patterns=1, itemsize=8, eager=True):
    """:func:`~pyxem_epdf.physics.transform.r_grid` after a memory check.

    The chain matrix (n_s × n_r float64) and, for an eager result, G(r)
    (n_patterns × n_r) are estimated first; above half the available memory
    a ``ValueError`` gives the estimate instead of an allocation failure.
    ``r_max`` above 200 Å is warned about (r is in Å; a value in nm?).

    Examples
    --------
    >>> checked_r_grid(20.0, 0.01).size
    2001
    >>> checked_r_grid(20.0, 1e-7, n_s=64, n_patterns=400)
    Traceback (most recent call last):
    ...
    ValueError: The r grid r_min=0, r_max=20, r_step=1e-07 Å has 200000001 points: ...
    """
    r_max = as_float(r_max, "r_max", units="Å")
    r_step = as_float(r_step, "r_step", units="Å")
    r_min = as_float(r_min, "r_min", units="Å")
    if r_step > 0 and r_max > r_min >= 0:
        n_r = int(np.floor((r_max - r_min) / r_step * (1 + 1e-12))) + 1
        need = n_r * 8.0 * (3 * n_s) + (n_r * float(itemsize) * n_patterns if eager else 0)
        have = _available_memory()
        if need > MEMORY_FRACTION * have:
            raise ValueError(
                f"The r grid r_min={r_min:g}, r_max={r_max:g}, r_step={r_step:g} Å has {n_r} "
                f"points: G(r) and the chain matrix would take {need / 1e9:.3g} GB (available "
                f"{MEMORY_FRACTION:g} × {have / 1e9:.3g} GB). Use a coarser 'r_step' "
                "(e.g. 0.01 Å) or a smaller 'r_max'."
            )
        if r_max > 200:
            warnings.warn(
                f"'r_max' = {r_max:g} Å: ePDF structure dies out within ~20–50 Å, and r is in "
                f"Å (in nm? {r_max:g} nm = {r_max * 10:g} Å; {r_max:g} Å = {r_max / 10:g} nm).",
                UserWarning, stacklevel=3,
            )
    return transform.r_grid(r_max, r_step, r_min)


__all__ = ["ChainOperator", "ChainParameters", "chain_operator", "check_b", "checked_r_grid",
           "default_s_min", "intensity_to_pdf", "resolve_s_range", "validate_chain_parameters"]
