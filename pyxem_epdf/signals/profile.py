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
        A copy (the input is not modified; lazy stays lazy, nothing is
        computed) with the signal axis in Å⁻¹ and ``metadata.ePDF.stage =
        "intensity"``.

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
    out = profile._deepcopy_with_new_data(profile.data, copy_variance=True)
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
    subpixel: int = 4,
    center: tuple[float, float] = (0.0, 0.0),
    beam_shift=None,
    quantum: float = 0.25,
    lazy_output: bool | None = None,
    show_progressbar: bool | None = None,
):
    """Azimuthal mean I(s) of every pattern with a sparse operator, and its variance.

    Our own integration (:mod:`pyxem_epdf.physics.integration`): one
    precomputed pixel → s-bin matrix with sub-pixel splitting, applied to
    blocks of frames (chunk by chunk when lazy). Masked pixels are excluded
    from the averages.

    Parameters
    ----------
    dp : pyxem Diffraction2D / ElectronDiffraction2D (eager or lazy)
        Signal axes calibrated in s (Å⁻¹ or nm⁻¹, pyxem's ``"k_A^-1"``),
        with 0 at the pattern centre (or give ``center``).
    npt : int, optional
        Number of bins from 0 to ``s_max`` (default: one per pixel).
    s_max : float, optional
        Outer edge in Å⁻¹ (default: the largest full ring of the detector).
    edges : array_like, optional
        Explicit bin edges in Å⁻¹ (instead of ``npt``/``s_max``).
    mask : array_like of bool, optional
        Detector mask (True = exclude), detector shape.
    subpixel : int
        Sub-pixels per pixel side (1–16).
    center : tuple of float
        (kx0, ky0) pattern centre in Å⁻¹ in the axes' frame.
    beam_shift : pyxem BeamShift or array_like, optional
        Per-pattern centre (descan) as returned by pyxem's
        ``dp.get_direct_beam_position(method="center_of_mass", threshold=...)``
        (pixels; the shift that would centre the pattern on pixel (n/2, n/2)),
        optionally smoothed with ``get_linear_plane()``; shape
        navigation + (2,) as (x, y). Overrides ``center``; the radii are
        shifted inside the integration (centres rounded to ``quantum`` px).
    quantum : float
        Rounding of per-pattern centres in pixels.
    lazy_output, show_progressbar
        As for :meth:`ReducedIntensity1DPlus.fit_scattering`.

    Returns
    -------
    ReducedIntensity1DPlus
        Mean counts per valid pixel at the bin centres (stage
        ``"intensity"``), with ``metadata.Signal.Noise_properties.variance``
        (Poisson variance of the mean, for ``fit_scattering(weights="variance")``)
        and ``metadata.ePDF.integration`` (``n_valid`` per bin, ``subpixel``).

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(2, 2), detector_shape=(32, 32))
    >>> ri = epdf.signals.azimuthal_profile(synth.signal, npt=20)
    >>> ri.data.shape, ri.metadata.ePDF.stage
    ((2, 2, 20), 'intensity')
    """
    from ..physics import integration

    axes = dp.axes_manager.signal_axes
    if len(axes) != 2:
        raise ValueError("'dp' must have two signal (detector) axes.")
    factors = [s_unit_factor_checked_axis(a) for a in axes]
    kx = np.asarray(axes[0].axis) * factors[0]
    ky = np.asarray(axes[1].axis) * factors[1]
    corner = max(np.hypot(x - center[0], y - center[1])
                 for x in (kx[0], kx[-1]) for y in (ky[0], ky[-1]))
    if not (kx.min() <= center[0] <= kx.max() and ky.min() <= center[1] <= ky.max()):
        raise ValueError(
            f"'center' {tuple(center)} Å⁻¹ lies outside the detector "
            f"[{kx.min():g}, {kx.max():g}] × [{ky.min():g}, {ky.max():g}] Å⁻¹."
        )
    if s_max is not None and s_max > corner:
        raise ValueError(
            f"'s_max' = {s_max:g} Å⁻¹ lies beyond the detector corner ({corner:.4g} Å⁻¹)."
        )
    if edges is not None and float(np.max(edges)) > corner:
        raise ValueError(
            f"'edges' reach {float(np.max(edges)):g} Å⁻¹, beyond the detector corner ({corner:.4g} Å⁻¹)."
        )
    if edges is None:
        full = min(abs(kx[0] - center[0]), abs(kx[-1] - center[0]),
                   abs(ky[0] - center[1]), abs(ky[-1] - center[1]))
        s_max = full if s_max is None else float(s_max)
        if not s_max > 0:
            raise ValueError(f"'s_max' must be > 0 Å⁻¹; got {s_max}.")
        step = abs(kx[1] - kx[0])
        npt = int(np.ceil(s_max / step)) if npt is None else int(npt)
        if npt < 1:
            raise ValueError(f"'npt' must be >= 1; got {npt}.")
        edges = np.linspace(0.0, s_max, npt + 1)
    op = integration.radial_operator(kx, ky, edges, mask=mask, subpixel=subpixel, center=center)
    lazy = dp._lazy if lazy_output is None else bool(lazy_output)
    data = dp.data
    if lazy and not _base.is_dask(data):
        import dask.array as da

        data = da.from_array(data, chunks=("auto",) * (data.ndim - 2) + (-1, -1))
    if beam_shift is None:
        mean, var, n_valid = integration.integrate(data, op)
    else:
        centres = _centres_from_beam_shift(beam_shift, axes, factors, data.shape[:-2])
        mean, var = integration.integrate_shifted(
            data, kx, ky, edges, centres, quantum=quantum, mask=mask, subpixel=subpixel
        )
        n_valid = op.n_valid
    if _base.is_dask(mean) and not lazy:
        mean, var = _base.compute(mean, var, show_progressbar=show_progressbar)
    centres = op.centres
    out = _new_profile_signal(mean, dp, centres)
    variance = out._deepcopy_with_new_data(var)
    variance.metadata.General.title = "variance of I(s)"
    out.metadata.set_item("Signal.Noise_properties.variance", variance)
    out.metadata.set_item("ePDF.integration.n_valid", n_valid.tolist())
    out.metadata.set_item("ePDF.integration.subpixel", int(subpixel))
    out.metadata.set_item("ePDF.integration.edges", [float(e) for e in op.edges])
    _base.record(out, "azimuthal_profile", {
        "n_bins": int(centres.size), "s_max": float(op.edges[-1]), "subpixel": int(subpixel),
        "center": list(map(float, center)), "masked_pixels": int(0 if mask is None else np.sum(mask)),
        "beam_shift": "per-pattern" if beam_shift is not None else "None", "quantum": float(quantum),
    })
    return out


def _centres_from_beam_shift(beam_shift, axes, factors, nav_shape):
    """Calibrated pattern centres (kx0, ky0) from pyxem's beam-shift convention."""
    shifts = beam_shift.data if isinstance(beam_shift, BaseSignal) else beam_shift
    if hasattr(shifts, "compute"):
        shifts = shifts.compute()
    shifts = np.asarray(shifts, dtype=float)
    if shifts.shape != tuple(nav_shape) + (2,):
        raise ValueError(
            f"'beam_shift' must have shape {tuple(nav_shape) + (2,)} (navigation + (x, y)); "
            f"got {shifts.shape}."
        )
    out = np.empty_like(shifts)
    for i, (ax, f) in enumerate(zip(axes, factors, strict=True)):
        out[..., i] = (ax.offset + ax.scale * (ax.size / 2 - shifts[..., i])) * f
    return out


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
