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

from dataclasses import dataclass

import numpy as np

from . import corrections, transform
from ._common import as_array, as_axis, count_up_to, float_dtype


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
    s_max = float(s[-1]) if s_max is None else float(s_max)
    if not s[0] < s_max <= s[-1] * (1 + 1e-12):
        raise ValueError(
            f"'s_max' must lie in ({s[0]:g}, {s[-1]:g}] Å⁻¹ (the data); got {s_max:g}."
        )
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
        dask out (nothing computed).
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

    s = as_axis(s)
    dtype = None if dtype is None else float_dtype(dtype)
    x = as_array(intensity)
    if x.shape[-1] != s.size:
        raise ValueError(
            f"'intensity' has {x.shape[-1]} s values, the grid 's' has {s.size}."
        )
    f2, fsq = as_array(f2_mean), as_array(f_mean_sq)
    matrix = operator.matrix if dtype is None else operator.matrix.astype(dtype, copy=False)
    if not hasattr(x, "dask") and any(hasattr(a, "dask") for a in (N, C, f2, fsq)):
        import dask.array as da  # e.g. a fit weighted by a lazy variance: stay lazy

        x = da.from_array(x, chunks=("auto",) * (x.ndim - 1) + (-1,))
    if hasattr(x, "dask"):
        if x.ndim == 1:  # a single pattern: one navigation row for map_blocks
            G, coefs = _lazy(x[None], s, np.reshape(N, (1,)), np.reshape(C, (1,)),
                             f2, fsq, operator, matrix)
            return G[0], None if coefs is None else coefs[0]
        return _lazy(x, s, N, C, f2, fsq, operator, matrix)
    return _eager(x, s, N, C, f2, fsq, operator, matrix)


#: Patterns per block of the eager product: φ of a block (~4 MB) is still in
#: cache when it is multiplied, and no full-size φ array is ever allocated.
_BLOCK = 2048


def _phi(x, s, N, C, f2, fsq, rows):
    """φ on the operator's rows for a 2-D (patterns × s) block."""
    from .fit import reduced_intensity

    return reduced_intensity(x[:, rows], s[rows], N, C, f2[..., rows], fsq[..., rows])


def _eager(x, s, N, C, f2, fsq, operator, matrix, *, with_g=True):
    """(G, coefficients) of NumPy data, block by block into preallocated outputs."""
    rows, coef_matrix = operator.rows, operator.coefficients
    nav = x.shape[:-1]
    n = int(np.prod(nav))
    x2 = x.reshape(n, x.shape[-1])
    N2, C2 = (np.broadcast_to(as_array(a), nav).reshape(n) for a in (N, C))
    f2, fsq = (np.broadcast_to(f, nav + f.shape[-1:]).reshape(n, f.shape[-1])
               if np.ndim(f) > 1 else f for f in (f2, fsq))
    G = np.empty((n, matrix.shape[1]), dtype=matrix.dtype) if with_g else None
    coefs = None if coef_matrix is None else np.empty((n, 3))
    for i in range(0, n, _BLOCK):
        j = slice(i, min(i + _BLOCK, n))
        phi = _phi(x2[j], s, N2[j], C2[j], f2[j] if np.ndim(f2) > 1 else f2,
                   fsq[j] if np.ndim(fsq) > 1 else fsq, rows)
        if coefs is not None:
            np.matmul(phi, coef_matrix, out=coefs[j])
        if with_g:
            np.matmul(phi.astype(matrix.dtype, copy=False), matrix, out=G[j])
    G = G.reshape(nav + (matrix.shape[1],)) if with_g else None
    return G, None if coefs is None else coefs.reshape(nav + (3,))


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


__all__ = ["ChainOperator", "chain_operator", "intensity_to_pdf"]
