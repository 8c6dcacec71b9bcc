"""Error-function fit of a line profile across an interface.

A soft interface between two phases, seen through a probe, is modelled as

.. math:: y(x) = a + b\\,\\tfrac{1}{2}\\big[1 + \\mathrm{erf}\\big((x - x_0)/(\\sqrt{2} w)\\big)\\big],

whose 10–90 % rise distance is 2 · 1.2816 w. Used on loading or
phase-fraction maps to say how abrupt an interface is, in scan units.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import erf

#: z of the 90 % point of the normal CDF: 10–90 % width = 2 Z90 σ.
Z90 = 1.2815515655446004


class InterfaceFit(NamedTuple):
    """Result of :func:`fit_interface` (x units).

    Attributes
    ----------
    center, center_err : float
        Position of the edge and its standard error.
    width_10_90, width_10_90_err : float
        10–90 % width (2 × 1.2816 σ) and its standard error.
    sigma : float
        σ of the error function.
    amplitude, offset : float
        Step height (negative for a falling edge) and level far on the left.
    residual_rms : float
        rms residual of the fit.
    reason : str
        Empty for a good fit; otherwise why the numbers are NaN (the fit did
        not converge) or not to be trusted (edge wider than the profile).

    Examples
    --------
    >>> x = np.linspace(-20, 20, 41)
    >>> y = erf_step(x, 3.0, 2.0, -1.0, 1.0) + 0.01 * np.random.default_rng(0).normal(size=41)
    >>> fit = fit_interface(x, y)
    >>> round(fit.center, 2), round(fit.sigma, 2), round(fit.amplitude, 2), round(fit.offset, 2)
    (3.03, 1.97, -1.0, 1.0)
    >>> bool(np.isclose(fit.width_10_90, 2 * Z90 * fit.sigma)), fit.residual_rms < 0.01
    (True, True)
    """

    center: float
    center_err: float
    width_10_90: float
    width_10_90_err: float
    sigma: float
    amplitude: float
    offset: float
    residual_rms: float
    reason: str = ""


def erf_step(x, center, sigma, amplitude, offset):
    """Error-function step.

    Parameters
    ----------
    x : array_like
        Positions.
    center, sigma : float
        Step position and Gaussian width (x units; sigma ≠ 0).
    amplitude, offset : float
        Step height and the level far on the low-x side.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> erf_step(np.array([-100.0, 0.0, 100.0]), 0.0, 2.0, 1.0, 0.0)
    array([0. , 0.5, 1. ])
    """
    x = np.asarray(x, dtype=float)
    return offset + amplitude * 0.5 * (1 + erf((x - center) / (np.sqrt(2) * sigma)))


def fit_interface(x, y, *, sigma=None):
    """Fit :func:`erf_step` to a profile; rising or falling edges.

    Parameters
    ----------
    x, y : array_like
        Positions (e.g. nm along the line) and values, ≥ 5 finite points.
    sigma : array_like, optional
        Uncertainties of ``y`` (absolute); default: estimated from the
        residual.

    Returns
    -------
    InterfaceFit
        Centre, 10–90 % width (always > 0) with one-sigma uncertainties,
        the Gaussian width, step amplitude (negative for a falling edge),
        offset and rms residual. A fit that does not converge returns NaN
        everywhere and says why in ``reason`` (no SciPy exception escapes).

    Examples
    --------
    >>> x = np.linspace(-20, 20, 41)
    >>> fit = fit_interface(x, erf_step(x, 3.0, 2.0, -1.0, 1.0))
    >>> round(fit.center, 3), round(fit.width_10_90, 3)
    (3.0, 5.126)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"'x' and 'y' must be 1-D of equal length; got {x.shape}, {y.shape}.")
    if x.size < 5:
        raise ValueError(f"An interface fit needs at least 5 points; got {x.size}.")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("'x' and 'y' must be finite.")
    order = np.argsort(x)
    x, y = x[order], y[order]
    n_end = max(2, x.size // 5)
    lo, hi = np.mean(y[:n_end]), np.mean(y[-n_end:])
    amp = hi - lo
    spread = np.ptp(y)
    if spread == 0 or abs(amp) < 1e-12 * max(1.0, np.abs(y).max()):
        raise ValueError("The profile has no step (its two ends are at the same level).")
    t = (y - lo) / amp  # 0 → 1 going across
    center0 = float(np.interp(0.5, *_monotone(t, x)))
    q25 = float(np.interp(0.25, *_monotone(t, x)))
    q75 = float(np.interp(0.75, *_monotone(t, x)))
    w0 = max(abs(q75 - q25) / 1.349, np.min(np.diff(x)) / 4)
    p0 = [center0, w0, amp, lo]
    sig = None if sigma is None else np.asarray(sigma, dtype=float)[order]
    import warnings

    from scipy.optimize import OptimizeWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            popt, _ = curve_fit(
                erf_step, x, y, p0=p0, sigma=sig, absolute_sigma=sigma is not None,
                jac=_jacobian, maxfev=10_000,
            )
    except (RuntimeError, OptimizeWarning, ValueError, FloatingPointError) as err:
        nan = float("nan")
        return InterfaceFit(nan, nan, nan, nan, nan, nan, nan, nan,
                            reason=f"the error-function fit did not converge ({err})")
    # covariance from the analytic Jacobian (robust also for exact data)
    weights = np.ones_like(y) if sig is None else 1.0 / sig**2
    jac = _jacobian(x, *popt)
    resid = y - erf_step(x, *popt)
    dof = max(x.size - 4, 1)
    scale = 1.0 if sigma is not None else float(weights @ resid**2) / dof
    pcov = np.linalg.pinv(jac.T @ (weights[:, None] * jac)) * scale
    perr = np.sqrt(np.clip(np.diag(pcov), 0, None))
    center, w, amplitude, offset = popt
    resid = np.sqrt(np.mean(resid**2))
    reason = ""
    if not x[0] <= center <= x[-1]:
        reason = "the fitted edge lies outside the profile"
    elif 2 * Z90 * abs(w) > np.ptp(x):
        reason = "the fitted edge is wider than the profile: lengthen the line"
    return InterfaceFit(
        center=float(center),
        center_err=float(perr[0]),
        width_10_90=float(2 * Z90 * abs(w)),
        width_10_90_err=float(2 * Z90 * perr[1]),
        sigma=float(abs(w)),
        amplitude=float(amplitude),
        offset=float(offset),
        residual_rms=float(resid),
        reason=reason,
    )


def _jacobian(x, center, sigma, amplitude, offset):
    """∂ erf_step / ∂(center, sigma, amplitude, offset), shape (n, 4)."""
    z = (x - center) / sigma
    gauss = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return np.stack(
        [
            -amplitude * gauss / sigma,
            -amplitude * gauss * z / sigma,
            0.5 * (1 + erf(z / np.sqrt(2))),
            np.ones_like(x),
        ],
        axis=1,
    )


def _monotone(t, x):
    """(t, x) pairs sorted by the running mean of t, for level-crossing guesses."""
    smooth = np.maximum.accumulate(np.clip(t, 0, 1))
    keep = np.concatenate([[True], np.diff(smooth) > 0])
    return smooth[keep], x[keep]
