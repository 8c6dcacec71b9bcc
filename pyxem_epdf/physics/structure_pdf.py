"""Total and partial PDFs of structure models, with electron or X-ray weights.

Pair distances come from a KD-tree (SciPy ``cKDTree``) over the model and,
for periodic models, the periodic images needed to reach ``r_max``; they are
histogrammed per ordered element pair (a at the centre, b around it) as
neighbours per atom, h_ab(r). With atomic fractions c and scattering factors
f (at s = 0), the reduced PDF in the convention of this package
(G = 4πr[ρ(r) − ρ₀], a pair shell of n neighbours at r has area n/r) is

.. math::

    G(r) = \\sum_{ab} \\Big[\\frac{f_a f_b}{⟨f⟩^2}\\,\\frac{h_{ab}(r)}{r\\,Δr}
           - w_{ab}\\, 4πρ_0 r\\Big],\\qquad
    w_{ab} = \\frac{c_a c_b f_a f_b}{⟨f⟩^2},

the bracket being the partial of pair (a, b), so the partials sum to the
total exactly. :func:`pair_weights` gives w for electrons (Lobato f) or
X-rays (Waasmaier–Kirfel f₀ from xraydb, maintained and already a
dependency of diffpy; at s = 0 it is Z), so one sees which pairs dominate
each PDF. :func:`model_reduced_intensity` returns φ(s) of G by the inverse
transform, to process a model exactly like data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from . import transform
from .scattering import scattering_factors

__all__ = ["ModelPDF", "pair_contributions", "pair_histograms", "pair_weights", "model_pdf",
           "model_reduced_intensity"]


def _element(symbol):
    s = "".join(ch for ch in str(symbol) if ch.isalpha())
    return s[:1].upper() + s[1:2].lower() if len(s) > 1 and s[1:2].islower() else s[:1].upper()


def pair_histograms(xyz, elements, *, lattice=None, r_max=20.0, dr=0.005):
    """Neighbours per atom, histogrammed by distance for each ordered element pair.

    Parameters
    ----------
    xyz : array_like
        Cartesian positions in Å, shape (n, 3).
    elements : sequence of str
        Element of each atom.
    lattice : array_like, optional
        Cell vectors as rows (3, 3) in Å for a periodic model; ``None`` for a
        finite cluster.
    r_max, dr : float
        Largest distance and bin width in Å.

    Returns
    -------
    r : numpy.ndarray
        Bin centres in Å.
    histograms : dict
        ``{(a, b): counts}``, neighbours of type b per atom of the model
        around atoms of type a, per bin (ordered pairs; all pairs sum to
        the mean coordination within ``r_max``).
    species : tuple of str

    Examples
    --------
    >>> r, h, _ = pair_histograms([[0, 0, 0], [1.5, 0, 0]], ["Si", "O"], r_max=3.0, dr=0.1)
    >>> float(h[("Si", "O")].sum()), float(h[("O", "Si")].sum())  # per atom of the model
    (0.5, 0.5)
    """
    xyz = np.asarray(xyz, dtype=float)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(xyz) == 0:
        raise ValueError("'xyz' must be a non-empty (n, 3) array of positions in Å (a model without atoms?).")
    if len(elements) != len(xyz):
        raise ValueError(f"'elements' has {len(elements)} entries for {len(xyz)} atoms.")
    if not (r_max > 0 and dr > 0):
        raise ValueError("'r_max' and 'dr' must be > 0 Å.")
    species = tuple(dict.fromkeys(elements))
    code = np.array([species.index(e) for e in elements])
    if lattice is None:
        images, image_code = xyz, code
    else:
        lat = np.asarray(lattice, dtype=float)
        volume = abs(np.linalg.det(lat))
        # interplanar spacings: enough images on each side to reach r_max
        spacing = [volume / np.linalg.norm(np.cross(lat[(i + 1) % 3], lat[(i + 2) % 3]))
                   for i in range(3)]
        n = [int(np.ceil(r_max / d)) for d in spacing]
        grid = np.stack(np.meshgrid(*[np.arange(-k, k + 1) for k in n], indexing="ij"),
                        -1).reshape(-1, 3)
        offsets = grid @ lat
        images = (xyz[None, :, :] + offsets[:, None, :]).reshape(-1, 3)
        image_code = np.tile(code, len(offsets))
    tree_c, tree_i = cKDTree(xyz), cKDTree(images)
    pairs = tree_c.sparse_distance_matrix(tree_i, r_max, output_type="ndarray")
    d = pairs["v"]
    keep = d > 1e-8  # self pairs
    i, j, d = pairs["i"][keep], pairs["j"][keep], d[keep]
    n_bins = int(np.ceil(r_max / dr))
    b = np.minimum((d / dr).astype(np.intp), n_bins - 1)
    k = len(species)
    key = (code[i] * k + image_code[j]) * n_bins + b
    counts = np.bincount(key, minlength=k * k * n_bins).reshape(k, k, n_bins) / len(xyz)
    r = (np.arange(n_bins) + 0.5) * dr
    hist = {(species[a], species[c]): counts[a, c] for a in range(k) for c in range(k)}
    return r, hist, species


def pair_weights(fractions, kind="electron", table="lobato"):
    """Weights w_ab = c_a c_b f_a f_b / ⟨f⟩² of ordered element pairs at s = 0.

    Parameters
    ----------
    fractions : dict
        ``{element: atomic fraction}``.
    kind : {"electron", "xray"}
        Electron (Lobato or International Tables f, Å) or X-ray (f₀ = Z at
        s = 0, from xraydb).
    table : str
        Electron table.

    Returns
    -------
    dict
        ``{(a, b): w}``, summing to 1.

    Examples
    --------
    >>> w = pair_weights({"Zn": 1 / 3, "N": 2 / 3}, "xray")
    >>> round(w[("Zn", "Zn")], 3), round(sum(w.values()), 6)
    (0.465, 1.0)
    """
    els = list(fractions)
    c = np.array([fractions[e] for e in els], dtype=float)
    if kind == "electron":
        f = scattering_factors(els, [0.0], table)[:, 0]
    elif kind == "xray":
        import xraydb

        f = np.array([float(xraydb.f0(e, 0.0)[0]) for e in els])
    else:
        raise ValueError(f"'kind' must be 'electron' or 'xray'; got {kind!r}.")
    mean = c @ f
    return {(a, b): float(c[i] * c[j] * f[i] * f[j] / mean**2)
            for i, a in enumerate(els) for j, b in enumerate(els)}


@dataclass
class ModelPDF:
    """Result of :func:`model_pdf`.

    Attributes
    ----------
    r : numpy.ndarray
        r in Å.
    total : numpy.ndarray
        G(r) in Å⁻².
    partials : dict
        ``{(a, b): G_ab(r)}`` for a ≤ b in element order (both orders
        combined); they sum to ``total``.
    weights : dict
        ``{(a, b): w}`` for the same pairs (both orders combined).
    density : float
        ρ₀ in atoms/Å³ (periodic models).

    Examples
    --------
    >>> import numpy as np
    >>> m = model_pdf((np.array([[0, 0, 0], [1.5, 0, 0], [0, 2.6, 0]]), ["Si", "O", "O"]),
    ...               r_max=4.0, dr=0.01)
    >>> list(m.partials), m.r.shape, m.density   # a cluster: no density term
    ([('Si', 'Si'), ('Si', 'O'), ('O', 'O')], (400,), 0.0)
    >>> bool(np.allclose(sum(m.partials.values()), m.total)), round(sum(m.weights.values()), 6)
    (True, 1.0)
    """

    r: np.ndarray
    total: np.ndarray
    partials: dict
    weights: dict
    density: float


def model_pdf(structure, *, kind="electron", r_max=20.0, dr=0.01, sigma=0.05,
              table="lobato", density=None):
    """Total and partial G(r) of a structure model.

    Parameters
    ----------
    structure : diffpy.structure.Structure or (xyz, elements[, lattice])
        The model; a diffpy Structure gives Cartesian positions, elements
        and (periodic) lattice.
    kind : {"electron", "xray"}
        Weights (see :func:`pair_weights`).
    r_max, dr : float
        r range and step in Å.
    sigma : float
        Gaussian broadening of every pair distance in Å (thermal/static).
    table : str
        Electron scattering-factor table.
    density : float, optional
        ρ₀ (atoms/Å³); default from the cell of a periodic model, 0 for a cluster.

    Returns
    -------
    ModelPDF

    Examples
    --------
    >>> import numpy as np
    >>> a = 3.52  # fcc Ni
    >>> basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]) * a
    >>> m = model_pdf((basis, ["Ni"] * 4, np.eye(3) * a), r_max=4.0, dr=0.005)
    >>> round(float(m.r[np.argmax(m.total)]), 2)  # a / √2
    2.49
    """
    if hasattr(structure, "lattice") and hasattr(structure, "xyz_cartn"):
        xyz = np.asarray(structure.xyz_cartn, dtype=float)
        elements = [_element(a.element) for a in structure]
        lattice = np.asarray(structure.lattice.base, dtype=float)
    else:
        xyz, elements, *rest = structure
        elements = [_element(e) for e in elements]
        lattice = rest[0] if rest else None
    if sigma < 0:
        raise ValueError(f"'sigma' must be >= 0 Å; got {sigma}.")
    r, hist, species = pair_histograms(xyz, elements, lattice=lattice, r_max=r_max + 5 * sigma,
                                       dr=dr)
    counts = {e: elements.count(e) for e in species}
    n = len(elements)
    fractions = {e: counts[e] / n for e in species}
    w = pair_weights(fractions, kind, table)
    if density is None:
        density = 0.0 if lattice is None else n / abs(np.linalg.det(np.asarray(lattice)))
    if kind == "electron":
        f = dict(zip(species, scattering_factors(list(species), [0.0], table)[:, 0], strict=True))
    else:
        import xraydb

        f = {e: float(xraydb.f0(e, 0.0)[0]) for e in species}
    mean = sum(fractions[e] * f[e] for e in species)
    if sigma > 0:
        half = int(np.ceil(5 * sigma / dr))
        kern = np.exp(-0.5 * (np.arange(-half, half + 1) * dr / sigma) ** 2)
        kern /= kern.sum()
    keep = r <= r_max + 1e-9
    partials, weights = {}, {}
    for i, a in enumerate(species):
        for b in species[i:]:
            h = hist[(a, b)] + (hist[(b, a)] if a != b else 0.0)
            if sigma > 0:
                h = np.convolve(h, kern, mode="same")
            wab = w[(a, b)] + (w[(b, a)] if a != b else 0.0)
            g = f[a] * f[b] / mean**2 * h / (r * dr) - wab * 4 * np.pi * density * r
            partials[(a, b)] = g[keep]
            weights[(a, b)] = wab
    total = np.sum(list(partials.values()), axis=0)
    return ModelPDF(r[keep], total, partials, weights, float(density))


def model_reduced_intensity(g, r, s, *, taper=True):
    """φ(s) of a model G(r) by the inverse transform φ = (1/2π) ∫ G sin(2πsr) dr.

    Parameters
    ----------
    g, r : array_like
        G(r) (Å⁻²) on a uniform r grid (Å).
    s : array_like
        s grid in Å⁻¹ (e.g. the data's).
    taper : bool
        Multiply G by a cosine window over the last 20 % of r to soften the
        truncation at r_max.

    Returns
    -------
    numpy.ndarray
        φ(s), to be damped, extrapolated and transformed like the data.

    Examples
    --------
    >>> from pyxem_epdf.physics.models import gaussian_peaks_pdf
    >>> r = np.arange(0, 20, 0.005)
    >>> g = gaussian_peaks_pdf(r, [2.0], [1.0], [0.1])
    >>> s = np.array([0.125])
    >>> bool(np.isclose(model_reduced_intensity(g, r, s)[0], np.sin(np.pi / 2) / (2 * np.pi)
    ...                 * np.exp(-2 * np.pi**2 * 0.01 * 0.125**2), rtol=1e-3))
    True
    """
    g = np.asarray(g, dtype=float)
    r = np.asarray(r, dtype=float)
    s = np.asarray(s, dtype=float)
    if taper:
        start = 0.8 * r[-1]
        window = np.where(r > start, 0.5 * (1 + np.cos(np.pi * (r - start) / (r[-1] - start))), 1.0)
        g = g * window
    weights = transform.trapezoid_weights(r)
    return (weights * g) @ np.sin(2 * np.pi * np.outer(r, s)) / (2 * np.pi)


def pair_contributions(model, positions, *, half_width=0.15):
    """Which atom pairs make each G(r) peak, and by how much.

    Parameters
    ----------
    model : ModelPDF
        From :func:`model_pdf`.
    positions : sequence of float
        Peak positions in Å (e.g. from the data or the model).
    half_width : float
        Half-width in Å of the window integrated around each position.

    Returns
    -------
    list of dict
        One per position: ``{pair: fraction}`` of the shell area in the window
        (the density line −4πρ₀r removed), largest first; fractions sum to 1.

    Examples
    --------
    >>> import numpy as np
    >>> m = model_pdf((np.array([[0, 0, 0], [1.5, 0, 0], [0, 2.6, 0]]), ["Si", "O", "O"]),
    ...               r_max=4.0, dr=0.01, sigma=0.05)
    >>> table = pair_contributions(m, [1.5])
    >>> list(table[0])[0], round(table[0][list(table[0])[0]], 2)
    (('Si', 'O'), 1.0)
    """
    out = []
    for p in positions:
        sel = np.abs(model.r - float(p)) <= half_width
        if not sel.any():
            raise ValueError(f"Position {p} Å is outside the model's r range.")
        areas = {}
        for pair, g in model.partials.items():
            shell = g + model.weights[pair] * 4 * np.pi * model.density * model.r
            areas[pair] = float(np.clip(shell[sel], 0, None).sum())
        total = sum(areas.values()) or 1.0
        out.append(dict(sorted(((k, v / total) for k, v in areas.items()),
                               key=lambda kv: -kv[1])))
    return out
