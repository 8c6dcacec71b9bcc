"""Electron scattering factors and sample compositions.

Turns a composition (dict of atomic fractions, chemical formula, or molar
mixture of formulas) into atomic fractions, and evaluates the composition
averages ⟨f²⟩ and ⟨f⟩² that enter the reduced intensity

.. math:: φ(s) = s\\,\\frac{I(s) - N⟨f^2⟩ - C}{N⟨f⟩^2},

with :math:`s = 2\\sinθ/λ` in Å⁻¹ and f in Å. The parameter tables are the ones
shipped with diffsims (``lobato``: Lobato & Van Dyck, Acta Cryst. A70 (2014)
636; ``xtables``: the International Tables electron parameterisation that
pyxem's ``fit_atomic_scattering(scattering_factor="xtables")`` also uses;
``kirkland``: Kirkland (2010) Appendix C, :mod:`pyxem_epdf.physics.kirkland`), and
the evaluation (but for Kirkland's) is diffsims' own
:func:`diffsims.utils.sim_utils.get_atomic_scattering_factors`.

Composition maps (per-pixel fractions, shape ``(..., n_elements)``, NumPy or
dask) go through :func:`scattering_averages` unchanged, so a later EDS-driven
composition map costs one matrix product.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
from diffsims.utils.sim_utils import (
    get_atomic_scattering_factors,
    get_scattering_params_dict,
)

__all__ = [
    "SCATTERING_TABLES",
    "composition_arrays",
    "mean_scattering",
    "parse_composition",
    "scattering_averages",
    "scattering_factors",
    "scattering_power",
]

#: Names of the available scattering-factor tables.
SCATTERING_TABLES = ("lobato", "xtables", "kirkland")

#: Tolerance on the sum of atomic fractions (and of mixture coefficients).
SUM_TOLERANCE = 1e-3

_ELEMENTS = frozenset(get_scattering_params_dict("lobato"))
_TOKEN = re.compile(r"\s*(?:([A-Z][a-z]?)|(\d+\.?\d*|\.\d+)|([(\[])|([)\]])|([+\-])|(\S))")
_CLOSING = {"(": ")", "[": "]"}


def parse_composition(composition):
    """Atomic fractions of a composition.

    Parameters
    ----------
    composition : dict or str
        * dict ``{element: atomic fraction}``; fractions must be >= 0 and sum
          to 1 (within 1e-3, then renormalised exactly);
        * chemical formula with nested parentheses/brackets and fractional
          counts, e.g. ``"SiO2"`` or ``"Zn(C3H3N2)1.75(C7H5N2)0.25"``; atom
          counts are normalised to fractions;
        * molar mixture of formulas ``"x[A]-y[B]"`` (``+`` works as well as
          ``-``), e.g. ``"0.67[(Na2O)0.9(P2O5)]-0.33[(AlO1.5)(AlF3)1.5]"``:
          the atom counts of each formula unit are weighted by its molar
          coefficient. Explicit coefficients must sum to 1; terms without a
          coefficient count one formula unit each.

    Returns
    -------
    dict
        ``{element: atomic fraction}`` in order of first appearance, summing
        to 1.

    Raises
    ------
    ValueError
        Unknown element, negative fraction, fractions (or mixture
        coefficients) not summing to 1, or a malformed formula; the message
        names ``composition``.

    Examples
    --------
    >>> from pyxem_epdf.physics.scattering import parse_composition
    >>> {k: round(v, 4) for k, v in parse_composition("SiO2").items()}
    {'Si': 0.3333, 'O': 0.6667}
    >>> c = parse_composition("Zn(C3H3N2)1.75(C7H5N2)0.25")
    >>> round(c["Zn"], 4), round(c["N"], 4)
    (0.0541, 0.2162)
    """
    if isinstance(composition, Mapping):
        counts = {}
        for element, value in composition.items():
            _check_element(element)
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(
                    f"Atomic fraction of {element!r} in 'composition' must be a "
                    f"number; got {value!r}."
                ) from None
            if not np.isfinite(value) or value < 0:
                raise ValueError(
                    f"Atomic fraction of {element!r} in 'composition' must be "
                    f"finite and >= 0; got {value}."
                )
            counts[element] = value
        total = sum(counts.values())
        if not counts or abs(total - 1.0) > SUM_TOLERANCE:
            raise ValueError(
                f"Atomic fractions in 'composition' must sum to 1 (±{SUM_TOLERANCE}); "
                f"they sum to {total:.6g}. Give a formula string (e.g. 'SiO2') "
                "to have atom counts normalised."
            )
        return {el: v / total for el, v in counts.items()}
    if not isinstance(composition, str):
        raise TypeError(
            "'composition' must be a dict of atomic fractions or a formula string; "
            f"got {type(composition).__name__}."
        )
    counts = _parse_mixture(composition)
    total = sum(counts.values())
    if total <= 0:
        raise ValueError(f"'composition' {composition!r} contains no atoms.")
    return {el: v / total for el, v in counts.items()}


def composition_arrays(composition):
    """Elements and their atomic fractions as a tuple and an array.

    Parameters
    ----------
    composition : dict or str
        Anything :func:`parse_composition` accepts.

    Returns
    -------
    elements : tuple of str
    fractions : numpy.ndarray
        Atomic fractions, shape ``(n_elements,)``, summing to 1.

    Examples
    --------
    >>> from pyxem_epdf.physics.scattering import composition_arrays
    >>> composition_arrays({"Si": 0.5, "O": 0.5})
    (('Si', 'O'), array([0.5, 0.5]))
    """
    parsed = parse_composition(composition)
    return tuple(parsed), np.array(list(parsed.values()), dtype=float)


def scattering_factors(elements, s, table="lobato"):
    """Electron scattering factors f(s) of elements.

    Parameters
    ----------
    elements : sequence of str
        Element symbols.
    s : array_like
        Scattering vector s = 2 sinθ/λ in Å⁻¹, 1-D, >= 0.
    table : {"lobato", "xtables", "kirkland"}
        Parameterisation: ``"lobato"`` evaluates
        :math:`f = Σ_i a_i (2 + b_i s^2)/(1 + b_i s^2)^2`, ``"xtables"``
        :math:`f = Σ_i a_i \\exp(-b_i s^2/4)` (both via diffsims),
        ``"kirkland"`` Kirkland's (2010) three Lorentzians + three Gaussians
        (:func:`pyxem_epdf.physics.kirkland.kirkland_scattering_factors`).

    Returns
    -------
    numpy.ndarray
        f in Å, shape ``(n_elements, n_s)``.

    Examples
    --------
    Hydrogen at s = 0 is the Bohr radius, 0.529 Å:

    >>> from pyxem_epdf.physics.scattering import scattering_factors
    >>> float(scattering_factors(["H"], [0.0])[0, 0].round(4))
    0.5292
    """
    if table not in SCATTERING_TABLES:
        raise ValueError(f"'table' must be one of {SCATTERING_TABLES}; got {table!r}.")
    s = np.asarray(s, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"'s' must be 1-D; got shape {s.shape}.")
    if np.any(s < 0) or not np.all(np.isfinite(s)):
        raise ValueError("'s' must be finite and >= 0 (Å⁻¹).")
    key = (tuple(elements), table, s.tobytes())
    cached = _FACTORS.get(key)
    if cached is not None:
        return cached.copy(order="K")  # same memory layout: same BLAS rounding
    f = _scattering_factors(elements, s, table)
    if len(_FACTORS) >= 16:
        _FACTORS.pop(next(iter(_FACTORS)))
    _FACTORS[key] = f.copy(order="K")
    return f


#: The last few tables evaluated (:func:`scattering_factors` of one grid is asked
#: for on every call of a chain method; ~0.1 ms each), keyed on the elements,
#: the table and the exact s values. Callers get copies.
_FACTORS: dict = {}


def _scattering_factors(elements, s, table):
    """:func:`scattering_factors` of checked ``s`` and ``table``, evaluated."""
    if table == "kirkland":
        from .kirkland import kirkland_scattering_factors

        for el in elements:
            _check_element(el)
        return kirkland_scattering_factors(elements, s)
    params = get_scattering_params_dict(table)
    missing = [el for el in elements if el not in params]
    for el in missing:
        _check_element(el)
    if missing:
        raise ValueError(
            f"Element(s) {missing} have no parameters in the {table!r} table; "
            f"use table='lobato' (H–Lr)."
        )
    coeffs = np.array([params[el] for el in elements], dtype=float).reshape(-1, 5, 2)
    return get_atomic_scattering_factors(s**2, coeffs, table).T


def scattering_averages(fractions, f):
    """Composition averages ⟨f²⟩ and ⟨f⟩².

    Parameters
    ----------
    fractions : array_like or dask.array.Array
        Atomic fractions, shape ``(..., n_elements)``: one composition or a
        composition map over any navigation shape.
    f : numpy.ndarray
        Scattering factors, shape ``(n_elements, n_s)`` in Å (from
        :func:`scattering_factors`).

    Returns
    -------
    f2_mean, f_mean_sq : array
        ⟨f²⟩ and ⟨f⟩² in Å², shape ``(..., n_s)``; dask if ``fractions`` is.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.scattering import scattering_averages
    >>> f = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> scattering_averages(np.array([0.5, 0.5]), f)
    (array([ 5., 10.]), array([4., 9.]))
    """
    if not hasattr(fractions, "dask"):
        fractions = np.asarray(fractions, dtype=float)
    f = np.asarray(f, dtype=float)
    if fractions.shape[-1] != f.shape[0]:
        raise ValueError(
            f"'fractions' has {fractions.shape[-1]} elements on its last axis but "
            f"'f' has {f.shape[0]} rows."
        )
    return fractions @ (f * f), (fractions @ f) ** 2


def mean_scattering(composition, s, table="lobato"):
    """⟨f²⟩ and ⟨f⟩² of a composition on an s grid.

    Parameters
    ----------
    composition : dict or str
        Anything :func:`parse_composition` accepts.
    s : array_like
        s = 2 sinθ/λ in Å⁻¹, 1-D.
    table : {"lobato", "xtables", "kirkland"}
        Scattering-factor parameterisation.

    Returns
    -------
    f2_mean, f_mean_sq : numpy.ndarray
        In Å², shape ``(n_s,)``.

    Examples
    --------
    >>> from pyxem_epdf.physics.scattering import mean_scattering
    >>> f2, fsq = mean_scattering("SiO2", [0.0, 1.0])
    >>> bool((f2 >= fsq).all())
    True
    """
    elements, fractions = composition_arrays(composition)
    return scattering_averages(fractions, scattering_factors(elements, s, table))


def scattering_power(composition, number_density, s_range, *, table="lobato", n_s=64):
    """Scattering power per volume of a phase in the N fit window, ρ · mean ⟨f²⟩.

    The chain fits I ≈ N⟨f²⟩ + C with one (average) composition, so in a
    probe column that crosses phases the share of the fitted N (and of
    G(r)) coming from phase p is w_p ρ_p ⟨f²⟩_p / Σ_q w_q ρ_q ⟨f²⟩_q, with
    w_p its volume fraction: closure fractions of a PDF cube are these
    scattering-weighted fractions, and
    :func:`~pyxem_epdf.physics.unmixing.volume_fractions` turns them into
    volume fractions with the powers of this function.

    Parameters
    ----------
    composition : dict or str
        The phase's composition (anything :func:`parse_composition` takes).
    number_density : float
        Its atom number density ρ in atoms/Å³ (> 0), e.g. 0.066 for a-SiO2.
    s_range : tuple of float
        (s_lo, s_hi) in Å⁻¹, 0 ≤ s_lo < s_hi: the window the chain fits N on
        (``metadata.ePDF.fit.s_range``).
    table : {"lobato", "xtables", "kirkland"}
        Scattering-factor parameterisation.
    n_s : int
        Samples of the window (≥ 2).

    Returns
    -------
    float
        ρ · ⟨f²⟩ averaged over the window, in Å⁻¹ (atoms/Å³ × Å²); only
        ratios between phases matter.

    Examples
    --------
    >>> from pyxem_epdf.physics.scattering import scattering_power
    >>> light = scattering_power("C", 0.1, (1.6, 2.5))
    >>> heavy = scattering_power("Zr", 0.1, (1.6, 2.5))
    >>> bool(heavy > 10 * light)   # at equal density Zr scatters far more
    True
    """
    try:
        rho = float(number_density)
    except (TypeError, ValueError):
        raise ValueError(f"'number_density' must be a number in atoms/Å³; got "
                         f"{number_density!r}.") from None
    if not np.isfinite(rho) or rho <= 0:
        raise ValueError(f"'number_density' must be a finite number > 0 (atoms/Å³); got "
                         f"{number_density!r}.")
    try:
        lo, hi = (float(v) for v in s_range)
    except (TypeError, ValueError):
        raise ValueError(f"'s_range' must be two numbers (s_lo, s_hi) in Å⁻¹; got "
                         f"{s_range!r}.") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
        raise ValueError(f"'s_range' must satisfy 0 <= s_lo < s_hi (Å⁻¹); got {s_range!r}.")
    if isinstance(n_s, bool) or not isinstance(n_s, (int, np.integer)) or n_s < 2:
        raise ValueError(f"'n_s' must be an integer >= 2; got {n_s!r}.")
    f2, _ = mean_scattering(composition, np.linspace(lo, hi, int(n_s)), table)
    return rho * float(np.mean(f2))


# --------------------------------------------------------------- formula parser
def _check_element(element):
    if element not in _ELEMENTS:
        raise ValueError(
            f"Unknown element {element!r} in 'composition'; use element symbols "
            "H–Lr with capitalised first letter (e.g. 'Zn', 'O')."
        )


def _tokenize(text):
    tokens, pos = [], 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        element, number, opening, closing, sign, junk = m.groups()
        if junk is not None:
            raise ValueError(
                f"Cannot parse 'composition' {text!r}: unexpected {junk!r} at "
                f"position {m.start(6)}."
            )
        if element is not None:
            _check_element(element)
            tokens.append(("el", element))
        elif number is not None:
            tokens.append(("num", float(number)))
        elif opening is not None:
            tokens.append(("open", opening))
        elif closing is not None:
            tokens.append(("close", closing))
        else:
            tokens.append(("sign", sign))
        pos = m.end()
    return tokens


def _parse_mixture(text):
    """Atom counts of ``coef[formula] ± coef[formula] ...``."""
    tokens = _tokenize(text)
    if not tokens:
        raise ValueError("'composition' is an empty string.")
    terms, i = [], 0
    while i < len(tokens):
        coef = None
        if tokens[i][0] == "num":
            coef = tokens[i][1]
            i += 1
        counts, i = _parse_group(tokens, i, text, closing=None)
        if not counts:
            raise ValueError(f"Cannot parse 'composition' {text!r}: empty formula term.")
        terms.append((coef, counts))
        if i < len(tokens):  # must be a separator
            i += 1
            if i == len(tokens):
                raise ValueError(f"Cannot parse 'composition' {text!r}: trailing '+'/'-'.")
    coefs = [c for c, _ in terms]
    if len(terms) > 1 and all(c is not None for c in coefs):
        total = sum(coefs)
        if abs(total - 1.0) > SUM_TOLERANCE:
            raise ValueError(
                f"Molar coefficients in 'composition' {text!r} sum to {total:.6g}; "
                f"they must sum to 1 (±{SUM_TOLERANCE})."
            )
    result = {}
    for coef, counts in terms:
        for el, n in counts.items():
            result[el] = result.get(el, 0.0) + (1.0 if coef is None else coef) * n
    return result


def _parse_group(tokens, i, text, closing):
    """Parse a formula until ``closing`` (or a top-level separator/end)."""
    counts = {}
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "close":
            if value != closing:
                raise ValueError(f"Cannot parse 'composition' {text!r}: unbalanced {value!r}.")
            return counts, i + 1
        if kind == "sign":
            if closing is not None:
                raise ValueError(
                    f"Cannot parse 'composition' {text!r}: '+'/'-' inside brackets."
                )
            return counts, i
        if kind == "num":
            raise ValueError(
                f"Cannot parse 'composition' {text!r}: number {value:g} does not follow "
                "an element or a bracket (negative or misplaced count?)."
            )
        if kind == "el":
            sub, i = {value: 1.0}, i + 1
        else:  # opening bracket
            sub, i = _parse_group(tokens, i + 1, text, closing=_CLOSING[value])
        if i < len(tokens) and tokens[i][0] == "num":
            mult, i = tokens[i][1], i + 1
        else:
            mult = 1.0
        for el, n in sub.items():
            counts[el] = counts.get(el, 0.0) + mult * n
    if closing is not None:
        raise ValueError(f"Cannot parse 'composition' {text!r}: missing {closing!r}.")
    return counts, i
