"""Turn an azimuthally averaged profile I(s) into a :class:`ReducedIntensity1DPlus`."""

import numpy as np
from hyperspy.signal import BaseSignal

from ..physics.units import s_unit_factor
from . import _base


def from_profile(profile, *, bin_position: str = "auto"):
    """A new ReducedIntensity1DPlus (stage "intensity") from an I(s) profile.

    Parameters
    ----------
    profile : hyperspy.signals.Signal1D
        Azimuthal **mean** (not sum) of each pattern, s = 2 sin(θ)/λ on the
        signal axis in Å⁻¹ or nm⁻¹ (pyxem's ``"k_A^-1"``/``"k_nm^-1"``
        accepted), any navigation shape, eager or lazy. With pyxem use
        ``dp.get_azimuthal_integral1d(npt, mean=True)``: without
        ``mean=True`` pyxem returns ring *sums*, which grow ∝ s and cannot be
        fitted by N⟨f²⟩ + C.
    bin_position : {"auto", "left", "center"}
        What the axis values label. pyxem's ``get_azimuthal_integral1d``
        labels each radial bin by its **left edge** (axis offset = inner
        radius of the first bin); ``"left"`` shifts the axis by half a bin so
        that every sample sits at its bin centre. ``"auto"`` assumes
        ``"left"`` when the axis is named ``"Radius"`` (pyxem's name) and
        ``"center"`` otherwise.

    Returns
    -------
    ReducedIntensity1DPlus or LazyReducedIntensity1DPlus
        A copy (new data, variance and metadata; the input is not modified;
        lazy stays lazy, nothing is computed) with the signal axis in Å⁻¹ and
        ``metadata.ePDF.stage = "intensity"``.

    Warns
    -----
    UserWarning
        For an eager profile on pyxem's ``"Radius"`` axis that grows with s
        at high s (slope of log I against log s above 0.5): ring sums.

    Raises
    ------
    ValueError
        If the signal axis is not calibrated in s (e.g. pixels), the signal is
        not one-dimensional, or ``bin_position`` is unknown.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs, pyxem_epdf as epdf
    >>> prof = hs.signals.Signal1D(np.ones((2, 50)))
    >>> ax = prof.axes_manager.signal_axes[0]
    >>> ax.scale, ax.units = 0.05, "Å^-1"
    >>> ri = epdf.from_profile(prof)
    >>> type(ri).__name__, ri.metadata.ePDF.stage
    ('ReducedIntensity1DPlus', 'intensity')
    """
    if not isinstance(profile, BaseSignal) or profile.axes_manager.signal_dimension != 1:
        raise ValueError(
            "'profile' must be a one-dimensional HyperSpy signal I(s) (e.g. from "
            "get_azimuthal_integral1d(npt, mean=True))."
        )
    if bin_position not in ("auto", "left", "center"):
        raise ValueError(
            f"'bin_position' must be 'auto', 'left' or 'center'; got {bin_position!r}."
        )
    axis = profile.axes_manager.signal_axes[0]
    factor = s_unit_factor_checked(profile)
    if bin_position == "auto":
        bin_position = "left" if axis.name == "Radius" else "center"
    if axis.name == "Radius" and not profile._lazy:
        _warn_if_sums(profile)
    out = profile.deepcopy()  # a real copy (data, variance, metadata); lazy stays lazy
    new = out.axes_manager.signal_axes[0]
    if not getattr(new, "is_uniform", False):
        if factor != 1 or bin_position == "left":
            raise ValueError(
                "Only uniform s axes can be converted or re-centred; this axis is non-uniform."
            )
    else:
        shift = 0.5 * new.scale if bin_position == "left" else 0.0
        new.offset = (new.offset + shift) * factor
        new.scale = new.scale * factor
    new.units = "Å^-1"
    new.name = "s"
    out.metadata.set_item("ePDF.stage", "intensity")
    out.metadata.set_item("ePDF.bin_position", bin_position)
    out.set_signal_type("epdf_reduced_intensity")
    if out.metadata.General.title == "":
        out.metadata.General.title = "I(s)"
    _base.record(out, "from_profile", {"bin_position": bin_position, "unit_factor": factor})
    return out


def _warn_if_sums(profile):
    """Warn when a pyxem profile grows with s at high s: ring sums, not means."""
    import warnings

    axis = profile.axes_manager.signal_axes[0]
    s = np.asarray(axis.axis, dtype=float)
    y = np.asarray(profile.data, dtype=float).reshape(-1, s.size)
    y = np.nanmedian(y, axis=0) if y.shape[0] > 1 else y[0]
    sel = (s >= np.quantile(s, 0.5)) & (s > 0) & (y > 0) & np.isfinite(y)
    if sel.sum() < 4:
        return
    slope = np.polyfit(np.log(s[sel]), np.log(y[sel]), 1)[0]
    if slope > 0.5:
        warnings.warn(
            f"The profile grows with s at high s (I ∝ s^{slope:.2f}) on pyxem's 'Radius' axis: it "
            "looks like ring *sums* (get_azimuthal_integral1d without mean=True), which cannot be "
            "fitted by N<f²> + C; use get_azimuthal_integral1d(npt, mean=True).",
            UserWarning, stacklevel=3,
        )


def s_unit_factor_checked(profile):
    """Unit factor of the profile's s axis, with a helpful error."""
    _base.s_axis_values(profile)  # raises a clear error if uncalibrated
    return s_unit_factor(profile.axes_manager.signal_axes[0].units)


def azimuthal_profile(
    dp,
    *,
    npt: int | None = None,
    s_max: float | None = None,
    edges=None,
    mask=None,
    subpixel: int = 1,
    center: tuple[float, float] = (0.0, 0.0),
    beam_shift=None,
    distortion=None,
    allow_negative: bool = False,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Azimuthal mean I(s) of every pattern, with its Poisson variance.

    Our own integration (:mod:`pyxem_epdf.physics.integration`): every pixel
    is spread over the s bins its footprint covers (exact pixel area in the
    tangent-plane approximation), masked pixels are excluded from the
    averages. With a fixed centre a precomputed sparse operator is applied;
    with a centre per pattern (``beam_shift``) the compiled kernel maps each
    pattern's non-zero pixels with its own centre (no operator per centre, no
    resampling of frames).

    Parameters
    ----------
    dp : pyxem Diffraction2D / ElectronDiffraction2D (eager or lazy)
        Signal axes calibrated in s (Å⁻¹ or nm⁻¹, pyxem's ``"k_A^-1"``),
        with 0 at the pattern centre (or give ``center``/``beam_shift``);
        detector at least 8 × 8 pixels; integer or float counts.
    npt : int, optional
        Number of bins from 0 to ``s_max`` (default: one per pixel).
    s_max : float, optional
        Outer bin edge in Å⁻¹. Default: the largest ring that is complete on
        the detector for *every* pattern centre (the smallest over the scan).
    edges : array_like, optional
        Explicit bin edges in Å⁻¹ (instead of ``npt``/``s_max``).
    mask : array_like of bool, optional
        Detector mask (True = exclude), detector shape.
    subpixel : int
        Sub-squares per pixel side (1–16), each spread by its own footprint.
        1 (default): with one bin per pixel the valid areas differ from the
        exact annulus areas by < 0.3 % at 5–10 px from the centre, < 0.1 % at
        10–20 px and < 0.03 % beyond (the old 4 × 4 point sampling: ~0.3 %
        overall); 2 is ~10× closer and costs 4× per pixel. Flat patterns stay
        flat exactly for any value.
    center : tuple of float
        (kx0, ky0) pattern centre in Å⁻¹ in the axes' frame (all patterns).
    beam_shift : pyxem BeamShift, descan result, or array_like, optional
        Per-pattern centre (descan) in pyxem's convention: pixels, the shift
        that would centre the pattern on pixel (n/2, n/2), shape navigation +
        (2,) as (x, y); e.g. ``descan(dp)`` (its ``plane`` is used) or
        ``dp.get_direct_beam_position(method="center_of_mass", threshold=20)``.
        Overrides ``center``. A map measured on the unbinned scan is accepted
        for a navigation-binned ``dp`` (``dp.rebin(scale=(2, 2, 1, 1))``): when
        its navigation shape is an integer multiple of ``dp``'s, the shifts are
        **averaged** over each bin block (recorded in
        ``metadata.ePDF.integration.beam_shift_binning``). The detector
        calibration stored with the map (pyxem's ``metadata.Shifts.signal_axes``)
        converts it if the detector was binned too.
    distortion : array_like, optional
        2 × 2 matrix A of the elliptical-distortion correction: each pixel's s
        is ``|A·(p − c)|`` (:func:`pyxem_epdf.physics.geometry.ellipse_matrix`).
    allow_negative : bool
        Accept negative values (background-subtracted frames). By default
        negative counts raise a ``ValueError`` (when computed, for lazy input);
        with ``True`` the Poisson variance is clipped at 0 (recorded).
    lazy_output, show_progressbar
        As for :meth:`ReducedIntensity1DPlus.fit_scattering`.

    Returns
    -------
    ReducedIntensity1DPlus
        Mean counts per valid pixel at the bin centres (stage
        ``"intensity"``), with ``metadata.Signal.Noise_properties.variance``
        (Poisson variance of the mean, for ``fit_scattering(weights="variance")``)
        and ``metadata.ePDF.integration``: ``edges``, ``n_valid`` (valid area
        per bin, mean over patterns), ``n_valid_min``, ``subpixel``,
        ``nonfinite_pixels`` (map), ``empty_bins``.

    Warns
    -----
    UserWarning
        If non-finite (NaN/inf) pixels were left out (eager input; the count
        per pattern is the map ``nonfinite_pixels``), or if some bins hold no
        valid pixel (e.g. a beam-stop mask): those bins are filled by linear
        interpolation from the nearest valid bins, never left at 0, and their
        ``n_valid_min`` is 0.

    Notes
    -----
    Non-finite pixels are excluded in the pattern they occur in (its valid
    area is reduced by their footprint), not in the whole scan.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(2, 2), detector_shape=(32, 32))
    >>> ri = epdf.signals.azimuthal_profile(synth.signal, npt=20)
    >>> ri.data.shape, ri.metadata.ePDF.stage
    ((2, 2, 20), 'intensity')
    """
    import warnings

    from ..physics import integration

    axes, kx, ky = _detector(dp)
    subpixel = _positive_int(subpixel, "subpixel", 1, 16)
    if distortion is not None:
        distortion = integration._distortion(distortion)
    nav_shape = tuple(dp.data.shape[:-2])
    binning = None
    if beam_shift is not None:
        centres, binning = _centres_from_beam_shift(beam_shift, axes, nav_shape)
        center_list = centres.reshape(-1, 2)
    else:
        centres = None
        center_list = np.asarray([center], dtype=float)
        if not (kx.min() <= center[0] <= kx.max() and ky.min() <= center[1] <= ky.max()):
            raise ValueError(
                f"'center' {tuple(center)} Å⁻¹ lies outside the detector "
                f"[{kx.min():g}, {kx.max():g}] × [{ky.min():g}, {ky.max():g}] Å⁻¹."
            )
    full, corner = _full_ring(kx, ky, center_list, distortion)
    if s_max is not None and s_max > corner:
        raise ValueError(
            f"'s_max' = {s_max:g} Å⁻¹ lies beyond the detector corner ({corner:.4g} Å⁻¹)."
        )
    if edges is not None:
        edges = np.asarray(edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)):
            raise ValueError("'edges' must be a 1-D array of at least 2 finite bin edges (Å⁻¹).")
        if float(edges.max()) > corner:
            raise ValueError(
                f"'edges' reach {float(edges.max()):g} Å⁻¹, beyond the detector corner "
                f"({corner:.4g} Å⁻¹)."
            )
    else:
        if full <= 0:
            raise ValueError(
                f"The pattern centres lie on or outside the detector edge; no full ring "
                f"(largest full ring {full:.4g} Å⁻¹). Give 's_max' or check 'beam_shift'/'center'."
            )
        s_max = full if s_max is None else float(s_max)
        if not (np.isfinite(s_max) and s_max > 0):
            raise ValueError(f"'s_max' must be a finite number > 0 Å⁻¹; got {s_max}.")
        step = min(abs(kx[1] - kx[0]), abs(ky[1] - ky[0]))
        npt = int(np.ceil(s_max / step - 1e-9)) if npt is None else _positive_int(
            npt, "npt", 1, None)
    lazy = dp._lazy if lazy_output is None else bool(lazy_output)
    _check_memory(dp.data, npt if edges is None else edges.size - 1, lazy)  # before allocating
    if edges is None:
        edges = np.linspace(0.0, s_max, npt + 1)
    data = dp.data
    if data.dtype.kind == "c":
        raise TypeError(f"'dp' holds complex data ({data.dtype}); integrate its .real or abs().")
    op = integration.radial_operator(kx, ky, edges, mask=mask, subpixel=subpixel,
                                     center=tuple(center_list[0]), distortion=distortion)
    if lazy and not _base.is_dask(data):
        import dask.array as da

        data = da.from_array(data, chunks=("auto",) * (data.ndim - 2) + (-1, -1))
    res = integration.integrate(data, op, centres, allow_negative=allow_negative)
    mean, var, bad = res.mean, res.variance, res.nonfinite
    if _base.is_dask(mean) and not lazy:
        mean, var, bad = _base.compute(mean, var, bad, show_progressbar=show_progressbar)
    out = _new_profile_signal(mean, dp, op.centres)
    variance = out._deepcopy_with_new_data(var)
    variance.metadata.General.title = "variance of I(s)"
    out.metadata.set_item("Signal.Noise_properties.variance", variance)
    bad_map = _base.nav_signal(dp, bad, "non-finite pixels left out")
    empty = [int(i) for i in np.flatnonzero(res.n_valid_min <= 0)]
    info = {
        "n_valid": res.n_valid.tolist(), "n_valid_min": res.n_valid_min.tolist(),
        "subpixel": subpixel, "edges": [float(e) for e in op.edges], "empty_bins": empty,
        "distortion": op.distortion.tolist(), "allow_negative": bool(allow_negative),
        "variance_clipped_at_0": bool(allow_negative),
        "beam_shift_binning": "None" if binning is None else list(binning),
    }
    for key, value in info.items():
        out.metadata.set_item(f"ePDF.integration.{key}", value)
    out.metadata.set_item("ePDF.integration.nonfinite_pixels", bad_map)
    if not _base.is_dask(bad) and np.any(bad > 0):
        warnings.warn(
            f"{int(np.sum(bad))} non-finite (NaN/inf) detector pixels in "
            f"{int(np.count_nonzero(bad))} patterns were left out of their pattern's average "
            "(map: metadata.ePDF.integration.nonfinite_pixels).", UserWarning, stacklevel=2)
    if empty:
        lo, hi = op.edges[empty[0]], op.edges[empty[-1] + 1]
        warnings.warn(
            f"{len(empty)} s bins between {lo:.4g} and {hi:.4g} Å⁻¹ hold no valid pixel in some "
            "pattern (the mask covers the ring): filled by linear interpolation from the "
            "nearest valid bins; metadata.ePDF.integration.n_valid_min is 0 there.",
            UserWarning, stacklevel=2)
    _base.record(out, "azimuthal_profile", {
        "n_bins": int(op.centres.size), "s_max": float(op.edges[-1]), "subpixel": subpixel,
        "center": list(map(float, center_list[0])) if centres is None else "per-pattern",
        "masked_pixels": int(0 if mask is None else np.sum(mask)),
        "beam_shift": "per-pattern" if beam_shift is not None else "None",
        "beam_shift_binning": "None" if binning is None else list(binning),
        "distortion": "None" if distortion is None else op.distortion.tolist(),
        "allow_negative": bool(allow_negative),
    })
    return out


def _positive_int(value, name, lo, hi):
    """An integer parameter in [lo, hi], refusing 20.7, '20' and True."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok and isinstance(value, (float, np.floating)) and float(value).is_integer():
        ok = True
    if not ok:
        raise ValueError(f"'{name}' must be an integer; got {value!r}.")
    value = int(value)
    if value < lo or (hi is not None and value > hi):
        rng = f">= {lo}" if hi is None else f"between {lo} and {hi}"
        raise ValueError(f"'{name}' must be {rng}; got {value}.")
    return value


def _detector(dp):
    """Signal axes and calibrated pixel-centre coordinates (Å⁻¹), validated."""
    axes = dp.axes_manager.signal_axes
    if len(axes) != 2:
        raise ValueError("'dp' must have two signal (detector) axes.")
    shape = tuple(dp.data.shape[-2:])
    if min(shape) < 8:
        raise ValueError(
            f"The detector is {shape[0]} × {shape[1]} pixels; azimuthal integration needs at "
            "least 8 × 8."
        )
    factors = [s_unit_factor_checked_axis(a) for a in axes]
    for a in axes:
        if not (np.isfinite(a.scale) and a.scale != 0):
            raise ValueError(
                f"Detector axis '{a.name}' has scale {a.scale!r} ({a.units}); a calibrated "
                "detector needs a finite, non-zero s per pixel (see calibrate_s)."
            )
    kx = np.asarray(axes[0].axis, dtype=float) * factors[0]
    ky = np.asarray(axes[1].axis, dtype=float) * factors[1]
    return axes, kx, ky


def _full_ring(kx, ky, centres, distortion):
    """(largest ring complete for every centre, largest corner distance), Å⁻¹.

    A ring |A(p − c)| = R is complete when it stays inside the detector's
    outermost pixel centres; with A the distance to a side x = X is
    |X − c_x| / ‖A⁻ᵀ e_x‖.
    """
    a = np.eye(2) if distortion is None else np.asarray(distortion, dtype=float)
    ainv_t = np.linalg.inv(a).T
    nx_, ny_ = np.linalg.norm(ainv_t[:, 0]), np.linalg.norm(ainv_t[:, 1])
    cx, cy = centres[:, 0], centres[:, 1]
    xl, xh = min(kx[0], kx[-1]), max(kx[0], kx[-1])
    yl, yh = min(ky[0], ky[-1]), max(ky[0], ky[-1])
    full = np.min(np.minimum.reduce([(cx - xl) / nx_, (xh - cx) / nx_,
                                     (cy - yl) / ny_, (yh - cy) / ny_]))
    corners = np.array([[x, y] for x in (xl, xh) for y in (yl, yh)])
    d = corners[None, :, :] - centres[:, None, :]
    corner = float(np.max(np.linalg.norm(d @ a.T, axis=-1)))
    return float(full), corner


def _check_memory(data, n_bins, lazy):
    """Refuse a bin count whose outputs could not be allocated, before allocating."""
    import os

    nav = int(np.prod(data.shape[:-2], dtype=np.int64))
    if lazy and _base.is_dask(data):
        per = max(int(np.prod([max(c) for c in data.chunks[:-2]], dtype=np.int64)), 1)
    else:
        per = nav
    need = 8 * n_bins * (5 * per + 8)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        total = 2**34
    if need > total // 2:
        raise ValueError(
            f"{n_bins} bins for {per} patterns need about {need / 1e9:.3g} GB ({8 * 5} bytes per "
            f"bin and pattern), more than half this machine's {total / 1e9:.3g} GB; choose a "
            "smaller 'npt' or coarser 'edges'."
        )


def _centres_from_beam_shift(beam_shift, axes, nav_shape):
    """Calibrated pattern centres (kx0, ky0), Å⁻¹, from pyxem's beam-shift convention.

    Returns the centres (nav_shape + (2,)) and the navigation binning factors
    (None when the shapes match).
    """
    det_axes = [(a.offset, a.scale, a.size, a.units) for a in axes]
    source = getattr(beam_shift, "_plane_source", None)
    source = source() if callable(source) else None
    if source is not None:
        # a descan() result whose plane signal is not built yet: its array and the
        # detector axes it stores (metadata.Shifts.signal_axes), without building it
        beam_shift, stored = source
        det_axes = det_axes if stored is None else stored
    elif hasattr(beam_shift, "plane") and hasattr(beam_shift, "measured"):
        beam_shift = beam_shift.plane  # a descan() result
    if isinstance(beam_shift, BaseSignal):
        stored = beam_shift.metadata.get_item("Shifts.signal_axes", None)
        try:
            det_axes = [(a.offset, a.scale, a.size, a.units) for a in stored]
        except (AttributeError, TypeError):
            pass
        if len(det_axes) != 2:
            det_axes = [(a.offset, a.scale, a.size, a.units) for a in axes]
        shifts = beam_shift.data
    else:
        shifts = beam_shift
    if hasattr(shifts, "compute"):
        shifts = shifts.compute()
    shifts = np.asarray(shifts, dtype=float)
    want = tuple(nav_shape) + (2,)
    binning = None
    if shifts.shape != want:
        ok = (shifts.ndim == len(want) and shifts.shape[-1] == 2
              and all(s >= n and n > 0 and s % n == 0 for s, n in zip(shifts.shape[:-1], nav_shape,
                                                                      strict=True)))
        if not ok:
            raise ValueError(
                f"'beam_shift' must have shape {want} (navigation + (x, y)) or a navigation "
                f"shape that is an integer multiple of {tuple(nav_shape)} (a map of the unbinned "
                f"scan); got {shifts.shape}."
            )
        binning = tuple(s // n for s, n in zip(shifts.shape[:-1], nav_shape, strict=True))
        split = []
        for n, f in zip(nav_shape, binning, strict=True):
            split += [n, f]
        shifts = shifts.reshape(tuple(split) + (2,)).mean(axis=tuple(range(1, 2 * len(nav_shape), 2)))
    if not np.all(np.isfinite(shifts)):
        raise ValueError("'beam_shift' holds non-finite shifts.")
    out = np.empty_like(shifts)
    for i, (offset, scale, size, units) in enumerate(det_axes):
        f = s_unit_factor(units)
        out[..., i] = (offset + scale * (size / 2 - shifts[..., i])) * f
    return out, binning


def s_unit_factor_checked_axis(axis):
    """Unit factor of a detector axis to Å⁻¹, with a clear error if uncalibrated."""
    try:
        return s_unit_factor(axis.units)
    except ValueError as err:
        raise ValueError(
            f"Detector axis '{axis.name}' is not calibrated in s (units {axis.units!r}, "
            f"scale {axis.scale}); calibrate it in Å⁻¹ first. {err}"
        ) from None


def _new_profile_signal(data, template, centres):
    """A ReducedIntensity1DPlus with the navigation axes of ``template``."""
    from .reduced_intensity import ReducedIntensity1DPlus

    axes = [ax.get_axis_dictionary() for ax in template.axes_manager.navigation_axes[::-1]]
    step = float(centres[1] - centres[0]) if centres.size > 1 else 1.0
    axes.append({"name": "s", "units": "Å^-1", "offset": float(centres[0]), "scale": step,
                 "size": int(centres.size), "navigate": False})
    for ax in axes:
        ax.pop("_type", None)
    md = template.metadata.deepcopy().as_dictionary()
    out = ReducedIntensity1DPlus(data, axes=axes, metadata=md)
    out._lazy = _base.is_dask(data)
    out._assign_subclass()
    out.metadata.set_item("ePDF.stage", "intensity")
    out.metadata.General.title = f"I(s) of {template.metadata.General.title}".strip()
    if out.metadata.has_item("Signal.signal_type"):
        out.metadata.Signal.signal_type = "epdf_reduced_intensity"
    out._assign_subclass()
    return out


__all__ = ["azimuthal_profile", "from_profile"]
