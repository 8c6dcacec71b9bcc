"""Units of the scattering vector and the electron wavelength.

Conventions used throughout pyxem-epdf:

* ``s = 2 sin(θ) / λ = 1/d`` in Å⁻¹ (pyxem's convention, the paper's ``s``);
* ``q = 4π sin(θ) / λ = 2π s`` in Å⁻¹ (X-ray/neutron convention), used only at
  the boundary (reading X-ray data, reporting);
* ``r`` in Å.
"""

import numpy as np

#: Unit strings accepted for a signal axis in s (Å⁻¹), with the factor that
#: converts a value in that unit to Å⁻¹.
S_UNITS = {
    "Å^-1": 1.0,
    "Å⁻¹": 1.0,
    "1/Å": 1.0,
    "A^-1": 1.0,
    "1/A": 1.0,
    "k_A^-1": 1.0,  # pyxem's name for Å⁻¹ in s = 1/d
    "nm^-1": 0.1,
    "nm⁻¹": 0.1,
    "1/nm": 0.1,
    "k_nm^-1": 0.1,  # pyxem's name for nm⁻¹ in s = 1/d
}

#: Physical constants (CODATA 2018), SI.
_H = 6.62607015e-34  # Planck constant, J s
_M_E = 9.1093837015e-31  # electron rest mass, kg
_E = 1.602176634e-19  # elementary charge, C
_C = 299792458.0  # speed of light, m/s


def s_unit_factor(units: str) -> float:
    """Return the factor converting an s-axis value in ``units`` to Å⁻¹.

    Parameters
    ----------
    units
        Unit string of the axis, e.g. ``"Å^-1"``, ``"k_A^-1"`` or ``"nm^-1"``.

    Returns
    -------
    float
        Multiply the axis values by this factor to get s in Å⁻¹.

    Raises
    ------
    ValueError
        If ``units`` is not one of :data:`S_UNITS`.

    Examples
    --------
    >>> s_unit_factor("nm^-1")
    0.1
    """
    try:
        return S_UNITS[str(units).strip()]
    except KeyError:
        raise ValueError(
            f"Signal axis units {units!r} are not a scattering-vector unit in "
            f"s = 2 sin(θ)/λ; expected one of {sorted(S_UNITS)}. Calibrate the "
            "axis first (e.g. axis.scale = 0.011; axis.units = 'Å^-1')."
        ) from None


def s_to_q(s):
    """Convert s = 2 sin(θ)/λ (Å⁻¹) to q = 4π sin(θ)/λ = 2π s (Å⁻¹).

    Examples
    --------
    >>> round(float(s_to_q(1.0)), 6)
    6.283185
    """
    return 2 * np.pi * np.asarray(s)


def q_to_s(q):
    """Convert q = 4π sin(θ)/λ (Å⁻¹) to s = q / 2π (Å⁻¹).

    Examples
    --------
    >>> float(q_to_s(2 * np.pi))
    1.0
    """
    return np.asarray(q) / (2 * np.pi)


def _check_beam_energy(beam_energy):
    try:
        kv = float(beam_energy)
    except (TypeError, ValueError):
        kv = float("nan")
    if not np.isfinite(kv) or kv <= 0:
        raise ValueError(
            f"'beam_energy' must be a positive number of kV; got {beam_energy!r}."
        )
    return kv


def relativistic_beta2(beam_energy: float) -> float:
    """β² = (v/c)² of the beam electrons.

    Parameters
    ----------
    beam_energy
        Accelerating voltage in kV (must be > 0).

    Returns
    -------
    float
        β², dimensionless.

    Examples
    --------
    >>> round(relativistic_beta2(200.0), 4)
    0.4835
    """
    gamma = 1 + _check_beam_energy(beam_energy) * 1e3 * _E / (_M_E * _C**2)
    return 1 - 1 / gamma**2


def electron_wavelength(beam_energy: float) -> float:
    """Relativistic electron wavelength.

    .. math::

        λ = \\frac{h}{\\sqrt{2 m_e e V (1 + e V / (2 m_e c^2))}}

    Parameters
    ----------
    beam_energy
        Accelerating voltage in kV (must be > 0).

    Returns
    -------
    float
        Wavelength in Å.

    Examples
    --------
    >>> round(electron_wavelength(200.0), 5)
    0.02508
    >>> round(electron_wavelength(300.0), 5)
    0.01969
    """
    ev = _E * _check_beam_energy(beam_energy) * 1e3
    p = np.sqrt(2 * _M_E * ev * (1 + ev / (2 * _M_E * _C**2)))
    return float(_H / p * 1e10)
