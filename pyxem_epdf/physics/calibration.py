"""Detector geometry from the data: distortion, centres, s calibration, masks.

Pure NumPy/SciPy functions (no HyperSpy); :mod:`pyxem_epdf.signals.calibration`
wraps them for pyxem signals.

Conventions (shared with the integration kernel)
------------------------------------------------
* A detector position is p = (x, y) = (column, row) in **pixel indices**
  (pixel centres at integers), a centre c = (x₀, y₀) likewise.
* An elliptical distortion is the 2 × 2 matrix A of the corrected coordinate
  u = A·(p − c), :func:`distortion_matrix` (identical to
  ``pyxem_epdf.physics.geometry.ellipse_matrix``):
  A = R(θ) diag(1/√ρ, √ρ) R(θ)ᵀ with ρ = major/minor semi-axis ratio of the
  distorted rings (≥ 1) and θ the direction of the major axis in degrees from
  +x (columns) towards +y (rows), in [0, 180). det A = 1, so a ring of semi-axes
  a, b becomes a circle of radius √(ab).
* A calibrated detector (signal axes kx, ky with the same scale k in Å⁻¹ per
  pixel and offsets kx₀, ky₀) has the same A in calibrated units; the centre
  becomes (kx₀ + k x₀, ky₀ + k y₀) and s = k |A·(p − c)|.
* Masks are boolean arrays of the detector shape (rows, columns), True where
  a pixel is **excluded**.

Functions
---------
* :func:`distortion_matrix`, :func:`corrected_radius`, :func:`rod_beam_stop`:
  geometry used by the synthetic data and the fits.
* :func:`ring_points` and :func:`fit_ellipse`: elliptical distortion and
  centre from one or several rings (conic least squares, bootstrap errors).
* :func:`radial_profile`, :func:`fcc_reflections`, :func:`calibrate_rings`,
  :func:`scale_from_pdf_peak`: s per pixel from a polycrystalline standard or
  an amorphous reference.
* :func:`beam_stop_mask`, :func:`detector_gaps`: masks.
* :func:`refine_centers`: centre of one or every pattern by minimising the
  azimuthal variance (coarse-to-fine search), vectorised over patterns.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = [
    "AU_LATTICE_PARAMETER",
    "DETECTORS",
    "EllipseFit",
    "RingCalibration",
    "beam_stop_mask",
    "calibrate_rings",
    "corrected_radius",
    "detector_gaps",
    "distortion_matrix",
    "ellipse_parameters",
    "fcc_reflections",
    "fit_ellipse",
    "radial_profile",
    "refine_centers",
    "ring_points",
    "rod_beam_stop",
    "scale_from_pdf_peak",
]

#: Lattice parameter of gold at room temperature in Å.
AU_LATTICE_PARAMETER = 4.0782


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------


def _finite(name, value, unit, *, lo=None, hi=None, lo_open=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    ok = math.isfinite(v)
    if ok and lo is not None:
        ok = v > lo if lo_open else v >= lo
    if ok and hi is not None:
        ok = v <= hi
    if not ok:
        rng = ""
        if lo is not None:
            rng += f" {'>' if lo_open else '>='} {lo:g}"
        if hi is not None:
            rng += f"{' and' if lo is not None else ''} <= {hi:g}"
        raise ValueError(f"'{name}' must be a finite number{rng} ({unit}); got {value!r}.")
    return v


def _image(name, image):
    a = np.asarray(image)
    if a.ndim != 2 or min(a.shape) < 8 or a.dtype.kind not in "uif":
        raise ValueError(
            f"'{name}' must be a real 2-D image of at least 8 x 8 pixels; got "
            f"shape {a.shape} and dtype {a.dtype}."
        )
    return a.astype(float, copy=False)


def _mask(mask, shape):
    if mask is None:
        return np.zeros(shape, dtype=bool)
    m = np.asarray(mask)
    if m.shape != tuple(shape):
        raise ValueError(f"'mask' must have the detector shape {tuple(shape)}; got {m.shape}.")
    return m.astype(bool, copy=False)


def _center(center, shape):
    if center is None:
        return ((shape[1] - 1) / 2, (shape[0] - 1) / 2)
    try:
        x, y = (float(v) for v in center)
    except (TypeError, ValueError):
        x = y = float("nan")
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"'center' must be two finite numbers (x, y) in pixels; got {center!r}.")
    return (x, y)


def _matrix(distortion):
    a = np.eye(2) if distortion is None else np.asarray(distortion, dtype=float)
    if a.shape != (2, 2) or not np.all(np.isfinite(a)) or abs(np.linalg.det(a)) < 1e-6:
        raise ValueError(
            "'distortion' must be a finite, invertible 2 x 2 matrix (u = A·(p − c)); "
            f"got {np.asarray(distortion).tolist()!r}."
        )
    return a


# --------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------


def distortion_matrix(axis_ratio: float, angle: float) -> np.ndarray:
    """Matrix A that maps elliptical rings onto circles, u = A·(p − c).

    Same convention and result as ``pyxem_epdf.physics.geometry.ellipse_matrix``
    of the integration kernel.

    Parameters
    ----------
    axis_ratio : float
        Major / minor semi-axis ratio ρ of the distorted rings, 1 ≤ ρ ≤ 2
        (1.02 for 2 % ellipticity).
    angle : float
        Direction θ of the major axis in degrees, from +x (columns) towards
        +y (rows).

    Returns
    -------
    numpy.ndarray
        A = R(θ) diag(1/√ρ, √ρ) R(θ)ᵀ, shape (2, 2), symmetric, det A = 1.

    Examples
    --------
    >>> a = distortion_matrix(1.02, 30.0)
    >>> th = np.deg2rad(30.0)
    >>> major = np.sqrt(1.02) * np.array([np.cos(th), np.sin(th)])
    >>> round(float(np.linalg.norm(a @ major)), 12), round(float(np.linalg.det(a)), 12)
    (1.0, 1.0)
    """
    rho = _finite("axis_ratio", axis_ratio, "major/minor", lo=1.0, hi=2.0)
    theta = math.radians(_finite("angle", angle, "degrees"))
    c, s = math.cos(theta), math.sin(theta)
    rot = np.array([[c, -s], [s, c]])
    return rot @ np.diag([1.0 / math.sqrt(rho), math.sqrt(rho)]) @ rot.T


def ellipse_parameters(matrix) -> tuple:
    """Axis ratio and major-axis angle of a distortion matrix (inverse of :func:`distortion_matrix`).

    Parameters
    ----------
    matrix : array_like
        2 × 2 matrix A of u = A·(p − c) (any scale; only AᵀA's shape matters).

    Returns
    -------
    tuple of float
        (axis_ratio ≥ 1, angle in degrees in [0, 180)).

    Examples
    --------
    >>> ellipse_parameters(distortion_matrix(1.03, 120.0))
    (1.03, 120.0)
    """
    a = _matrix(matrix)
    m = a.T @ a
    w, v = np.linalg.eigh(m)  # ascending: the smallest eigenvalue is the major axis
    ratio = float(np.sqrt(w[1] / w[0]))
    angle = float(np.degrees(np.arctan2(v[1, 0], v[0, 0]))) % 180.0
    return round(ratio, 12), round(angle, 10) % 180.0


def corrected_radius(shape, center=None, distortion=None) -> np.ndarray:
    """Corrected radius |A·(p − c)| of every pixel in pixels.

    Parameters
    ----------
    shape : tuple of int
        Detector (rows, columns).
    center : tuple of float, optional
        (x, y) in pixels; default the detector centre ((columns − 1)/2, (rows − 1)/2).
    distortion : array_like, optional
        2 × 2 matrix A (:func:`distortion_matrix`); default the identity.

    Returns
    -------
    numpy.ndarray
        Shape ``shape``, float64.

    Examples
    --------
    >>> corrected_radius((3, 5))[1].tolist()
    [2.0, 1.0, 0.0, 1.0, 2.0]
    """
    rows, cols = (int(n) for n in shape)
    cx, cy = _center(center, (rows, cols))
    a = _matrix(distortion)
    dy, dx = np.meshgrid(np.arange(rows) - cy, np.arange(cols) - cx, indexing="ij")
    if distortion is None:
        return np.hypot(dx, dy)
    return np.hypot(a[0, 0] * dx + a[0, 1] * dy, a[1, 0] * dx + a[1, 1] * dy)


def rod_beam_stop(shape, radius: float, arm_width: float = 0.0, arm_angle: float = 90.0,
                  center=None) -> np.ndarray:
    """Mask of a beam stop: a disc with an optional straight arm to the detector edge.

    Parameters
    ----------
    shape : tuple of int
        Detector (rows, columns).
    radius : float
        Disc radius in pixels (> 0).
    arm_width : float
        Full width of the arm (rod) in pixels, ≥ 0; 0: no arm.
    arm_angle : float
        Direction of the arm from the centre, degrees from +x towards +y
        (90: straight down the rows).
    center : tuple of float, optional
        Disc centre (x, y) in pixels; default the detector centre.

    Returns
    -------
    numpy.ndarray of bool
        True behind the beam stop.

    Examples
    --------
    >>> m = rod_beam_stop((9, 9), radius=1.5, arm_width=1.0, arm_angle=0.0)
    >>> m[4].astype(int).tolist()            # the arm runs to the right edge
    [0, 0, 0, 1, 1, 1, 1, 1, 1]
    >>> int(m.sum())
    12
    """
    rows, cols = (int(n) for n in shape)
    r = _finite("radius", radius, "pixels", lo=0.0, lo_open=True)
    w = _finite("arm_width", arm_width, "pixels", lo=0.0)
    t = math.radians(_finite("arm_angle", arm_angle, "degrees"))
    cx, cy = _center(center, (rows, cols))
    dy, dx = np.meshgrid(np.arange(rows) - cy, np.arange(cols) - cx, indexing="ij")
    out = np.hypot(dx, dy) <= r
    if w > 0:
        along = dx * math.cos(t) + dy * math.sin(t)
        across = -dx * math.sin(t) + dy * math.cos(t)
        out |= (along >= 0) & (np.abs(across) <= w / 2)
    return out


def fcc_reflections(lattice_parameter: float = AU_LATTICE_PARAMETER, s_max: float = 1.5):
    """Reflection families of a face-centred cubic crystal up to ``s_max``.

    Allowed hkl: all even or all odd (the fcc structure factor F = 4f, zero
    otherwise). Au by default (a = 4.0782 Å): 111, 200, 220, 311, 222, 400,
    331, 420, …

    Parameters
    ----------
    lattice_parameter : float
        Cubic lattice parameter a in Å (> 0).
    s_max : float
        Largest s = 1/d in Å⁻¹ (> 0).

    Returns
    -------
    hkl : numpy.ndarray of int
        Family representatives h ≥ k ≥ l ≥ 0, shape (n, 3), by increasing s.
    d : numpy.ndarray
        Interplanar spacings a/√(h²+k²+l²) in Å, shape (n,).
    multiplicity : numpy.ndarray of int
        Number of symmetry-equivalent hkl of each family, shape (n,).

    Examples
    --------
    >>> hkl, d, m = fcc_reflections(s_max=1.1)
    >>> ["".join(map(str, h)) for h in hkl]
    ['111', '200', '220', '311', '222', '400', '331', '420']
    >>> np.round(d[:2], 4).tolist(), m.tolist()
    ([2.3545, 2.0391], [8, 6, 12, 24, 8, 6, 24, 24])
    """
    a = _finite("lattice_parameter", lattice_parameter, "Å", lo=0.0, lo_open=True)
    smax = _finite("s_max", s_max, "Å⁻¹", lo=0.0, lo_open=True)
    n = int(math.floor(a * smax)) + 1
    fams = []
    for h in range(n + 1):
        for k in range(h + 1):
            for l in range(k + 1):
                if h == 0 or len({h % 2, k % 2, l % 2}) != 1:
                    continue
                q2 = h * h + k * k + l * l
                if math.sqrt(q2) / a <= smax:
                    fams.append((q2, h, k, l))
    fams.sort()
    from itertools import permutations, product

    hkl = np.array([f[1:] for f in fams], dtype=int).reshape(-1, 3)
    mult = np.array(
        [len({tuple(sg * x for sg, x in zip(signs, perm, strict=True))
              for perm in permutations(f) for signs in product((1, -1), repeat=3)})
         for f in hkl.tolist()],
        dtype=int,
    )
    d = a / np.sqrt((hkl**2).sum(1)) if hkl.size else np.zeros(0)
    return hkl, d, mult
