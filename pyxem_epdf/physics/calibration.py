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
  becomes (kx₀ + k x₀, ky₀ + k y₀) and s = k ‖A·(p − c)‖.
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

from ._common import pattern_stack
from .detector import DETECTOR_LAYOUTS, gap_mask

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
    """Corrected radius ‖A·(p − c)‖ of every pixel in pixels.

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
        out |= (along >= -1e-9) & (np.abs(across) <= w / 2 + 1e-9)
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
            for m in range(k + 1):
                if h == 0 or len({h % 2, k % 2, m % 2}) != 1:
                    continue
                q2 = h * h + k * k + m * m
                if math.sqrt(q2) / a <= smax:
                    fams.append((q2, h, k, m))
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


# --------------------------------------------------------------------------
# Ring points and the ellipse (conic) fit
# --------------------------------------------------------------------------


def _ranges(radius_range):
    arr = np.asarray(radius_range, dtype=float)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != 2 or not np.all(np.isfinite(arr)) \
            or np.any(arr[:, 0] < 0) or np.any(arr[:, 1] - arr[:, 0] < 2):
        raise ValueError(
            "'radius_range' must be (r_min, r_max) or a list of them in pixels with "
            f"0 <= r_min and r_max - r_min >= 2; got {radius_range!r}."
        )
    return arr


def _sample(image, valid, xs, ys):
    """Bilinear samples of ``image`` and the fraction of valid weight at (xs, ys)."""
    from scipy.ndimage import map_coordinates

    coords = np.stack([ys.ravel(), xs.ravel()])
    good = map_coordinates(valid, coords, order=1, mode="constant", cval=0.0)
    val = map_coordinates(image * valid, coords, order=1, mode="constant", cval=0.0)
    return val.reshape(xs.shape), good.reshape(xs.shape)


def ring_points(image, center, radius_range, *, distortion=None, mask=None,
                n_angles: int = 120, smooth: float = 0.5, step: float = 0.25):
    """Points of one ring of a pattern, one per azimuthal sector, by peak finding.

    The image is sampled bilinearly along rays p = c + A⁻¹ (r e_φ) of the
    corrected frame (so the ring is close to a circle and the peak position
    equivariant to the residual distortion), averaged over each of
    ``n_angles`` disjoint sectors (8 sub-rays each) leaving out masked
    pixels, smoothed along r by a Gaussian of ``smooth`` pixels, and the
    maximum inside ``radius_range`` refined by a parabola.

    Parameters
    ----------
    image : array_like
        2-D pattern (rows, columns), e.g. the scan sum.
    center : tuple of float
        Current estimate of the centre (x, y) in pixels.
    radius_range : tuple of float
        (r_min, r_max) of the ring in corrected pixels.
    distortion : array_like, optional
        Current estimate of A (:func:`distortion_matrix`); default identity.
    mask : array_like of bool, optional
        True for excluded pixels (beam stop, gaps, hot pixels).
    n_angles : int
        Number of sectors (8–3600).
    smooth : float
        Gaussian σ along r in pixels (≥ 0).
    step : float
        Radial sampling step in pixels (0 < step ≤ 1).

    Returns
    -------
    points : numpy.ndarray
        (x, y) detector pixel positions of the ring maximum, shape (n, 2), for
        the n sectors with ≥ 50 % valid samples and a maximum strictly inside
        the range.
    angles : numpy.ndarray
        Azimuth φ of each point in the corrected frame, radians, shape (n,).

    Examples
    --------
    >>> yy, xx = np.mgrid[:64, :64]
    >>> img = np.exp(-0.5 * ((np.hypot(xx - 30.0, yy - 33.0) - 20.0) / 2.0) ** 2)
    >>> pts, phi = ring_points(img, (31.0, 32.0), (12, 28), n_angles=36)
    >>> r = np.hypot(pts[:, 0] - 30.0, pts[:, 1] - 33.0)
    >>> pts.shape, bool(np.abs(r - 20.0).max() < 0.05)
    ((36, 2), True)
    """
    from scipy.ndimage import gaussian_filter1d

    img = _image("image", image)
    valid = (~_mask(mask, img.shape)).astype(float)
    valid[~np.isfinite(img)] = 0.0
    img = np.where(valid > 0, img, 0.0)
    cx, cy = _center(center, img.shape)
    (r0, r1), = _ranges(radius_range)
    n_angles = int(n_angles)
    if not 8 <= n_angles <= 3600:
        raise ValueError(f"'n_angles' must be an integer in [8, 3600]; got {n_angles!r}.")
    smooth = _finite("smooth", smooth, "pixels", lo=0.0)
    step = _finite("step", step, "pixels", lo=0.0, lo_open=True, hi=1.0)
    ainv = np.linalg.inv(_matrix(distortion))
    pad = 3 * smooth + 2 * step
    radii = np.arange(max(r0 - pad, 0.0), r1 + pad + step / 2, step)
    n_sub = 8
    phi = (np.arange(n_angles * n_sub) + 0.5) * (2 * np.pi / (n_angles * n_sub))
    ux = radii[None, :] * np.cos(phi)[:, None]
    uy = radii[None, :] * np.sin(phi)[:, None]
    xs = cx + ainv[0, 0] * ux + ainv[0, 1] * uy
    ys = cy + ainv[1, 0] * ux + ainv[1, 1] * uy
    val, good = _sample(img, valid, xs, ys)
    val = val.reshape(n_angles, n_sub, -1).sum(1)
    good = good.reshape(n_angles, n_sub, -1).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        prof = val / good
    frac = good / n_sub
    ok_r = (radii >= r0) & (radii <= r1)
    sector_ok = (frac[:, ok_r] >= 0.5).all(1)
    prof = np.where(frac >= 0.5, prof, np.nan)
    # fill the (few) invalid samples of a good sector before smoothing
    if smooth > 0:
        filled = np.where(np.isfinite(prof), prof, 0.0)
        w = gaussian_filter1d(np.isfinite(prof).astype(float), smooth / step, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            prof = gaussian_filter1d(filled, smooth / step, axis=1) / w
    inside = np.where(ok_r)[0]
    sub = np.where(np.isfinite(prof[:, inside]), prof[:, inside], -np.inf)
    k = np.argmax(sub, axis=1)
    interior = (k > 0) & (k < inside.size - 1)
    keep = sector_ok & interior & np.isfinite(sub.max(1))
    rows = np.where(keep)[0]
    kk = inside[k[rows]]
    ym, y0, yp = prof[rows, kk - 1], prof[rows, kk], prof[rows, kk + 1]
    den = ym - 2 * y0 + yp
    with np.errstate(invalid="ignore", divide="ignore"):
        delta = np.where(den < 0, 0.5 * (ym - yp) / den, 0.0)
    r_peak = radii[kk] + np.clip(delta, -0.5, 0.5) * step
    ang = (np.arange(n_angles) + 0.5) * (2 * np.pi / n_angles)
    a = ang[rows]
    ux, uy = r_peak * np.cos(a), r_peak * np.sin(a)
    pts = np.stack([cx + ainv[0, 0] * ux + ainv[0, 1] * uy,
                    cy + ainv[1, 0] * ux + ainv[1, 1] * uy], axis=-1)
    return pts, a


class EllipseFit(NamedTuple):
    """Result of :func:`fit_ellipse` (pixels and degrees; ``*_std`` are 1σ bootstrap errors).

    Attributes
    ----------
    center : tuple of float
        (x, y) of the ellipse centre in pixels.
    axis_ratio : float
        Major / minor semi-axis ratio ρ ≥ 1.
    angle : float
        Major-axis direction θ in degrees from +x towards +y, [0, 180).
    matrix : numpy.ndarray
        A = :func:`distortion_matrix` (ρ, θ), the input of the integration
        kernel's ``distortion`` (u = A·(p − c), det A = 1).
    radii : numpy.ndarray
        ``"points"`` only (else empty): corrected (geometric-mean) radius
        √(ab) of each ring's intensity maximum in pixels (on a sloping
        background the maximum sits slightly inside the ring's own centre;
        use :func:`calibrate_rings` for ring positions).
    center_std, axis_ratio_std, angle_std, radii_std
        Bootstrap standard deviations of the above.
    n_points : int
        Ring points used.
    rms : float
        ``"points"``: RMS distance of the points from the fitted ellipses,
        pixels; ``"variance"``: RMS weighted residual of the pixels.

    Examples
    --------
    >>> r = corrected_radius((64, 64), None, distortion_matrix(1.03, 60.0))
    >>> fit = fit_ellipse(np.exp(-0.5 * ((r - 20) / 2) ** 2), (10, 30), n_bootstrap=20)
    >>> round(fit.axis_ratio, 3), round(fit.angle), fit.matrix.shape
    (1.03, 60, (2, 2))
    """

    center: tuple
    axis_ratio: float
    angle: float
    matrix: np.ndarray
    radii: np.ndarray
    center_std: tuple
    axis_ratio_std: float
    angle_std: float
    radii_std: np.ndarray
    n_points: int
    rms: float


def _conic(points, ring, n_rings, origin):
    """Linear least squares of (x²+y²) + α(x²−y²) + 2βxy + dx + ey + f_j = 0."""
    x = points[:, 0] - origin[0]
    y = points[:, 1] - origin[1]
    design = np.zeros((x.size, 4 + n_rings))
    design[:, 0] = x * x - y * y
    design[:, 1] = 2 * x * y
    design[:, 2] = x
    design[:, 3] = y
    design[np.arange(x.size), 4 + ring] = 1.0
    sol, *_ = np.linalg.lstsq(design, -(x * x + y * y), rcond=None)
    alpha, beta, d, e = sol[:4]
    m = np.array([[1 + alpha, beta], [beta, 1 - alpha]])
    c = -0.5 * np.linalg.solve(m, [d, e])
    r2 = c @ m @ c - sol[4:]
    det = np.linalg.det(m)
    w, v = np.linalg.eigh(m)
    ratio = math.sqrt(w[1] / w[0]) if w[0] > 0 else math.nan
    angle = math.degrees(math.atan2(v[1, 0], v[0, 0])) % 180.0
    radii = np.sqrt(np.maximum(r2, 0)) / det**0.25 if det > 0 else np.full(n_rings, np.nan)
    return (c[0] + origin[0], c[1] + origin[1]), ratio, angle, radii, m / math.sqrt(abs(det))


def _angle_diff(a, b):
    return (np.asarray(a) - b + 90.0) % 180.0 - 90.0


def _fit_points(img, ranges, m, c, n_angles, smooth, iterations, n_bootstrap, seed):
    """Ring points + joint conic fit, bootstrap over the points (method="points")."""
    a = np.eye(2)
    for _ in range(iterations):
        pts, ring = [], []
        for j, rr in enumerate(ranges):
            p, _phi = ring_points(img, c, rr, distortion=a, mask=m, n_angles=n_angles,
                                  smooth=smooth)
            pts.append(p)
            ring.append(np.full(len(p), j))
        pts = np.concatenate(pts)
        ring = np.concatenate(ring)
        if len(pts) < 10 or np.unique(ring).size < len(ranges):
            raise ValueError(
                f"Found only {len(pts)} ring points in 'radius_range' {ranges.tolist()} "
                f"(or a ring without any) around centre {tuple(round(v, 2) for v in c)}; "
                "check the ranges, the centre and the mask."
            )
        c, ratio, angle, radii, msc = _conic(pts, ring, len(ranges), c)
        if not (math.isfinite(ratio) and 1.0 <= ratio <= 2.0):
            raise ValueError(f"The conic fit gave an axis ratio {ratio!r}, not an ellipse of "
                             "ratio 1–2: the ring points are not on one ellipse.")
        a = distortion_matrix(ratio, angle)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_bootstrap):
        idx = rng.integers(0, len(pts), len(pts))
        if np.unique(ring[idx]).size < len(ranges):
            continue
        bc, br, ba, brad, _ = _conic(pts[idx], ring[idx], len(ranges), c)
        boot.append((bc[0], bc[1], br, ba, *brad))
    boot = np.array(boot)
    # residual distance of the points from their ellipse (corrected frame)
    u = (pts - np.asarray(c)) @ a.T
    rms = float(np.sqrt(np.mean((np.hypot(u[:, 0], u[:, 1]) - radii[ring]) ** 2)))
    return EllipseFit(
        center=(float(c[0]), float(c[1])),
        axis_ratio=float(ratio),
        angle=float(angle),
        matrix=a,
        radii=np.asarray(radii, dtype=float),
        center_std=(float(boot[:, 0].std()), float(boot[:, 1].std())),
        axis_ratio_std=float(boot[:, 2].std()),
        angle_std=float(np.abs(_angle_diff(boot[:, 3], angle)).std() if ratio == 1 else
                        _angle_diff(boot[:, 3], angle).std()),
        radii_std=boot[:, 4:].std(0),
        n_points=int(len(pts)),
        rms=rms,
    )


# --------------------------------------------------------------------------
# Azimuthal-variance fit of centre and distortion
# --------------------------------------------------------------------------


def _expm_sym(e1, e2):
    """expm([[e1, e2], [e2, −e1]]) (symmetric, traceless → det 1)."""
    n = math.hypot(e1, e2)
    ch = math.cosh(n)
    sh = math.sinh(n) / n if n > 0 else 1.0
    return np.array([[ch + sh * e1, sh * e2], [sh * e2, ch - sh * e1]])


def _e_from_ratio(ratio, angle):
    h = 0.5 * math.log(ratio)
    t = math.radians(2 * angle)
    return -h * math.cos(t), -h * math.sin(t)


class _Pixels:
    """Azimuthal-variance residuals of the pixels of one image in a trial corrected frame.

    Each valid pixel p of the band is compared with the azimuthal mean
    profile P̄ at its corrected radius r_p = ‖A·(p − c)‖; P̄ is the mean of
    the pixels on a 0.5 px grid of radii with linear (tent) weights, so the
    residuals are continuous in (c, A) and every pixel's noise enters once.
    """

    def __init__(self, image, mask, r_lo, r_hi, center, ainv, n_angles, step=0.5):
        rows, cols = image.shape
        yy, xx = np.mgrid[:rows, :cols]
        a = np.linalg.inv(ainv)
        dx, dy = xx - center[0], yy - center[1]
        u, v = a[0, 0] * dx + a[0, 1] * dy, a[1, 0] * dx + a[1, 1] * dy
        r = np.hypot(u, v)
        sel = (r >= r_lo) & (r <= r_hi) & ~mask & np.isfinite(image)
        self.x = xx[sel].astype(float)
        self.y = yy[sel].astype(float)
        self.val = image[sel].astype(float)
        phi = np.arctan2(v[sel], u[sel]) % (2 * np.pi)
        self.sector = np.minimum((phi / (2 * np.pi) * n_angles).astype(int), n_angles - 1)
        self.n_angles = n_angles
        self.step = step
        self.r0 = max(r_lo - 4 * step, 0.0)
        self.nb = int(np.ceil((r_hi + 4 * step - self.r0) / step)) + 2

    def model(self, cx, cy, a):
        dx, dy = self.x - cx, self.y - cy
        r = np.hypot(a[0, 0] * dx + a[0, 1] * dy, a[1, 0] * dx + a[1, 1] * dy)
        pos = np.clip((r - self.r0) / self.step, 0, self.nb - 1.000001)
        i = pos.astype(int)
        f = pos - i
        w0, w1 = 1 - f, f
        num = np.bincount(i, w0 * self.val, self.nb) + np.bincount(i + 1, w1 * self.val, self.nb)
        den = np.bincount(i, w0, self.nb) + np.bincount(i + 1, w1, self.nb)
        mean = num / np.maximum(den, 1e-12)
        return w0 * mean[i] + w1 * mean[i + 1]

    def residuals(self, cx, cy, ainv, weight=None):
        a = np.linalg.inv(ainv)
        mod = self.model(cx, cy, a)
        if weight is None:
            weight = 1.0 / np.sqrt(np.abs(mod) + 1e-3 * np.abs(mod).max() + 1e-12)
        return (self.val - mod) * weight, weight


def _fit_variance(img, mask, band, n_angles, x0, free, steps, n_iter=30):
    """Gauss–Newton on the pixel residuals over the free parameters of x = (cx, cy, e1, e2)."""
    x = np.array(x0, dtype=float)
    polar = _Pixels(img, mask, band[0], band[1], x[:2], _expm_sym(-x[2], -x[3]), n_angles)

    def res(v, weight):
        ainv = _expm_sym(-v[2], -v[3])
        return polar.residuals(v[0], v[1], ainv, weight)

    free = np.asarray(free)
    steps = np.asarray(steps, dtype=float)
    r, weight = res(x, None)
    cost = float((r**2).sum())
    for _ in range(n_iter):
        jac = []
        for k in free:
            dv = np.zeros(4)
            dv[k] = steps[k]
            jac.append(((res(x + dv, weight)[0] - res(x - dv, weight)[0]) / (2 * steps[k])).ravel())
        jac = np.stack(jac, axis=1)
        jtj = jac.T @ jac
        delta = -np.linalg.solve(jtj + 1e-12 * np.trace(jtj) * np.eye(len(free)),
                                 jac.T @ r.ravel())
        # step control: halve until the cost drops
        lam = 1.0
        improved = False
        for _h in range(6):
            xn = x.copy()
            xn[free] += lam * delta
            rn, _ = res(xn, weight)
            cn = float((rn**2).sum())
            if cn < cost:
                improved = True
                break
            lam /= 2
        if not improved:
            break
        x, r, cost = xn, rn, cn
        if np.all(np.abs(lam * delta) < 0.02 * steps[free]):
            break
    return x, r, jac, polar


def _block_bootstrap(jac, r, sector, n_sec, n_boot, seed):
    """Linearised bootstrap over angular sectors: covariance of the GN step."""
    rng = np.random.default_rng(seed)
    k = jac.shape[1]
    a_sec = np.stack([np.bincount(sector, jac[:, i] * jac[:, j], n_sec)
                      for i in range(k) for j in range(k)], -1).reshape(n_sec, k, k)
    b_sec = np.stack([np.bincount(sector, jac[:, i] * r, n_sec) for i in range(k)], -1)
    out = []
    for _ in range(n_boot):
        w = np.bincount(rng.integers(0, n_sec, n_sec), minlength=n_sec).astype(float)
        a = np.tensordot(w, a_sec, 1)
        b = np.tensordot(w, b_sec, 1)
        out.append(-np.linalg.solve(a, b))
    return np.cov(np.array(out).T).reshape(jac.shape[1], jac.shape[1])


def _fit_var(img, ranges, m, c, n_angles, n_bootstrap, seed, distortion0=None):
    band = (float(ranges[:, 0].min()), float(ranges[:, 1].max()))
    e0 = (0.0, 0.0) if distortion0 is None else _e_from_ratio(*ellipse_parameters(distortion0))
    # coarse centre first (circular), then all four parameters
    x, *_ = _fit_variance(img, m, band, n_angles, (c[0], c[1], *e0), [0, 1],
                          (0.1, 0.1, 1e-3, 1e-3))
    x, r, jac, polar = _fit_variance(img, m, band, n_angles, x, [0, 1, 2, 3],
                                     (0.1, 0.1, 1e-3, 1e-3))
    cov = _block_bootstrap(jac, r, polar.sector, n_angles, n_bootstrap, seed)
    e1, e2 = x[2], x[3]
    en = math.hypot(e1, e2)
    ratio = math.exp(2 * en)
    angle = (math.degrees(math.atan2(-e2, -e1)) / 2) % 180.0 if en > 0 else 0.0
    # propagate (e1, e2) → (ratio, angle)
    if en > 0:
        g_ratio = 2 * ratio * np.array([e1, e2]) / en
        g_angle = np.degrees(0.5 * np.array([e2, -e1]) / en**2)
        ratio_std = float(np.sqrt(g_ratio @ cov[2:, 2:] @ g_ratio))
        angle_std = float(np.sqrt(g_angle @ cov[2:, 2:] @ g_angle))
    else:
        ratio_std, angle_std = float(2 * np.sqrt(cov[2, 2] + cov[3, 3])), 90.0
    a = distortion_matrix(min(ratio, 2.0), angle)
    res = r.ravel()
    return EllipseFit(
        center=(float(x[0]), float(x[1])), axis_ratio=float(ratio), angle=float(angle),
        matrix=a, radii=np.array([]), center_std=(float(np.sqrt(cov[0, 0])),
                                                    float(np.sqrt(cov[1, 1]))),
        axis_ratio_std=ratio_std, angle_std=angle_std, radii_std=np.array([]),
        n_points=int(np.count_nonzero(res)), rms=float(np.sqrt(np.mean(res**2))),
    )


def fit_ellipse(image, radius_range, *, center=None, mask=None, method: str = "variance",
                n_angles: int = 90, smooth: float = 0.5, iterations: int = 3,
                n_bootstrap: int = 200, seed: int = 0) -> EllipseFit:
    """Elliptical distortion and centre of a pattern from its ring(s).

    Two methods:

    * ``"variance"`` (default; amorphous or polycrystalline): minimise the
      azimuthal variance of the polar transform in the corrected frame,
      :math:`\\sum_{\\phi, r} w_r^2 (P_\\phi(r) - \\bar P(r))^2` over the
      centre c and the traceless symmetric log-distortion E, A = exp(E), by
      Gauss–Newton (P_φ: bilinear samples of ``n_angles`` sectors at 0.5 px
      radial steps inside ``radius_range``, masked samples left out,
      :math:`w_r = 1/\\sqrt{\\bar P(r)}`, Poisson-like). Needs no ring
      maximum (an amorphous shoulder suffices). Errors: linearised bootstrap
      over the sectors.
    * ``"points"`` (sharp rings): :func:`ring_points` per ring, sampled in
      the current corrected frame, and a joint linear conic fit with common
      centre and shape, :math:`(p - c)^T M (p - c) = R_j^2`, M ∝ AᵀA,
      iterated ``iterations`` times; errors from ``n_bootstrap`` refits of
      resampled points. Also returns each ring's corrected radius √(ab).

    Parameters
    ----------
    image : array_like
        2-D pattern, e.g. the scan sum of an amorphous scan or a
        polycrystalline standard.
    radius_range : tuple or list of tuple
        (r_min, r_max) in corrected pixels: the radial band(s) used; for
        ``"points"`` one band per ring.
    center : tuple of float, optional
        Starting centre (x, y) in pixels; default the detector centre. Must
        be within a few pixels (see :func:`refine_centers` for a search).
    mask : array_like of bool, optional
        True for excluded pixels (beam stop, detector gaps).
    method : {"variance", "points"}
    n_angles : int
        Angular sectors (8–3600).
    smooth : float
        Radial smoothing σ in pixels (``"points"`` only).
    iterations : int
        Conic re-fits (``"points"`` only, 1–10).
    n_bootstrap : int
        Bootstrap replicas for the errors (≥ 10).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    EllipseFit
        ``axis_ratio`` and ``angle`` are the arguments of
        :func:`distortion_matrix` (= the integration kernel's
        ``ellipse_matrix``), ``matrix`` that A, ``center`` the pattern centre
        (x, y) in pixels.

    Raises
    ------
    ValueError
        Bad parameters, or (``"points"``) fewer than 10 ring points found.

    Examples
    --------
    >>> a = distortion_matrix(1.02, 35.0)
    >>> r = corrected_radius((96, 96), (49.3, 46.1), a)
    >>> img = 100 * np.exp(-0.5 * ((r - 30.0) / 2.5) ** 2) + 50 * np.exp(-r / 20)
    >>> fit = fit_ellipse(img, (15, 42), n_bootstrap=20)
    >>> round(fit.axis_ratio, 3), round(fit.angle), np.round(fit.center, 2).tolist()
    (1.02, 35, [49.3, 46.1])
    >>> fit = fit_ellipse(img, (20, 40), method="points", n_bootstrap=20)
    >>> round(fit.axis_ratio, 4), round(fit.angle, 1), np.round(fit.radii, 2).tolist()
    (1.02, 35.0, [30.0])
    """
    img = _image("image", image)
    ranges = _ranges(radius_range)
    m = _mask(mask, img.shape)
    c = _center(center, img.shape)
    n_angles = int(n_angles)
    if not 8 <= n_angles <= 3600:
        raise ValueError(f"'n_angles' must be an integer in [8, 3600]; got {n_angles!r}.")
    iterations = int(iterations)
    if not 1 <= iterations <= 10:
        raise ValueError(f"'iterations' must be an integer in [1, 10]; got {iterations!r}.")
    n_bootstrap = int(n_bootstrap)
    if n_bootstrap < 10:
        raise ValueError(f"'n_bootstrap' must be an integer >= 10; got {n_bootstrap!r}.")
    if method == "variance":
        return _fit_var(img, ranges, m, c, n_angles, n_bootstrap, seed)
    if method == "points":
        return _fit_points(img, ranges, m, c, n_angles, smooth, iterations, n_bootstrap, seed)
    raise ValueError(f"'method' must be 'variance' or 'points'; got {method!r}.")


# --------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------

#: Detector layouts: name → (shape (rows, columns), gap rows, gap columns); the
#: table of :mod:`pyxem_epdf.physics.detector` (sources and accuracy of each
#: layout are documented there).
DETECTORS = DETECTOR_LAYOUTS


def detector_gaps(name: str, shape=None) -> np.ndarray:
    """Mask of the inter-chip / inter-module gaps of a named detector.

    The same as :func:`pyxem_epdf.physics.detector.gap_mask`, kept under this
    name beside the other calibration masks.

    Parameters
    ----------
    name : str
        A key of :data:`DETECTORS` (case-insensitive; ``"-"`` and spaces read
        as ``"_"``): e.g. ``"medipix"``, ``"merlin_quad"``, ``"arina"``,
        ``"quadro"``, ``"eiger_1m"``, ``"eiger_4m"``.
    shape : tuple of int, optional
        Expected detector (rows, columns); a mismatch with the layout raises
        (e.g. binned data), so a wrong name is not silently used.

    Returns
    -------
    numpy.ndarray of bool
        True on gap pixels, the layout's shape.

    Examples
    --------
    >>> m = detector_gaps("merlin_quad")
    >>> m.shape, int(m.sum()), bool(m[256:259, 0].all())
    ((515, 515), 3081, True)
    >>> int(detector_gaps("Medipix").sum())
    0
    """
    return gap_mask(name, shape)


def beam_stop_mask(image, *, center=None, threshold: float = 0.3, min_size: int = 20,
                   dilation: int = 1, mask=None) -> np.ndarray:
    """Beam stop (any shape, arm included) from a pattern or a scan sum.

    A pixel is dark if it holds less than ``threshold`` × the reference level
    at its radius: the azimuthal median of the pattern about ``center``,
    made non-increasing outwards by a running maximum from the outside in
    (so the fully covered centre inherits the level just outside it). The
    level is the 3 × 3 median of the pattern (counting noise), so arms ≥ 3
    pixels wide are found. The dark pixels are opened with a 3 × 3 cross (isolated dead pixels and
    1-pixel lines go), connected components smaller than ``min_size`` pixels
    dropped, single dark pixels touching the region added (corners the median
    rounds off), holes filled and the result dilated by ``dilation`` pixels to
    cover the penumbra.

    Parameters
    ----------
    image : array_like
        2-D pattern; use the scan sum (a single low-dose pattern has mostly
        zero pixels at high s).
    center : tuple of float, optional
        (x, y) in pixels for the radial reference; default the detector
        centre (a few pixels off does not matter).
    threshold : float
        Fraction of the reference below which a pixel is dark, in (0, 1).
    min_size : int
        Smallest component kept, pixels (≥ 1).
    dilation : int
        Dilation in pixels (0–20).
    mask : array_like of bool, optional
        Pixels already known bad (gaps), left out of the reference and the
        result.

    Returns
    -------
    numpy.ndarray of bool
        True behind the beam stop.

    Examples
    --------
    >>> yy, xx = np.mgrid[:64, :64]
    >>> img = 1000.0 / (1 + np.hypot(xx - 32, yy - 30))
    >>> stop = rod_beam_stop((64, 64), 5, 3, 0.0, center=(32, 30))
    >>> img[stop] = 0
    >>> found = beam_stop_mask(img, dilation=0)
    >>> int(stop.sum()), int((found != stop).sum())    # pixels wrong of 161
    (161, 2)
    """
    from scipy import ndimage as ndi

    img = _image("image", image)
    known = _mask(mask, img.shape)
    threshold = _finite("threshold", threshold, "fraction", lo=0.0, lo_open=True, hi=1.0)
    min_size = int(min_size)
    if min_size < 1:
        raise ValueError(f"'min_size' must be an integer >= 1 (pixels); got {min_size!r}.")
    dilation = int(dilation)
    if not 0 <= dilation <= 20:
        raise ValueError(f"'dilation' must be an integer in [0, 20] (pixels); got {dilation!r}.")
    c = _center(center, img.shape)
    r = np.rint(corrected_radius(img.shape, c)).astype(int)
    good = ~known & np.isfinite(img)
    nr = int(r.max()) + 1
    med = np.zeros(nr)
    labels = np.where(good, r + 1, 0)
    present = np.unique(labels[labels > 0])
    med[present - 1] = ndi.median(np.where(good, img, 0.0), labels=labels, index=present)
    ref = np.maximum.accumulate(med[::-1])[::-1]
    # 3 × 3 median: robust to Poisson zeros at high s and to leaking counts
    level = ndi.median_filter(np.where(good, img, ref[r]), size=3, mode="nearest")
    dark = good & (level < threshold * ref[r])
    cross = ndi.generate_binary_structure(2, 1)
    dark = ndi.binary_opening(dark, structure=cross)
    lab, n = ndi.label(dark)
    if n:
        sizes = np.bincount(lab.ravel(), minlength=n + 1)
        keep = sizes >= min_size
        keep[0] = False
        dark = keep[lab]
    # pixel-level edge: single dark pixels next to the region (corners the median rounds off)
    raw = good & (img < threshold * ref[r])
    dark = dark | (ndi.binary_dilation(dark, structure=cross) & raw)
    dark = ndi.binary_fill_holes(dark)
    if dilation:
        dark = ndi.binary_dilation(dark, structure=cross, iterations=dilation)
    return dark & ~known


# --------------------------------------------------------------------------
# s calibration
# --------------------------------------------------------------------------


def radial_profile(image, center=None, distortion=None, *, mask=None, step: float = 0.5,
                   r_max: float | None = None):
    """Azimuthal mean of a pattern against the corrected radius, for calibration fits.

    Pixels are binned by r = ‖A·(p − c)‖ in bins of ``step`` pixels; each
    bin reports the mean radius of its pixels (no binning bias on ring
    positions), their mean value and count.

    Parameters
    ----------
    image : array_like
        2-D pattern.
    center : tuple of float, optional
        (x, y) in pixels; default the detector centre.
    distortion : array_like, optional
        2 × 2 matrix A; default identity.
    mask : array_like of bool, optional
        True for excluded pixels.
    step : float
        Bin width in pixels (0.05–5).
    r_max : float, optional
        Largest radius in pixels; default the largest full circle inside the
        detector.

    Returns
    -------
    r : numpy.ndarray
        Mean corrected radius of the pixels of each non-empty bin, pixels.
    mean : numpy.ndarray
        Mean pixel value.
    count : numpy.ndarray
        Pixels per bin (for Poisson errors: var(mean) = mean / count).

    Examples
    --------
    >>> r, mean, n = radial_profile(np.ones((32, 32)), step=1.0)
    >>> bool(np.allclose(mean, 1.0)), round(float(r[0]), 3), int(n.sum()) < 32 * 32
    (True, 0.707, True)
    """
    img = _image("image", image)
    m = _mask(mask, img.shape) | ~np.isfinite(img)
    c = _center(center, img.shape)
    step = _finite("step", step, "pixels", lo=0.05, hi=5.0)
    rad = corrected_radius(img.shape, c, distortion)
    if r_max is None:
        rows, cols = img.shape
        r_max = min(c[0], c[1], cols - 1 - c[0], rows - 1 - c[1])
    r_max = _finite("r_max", r_max, "pixels", lo=0.0, lo_open=True)
    sel = ~m & (rad <= r_max)
    b = (rad[sel] / step).astype(int)
    nb = int(b.max()) + 1 if b.size else 0
    cnt = np.bincount(b, minlength=nb)
    rs = np.bincount(b, rad[sel], nb)
    vs = np.bincount(b, img[sel], nb)
    ok = cnt > 0
    return rs[ok] / cnt[ok], vs[ok] / cnt[ok], cnt[ok]


class RingCalibration(NamedTuple):
    """Result of :func:`calibrate_rings`.

    Attributes
    ----------
    s_per_pixel : float
        Calibration k in Å⁻¹ per corrected pixel: s = k ‖A·(p − c)‖.
    s_per_pixel_std : float
        1σ error of k: the fit covariance scaled by max(1, reduced χ²), widened
        by the Birge ratio of the rings' own scales s_j/r_j about k.
    width : float
        Fitted Gaussian σ of the rings in pixels.
    ring_s : numpy.ndarray
        s = 1/d of the rings used, Å⁻¹.
    ring_radius : numpy.ndarray
        Each ring's own fitted corrected radius in pixels (NaN if its own fit
        failed); s_j / r_j scatters about k.
    ring_radius_std : numpy.ndarray
        1σ errors of ``ring_radius``.
    chi2 : float
        Reduced χ² of the joint fit (Poisson weights).
    alternatives : tuple of (float, float)
        Other scales k tried by the indexing (distinct by > 0.5 %) with
        their BIC above the chosen one's (> 0), best first; empty when
        ``s_per_pixel`` was given. A difference below :data:`AMBIGUITY_BIC`
        raises a ``UserWarning``.

    Examples
    --------
    >>> r = corrected_radius((96, 96))
    >>> img = 10 + sum(50 * np.exp(-0.5 * ((r - s / 0.03) / 1.0) ** 2) for s in (0.5, 0.9, 1.2))
    >>> res = calibrate_rings(img, 1 / np.array([0.5, 0.9, 1.2]), r_min=8)
    >>> round(res.s_per_pixel, 5), res.ring_s.tolist()
    (0.03, [0.5, 0.9, 1.2])
    """

    s_per_pixel: float
    s_per_pixel_std: float
    width: float
    ring_s: np.ndarray
    ring_radius: np.ndarray
    ring_radius_std: np.ndarray
    chi2: float
    alternatives: tuple = ()


def _background_basis(r, spacing):
    from scipy.interpolate import BSpline

    lo, hi = float(r.min()), float(r.max())
    n = max(int(np.ceil((hi - lo) / spacing)), 1)
    inner = np.linspace(lo, hi, n + 1)
    t = np.concatenate([[lo] * 3, inner, [hi] * 3])
    return BSpline.design_matrix(np.clip(r, lo, hi), t, 3).toarray()


def _ring_design(r, centres, width):
    return np.exp(-0.5 * ((r[:, None] - centres[None, :]) / width) ** 2)


def calibrate_rings(image, d_spacings, *, center=None, distortion=None, mask=None,
                    s_per_pixel: float | None = None, r_min: float = 3.0,
                    r_max: float | None = None, background_spacing: float = 4.0,
                    step: float = 0.5) -> RingCalibration:
    """s per pixel from the rings of a polycrystalline standard of known d-spacings.

    The ellipse-corrected radial profile (:func:`radial_profile`) between
    ``r_min`` and ``r_max`` is fitted by Gaussian rings at r_j = (1/d_j)/k
    of common width σ (every reflection within 3 px of that window) on a
    cubic-spline background (knots every ``background_spacing`` pixels), by
    weighted (Poisson) least squares with the amplitudes and background
    solved linearly for each (k, σ) (variable projection). A ring model is
    evaluated at each bin's pixel-area mean radius r + 1/(24 r), not at the
    pixel centres (else k is high by ~1/(24 r²): 0.04 % at 10 px).

    Indexing (which measured ring is which reflection): candidate scales
    from the comb correlation Σ_j P̃(r_j(k)) of the background-subtracted
    profile P̃ (its sum and its mean over the rings in the window) and from
    reflections on the strongest peaks, over k ∈ [s₂/r_max, s₅/r_min] (up
    to :data:`HIDDEN_RINGS` first reflections may lie inside ``r_min``,
    e.g. behind a beam-stop mask); each is fitted on the same window with
    ring amplitudes ≥ 0 and scored by its BIC; the best is refined. With
    ``s_per_pixel`` the same search runs within ±5 % of it. A runner-up
    within :data:`AMBIGUITY_BIC` raises a warning (``alternatives`` lists
    them). Then each ring's own radius is fitted with the others fixed; the
    error of k is the fit error widened by the scatter of the rings' own
    scales (Birge ratio).

    Parameters
    ----------
    image : array_like
        2-D pattern of the standard.
    d_spacings : array_like
        d of the reflections in Å (e.g. ``fcc_reflections(4.0782, 2.0)[1]``);
        reflections outside [r_min, r_max] are skipped.
    center : tuple of float, optional
        Pattern centre (x, y) in pixels (:func:`fit_ellipse`).
    distortion : array_like, optional
        A of :func:`fit_ellipse`; default identity.
    mask : array_like of bool, optional
        Excluded pixels (beam stop, gaps).
    s_per_pixel : float, optional
        Starting calibration in Å⁻¹/pixel, within ~5 %; default: indexed.
    r_min : float
        Smallest ring radius used, pixels (> 0); raise it past the beam stop.
    r_max : float, optional
        Largest ring radius, pixels; default the largest full circle.
    background_spacing : float
        Spline-knot spacing of the background, pixels (> 2 ring widths).
    step : float
        Profile bin width, pixels.

    Returns
    -------
    RingCalibration

    Raises
    ------
    ValueError
        If fewer than two rings fall inside [r_min, r_max].

    Warns
    -----
    UserWarning
        If another assignment of the reflections to the rings fits within
        :data:`AMBIGUITY_BIC` of the chosen one.

    Examples
    --------
    >>> hkl, d, m = fcc_reflections(4.0782, 1.2)
    >>> r = corrected_radius((128, 128))
    >>> img = 5 + 100 * np.exp(-r / 15)
    >>> for dj, mj in zip(d, m):
    ...     img += 20 * mj * np.exp(-0.5 * ((r - (1 / dj) / 0.025) / 0.8) ** 2) / (1 / dj)
    >>> cal = calibrate_rings(img, d, r_min=8)
    >>> round(cal.s_per_pixel, 6), round(cal.width, 2)
    (0.025, 0.8)
    """
    from scipy.optimize import least_squares

    img = _image("image", image)
    d = np.asarray(d_spacings, dtype=float).ravel()
    if d.size < 2 or not np.all(np.isfinite(d)) or np.any(d <= 0):
        raise ValueError(f"'d_spacings' must be >= 2 positive d-spacings in Å; got {d_spacings!r}.")
    s_ring = np.unique(1.0 / d)
    r_min = _finite("r_min", r_min, "pixels", lo=0.0, lo_open=True)
    r, mean, cnt = radial_profile(img, center, distortion, mask=mask, step=step, r_max=r_max)
    r_hi = float(r.max())
    sel = r >= r_min
    r, mean, cnt = r[sel], mean[sel], cnt[sel]
    if r.size < 10:
        raise ValueError(f"Too few profile points beyond 'r_min' = {r_min:g} pixels.")
    sigma_y = np.sqrt(np.maximum(mean, 1.0) / cnt)
    prof = _Profile(r, mean, sigma_y, s_ring, r_min, r_hi, background_spacing)
    alternatives = ()
    if s_per_pixel is None:
        k0, w0, alternatives = _index_rings(prof, step)
    else:
        k0 = _finite("s_per_pixel", s_per_pixel, "Å⁻¹ per pixel", lo=0.0, lo_open=True)
        w0 = None
        if np.sum((s_ring / k0 >= r_min) & (s_ring / k0 <= r_hi - 3.0)) >= 2:
            k0, w0, _alt = _index_rings(prof, step, (k0 / 1.05, k0 * 1.05))
    use = s_ring[(s_ring / k0 >= r_min) & (s_ring / k0 <= r_hi - 3.0)]
    if use.size < 2:
        raise ValueError(
            f"Only {use.size} ring(s) fall between 'r_min' = {r_min:g} and {r_hi:.1f} pixels "
            f"at {k0:.5g} Å⁻¹/pixel; widen the range or give 's_per_pixel'."
        )
    # the rings of the model: every reflection within 3 px of the fitted window
    model = s_ring[(s_ring / k0 >= r_min - 3.0) & (s_ring / k0 <= r_hi + 3.0)]
    if w0 is None:
        w0 = min(_WIDTHS, key=lambda w: prof.chi2(k0, w, model))
    out = least_squares(lambda p: prof.residuals(p[0], p[1], model), (k0, w0),
                        x_scale=(k0 * 1e-3, 0.1), method="lm")
    k, w = float(out.x[0]), float(abs(out.x[1]))
    dof = max(prof.r.size - 2 - model.size - prof.basis.shape[1], 1)
    chi2 = float((out.fun**2).sum() / dof)
    jac = out.jac
    cov = np.linalg.pinv(jac.T @ jac) * max(chi2, 1.0)
    k_stat = float(np.sqrt(cov[0, 0]))
    # each ring's own radius, the others fixed at the joint fit
    radius = np.full(use.size, np.nan)
    radius_std = np.full(use.size, np.nan)
    cen0 = model / k
    for j, sj in enumerate(use):
        jm = int(np.argmin(np.abs(model - sj)))

        def res_j(x, jm=jm):
            cen = cen0.copy()
            cen[jm] = x[0]
            return prof.residuals(k, w, model, centres=cen)

        try:
            oj = least_squares(res_j, (sj / k,), method="lm")
            jj = oj.jac
            radius[j] = oj.x[0]
            radius_std[j] = float(np.sqrt(max(chi2, 1.0) / (jj.T @ jj)[0, 0]))
        except (ValueError, np.linalg.LinAlgError):
            pass
    k_std = _ring_scatter_std(k, k_stat, use, radius, radius_std, w)
    res = RingCalibration(
        s_per_pixel=k, s_per_pixel_std=k_std, width=w, ring_s=use,
        ring_radius=radius, ring_radius_std=radius_std, chi2=chi2,
        alternatives=tuple(alternatives),
    )
    _check_assignment(res)
    return res


#: Ring widths (Gaussian σ, pixels) tried before the joint (k, σ) fit.
_WIDTHS = (0.5, 0.8, 1.2, 1.8, 2.5)
#: An assignment whose BIC is within this of the best one's is ambiguous (warning).
AMBIGUITY_BIC = 10.0
#: Reflections (in s order) that may be hidden inside ``r_min`` when indexing.
HIDDEN_RINGS = 3
#: Comb-correlation maxima scored as candidate scales.
N_CANDIDATES = 15


class _Profile:
    """Radial profile of a standard and its ring model on a fixed window."""

    def __init__(self, r, mean, sigma, s_ring, r_min, r_hi, spacing):
        self.r, self.y, self.sigma = r, mean, sigma
        # a unit pixel at centre radius r averages the ring over radii whose mean
        # is r + 1/(24 r) (tangential spread δ_t²/2r, <δ_t²> = 1/12): the ring model
        # is evaluated there, else k comes out high by 1/(24 r²) (0.04 % at 10 px)
        self.r_eff = r + 1.0 / (24.0 * r)
        self.s_ring, self.r_min, self.r_hi = s_ring, r_min, r_hi
        self.basis = _background_basis(r, spacing)
        self.yw = mean / sigma
        self.bw = self.basis / sigma[:, None]

    def rings(self, k, pad=3.0):
        """Reflections within ``pad`` pixels of the window at scale k."""
        rj = self.s_ring / k
        return self.s_ring[(rj >= self.r_min - pad) & (rj <= self.r_hi + pad)]

    def design(self, k, w, model, centres=None):
        cen = model / k if centres is None else centres
        return np.hstack([_ring_design(self.r_eff, cen, abs(w)) / self.sigma[:, None], self.bw])

    def residuals(self, k, w, model, centres=None):
        des = self.design(k, w, model, centres)
        coef, *_ = np.linalg.lstsq(des, self.yw, rcond=None)
        return des @ coef - self.yw

    def dof(self, model):
        return self.r.size - model.size - self.bw.shape[1] - 2

    def bic(self, chi2, model):
        """Bayesian information criterion n·ln(χ²/n) + p·ln n of a ring model."""
        n = self.r.size
        return float(n * np.log(max(chi2, 1e-300) / n) + (n - self.dof(model)) * np.log(n))

    def chi2(self, k, w, model=None):
        model = self.rings(k) if model is None else model
        return float((self.residuals(k, w, model) ** 2).sum())

    def chi2_positive(self, k, w, model=None):
        """χ² (sum) with the ring amplitudes constrained to be ≥ 0."""
        from scipy.optimize import lsq_linear

        model = self.rings(k) if model is None else model
        des = self.design(k, w, model)
        coef, *_ = np.linalg.lstsq(des, self.yw, rcond=None)
        if np.all(coef[: model.size] >= 0):  # the unconstrained solution is feasible
            return float(((des @ coef - self.yw) ** 2).sum()), coef[: model.size]
        lb = np.r_[np.zeros(model.size), np.full(self.bw.shape[1], -np.inf)]
        sol = lsq_linear(des, self.yw, bounds=(lb, np.inf), method="bvls")
        return float(((des @ sol.x - self.yw) ** 2).sum()), sol.x[: model.size]


def _index_rings(prof, step, k_range=None):
    """Scale k by scoring every candidate assignment of rings to reflections.

    Candidates: the maxima of the comb correlation of the background-subtracted
    profile over k ∈ [s₂/r_hi, s_(2+HIDDEN_RINGS)/r_min] (so up to
    ``HIDDEN_RINGS`` first reflections may be hidden by the beam stop): the
    ``N_CANDIDATES`` highest. Each is fitted on the common window (best
    width of a grid; the three best then refined in (k, σ)) and scored by the Bayesian information criterion
    n·ln(χ²/n) + p·ln n of that fit with ring amplitudes ≥ 0 (p parameters:
    rings, background, k, σ), so that k → 2k on an fcc list (every ring is
    also a 2(hkl) reflection, plus empty ones) loses by its extra rings. A
    scale leaving fewer degrees of freedom than a fifth of the profile
    points does not resolve its rings and is skipped. The smallest BIC wins.
    Returns k, σ and the alternatives ((k, ΔBIC) sorted).
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d
    from scipy.optimize import least_squares
    from scipy.signal import find_peaks

    s_ring, r, r_min, r_hi = prof.s_ring, prof.r, prof.r_min, prof.r_hi
    win = max(int(round(4.0 / step)), 3)
    bg = uniform_filter1d(minimum_filter1d(prof.y, win), win)
    z = (prof.y - bg) / prof.sigma
    first = min(HIDDEN_RINGS, s_ring.size - 2)
    k_lo, k_hi = (s_ring[1] / r_hi, s_ring[first + 1] / r_min) if k_range is None else k_range
    if k_hi <= k_lo:
        raise ValueError(
            f"No scale puts two reflections between 'r_min' = {r_min:g} and {r_hi:.1f} pixels.")
    ks = np.exp(np.linspace(np.log(k_lo), np.log(k_hi), 6000))
    score = np.zeros(ks.size)
    for sj in s_ring:
        rj = sj / ks
        score += np.where((rj >= r_min) & (rj <= r_hi), np.interp(rj, r, z), 0.0)
    n_in = np.searchsorted(s_ring, ks * (r_hi + 3.0)) - np.searchsorted(s_ring, ks * (r_min - 3.0))
    resolved = prof.r.size - n_in - prof.bw.shape[1] - 2 >= prof.r.size // 5
    score = np.where(resolved, score, -np.inf)
    pk = find_peaks(score)[0]
    pk = pk[np.isfinite(score[pk])]
    n_ring = np.maximum(np.searchsorted(s_ring, ks * r_hi) - np.searchsorted(s_ring, ks * r_min), 1)
    mean_score = score / n_ring
    picks = set(pk[np.argsort(score[pk])[::-1][:N_CANDIDATES]].tolist())
    picks |= set(pk[np.argsort(mean_score[pk])[::-1][:N_CANDIDATES]].tolist())
    # a reflection on each of the three strongest measured peaks, snapped to the comb maximum
    pz, props = find_peaks(z, prominence=0)
    for rp in r[pz[np.argsort(props["prominences"])[::-1][:3]]]:
        for kk in s_ring[: first + 3] / rp:
            if pk.size and k_lo <= kk <= k_hi:
                near = pk[np.abs(np.log(ks[pk] / kk)) < 0.03]
                if near.size:
                    picks.add(int(near[np.argmax(score[near])]))
    cands = ks[sorted(picks)]
    coarse = []
    for kc in cands:
        model = prof.rings(kc)
        if np.sum((model / kc >= r_min) & (model / kc <= r_hi - 3)) < 2:
            continue
        if prof.dof(model) < prof.r.size // 5:  # more rings than the profile resolves
            continue
        wc = min(_WIDTHS, key=lambda w: prof.chi2(kc, w, model))
        c2 = prof.chi2_positive(kc, wc, model)[0]
        coarse.append((prof.bic(c2, model), float(kc), wc))
    coarse.sort()
    scored = []
    for i, (c2, kc, wc) in enumerate(coarse):
        if i < 3:  # refine the three best, score the rest at their comb maximum
            model = prof.rings(kc)
            try:
                out = least_squares(lambda p, m=model: prof.residuals(p[0], p[1], m), (kc, wc),
                                    x_scale=(kc * 1e-3, 0.1), method="lm", max_nfev=40)
                kf, wf = float(out.x[0]), float(abs(out.x[1]))
            except (ValueError, np.linalg.LinAlgError):
                kf, wf = kc, wc
            if not (abs(np.log(kf / kc)) < 0.02 and 0.2 < wf < 6.0):
                kf, wf = kc, wc
            scored.append((min(prof.bic(prof.chi2_positive(kf, wf, model)[0], model), c2),
                           kf, wf))
        else:
            scored.append((c2, kc, wc))
    if not scored:
        raise ValueError(
            f"No assignment of the reflections fits two rings between 'r_min' = {r_min:g} and "
            f"{r_hi:.1f} pixels; give 's_per_pixel'.")
    scored.sort()
    best = scored[0]
    alternatives = []
    for c2, kf, _wf in scored[1:]:
        if abs(np.log(kf / best[1])) > 5e-3 and all(abs(np.log(kf / a)) > 5e-3 for a, _ in
                                                     alternatives):
            alternatives.append((kf, c2 - best[0]))
    return best[1], best[2], alternatives


def _ring_scatter_std(k, k_stat, use, radius, radius_std, w):
    """1σ of k: the fit error, widened by the scatter of the rings' own scales.

    Each ring j gives k_j = s_j/r_j; their weighted scatter about k (Birge
    ratio √χ²_ν > 1: systematic misfits such as unresolved neighbours) widens
    the error to σ_stat·√χ²_ν, and never below the error of the weighted
    mean of the k_j.
    """
    ok = np.isfinite(radius) & np.isfinite(radius_std) & (radius_std > 0) & (radius > 0)
    if ok.sum() < 3:
        return k_stat
    kj = use[ok] / radius[ok]
    sj = kj * radius_std[ok] / radius[ok]
    wt = 1.0 / sj**2
    kbar = float((wt * kj).sum() / wt.sum())
    chi2_nu = float((wt * (kj - k) ** 2).sum() / (ok.sum() - 1))
    return float(max(k_stat * np.sqrt(max(chi2_nu, 1.0)), np.sqrt(1.0 / wt.sum()),
                     abs(kbar - k)))


def _check_assignment(res):
    """Warn when another ring assignment is within :data:`AMBIGUITY_BIC` of the chosen one."""
    import warnings

    close = [(a, q) for a, q in res.alternatives if q < AMBIGUITY_BIC]
    if close:
        a, q = close[0]
        warnings.warn(
            f"Ambiguous ring assignment: s per pixel {a:.5g} Å⁻¹/px explains the profile almost "
            f"as well as the chosen {res.s_per_pixel:.5g} Å⁻¹/px (BIC only {q:.1f} higher, "
            f"threshold {AMBIGUITY_BIC:g}); check the centre, 'd_spacings' and 'r_min', or give "
            "'s_per_pixel'.", UserWarning, stacklevel=3)


def scale_from_pdf_peak(r_measured: float, r_known: float, s_per_pixel: float) -> float:
    """Corrected calibration from a known PDF peak of an amorphous reference.

    G(r) computed with a calibration k' that is off by a factor has all
    peaks scaled: if s_true = c · s', then r_measured = c · r_true. So

    .. math:: k = k' \\, r_\\mathrm{measured} / r_\\mathrm{known}.

    Parameters
    ----------
    r_measured : float
        Peak position in Å found in G(r) computed with ``s_per_pixel``.
    r_known : float
        Known distance in Å (a-SiO2 Si–O: 1.61).
    s_per_pixel : float
        Calibration used for that G(r), Å⁻¹ per pixel.

    Returns
    -------
    float
        Corrected calibration in Å⁻¹ per pixel.

    Examples
    --------
    >>> round(scale_from_pdf_peak(1.6583, 1.61, 0.00167), 7)   # G(r) computed 3 % too fine
    0.00172
    """
    rm = _finite("r_measured", r_measured, "Å", lo=0.0, lo_open=True)
    rk = _finite("r_known", r_known, "Å", lo=0.0, lo_open=True)
    k = _finite("s_per_pixel", s_per_pixel, "Å⁻¹ per pixel", lo=0.0, lo_open=True)
    return k * rm / rk


# --------------------------------------------------------------------------
# Centre of every pattern: azimuthal variance, coarse to fine
# --------------------------------------------------------------------------


def _variance_objective(vals, px, py, cand, a, r_lo, r_hi, weight_r, step):
    """Azimuthal variance of each pattern about each candidate centre.

    vals (n, m) pixel values, px/py (m,) pixel coordinates, cand (n, K, 2):
    returns (n, K) Σ t w ((I − P̄(r)) / (1 − S_pp))² / Σ t, P̄ the
    tent-binned mean profile of that pattern about that centre, S_pp the
    pixel's own share in it (leave-one-out residual: without it the
    objective rewards centres that put noisy pixels in sparse bins, a bias
    of ~0.4 px at 10 e⁻/Å² with an asymmetric beam stop), t a linear taper
    of 1 px at the band edges, w(r) a fixed radial weight.
    """
    n, k = cand.shape[:2]
    dx = px[None, None, :] - cand[..., 0:1]
    dy = py[None, None, :] - cand[..., 1:2]
    r = np.hypot(a[0, 0] * dx + a[0, 1] * dy, a[1, 0] * dx + a[1, 1] * dy)
    t = np.clip(np.minimum(r - r_lo, r_hi - r) + 0.5, 0.0, 1.0)
    r0 = max(r_lo - 2 * step, 0.0)
    nb = int(np.ceil((r_hi + 2 * step - r0) / step)) + 2
    pos = np.clip((r - r0) / step, 0, nb - 1.000001)
    i = pos.astype(np.intp)
    f = pos - i
    w = np.interp(r, weight_r[0], weight_r[1]) * t
    base = (np.arange(n * k).reshape(n, k, 1) * nb)
    idx = (i + base).ravel()
    v = np.broadcast_to(vals[:, None, :], r.shape)
    tw0, tw1 = (t * (1 - f)).ravel(), (t * f).ravel()
    size = n * k * nb
    num = np.bincount(idx, tw0 * v.ravel(), size) + np.bincount(idx + 1, tw1 * v.ravel(), size)
    den = np.bincount(idx, tw0, size) + np.bincount(idx + 1, tw1, size)
    safe = np.where(den > 1e-12, den, np.inf)
    mean = (num / safe).reshape(n, k, nb)
    inv = (1.0 / safe).reshape(n, k, nb)
    model = (1 - f) * np.take_along_axis(mean, i, 2) + f * np.take_along_axis(mean, i + 1, 2)
    # leave-one-out residual of the linear smoother: e / (1 − S_pp)
    spp = (1 - f) * t * (1 - f) * np.take_along_axis(inv, i, 2) \
        + f * t * f * np.take_along_axis(inv, i + 1, 2)
    loo = (v - model) / (1 - np.minimum(spp, 0.9))
    return (w * loo**2).sum(-1) / np.maximum(t.sum(-1), 1e-12)


def _objective_kernel(vals, px, py, cand, a00, a01, a10, a11, r_lo, r_hi, wr_x, wr_y, step,
                      out):  # pragma: no cover - compiled
    n, k = cand.shape[0], cand.shape[1]
    m = px.shape[0]
    r0 = max(r_lo - 2 * step, 0.0)
    nb = int(np.ceil((r_hi + 2 * step - r0) / step)) + 2
    num = np.empty(nb)
    den = np.empty(nb)
    ri = np.empty(m, np.int64)
    rf = np.empty(m)
    rt = np.empty(m)
    rw = np.empty(m)
    for i in range(n):
        for j in range(k):
            cx = cand[i, j, 0]
            cy = cand[i, j, 1]
            num[:] = 0.0
            den[:] = 0.0
            tsum = 0.0
            for q in range(m):
                dx = px[q] - cx
                dy = py[q] - cy
                u = a00 * dx + a01 * dy
                v = a10 * dx + a11 * dy
                r = math.sqrt(u * u + v * v)
                tt = min(r - r_lo, r_hi - r) + 0.5
                tt = 0.0 if tt < 0.0 else (1.0 if tt > 1.0 else tt)
                pos = (r - r0) / step
                if pos < 0.0:
                    pos = 0.0
                if pos > nb - 1.000001:
                    pos = nb - 1.000001
                b = int(pos)
                f = pos - b
                ri[q] = b
                rf[q] = f
                rt[q] = tt
                # radial weight: linear interpolation on the (uniform, 1 px) table
                g = (r - wr_x[0]) / (wr_x[1] - wr_x[0])
                if g <= 0.0:
                    w = wr_y[0]
                elif g >= wr_x.shape[0] - 1:
                    w = wr_y[wr_x.shape[0] - 1]
                else:
                    gi = int(g)
                    w = wr_y[gi] + (g - gi) * (wr_y[gi + 1] - wr_y[gi])
                rw[q] = w * tt
                tsum += tt
                val = vals[i, q]
                num[b] += tt * (1 - f) * val
                num[b + 1] += tt * f * val
                den[b] += tt * (1 - f)
                den[b + 1] += tt * f
            for b in range(nb):
                num[b] = num[b] / den[b] if den[b] > 1e-12 else 0.0
            acc = 0.0
            for q in range(m):
                if rt[q] > 0.0:
                    b = ri[q]
                    f = rf[q]
                    d = vals[i, q] - ((1 - f) * num[b] + f * num[b + 1])
                    t0 = rt[q] * (1 - f)
                    t1 = rt[q] * f
                    spp = 0.0
                    if den[b] > 1e-12:
                        spp += (1 - f) * t0 / den[b]
                    if den[b + 1] > 1e-12:
                        spp += f * t1 / den[b + 1]
                    if spp > 0.9:
                        spp = 0.9
                    d = d / (1.0 - spp)
                    acc += rw[q] * d * d
            out[i, j] = acc / tsum if tsum > 1e-12 else np.inf


_OBJ = None


def _objective(vals, px, py, cand, a, r_lo, r_hi, weight_r, step):
    """Compiled :func:`_variance_objective` (same numbers; uniform weight table)."""
    global _OBJ
    if _OBJ is None:
        import numba

        _OBJ = numba.njit(nogil=True, cache=False)(_objective_kernel)
    out = np.empty(cand.shape[:2])
    _OBJ(np.ascontiguousarray(vals, dtype=float), px, py, np.ascontiguousarray(cand),
         float(a[0, 0]), float(a[0, 1]), float(a[1, 0]), float(a[1, 1]), float(r_lo),
         float(r_hi), np.ascontiguousarray(weight_r[0], dtype=float),
         np.ascontiguousarray(weight_r[1], dtype=float), float(step), out)
    return out


_GRID = np.array([(dx, dy) for dy in (-1, 0, 1) for dx in (-1, 0, 1)], dtype=float)


def _refine_block(frames, guess, valid, a, r_lo, r_hi, search, final_step, weight_r):
    n = frames.shape[0]
    ny, nx = frames.shape[1:]
    spread = np.abs(guess - guess.mean(0)).max() if n else 0.0
    c0 = guess.mean(0)
    rad = corrected_radius((ny, nx), c0, a)
    margin = spread + search + 2.0
    sel = valid & (rad >= max(r_lo - margin, 0)) & (rad <= r_hi + margin)
    py, px = np.nonzero(sel)
    px, py = px.astype(float), py.astype(float)
    vals = frames.reshape(n, -1)[:, sel.ravel()].astype(float)
    cur = guess.astype(float).copy()
    step = min(2.0, search / 2)
    lo = guess - search
    hi = guess + search
    while True:
        for _ in range(8):
            cand = np.clip(cur[:, None, :] + step * _GRID[None], lo[:, None], hi[:, None])
            obj = _objective(vals, px, py, cand, a, r_lo, r_hi, weight_r, 0.5)
            best = np.argmin(obj, axis=1)
            moved = best != 4
            cur = cand[np.arange(n), best]
            if not moved.any():
                break
        if step <= final_step:
            break
        step /= 2
    # parabolic refinement on the last 3 × 3 grid
    cand = cur[:, None, :] + step * _GRID[None]
    obj = _objective(vals, px, py, cand, a, r_lo, r_hi, weight_r, 0.5).reshape(n, 3, 3)
    for axis, comp in ((2, 0), (1, 1)):
        m = obj.take(0, axis=axis), obj.take(1, axis=axis), obj.take(2, axis=axis)
        ym, y0, yp = (v[:, 1] for v in m)
        den = ym - 2 * y0 + yp
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = np.where(den > 0, 0.5 * (ym - yp) / den, 0.0)
        cur[:, comp] += np.clip(delta, -0.5, 0.5) * step
    return cur


def refine_centers(frames, radius_range, *, center=None, distortion=None, mask=None,
                   search: float = 4.0, precision: float = 0.125):
    """Centre of every pattern by minimising the azimuthal variance (coarse to fine).

    For each pattern the centre c minimises the weighted variance of the
    pixels of the band ``radius_range`` about their azimuthal mean profile,
    :math:`\\sum_p w(r_p) (I_p - \\bar P_c(r_p))^2`, r_p = ‖A·(p − c)‖ (the
    profile tent-binned at 0.5 px, w = 1/P̄ of the mean pattern: Poisson-like).
    A pattern search on a 3 × 3 grid whose step halves from min(2, search/2)
    px down to ``precision`` (each level repeated until the centre stays),
    then a parabola through the last grid. Masked pixels (beam stop, gaps,
    saturated disc) are left out, so neither biases the centre. All patterns
    of a block are searched together (one ``bincount`` per level).

    Parameters
    ----------
    frames : numpy.ndarray or dask.array.Array
        Patterns, shape nav + (rows, columns), 0, 1 or 2 navigation
        dimensions (any number works).
    radius_range : tuple of float
        (r_min, r_max) band in corrected pixels holding ring structure
        (the amorphous first ring and beyond; avoid the beam stop edge).
    center : array_like, optional
        Starting centre(s) (x, y) in pixels: shape (2,) for all, or nav +
        (2,); default the detector centre.
    distortion : array_like, optional
        2 × 2 matrix A (:func:`fit_ellipse`); default identity.
    mask : array_like of bool, optional
        True for excluded pixels (detector shape).
    search : float
        Largest displacement from the start, pixels (0.5–20).
    precision : float
        Final grid step in pixels (0.005–1).

    Returns
    -------
    numpy.ndarray or dask.array.Array
        Centres (x, y) in pixels, shape nav + (2,); dask in → dask out.

    Examples
    --------
    >>> r = corrected_radius((64, 64), (33.4, 30.8))
    >>> img = 1000 * np.exp(-r / 6) + 300 * np.exp(-0.5 * ((r - 14) / 2) ** 2)
    >>> img[rod_beam_stop((64, 64), 4, 3, 90.0)] = 0          # beam stop with an arm
    >>> stop = img == 0
    >>> c = refine_centers(np.stack([img, img.T]), (7, 26), mask=stop | stop.T)
    >>> np.round(c, 2).tolist()
    [[33.4, 30.8], [30.8, 33.4]]
    """
    frames, is_dask = pattern_stack(frames)
    ny, nx = frames.shape[-2:]
    nav = frames.shape[:-2]
    (r_lo, r_hi), = _ranges(radius_range)
    a = _matrix(distortion)
    valid = ~_mask(mask, (ny, nx))
    search = _finite("search", search, "pixels", lo=0.5, hi=20.0)
    precision = _finite("precision", precision, "pixels", lo=0.005, hi=1.0)
    if center is None:
        center = ((nx - 1) / 2, (ny - 1) / 2)
    g = np.asarray(center, dtype=float)
    if g.shape == (2,):
        g = np.broadcast_to(g, nav + (2,))
    elif g.shape != nav + (2,):
        raise ValueError(f"'center' must have shape (2,) or {nav + (2,)}; got {g.shape}.")
    if not np.all(np.isfinite(g)):
        raise ValueError("'center' must be finite (x, y) pixel positions.")
    # radial weight from the mean pattern about the mean start
    mean_img = frames.reshape((-1, ny, nx))[: min(int(np.prod(nav, dtype=int)), 64)].mean(0)
    if is_dask:
        mean_img = mean_img.compute()
    rr, prof, _ = radial_profile(np.asarray(mean_img, float), tuple(g.reshape(-1, 2).mean(0)),
                                 a, mask=~valid, step=1.0, r_max=r_hi + search + 4)
    floor = 1e-3 * max(float(prof.max()), 1e-12) + 1e-12
    grid_r = np.arange(0.0, r_hi + search + 6.0, 1.0)
    weight_r = (grid_r, np.interp(grid_r, rr, 1.0 / np.maximum(prof, floor)))

    def block(fr, gc):
        shp = fr.shape[:-2]
        out = _refine_block(fr.reshape((-1, ny, nx)), gc.reshape(-1, 2), valid, a, r_lo, r_hi,
                            search, precision, weight_r)
        return out.reshape(shp + (2,))

    if is_dask:
        import dask.array as da

        frames = frames.rechunk({frames.ndim - 2: -1, frames.ndim - 1: -1})
        gd = da.from_array(np.ascontiguousarray(g), chunks=frames.chunks[:-2] + ((2,),))
        return da.map_blocks(lambda f, c: block(f, c)[..., None, :], frames, gd[..., None, :],
                             chunks=frames.chunks[:-2] + ((1,), (2,)), dtype=float)[..., 0, :]
    out = np.empty(nav + (2,))
    flat_f = frames.reshape((-1, ny, nx))
    flat_g = g.reshape(-1, 2)
    flat_o = out.reshape(-1, 2)
    chunk = max(1, 2**21 // max(int(valid.sum()), 1) // 9)
    for s0 in range(0, flat_f.shape[0], chunk):
        flat_o[s0:s0 + chunk] = block(flat_f[s0:s0 + chunk], flat_g[s0:s0 + chunk])
    return out
