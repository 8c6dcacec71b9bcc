"""Corrections applied to the reduced intensity φ(s) before the transform.

* :func:`fit_polynomial_correction` / :func:`polynomial_baseline`: the
  4th-order polynomial of Mu et al. (J. Appl. Cryst. 46, 1105 (2013)) that is
  0 at s = 0 and at s = s_max,

  .. math::

      p(s) = s (s - s_{max}) (c_0 + c_1 s + c_2 s^2),

  fitted to φ in closed form (3 free coefficients) for all spectra at once and
  subtracted; it removes the low-frequency, thickness-dependent artefact of
  multiple and inelastic scattering so that φ oscillates about zero.
* :func:`exponential_damping`, :func:`lorch_damping`: multiplicative
  envelopes exp(−b s²) and the Lorch (1969) window sin(πs/s_max)/(πs/s_max).
* :func:`extrapolate_low_s`: removes the direct beam by replacing φ below
  s_min with the straight line from (0, 0) to (s_min, φ(s_min)).
"""

import numpy as np

from ._common import as_axis, as_float, check_s_max, expand_nav, last_axis, window_slice


def polynomial_basis(s, s_max):
    """Basis of the Mu polynomial: columns s(s − s_max)·{1, s, s²}.

    Parameters
    ----------
    s : array_like
        s in Å⁻¹.
    s_max : float
        Upper zero of the polynomial in Å⁻¹.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_s, 3)``.

    Examples
    --------
    >>> polynomial_basis([0.0, 1.0, 2.0], 2.0)[:, 0].tolist()
    [0.0, -1.0, 0.0]
    """
    s = np.asarray(s, dtype=float)
    base = s * (s - s_max)
    return np.stack([base, base * s, base * s * s], axis=-1)


def fit_polynomial_correction(phi, s, *, s_max=None, s_range=None, weights=None, axis=-1):
    """Closed-form least-squares coefficients of the Mu polynomial for all spectra.

    Parameters
    ----------
    phi : numpy.ndarray or dask.array.Array
        φ(s) in Å⁻¹, any navigation shape, s along ``axis``.
    s : array_like
        s in Å⁻¹, 1-D increasing.
    s_max : float, optional
        Where the polynomial returns to zero, in Å⁻¹: anywhere in (s[0],
        outer bin edge] (:func:`~pyxem_epdf.physics._common.check_s_max`);
        default the last s.
    s_range : tuple of float, optional
        (lo, hi) window the polynomial is fitted on, in Å⁻¹; default
        (s[0], s_max). Use it to exclude the direct-beam region.
    weights : array_like, optional
        Non-negative weights, shape ``(n_s,)`` (applied to every spectrum).
    axis : int
        The s axis of ``phi``.

    Returns
    -------
    array
        Coefficients (c0, c1, c2), shape ``navigation + (3,)``, in Å⁻³, Å⁻⁴, Å⁻⁵.

    Notes
    -----
    With a common basis B (n_s × 3) the solution is one matrix product,
    ``phi @ pinv(B)ᵀ``, for every probe position.

    Examples
    --------
    >>> s = np.linspace(0, 2, 201)
    >>> phi = polynomial_baseline([1.0, -0.5, 0.25], s, 2.0)
    >>> np.round(fit_polynomial_correction(phi, s), 10).tolist()
    [1.0, -0.5, 0.25]
    """
    s = as_axis(s)
    s_max = float(s[-1]) if s_max is None else check_s_max(s, s_max)
    lo, hi = (s[0], s_max) if s_range is None else s_range
    if hi > s_max * (1 + 1e-12):
        raise ValueError(f"'s_range' upper end {hi:g} exceeds 's_max' = {s_max:g} Å⁻¹.")
    win = window_slice(s, lo, hi, name="s_range", min_points=4)
    basis = polynomial_basis(s[win], s_max)
    if weights is not None:
        w = np.asarray(weights, dtype=float)[win]
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError("'weights' must be finite and >= 0.")
        sw = np.sqrt(w)
        projector = np.linalg.pinv(basis * sw[:, None]) * sw[None, :]
    else:
        projector = np.linalg.pinv(basis)
    y = last_axis(phi, axis)[..., win]
    return y @ projector.T


def polynomial_baseline(coefficients, s, s_max, *, axis=-1):
    """Evaluate the Mu polynomial for coefficients of any navigation shape.

    Parameters
    ----------
    coefficients : array_like
        (c0, c1, c2) in the last dimension (Å⁻³, Å⁻⁴, Å⁻⁵).
    s : array_like
        s in Å⁻¹.
    s_max : float
        Upper zero in Å⁻¹.
    axis : int
        Where to put the s axis in the result.

    Returns
    -------
    array
        p(s) in Å⁻¹, shape ``navigation + (n_s,)`` with s moved to ``axis``.

    Examples
    --------
    >>> polynomial_baseline([1.0, 0.0, 0.0], [0.0, 1.0, 2.0], 2.0).tolist()
    [0.0, -1.0, 0.0]
    """
    out = _coefficients(coefficients) @ polynomial_basis(s, s_max).T
    return np.moveaxis(out, -1, axis) if out.ndim > 1 else out


def _coefficients(c):
    c = c if hasattr(c, "dask") else np.asarray(c, dtype=float)
    if c.shape[-1] != 3:
        raise ValueError(f"'coefficients' must have 3 values in the last dimension; got shape {c.shape}.")
    return c


def exponential_damping(s, b):
    """The envelope exp(−b s²).

    Parameters
    ----------
    s : array_like
        s in Å⁻¹.
    b : float
        Damping factor in Å² (≥ 0; the paper used 0.6–1.0 Å²).

    Returns
    -------
    numpy.ndarray
        Dimensionless envelope, shape of ``s``.

    Examples
    --------
    >>> round(float(exponential_damping(1.0, 0.8)), 6)
    0.449329
    """
    b = as_float(b, "b", units="Å²")
    if b < 0:
        raise ValueError(f"'b' must be a finite damping factor >= 0 Å²; got {b!r}.")
    s = np.asarray(s, dtype=float)
    return np.exp(-b * s * s)


def lorch_damping(s, s_max):
    """The Lorch (1969) window sin(πs/s_max)/(πs/s_max), 0 beyond s_max.

    Parameters
    ----------
    s : array_like
        s in Å⁻¹.
    s_max : float
        Cut-off in Å⁻¹ (> 0).

    Returns
    -------
    numpy.ndarray
        Dimensionless window, 1 at s = 0.

    Examples
    --------
    >>> np.round(lorch_damping([0.0, 1.0, 2.0, 3.0], 2.0), 6).tolist()
    [1.0, 0.63662, 0.0, 0.0]
    """
    s_max = as_float(s_max, "s_max", units="Å⁻¹")
    if s_max <= 0:
        raise ValueError(f"'s_max' must be > 0 Å⁻¹; got {s_max!r}.")
    s = np.asarray(s, dtype=float)
    window = np.sinc(s / s_max)  # numpy sinc is sin(πx)/(πx)
    return np.where(s <= s_max, window, 0.0) + 0.0


def updated_lorch_damping(s, s_max):
    """Soper & Barney's (2011) window 3 (sin x − x cos x)/x³, x = π s/s_max; 0 beyond s_max.

    The same formula as pyxem's ``damp_updated_lorch``.

    Parameters
    ----------
    s : array_like
        s in Å⁻¹.
    s_max : float
        Width parameter in Å⁻¹ (> 0).

    Returns
    -------
    numpy.ndarray
        Dimensionless window, 1 at s = 0.

    Examples
    --------
    >>> np.round(updated_lorch_damping([0.0, 1.0, 2.0, 3.0], 2.0), 6).tolist()
    [1.0, 0.774037, 0.303964, 0.0]
    """
    s_max = as_float(s_max, "s_max", units="Å⁻¹")
    if s_max <= 0:
        raise ValueError(f"'s_max' must be > 0 Å⁻¹; got {s_max!r}.")
    x = np.pi * np.asarray(s, dtype=float) / s_max
    safe = np.where(x > 1e-3, x, 1.0)
    window = np.where(x > 1e-3, 3 * (np.sin(safe) - safe * np.cos(safe)) / safe**3,
                      1 - x * x / 10)
    return np.where(x <= np.pi * (1 + 1e-12), window, 0.0) + 0.0


def erf_low_s_damping(s, scale=20.0, offset=1.3):
    """The low-s step (erf(scale·s − offset) + 1)/2 of pyxem's ``damp_low_q_region_erfc``.

    Parameters
    ----------
    s : array_like
        s in Å⁻¹.
    scale : float
        Steepness in Å (multiplies s).
    offset : float
        Dimensionless offset (the step's middle is at s = offset/scale).

    Returns
    -------
    numpy.ndarray
        Dimensionless envelope from ~0 at s = 0 to 1.

    Examples
    --------
    >>> np.round(erf_low_s_damping([0.0, 0.065, 0.5]), 4).tolist()
    [0.033, 0.5, 1.0]
    """
    from scipy.special import erf

    scale, offset = as_float(scale, "scale", units="Å"), as_float(offset, "offset")
    return (erf(scale * np.asarray(s, dtype=float) - offset) + 1) / 2


def extrapolate_low_s(phi, s, s_min, *, axis=-1):
    """Replace φ below s_min by the line from (0, 0) to (s_min, φ(s_min)).

    φ(s_min) is interpolated linearly between the two samples bracketing
    s_min, so the result does not jump by a bin when s_min moves. With
    ``s_min`` at the first sample nothing is replaced: below the first
    sample the transform (:func:`~pyxem_epdf.physics.transform.sine_transform_matrix`)
    already takes φ linear from φ(s[0]) down to 0 at s = 0, whatever the axis
    start, so a profile that starts at the beam-stop edge gives the same G(r)
    as the same data zero-padded from s = 0.

    Parameters
    ----------
    phi : numpy.ndarray or dask.array.Array
        φ(s) in Å⁻¹, s along ``axis``.
    s : array_like
        s in Å⁻¹, 1-D increasing.
    s_min : float
        Edge of the direct beam in Å⁻¹, in [s[0], s[-1]).
    axis : int
        The s axis of ``phi``.

    Returns
    -------
    array
        New array; samples with s ≥ s_min are unchanged.

    Raises
    ------
    ValueError
        If ``s_min`` lies below the first sample (φ is then taken linear
        from the first sample anyway: pass s[0]) or at/after the last.

    Examples
    --------
    >>> s = np.array([0.0, 0.1, 0.2, 0.3])
    >>> extrapolate_low_s(np.array([9.0, 9.0, 4.0, 6.0]), s, 0.2).tolist()
    [0.0, 2.0, 4.0, 6.0]
    >>> extrapolate_low_s(np.array([4.0, 6.0]), np.array([0.2, 0.3]), 0.2).tolist()
    [4.0, 6.0]
    """
    s = as_axis(s)
    s_min = as_float(s_min, "s_min", units="Å⁻¹")
    if s[0] - s_min > 1e-9 * max(abs(s[0]), 1.0) or not s_min < s[-1]:
        raise ValueError(
            f"'s_min' must lie in [{s[0]:g}, {s[-1]:g}) Å⁻¹, the data from its first "
            f"sample (below it φ is taken linear to 0 anyway); got {s_min:g}."
        )
    y = last_axis(phi, axis)
    if s_min <= s[0]:
        out = y if hasattr(y, "dask") else np.array(y, dtype=np.result_type(y, float))
        return np.moveaxis(out, -1, axis)
    i = int(np.searchsorted(s, s_min, side="right")) - 1
    t = (s_min - s[i]) / (s[i + 1] - s[i])
    at_min = y[..., i] * (1 - t) + y[..., i + 1] * t
    line = expand_nav(at_min) * (s / s_min)
    out = np.where(s < s_min, line, y)
    return np.moveaxis(out, -1, axis)


def apply_envelope(phi, envelope, *, axis=-1):
    """Multiply φ by a 1-D envelope along ``axis`` (NumPy or dask).

    Parameters
    ----------
    phi : numpy.ndarray or dask.array.Array
        φ(s) in Å⁻¹, s along ``axis``.
    envelope : array_like
        Dimensionless envelope, shape ``(n_s,)`` (e.g. from
        :func:`exponential_damping` or :func:`lorch_damping`).
    axis : int
        The s axis of ``phi``.

    Returns
    -------
    array
        φ × envelope, same shape and type (a dask input stays lazy).

    Examples
    --------
    >>> env = exponential_damping([0.0, 1.0, 2.0], 0.5)
    >>> apply_envelope(np.ones((2, 3)), env).round(3).tolist()
    [[1.0, 0.607, 0.135], [1.0, 0.607, 0.135]]
    >>> apply_envelope(np.ones((3, 2)), [1.0, 0.5, 0.0], axis=0).tolist()
    [[1.0, 1.0], [0.5, 0.5], [0.0, 0.0]]
    >>> import dask.array as da
    >>> lazy = apply_envelope(da.ones((2, 3), chunks=1), [1.0, 0.5, 0.0])
    >>> type(lazy).__name__, lazy.compute().tolist()
    ('Array', [[1.0, 0.5, 0.0], [1.0, 0.5, 0.0]])
    """
    return np.moveaxis(last_axis(phi, axis) * np.asarray(envelope), -1, axis)


__all__ = [
    "polynomial_basis",
    "fit_polynomial_correction",
    "polynomial_baseline",
    "exponential_damping",
    "lorch_damping",
    "extrapolate_low_s",
    "apply_envelope",
    "updated_lorch_damping",
    "erf_low_s_damping",
]
