"""Closed-form fit of the structureless scattering N⟨f²⟩ + C, and φ(s).

For every probe position at once, the model

.. math::

    I(s) ≈ N \\langle f^2 \\rangle(s) + C

is fitted on an s-window by (weighted) linear least squares. With the sums
:math:`S_w = Σw`, :math:`S_a = Σ w a`, :math:`S_{aa} = Σ w a^2`,
:math:`S_y = Σ w I`, :math:`S_{ay} = Σ w a I` over the window
(:math:`a = ⟨f^2⟩`), the normal equations give

.. math::

    N = \\frac{S_{ay} S_w - S_a S_y}{D},\\quad
    C = \\frac{S_{aa} S_y - S_a S_{ay}}{D},\\quad D = S_{aa} S_w - S_a^2 .

Everything is sums along the signal axis, so NumPy and dask inputs work alike
and no pixel is ever looped over or fitted iteratively.

With N fixed (as single-pattern tools such as eRDF Analyser or ePDFsuite let
the user set it), only C is fitted, :math:`C = (S_y - N S_a)/S_w`, the
weighted mean of :math:`I - N a` over the window.

At low dose N and C of a single pattern are nearly degenerate (⟨f²⟩ varies
little over a high-s window), so N alone is poorly known and G ∝ 1/N inherits
a heavy tail (``benchmarks/bench_lowdose_fit.py``: N̂ spread 29 % at
2.5 e⁻/Å² for 79 counts in the window, whose Poisson limit is 11 %). With
``c_pool`` ≠ 1 the ratio κ = C/N comes from the fit of the window sums pooled
over the scan (or a neighbourhood: the same five sums, box-summed over the
navigation axes), and each pattern fits only its own N of
:math:`I ≈ N (⟨f^2⟩ + κ)`:

.. math::

    N = \\frac{S_{ay} + κ S_y}{S_{aa} + 2 κ S_a + κ^2 S_w},\\qquad C = κ N .

For a single pattern (or ``c_pool = 1``) κ is the pattern's own C/N and this
is exactly the free fit; a pattern whose data reject the pooled κ keeps its
free fit (:data:`POOL_REJECT`).

``c_pool="affine"`` pools C = a + κ N instead (a scan-wide offset a, e.g. a
detector dark offset, and slope κ; each pattern again fits only its N in
closed form, :math:`N = (S_{ay} + κ S_y - a (S_a + κ S_w)) / Q`). It removes
the thickness-dependent N bias of a scan-wide C/N when a constant background
is large, but adds noise and takes phase-to-phase differences of the
⟨f²⟩ shape for an offset, so it is not the default
(``benchmarks/bench_cn_robust.py``).
"""

from dataclasses import dataclass

import numpy as np

from ._common import as_array, as_axis, expand_nav, last_axis, safe_divide, window_slice


@dataclass(frozen=True)
class ScatteringFit:
    """Result of :func:`fit_scattering_background` (arrays of navigation shape).

    Attributes
    ----------
    N : array
        Scale of ⟨f²⟩, in intensity units per Å² (f in Å).
    C : array
        Additive constant, in intensity units.
    N_std, C_std : array
        Standard errors from the residual scatter (reduced χ² scaled
        covariance of the linear fit). Pooled (``c_pool`` ≠ 1): that of N
        with κ known plus κ's own error (the pooled fit's covariance, scaled
        by the pool's mean χ², by the delta method); C = κ N likewise.
    reduced_chi2 : array
        Weighted residual sum of squares / (n − n_parameters); pooled:
        n − 1 − 1/m degrees of freedom (one own parameter and a 1/m share
        of κ, m the finite patterns in the pool).
    valid : array of bool
        ``True`` where the whole pattern is finite and N > 0, i.e. where φ(s)
        is defined (:func:`flag_outliers` further clears fit-quality outliers).
    finite : array of bool
        ``True`` where every I(s) value of the pattern is finite; patterns
        with NaN or inf get N = C = 0 (so φ = 0) and ``valid = False``.
    C_over_N : array
        κ = C/N of the fit. With ``c_pool`` > 1 the neighbourhood's pooled
        ratio that fixed C = κ N (N_std and C_std include its uncertainty);
        otherwise each pattern's own C/N (0 where N = 0). With
        ``c_pool="affine"``: the slope κ of C = a + κ N where pooled.
    pooled : array of bool
        ``True`` where C = κ N with the neighbourhood's κ was used; ``False``
        where N and C were fitted on the pattern alone (``c_pool`` = 1, a
        single pattern, N fixed, ``fix_c``, or a pattern whose own data
        reject the pooled ratio: its residual sum of squares exceeds that of
        its free fit by more than :data:`POOL_REJECT` × its noise variance).
    C_offset : array
        The scan-wide offset a of C = a + κ N (``c_pool="affine"``) where
        pooled, in intensity units; 0 otherwise.

    Examples
    --------
    >>> s = np.linspace(0.0, 3.0, 301)
    >>> a = 1.0 / (1.0 + s**2)
    >>> patterns = np.stack([5.0 * a + 0.2, 0.0 * a])   # a specimen and a vacuum pattern
    >>> fit = fit_scattering_background(patterns, s, a, (1.5, 2.5))
    >>> fit.N.round(6).tolist(), fit.C.round(6).tolist(), fit.valid.tolist()
    ([5.0, 0.0], [0.2, 0.0], [True, False])
    >>> bool(np.all(fit.N_std < 1e-9))   # noiseless: no scatter about the model
    True
    """

    N: object
    C: object
    N_std: object
    C_std: object
    reduced_chi2: object
    valid: object
    finite: object = True
    C_over_N: object = 0.0
    pooled: object = False
    C_offset: object = 0.0


#: Default ``c_pool`` of :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.fit_scattering`
#: for scans: one C/N for the whole scan. Measured (``benchmarks/bench_lowdose_fit.py``,
#: 24×24 scans, 128² detector): the spread of N̂ on pure ZIF-like patterns at
#: 2.5 e⁻/Å² is 0.29 with the per-pattern fit, 0.16 / 0.14 / 0.13 with 3 / 5 / 7
#: wide neighbourhoods and 0.12 with the whole scan (the Poisson limit of a known
#: C/N); the mean-G scale is 1.22 per pattern and 1.01–1.03 pooled. A
#: neighbourhood's κ error is shared by its patterns, i.e. spatially correlated
#: noise, which the rank estimate (neighbour differences) takes for signal: with
#: 5-wide pooling the 2.5 e⁻/Å² test composite gets 3 components for 2, with the
#: whole scan 2 (``benchmarks/accuracy_route.py --fast``: 11 of 30 checks against
#: 10 per pattern and 10 with 5-wide pooling, none of today's passes lost).
C_POOL = "scan"
#: Increase of a pattern's residual sum of squares, in units of its own noise
#: variance, above which its data reject the pooled C/N and its free fit is
#: kept (a likelihood-ratio test with 1 degree of freedom: 25 is 5σ, so noise
#: alone rejects about 1 pattern in 1.7 million; noiseless data whose C/N
#: differs from the neighbours' keep their exact free fit).
POOL_REJECT = 25.0


def check_fixed_n(N, nav_shape, name="N"):
    """A fixed N (scalar or navigation-shaped, > 0 and finite) as an array.

    Dask arrays are checked for shape only (their values are not computed).

    Parameters
    ----------
    N : float, array_like or dask.array.Array
        Scale of ⟨f²⟩ in intensity units per Å²: one value, or one per
        pattern with a shape broadcastable to ``nav_shape``.
    nav_shape : tuple of int
        Navigation shape of the patterns.
    name : str
        Parameter name used in error messages.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        ``N`` broadcast to ``nav_shape`` (float).

    Examples
    --------
    >>> check_fixed_n(2.5, (2,)).tolist()
    [2.5, 2.5]
    >>> check_fixed_n([1.0, -1.0], (2,))
    Traceback (most recent call last):
    ...
    ValueError: 'N' must be finite and > 0 at every pattern; got min -1, 0 of 2 non-finite.
    """
    nav_shape = tuple(nav_shape)
    if isinstance(N, (bool, np.bool_, str, bytes)) or N is None:
        raise TypeError(f"'{name}' must be a number or an array of numbers; got {N!r}.")
    if hasattr(N, "dask"):
        arr = N.astype(float)
    else:
        try:
            arr = np.asarray(N, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                f"'{name}' must be a number or an array of numbers; got {type(N).__name__}."
            ) from None
    try:
        ok = np.broadcast_shapes(arr.shape, nav_shape) == nav_shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"'{name}' of shape {arr.shape} must be a single value or have the navigation "
            f"shape {nav_shape}."
        )
    if hasattr(arr, "dask"):
        import dask.array as da

        return da.broadcast_to(arr, nav_shape)
    bad = ~np.isfinite(arr)
    if np.any(bad) or np.any(arr <= 0):
        low = np.nanmin(np.where(bad, np.nan, arr)) if not np.all(bad) else np.nan
        raise ValueError(
            f"'{name}' must be finite and > 0 at every pattern; got min {low:g}, "
            f"{int(np.count_nonzero(bad))} of {arr.size} non-finite."
        )
    return np.broadcast_to(arr, nav_shape).copy()


def fit_scattering_background(
    intensity, s, f2_mean, s_range, *, weights=None, fix_c=False, N=None, c_pool=1, axis=-1
):
    """Fit N⟨f²⟩ + C to I(s) on a window, for all spectra at once.

    Parameters
    ----------
    intensity : numpy.ndarray or dask.array.Array
        I(s), any leading (navigation) shape; the s axis is ``axis``.
    s : array_like
        Scattering vector values s = 2 sin(θ)/λ in Å⁻¹ (1-D, increasing).
    f2_mean : array_like
        ⟨f²⟩(s) in Å², shape ``(n_s,)`` or broadcastable to ``intensity``
        (per-pixel composition maps).
    s_range : tuple of float
        (lo, hi) fit window in Å⁻¹, inside the data.
    weights : array_like, optional
        Non-negative weights broadcastable to ``intensity`` (e.g. inverse
        variance). ``None`` means unweighted.
    fix_c : bool
        If ``True``, C is fixed to 0 and only N is fitted.
    N : float or array_like, optional
        Fixed N in intensity units per Å² (one value, or one per pattern of a
        shape broadcastable to the navigation shape; finite and > 0, see
        :func:`check_fixed_n`): then only C is fitted, in closed form, and
        ``N_std`` is 0; with ``fix_c=True`` too nothing is fitted (C = 0)
        and only χ² is computed. ``None``: N is fitted.
    c_pool : int, "scan" or "affine"
        The patterns whose pooled fit fixes κ = C/N (see the module notes):
        an odd width in probe positions along each navigation axis, or
        ``"scan"`` for all of them; ``"affine"``: C = a + κ N with a and κ
        of the whole scan (a by least squares over all patterns, κ by a
        1-D search: each pattern's N and a are closed-form for a given κ). 1 fits N and C of every pattern on its
        own; otherwise the five window sums are summed over the
        neighbourhood (finite patterns only; clipped at the scan edges), N
        and C are fitted to the pooled sums, and each pattern fits its own N
        with C = κ N. Only used when both N and C are fitted and the data
        have navigation axes (a single pattern is its own neighbourhood).
        :data:`C_POOL` is the signal methods' default. Lazy input: the
        navigation-shaped sums are gathered into one chunk (the patterns
        are not).
    axis : int
        The s axis of ``intensity``.

    Returns
    -------
    ScatteringFit
        N, C, their standard errors, reduced χ² and validity, each of the
        navigation shape. Patterns with no signal in the window (vacuum) get
        N = C = 0 and ``valid = False``; no NaN or inf is produced.

    Examples
    --------
    >>> s = np.linspace(0.0, 3.0, 301)
    >>> a = 1.0 / (1.0 + s**2)
    >>> fit = fit_scattering_background(5.0 * a + 0.2, s, a, (1.5, 2.5))
    >>> round(float(fit.N), 6), round(float(fit.C), 6)
    (5.0, 0.2)

    With N fixed, C alone is fitted:

    >>> fit = fit_scattering_background(5.0 * a + 0.2, s, a, (1.5, 2.5), N=5.0)
    >>> round(float(fit.C), 12), float(fit.N_std)
    (0.2, 0.0)

    C/N pooled over 3 neighbours (or ``c_pool="scan"``) of a line scan whose background is a fixed
    fraction of N (C = 0.04 N): each pattern's own N comes out exactly.

    >>> N_true = np.array([2.0, 3.0, 4.0, 5.0])
    >>> patterns = N_true[:, None] * (a + 0.04)
    >>> fit = fit_scattering_background(patterns, s, a, (1.5, 2.5), c_pool=3)
    >>> fit.N.round(9).tolist(), fit.C_over_N.round(9).tolist()
    ([2.0, 3.0, 4.0, 5.0], [0.04, 0.04, 0.04, 0.04])

    With a dark offset too (C = 0.3 + 0.04 N), ``c_pool="affine"`` fits the scan-wide
    offset and slope:

    >>> fit = fit_scattering_background(patterns + 0.3, s, a, (1.5, 2.5), c_pool="affine")
    >>> fit.N.round(9).tolist(), round(float(fit.C_offset[0]), 9), round(float(fit.C_over_N[0]), 9)
    ([2.0, 3.0, 4.0, 5.0], 0.3, 0.04)
    """
    s = as_axis(s)
    c_pool = check_c_pool(c_pool)
    n_params = (0 if fix_c else 1) + (1 if N is None else 0)
    win = window_slice(s, *s_range, min_points=n_params + 1)
    x = last_axis(intensity, axis)
    finite = np.isfinite(x).all(axis=-1)
    y = x[..., win]
    if hasattr(y, "dask") or not np.all(finite):  # non-finite patterns: fit zeros, flag below
        y = np.where(np.isfinite(y), y, 0.0)
    a = last_axis(f2_mean, axis)[..., win]
    if weights is None:
        w = np.ones(win.stop - win.start)
    else:
        w = last_axis(weights, axis)[..., win]
        if isinstance(w, np.ndarray) and (np.any(w < 0) or not np.all(np.isfinite(w))):
            raise ValueError("'weights' must be finite and >= 0 everywhere in 's_range'.")
    nav_shape = y.shape[:-1]

    def wsum(*factors):
        out = w
        for f in factors:
            out = out * f
        return np.broadcast_to(out.sum(axis=-1), nav_shape)

    s_w, s_a, s_aa = wsum(), wsum(a), wsum(a, a)
    common = np.ndim(w) == 1 and np.ndim(a) == 1
    if common:  # the same weights and ⟨f²⟩ for every pattern: one product
        sums = y @ np.stack([w, w * a], axis=-1)
        s_y, s_ay = sums[..., 0], sums[..., 1]
    else:
        s_y, s_ay = wsum(y), wsum(a, y)
    n = win.stop - win.start
    if N is not None:
        N = check_fixed_n(N, nav_shape)
        zero = 0 * s_w
        if fix_c:
            C, var_c = zero, zero
        else:
            C = safe_divide(s_y - N * s_a, s_w)
            var_c = safe_divide(1 + zero, s_w)
        dof = n - n_params
        var_n = zero
    elif fix_c:
        N = safe_divide(s_ay, s_aa)
        C = 0 * N
        dof = n - 1
        var_n = safe_divide(1 + 0 * N, s_aa)
        var_c = 0 * N
    elif c_pool != 1 and len(nav_shape) > 0:
        return _pooled_fit(y, a, w, common, finite, (s_w, s_a, s_aa, s_y, s_ay), n, c_pool)
    else:
        det = s_aa * s_w - s_a * s_a
        N = safe_divide(s_ay * s_w - s_a * s_y, det)
        C = safe_divide(s_aa * s_y - s_a * s_ay, det)
        dof = n - 2
        var_n = safe_divide(s_w, det)
        var_c = safe_divide(s_aa, det)
    resid = y - (expand_nav(N) * a + expand_nav(C))
    chi2 = ((resid * resid) @ w if common else wsum(resid, resid)) / max(dof, 1)
    N_std, C_std = np.sqrt(var_n * chi2), np.sqrt(var_c * chi2)
    if hasattr(y, "dask") or not np.all(finite):
        N, C, N_std, C_std, chi2 = (np.where(finite, v, 0.0) for v in (N, C, N_std, C_std, chi2))
    valid = finite & np.isfinite(N) & (N > 0)
    return ScatteringFit(
        N=N,
        C=C,
        N_std=N_std,
        C_std=C_std,
        reduced_chi2=chi2,
        valid=valid,
        finite=finite,
        C_over_N=safe_divide(C, N),
    )


def check_c_pool(c_pool, name="c_pool"):
    """``c_pool`` checked: ``"scan"``, ``"affine"`` or an odd int >= 1 (else a ``ValueError``).

    Examples
    --------
    >>> check_c_pool(5), check_c_pool("scan"), check_c_pool("affine")
    (5, 'scan', 'affine')
    >>> check_c_pool(4)
    Traceback (most recent call last):
    ...
    ValueError: 'c_pool' must be 'scan', 'affine' or an odd integer >= 1 (probe positions); got 4.
    """
    if isinstance(c_pool, str) and c_pool in ("scan", "affine"):
        return c_pool
    ok = isinstance(c_pool, (int, np.integer)) and not isinstance(c_pool, (bool, np.bool_))
    if not ok or c_pool < 1 or c_pool % 2 == 0:
        raise ValueError(
            f"'{name}' must be 'scan', 'affine' or an odd integer >= 1 (probe positions); "
            f"got {c_pool!r}."
        )
    return int(c_pool)


def _box_sum(x, size):
    """Sum of ``x`` (NumPy, any shape) over a ``size``-wide box along every axis (0
    outside); ``size="scan"``: the sum of all of ``x`` everywhere."""
    from scipy.ndimage import uniform_filter

    x = np.asarray(x, dtype=float)
    if size in ("scan", "affine"):
        return np.full(x.shape, x.sum())
    return uniform_filter(x, size=size, mode="constant", cval=0.0) * float(size) ** x.ndim


def _pool_block(stack, size):
    """Pooled fit of the box-summed window sums: (κ, var N_nb, var C_nb, cov) / χ̄², m.

    ``stack`` is (6, *nav): finite mask, S_w, S_a, S_aa, S_y, S_ay (already
    zero at non-finite patterns).
    """
    m, s_w, s_a, s_aa, s_y, s_ay = (_box_sum(v, size) for v in stack)
    finite, own = stack[0] > 0.5, stack[1:]
    det = s_aa * s_w - s_a * s_a
    n_nb = safe_divide(s_ay * s_w - s_a * s_y, det)
    c_nb = safe_divide(s_aa * s_y - s_a * s_ay, det)
    ok = (n_nb > 0) & np.isfinite(n_nb)
    # a neighbourhood without scattering (vacuum): the pattern's own ratio
    o_w, o_a, o_aa, o_y, o_ay = own
    o_det = o_aa * o_w - o_a * o_a
    o_n = safe_divide(o_ay * o_w - o_a * o_y, o_det)
    o_c = safe_divide(o_aa * o_y - o_a * o_ay, o_det)
    kappa = np.where(ok, safe_divide(c_nb, n_nb), safe_divide(o_c, np.where(o_n > 0, o_n, 0)))
    # covariance of (N_nb, C_nb) per unit χ²; κ's variance per unit χ² by the delta method
    v_n, v_c, cov = safe_divide(s_w, det), safe_divide(s_aa, det), -safe_divide(s_a, det)
    var_k = safe_divide(v_c - 2 * kappa * cov + kappa**2 * v_n, n_nb**2)
    var_k = np.where(ok, var_k, 0.0)
    return np.stack([np.where(finite, kappa, 0.0), var_k, np.maximum(m, 1.0), 0.0 * kappa])


def _affine_explained(b, fin, s_w, s_a, s_aa, s_y, s_ay):
    """(offset a, explained sum of squares) of I = a + N_i (⟨f²⟩ + b) over the finite patterns."""
    b = np.asarray(b, dtype=float)[..., None]
    s_g, s_gg, s_gy = s_a + b * s_w, s_aa + 2 * b * s_a + b * b * s_w, s_ay + b * s_y
    num = (fin * (s_y - safe_divide(s_g * s_gy, s_gg))).sum(-1)
    den = (fin * (s_w - safe_divide(s_g * s_g, s_gg))).sum(-1)
    off = safe_divide(num, den)[..., None]
    r = s_gy - off * s_g
    ex = (fin * (safe_divide(r * r, s_gg) + 2 * off * s_y - off * off * s_w)).sum(-1)
    return off[..., 0], ex


def _affine_block(stack, size=None):
    """Scan-wide C = a + b N: (b, 0, m, a) broadcast to the navigation shape.

    b maximises the explained sum of squares of I = a + N_i (⟨f²⟩ + b) (a and
    every N_i in closed form for each b): a grid over b / mean ⟨f²⟩ in
    (−0.9, 10³), refined by Brent's root of dE/db (2 Σ N_i × residual sum_i).
    """
    from scipy.optimize import brentq

    fin = stack[0].reshape(-1) > 0.5
    v = [x.reshape(-1)[fin] for x in stack[1:]]
    shape = stack.shape[1:]
    m = float(fin.sum())
    if m < 2 or float(np.sum(v[0])) <= 0:
        return np.stack([np.zeros(shape), np.zeros(shape), np.full(shape, max(m, 1.0)),
                         np.zeros(shape)])
    ones = np.ones(v[0].shape)
    fbar = float(np.sum(v[1]) / np.sum(v[0]))
    grid = fbar * np.concatenate([np.linspace(-0.9, 0.0, 19, endpoint=False),
                                  [0.0], np.logspace(-4, 3, 71)])
    _, ex = _affine_explained(grid, ones, *v)
    k = int(np.nanargmax(ex))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    b = grid[k]

    def slope(x):  # dE/db at the optimal a (envelope theorem): 2 Σ N_i × residual sum_i
        off = _affine_explained(x, ones, *v)[0]
        s_g, s_gg = s_a + x * s_w, s_aa + 2 * x * s_a + x * x * s_w
        n_i = safe_divide(s_ay + x * s_y - off * s_g, s_gg)
        return float(2.0 * np.sum(n_i * (s_y - off * s_w - n_i * s_g)))

    s_w, s_a, s_aa, s_y, s_ay = v
    if hi > lo and slope(lo) * slope(hi) < 0:
        b = brentq(slope, lo, hi, xtol=1e-15 * max(abs(fbar), 1e-300), rtol=1e-15)
    off = float(_affine_explained(b, ones, *v)[0])
    return np.stack([np.full(shape, b), np.zeros(shape), np.full(shape, m), np.full(shape, off)])


def _nav_block(x):
    """A navigation-shaped dask array as one chunk (NumPy unchanged)."""
    return x.rechunk(-1) if hasattr(x, "dask") else x


def _pooled_fit(y, a, w, common, finite, sums, n, size):
    """N of every pattern with C = κ N, κ from the neighbourhood's pooled fit."""
    s_w, s_a, s_aa, s_y, s_ay = sums
    nav_shape = y.shape[:-1]
    lazy = any(hasattr(v, "dask") for v in (y, *sums))
    block = _affine_block if size == "affine" else _pool_block
    fin = finite * 1.0
    parts = [fin] + [np.where(finite, v, 0.0) for v in sums]
    if lazy:
        import dask.array as da

        stack = da.stack([da.broadcast_to(v, nav_shape) if hasattr(v, "dask")
                          else da.from_array(np.broadcast_to(v, nav_shape)) for v in parts])
        chunks = next(v.chunks for v in (y[..., 0], *sums) if hasattr(v, "dask"))
        stack = stack.rechunk((6,) + tuple((k,) for k in nav_shape))
        pooled = da.map_blocks(block, stack, size, dtype=float,
                               chunks=((4,),) + tuple((k,) for k in nav_shape))
        kappa, var_k, m, off = (pooled[i].rechunk(chunks) for i in range(4))
    else:
        kappa, var_k, m, off = block(np.stack([np.broadcast_to(v, nav_shape) for v in parts]),
                                     size)
    def rss_of(n_fit, c_fit):
        resid = y - (expand_nav(n_fit) * a + expand_nav(c_fit))
        if common:
            return (resid * resid) @ w
        return np.broadcast_to((w * resid * resid).sum(-1), nav_shape)

    q = s_aa + 2 * kappa * s_a + kappa**2 * s_w
    N = safe_divide(s_ay + kappa * s_y - off * (s_a + kappa * s_w), q)
    C = off + kappa * N
    rss = rss_of(N, C)
    # the pattern's own free fit, kept where its data reject C = κ N
    det = s_aa * s_w - s_a * s_a
    n_free, c_free = safe_divide(s_ay * s_w - s_a * s_y, det), safe_divide(s_aa * s_y - s_a * s_ay, det)
    rss_free = rss_of(n_free, c_free)
    level = np.maximum(rss_free / max(n - 2, 1), 1e-20 * safe_divide(s_y, s_w) ** 2 + 1e-300)
    pooled = finite & ~((rss - rss_free) / level > POOL_REJECT)
    # one own parameter (N) and a 1/m share of the pooled κ
    chi2 = rss / np.maximum(n - 1 - (2.0 if size == "affine" else 1.0) / m, 1.0)
    # χ̄²: the neighbourhood's mean noise level, for κ's variance
    if lazy:
        import dask.array as da

        chi2_f = da.where(finite, chi2, 0.0).rechunk(-1)
        chi2_nb = da.map_blocks(lambda c, f: safe_divide(_box_sum(c, size), _box_sum(f, size)),
                                chi2_f, _nav_block(da.asarray(fin * np.ones(nav_shape))),
                                dtype=float).rechunk(chunks)
    else:
        chi2_nb = safe_divide(_box_sum(np.where(finite, chi2, 0.0), size),
                              _box_sum(fin * np.ones(nav_shape), size))
    dn_dk = safe_divide(s_y - 2 * N * (s_a + kappa * s_w), q)
    vk = var_k * chi2_nb
    var_n = safe_divide(chi2, q) + dn_dk**2 * vk
    N_std = np.sqrt(var_n)
    C_std = np.sqrt(kappa**2 * safe_divide(chi2, q) + (N + kappa * dn_dk) ** 2 * vk)
    chi2_free = rss_free / max(n - 2, 1)
    free = (n_free, c_free, np.sqrt(safe_divide(s_w, det) * chi2_free),
            np.sqrt(safe_divide(s_aa, det) * chi2_free), chi2_free,
            safe_divide(c_free, np.where(n_free > 0, n_free, 0)))
    N, C, N_std, C_std, chi2, kappa = (
        np.where(finite, np.where(pooled, v, v_free), 0.0)
        for v, v_free in zip((N, C, N_std, C_std, chi2, kappa), free, strict=True))
    off = np.where(finite & pooled, off, 0.0)
    valid = finite & np.isfinite(N) & (N > 0)
    return ScatteringFit(N=N, C=C, N_std=N_std, C_std=C_std, reduced_chi2=chi2, valid=valid,
                         finite=finite, C_over_N=kappa, pooled=pooled, C_offset=off)


def pooled_gradients(s, f2_mean, s_range, C_over_N, pooled, *, weights=None, free=None):
    """∂N/∂I and ∂C/∂I of the pooled fit (C = κ N, κ held fixed), per pattern.

    With κ from many patterns (``c_pool="scan"``) its own error is negligible
    for one pattern, so to first order N = Σ_j w_j (a_j + κ) I_j / Q with
    Q = Σ w (a + κ)² on the window, and C = κ N (also for
    ``c_pool="affine"``, whose scan-wide offset is held fixed like κ). Where ``pooled`` is
    ``False`` the free fit's gradients ``free`` (e.g. from
    :func:`pyxem_epdf.physics.uncertainty.fit_gradients`) are kept. Feed the
    result to :func:`pyxem_epdf.physics.uncertainty.pdf_variance` as
    ``gradients`` for a fit with ``metadata.ePDF.fit.pooled``.

    Parameters
    ----------
    s : array_like
        s in Å⁻¹ (1-D, increasing).
    f2_mean : array_like
        ⟨f²⟩ in Å², ``(n_s,)`` or navigation + ``(n_s,)``.
    s_range : tuple of float
        The fit window (lo, hi) in Å⁻¹.
    C_over_N, pooled : array_like
        ``ScatteringFit.C_over_N`` and ``ScatteringFit.pooled`` (navigation shape).
    weights : array_like, optional
        The fit weights (broadcastable to navigation + ``(n_s,)``).
    free : tuple of array_like, optional
        (∂N/∂I, ∂C/∂I) of the free fit, used where ``pooled`` is ``False``
        (default zeros there).

    Returns
    -------
    a, c : numpy.ndarray
        Navigation + ``(n_s,)``, or ``(n_s,)`` when every pattern is pooled
        with the same κ and ⟨f²⟩ and the weights are shared (``c_pool="scan"``,
        unweighted); 0 outside the window. N = Σ a I, C = Σ c I (with
        ``c_pool="affine"`` up to the fixed offset: N = Σ a (I − C_offset)).

    Examples
    --------
    >>> s = np.linspace(0.0, 3.0, 301)
    >>> f2 = 1.0 / (1.0 + s**2)
    >>> I = np.stack([4.0 * (f2 + 0.05), 6.0 * (f2 + 0.05)])
    >>> a, c = pooled_gradients(s, f2, (1.5, 2.5), [0.05, 0.05], [True, True])
    >>> (a * I).sum(-1).round(9).tolist(), (c * I).sum(-1).round(9).tolist()
    ([4.0, 6.0], [0.2, 0.3])
    """
    s = as_axis(s)
    win = window_slice(s, *s_range, min_points=2)
    kappa = np.asarray(C_over_N, dtype=float)
    pooled = np.asarray(pooled, dtype=bool)
    nav_shape = np.broadcast_shapes(kappa.shape, pooled.shape)
    f2 = np.asarray(f2_mean, dtype=float)
    w = np.ones(s.size) if weights is None else np.asarray(weights, dtype=float)
    if (pooled.all() and kappa.size and np.all(kappa == kappa.flat[0]) and f2.ndim == 1
            and w.ndim == 1):  # one κ for the scan: one gradient for every pattern
        kappa, pooled, nav_shape = kappa.reshape(-1)[:1].reshape(()), np.ones((), bool), ()
    shape = np.broadcast_shapes(nav_shape + (s.size,), f2.shape, w.shape)
    k = np.broadcast_to(kappa, nav_shape)[..., None]
    f2w, ww = np.broadcast_to(f2, shape)[..., win], np.broadcast_to(w, shape)[..., win]
    g = ww * (f2w + k)
    q = (g * (f2w + k)).sum(-1, keepdims=True)
    a = np.zeros(shape)
    a[..., win] = safe_divide(g, q)
    c = k * a
    if free is None:
        free = (np.zeros(shape), np.zeros(shape))
    keep = np.broadcast_to(pooled, nav_shape)[..., None]
    return (np.where(keep, a, np.broadcast_to(free[0], shape)),
            np.where(keep, c, np.broadcast_to(free[1], shape)))


#: Robust z (median and 1.4826 × MAD over the scan, on log N and log χ²) above
#: which a pattern's fit is an outlier. Measured (``benchmarks/chain_defaults.py``):
#: 12 clean composite scans (3 seeds, 10 e⁻/Å², full and 2×2-binned, unweighted
#: and Poisson-weighted) reach at most |z(N)| = 5.4 and z(χ²) = 3.2; 8 leaves a
#: 1.5× margin, while a fit that fails like the issue's demo pixel (N 17× below
#: the median) is at |z(N)| ≈ 25.
OUTLIER_Z = 8.0
#: Fewer valid patterns than this: no outlier test (the median is not robust).
OUTLIER_MIN_PATTERNS = 8


def robust_z(x, mask):
    """(x − median)/(1.4826 MAD) over the entries where ``mask`` (NumPy only).

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 100.0])
    >>> robust_z(x, np.ones(9, bool)).round(2).tolist()
    [-1.35, -1.01, -0.67, -0.34, 0.0, 0.34, 0.67, 1.01, 32.04]
    """
    x = np.asarray(x, dtype=float)
    mask = np.asarray(mask, dtype=bool) & np.isfinite(x)
    out = np.zeros(x.shape)
    if np.count_nonzero(mask) < OUTLIER_MIN_PATTERNS:
        return out
    ref = x[mask]
    med = np.median(ref)
    mad = 1.4826 * np.median(np.abs(ref - med))
    mad = max(mad, 1e-3)  # 0.1 % in log units: noiseless, identical patterns
    out[mask] = (x[mask] - med) / mad
    return out


def _outlier_block(N, chi2, valid, floor, threshold, test_n=True):
    N, chi2, valid = np.asarray(N, float), np.asarray(chi2, float), np.asarray(valid, bool)
    ok = valid & (N > 0)
    noisy = ok & (chi2 > np.asarray(floor, float))  # χ² above rounding: a noise level
    with np.errstate(divide="ignore", invalid="ignore"):
        z_n = robust_z(np.log(np.where(ok, N, 1.0)), ok) if test_n else np.zeros(N.shape)
        z_c = robust_z(np.log(np.where(noisy, chi2, 1.0)), noisy)
    outlier = ok & ((np.abs(z_n) > threshold) | (z_c > threshold))
    return np.stack([outlier.astype(float), z_n, z_c])


def flag_outliers(fit, *, threshold=None, chi2_floor=0.0, test_n=True):
    """Fit-quality outliers of a scan: robust z of log N and log χ² against the scan.

    A pattern whose N is far from the scan's (|z| > threshold, e.g. a pixel
    with a fit that latched onto a detector artefact) or whose reduced χ² is
    far above it (z > threshold) is an outlier; ``valid`` is cleared there.
    Logarithms make the test independent of the thickness (N ∝ t) and of the
    intensity scale of χ². Lazy in, lazy out.

    Parameters
    ----------
    fit : ScatteringFit
        From :func:`fit_scattering_background` (a whole scan).
    threshold : float, optional
        Robust-z limit; default :data:`OUTLIER_Z`.
    chi2_floor : float or array
        Reduced χ² at or below this (e.g. rounding level of noiseless data,
        in intensity²) is not a noise level and is left out of the χ² test.

    Returns
    -------
    ScatteringFit
        ``fit`` with ``valid`` cleared at outliers.
    outlier : array of bool
        The outlier map (navigation shape).
    z_N, z_chi2 : array
        The robust z maps (0 where not tested).

    Examples
    --------
    >>> s = np.linspace(0.0, 3.0, 301)
    >>> a = 1.0 / (1.0 + s**2)
    >>> rng = np.random.default_rng(0)
    >>> N = rng.uniform(4, 6, 50)
    >>> I = N[:, None] * a + rng.normal(0, 0.01, (50, s.size))
    >>> I[7] = 0.2 * a + rng.normal(0, 0.2, s.size)        # a failed pattern
    >>> fit, outlier, z_n, z_c = flag_outliers(fit_scattering_background(I, s, a, (1.5, 2.5)))
    >>> np.flatnonzero(outlier).tolist(), bool(fit.valid[7])
    ([7], False)
    """
    from dataclasses import replace

    threshold = OUTLIER_Z if threshold is None else float(threshold)
    if not threshold > 0:
        raise ValueError(f"'threshold' must be > 0; got {threshold!r}.")
    N, chi2, valid = fit.N, fit.reduced_chi2, fit.valid
    floor = chi2_floor
    if np.ndim(N) == 0:  # a single pattern: nothing to compare with
        return fit, np.zeros((), bool), np.zeros(()), np.zeros(())
    if any(hasattr(v, "dask") for v in (N, chi2, valid)):
        import dask.array as da

        def one(v):
            v = v if hasattr(v, "dask") else da.from_array(np.asarray(v))
            return v.rechunk(-1)

        chunks = next(v.chunks for v in (N, chi2, valid) if hasattr(v, "dask"))
        floor = da.broadcast_to(floor if hasattr(floor, "dask") else np.asarray(floor, float),
                                np.shape(N))
        both = da.map_blocks(_outlier_block, one(N), one(chi2), one(valid), one(floor),
                             threshold, bool(test_n),
                             new_axis=0, chunks=((3,),) + tuple((n,) for n in np.shape(N)),
                             dtype=float)
        outlier = (both[0] > 0.5).rechunk(chunks)
        z_n, z_c = both[1].rechunk(chunks), both[2].rechunk(chunks)
    else:
        both = _outlier_block(N, chi2, valid, floor, threshold, bool(test_n))
        outlier, z_n, z_c = both[0] > 0.5, both[1], both[2]
    return replace(fit, valid=valid & ~outlier), outlier, z_n, z_c


def poisson_weights(model, n_pixels=None, floor=None):
    """Inverse-variance weights for mean counts from the fitted model.

    At ~10 e⁻/Å² most high-s detector pixels record 0 counts, so the observed
    counts are a poor variance estimate (zero-count bins would get infinite
    weight). The variance of a bin holding the mean of ``n_pixels`` Poisson
    pixels is instead taken from the model, ``var = model / n_pixels``.

    Parameters
    ----------
    model : array
        Expected mean counts per detector pixel, N⟨f²⟩ + C (any shape).
    n_pixels : array_like, optional
        Number of detector pixels averaged in each s-bin (broadcastable to
        ``model``); ``None`` gives relative weights (1 pixel per bin).
    floor : float, optional
        Smallest variance allowed, in counts²; defaults to 1e-6 × the largest
        model value of each spectrum.

    Returns
    -------
    array
        Weights 1/var, same shape as ``model``.

    Examples
    --------
    >>> poisson_weights(np.array([0.5, 2.0]), n_pixels=np.array([10, 40])).tolist()
    [20.0, 20.0]
    """
    npix = 1.0 if n_pixels is None else n_pixels
    if floor is None:
        floor = 1e-6 * abs(model).max(axis=-1, keepdims=True)
        floor = np.where(floor > 0, floor, 1e-12)
    var = np.maximum(model, floor) / npix
    return 1.0 / var


def reduced_intensity(intensity, s, N, C, f2_mean, f_mean_sq, *, axis=-1):
    """The s-multiplied reduced intensity φ(s) (the paper's eq. 4).

    .. math::

        φ(s) = s \\frac{I(s) - N⟨f^2⟩ - C}{N ⟨f⟩^2}

    Parameters
    ----------
    intensity : numpy.ndarray or dask.array.Array
        I(s), navigation dimensions first, s along ``axis``.
    s : array_like
        s in Å⁻¹.
    N, C : array_like
        Fitted scale (per Å²) and constant, navigation-shaped (or scalars).
    f2_mean, f_mean_sq : array_like
        ⟨f²⟩ and ⟨f⟩² in Å², shape ``(n_s,)`` or per pixel.
    axis : int
        The s axis of ``intensity``.

    Returns
    -------
    array
        φ(s) in Å⁻¹, same shape as ``intensity`` with s last moved back to
        ``axis``. Where N ≤ 0 or is not finite (e.g. vacuum), φ = 0.

    Notes
    -----
    pyxem's ``ReducedIntensityGenerator1D`` returns ``2π s (I − N⟨f²⟩ − C)/(N⟨f⟩²)``,
    i.e. the same function in q = 2πs: it is 2π times this φ(s). With this φ the
    transform is G(r) = 8π ∫ φ(s) sin(2π s r) ds (see
    :func:`pyxem_epdf.physics.transform.sine_transform`).

    Examples
    --------
    >>> s = np.array([1.0, 2.0])
    >>> reduced_intensity(np.array([3.0, 5.0]), s, 1.0, 0.0, np.array([2.0, 4.0]), np.array([1.0, 1.0])).tolist()
    [1.0, 2.0]
    """
    s = np.asarray(s, dtype=float)
    y = last_axis(intensity, axis)
    N, C = as_array(N), as_array(C)
    f2, fsq = last_axis(f2_mean, axis), last_axis(f_mean_sq, axis)
    ok = np.isfinite(N) & (N > 0)
    inv_n = safe_divide(1.0, np.where(ok, N, 0))
    c_n = np.where(ok, C, 0) * inv_n
    u = s * safe_divide(1.0, fsq)
    # φ = u (I/N − ⟨f²⟩ − C/N): per-pattern scalars first, so the full-size
    # array is traversed a few times in place instead of building temporaries.
    if isinstance(y, np.ndarray) and not any(hasattr(a, "dask") for a in (N, C, f2, fsq)):
        with np.errstate(invalid="ignore"):  # inf·0 in invalid rows, zeroed below
            phi = y * expand_nav(inv_n)
        phi -= f2
        phi -= expand_nav(c_n)
        phi *= u
        if not np.all(ok):
            phi[np.broadcast_to(~ok, phi.shape[:-1])] = 0.0
    else:
        keep = expand_nav(ok)
        phi = (np.where(keep, y, 0.0) * expand_nav(inv_n) - f2 - expand_nav(c_n)) * u
        phi = np.where(keep, phi, 0.0)
    return np.moveaxis(phi, -1, axis)
