"""Turn an azimuthally averaged profile I(s) into a :class:`ReducedIntensity1DPlus`."""

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


__all__ = ["from_profile"]
