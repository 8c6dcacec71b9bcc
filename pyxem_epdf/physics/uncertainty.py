"""Closed-form standard deviation of G(r) from the counting noise of I(s).

After the fit of N⟨f²⟩ + C every step of the chain is linear in φ(s)
(:mod:`~pyxem_epdf.physics.chain`), G = φ L, and

.. math::

    φ(s) = s \\frac{I(s) - N⟨f^2⟩ - C}{N⟨f⟩^2}

is linear in I(s) once N and C are fixed; N and C are themselves linear
least-squares estimates from I(s) on the fit window,
:math:`N = Σ_j a_j I_j`, :math:`C = Σ_j c_j I_j`. To first order, a change
δI of the intensity gives

.. math::

    δG_r = Σ_j δI_j \\left(u_j L_{jr} + a_j g^N_r + c_j g^C_r\\right),
    \\quad u = \\frac{s}{N⟨f⟩^2},\\;
    g^N = \\frac{∂φ}{∂N} L = -\\frac{s (I - C)}{N^2⟨f⟩^2} L,\\;
    g^C = -u L,

and for independent bins of variance :math:`v_j` (Poisson counting noise of
the azimuthal mean)

.. math::

    σ^2_{G,r} = (v u^2)\\,(L∘L) + (g^N_r)^2 Σ v a^2 + (g^C_r)^2 Σ v c^2
      + 2 g^N_r g^C_r Σ v a c + 2 g^N_r (v u a) L + 2 g^C_r (v u c) L .

The first term alone is the naive ``var_φ @ (L∘L)``; the others are the
uncertainty of N and C and its correlation with the bins of the fit window
(which also reach G). All terms are a few matrix products for all patterns
at once; NumPy in, NumPy out, dask in, dask out.
"""

import numpy as np

from ._common import as_array, as_axis, safe_divide, window_slice


def fit_gradients(s, f2_mean, s_range, *, weights=None, fix_c=False, fixed_n=False):
    """∂N/∂I and ∂C/∂I of the closed-form fit (:func:`~pyxem_epdf.physics.fit.fit_scattering_background`).

    Parameters
    ----------
    s : array_like
        s in Å⁻¹ (1-D, increasing).
    f2_mean : array_like
        ⟨f²⟩ in Å², shape ``(n_s,)`` or navigation + ``(n_s,)``.
    s_range : tuple of float
        (lo, hi) fit window in Å⁻¹.
    weights : array_like, optional
        The fit weights (broadcastable to ``f2_mean``); ``None``: unweighted.
    fix_c : bool
        C fixed to 0 (then ∂C/∂I = 0).
    fixed_n : bool
        N fixed by the user (``fit_scattering(..., N=...)``): ∂N/∂I = 0 and
        C = Σ w (I − N⟨f²⟩) / Σ w, so ∂C/∂I_j = w_j / Σ w on the window
        (with ``fix_c`` too, both are 0).

    Returns
    -------
    a, c : numpy.ndarray
        ∂N/∂I_j and ∂C/∂I_j on the whole s grid (0 outside the window),
        shape of ``f2_mean`` broadcast with ``weights``; N = Σ a I, C = Σ c I
        (for a fixed N: C = Σ c I − N Σ c ⟨f²⟩).

    Examples
    --------
    >>> s = np.linspace(0.0, 3.0, 301)
    >>> f2 = 1.0 / (1.0 + s**2)
    >>> a, c = fit_gradients(s, f2, (1.5, 2.5))
    >>> I = 5.0 * f2 + 0.2
    >>> round(float(a @ I), 9), round(float(c @ I), 9)
    (5.0, 0.2)
    >>> a, c = fit_gradients(s, f2, (1.5, 2.5), fixed_n=True)   # N = 5 given
    >>> float(abs(a).max()), round(float(c @ I - 5.0 * (c @ f2)), 9)
    (0.0, 0.2)
    """
    s = as_axis(s)
    n_params = (0 if fix_c else 1) + (0 if fixed_n else 1)
    win = window_slice(s, *s_range, min_points=n_params + 1)
    f2 = np.asarray(f2_mean, dtype=float)
    w = np.ones(s.size) if weights is None else np.asarray(weights, dtype=float)
    shape = np.broadcast_shapes(f2.shape, w.shape)
    f2, w = np.broadcast_to(f2, shape)[..., win], np.broadcast_to(w, shape)[..., win]
    s_w = w.sum(axis=-1, keepdims=True)
    s_a = (w * f2).sum(axis=-1, keepdims=True)
    s_aa = (w * f2 * f2).sum(axis=-1, keepdims=True)
    a = np.zeros(shape)
    c = np.zeros(shape)
    if fixed_n:
        if not fix_c:
            c[..., win] = safe_divide(w, s_w)
    elif fix_c:
        a[..., win] = safe_divide(w * f2, s_aa)
    else:
        det = s_aa * s_w - s_a * s_a
        a[..., win] = safe_divide(w * (f2 * s_w - s_a), det)
        c[..., win] = safe_divide(w * (s_aa - s_a * f2), det)
    return a, c


def pdf_variance(variance, intensity, s, N, C, f2_mean, f_mean_sq, operator, *,
                 gradients=None, N_std=None, C_std=None, correlation=None):
    """Variance of G(r) of every pattern from the variance of I(s), in closed form.

    Parameters
    ----------
    variance : numpy.ndarray or dask.array.Array
        Variance of I(s) (counts², e.g. the Poisson variance of the azimuthal
        mean), navigation + ``(n_s,)``; bins assumed independent.
    intensity : numpy.ndarray or dask.array.Array
        I(s), same shape (enters ∂φ/∂N).
    s : array_like
        s in Å⁻¹ (the grid of ``operator``).
    N, C : array_like
        Fitted scale (per Å²) and constant, navigation-shaped.
    f2_mean, f_mean_sq : array_like
        ⟨f²⟩ and ⟨f⟩² in Å², ``(n_s,)`` (shared by all patterns) or of the
        shape of ``variance`` (per-pixel composition maps).
    operator : ChainOperator
        From :func:`~pyxem_epdf.physics.chain.chain_operator`.
    gradients : tuple of numpy.ndarray, optional
        ``(a, c)`` from :func:`fit_gradients`, shape ``(n_s,)`` or that of
        ``variance`` (per-pattern weights of a weighted fit): N and C
        are propagated *with* their correlation to the bins (exact to first
        order). Without them, N and C are treated as independent of I with
        standard errors ``N_std``, ``C_std`` (or as exact if these are
        ``None`` too: the naive ``var_φ @ (L∘L)``).
    N_std, C_std : array_like, optional
        Standard errors of N and C, navigation-shaped; only without
        ``gradients``.
    correlation : numpy.ndarray, optional
        ``(n_s, n_s)`` correlation of the errors of the s bins
        (:func:`bin_correlation` of the integration operator: sub-pixel
        splitting correlates neighbouring bins); ``None``: independent bins.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Variance of G(r) in Å⁻⁴, navigation + ``(n_r,)``; 0 where N ≤ 0
        (φ = 0 there). Dask in, dask out (nothing computed).

    Raises
    ------
    ValueError
        If shapes disagree or ``gradients`` is combined with ``N_std``/``C_std``.

    Examples
    --------
    Without the fit terms the variance is var_φ @ (L∘L):

    >>> from pyxem_epdf.physics import chain, transform
    >>> s, r = np.linspace(0, 3, 301), transform.r_grid(10, 0.05)
    >>> f2 = fsq = 1 / (1 + s**2)
    >>> op = chain.chain_operator(s, r, s_min=0.2)
    >>> I, v = 2.0 * f2 + np.zeros((3, 1)), np.full((3, 301), 1e-4)
    >>> var = pdf_variance(v, I, s, np.full(3, 2.0), np.zeros(3), f2, fsq, op)
    >>> phi_var = (v * (s / (2.0 * fsq)) ** 2)[:, op.rows]
    >>> bool(np.allclose(var, phi_var @ op.matrix**2)), var.shape
    (True, (3, 201))
    """
    s = as_axis(s)
    if gradients is not None and (N_std is not None or C_std is not None):
        raise ValueError("'gradients' propagates N and C exactly; do not also give "
                         "'N_std'/'C_std'.")
    v, x = as_array(variance), as_array(intensity)
    if v.shape != x.shape or v.shape[-1] != s.size:
        raise ValueError(f"'variance' {v.shape} and 'intensity' {x.shape} must have the same "
                         f"shape, ending in the {s.size} s values.")
    f2, fsq = (a if hasattr(a, "dask") else np.asarray(a, dtype=float)
               for a in (f2_mean, f_mean_sq))
    if f2.shape not in (s.shape, v.shape) or fsq.shape != f2.shape:
        raise ValueError(f"'f2_mean' and 'f_mean_sq' must have shape {s.shape} or {v.shape} "
                         f"(per pattern); got {f2.shape} and {fsq.shape}.")
    # per-pixel composition maps: ⟨f²⟩ and ⟨f⟩² go through the blocks like I(s)
    per_pixel_f = f2.shape != s.shape
    per_pattern = False
    if gradients is not None:
        gradients = tuple(g if hasattr(g, "dask") else np.asarray(g, dtype=float)
                          for g in gradients)
        if len(gradients) != 2 or any(g.shape not in (s.shape, v.shape) for g in gradients):
            raise ValueError(f"'gradients' must be (a, c), each of shape {s.shape} or "
                             f"{v.shape} (per pattern, e.g. a weighted fit).")
        per_pattern = any(g.shape == v.shape and v.ndim > 1 for g in gradients)
        if per_pattern:
            gradients = tuple(g if g.shape == v.shape else np.broadcast_to(g, v.shape)
                              for g in gradients)
    L = np.asarray(operator.matrix, dtype=float)
    if correlation is not None:
        correlation = np.asarray(correlation, dtype=float)
        if correlation.shape != (s.size, s.size):
            raise ValueError(f"'correlation' must have shape {(s.size, s.size)}; got "
                             f"{correlation.shape}.")
    consts = {"s": s, "fsq": None if per_pixel_f else fsq, "L": L, "L2": L * L,
              "rows": operator.rows, "grad": None if per_pattern else gradients,
              "bands": _bands(correlation, L, operator.rows), "corr": correlation}
    # shaped like I(s): v, I, [⟨f⟩² per pixel], [gradients per pattern]
    spectra = [v, x] + ([fsq] if per_pixel_f else []) + (list(gradients) if per_pattern else [])
    nav = [N, C] + ([] if gradients is not None else
                    [0.0 if N_std is None else N_std, 0.0 if C_std is None else C_std])
    lazy = any(hasattr(a, "dask") for a in spectra + nav)
    if not lazy:
        shape = v.shape[:-1]
        nav = [np.broadcast_to(np.asarray(a, dtype=float), shape) for a in nav]
        if per_pattern:
            consts["grad"] = gradients
        if per_pixel_f:
            consts["fsq"] = fsq
        return _block(v, x, *nav, **consts)
    import dask.array as da

    v = v if hasattr(v, "dask") else da.from_array(v, chunks=("auto",) * (v.ndim - 1) + (-1,))
    v = v.rechunk(v.chunks[:-1] + (-1,))
    nav_chunks = v.chunks[:-1]
    spectra = [v] + [(a if hasattr(a, "dask") else da.from_array(a)).rechunk(v.chunks)
                     for a in spectra[1:]]

    def as_nav(a):
        a = a if hasattr(a, "dask") else da.from_array(np.asarray(a, dtype=float))
        return da.broadcast_to(a, v.shape[:-1]).rechunk(nav_chunks)[..., None]

    n_spec = len(spectra)

    def block(*blocks):
        vb, xb, *rest = blocks[:n_spec]
        kw = dict(consts)
        if per_pixel_f:
            kw["fsq"], rest = rest[0], rest[1:]
        if rest:
            kw["grad"] = tuple(rest)
        return _block(vb, xb, *(n[..., 0] for n in blocks[n_spec:]), **kw)

    return da.map_blocks(block, *spectra, *map(as_nav, nav),
                         chunks=nav_chunks + ((L.shape[1],),), dtype=float)


def _block(v, x, N, C, *std, s, fsq, L, L2, rows, grad, bands, corr):
    """Variance of G for NumPy arrays (nav..., n_s) and navigation-shaped N, C
    (``fsq`` = ⟨f⟩² shared, (n_s,), or per pattern like ``v``)."""
    shape = v.shape[:-1]
    v2, x2 = v.reshape(-1, v.shape[-1]), x.reshape(-1, x.shape[-1])
    N2, C2 = N.reshape(-1, 1), C.reshape(-1, 1)
    ok = np.isfinite(N2) & (N2 > 0)
    inv_n = np.where(ok, 1.0 / np.where(ok, N2, 1.0), 0.0)
    fsq = fsq if fsq.ndim == 1 else fsq.reshape(v2.shape)
    s_f = s[rows] * safe_divide(1.0, fsq[..., rows])  # s/⟨f⟩² on the rows
    u = s_f * inv_n  # ∂φ/∂I on the rows
    sd = np.sqrt(np.maximum(v2, 0.0))
    w = sd[:, rows] * u
    out = (w * w) @ L2
    for d, r_d, l_d in bands:  # off-diagonal bands of the bin correlation
        out += 2 * ((w[:, :-d] * w[:, d:] * r_d) @ l_d)
    g_n = (-(x2[:, rows] - C2) * u * inv_n) @ L  # (∂φ/∂N) L
    g_c = -inv_n * (s_f @ L)  # (∂φ/∂C) L = −u L
    if grad is not None:
        # √v ∂N/∂I, √v ∂C/∂I (gradients shared, or per pattern like v)
        a, c = (sd * (g if g.ndim == 1 else g.reshape(sd.shape)) for g in grad)
        ra, rc = (a, c) if corr is None else (a @ corr, c @ corr)
        s_aa, s_cc, s_ac = (np.sum(p * q, axis=1, keepdims=True)
                            for p, q in ((a, ra), (c, rc), (a, rc)))
        n = w.shape[0]
        cross = np.concatenate([w * ra[:, rows], w * rc[:, rows]]) @ L  # one product
        # out += g_n (g_n S_aa + 2 g_c S_ac + 2 X) + g_c (g_c S_cc + 2 Y), in place
        term = g_n * s_aa
        term += 2 * s_ac * g_c
        term += 2 * cross[:n]
        term *= g_n
        out += term
        np.multiply(g_c, s_cc, out=term)
        term += 2 * cross[n:]
        term *= g_c
        out += term
    else:
        n_std, c_std = (a.reshape(-1, 1) for a in std)
        out += (g_n * n_std) ** 2 + (g_c * c_std) ** 2
    np.maximum(out, 0.0, out=out)
    out[~ok[:, 0]] = 0.0
    return out.reshape(shape + (L.shape[1],))


def bin_correlation(matrix, *, tol=1e-6):
    """Correlation of the counting noise of neighbouring s bins of an azimuthal integration.

    With sub-pixel splitting a detector pixel feeds two (or more) s bins, so
    their Poisson errors are correlated. For counts that vary slowly across
    a bin (λ locally constant) the correlation depends only on the geometry:

    .. math::

        R_{jk} = \\frac{(M^T M)_{jk}}{\\sqrt{(M^T M)_{jj} (M^T M)_{kk}}}

    with M the pixel → bin area fractions
    (:attr:`~pyxem_epdf.physics.integration.RadialOperator.matrix`).

    Parameters
    ----------
    matrix : scipy.sparse matrix or numpy.ndarray
        ``(n_pixels, n_bins)`` area fractions.
    tol : float
        Entries of R below this are set to 0 (keeps R banded).

    Returns
    -------
    numpy.ndarray
        ``(n_bins, n_bins)`` correlation matrix, 1 on the diagonal (0 for
        empty bins).

    Examples
    --------
    >>> from pyxem_epdf.physics.integration import radial_operator
    >>> k = np.arange(-8, 8) + 0.5
    >>> R = bin_correlation(radial_operator(k, k, np.arange(0, 9, 1.0)).matrix)
    >>> bool(0.05 < R[3, 4] < 0.5), float(R[3, 6])   # pixels split over neighbouring bins
    (True, 0.0)
    >>> R = bin_correlation(np.eye(8))                 # one bin per pixel: independent bins
    >>> bool(np.allclose(R, np.eye(8)))
    True
    """
    m = matrix
    gram = m.T @ m
    gram = gram.toarray() if hasattr(gram, "toarray") else np.asarray(gram, dtype=float)
    d = np.sqrt(np.diag(gram))
    R = safe_divide(gram, np.outer(d, d))
    R[np.abs(R) < tol] = 0.0
    return R


def _bands(corr, L, rows):
    """(offset, R on that band over the rows, L_j ∘ L_{j+d}) for each non-zero band."""
    if corr is None:
        return []
    c = corr[rows, rows]
    out = []
    for d in range(1, c.shape[0]):
        r_d = np.diagonal(c, d)
        if not np.any(r_d):
            if d > 8 and not np.any(np.triu(c, d)):
                break
            continue
        out.append((d, r_d, L[:-d] * L[d:]))
    return out


def component_variance(fractions, variance):
    """Variance of least-squares component profiles E = (FᵀF)⁻¹ Fᵀ X.

    Parameters
    ----------
    fractions : array_like
        ``(n_pixels, k)`` fractions F (treated as exact).
    variance : array_like
        ``(n_pixels, n_r)`` variance of X (independent pixels).

    Returns
    -------
    numpy.ndarray
        ``(k, n_r)``: (P∘P) var with P = (FᵀF)⁻¹ Fᵀ.

    Examples
    --------
    >>> F = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> component_variance(F, np.ones((3, 2))).tolist()
    [[0.5, 0.5], [1.0, 1.0]]
    """
    F = np.asarray(fractions, dtype=float)
    P = np.linalg.pinv(F)
    return (P * P) @ np.asarray(variance, dtype=float)


def sigma_coverage(G, sigma, truth, *, k=1.0, axis=0):
    """Fraction of realisations whose ±k σ band holds the truth, per r.

    Parameters
    ----------
    G, sigma : array_like
        Realisations of G(r) and their σ, the realisations along ``axis``.
    truth : array_like
        The noiseless G(r), broadcastable to ``G`` without ``axis``.
    k : float
        Half-width of the band in σ (1: 68.3 % for Gaussian errors).
    axis : int
        The realisation axis.

    Returns
    -------
    numpy.ndarray
        Coverage fraction (0–1) per r.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> G = rng.normal(size=(4000, 3))
    >>> np.round(sigma_coverage(G, np.ones_like(G), 0.0), 2).tolist()
    [0.68, 0.68, 0.69]
    """
    G, sigma = np.asarray(G, dtype=float), np.asarray(sigma, dtype=float)
    truth = np.expand_dims(np.asarray(truth, dtype=float), axis)
    return np.mean(np.abs(G - truth) <= k * sigma, axis=axis)


def derivative_matrix(r):
    """Matrix D (n_r × n_r) with G' = G @ D, the central difference dG/dr on a uniform grid.

    One-sided differences at the two ends. Propagating the variance of ``G @ D``
    (:func:`pdf_variance` with the chain matrix times D) gives the variance of the
    slope, which fixes the uncertainty of a peak position (:func:`peak_sigma`).

    Parameters
    ----------
    r : array_like
        Uniform r grid in Å (at least 3 values).

    Returns
    -------
    numpy.ndarray
        In Å⁻¹.

    Examples
    --------
    >>> r = np.linspace(0.0, 1.0, 11)
    >>> np.round((r**2) @ derivative_matrix(r), 6).tolist()[:3]   # 2r inside, one-sided at 0
    [0.1, 0.2, 0.4]
    """
    r = as_axis(r, "r")
    n = r.size
    if n < 3:
        raise ValueError(f"'r' needs at least 3 values; got {n}.")
    h = float(r[1] - r[0])
    if not np.allclose(np.diff(r), h, rtol=1e-6, atol=1e-12):
        raise ValueError("'r' must be uniform.")
    d = np.zeros((n, n))
    i = np.arange(1, n - 1)
    d[i - 1, i] = -0.5 / h
    d[i + 1, i] = 0.5 / h
    d[0, 0], d[1, 0] = -1.0 / h, 1.0 / h
    d[n - 2, n - 1], d[n - 1, n - 1] = -1.0 / h, 1.0 / h
    return d


def peak_sigma(g, r, positions, variance, slope_variance):
    """Standard deviations of peak positions and heights from σ(G) and σ(dG/dr).

    To first order a maximum r* of G moves by δr* = −δG'(r*) / G''(r*) and its
    height by δG(r*) (G' = 0 there), so

    .. math::

        σ_{r^*} = \\frac{σ_{G'}(r^*)}{|G''(r^*)|},\\qquad σ_{G(r^*)} = σ_G(r^*),

    with σ interpolated linearly to r* and G'' the second difference at the
    grid point nearest r*. Valid while σ_{r*} is small against the peak width.

    Parameters
    ----------
    g : numpy.ndarray
        G(r) in Å⁻², any leading shape, r last.
    r : array_like
        Uniform r grid in Å.
    positions : numpy.ndarray
        Peak positions in Å, leading shape of ``g`` + ``(n_peaks,)``
        (NaN allowed, e.g. from :func:`~pyxem_epdf.physics.peaks.find_peaks`).
    variance, slope_variance : numpy.ndarray
        Variance of G (Å⁻⁴) and of dG/dr (Å⁻⁶), shape of ``g``
        (:func:`pdf_variance`; the slope with the chain matrix times
        :func:`derivative_matrix`).

    Returns
    -------
    position_sigma, height_sigma : numpy.ndarray
        Shape of ``positions``, in Å and Å⁻²; NaN where the position is NaN or
        G'' ≥ 0 (not a maximum).

    Examples
    --------
    A Gaussian peak of height 2 and width 0.1 Å has G'' = −2/0.1² = −200 Å⁻⁴ at
    its top, so σ(G') = 1 Å⁻³ moves it by 1/200 Å:

    >>> r = np.arange(0.0, 4.0, 0.01)
    >>> g = 2.0 * np.exp(-0.5 * ((r - 2.0) / 0.1) ** 2)
    >>> ps, hs = peak_sigma(g, r, np.array([2.0]), np.full(r.size, 0.04), np.ones(r.size))
    >>> round(float(ps[0]), 4), round(float(hs[0]), 3)
    (0.005, 0.2)
    """
    r = as_axis(r, "r")
    g = np.asarray(g, dtype=float)
    pos = np.asarray(positions, dtype=float)
    var = np.asarray(variance, dtype=float)
    svar = np.asarray(slope_variance, dtype=float)
    if var.shape != g.shape or svar.shape != g.shape or g.shape[-1] != r.size:
        raise ValueError(f"'variance' {var.shape} and 'slope_variance' {svar.shape} must have "
                         f"the shape of 'g' {g.shape}, ending in the {r.size} r values.")
    if pos.shape[:-1] != g.shape[:-1]:
        raise ValueError(f"'positions' {pos.shape} must have the leading shape of 'g' "
                         f"{g.shape[:-1]} plus one peak axis.")
    h = float(r[1] - r[0])
    ok = np.isfinite(pos)
    x = np.where(ok, (pos - r[0]) / h, 0.0)
    lo = np.clip(np.floor(x).astype(int), 0, r.size - 2)
    frac = np.clip(x - lo, 0.0, 1.0)

    def at(a):
        a0 = np.take_along_axis(a, lo, -1)
        a1 = np.take_along_axis(a, lo + 1, -1)
        return a0 + frac * (a1 - a0)

    near = np.clip(np.rint(x).astype(int), 1, r.size - 2)
    curv = (np.take_along_axis(g, near - 1, -1) - 2 * np.take_along_axis(g, near, -1)
            + np.take_along_axis(g, near + 1, -1)) / h**2
    good = ok & (curv < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos_sigma = np.where(good, np.sqrt(np.maximum(at(svar), 0.0)) / np.abs(curv), np.nan)
    height_sigma = np.where(ok, np.sqrt(np.maximum(at(var), 0.0)), np.nan)
    return pos_sigma, height_sigma


__all__ = ["bin_correlation", "component_variance", "derivative_matrix", "fit_gradients",
           "pdf_variance", "peak_sigma", "sigma_coverage"]
