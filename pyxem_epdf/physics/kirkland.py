r"""Kirkland (2010) electron scattering factors, the table of single-pattern tools.

Kirkland, *Advanced Computing in Electron Microscopy*, 2nd ed. (Springer,
2010), Appendix C, fits the Hartree–Fock electron scattering factor of the
neutral atoms H–Lr with three Lorentzians and three Gaussians:

.. math::

    f_e(q) = \sum_{i=1}^{3} \frac{a_i}{q^2 + b_i} + \sum_{i=1}^{3} c_i \exp(-d_i q^2),

f in Å, q in Å⁻¹ with Kirkland's convention q = 1/d = 2 sinθ/λ, i.e. our s
(no 2π). The coefficients are not typed here: they are read from diffsims'
transcription of the table (``diffsims.utils.scattering_params``, from
scikit-ued), ordered χ², a₁, b₁, a₂, b₂, a₃, b₃, c₁, d₁, c₂, d₂, c₃, d₃.
"""

import numpy as np

__all__ = ["kirkland_parameters", "kirkland_scattering_factors"]


def _table():
    from diffsims.utils.scattering_params import scattering_params

    return scattering_params


def _atomic_number(element):
    import xraydb

    if not isinstance(element, str):
        raise ValueError(f"Element symbols must be strings; got {element!r}.")
    try:
        z = int(xraydb.atomic_number(element))
    except (ValueError, KeyError, TypeError, IndexError):
        z = 0
    if z < 1 or element != element.capitalize():
        raise ValueError(f"Unknown element {element!r}; use a symbol such as 'Si'.")
    if z not in _table():
        raise ValueError(f"Element {element!r} (Z = {z}) has no Kirkland parameters "
                         f"(Z = 1–{max(_table())}).")
    return z


def kirkland_parameters(element):
    """The 12 fit coefficients of one element.

    Parameters
    ----------
    element : str
        Element symbol (H–Lr).

    Returns
    -------
    a, b, c, d : numpy.ndarray
        Each of length 3: a in Å⁻¹, b in Å⁻², c in Å, d in Å².

    Raises
    ------
    ValueError
        Unknown element or no parameters.

    Examples
    --------
    f(0) = Σ a/b + Σ c; for hydrogen the Bohr radius, 0.5292 Å:

    >>> a, b, c, d = kirkland_parameters("H")
    >>> round(float(np.sum(a / b) + np.sum(c)), 4)
    0.5297
    """
    p = np.asarray(_table()[_atomic_number(element)], dtype=float)
    ab, cd = p[1:7].reshape(3, 2), p[7:13].reshape(3, 2)
    return ab[:, 0].copy(), ab[:, 1].copy(), cd[:, 0].copy(), cd[:, 1].copy()


def kirkland_scattering_factors(elements, s):
    """Electron scattering factors f(s) of Kirkland (2010).

    Parameters
    ----------
    elements : sequence of str
        Element symbols.
    s : array_like
        s = 2 sinθ/λ = 1/d in Å⁻¹ (Kirkland's q), 1-D, ≥ 0.

    Returns
    -------
    numpy.ndarray
        f in Å, shape ``(n_elements, n_s)``.

    Raises
    ------
    ValueError
        Unknown element, ``s`` not 1-D, negative or not finite.

    Examples
    --------
    >>> f = kirkland_scattering_factors(["O", "Si"], [0.0, 0.5, 1.0])
    >>> f.shape, bool(np.all(np.diff(f, axis=1) < 0))
    ((2, 3), True)
    """
    s = np.asarray(s, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"'s' must be 1-D; got shape {s.shape}.")
    if np.any(s < 0) or not np.all(np.isfinite(s)):
        raise ValueError("'s' must be finite and >= 0 (Å⁻¹).")
    q2 = s * s
    out = np.empty((len(elements), s.size))
    for i, el in enumerate(elements):
        a, b, c, d = kirkland_parameters(el)
        out[i] = (a[:, None] / (q2[None] + b[:, None])).sum(axis=0) + \
            (c[:, None] * np.exp(-d[:, None] * q2[None])).sum(axis=0)
    return out
