r"""Number density and coordination numbers from G(r).

With G(r) = 4πr[ρ(r) − ρ₀] the radial distribution function is

.. math::

    R(r) = 4π r^2 ρ(r) = r\,G(r) + 4π ρ_0 r^2 ,

and below the first peak ρ(r) = 0, so G(r) = −4πρ₀ r: ρ₀ is the slope of G
there (:func:`slope_density`). The area of a peak of R that holds only
α–β pairs gives the coordination number of β around α
(:func:`coordination_number`, :func:`pair_factor`):

.. math::

    N_{αβ} = \frac{c_β}{w_{αβ}} ∫_{r_1}^{r_2} R(r)\,dr ,
    \qquad w_{αβ} = (2 − δ_{αβ}) \frac{c_α c_β f_α f_β}{⟨f⟩^2},

the weights of :func:`~pyxem_epdf.physics.structure_pdf.pair_weights`
(f at s = 0, the usual Warren–Krutter–Morningstar approximation for data).
Both ρ₀ from the slope and the integral are *linear* in G
(:func:`coordination_weights`), so their standard deviations follow exactly
from the chain (:func:`pyxem_epdf.quantify.coordination`). All functions
take G with navigation dimensions first and r last.
"""

import numpy as np

from ._common import as_array, as_axis


def _window(r, r_range, name):
    lo, hi = (float(x) for x in r_range)
    if not (lo < hi):
        raise ValueError(f"'{name}' must satisfy lo < hi; got {tuple(r_range)}.")
    if lo < r[0] - 1e-9 or hi > r[-1] + 1e-9:
        raise ValueError(f"'{name}' = ({lo:g}, {hi:g}) Å lies outside r = "
                         f"{r[0]:g}–{r[-1]:g} Å.")
    mask = (r >= lo - 1e-9) & (r <= hi + 1e-9)
    if np.count_nonzero(mask) < 2:
        raise ValueError(f"'{name}' = ({lo:g}, {hi:g}) Å holds fewer than 2 r values.")
    return mask


def _trapezoid_weights(r, mask):
    """w with Σ w y = trapezoidal ∫ y dr over the contiguous masked samples."""
    idx = np.flatnonzero(mask)
    w = np.zeros_like(r)
    d = np.diff(r[idx[0]:idx[-1] + 1])
    w[idx[0]:idx[-1]] += 0.5 * d
    w[idx[0] + 1:idx[-1] + 1] += 0.5 * d
    return w


def density_weights(r, r_fit):
    """Weights w with ρ₀ = G @ w: least-squares slope of G = −4πρ₀ r through 0.

    Parameters
    ----------
    r : array_like
        r in Å.
    r_fit : tuple of float
        (lo, hi) window in Å below the first peak (e.g. (0.5, 1.3) for oxides).

    Returns
    -------
    numpy.ndarray
        ``(n_r,)`` in Å⁻¹ (0 outside the window).

    Examples
    --------
    >>> r = np.linspace(0, 2, 201)
    >>> w = density_weights(r, (0.2, 1.0))
    >>> round(float((-4 * np.pi * 0.07 * r) @ w), 12)
    0.07
    """
    r = as_axis(r, "r")
    m = _window(r, r_fit, "r_fit")
    w = np.where(m, r, 0.0)
    return -w / (4 * np.pi * np.sum(w * w))


def slope_density(G, r, r_fit):
    """ρ₀ from the slope of G(r) = −4πρ₀ r below the first peak, with its error.

    Parameters
    ----------
    G : numpy.ndarray or dask.array.Array
        G(r) in Å⁻², navigation + ``(n_r,)``.
    r : array_like
        r in Å.
    r_fit : tuple of float
        (lo, hi) fit window in Å, below the first peak.

    Returns
    -------
    rho0 : array
        Number density in atoms/Å³, navigation-shaped.
    rho0_std : array
        Standard error from the scatter of G about the line (residuals;
        includes ripples from termination, a measure of the systematic error).

    Examples
    --------
    >>> r = np.linspace(0, 2, 201)
    >>> rho, err = slope_density(-4 * np.pi * 0.066 * r, r, (0.1, 1.2))
    >>> round(float(rho), 6), float(err) < 1e-12
    (0.066, True)
    """
    r = as_axis(r, "r")
    G = as_array(G)
    m = _window(r, r_fit, "r_fit")
    w = density_weights(r, r_fit)
    rho = G @ w
    rr = r[m]
    resid = G[..., m] + 4 * np.pi * rho[..., None] * rr
    dof = max(int(m.sum()) - 1, 1)
    s2 = (resid * resid).sum(axis=-1) / dof
    return rho, np.sqrt(s2 / (16 * np.pi**2 * np.sum(rr * rr)))


def mass_density_to_number_density(composition, mass_density):
    """ρ₀ in atoms/Å³ from atomic fractions and the mass density in g/cm³.

    Parameters
    ----------
    composition : dict
        ``{element: atomic fraction}`` (normalised here).
    mass_density : float
        Mass density in g/cm³ (> 0).

    Returns
    -------
    float
        Atoms per Å³ (atomic masses from xraydb).

    Examples
    --------
    Amorphous SiO2, 2.2 g/cm³:

    >>> round(mass_density_to_number_density({"Si": 1 / 3, "O": 2 / 3}, 2.2), 4)
    0.0662
    """
    import xraydb

    if not (np.isfinite(mass_density) and mass_density > 0):
        raise ValueError(f"'mass_density' must be > 0 g/cm³; got {mass_density!r}.")
    total = sum(composition.values())
    mean_mass = sum(float(xraydb.atomic_mass(e)) * c / total for e, c in composition.items())
    avogadro = 6.02214076e23
    return float(mass_density) * avogadro / mean_mass * 1e-24


def radial_distribution(G, r, rho0):
    """R(r) = r G(r) + 4πρ₀ r² in atoms/Å.

    Parameters
    ----------
    G : array
        G(r) in Å⁻², navigation + ``(n_r,)``.
    r : array_like
        r in Å.
    rho0 : array_like
        ρ₀ in atoms/Å³, scalar or navigation-shaped.

    Returns
    -------
    array
        R(r), same shape as ``G``.

    Examples
    --------
    >>> r = np.array([0.5, 1.0])
    >>> radial_distribution(-4 * np.pi * 0.05 * r, r, 0.05).tolist()
    [0.0, 0.0]
    """
    r = np.asarray(r, dtype=float)
    rho0 = as_array(rho0)
    return as_array(G) * r + 4 * np.pi * rho0[..., None] * r**2


def coordination_weights(r, r_range, *, rho0=None, r_fit=None):
    """(k, const) with ∫_{r_range} R(r) dr = G @ k + const.

    Parameters
    ----------
    r : array_like
        r in Å.
    r_range : tuple of float
        (r₁, r₂) integration limits in Å around the peak.
    rho0 : float, optional
        ρ₀ in atoms/Å³ (known, e.g. from the mass density).
    r_fit : tuple of float, optional
        Instead of ``rho0``: ρ₀ from the slope on this window (then
        ``const`` = 0 and k includes the slope weights).

    Returns
    -------
    k : numpy.ndarray
        ``(n_r,)`` in Å².
    const : float
        4πρ₀ ∫ r² dr (0 with ``r_fit``).

    Examples
    --------
    >>> r = np.linspace(0, 3, 301)
    >>> k, c = coordination_weights(r, (1.0, 2.0), rho0=0.1)
    >>> round(c, 4) == round(4 * np.pi * 0.1 * 7 / 3, 4)
    True
    """
    r = as_axis(r, "r")
    if (rho0 is None) == (r_fit is None):
        raise ValueError("Give exactly one of 'rho0' (atoms/Å³) and 'r_fit' (Å window).")
    w = _trapezoid_weights(r, _window(r, r_range, "r_range"))
    r2 = float(w @ r**2)
    k = w * r
    if rho0 is not None:
        if not (np.isfinite(rho0) and rho0 >= 0):
            raise ValueError(f"'rho0' must be >= 0 atoms/Å³; got {rho0!r}.")
        return k, 4 * np.pi * float(rho0) * r2
    return k + 4 * np.pi * r2 * density_weights(r, r_fit), 0.0


def coordination_number(G, r, r_range, *, rho0=None, r_fit=None, factor=1.0):
    """Coordination number from the area of a peak of R(r).

    Parameters
    ----------
    G : numpy.ndarray or dask.array.Array
        G(r) in Å⁻², navigation + ``(n_r,)``.
    r : array_like
        r in Å.
    r_range : tuple of float
        (r₁, r₂) limits in Å (e.g. the minima around the peak).
    rho0, r_fit
        As :func:`coordination_weights`.
    factor : float
        c_β / w_αβ (:func:`pair_factor`); 1 gives the weighted area of R.

    Returns
    -------
    array
        Navigation-shaped coordination number.

    Examples
    --------
    A Gaussian shell of 4 atoms at 1.6 Å on a density of 0.07 Å⁻³:

    >>> r = np.linspace(0.01, 4, 400)
    >>> shell = 4 * np.exp(-(r - 1.6) ** 2 / (2 * 0.05**2)) / (np.sqrt(2 * np.pi) * 0.05)
    >>> G = shell / r - 4 * np.pi * 0.07 * r
    >>> round(float(coordination_number(G, r, (1.3, 1.9), rho0=0.07)), 3)
    4.0
    >>> round(float(coordination_number(G, r, (1.3, 1.9), r_fit=(0.2, 1.2))), 3)
    4.0
    """
    k, const = coordination_weights(r, r_range, rho0=rho0, r_fit=r_fit)
    return factor * (as_array(G) @ k + const)


def pair_factor(composition, a, b, *, kind="electron", table="lobato"):
    """c_β / w_αβ: converts the area of an α–β peak of the total R(r) into N_αβ.

    Parameters
    ----------
    composition : dict
        ``{element: atomic fraction}``.
    a, b : str
        Central atom α and neighbour β (N_αβ: β atoms around one α).
    kind, table
        As :func:`~pyxem_epdf.physics.structure_pdf.pair_weights` (f at s = 0).

    Returns
    -------
    float

    Examples
    --------
    X-ray f(0) ≈ Z: ⟨f⟩ ≈ (14 + 2·8)/3 = 10, w = 2·(1/3)(2/3)·14·8/10² ≈ 0.498,
    c_O/w ≈ 1.34:

    >>> round(pair_factor({"Si": 1 / 3, "O": 2 / 3}, "Si", "O", kind="xray"), 2)
    1.34
    """
    from .structure_pdf import pair_weights

    total = sum(composition.values())
    comp = {e: c / total for e, c in composition.items()}
    for el in (a, b):
        if el not in comp:
            raise ValueError(f"Element {el!r} is not in 'composition' {sorted(comp)}.")
    w = pair_weights(comp, kind, table)
    w_ab = w[(a, b)] + (w[(b, a)] if a != b else 0.0)
    return comp[b] / w_ab


def fit_gaussian_peaks(R, r, r_range, centres, *, width=0.05, sigma=None):
    """Fit Gaussians + a constant to overlapping peaks of R(r) (one pattern).

    R(r) ≈ Σᵢ Aᵢ exp(−(r − r₀ᵢ)²/(2wᵢ²))/(√(2π) wᵢ) + B on ``r_range``; Aᵢ
    is the area of peak i (a weighted coordination number before
    :func:`pair_factor`). Separates, e.g., Zn–N (2.0 Å) from the N···N/C···N
    distances of imidazolate (2.2 Å) in ZIF-4.

    Parameters
    ----------
    R : array_like
        R(r) in atoms/Å, 1-D (one pattern; for maps use
        :func:`coordination_number`, which is linear and vectorised).
    r : array_like
        r in Å.
    r_range : tuple of float
        Fit window in Å.
    centres : sequence of float
        Starting peak positions r₀ in Å (one per peak, inside ``r_range``).
    width : float
        Starting Gaussian σ in Å.
    sigma : array_like, optional
        σ of R per r (``r σ_G``); ``None``: unweighted, errors scaled by the
        residuals.

    Returns
    -------
    dict
        ``area``, ``centre``, ``width`` (arrays, one per peak), ``offset`` and
        the standard errors ``area_std``, ``centre_std``, ``width_std``,
        ``offset_std``.

    Raises
    ------
    ValueError
        ``centres`` empty or outside ``r_range``; ``R`` not 1-D of r's shape.

    Examples
    --------
    >>> r = np.linspace(1, 2.6, 161)
    >>> def g(a, r0, w):
    ...     return a * np.exp(-(r - r0) ** 2 / (2 * w**2)) / (np.sqrt(2 * np.pi) * w)
    >>> fit = fit_gaussian_peaks(g(4, 1.6, 0.06) + g(2, 1.85, 0.07), r, (1.3, 2.2), [1.6, 1.9])
    >>> np.round(fit["area"], 4).tolist(), np.round(fit["centre"], 4).tolist()
    ([4.0, 2.0], [1.6, 1.85])
    """
    from scipy.optimize import curve_fit

    r = as_axis(r, "r")
    R = np.asarray(R, dtype=float)
    if R.shape != r.shape:
        raise ValueError(f"'R' must be one pattern of shape {r.shape}; got {R.shape}.")
    m = _window(r, r_range, "r_range")
    x, y = r[m], R[m]
    centres = np.atleast_1d(np.asarray(centres, dtype=float))
    if centres.size == 0 or np.any(centres < x[0]) or np.any(centres > x[-1]):
        raise ValueError(f"'centres' {centres.tolist()} must be inside 'r_range' "
                         f"{tuple(r_range)} Å.")
    k = centres.size
    sd = None if sigma is None else np.asarray(sigma, dtype=float)[m]

    def model(x, *p):
        out = np.full_like(x, p[-1])
        for i in range(k):
            a, r0, w = p[3 * i:3 * i + 3]
            out += a * np.exp(-0.5 * ((x - r0) / w) ** 2) / (np.sqrt(2 * np.pi) * w)
        return out

    p0 = []
    for c in centres:
        height = max(float(np.interp(c, x, y) - y.min()), 1e-6)
        p0 += [height * np.sqrt(2 * np.pi) * width, c, width]
    p0.append(float(y.min()))
    popt, pcov = curve_fit(model, x, y, p0=p0, sigma=sd, absolute_sigma=sd is not None,
                           maxfev=20000)
    err = np.sqrt(np.diag(pcov))
    out = {"area": popt[0:3 * k:3], "centre": popt[1:3 * k:3], "width": np.abs(popt[2:3 * k:3]),
           "offset": float(popt[-1]), "area_std": err[0:3 * k:3], "centre_std": err[1:3 * k:3],
           "width_std": err[2:3 * k:3], "offset_std": float(err[-1])}
    return out


__all__ = [
    "coordination_number",
    "coordination_weights",
    "density_weights",
    "fit_gaussian_peaks",
    "mass_density_to_number_density",
    "pair_factor",
    "radial_distribution",
    "slope_density",
]
