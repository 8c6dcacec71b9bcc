"""Geometry of a 4D-STEM scan from its data: masks, distortion, centres, s calibration.

Thin wrappers of :mod:`pyxem_epdf.physics.calibration` for pyxem
``Diffraction2D`` signals (eager or lazy). Sums over the scan are computed in
one pass (:func:`scan_sum`); per-pattern centres stay lazy for lazy input.
Pixel conventions: positions (x, y) = (column, row) in pixel indices;
distortion u = A·(p − c) (``axis_ratio``, ``angle`` of
:func:`pyxem_epdf.physics.calibration.distortion_matrix`).

* :func:`scan_sum` — the summed pattern (NumPy).
* :func:`find_beam_stop` — beam-stop (+ detector-gap) mask from the scan sum.
* :func:`fit_distortion` — ellipse (ratio, angle, centre, errors) of the scan sum.
* :func:`find_centers` — centre of every pattern, navigation-shaped signal.
* :func:`calibrate_standard` — mask, ellipse and s per pixel from one pattern
  of a polycrystalline standard (Au by default).
* :func:`calibrate_from_amorphous` — s per pixel from a known first PDF peak.
* :func:`set_geometry` — write the geometry into the axes and
  ``metadata.ePDF.geometry`` (the record the integration reads).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..physics import calibration as _cal
from . import _base

__all__ = [
    "StandardCalibration",
    "calibrate_from_amorphous",
    "calibrate_standard",
    "find_beam_stop",
    "find_centers",
    "fit_distortion",
    "scan_sum",
    "set_geometry",
]


def _detector_axes(dp):
    axes = dp.axes_manager.signal_axes
    if len(axes) != 2:
        raise ValueError(f"'dp' must have two signal (detector) axes; got {len(axes)}.")
    return axes


def scan_sum(dp, *, show_progressbar: bool | None = None) -> np.ndarray:
    """Sum of all patterns of a scan in one pass (float64, detector shape).

    Parameters
    ----------
    dp : pyxem.signals.Diffraction2D
        Eager or lazy; 0, 1 or 2 navigation dimensions.
    show_progressbar : bool, optional
        Progress bar for a lazy sum.

    Returns
    -------
    numpy.ndarray
        Shape (rows, columns).

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> from pyxem_epdf.signals import calibration
    >>> synth = epdf.data.composite(nav_shape=(3, 4), detector_shape=(32, 32), lazy=True)
    >>> calibration.scan_sum(synth.signal, show_progressbar=False).shape
    (32, 32)
    """
    _detector_axes(dp)
    data = dp.data
    summed = data.sum(axis=tuple(range(data.ndim - 2)), dtype=np.float64)
    if _base.is_dask(summed):
        summed = _base.compute(summed, show_progressbar=show_progressbar)
    return np.asarray(summed, dtype=float)


def _pattern(dp, summed):
    return scan_sum(dp) if summed is None else np.asarray(summed, dtype=float)


def find_beam_stop(dp, *, threshold: float = 0.3, min_size: int = 20, dilation: int = 1,
                   detector: str | None = None, center=None, summed=None,
                   show_progressbar: bool | None = None):
    """Beam stop of any shape (arm included) and detector gaps, from the scan sum.

    Parameters
    ----------
    dp : pyxem.signals.Diffraction2D
        The scan (eager or lazy) or a single pattern.
    threshold, min_size, dilation
        See :func:`pyxem_epdf.physics.calibration.beam_stop_mask` (defaults
        measured on the synthetic scan with a rod beam stop: 0.3 finds the
        arm at < 1 count per pixel behind it; dilation 1 covers every true
        pixel, at the cost of one ring of pixels around the stop).
    detector : str, optional
        Detector name for the gap mask
        (:func:`pyxem_epdf.physics.calibration.detector_gaps`).
    center : tuple of float, optional
        (x, y) in pixels for the radial reference; default the detector centre.
    summed : array_like, optional
        A precomputed :func:`scan_sum` (saves a pass over the data).
    show_progressbar : bool, optional

    Returns
    -------
    mask : numpy.ndarray of bool
        True = exclude (beam stop | gaps).
    report : dict
        Pixels per reason: ``beam_stop``, ``gaps``, ``total``.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> from pyxem_epdf.signals import calibration
    >>> synth = epdf.data.composite(beam_stop=(6, 3, 90.0))    # 20 x 20 scan
    >>> mask, report = calibration.find_beam_stop(synth.signal)
    >>> truth = synth.parameters.beam_stop_mask
    >>> bool(mask[truth].all()), report["beam_stop"] >= int(truth.sum())
    (True, True)
    """
    img = _pattern(dp, summed) if summed is not None else scan_sum(
        dp, show_progressbar=show_progressbar)
    gaps = (np.zeros(img.shape, bool) if detector is None
            else _cal.detector_gaps(detector, shape=img.shape))
    stop = _cal.beam_stop_mask(img, center=center, threshold=threshold, min_size=min_size,
                               dilation=dilation, mask=gaps)
    mask = stop | gaps
    return mask, {"beam_stop": int(stop.sum()), "gaps": int(gaps.sum()),
                  "total": int(mask.sum())}


def _radius_range(dp, radius_range, s_range):
    if (radius_range is None) == (s_range is None):
        raise ValueError("Give exactly one of 'radius_range' (pixels) or 's_range' (Å⁻¹).")
    if radius_range is not None:
        return radius_range
    from .profile import s_unit_factor_checked_axis

    ax = _detector_axes(dp)[0]
    k = abs(float(ax.scale)) * s_unit_factor_checked_axis(ax)
    lo, hi = (float(v) for v in s_range)
    return (lo / k, hi / k)


#: Fraction of the patterns that must reach a pixel of the drift-corrected sum
#: for :func:`fit_distortion` to use it (pixels near the detector edge and the
#: beam stop's edges, reached by fewer patterns, are masked below it).
MIN_COVERAGE = 0.5


def _pattern_centres_px(dp, beam_shift):
    """Pattern centres (x, y) in detector pixel indices from ``beam_shift``.

    The same reading of ``beam_shift`` as :func:`azimuthal_profile` (a
    :func:`descan` result, its plane, a pyxem BeamShift or an array in pyxem's
    convention; a map of the unbinned scan averaged over the bin blocks),
    mapped back onto this signal's detector axes.
    """
    from .profile import _centres_from_beam_shift, s_unit_factor_checked_axis

    axes = _detector_axes(dp)
    nav_shape = tuple(dp.data.shape[:-2])
    try:
        factors = [s_unit_factor_checked_axis(a) for a in axes]
    except ValueError as err:
        raise ValueError(f"'beam_shift' is read in the detector's s calibration, as "
                         f"azimuthal_profile reads it: {err}") from None
    centres, _ = _centres_from_beam_shift(beam_shift, axes, nav_shape)
    px = np.empty_like(centres)
    for i, (a, f) in enumerate(zip(axes, factors, strict=True)):
        px[..., i] = (centres[..., i] / f - a.offset) / a.scale
    return px


def fit_distortion(dp, radius_range=None, *, s_range=None, center=None, mask=None,
                   method: str = "variance", summed=None, n_bootstrap: int = 200,
                   beam_shift=None, show_progressbar: bool | None = None):
    """Elliptical distortion and centre of the scan-summed pattern.

    With ``beam_shift`` (the pattern centre per probe position) the fit uses
    the drift-corrected sum instead of the plain one: every pattern moved
    onto the mean centre by :func:`pyxem_epdf.physics.geometry.centred_sum`
    (whole-pixel shifts: exact counts; the ``mask`` moving with each pattern),
    divided by the patterns reaching each pixel (pixels reached by fewer than
    :data:`MIN_COVERAGE` of them are masked). A drifting centre smears the
    plain sum's rings and biases the fit (composite with 2 % ellipticity at
    30°, drift along x, mean of 3 seeds: plain sum 1.0235 / 22.9° at 4 px
    drift, corrected with the ring centres 1.0209 / 29.7°; one seed's 1σ is
    0.001–0.0015 and 1.2–2.3°; benchmarks/README.md "Drift-corrected scan
    sum").

    Parameters
    ----------
    dp : pyxem.signals.Diffraction2D
        Amorphous scan (eager or lazy) or a standard's pattern.
    radius_range : tuple, optional
        (r_min, r_max) band in pixels (or a list of them, one per ring, for
        ``method="points"``).
    s_range : tuple of float, optional
        The band in Å⁻¹ instead, with the detector axes' current scale.
    center : tuple of float, optional
        Starting centre (x, y) in pixels; default the detector centre.
    mask : array_like of bool, optional
        Excluded pixels (:func:`find_beam_stop`).
    method : {"variance", "points"}
        See :func:`pyxem_epdf.physics.calibration.fit_ellipse`.
    summed : array_like, optional
        A precomputed :func:`scan_sum`.
    n_bootstrap : int
        Bootstrap replicas for the errors.
    beam_shift : Descan, pyxem BeamShift or array_like, optional
        Pattern centres, read as :func:`azimuthal_profile` reads them
        (``descan(dp)`` or its ``plane``; needs detector axes calibrated in s,
        like the integration). Not together with ``summed``. With a beam stop
        over the direct beam, descan's centre of mass is wrong and the
        "corrected" sum is worse than the plain one (measured 4 px drift:
        ratio 1.0267, angle 25.5° for 1.02 at 30°): give ring centres
        (:func:`find_centers`, as ``n/2 − centre``), which give 1.0209 / 29.7°.
    show_progressbar : bool, optional

    Returns
    -------
    pyxem_epdf.physics.calibration.EllipseFit
        ``axis_ratio``, ``angle`` (degrees), ``center`` (x, y px), ``matrix``
        A, with 1σ errors. With ``beam_shift``, ``center`` is the centre of
        the corrected sum: the mean of the given centres plus any common
        offset the fit finds.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> from pyxem_epdf.signals import calibration
    >>> synth = epdf.data.composite(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0))
    >>> mask, _ = calibration.find_beam_stop(synth.signal)
    >>> fit = calibration.fit_distortion(synth.signal, (9, 60), mask=mask)
    >>> abs(fit.axis_ratio - 1.02) < 3 * fit.axis_ratio_std + 1e-3, abs(fit.angle - 30) < 5
    (True, True)
    """
    rr = _radius_range(dp, radius_range, s_range)
    if beam_shift is None:
        img = _pattern(dp, summed) if summed is not None else scan_sum(
            dp, show_progressbar=show_progressbar)
        return _cal.fit_ellipse(img, rr, center=center, mask=mask, method=method,
                                n_bootstrap=n_bootstrap)
    if summed is not None:
        raise ValueError("Give 'summed' (a plain scan sum) or 'beam_shift' (fit the "
                         "drift-corrected sum), not both.")
    from ..physics import geometry

    centres = _pattern_centres_px(dp, beam_shift)
    total, cover = geometry.centred_sum(dp.data, centres, mask=mask)
    if _base.is_dask(total):
        total, cover = _base.compute(total, cover, show_progressbar=show_progressbar)
    n = max(int(np.prod(dp.data.shape[:-2])), 1)
    good = np.asarray(cover) >= MIN_COVERAGE * n
    img = np.where(good, n * np.asarray(total) / np.where(good, cover, 1.0), 0.0)
    start = tuple(centres.reshape(-1, 2).mean(0)) if center is None else center
    return _cal.fit_ellipse(img, rr, center=start, mask=~good, method=method,
                            n_bootstrap=n_bootstrap)


def find_centers(dp, radius_range=None, *, s_range=None, center=None, distortion=None,
                 mask=None, search: float = 4.0, precision: float | None = None,
                 refine: bool = True, lazy_output: bool | None = None):
    """Centre (x, y) in pixels of every pattern, robust to a beam stop.

    Minimises each pattern's azimuthal variance in the band
    (:func:`pyxem_epdf.physics.calibration.refine_centers`), then (``refine``)
    refines it by Fisher scoring of the rings' first azimuthal harmonic
    (:func:`pyxem_epdf.physics.geometry.refine_ring_centre`); masked pixels
    are left out of both. Per-pattern precision depends on the counts
    (synthetic composite, 128², rod beam stop, band 3–40 px, rms of single
    patterns): 0.34 px at 10 e⁻/Å², 0.15 px at 40, 0.08 px at 160, 0.007 px
    noiseless, within 1.15× of the Cramér–Rao bound
    (:func:`pyxem_epdf.physics.geometry.centre_bound`: 0.30 / 0.15 /
    0.075 px); without ``refine`` 1.15 / 0.34 / 0.12 px, biased away from
    the rod. For low-dose scans fit a descan plane over the per-pattern
    centres (:func:`pyxem_epdf.physics.geometry.fit_descan`: 0.02 px rms at
    10 e⁻/Å² over 20 × 20 patterns, 0.43 px without ``refine``).

    Parameters
    ----------
    dp : pyxem.signals.Diffraction2D
        Eager or lazy, 0, 1 or 2 navigation dimensions.
    radius_range, s_range
        The band in pixels or in Å⁻¹ (one of them).
    center : array_like, optional
        Start (x, y) in pixels, (2,) or nav + (2,); default the detector centre.
    distortion : array_like, optional
        A of :func:`fit_distortion` (``fit.matrix``).
    mask : array_like of bool, optional
        Excluded pixels (:func:`find_beam_stop`).
    search : float
        Largest displacement of the grid search, pixels.
    precision : float, optional
        Final grid step, pixels; default 0.5 with ``refine`` (the refinement
        converges from there: same centres as at 0.25, 2× faster) and 0.125
        without (0.107 vs 0.110 px rms at 100 e⁻/Å² with 0.03 px steps).
    refine : bool
        Refine the grid result by :func:`pyxem_epdf.physics.geometry.refine_ring_centre`
        (default; 3.3× smaller error at 10 e⁻/Å², 1.4× at 160, in about
        the same time as the grid search to 0.125 px).
    lazy_output : bool, optional
        Lazy result (default: lazy if ``dp`` is lazy).

    Returns
    -------
    hyperspy.signals.Signal1D
        Navigation axes of ``dp``, signal axis of size 2 = (x, y) in pixels;
        parameters in ``metadata.ePDF.centers``.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> from pyxem_epdf.signals import calibration
    >>> synth = epdf.data.composite(nav_shape=(2, 3), beam_stop=(6, 3, 90.0), dose=100,
    ...                             descan=(2.0, 1.0))
    >>> mask, _ = calibration.find_beam_stop(synth.signal)
    >>> centres = calibration.find_centers(synth.signal, (8, 40), mask=mask)
    >>> truth = np.array(synth.parameters.center[::-1]) + synth.parameters.beam_shifts
    >>> centres.data.shape, bool(np.abs(centres.data - truth).max() < 0.5)
    ((2, 3, 2), True)
    """
    import hyperspy.api as hs

    _detector_axes(dp)
    rr = _radius_range(dp, radius_range, s_range)
    data = dp.data
    if lazy_output is False and _base.is_dask(data):
        data = data.compute()
    elif lazy_output and not _base.is_dask(data):
        import dask.array as da

        data = da.from_array(data, chunks=data.shape[:-2] and (
            tuple(min(n, 16) for n in data.shape[:-2]) + data.shape[-2:]) or data.shape)
    if precision is None:
        precision = 0.5 if refine else 0.125
    if refine:
        from ..physics.geometry import ring_centre

        out = ring_centre(data, rr, mask=mask, guess=center, search=search,
                          distortion=distortion, precision=precision)
    else:
        out = _cal.refine_centers(data, rr, center=center, distortion=distortion, mask=mask,
                                  search=search, precision=precision)
    sig = hs.signals.Signal1D(out)
    if _base.is_dask(out):
        sig = sig.as_lazy()
    for src, dst in zip(dp.axes_manager.navigation_axes, sig.axes_manager.navigation_axes,
                        strict=True):
        dst.name, dst.units, dst.scale, dst.offset = src.name, src.units, src.scale, src.offset
    ax = sig.axes_manager.signal_axes[0]
    ax.name, ax.units = "x, y", "px"
    sig.metadata.General.title = "pattern centres (x, y px)"
    sig.metadata.set_item("ePDF.centers", {
        "radius_range_px": [float(v) for v in np.ravel(rr)[:2]],
        "distortion": np.eye(2).tolist() if distortion is None
        else np.asarray(distortion, float).tolist(),
        "search_px": float(search), "precision_px": float(precision),
        "refine": bool(refine),
        "method": "azimuthal-variance grid" + (" + first-harmonic Fisher scoring" if refine
                                               else ""),
        "masked_pixels": int(0 if mask is None else np.asarray(mask).sum()),
    })
    return sig


class StandardCalibration(NamedTuple):
    """Result of :func:`calibrate_standard`.

    Attributes
    ----------
    s_per_pixel, s_per_pixel_std : float
        Calibration in Å⁻¹ per corrected pixel and its 1σ error.
    ellipse : pyxem_epdf.physics.calibration.EllipseFit
        Distortion and centre of the standard.
    rings : pyxem_epdf.physics.calibration.RingCalibration
        The ring fit.
    mask : numpy.ndarray of bool
        Beam stop (+ gaps) found on the pattern.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> from pyxem_epdf.signals import calibration
    >>> cal = calibration.calibrate_standard(epdf.data.gold_standard(seed=4).signal)
    >>> round(cal.s_per_pixel, 4), cal.mask.shape
    (0.04, (128, 128))
    """

    s_per_pixel: float
    s_per_pixel_std: float
    ellipse: object
    rings: object
    mask: np.ndarray

    def as_dict(self) -> dict:
        """Plain-number record for ``metadata.ePDF.geometry`` or a TOML file.

        Returns
        -------
        dict
            s per pixel, centre, axis ratio, angle (each with its 1σ), the
            matrix A and the ring-fit diagnostics.

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> from pyxem_epdf.signals import calibration
        >>> cal = calibration.calibrate_standard(epdf.data.gold_standard(seed=4).signal)
        >>> sorted(cal.as_dict())[:4]
        ['angle_deg', 'angle_std_deg', 'axis_ratio', 'axis_ratio_std']
        """
        e = self.ellipse
        return {
            "s_per_pixel": self.s_per_pixel, "s_per_pixel_std": self.s_per_pixel_std,
            "center_px": list(e.center), "center_std_px": list(e.center_std),
            "axis_ratio": e.axis_ratio, "axis_ratio_std": e.axis_ratio_std,
            "angle_deg": e.angle, "angle_std_deg": e.angle_std,
            "distortion_matrix": np.asarray(e.matrix).tolist(),
            "rings_used": int(len(self.rings.ring_s)), "ring_width_px": self.rings.width,
            "ring_fit_chi2": self.rings.chi2,
        }


#: Largest centre offset from the detector centre searched by calibrate_standard, pixels.
_CENTER_SEARCH = 12.0


def calibrate_standard(standard, *, lattice_parameter: float = _cal.AU_LATTICE_PARAMETER,
                       d_spacings=None, radius_range=None, r_min: float | None = None,
                       mask=None, detector: str | None = None, s_per_pixel: float | None = None,
                       center=None, show_progressbar: bool | None = None) -> StandardCalibration:
    """Beam stop, ellipse, centre and s per pixel from a polycrystalline standard.

    1. mask: :func:`find_beam_stop` (unless ``mask`` is given);
    2. ellipse and centre: azimuthal-variance fit on ``radius_range``
       (default: from 2 px outside the beam stop to 90 % of the largest full
       circle);
    3. s per pixel: joint ring fit of the ellipse-corrected profile at the
       fcc reflections of ``lattice_parameter`` (or ``d_spacings``), indexed
       automatically unless ``s_per_pixel`` gives a start.

    Parameters
    ----------
    standard : pyxem.signals.Diffraction2D
        Pattern(s) of the standard (summed over any navigation axes).
    lattice_parameter : float
        fcc lattice parameter in Å (Au 4.0782; Al 4.0495).
    d_spacings : array_like, optional
        d-spacings in Å of any standard instead (overrides the fcc list).
    radius_range : tuple of float, optional
        Band (pixels) for the ellipse fit.
    r_min : float, optional
        Smallest ring radius for the s fit, pixels; default as the band.
    mask : array_like of bool, optional
        Known excluded pixels; default found.
    detector : str, optional
        Detector name for gaps (with the found beam stop).
    s_per_pixel : float, optional
        Start for the ring fit (Å⁻¹/px, within ~5 %).
    center : tuple of float, optional
        Starting pattern centre (x, y) in pixels for the ellipse fit; default
        :func:`~pyxem_epdf.physics.calibration.refine_centers` from the
        detector centre (search ±12 px, on the ellipse band starting at least
        1/16 of the detector width out, past the direct-beam core).
    show_progressbar : bool, optional

    Returns
    -------
    StandardCalibration

    Warns
    -----
    UserWarning
        When another ring assignment explains the profile almost as well
        (:func:`~pyxem_epdf.physics.calibration.calibrate_rings`).

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> from pyxem_epdf.signals import calibration
    >>> au = epdf.data.gold_standard(distortion=(1.02, 30.0), beam_stop=(6, 3, 90.0),
    ...                              center=(62.2, 65.7))
    >>> cal = calibration.calibrate_standard(au.signal)
    >>> abs(cal.s_per_pixel / au.s_scale - 1) < 0.002, abs(cal.ellipse.axis_ratio - 1.02) < 0.002
    (True, True)
    """
    img = scan_sum(standard, show_progressbar=show_progressbar)
    if mask is None:
        mask, _ = find_beam_stop(standard, summed=img, detector=detector)
    mask = np.asarray(mask, bool)
    rows, cols = img.shape
    if radius_range is None:
        from scipy import ndimage as ndi

        r = _cal.corrected_radius(img.shape)
        lab, _n = ndi.label(mask)
        centre_lab = lab[rows // 2, cols // 2]
        inner = float(r[lab == centre_lab].max()) if centre_lab else 0.0
        # the disc part of the stop: radius where the arm alone remains
        if centre_lab:
            comp = lab == centre_lab
            counts = np.bincount(np.rint(r[comp]).astype(int))
            ring_n = np.bincount(np.rint(r).astype(int).ravel())[: counts.size]
            full = np.nonzero(counts >= 0.5 * ring_n)[0]
            inner = float(full.max()) if full.size else inner
        radius_range = (inner + 2.0, 0.9 * min(rows, cols) / 2)
    if center is None:
        # coarse centre first (the ellipse fit needs a start within a few pixels), on a
        # band outside the direct-beam core (its bright disc has local minima)
        lo, hi = np.ravel(radius_range)[:2]
        band = (max(float(lo), min(rows, cols) / 16), float(hi))
        center = _cal.refine_centers(img, band, mask=mask, search=_CENTER_SEARCH,
                                     precision=0.25)
    ellipse = _cal.fit_ellipse(img, radius_range, center=center, mask=mask)
    if d_spacings is None:
        s_edge = 2.0 * max(rows, cols)  # generous: rings beyond the detector are skipped
        _hkl, d_spacings, _m = _cal.fcc_reflections(lattice_parameter, s_edge * 0.05)
    rmin = float(np.ravel(radius_range)[0]) if r_min is None else r_min
    rings = _cal.calibrate_rings(img, d_spacings, center=ellipse.center,
                                 distortion=ellipse.matrix, mask=mask, r_min=rmin,
                                 s_per_pixel=s_per_pixel)
    return StandardCalibration(rings.s_per_pixel, rings.s_per_pixel_std, ellipse, rings, mask)


def calibrate_from_amorphous(profile, *, r_known: float = 1.61, composition: str = "SiO2",
                             s_range=(2.8, 4.0), s_max: float = 4.0, b: float = 0.2,
                             s_min: float = 0.2, r_range=(1.2, 2.2)):
    """s calibration from an amorphous reference of known first PDF peak (fallback).

    G(r) of ``profile`` is computed with its current s axis (the package
    chain: ``fit_scattering(composition, s_range)``, ``polynomial_correct``,
    ``damp_exponential``, ``extrapolate_low_s``, ``to_pdf``); its first peak
    in ``r_range`` is found (:func:`pyxem_epdf.physics.peaks.first_peak`)
    and the calibration scaled by r_measured / r_known
    (:func:`pyxem_epdf.physics.calibration.scale_from_pdf_peak`). The
    defaults are the a-SiO2 reference (Si–O 1.61 Å; the chain parameters of
    :data:`pyxem_epdf.data.SIO2_CHAIN`). Iterate once if the start is
    > 5 % off (the s windows move with the scale).

    Parameters
    ----------
    profile : ReducedIntensity1DPlus
        Azimuthal profile I(s) of the reference (stage "intensity", s in Å⁻¹),
        one value per detector-pixel radius, e.g.
        :func:`pyxem_epdf.data.example_profile`.
    r_known : float
        Known first-peak distance in Å.
    composition : str
        Composition of the reference.
    s_range, s_max, b, s_min, r_range
        Chain parameters (Å⁻¹, Å⁻¹, Å², Å⁻¹) and the first-peak search window (Å).

    Returns
    -------
    s_per_pixel : float
        Corrected calibration in Å⁻¹ per profile step (per pixel).
    r_measured : float
        First-peak position in Å with the old calibration.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> from pyxem_epdf.signals import calibration
    >>> ri = epdf.data.example_profile()
    >>> k, r1 = calibration.calibrate_from_amorphous(ri)
    >>> round(r1, 2), round(k / epdf.data.SIO2_S_SCALE, 3)   # Si–O at 1.617 Å with the shipped scale
    (1.62, 1.004)
    """
    from ..physics.peaks import first_peak

    ax = profile.axes_manager.signal_axes[0]
    k_old = float(ax.scale)
    pdf = (profile.fit_scattering(composition, s_range=tuple(s_range))
           .polynomial_correct(s_max=s_max).damp_exponential(b=b)
           .extrapolate_low_s(s_min=s_min).to_pdf(r_max=10.0, r_step=0.005))
    r = pdf.axes_manager.signal_axes[0].axis
    g = _base.as_numpy(pdf.data)
    res = first_peak(g, r, r_range=tuple(r_range))
    r1 = float(np.asarray(res[0] if isinstance(res, tuple) else res).ravel()[0])
    return _cal.scale_from_pdf_peak(r1, r_known, k_old), r1


def set_geometry(dp, *, s_per_pixel: float | None = None, center=None, ellipse=None,
                 centers=None, inplace: bool = False):
    """Write a measured geometry into the detector axes and ``metadata.ePDF.geometry``.

    The axes get scale ``s_per_pixel`` (units ``k_A^-1``) and offsets that put
    s = 0 at ``center`` (or ``ellipse.center``); the record holds the centre
    (pixels), the distortion (axis_ratio, angle, matrix A) and, if given, the
    per-pattern centres' signal — what the integration needs for
    u = A·(p − c) and s = k |u|.

    Parameters
    ----------
    dp : pyxem.signals.Diffraction2D
    s_per_pixel : float, optional
        Å⁻¹ per corrected pixel (e.g. ``calibrate_standard(...).s_per_pixel``);
        default: keep the current scale.
    center : tuple of float, optional
        (x, y) in pixels; default ``ellipse.center`` or the detector centre.
    ellipse : EllipseFit, optional
        From :func:`fit_distortion` or :func:`calibrate_standard`.
    centers : hyperspy signal, optional
        From :func:`find_centers` (stored as ``metadata.ePDF.geometry.centers``).
    inplace : bool
        Modify ``dp`` instead of a copy.

    Returns
    -------
    Diffraction2D or None

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> from pyxem_epdf.signals import calibration
    >>> synth = epdf.data.composite(nav_shape=(2, 2), detector_shape=(32, 32))
    >>> out = calibration.set_geometry(synth.signal, s_per_pixel=0.05, center=(15.0, 16.0))
    >>> ax = out.axes_manager.signal_axes[0]
    >>> round(ax.scale, 3), round(ax.offset, 3), out.metadata.ePDF.geometry.center_px
    (0.05, -0.75, [15.0, 16.0])
    """
    axes = _detector_axes(dp)
    if s_per_pixel is None:
        from .profile import s_unit_factor_checked_axis

        k = abs(float(axes[0].scale)) * s_unit_factor_checked_axis(axes[0])
    else:
        k = float(s_per_pixel)
        if not (np.isfinite(k) and k > 0):
            raise ValueError(f"'s_per_pixel' must be a finite number > 0 (Å⁻¹); got {s_per_pixel!r}.")
    rows, cols = axes[1].size, axes[0].size
    if center is None:
        center = ellipse.center if ellipse is not None else ((cols - 1) / 2, (rows - 1) / 2)
    cx, cy = (float(v) for v in center)
    out = dp if inplace else dp.deepcopy()
    for ax, c in zip(out.axes_manager.signal_axes, (cx, cy), strict=True):
        ax.units, ax.scale, ax.offset = "k_A^-1", k, -c * k
    rec = {"s_per_pixel": k, "center_px": [cx, cy]}
    if ellipse is not None:
        rec.update({"axis_ratio": float(ellipse.axis_ratio), "angle_deg": float(ellipse.angle),
                    "axis_ratio_std": float(ellipse.axis_ratio_std),
                    "angle_std_deg": float(ellipse.angle_std),
                    "distortion_matrix": np.asarray(ellipse.matrix).tolist()})
    else:
        rec.update({"axis_ratio": 1.0, "angle_deg": 0.0,
                    "distortion_matrix": np.eye(2).tolist()})
    out.metadata.set_item("ePDF.geometry", rec)
    if centers is not None:
        out.metadata.set_item("ePDF.geometry.centers", centers)
    _base.record(out, "set_geometry", {k2: v for k2, v in rec.items()})
    return None if inplace else out
