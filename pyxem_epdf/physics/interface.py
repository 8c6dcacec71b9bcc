"""Error-function fit of a line profile across an interface.

A soft interface between two phases, seen through a probe, is modelled as

.. math:: y(x) = a + b\\,\\tfrac{1}{2}\\big[1 + \\mathrm{erf}\\big((x - x_0)/(\\sqrt{2} w)\\big)\\big],

whose 10–90 % rise distance is 2 · 1.2816 w. Used on loading or
phase-fraction maps to say how abrupt an interface is, in scan units.

:func:`fit_soft_union` fits the same error-function edge to *every* pixel
near the boundaries of a map at once: a union of soft-edged discs
(inclusions) and half-planes (straight interfaces) sharing one width,

.. math::

    f(\\mathbf p) = a + (b - a)\\Big[1 - \\prod_k \\Phi\\big(-s_k(\\mathbf p)/\\sigma\\big)\\Big],

with :math:`s_k` the signed distance inside shape k (:math:`R_k - |\\mathbf p -
\\mathbf c_k|` for a disc, :math:`d_k - \\mathbf n_k\\cdot\\mathbf p` for a
half-plane) and Φ the normal CDF, the law by which the synthetic composites
(:func:`pyxem_epdf.data.phase_fractions`) draw their phase-A field.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import erf, ndtr

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


# --------------------------------------------------------------------------
# Whole-boundary fit: union of soft discs and half-planes, one shared width
# --------------------------------------------------------------------------

#: Shape kinds of :func:`fit_soft_union` and their parameters (x/y units).
SHAPE_PARAMETERS = {"disc": ("cx", "cy", "radius"), "half-plane": ("angle", "offset")}


class SoftUnionFit(NamedTuple):
    """Result of :func:`fit_soft_union` (x/y units).

    Attributes
    ----------
    sigma, sigma_err : float
        Shared Gaussian width of every edge and its standard error.
    width_10_90, width_10_90_err : float
        10–90 % width (2 × 1.2816 σ) and its standard error.
    low, high : float
        Levels outside every shape and deep inside one.
    shapes : list of dict
        Fitted parameters of each shape: ``{"kind": "disc", "cx", "cy",
        "radius"}`` or ``{"kind": "half-plane", "angle" (rad), "offset"}``
        (inside where ``x cos(angle) + y sin(angle) < offset``); each value
        also with its standard error under ``"<name>_err"``.
    n_points : int
        Number of values fitted.
    residual_rms : float
        rms residual.
    n_iterations : int
        Levenberg–Marquardt iterations.
    reason : str
        Empty for a good fit; otherwise why the numbers are NaN (no
        convergence, a degenerate model) or less trustworthy.

    Examples
    --------
    >>> y, x = np.mgrid[0:40, 0:40].astype(float)
    >>> shapes = [{"kind": "disc", "cx": 20.0, "cy": 18.0, "radius": 9.0}]
    >>> v = soft_union(x, y, shapes, sigma=2.0, low=0.0, high=1.0)
    >>> fit = fit_soft_union(x.ravel(), y.ravel(), v.ravel(), shapes, sigma=1.0)
    >>> round(fit.sigma, 6), round(fit.shapes[0]["radius"], 6), fit.reason
    (2.0, 9.0, '')
    """

    sigma: float
    sigma_err: float
    width_10_90: float
    width_10_90_err: float
    low: float
    high: float
    shapes: list
    n_points: int
    residual_rms: float
    n_iterations: int
    reason: str = ""


def _check_shapes(shapes):
    """Validated list of shape dicts (copies) with float parameters."""
    if isinstance(shapes, dict):
        shapes = [shapes]
    out = []
    for i, sh in enumerate(shapes):
        if not isinstance(sh, dict) or sh.get("kind") not in SHAPE_PARAMETERS:
            raise ValueError(
                f"'shapes'[{i}] must be a dict with 'kind' in {sorted(SHAPE_PARAMETERS)}; "
                f"got {sh!r}."
            )
        names = SHAPE_PARAMETERS[sh["kind"]]
        missing = [n for n in names if n not in sh]
        if missing:
            raise ValueError(f"'shapes'[{i}] ({sh['kind']}) lacks {missing}.")
        vals = {n: float(sh[n]) for n in names}
        if not all(np.isfinite(list(vals.values()))):
            raise ValueError(f"'shapes'[{i}] has non-finite parameters: {vals}.")
        if sh["kind"] == "disc" and vals["radius"] <= 0:
            raise ValueError(f"'shapes'[{i}] radius must be > 0; got {vals['radius']:g}.")
        out.append({"kind": sh["kind"], **vals})
    if not out:
        raise ValueError("'shapes' must hold at least one disc or half-plane.")
    return out


def signed_distances(x, y, shapes):
    """Signed distance (x/y units, > 0 inside) of points to each shape's boundary.

    Parameters
    ----------
    x, y : array_like
        Positions, same shape.
    shapes : list of dict
        As :func:`fit_soft_union`.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(shapes),) + x.shape``.

    Examples
    --------
    >>> signed_distances([0.0, 3.0], [0.0, 4.0], [{"kind": "disc", "cx": 0, "cy": 0, "radius": 2},
    ...                                          {"kind": "half-plane", "angle": 0, "offset": 1}])
    array([[ 2., -3.],
           [ 1., -2.]])
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    out = []
    for sh in _check_shapes(shapes):
        if sh["kind"] == "disc":
            out.append(sh["radius"] - np.hypot(x - sh["cx"], y - sh["cy"]))
        else:
            out.append(sh["offset"] - (x * np.cos(sh["angle"]) + y * np.sin(sh["angle"])))
    return np.stack(out)


def soft_union(x, y, shapes, sigma, low=0.0, high=1.0):
    """The soft union of discs and half-planes (module docstring).

    Parameters
    ----------
    x, y : array_like
        Positions (x/y units), same shape.
    shapes : list of dict
        As :func:`fit_soft_union`.
    sigma : float
        Gaussian width of every edge (x/y units, > 0).
    low, high : float
        Level outside every shape and deep inside one.

    Returns
    -------
    numpy.ndarray
        ``x.shape``.

    Examples
    --------
    >>> disc = {"kind": "disc", "cx": 0.0, "cy": 0.0, "radius": 10.0}
    >>> soft_union(np.array([0.0, 10.0, 100.0]), np.zeros(3), [disc], 1.0).round(6)
    array([1. , 0.5, 0. ])
    """
    if not sigma > 0:
        raise ValueError(f"'sigma' must be > 0; got {sigma!r}.")
    s = signed_distances(x, y, shapes)
    return low + (high - low) * (1.0 - np.prod(ndtr(-s / sigma), axis=0))


def _pack(shapes, sigma, low, high):
    p = [sigma, low, high]
    for sh in shapes:
        p += [sh[n] for n in SHAPE_PARAMETERS[sh["kind"]]]
    return np.array(p, dtype=float)


def _unpack(p, kinds):
    shapes, i = [], 3
    for kind in kinds:
        names = SHAPE_PARAMETERS[kind]
        shapes.append({"kind": kind, **{n: float(v) for n, v in zip(names, p[i:i + len(names)],
                                                                     strict=True)}})
        i += len(names)
    return shapes


def _union_model(p, x, y, kinds):
    """Values and Jacobian (n, n_params) of the soft union at parameters ``p``."""
    sigma, low, high = p[:3]
    amp = high - low
    s_list, ds_list, i = [], [], 3
    for kind in kinds:
        if kind == "disc":
            cx, cy, radius = p[i:i + 3]
            dx, dy = x - cx, y - cy
            rho = np.maximum(np.hypot(dx, dy), 1e-12)
            s_list.append(radius - rho)
            ds_list.append(np.stack([dx / rho, dy / rho, np.ones_like(x)], axis=1))
            i += 3
        else:
            angle, offset = p[i:i + 2]
            c, sn = np.cos(angle), np.sin(angle)
            s_list.append(offset - (x * c + y * sn))
            ds_list.append(np.stack([x * sn - y * c, np.ones_like(x)], axis=1))
            i += 2
    z = np.stack(s_list) / sigma  # (k, n)
    q = ndtr(-z)  # outside probability per shape
    outside = np.prod(q, axis=0)
    dens = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi) / sigma  # φ(z)/σ
    jac = np.empty((x.size, p.size))
    jac[:, 1] = outside
    jac[:, 2] = 1.0 - outside
    dsig = np.zeros_like(x)
    col = 3
    for k, ds in enumerate(ds_list):
        others = np.prod(np.delete(q, k, axis=0), axis=0) if len(kinds) > 1 else 1.0
        dfds = amp * others * dens[k]  # ∂f/∂s_k
        dsig -= dfds * z[k]
        jac[:, col:col + ds.shape[1]] = dfds[:, None] * ds
        col += ds.shape[1]
    jac[:, 0] = dsig
    return low + amp * (1.0 - outside), jac


def fit_soft_union(x, y, values, shapes, *, sigma, low=None, high=None, max_iterations=200):
    """Fit one shared edge width to every point near the boundaries of soft shapes.

    The model (module docstring) is a union of discs and half-planes whose
    edges are error functions of one Gaussian width σ, between a level
    ``low`` outside every shape and ``high`` inside one. All parameters
    (σ, the two levels, each disc's centre and radius, each half-plane's
    angle and offset) are fitted by Levenberg–Marquardt on all points at
    once (vectorised over the points; a loop only over iterations and
    shapes), and their standard errors come from the Jacobian at the
    optimum scaled by the residual variance.

    Parameters
    ----------
    x, y, values : array_like
        1-D positions (x/y units, e.g. nm) and values (e.g. a phase fraction),
        all finite, at least ``3 × n_parameters`` of them.
    shapes : dict or list of dict
        Starting shapes: ``{"kind": "disc", "cx", "cy", "radius"}`` or
        ``{"kind": "half-plane", "angle", "offset"}`` (radians; inside where
        ``x cos(angle) + y sin(angle) < offset``).
    sigma : float
        Starting Gaussian width (x/y units, > 0).
    low, high : float, optional
        Starting levels; default the 5th and 95th percentile of the values
        outside and inside the starting shapes.
    max_iterations : int
        Iteration limit (≥ 1).

    Returns
    -------
    SoftUnionFit
        A failed fit (no convergence, σ or a radius driven to ≤ 0, no step
        between the levels, a singular normal matrix) gives NaN numbers
        and says why in ``reason``; no SciPy or NumPy exception escapes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y, x = np.mgrid[0:48, 0:48].astype(float)
    >>> edge = {"kind": "half-plane", "angle": 0.2, "offset": 15.0}
    >>> disc = {"kind": "disc", "cx": 32.0, "cy": 24.0, "radius": 6.0}
    >>> v = soft_union(x, y, [edge, disc], sigma=1.5) + 0.1 * rng.normal(size=x.shape)
    >>> fit = fit_soft_union(x.ravel(), y.ravel(), v.ravel(), [edge, disc], sigma=1.0)
    >>> abs(fit.sigma - 1.5) < 3 * fit.sigma_err, round(fit.sigma_err, 3)
    (True, 0.039)
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    v = np.asarray(values, dtype=float).ravel()
    if not x.size == y.size == v.size:
        raise ValueError(f"'x', 'y' and 'values' must have equal sizes; got "
                         f"{x.size}, {y.size}, {v.size}.")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(v).all()):
        raise ValueError("'x', 'y' and 'values' must be finite.")
    shapes = _check_shapes(shapes)
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"'sigma' must be a finite number > 0; got {sigma!r}.")
    if int(max_iterations) < 1:
        raise ValueError(f"'max_iterations' must be >= 1; got {max_iterations!r}.")
    kinds = [sh["kind"] for sh in shapes]
    n_par = 3 + sum(len(SHAPE_PARAMETERS[k]) for k in kinds)
    if v.size < 3 * n_par:
        raise ValueError(f"A fit of {n_par} parameters needs at least {3 * n_par} points; "
                         f"got {v.size}.")
    inside = (signed_distances(x, y, shapes) > 0).any(axis=0)
    if low is None:
        low = float(np.percentile(v[~inside], 5)) if (~inside).sum() else float(v.min())
    if high is None:
        high = float(np.percentile(v[inside], 95)) if inside.sum() else float(v.max())
    p = _pack(shapes, float(sigma), float(low), float(high))
    nan = float("nan")

    def failed(reason, it=0):
        return SoftUnionFit(nan, nan, nan, nan, nan, nan,
                            [{**sh, **{k: nan for k in SHAPE_PARAMETERS[sh["kind"]]}}
                             for sh in shapes], int(v.size), nan, it, reason)

    radius_idx = []
    i = 3
    for kind in kinds:
        if kind == "disc":
            radius_idx.append(i + 2)
        i += len(SHAPE_PARAMETERS[kind])

    def admissible(q):
        return q[0] > 0 and all(q[j] > 0 for j in radius_idx) and np.isfinite(q).all()

    with np.errstate(all="ignore"):
        f, jac = _union_model(p, x, y, kinds)
        resid = v - f
        rss = float(resid @ resid)
        lam = 1e-3
        converged = False
        it = 0
        while it < int(max_iterations):
            it += 1
            jtj = jac.T @ jac
            g = jac.T @ resid
            diag = np.maximum(np.diag(jtj), 1e-12 * max(np.diag(jtj).max(), 1e-300))
            improved = False
            for _ in range(30):
                try:
                    step = np.linalg.solve(jtj + lam * np.diag(diag), g)
                except np.linalg.LinAlgError:
                    lam *= 10.0
                    continue
                trial = p + step
                if admissible(trial):
                    f_t, jac_t = _union_model(trial, x, y, kinds)
                    resid_t = v - f_t
                    rss_t = float(resid_t @ resid_t)
                    if np.isfinite(rss_t) and rss_t <= rss:
                        improved = True
                        break
                lam *= 4.0
            if not improved:
                # no downhill step at any damping: at the minimum to precision
                converged = bool(np.sqrt(g @ np.linalg.pinv(jtj) @ g) <= 1e-6 * np.sqrt(rss)
                                 or rss == 0)
                break
            small = np.all(np.abs(step) <= 1e-9 * (np.abs(p) + 1e-9 * (1 + np.abs(p).max())))
            drop = rss - rss_t
            p, f, jac, resid, rss = trial, f_t, jac_t, resid_t, rss_t
            lam = max(lam / 3.0, 1e-12)
            if small or drop <= 1e-12 * rss or rss == 0:
                converged = True
                break
        if not converged:
            return failed(f"the soft-union fit did not converge in {it} iterations", it)
        if abs(p[2] - p[1]) <= 1e-9 * max(1.0, np.abs(v).max()):
            return failed("the fitted levels inside and outside are equal: no edge", it)
        jtj = jac.T @ jac
        dof = max(v.size - p.size, 1)
        try:
            cov = np.linalg.inv(jtj) * (rss / dof)
        except np.linalg.LinAlgError:
            return failed("the model is degenerate at the optimum (singular normal matrix)", it)
    err = np.sqrt(np.clip(np.diag(cov), 0, None))
    if not np.isfinite(err).all():
        return failed("the model is degenerate at the optimum (singular normal matrix)", it)
    fitted = _unpack(p, kinds)
    errs = _unpack(err, kinds)
    for sh, e in zip(fitted, errs, strict=True):
        for n in SHAPE_PARAMETERS[sh["kind"]]:
            sh[n + "_err"] = e[n]
    reason = ""
    small = [k for k, sh in enumerate(fitted) if sh["kind"] == "disc" and sh["radius"] < p[0]]
    if small:
        reason = (f"disc(s) {small} have a radius below the edge's σ: the width and the "
                  f"radius are hard to tell apart")
    return SoftUnionFit(
        sigma=float(p[0]),
        sigma_err=float(err[0]),
        width_10_90=float(2 * Z90 * p[0]),
        width_10_90_err=float(2 * Z90 * err[0]),
        low=float(p[1]),
        high=float(p[2]),
        shapes=fitted,
        n_points=int(v.size),
        residual_rms=float(np.sqrt(rss / v.size)),
        n_iterations=int(it),
        reason=reason,
    )
