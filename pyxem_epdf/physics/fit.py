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
        covariance of the linear fit).
    reduced_chi2 : array
        Weighted residual sum of squares / (n − n_parameters).
    valid : array of bool
        ``True`` where N is finite and > 0, i.e. where φ(s) is defined.

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


def fit_scattering_background(
    intensity, s, f2_mean, s_range, *, weights=None, fix_c=False, axis=-1
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
    """
    s = as_axis(s)
    win = window_slice(s, *s_range, min_points=2 if fix_c else 3)
    y = last_axis(intensity, axis)[..., win]
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
    if fix_c:
        N = safe_divide(s_ay, s_aa)
        C = 0 * N
        dof = n - 1
        var_n = safe_divide(1 + 0 * N, s_aa)
        var_c = 0 * N
    else:
        det = s_aa * s_w - s_a * s_a
        N = safe_divide(s_ay * s_w - s_a * s_y, det)
        C = safe_divide(s_aa * s_y - s_a * s_ay, det)
        dof = n - 2
        var_n = safe_divide(s_w, det)
        var_c = safe_divide(s_aa, det)
    resid = y - (expand_nav(N) * a + expand_nav(C))
    chi2 = ((resid * resid) @ w if common else wsum(resid, resid)) / max(dof, 1)
    valid = np.isfinite(N) & (N > 0)
    return ScatteringFit(
        N=N,
        C=C,
        N_std=np.sqrt(var_n * chi2),
        C_std=np.sqrt(var_c * chi2),
        reduced_chi2=chi2,
        valid=valid,
    )


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
