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

Finite clusters (no lattice) have no periodic density. Their G(r) is

.. math::

    G(r) = 4πr\\,[ρ(r) - ρ_0 γ_0(r)],

with ρ₀ = N/V the cluster's own number density and γ₀(r) its shape function
(the orientation-averaged overlap of the cluster's volume with itself shifted
by r, divided by the volume: γ₀(0) = 1, γ₀ = 0 beyond the largest
dimension), so G oscillates about zero as for a crystal or glass instead of
carrying the small-angle term of the Debye sum.
:func:`cluster_shape_function` implements ρ₀ and γ₀ for the convex hull of the
atom centres dilated by half the median nearest-neighbour distance (each
surface atom's own half-bond of space); ``density=0`` gives the plain pair
sum (the Debye equation without its small-angle term removed).

Pair distances are found in chunks of centre atoms (spatially sorted, each
chunk's own KD-tree against the whole model's), so memory is bounded by
``max_pairs`` distances at a time, not by the n² of a distance matrix:
80,000 atoms at r_max = 20 Å take about 10 s and < 1 GB
(``benchmarks/bench_cluster.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import (
    ConvexHull,
    Delaunay,
    HalfspaceIntersection,
    QhullError,
    cKDTree,
)

from . import transform
from .scattering import scattering_factors

__all__ = ["ModelPDF", "cluster_shape_function", "pair_contributions", "pair_histograms",
           "pair_weights", "model_pdf", "model_reduced_intensity"]

#: Largest number of pair distances held in memory at once by :func:`pair_histograms`
#: (≈ 40 bytes each, incl. the bin keys: 4e6 → ~160 MB).
MAX_PAIRS = 4_000_000


def _element(symbol):
    s = "".join(ch for ch in str(symbol) if ch.isalpha())
    return s[:1].upper() + s[1:2].lower() if len(s) > 1 and s[1:2].islower() else s[:1].upper()


def _spatial_order(xyz, cell):
    """Indices sorting positions by grid cell of size ``cell`` (Å), so chunks are compact."""
    idx = np.floor((xyz - xyz.min(axis=0)) / cell).astype(np.int64)
    return np.lexsort((idx[:, 2], idx[:, 1], idx[:, 0]))


def _binned_pair_counts(centres, centre_code, targets, target_code, k, r_max, dr, max_pairs):
    """Counts of (centre type, target type, distance bin) over all pairs within r_max.

    Centres are taken in spatially compact chunks sized so that one chunk's pairs stay
    below ``max_pairs``; every chunk builds its own KD-tree and queries the targets' tree.
    """
    n_bins = int(np.ceil(r_max / dr))
    counts = np.zeros(k * k * n_bins, dtype=np.int64)
    tree_t = cKDTree(targets)
    rng = np.random.default_rng(0)
    probe = centres[rng.choice(len(centres), size=min(64, len(centres)), replace=False)]
    per_atom = max(1.0, 1.5 * float(np.max(tree_t.query_ball_point(probe, r_max,
                                                                   return_length=True))))
    chunk = int(max(1, min(len(centres), max_pairs // per_atom)))
    order = _spatial_order(centres, max(r_max, 1e-6))
    for start in range(0, len(centres), chunk):
        sel = order[start:start + chunk]
        pairs = cKDTree(centres[sel]).sparse_distance_matrix(tree_t, r_max, output_type="ndarray")
        d = pairs["v"]
        keep = d > 1e-8  # self pairs (and coincident atoms)
        i, j, d = pairs["i"][keep], pairs["j"][keep], d[keep]
        b = np.minimum((d / dr).astype(np.intp), n_bins - 1)
        key = (centre_code[sel][i] * k + target_code[j]) * n_bins + b
        counts += np.bincount(key, minlength=k * k * n_bins)
    return counts.reshape(k, k, n_bins)


def pair_histograms(xyz, elements, *, lattice=None, r_max=20.0, dr=0.005, max_pairs=None):
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
    max_pairs : int, optional
        Largest number of pair distances held at once (default
        :data:`MAX_PAIRS`, ≈ 160 MB); centre atoms are processed in spatially
        compact chunks of that many pairs, so memory does not grow with n².

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

    Chunking does not change the counts:

    >>> rng = np.random.default_rng(0)
    >>> xyz = rng.uniform(0, 10, (300, 3))
    >>> _, h1, _ = pair_histograms(xyz, ["C"] * 300, r_max=4.0, dr=0.1)
    >>> _, h2, _ = pair_histograms(xyz, ["C"] * 300, r_max=4.0, dr=0.1, max_pairs=50)
    >>> bool(np.array_equal(h1[("C", "C")], h2[("C", "C")]))
    True
    """
    xyz = np.asarray(xyz, dtype=float)
    if xyz.ndim != 2 or xyz.shape[1] != 3 or len(xyz) == 0:
        raise ValueError("'xyz' must be a non-empty (n, 3) array of positions in Å (a model without atoms?).")
    if not np.all(np.isfinite(xyz)):
        raise ValueError(f"'xyz' has {int((~np.isfinite(xyz)).any(axis=1).sum())} atoms with "
                         "non-finite coordinates.")
    if len(elements) != len(xyz):
        raise ValueError(f"'elements' has {len(elements)} entries for {len(xyz)} atoms.")
    if not (r_max > 0 and dr > 0):
        raise ValueError("'r_max' and 'dr' must be > 0 Å.")
    max_pairs = MAX_PAIRS if max_pairs is None else int(max_pairs)
    if max_pairs < 1:
        raise ValueError(f"'max_pairs' must be >= 1; got {max_pairs}.")
    species = tuple(dict.fromkeys(elements))
    lookup = {e: i for i, e in enumerate(species)}
    code = np.array([lookup[e] for e in elements], dtype=np.intp)
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
    k = len(species)
    counts = _binned_pair_counts(xyz, code, images, image_code, k, r_max, dr, max_pairs)
    counts = counts / len(xyz)
    r = (np.arange(counts.shape[-1]) + 0.5) * dr
    hist = {(species[a], species[c]): counts[a, c] for a in range(k) for c in range(k)}
    return r, hist, species


def _fibonacci_sphere(n):
    i = np.arange(n) + 0.5
    phi = np.arccos(1 - 2 * i / n)
    theta = np.pi * (1 + 5**0.5) * i
    return np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], -1)


def _ball_directions(n=96):
    """n points whose convex hull has the volume of the unit ball (a dilation stencil)."""
    pts = _fibonacci_sphere(n)
    return pts * (4 / 3 * np.pi / ConvexHull(pts).volume) ** (1 / 3)


def _hull(xyz):
    try:
        return ConvexHull(xyz)
    except (QhullError, ValueError):
        return None  # fewer than 4 atoms, or all in a plane or on a line


def _dilated_hull(xyz, hull, delta):
    """Vertices of the convex hull of ``xyz`` dilated by ``delta`` Å, its volume and area."""
    if hull is None or delta <= 0:
        if hull is None and delta <= 0:
            raise ValueError("A planar or linear cluster has no volume without dilation "
                             "('dilation' must be > 0 Å).")
        pts = xyz[hull.vertices] if hull is not None else xyz
        if delta > 0:
            pts = (pts[:, None, :] + delta * _ball_directions()[None]).reshape(-1, 3)
        shell = ConvexHull(pts)
        return pts[shell.vertices], float(shell.volume), float(shell.area)
    # faces pushed out by delta (exact for the faces; edges and corners come out sharp)
    eq = np.unique(np.round(hull.equations, 12), axis=0)
    eq[:, 3] -= delta
    inner = xyz[hull.vertices].mean(axis=0)
    verts = HalfspaceIntersection(eq, inner).intersections
    shell = ConvexHull(verts)
    return verts[shell.vertices], float(shell.volume), float(shell.area)


def _depth(xyz, hull):
    """Distance (Å) of every position inside the convex hull from its surface."""
    eq = np.unique(np.round(hull.equations, 12), axis=0)
    out = np.empty(len(xyz))
    step = max(1, 2_000_000 // len(eq))
    for i in range(0, len(xyz), step):
        out[i:i + step] = -(xyz[i:i + step] @ eq[:, :3].T + eq[:, 3]).max(axis=1)
    return out


def _interior_volume_per_atom(xyz, hull, margin, max_atoms=20000):
    """Mean Delaunay volume share (Å³) of atoms deeper than ``margin`` below the hull.

    Each Delaunay tetrahedron gives a quarter of its volume to each vertex; far
    from the surface the shares average to the volume per atom of the
    material. ``None`` when fewer than 4 atoms are that deep.
    """
    depth = _depth(xyz, hull)
    if np.count_nonzero(depth > margin) < 4:
        return None
    centre = xyz[int(np.argmax(depth))]
    k = min(len(xyz), max_atoms)
    dist, idx = cKDTree(xyz).query(centre, k=k)
    idx, dist = np.atleast_1d(idx), np.atleast_1d(dist)
    crop = xyz[idx]
    try:
        tri = Delaunay(crop)
    except QhullError:
        return None
    corners = crop[tri.simplices]
    vol = np.abs(np.linalg.det(corners[:, 1:] - corners[:, :1])) / 6
    share = np.bincount(tri.simplices.ravel(), weights=np.repeat(vol / 4, 4),
                        minlength=len(crop))
    reach = dist[-1] if k < len(xyz) else np.inf
    ok = (depth[idx] > margin) & (dist < reach - margin)
    if np.count_nonzero(ok) < 4:
        return None
    return float(share[ok].mean())


def cluster_shape_function(xyz, r, *, dilation=None, voxels=80):
    """Number density ρ₀ and shape function γ₀(r) of a finite cluster.

    The cluster's volume V is the convex hull of its atom centres dilated by
    ``dilation`` Å; ρ₀ = N / V. By default the dilation is the one that makes
    ρ₀ the density of the cluster's interior (the mean Delaunay volume share of
    the atoms more than two bond lengths below the surface), i.e. each surface
    atom gets the space an interior atom has; a cluster too small to have
    such an interior gets half the median nearest-neighbour distance. γ₀(r) is the
    orientation-averaged autocorrelation of that volume divided by V,
    computed on a voxel grid (``voxels`` along the longest dimension) by FFT
    (< 0.5 % of γ₀ from the exact sphere at the default 80).

    Parameters
    ----------
    xyz : array_like
        Atom positions (n, 3) in Å.
    r : array_like
        r values (Å) at which γ₀ is returned.
    dilation : float, optional
        Å added around the hull of the centres (≥ 0); default as above.
    voxels : int
        Grid resolution (≥ 16) of the autocorrelation.

    Returns
    -------
    density : float
        ρ₀ in atoms/Å³.
    gamma : numpy.ndarray
        γ₀(r): 1 at r = 0, 0 beyond the largest dimension.
    volume : float
        V in Å³.

    Notes
    -----
    For a convex cluster this is the usual finite-size model
    G_cluster(r) ≈ γ₀(r) G_bulk(r) (spherical particles: γ₀(r) = 1 − 3r/2D +
    r³/2D³). Hollow or strongly concave clusters are not convex hulls; pass
    ``density`` to :func:`model_pdf` for those.

    Examples
    --------
    A ball of radius 10 Å (points on its surface, no dilation): γ₀ of a sphere
    of diameter D = 20 Å is 1 − 3r/2D + r³/2D³.

    >>> import numpy as np
    >>> pts = 10 * _fibonacci_sphere(2000)
    >>> r = np.array([0.0, 5.0, 10.0, 15.0, 25.0])
    >>> rho, gamma, volume = cluster_shape_function(pts, r, dilation=0.0)
    >>> round(volume / (4 / 3 * np.pi * 1000), 3)
    0.997
    >>> exact = 1 - 1.5 * r / 20 + 0.5 * (r / 20) ** 3
    >>> bool(np.allclose(gamma, np.where(r < 20, exact, 0), atol=0.01))
    True
    """
    xyz = np.asarray(xyz, dtype=float)
    r = np.asarray(r, dtype=float)
    if int(voxels) < 16:
        raise ValueError(f"'voxels' must be >= 16; got {voxels!r}.")
    if len(xyz) < 2 and dilation is None:
        raise ValueError("A single atom has no nearest neighbour; pass 'dilation' (Å).")
    hull = _hull(xyz)
    if dilation is None:
        rng = np.random.default_rng(0)
        probe = xyz[rng.choice(len(xyz), size=min(len(xyz), 4000), replace=False)]
        nn = float(np.median(cKDTree(xyz).query(probe, k=2)[0][:, 1]))
        v_atom = None if hull is None else _interior_volume_per_atom(xyz, hull, 2 * nn)
        if v_atom is None:  # too small to have an interior: half a bond of space around it
            verts, volume, _ = _dilated_hull(xyz, hull, 0.5 * nn)
        else:  # the dilation that gives the interior's volume per atom
            target = len(xyz) * v_atom
            lo_d, hi_d, delta = 0.0, 3.0 * nn, 0.0
            verts, volume, area = _dilated_hull(xyz, hull, delta)
            for _ in range(40):  # safeguarded Newton on V(δ) = target; dV/dδ = area
                if abs(volume - target) <= 1e-4 * target:
                    break
                lo_d, hi_d = (delta, hi_d) if volume < target else (lo_d, delta)
                step = delta + (target - volume) / area
                delta = step if lo_d < step < hi_d else 0.5 * (lo_d + hi_d)
                verts, volume, area = _dilated_hull(xyz, hull, delta)
    else:
        dilation = float(dilation)
        if not (np.isfinite(dilation) and dilation >= 0):
            raise ValueError(f"'dilation' must be >= 0 Å; got {dilation!r}.")
        verts, volume, _ = _dilated_hull(xyz, hull, dilation)
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    h = float((hi - lo).max()) / int(voxels)
    shape = np.maximum(1, np.ceil((hi - lo) / h).astype(int))
    axes = [lo[i] + (np.arange(shape[i]) + 0.5) * h for i in range(3)]
    faces = np.unique(np.round(ConvexHull(verts).equations, 12), axis=0)
    # convex: every (x, y) column of voxels is inside over one z interval
    c = (axes[0][:, None, None] * faces[:, 0] + axes[1][None, :, None] * faces[:, 1]
         + faces[:, 3])
    nz = faces[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = -c / nz
    up, down, flat = nz > 1e-12, nz < -1e-12, np.abs(nz) <= 1e-12
    z_hi = np.min(np.where(up, bound, np.inf), axis=-1)
    z_lo = np.max(np.where(down, bound, -np.inf), axis=-1)
    open_col = np.all(np.where(flat, c <= 0, True), axis=-1)
    z = axes[2]
    inside = ((z[None, None, :] >= z_lo[..., None]) & (z[None, None, :] <= z_hi[..., None])
              & open_col[..., None]).astype(float)
    full = tuple(int(2 * n) for n in shape)
    spec = np.fft.rfftn(inside, s=full)
    auto = np.fft.irfftn(spec * spec.conj(), s=full)
    lags = [np.fft.fftfreq(n, 1.0 / n) * h for n in full]
    dist = np.sqrt(lags[0][:, None, None] ** 2 + lags[1][None, :, None] ** 2
                   + lags[2][None, None, :] ** 2).ravel()
    width = h / 2
    b = (dist / width).astype(np.intp)
    weight = np.bincount(b, weights=auto.ravel())
    number = np.bincount(b)
    sumd = np.bincount(b, weights=dist)
    ok = number > 0
    centres = sumd[ok] / number[ok]
    gam = np.clip(weight[ok] / number[ok] / auto.flat[0], 0.0, 1.0)
    gamma = np.interp(r, centres, gam, right=0.0)
    return len(xyz) / volume, gamma, volume


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
        ρ₀ in atoms/Å³: from the cell of a periodic model, the cluster's own
        (N / V of its dilated hull, :func:`cluster_shape_function`) for a
        finite one, or as passed.
    shape : numpy.ndarray
        Shape function γ₀(r) multiplying the density line −4πρ₀γ₀(r) r: ones
        for a periodic model.
    periodic : bool
        Whether the model had a lattice.

    Examples
    --------
    >>> import numpy as np
    >>> m = model_pdf((np.array([[0, 0, 0], [1.5, 0, 0], [0, 2.6, 0]]), ["Si", "O", "O"]),
    ...               r_max=4.0, dr=0.01)
    >>> list(m.partials), m.r.shape, m.periodic
    ([('Si', 'Si'), ('Si', 'O'), ('O', 'O')], (400,), False)
    >>> bool(np.allclose(sum(m.partials.values()), m.total)), round(sum(m.weights.values()), 6)
    (True, 1.0)
    >>> float(m.shape[0]), bool(m.shape[-1] < 0.1)   # γ₀: 1 at r → 0, small across the cluster
    (1.0, True)
    """

    r: np.ndarray
    total: np.ndarray
    partials: dict
    weights: dict
    density: float
    shape: np.ndarray = None
    periodic: bool = True

    def __post_init__(self):
        if self.shape is None:
            self.shape = np.ones_like(self.r)


def _is_default_cell(lattice):
    """diffpy's placeholder lattice (a = b = c = 1 Å, 90°) of files without a cell (xyz)."""
    try:
        par = np.array([lattice.a, lattice.b, lattice.c, lattice.alpha, lattice.beta,
                        lattice.gamma], dtype=float)
    except AttributeError:
        return False
    return bool(np.allclose(par, [1, 1, 1, 90, 90, 90]))


def model_pdf(structure, *, kind="electron", r_max=20.0, dr=0.01, sigma=0.05,
              table="lobato", density=None, max_pairs=None):
    """Total and partial G(r) of a structure model.

    Parameters
    ----------
    structure : diffpy.structure.Structure or (xyz, elements[, lattice])
        The model; a diffpy Structure gives Cartesian positions, elements
        and (periodic) lattice. A Structure with diffpy's placeholder 1 Å
        cubic cell (what diffpy gives for files without a cell, e.g. .xyz)
        and a tuple without a lattice are finite clusters.
    kind : {"electron", "xray"}
        Weights (see :func:`pair_weights`).
    r_max, dr : float
        r range and step in Å.
    sigma : float
        Gaussian broadening of every pair distance in Å (thermal/static).
    table : str
        Electron scattering-factor table.
    density : float, optional
        ρ₀ (atoms/Å³). Default: from the cell of a periodic model; for a
        cluster its own density with its shape function γ₀
        (:func:`cluster_shape_function`), so that
        G(r) = 4πr[ρ(r) − ρ₀γ₀(r)]. ``0`` gives a cluster's plain pair sum.
        A value passed for a cluster keeps γ₀ of its hull.
    max_pairs : int, optional
        Memory bound of the pair search (see :func:`pair_histograms`).

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

    A cluster cut from the same crystal has about the crystal's density:

    >>> n = np.arange(-3, 4)
    >>> cells = np.stack(np.meshgrid(n, n, n, indexing="ij"), -1).reshape(-1, 1, 3)
    >>> xyz = ((cells + basis[None] / a) * a).reshape(-1, 3)
    >>> ball = xyz[np.linalg.norm(xyz, axis=1) < 9.0]
    >>> c = model_pdf((ball, ["Ni"] * len(ball)), r_max=4.0, dr=0.005)
    >>> len(ball), round(c.density / (4 / a**3), 2)
    (321, 1.0)
    """
    if hasattr(structure, "lattice") and hasattr(structure, "xyz_cartn"):
        xyz = np.asarray(structure.xyz_cartn, dtype=float)
        elements = [_element(a.element) for a in structure]
        lattice = (None if _is_default_cell(structure.lattice)
                   else np.asarray(structure.lattice.base, dtype=float))
    else:
        try:
            xyz, elements, *rest = structure
        except (TypeError, ValueError):
            raise TypeError("'structure' must be a diffpy Structure or a tuple (xyz, elements"
                            f"[, lattice]); got {type(structure).__name__}.") from None
        elements = [_element(e) for e in elements]
        lattice = rest[0] if rest and rest[0] is not None else None
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"'sigma' must be >= 0 Å; got {sigma}.")
    if density is not None and not (np.isfinite(density) and density >= 0):
        raise ValueError(f"'density' must be >= 0 atoms/Å³; got {density!r}.")
    r, hist, species = pair_histograms(xyz, elements, lattice=lattice, r_max=r_max + 5 * sigma,
                                       dr=dr, max_pairs=max_pairs)
    counts = {e: elements.count(e) for e in species}
    n = len(elements)
    fractions = {e: counts[e] / n for e in species}
    w = pair_weights(fractions, kind, table)
    gamma = np.ones_like(r)
    if lattice is None:
        if n < 2:
            raise ValueError(f"A cluster needs at least 2 atoms for a PDF; got {n}.")
        if density is None or density > 0:
            own, gamma, _ = cluster_shape_function(np.asarray(xyz, dtype=float), r)
            density = own if density is None else density
    elif density is None:
        density = n / abs(np.linalg.det(np.asarray(lattice, dtype=float)))
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
            g = f[a] * f[b] / mean**2 * h / (r * dr) - wab * 4 * np.pi * density * gamma * r
            partials[(a, b)] = g[keep]
            weights[(a, b)] = wab
    total = np.sum(list(partials.values()), axis=0)
    return ModelPDF(r[keep], total, partials, weights, float(density), gamma[keep],
                    lattice is not None)


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
        (the density line −4πρ₀γ₀(r) r removed), largest first; fractions sum to 1.

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
            shell = g + model.weights[pair] * 4 * np.pi * model.density * model.shape * model.r
            areas[pair] = float(np.clip(shell[sel], 0, None).sum())
        total = sum(areas.values()) or 1.0
        out.append(dict(sorted(((k, v / total) for k, v in areas.items()),
                               key=lambda kv: -kv[1])))
    return out
