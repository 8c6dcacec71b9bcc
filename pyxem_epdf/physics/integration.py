"""Azimuthal integration: pixel → s-bin weights by exact pixel footprints.

Every detector pixel (or each of its ``subpixel × subpixel`` sub-squares) is
spread over the s bins its radial footprint covers. In the corrected frame
u = A·(p − c) (pattern centre c, optional affine distortion matrix A for an
elliptical pattern, :func:`pyxem_epdf.physics.geometry.ellipse_matrix`) the
sub-square is a parallelogram; its extent along the radial direction û is the
sum of two uniform widths ``a = |û·A e_x dx|/k`` and ``b = |û·A e_y dy|/k``, so the
fraction of it below radius R is the closed-form CDF of a trapezoid (the ring
is taken as straight across one sub-square; the error shrinks as k²). The
weights of a pixel sum to 1 (0 outside the outer edge), so a flat image
gives a flat profile exactly and the valid area of a bin is the annulus area.

Two ways to apply the weights, both in one pass over the frames:

* **fixed centre**: a precomputed sparse matrix M (n_pixels × n_bins, SciPy
  CSR) and a compiled gather that skips zero pixels (:func:`integrate`);
* **a centre per pattern** (descan): the weights are computed in the compiled
  kernel for the pattern's own centre, for its *non-zero* pixels only (at low
  dose most pixels are zero) and only within reach of the outer edge. No
  operator per centre, no resampling of frames. With uniform bins and
  ``subpixel=1`` a footprint covers at most S bins (S = 3 for bins of
  ≥ 0.707 px: one bin per pixel, with or without distortion; up to
  ``SPAN_MAX``) and its weights are S − 1 CDF values, added without branches
  (:func:`_gather_few`; the kernel alone at 0.76–1.1 of the fixed-centre
  gather's rate on the route's composite, ``azimuthal_profile`` with
  ``beam_shift`` at 0.8–1.1 of the same call without it, eager and lazy, 1 × 1
  and 2 × 2: benchmarks/README.md); with ``subpixel > 1`` each sub-square
  covers at most S bins the same way and a pixel's weights are summed before
  they are applied (:func:`_gather_sub`); bins finer than ``SPAN_MAX`` per
  footprint and non-uniform bins run the general code. The sparse operator is
  then never built (only its geometry is used).
  The valid area per bin n(c) of each pattern is

  .. math:: n_b(c) = F_b(\\{c\\}) - \\sum_{p\\ \\mathrm{invalid}} w_{pb}(c),

  F_b the total weight of bin b over the infinite pixel lattice (periodic in
  the centre's fractional pixel position; tabulated on a 2 × 2 grid of
  offsets and interpolated, on a 16 × 16 grid for the bins within 12 px of the
  centre, where it varies fastest, and summed exactly per pattern within
  1.5 px), minus the exact weights of the masked pixels and of the lattice
  points outside the detector within reach. Against the operator built for
  each centre: < 1e-3 relative for bins of ≥ 0.5 px (measured 3e-4 at one bin
  per pixel, 7e-4 at two), ~2e-3 for quarter-pixel bins within 2 px.

Both give the mean counts per valid pixel ``(X M) / n`` and its Poisson
variance ``(X M∘M) / n²`` (Var of a count = its mean, estimated by the count).
Non-finite pixels are left out of that pattern (its n is reduced by their
weights) and counted; negative values raise unless ``allow_negative=True``.
Bins without any valid pixel are filled by linear interpolation from the
nearest valid bins (:func:`fill_empty_bins`).
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

__all__ = ["Integrated", "MIN_BLOCK_PATTERNS", "RadialOperator", "fill_empty_bins", "integrate",
           "merged_blocks", "radial_operator", "valid_area"]

#: Grid of fractional centre offsets on which the lattice total F_b is tabulated
#: (2: errors ≤ 7e-4 as with 4 or 8, at a third of the set-up time; measured).
TABLE_GRID = 2
#: Finer grid for the bins below INNER_RADIUS pixels, where F_b varies fastest.
TABLE_GRID_INNER = 16
INNER_RADIUS = 12.0
#: Bins below this radius (pixels) get their valid area summed exactly per pattern.
EXACT_RADIUS = 1.5
#: Most bins a pixel footprint may cover for the per-pattern few-bin kernel
#: (8: bins down to ~1/5 of a pixel, or of a sub-square with ``subpixel > 1``); finer bins use
#: the general code.
SPAN_MAX = 8


@dataclass(frozen=True)
class RadialOperator:
    """Precomputed azimuthal-integration operator and the detector geometry.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Shape (n_pixels, n_bins): area fraction of each pixel in each bin for
        the operator's centre. Built on first access (and kept): integration
        with a centre per pattern uses only the geometry and never builds it.
    n_valid : numpy.ndarray
        Valid area (pixels) per bin for that centre (column sums), shape (n_bins,).
    edges : numpy.ndarray
        Bin edges in s (Å⁻¹), shape (n_bins + 1,).
    detector_shape : tuple of int
    kx, ky : numpy.ndarray
        Pixel-centre coordinates (Å⁻¹) along columns and rows.
    center : tuple of float
        (kx0, ky0) of the matrix's pattern centre (Å⁻¹).
    distortion : numpy.ndarray
        The 2 × 2 matrix A of u = A·(p − c).
    subpixel : int
    mask : numpy.ndarray of bool or None

    Examples
    --------
    >>> k = np.arange(-8, 8) + 0.5   # pixel centres of a 16 × 16 detector
    >>> op = radial_operator(k, k, edges=np.arange(0, 9, 1.0))
    >>> op.matrix.shape, op.detector_shape, op.centres[:3].tolist()
    ((256, 8), (16, 16), [0.5, 1.5, 2.5])
    >>> round(float(op.n_valid.sum()), 1), round(np.pi * 8**2, 1)   # area of the disc
    (201.3, 201.1)
    """

    edges: np.ndarray
    detector_shape: tuple
    kx: np.ndarray
    ky: np.ndarray
    center: tuple
    distortion: np.ndarray
    subpixel: int
    mask: object = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def matrix(self):
        """The sparse pixel → bin matrix (built on first access, ~4 ms at 128², ~15 ms
        at 256², and kept)."""
        if "matrix" not in self._cache:
            _build_matrix(self)
        return self._cache["matrix"]

    @property
    def n_valid(self):
        """Valid area (pixels) per bin for the operator's centre (column sums)."""
        if "n_valid" not in self._cache:
            _build_matrix(self)
        return self._cache["n_valid"]

    @property
    def centres(self):
        """Bin centres in Å⁻¹."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def matrix_sq(self):
        """Element-wise square of ``matrix`` (for the variance)."""
        return self.matrix.multiply(self.matrix).tocsr()


class Integrated(NamedTuple):
    """Result of :func:`integrate`.

    Attributes
    ----------
    mean, variance : numpy.ndarray or dask.array.Array
        Mean counts per valid pixel and its Poisson variance, shape (..., n_bins).
    n_valid : numpy.ndarray
        Valid area (pixels) per bin: (n_bins,) for a fixed centre, the mean
        over patterns with per-pattern centres.
    nonfinite : numpy.ndarray or dask.array.Array
        Number of non-finite pixels left out of each pattern, shape (...).
    n_valid_min : numpy.ndarray
        Smallest valid area of each bin over the patterns (n_bins,).

    Examples
    --------
    >>> k = np.arange(-8, 8) + 0.5
    >>> res = integrate(np.full((2, 3, 16, 16), 2.0), radial_operator(k, k, [0.0, 4.0, 8.0]))
    >>> res.mean.shape, res.nonfinite.tolist(), bool(np.allclose(res.mean, 2.0))
    ((2, 3, 2), [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], True)
    """

    mean: object
    variance: object
    n_valid: np.ndarray
    nonfinite: object
    n_valid_min: np.ndarray


# --------------------------------------------------------------------------- kernels


def _bin_of(x, edges, e0, inv_w, uniform, nb):  # pragma: no cover - compiled
    if uniform:
        j = int(math.floor((x - e0) * inv_w))
    else:
        j = np.searchsorted(edges, x, side="right") - 1
    if j < 0:
        return 0
    if j > nb - 1:
        return nb - 1
    return j


def _spread(px, py, cx, cy, a00, a01, a10, a11, dx, dy, k, edges, e0, inv_w, uniform,
            scratch, touched, ws, js):  # pragma: no cover - compiled
    """Add the bin weights of the pixel centred at (px, py) to ``scratch``.

    Returns the number of bins touched (their indices in ``touched[:n]``).
    """
    v1x, v1y = a00 * dx / k, a10 * dx / k
    v2x, v2y = a01 * dy / k, a11 * dy / k
    qx, qy = px - cx, py - cy
    ux0 = a00 * qx + a01 * qy
    uy0 = a10 * qx + a11 * qy
    wk = 1.0 / (k * k)
    nt = 0
    for i in range(k):
        fi = (i + 0.5) - 0.5 * k  # sub-square offset along y, in sub-squares
        for j in range(k):
            fj = (j + 0.5) - 0.5 * k
            n = _footprint(ux0 + fj * v1x + fi * v2x, uy0 + fj * v1y + fi * v2y, v1x, v1y,
                           v2x, v2y, edges, e0, inv_w, uniform, ws, js)
            for q in range(n):
                jb = js[q]
                if scratch[jb] == 0:
                    touched[nt] = jb
                    nt += 1
                scratch[jb] += ws[q] * wk
    return nt


def _operator_entries(ny, nx, x0, dx, y0, dy, cx, cy, a00, a01, a10, a11, k, edges, e0,
                      inv_w, uniform, valid, rows, cols, vals, count_only):  # pragma: no cover
    """COO entries of the operator (or only their number)."""
    nb = edges.size - 1
    scratch = np.zeros(nb)
    touched = np.zeros(nb, np.int64)
    ws = np.zeros(nb + 2)
    js = np.zeros(nb + 2, np.int64)
    n = 0
    for i in range(ny):
        py = y0 + i * dy
        for j in range(nx):
            p = i * nx + j
            if not valid[p]:
                continue
            nt = _spread(x0 + j * dx, py, cx, cy, a00, a01, a10, a11, dx, dy, k, edges, e0,
                         inv_w, uniform, scratch, touched, ws, js)
            for t in range(nt):
                jb = touched[t]
                if not count_only:
                    rows[n] = p
                    cols[n] = jb
                    vals[n] = scratch[jb]
                scratch[jb] = 0.0
                n += 1
    return n


def _gather(flat, indptr, indices, weights, out):  # pragma: no cover - compiled
    """Fixed centre: out[f] = [Σ w X, Σ w² X, Σ w (non-finite), n_nonfinite, n_negative]."""
    nb = (out.shape[1] - 2) // 3
    for f in range(flat.shape[0]):
        row = flat[f]
        for p in range(row.shape[0]):
            value = row[p]
            if value == 0:  # low-dose frames are mostly zeros
                continue
            start, stop = indptr[p], indptr[p + 1]
            if start == stop:
                continue
            if value - value != 0:  # NaN or inf (always 0 for integers)
                out[f, 3 * nb] += 1
                for q in range(start, stop):
                    out[f, 2 * nb + indices[q]] += weights[q]
                continue
            if value < 0:
                out[f, 3 * nb + 1] += 1
            for q in range(start, stop):
                b = indices[q]
                w = weights[q]
                out[f, b] += w * value
                out[f, nb + b] += w * w * value


def _footprint(ux, uy, v1x, v1y, v2x, v2y, edges, e0, inv_w, uniform, ws, js):
    # pragma: no cover - compiled
    """Bin weights of one (sub-)square at corrected position u with sides v1, v2.

    The radial extent of the square is the sum of two uniform widths a, b; the
    fraction below t (relative to the centre) is the trapezoid CDF
    ``[P(t + h) − P(t + g) − P(t − g) + P(t − h)] / (2ab)``, P(x) = max(x, 0)²,
    h = (a + b)/2, ``g = |a − b|/2`` (b is kept ≥ 1e-6 a). Writes the weights and bin
    indices into ``ws``/``js``; returns how many.
    """
    nb = edges.size - 1
    r = math.sqrt(ux * ux + uy * uy)
    if r > 0:
        inv = 1.0 / r
        a = abs(ux * v1x + uy * v1y) * inv
        b = abs(ux * v2x + uy * v2y) * inv
    else:
        a = math.sqrt(v1x * v1x + v1y * v1y)
        b = math.sqrt(v2x * v2x + v2y * v2y)
    m = max(a, b)
    b = max(min(a, b), 1e-6 * m)
    a = m
    h = 0.5 * (a + b)
    lo = r - h
    hi = r + h
    if hi <= e0 or lo >= edges[nb]:
        return 0
    j0 = _bin_of(lo, edges, e0, inv_w, uniform, nb)
    j1 = _bin_of(hi, edges, e0, inv_w, uniform, nb)
    if j0 == j1 and lo >= edges[j0] and hi <= edges[j0 + 1]:
        ws[0] = 1.0
        js[0] = j0
        return 1
    g = 0.5 * (a - b)
    inv_2ab = 0.5 / (a * b)
    n = 0
    below = 0.0  # CDF at edges[j0]: 0 unless the footprint starts below e0
    if lo < edges[j0]:
        t = edges[j0] - r
        p1, p2, p3, p4 = max(t + h, 0.0), max(t + g, 0.0), max(t - g, 0.0), max(t - h, 0.0)
        below = (p1 * p1 - p2 * p2 - p3 * p3 + p4 * p4) * inv_2ab
    for jb in range(j0, j1 + 1):
        t = edges[jb + 1] - r
        if t >= h:
            above = 1.0
        else:
            p1, p2, p3 = max(t + h, 0.0), max(t + g, 0.0), max(t - g, 0.0)
            above = (p1 * p1 - p2 * p2 - p3 * p3) * inv_2ab
        w = above - below
        below = above
        if w > 0:
            ws[n] = w
            js[n] = jb
            n += 1
    return n


def _gather_few(flat, nx, x0, dx, y0, dy, centres, a00, a01, a10, a11, e0, inv_w, valid,
                  reach, epad, nb, inner, out):  # pragma: no cover - compiled
    """:func:`_gather_shifted` for at most S = len(inner) + 1 bins per footprint.

    ``inner`` = (1, …, S − 1), the offsets of the footprint's inner edges from the
    padded index of its first bin: a tuple, so that its length is part of the
    argument types and each S (3: bins ≥ h_max wide, one bin per pixel; 4: one bin
    per pixel with a distortion matrix or the default grid slightly finer than a
    pixel; up to SPAN_MAX) is compiled on its own with the loop over the edges
    unrolled (a span chosen at run time inside the loop cost 12–40 %, measured).
    """
    v1x, v1y = a00 * dx, a10 * dx
    v2x, v2y = a01 * dy, a11 * dy
    edges = epad[2:nb + 3]
    ws = np.zeros(nb + 2)
    js = np.zeros(nb + 2, np.int64)
    e_last = epad[nb + 2]
    ny = flat.shape[1] // nx
    o2 = nb + 3 + len(inner)
    acc = np.zeros(2 * o2)
    qxs = np.empty(nx)
    # pixels on the centre (r = 0), spread at the end of the frame: at most one per row
    # (|A q| = 0 needs q = 0 up to underflow, and q_x changes by dx along a row)
    cen_i = np.empty(ny + 1, np.int64)
    cen_j = np.empty(ny + 1, np.int64)
    wts = np.empty(len(inner) + 1)
    adx, ady = abs(dx), abs(dy)
    # no distortion: u = q and |û·v1| r = |q_x| |dx| exactly as the general products give
    # them (a loop-invariant test; the compiler keeps the two loops apart)
    plain = (a00 == 1.0) & (a01 == 0.0) & (a10 == 0.0) & (a11 == 1.0)
    for f in range(flat.shape[0]):
        row = flat[f]
        cx, cy = centres[f, 0], centres[f, 1]
        for q in range(2 * o2):
            acc[q] = 0.0
        n_cen = 0
        for j in range(nx):  # p − c of each column, rounded as the operator rounds it
            qxs[j] = x0 + j * dx - cx
        # the rows, and in each row the columns, within reach of the centre
        ti = (cy - y0) / dy
        rows_half = reach / ady
        i_lo = max(int(math.floor(ti - rows_half)) - 1, 0)
        i_hi = min(int(math.ceil(ti + rows_half)) + 2, ny)
        tj = (cx - x0) / dx
        for i in range(i_lo, i_hi):
            qy = y0 + i * dy - cy
            half2 = reach * reach - qy * qy
            if half2 < 0:
                continue
            half = math.sqrt(half2) / adx
            j_lo = max(int(math.floor(tj - half)) - 1, 0)
            j_hi = min(int(math.ceil(tj + half)) + 2, nx)
            bx = a01 * qy
            by = a11 * qy
            base = i * nx
            # slices of the row: indices from 0 that numba knows are not negative (no
            # wrap-around test per pixel; measured 10–15 % of the kernel)
            seg = row[base + j_lo:base + j_hi]
            vseg = valid[base + j_lo:base + j_hi]
            qseg = qxs[j_lo:j_hi]
            for jj in range(seg.shape[0]):
                value = seg[jj]
                if (value == 0) | (vseg[jj] == 0):  # one branch
                    continue
                qx = qseg[jj]  # (a pixel on the centre gets r = 0 here and in the operator,
                # not a rounding residue whose direction would set its footprint's widths)
                if plain:
                    ux = qx
                    uy = qy
                    r2 = ux * ux + uy * uy
                    r = math.sqrt(r2)
                    pa = abs(ux) * adx
                    pb = abs(uy) * ady
                else:
                    ux = a00 * qx + bx
                    uy = a10 * qx + by
                    r2 = ux * ux + uy * uy
                    r = math.sqrt(r2)
                    pa = abs(ux * v1x + uy * v1y)
                    pb = abs(ux * v2x + uy * v2y)
                if r > 0:
                    m = max(pa, pb)
                    n = max(min(pa, pb), 1e-6 * m)
                    mn = m * n
                    d = 1.0 / (r2 * mn)  # from r², so that it runs beside the square root
                    inv = r * mn * d  # 1/r
                    h = 0.5 * (m + n) * inv
                    g = 0.5 * (m - n) * inv
                    inv_2ab = 0.5 * r2 * (r2 * d)  # r²/(2 m n) = 1/(2ab)
                else:  # on the centre: a footprint up to (|v1| + |v2|)/2 wide, which
                    # may exceed the span (h_max in _shifted_geometry leaves r = 0 out);
                    # spread by _footprint at the end of the frame (out of the hot loop)
                    cen_j[n_cen] = j_lo + jj
                    cen_i[n_cen] = i
                    n_cen += 1
                    continue
                lo = r - h
                if (r + h <= e0) | (lo >= e_last):
                    continue
                # padded index of j0 (clamped: only a rounding-level overhang of the
                # footprint beyond the padding could move it further)
                kb = min(max(int(math.floor((lo - e0) * inv_w)) + 2, 0), nb + 1)
                below = 0.0
                for o in inner:  # the CDF at the inner edges: S − 1 selects, no branch
                    t = epad[kb + o] - r
                    p1 = t + h
                    p2 = max(t + g, 0.0)
                    p3 = max(t - g, 0.0)
                    c = (p1 * p1 - p2 * p2 - p3 * p3) * inv_2ab
                    c = 1.0 if t >= h else c  # computed first: a select, not a branch
                    wts[o - 1] = c - below
                    below = c
                wts[len(inner)] = 1.0 - below
                if value - value != 0:  # NaN or inf: its weights leave n
                    out[f, 3 * nb] += 1
                    for q in range(len(inner) + 1):
                        if 0 <= kb + q - 2 < nb:
                            out[f, 2 * nb + kb + q - 2] += wts[q]
                    continue
                if value < 0:
                    out[f, 3 * nb + 1] += 1
                v = float(value)
                for q in range(len(inner) + 1):  # a constant count: unrolled
                    wv = wts[q] * v
                    acc[kb + q] += wv
                    acc[o2 + kb + q] += wts[q] * wv
        for q_ in range(n_cen):
            i = cen_i[q_]
            jx = cen_j[q_]
            value = row[i * nx + jx]
            qy = y0 + i * dy - cy
            qx = qxs[jx]
            ux = a00 * qx + a01 * qy
            uy = a10 * qx + a11 * qy
            nt = _footprint(ux, uy, v1x, v1y, v2x, v2y, edges, e0, inv_w, True, ws, js)
            if value - value != 0:
                out[f, 3 * nb] += 1
                for q in range(nt):
                    out[f, 2 * nb + js[q]] += ws[q]
                continue
            if value < 0:
                out[f, 3 * nb + 1] += 1
            v = float(value)
            for q in range(nt):
                wv = ws[q] * v
                acc[js[q] + 2] += wv
                acc[o2 + js[q] + 2] += ws[q] * wv
        for b in range(nb):
            out[f, b] += acc[b + 2]
            out[f, nb + b] += acc[o2 + b + 2]


def _gather_sub(flat, nx, x0, dx, y0, dy, centres, a00, a01, a10, a11, k, e0, inv_w, valid,
                reach, epad, nb, inner, win, edges_real, out):  # pragma: no cover - compiled
    """:func:`_gather_shifted` for ``subpixel`` k > 1 with uniform bins: each of the k × k
    sub-squares covers at most S = len(inner) + 1 bins (2 h_span / k ≤ (S − 1) w), its
    S − 1 CDF values are computed as in :func:`_gather_few`, and the pixel's weights
    W_b = Σ w_sub / k² are summed in a local window of ``win`` + S + 1 bins from the
    pixel's lowest reach r − h_span (one bin of margin) before W X and W² X are added,
    as the operator adds its entries. A pixel with a sub-square on the centre (r = 0) or
    one outside the window (rounding) goes through :func:`_spread` instead.
    """
    v1x, v1y = a00 * dx / k, a10 * dx / k
    v2x, v2y = a01 * dy / k, a11 * dy / k
    ws = np.zeros(nb + 2)
    js = np.zeros(nb + 2, np.int64)
    scratch = np.zeros(nb)
    touched = np.zeros(nb, np.int64)
    e_last = epad[nb + 2]
    ny = flat.shape[1] // nx
    S = len(inner) + 1
    L = win + S + 1
    o2 = nb + 3 + L
    acc = np.zeros(2 * o2)
    qxs = np.empty(nx)
    loc = np.zeros(L)
    wts = np.empty(S)
    adx, ady = abs(dx), abs(dy)
    wk = 1.0 / (k * k)
    # the whole pixel's largest off-centre half-width, for the window's start
    hs = 0.5 * max(math.sqrt((k * (v1x + v2x)) ** 2 + (k * (v1y + v2y)) ** 2),
                   math.sqrt((k * (v1x - v2x)) ** 2 + (k * (v1y - v2y)) ** 2)) * (1 + 2e-6)
    for f in range(flat.shape[0]):
        row = flat[f]
        cx, cy = centres[f, 0], centres[f, 1]
        for q in range(2 * o2):
            acc[q] = 0.0
        for j in range(nx):
            qxs[j] = x0 + j * dx - cx
        ti = (cy - y0) / dy
        rows_half = reach / ady
        i_lo = max(int(math.floor(ti - rows_half)) - 1, 0)
        i_hi = min(int(math.ceil(ti + rows_half)) + 2, ny)
        tj = (cx - x0) / dx
        for i in range(i_lo, i_hi):
            qy = y0 + i * dy - cy
            half2 = reach * reach - qy * qy
            if half2 < 0:
                continue
            half = math.sqrt(half2) / adx
            j_lo = max(int(math.floor(tj - half)) - 1, 0)
            j_hi = min(int(math.ceil(tj + half)) + 2, nx)
            base = i * nx
            seg = row[base + j_lo:base + j_hi]
            vseg = valid[base + j_lo:base + j_hi]
            qseg = qxs[j_lo:j_hi]
            for jj in range(seg.shape[0]):
                value = seg[jj]
                if (value == 0) | (vseg[jj] == 0):
                    continue
                qx = qseg[jj]
                ux0 = a00 * qx + a01 * qy
                uy0 = a10 * qx + a11 * qy
                rp = math.sqrt(ux0 * ux0 + uy0 * uy0)
                if rp - hs >= e_last:
                    continue
                kp = min(max(int(math.floor((rp - hs - e0) * inv_w)) + 1, 0), nb + 1)
                for q in range(L):
                    loc[q] = 0.0
                general = False
                reached = False  # some sub-square reaches a bin (else, as the operator's
                # empty row, the pixel is not counted, not even when non-finite)
                for si in range(k):
                    fi = (si + 0.5) - 0.5 * k
                    for sj in range(k):
                        fj = (sj + 0.5) - 0.5 * k
                        ux = ux0 + fj * v1x + fi * v2x
                        uy = uy0 + fj * v1y + fi * v2y
                        r2 = ux * ux + uy * uy
                        r = math.sqrt(r2)
                        pa = abs(ux * v1x + uy * v1y)
                        pb = abs(ux * v2x + uy * v2y)
                        if not r > 0:
                            general = True
                            continue
                        m = max(pa, pb)
                        n = max(min(pa, pb), 1e-6 * m)
                        mn = m * n
                        d = 1.0 / (r2 * mn)
                        inv = r * mn * d
                        h = 0.5 * (m + n) * inv
                        g = 0.5 * (m - n) * inv
                        inv_2ab = 0.5 * r2 * (r2 * d)
                        lo = r - h
                        if (r + h <= e0) | (lo >= e_last):
                            continue
                        reached = True
                        kb = min(max(int(math.floor((lo - e0) * inv_w)) + 2, 0), nb + 1)
                        off = kb - kp
                        if (off < 0) | (off + S > L):
                            general = True
                            continue
                        below = 0.0
                        for o in inner:
                            t = epad[kb + o] - r
                            p1 = t + h
                            p2 = max(t + g, 0.0)
                            p3 = max(t - g, 0.0)
                            c = (p1 * p1 - p2 * p2 - p3 * p3) * inv_2ab
                            c = 1.0 if t >= h else c
                            wts[o - 1] = c - below
                            below = c
                        wts[S - 1] = 1.0 - below
                        for q in range(S):
                            loc[off + q] += wts[q] * wk
                if general:  # a sub-square on the centre: the pixel by the general code
                    nt = _spread(x0 + (j_lo + jj) * dx, y0 + i * dy, cx, cy, a00, a01, a10, a11,
                                 dx, dy, k, edges_real, e0, inv_w, True, scratch, touched, ws, js)
                    if nt == 0:
                        continue
                    # bins jb → padded jb + 2, straight into the accumulator
                    if value - value != 0:
                        out[f, 3 * nb] += 1
                        for t_ in range(nt):
                            jb = touched[t_]
                            out[f, 2 * nb + jb] += scratch[jb]
                            scratch[jb] = 0.0
                        continue
                    if value < 0:
                        out[f, 3 * nb + 1] += 1
                    v = float(value)
                    for t_ in range(nt):
                        jb = touched[t_]
                        w = scratch[jb]
                        acc[jb + 2] += w * v
                        acc[o2 + jb + 2] += w * w * v
                        scratch[jb] = 0.0
                    continue
                if not reached:
                    continue
                if value - value != 0:
                    out[f, 3 * nb] += 1
                    for q in range(L):
                        if 0 <= kp + q - 2 < nb:
                            out[f, 2 * nb + kp + q - 2] += loc[q]
                    continue
                if value < 0:
                    out[f, 3 * nb + 1] += 1
                v = float(value)
                for q in range(L):
                    wv = loc[q] * v
                    acc[kp + q] += wv
                    acc[o2 + kp + q] += loc[q] * wv
        for b in range(nb):
            out[f, b] += acc[b + 2]
            out[f, nb + b] += acc[o2 + b + 2]


def _gather_shifted(flat, nx, x0, dx, y0, dy, centres, a00, a01, a10, a11, k, edges, e0,
                    inv_w, uniform, valid, reach, out):  # pragma: no cover - compiled
    """A centre per frame: the weights of each non-zero pixel for the frame's centre
    (the general footprint code: sub-pixels, non-uniform or very fine bins).

    Only the pixels within ``reach`` (Å⁻¹, detector frame) of the frame's centre
    are read: beyond it |A(p − c)| − h ≥ the outer edge, no weight. With one
    sub-square and uniform bins of width w, 2 h_max ≤ (S − 1) w, S ≤ SPAN_MAX
    (h_max the largest footprint half-width), :func:`_gather_few` runs instead:
    a footprint covers at most S bins j0…, j0 = ⌊(r − h − e0)/w⌋, whose weights
    are differences of the trapezoid CDF at the S − 1 inner edges, added without
    branches into an accumulator padded by two bins below and S above (``epad``:
    the edges extended by two bins below and SPAN_MAX above), whose padding takes
    the parts below the first and above the last edge, which are not counted, as
    in :func:`_footprint`.
    """
    nb = edges.size - 1
    scratch = np.zeros(nb)
    touched = np.zeros(nb, np.int64)
    ws = np.zeros(nb + 2)
    js = np.zeros(nb + 2, np.int64)
    v1x, v1y = a00 * dx, a10 * dx
    v2x, v2y = a01 * dy, a11 * dy
    e_last = edges[nb]
    ny = flat.shape[1] // nx
    adx, ady = abs(dx), abs(dy)
    for f in range(flat.shape[0]):
        row = flat[f]
        cx, cy = centres[f, 0], centres[f, 1]
        # the rows, and in each row the columns, within reach of the centre
        ti = (cy - y0) / dy
        rows_half = reach / ady
        i_lo = max(int(math.floor(ti - rows_half)) - 1, 0)
        i_hi = min(int(math.ceil(ti + rows_half)) + 2, ny)
        tj = (cx - x0) / dx
        for i in range(i_lo, i_hi):
            qy = y0 + i * dy - cy
            half2 = reach * reach - qy * qy
            if half2 < 0:
                continue
            half = math.sqrt(half2) / adx
            j_lo = max(int(math.floor(tj - half)) - 1, 0)
            j_hi = min(int(math.ceil(tj + half)) + 2, nx)
            bx = a01 * qy
            by = a11 * qy
            seg = row[i * nx + j_lo:i * nx + j_hi]  # slices: no wrap-around test per pixel
            vseg = valid[i * nx + j_lo:i * nx + j_hi]
            for jj in range(seg.shape[0]):
                value = seg[jj]
                if (value == 0) | (vseg[jj] == 0):
                    continue
                j = j_lo + jj
                if k == 1 and uniform:
                    # one footprint per pixel (its bins are distinct), written out in
                    # place: the same arithmetic as _footprint, without the call and the
                    # intermediate arrays (~2x faster)
                    qx = x0 + j * dx - cx
                    ux = a00 * qx + bx
                    uy = a10 * qx + by
                    r = math.sqrt(ux * ux + uy * uy)
                    if r > 0:
                        inv = 1.0 / r
                        a = abs(ux * v1x + uy * v1y) * inv
                        b = abs(ux * v2x + uy * v2y) * inv
                    else:
                        a = math.sqrt(v1x * v1x + v1y * v1y)
                        b = math.sqrt(v2x * v2x + v2y * v2y)
                    if b > a:
                        a, b = b, a
                    if b < 1e-6 * a:
                        b = 1e-6 * a
                    h = 0.5 * (a + b)
                    lo = r - h
                    hi = r + h
                    if hi <= e0 or lo >= e_last:
                        continue
                    j0 = int(math.floor((lo - e0) * inv_w))
                    j1 = int(math.floor((hi - e0) * inv_w))
                    if j0 < 0:
                        j0 = 0
                    if j1 > nb - 1:
                        j1 = nb - 1
                    finite = value - value == 0
                    if not finite:
                        out[f, 3 * nb] += 1
                    elif value < 0:
                        out[f, 3 * nb + 1] += 1
                    if j0 == j1 and lo >= edges[j0] and hi <= edges[j0 + 1]:
                        if finite:
                            out[f, j0] += value
                            out[f, nb + j0] += value
                        else:
                            out[f, 2 * nb + j0] += 1.0
                        continue
                    g = 0.5 * (a - b)
                    inv_2ab = 0.5 / (a * b)
                    below = 0.0  # CDF at edges[j0]: 0 unless the footprint starts below e0
                    if lo < edges[j0]:
                        t = edges[j0] - r
                        p1 = max(t + h, 0.0)
                        p2 = max(t + g, 0.0)
                        p3 = max(t - g, 0.0)
                        p4 = max(t - h, 0.0)
                        below = (p1 * p1 - p2 * p2 - p3 * p3 + p4 * p4) * inv_2ab
                    for jb in range(j0, j1 + 1):
                        t = edges[jb + 1] - r
                        if t >= h:
                            above = 1.0
                        else:
                            p1 = max(t + h, 0.0)
                            p2 = max(t + g, 0.0)
                            p3 = max(t - g, 0.0)
                            above = (p1 * p1 - p2 * p2 - p3 * p3) * inv_2ab
                        w = above - below
                        below = above
                        if finite:
                            out[f, jb] += w * value
                            out[f, nb + jb] += w * w * value
                        else:
                            out[f, 2 * nb + jb] += w
                    continue
                nt = _spread(x0 + j * dx, y0 + i * dy, cx, cy, a00, a01, a10, a11, dx, dy,
                             k, edges, e0, inv_w, uniform, scratch, touched, ws, js)
                if nt == 0:
                    continue
                if value - value != 0:
                    out[f, 3 * nb] += 1
                    for t in range(nt):
                        jb = touched[t]
                        out[f, 2 * nb + jb] += scratch[jb]
                        scratch[jb] = 0.0
                    continue
                if value < 0:
                    out[f, 3 * nb + 1] += 1
                for t in range(nt):
                    jb = touched[t]
                    w = scratch[jb]
                    out[f, jb] += w * value
                    out[f, nb + jb] += w * w * value
                    scratch[jb] = 0.0


def _lattice_table(grid, x0, dx, y0, dy, jx, jy, a00, a01, a10, a11, k, edges, e0, inv_w,
                   uniform, table):  # pragma: no cover - compiled
    """F_b on a grid × grid of fractional centre offsets: total weight over the lattice."""
    nb = edges.size - 1
    scratch = np.zeros(nb)
    touched = np.zeros(nb, np.int64)
    ws = np.zeros(nb + 2)
    js = np.zeros(nb + 2, np.int64)
    for gy in range(grid):
        cy = y0 + gy * dy / grid
        for gx in range(grid):
            cx = x0 + gx * dx / grid
            for i in range(-jy, jy + 1):
                for j in range(-jx, jx + 1):
                    if (i * i) / (jy * jy) + (j * j) / (jx * jx) > 1.0:
                        continue
                    if k == 1:
                        qx, qy = x0 + j * dx - cx, y0 + i * dy - cy
                        nt = _footprint(a00 * qx + a01 * qy, a10 * qx + a11 * qy, a00 * dx,
                                        a10 * dx, a01 * dy, a11 * dy, edges, e0, inv_w, uniform,
                                        ws, js)
                        for t in range(nt):
                            table[gy, gx, js[t]] += ws[t]
                        continue
                    nt = _spread(x0 + j * dx, y0 + i * dy, cx, cy, a00, a01, a10, a11, dx, dy,
                                 k, edges, e0, inv_w, uniform, scratch, touched, ws, js)
                    for t in range(nt):
                        jb = touched[t]
                        table[gy, gx, jb] += scratch[jb]
                        scratch[jb] = 0.0


def _interp_periodic(table, tx, ty, b0, b1, sign, out_row):  # pragma: no cover - compiled
    """out_row[b0:b1] += sign × table bilinearly interpolated at the fractional (tx, ty)."""
    grid = table.shape[0]
    gx = (tx - math.floor(tx)) * grid
    gy = (ty - math.floor(ty)) * grid
    ix, iy = int(math.floor(gx)), int(math.floor(gy))
    wx, wy = gx - ix, gy - iy
    ix0, iy0 = ix % grid, iy % grid
    ix1, iy1 = (ix + 1) % grid, (iy + 1) % grid
    for b in range(b0, b1):
        out_row[b] += sign * ((1 - wy) * ((1 - wx) * table[iy0, ix0, b] + wx * table[iy0, ix1, b])
                              + wy * ((1 - wx) * table[iy1, ix0, b] + wx * table[iy1, ix1, b]))


def _valid_area(centres, n_exact, near, exact2, n_inner, x0, dx, y0, dy, pts_x, pts_y, reach2,
                a00, a01, a10, a11, k, edges, e0, inv_w, uniform, table_in, table_out, out):
    # pragma: no cover - compiled
    """n_b(c) = F_b({c}) (two periodic tables) − weights of the invalid lattice points."""
    nb = edges.size - 1
    scratch = np.zeros(nb)
    touched = np.zeros(nb, np.int64)
    ws = np.zeros(nb + 2)
    js = np.zeros(nb + 2, np.int64)
    for f in range(centres.shape[0]):
        cx, cy = centres[f, 0], centres[f, 1]
        tx = (cx - x0) / dx
        ty = (cy - y0) / dy
        row = out[f]
        for b in range(nb):
            row[b] = 0.0
        _interp_periodic(table_in, tx, ty, n_exact, n_inner, 1.0, row)
        _interp_periodic(table_out, tx, ty, n_inner, nb, 1.0, row)
        if n_exact > 0:
            rx, ry = math.floor(tx + 0.5), math.floor(ty + 0.5)
            for i in range(-near, near + 1):
                for j in range(-near, near + 1):
                    if i * i + j * j > (near + 1) * (near + 1):
                        continue
                    qx, qy = x0 + (rx + j) * dx - cx, y0 + (ry + i) * dy - cy
                    if qx * qx + qy * qy > exact2:  # no weight below edges[n_exact]
                        continue
                    if k == 1:
                        nt = _footprint(a00 * qx + a01 * qy, a10 * qx + a11 * qy, a00 * dx,
                                        a10 * dx, a01 * dy, a11 * dy, edges, e0, inv_w, uniform,
                                        ws, js)
                        for t in range(nt):
                            if js[t] < n_exact:
                                row[js[t]] += ws[t]
                        continue
                    nt = _spread(x0 + (rx + j) * dx, y0 + (ry + i) * dy, cx, cy, a00, a01, a10,
                                 a11, dx, dy, k, edges, e0, inv_w, uniform, scratch, touched,
                                 ws, js)
                    for t in range(nt):
                        jb = touched[t]
                        if jb < n_exact:
                            row[jb] += scratch[jb]
                        scratch[jb] = 0.0
        for q in range(pts_x.size):
            qx, qy = pts_x[q] - cx, pts_y[q] - cy
            if qx * qx + qy * qy > reach2:
                continue
            if k == 1:
                nt = _footprint(a00 * qx + a01 * qy, a10 * qx + a11 * qy, a00 * dx, a10 * dx,
                                a01 * dy, a11 * dy, edges, e0, inv_w, uniform, ws, js)
                for t in range(nt):
                    row[js[t]] -= ws[t]
                continue
            nt = _spread(pts_x[q], pts_y[q], cx, cy, a00, a01, a10, a11, dx, dy, k, edges, e0,
                         inv_w, uniform, scratch, touched, ws, js)
            for t in range(nt):
                jb = touched[t]
                row[jb] -= scratch[jb]
                scratch[jb] = 0.0
        for b in range(nb):
            if row[b] < 1e-9:
                row[b] = 0.0


def cache_dir():
    """Directory of the compiled-kernel cache: ``$PYXEM_EPDF_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/pyxem_epdf/numba`` (``~/.cache/pyxem_epdf/numba``); never the
    package's source tree."""
    root = os.environ.get("PYXEM_EPDF_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "pyxem_epdf", "numba")
    return root


def _enable_cache(dispatcher):
    """Cache ``dispatcher``'s compiled code in :func:`cache_dir` (this function only:
    numba's global ``NUMBA_CACHE_DIR`` and other packages' caching are untouched).
    Without a writable directory, or on a numba without these classes, nothing is
    cached and the kernel is compiled once per process."""
    try:
        from numba.core import caching

        class _Locator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
            def __init__(self, py_func, py_file):
                self._py_file = py_file
                self._lineno = py_func.__code__.co_firstlineno
                self._cache_path = os.path.join(cache_dir(), "physics")

            def get_cache_path(self):
                return self._cache_path

        class _Impl(caching.CompileResultCacheImpl):
            _locator_classes = [_Locator]

        class _Cache(caching.FunctionCache):
            _impl_class = _Impl

        dispatcher._cache = _Cache(dispatcher.py_func)
    except Exception:  # noqa: BLE001 - any failure: compile per process instead
        pass
    return dispatcher


def _compile():
    """The numba versions of the kernels, compiled on first use and cached on disk
    outside the package (:func:`cache_dir`)."""
    import numba

    jit = numba.njit(nogil=True)
    g = globals()
    for name in ("_bin_of", "_footprint", "_spread", "_interp_periodic"):
        g[name] = jit(g[name])
    return {name: _enable_cache(jit(g[name])) for name in
            ("_operator_entries", "_gather", "_gather_shifted", "_gather_few", "_gather_sub",
             "_lattice_table", "_valid_area")}


_KERNELS = _compile()

# --------------------------------------------------------------------------- geometry


def _edges_info(edges):
    w = np.diff(edges)
    uniform = bool(np.allclose(w, w[0], rtol=1e-9, atol=0))
    return float(edges[0]), (1.0 / w[0]) if uniform else 1.0, uniform


def _geometry_args(op):
    a = op.distortion
    dx, dy = float(op.kx[1] - op.kx[0]), float(op.ky[1] - op.ky[0])
    e0, inv_w, uniform = _edges_info(op.edges)
    return dx, dy, (float(a[0, 0]), float(a[0, 1]), float(a[1, 0]), float(a[1, 1])), \
        (op.subpixel, op.edges, e0, inv_w, uniform)


def radial_operator(kx, ky, edges, *, mask=None, subpixel=1, center=(0.0, 0.0), distortion=None):
    """Build the sparse pixel → s-bin operator of a calibrated detector.

    Parameters
    ----------
    kx, ky : array_like
        Calibrated pixel-centre coordinates along the detector columns and
        rows (s units, Å⁻¹), 1-D and uniform (e.g. the signal axes of a
        pyxem signal).
    edges : array_like
        Increasing s bin edges in Å⁻¹.
    mask : array_like of bool, optional
        True for pixels to exclude (shape (len(ky), len(kx))).
    subpixel : int
        Sub-squares per pixel side (1–16), each spread by its own footprint;
        1 (default) treats the rings as straight across a pixel.
    center : tuple of float
        (kx0, ky0) of the pattern centre in the same units.
    distortion : array_like, optional
        2 × 2 matrix A: the s of a pixel is ``|A·(p − c)|`` (elliptical
        distortion, :func:`pyxem_epdf.physics.geometry.ellipse_matrix`);
        default the identity.

    Returns
    -------
    RadialOperator

    Examples
    --------
    >>> k = np.arange(-8, 8) + 0.5
    >>> op = radial_operator(k, k, edges=np.arange(0, 9, 1.0))
    >>> res = integrate(np.ones((1, 16, 16)), op)
    >>> bool(np.allclose(res.mean, 1.0)), round(float(res.n_valid[-1]) / (np.pi * (64 - 49)), 3)
    (True, 1.0)
    """
    kx = np.asarray(kx, dtype=float)
    ky = np.asarray(ky, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if kx.ndim != 1 or ky.ndim != 1 or kx.size < 2 or ky.size < 2:
        raise ValueError("'kx' and 'ky' must be 1-D pixel-centre coordinates (>= 2 pixels).")
    if not (np.all(np.isfinite(kx)) and np.all(np.isfinite(ky))
            and kx[1] != kx[0] and ky[1] != ky[0]):
        raise ValueError(
            f"'kx' and 'ky' must be finite with a non-zero step; got steps "
            f"{kx[1] - kx[0]:g} and {ky[1] - ky[0]:g} Å⁻¹ (a detector axis with scale 0?)."
        )
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] < 0:
        raise ValueError(
            "'edges' must be a 1-D increasing array of at least 2 bin edges >= 0 (Å⁻¹)."
        )
    if isinstance(subpixel, bool) or not float(subpixel).is_integer() \
            or not 1 <= int(subpixel) <= 16:
        raise ValueError(f"'subpixel' must be an integer between 1 and 16; got {subpixel!r}.")
    subpixel = int(subpixel)
    shape = (ky.size, kx.size)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != shape:
            raise ValueError(f"'mask' must have the detector shape {shape}; got {mask.shape}.")
        if mask.all():
            raise ValueError("'mask' excludes every detector pixel; nothing to integrate.")
    a = _distortion(distortion)
    return RadialOperator(edges, shape, kx, ky, (float(center[0]), float(center[1])), a,
                          subpixel, mask)


_MATRIX_LOCK = threading.Lock()


def _build_matrix(op):
    """Build ``op.matrix`` and ``op.n_valid`` (once, also when threads ask together)."""
    with _MATRIX_LOCK:
        if "matrix" in op._cache:
            return
        kx, ky, edges = op.kx, op.ky, op.edges
        dx, dy, amat, rest = _geometry_args(op)
        valid = np.ones(kx.size * ky.size, np.uint8) if op.mask is None else \
            (~op.mask).ravel().astype(np.uint8)
        args = (ky.size, kx.size, float(kx[0]), dx, float(ky[0]), dy, op.center[0], op.center[1],
                *amat, *rest, valid)
        empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0)
        n = _KERNELS["_operator_entries"](*args, empty_i, empty_i, empty_f, True)
        rows, cols, vals = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n)
        _KERNELS["_operator_entries"](*args, rows, cols, vals, False)
        matrix = sp.csr_matrix((vals, (rows, cols)), shape=(kx.size * ky.size, edges.size - 1))
        op._cache["n_valid"] = np.asarray(matrix.sum(axis=0)).ravel()
        op._cache["matrix"] = matrix


def _distortion(distortion):
    a = np.eye(2) if distortion is None else np.asarray(distortion, dtype=float)
    if a.shape != (2, 2) or not np.all(np.isfinite(a)) or abs(np.linalg.det(a)) < 1e-6:
        raise ValueError(
            f"'distortion' must be a finite, invertible 2 × 2 matrix; got {np.asarray(a).tolist()}."
        )
    return a


#: Lattice tables of the last few geometries, shared by operators of the same detector
#: calibration, distortion, sub-pixel count and bins (they do not depend on the mask,
#: the detector size or the centre): building them takes ~10–20 ms per call at 60–120
#: bins, as long as a 48 × 48 per-pattern integration.
_TABLES: dict = {}
_TABLES_MAX = 8  # at most 8 × 2 KB per bin (e.g. 8 MB at 500 bins)
_TABLES_LOCK = threading.Lock()


def _lattice_total(op):
    """The periodic tables of F_b (inner bins on a fine grid), cached on the operator
    and, read-only, for the geometry (:data:`_TABLES`)."""
    if "table" not in op._cache:
        dx, dy, amat, rest = _geometry_args(op)
        smin = np.linalg.svd(op.distortion, compute_uv=False).min()
        half = 0.5 * (abs(dx) + abs(dy)) * np.abs(op.distortion).sum()
        reach = (op.edges[-1] + half) / smin
        key = (dx, dy, float(op.kx[0]), float(op.ky[0]), op.distortion.tobytes(), op.subpixel,
               op.edges.tobytes())
        tables = _TABLES.get(key)
        if tables is None:
            jx, jy = int(reach / abs(dx)) + 3, int(reach / abs(dy)) + 3
            nb = op.edges.size - 1
            n_inner, near = _inner(op)
            table_out = np.zeros((TABLE_GRID, TABLE_GRID, nb))
            _KERNELS["_lattice_table"](TABLE_GRID, float(op.kx[0]), dx, float(op.ky[0]), dy, jx,
                                       jy, *amat, *rest, table_out)
            table_in = np.zeros((TABLE_GRID_INNER, TABLE_GRID_INNER, nb))
            if n_inner:
                _KERNELS["_lattice_table"](TABLE_GRID_INNER, float(op.kx[0]), dx,
                                           float(op.ky[0]), dy, near + 2, near + 2, *amat,
                                           *rest, table_in)
            table_in.flags.writeable = False
            table_out.flags.writeable = False
            tables = (table_in, table_out, n_inner)
            with _TABLES_LOCK:
                while len(_TABLES) >= _TABLES_MAX:
                    _TABLES.pop(next(iter(_TABLES)), None)
                _TABLES[key] = tables
        op._cache["reach"] = reach  # first: "table" present means both are (threads)
        op._cache["table"] = tables
    return op._cache["table"], op._cache["reach"]


def _inner(op, radius=None):
    """Bins whose upper edge lies below ``radius`` px (default INNER_RADIUS) and the
    index half-width of the lattice square that holds all their pixels."""
    radius = INNER_RADIUS if radius is None else radius
    d = min(abs(op.kx[1] - op.kx[0]), abs(op.ky[1] - op.ky[0]))
    smin = np.linalg.svd(op.distortion, compute_uv=False).min()
    n_inner = int(np.searchsorted(op.edges[1:], radius * d * smin, side="right"))
    if n_inner == 0:
        return 0, 0
    sides = np.linalg.norm(op.distortion, axis=0).sum()  # pixel footprint reach, pixels
    near = int(np.ceil((op.edges[n_inner] / smin) / d + 1.0 + 0.5 * sides / smin))
    return n_inner, near


def _invalid_points(op, centres):
    """Lattice points that are masked or off the detector, within reach of any centre."""
    _, reach = _lattice_total(op)
    c = np.asarray(centres, dtype=float).reshape(-1, 2)
    lo, hi = c.min(axis=0), c.max(axis=0)
    key = (tuple(np.round(lo, 12)), tuple(np.round(hi, 12)))
    cached = op._cache.get("invalid")  # (key, points): one entry, read at once (threads)
    if cached is not None and cached[0] == key:
        return cached[1]
    dx, dy = op.kx[1] - op.kx[0], op.ky[1] - op.ky[0]
    ny, nx = op.detector_shape
    tx = (np.array([lo[0], hi[0]]) - op.kx[0]) / dx
    ty = (np.array([lo[1], hi[1]]) - op.ky[0]) / dy
    rx, ry = reach / abs(dx) + 2, reach / abs(dy) + 2
    j = np.arange(int(np.floor(tx.min() - rx)), int(np.ceil(tx.max() + rx)) + 1)
    i = np.arange(int(np.floor(ty.min() - ry)), int(np.ceil(ty.max() + ry)) + 1)
    in_j, in_i = (j >= 0) & (j < nx), (i >= 0) & (i < ny)
    candidate = ~(in_i[:, None] & in_j[None, :])  # off the detector
    if op.mask is not None:
        sub = op.mask[np.clip(i, 0, ny - 1)][:, np.clip(j, 0, nx - 1)]
        candidate |= sub & in_i[:, None] & in_j[None, :]
    # in raster order, as a meshgrid over the whole window would give them (the
    # distance test only on the candidates: ~20× less work on a 256² detector)
    ci, cj = np.nonzero(candidate)
    px, py = op.kx[0] + j[cj] * dx, op.ky[0] + i[ci] * dy
    # distance to the centres' bounding box
    gx = np.maximum(0, np.maximum(lo[0] - px, px - hi[0]))
    gy = np.maximum(0, np.maximum(lo[1] - py, py - hi[1]))
    bad = np.hypot(gx, gy) <= reach + abs(dx) + abs(dy)
    pts = (np.ascontiguousarray(px[bad]), np.ascontiguousarray(py[bad]))
    op._cache["invalid"] = (key, pts)
    return pts


def valid_area(op, centres, *, threads=None):
    """Valid area (pixels) per bin of a pattern centred at each of ``centres``.

    Parameters
    ----------
    op : RadialOperator
        Geometry, bins and mask (its own centre is not used).
    centres : array_like
        (kx0, ky0) pattern centres in Å⁻¹, shape (..., 2).
    threads : int, optional
        Threads over the centres (default: the usable cores, at most 8, from
        8192 centres on: below, ~1–4 µs per centre do not pay for the threads on
        a loaded machine; the result does not depend on it).

    Returns
    -------
    numpy.ndarray
        Shape (..., n_bins): the column sums of the operator each centre
        would have (to < 1e-3 relative; bins within 6 px of the centre
        exactly, the others from a table of the lattice total over fractional
        centre positions).

    Examples
    --------
    >>> k = np.arange(-16, 16) + 0.5
    >>> op = radial_operator(k, k, np.arange(0.0, 17.0, 2.0))
    >>> n = valid_area(op, [[0.0, 0.0], [3.3, -1.2]])
    >>> exact = radial_operator(k, k, op.edges, center=(3.3, -1.2)).n_valid
    >>> bool(np.allclose(n[1], exact, rtol=1e-3)), bool(n[1, -1] < n[0, -1])  # ring cut
    (True, True)
    """
    centres = np.asarray(centres, dtype=float)
    flat = np.ascontiguousarray(centres.reshape(-1, 2))
    out = np.empty((flat.shape[0], op.edges.size - 1))
    pts = _invalid_points(op, flat)
    if threads is None:
        from ._common import usable_cores

        threads = usable_cores() if flat.shape[0] >= 8192 else 1
    if threads > 1 and flat.shape[0] >= 2 * threads:
        from concurrent.futures import ThreadPoolExecutor

        bounds = np.linspace(0, flat.shape[0], threads + 1).astype(int)
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda sl: _valid_area_into(op, flat[sl], out[sl], pts),
                          [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]))
    else:
        _valid_area_into(op, flat, out, pts)
    return out.reshape(centres.shape[:-1] + (-1,))


def _valid_area_into(op, flat, out, pts):
    """:func:`valid_area` of the centres ``flat`` (n, 2) into ``out`` (n, n_bins), with the
    invalid lattice points ``pts`` of :func:`_invalid_points` for any superset of these
    centres (points beyond reach of a centre are skipped, in the same order: the same
    result whichever superset)."""
    (table_in, table_out, n_inner), reach = _lattice_total(op)
    pts_x, pts_y = pts
    dx, dy, amat, rest = _geometry_args(op)
    # a lattice point farther than `reach` from the centre has footprint weight 0 in
    # every bin (σ_min |q| − h ≥ the outer edge), so it is skipped: the result is the same.
    # Off the centre (|q| > 0) a pixel's (and each sub-square's) extent is within
    # h_span = max(‖v1 + v2‖, ‖v1 − v2‖)/2 of its centre, which bounds the reach tighter
    # (of the ~470 invalid points of a 128² detector ~64 lie within the looser reach of a
    # centre, ~20 within this one, and ~1.6 weigh in a bin)
    v1, v2 = op.distortion[:, 0] * dx, op.distortion[:, 1] * dy
    h_span = 0.5 * max(np.linalg.norm(v1 + v2), np.linalg.norm(v1 - v2)) * (1 + 2e-6)
    smin = np.linalg.svd(op.distortion, compute_uv=False).min()
    reach = min(reach, (float(op.edges[-1]) + h_span) / smin)
    reach2 = (reach * (1 + 1e-9)) ** 2
    n_exact, near = _inner(op, EXACT_RADIUS)
    # only lattice points within (edges[n_exact] + h_max) / σ_min weigh in those bins
    h_max = 0.5 * (np.linalg.norm(op.distortion[:, 0]) * abs(dx)
                   + np.linalg.norm(op.distortion[:, 1]) * abs(dy))
    exact2 = ((float(op.edges[n_exact]) + h_max) / smin * (1 + 1e-9)) ** 2
    if flat.shape[0]:
        _KERNELS["_valid_area"](flat, n_exact, near, exact2, n_inner, float(op.kx[0]), dx,
                                float(op.ky[0]), dy, pts_x, pts_y, reach2, *amat, *rest,
                                table_in, table_out, out)


# --------------------------------------------------------------------------- integration


def _native(flat):
    if flat.dtype.kind == "c":
        raise TypeError(f"Complex frames ({flat.dtype}) cannot be integrated; take .real or abs().")
    if flat.dtype.kind == "b":
        flat = flat.astype(np.uint8)
    if flat.dtype.kind not in "uif":
        raise TypeError(f"Frames must be numeric; got dtype {flat.dtype}.")
    if flat.dtype == np.float16 or flat.dtype.itemsize > 8:
        flat = flat.astype(np.float32 if flat.dtype == np.float16 else np.float64)
    if not flat.dtype.isnative:  # e.g. big-endian '>u2' frames of .mib files
        flat = flat.astype(flat.dtype.newbyteorder("="))
    return np.ascontiguousarray(flat)


def _sums(flat, op, centres=None):
    """(frames, 3 n_bins + 2): Σ w X, Σ w² X, non-finite weights, counts."""
    nb = op.edges.size - 1
    out = np.zeros((flat.shape[0], 3 * nb + 2))
    if flat.shape[0] == 0:
        return out
    if centres is None:
        m = op.matrix
        _KERNELS["_gather"](flat, m.indptr, m.indices, m.data, out)
        return out
    dx, dy, amat, rest = _geometry_args(op)
    valid = op._cache.get("valid")
    if valid is None:
        valid = np.ones(flat.shape[1], np.uint8) if op.mask is None else \
            (~op.mask).ravel().astype(np.uint8)
        op._cache["valid"] = valid
    reach, epad, span = _shifted_geometry(op)
    centres = np.ascontiguousarray(centres, dtype=float)
    nx = op.detector_shape[1]
    if span:  # compiled once per span (the tuple's length is part of its type)
        _KERNELS["_gather_few"](flat, nx, float(op.kx[0]), dx, float(op.ky[0]), dy, centres,
                                *amat, rest[2], rest[3], valid, reach, epad,
                                op.edges.size - 1, tuple(range(1, span)), out)
    elif _sub_geometry(op) is not None:
        inner, win, epad_sub = _sub_geometry(op)
        _KERNELS["_gather_sub"](flat, nx, float(op.kx[0]), dx, float(op.ky[0]), dy, centres,
                                *amat, op.subpixel, rest[2], rest[3], valid, reach, epad_sub,
                                op.edges.size - 1, inner, win, op.edges, out)
    else:
        _KERNELS["_gather_shifted"](flat, nx, float(op.kx[0]), dx, float(op.ky[0]), dy, centres,
                                    *amat, *rest, valid, reach, out)
    return out


def _sub_geometry(op):
    """(inner edge offsets, window, padded edges) of :func:`_gather_sub`, or None (one
    sub-square, non-uniform bins, or more than ``SPAN_MAX`` bins per sub-square), cached.

    A sub-square's half-width off the centre is at most h_span / k (h_span that of the
    whole pixel, see :func:`_shifted_geometry`), so it covers at most S bins,
    2 h_span / k ≤ (S − 1) w; all sub-squares of a pixel lie within r ± h_span, which
    spans at most ``win`` = ⌈2 h_span / w⌉ + 2 bins.
    """
    if "sub" not in op._cache:
        e0, _, uniform = _edges_info(op.edges)
        geometry = None
        if op.subpixel > 1 and uniform:
            dx, dy = float(op.kx[1] - op.kx[0]), float(op.ky[1] - op.ky[0])
            v1, v2 = op.distortion[:, 0] * dx, op.distortion[:, 1] * dy
            h_span = 0.5 * max(np.linalg.norm(v1 + v2), np.linalg.norm(v1 - v2)) * (1 + 2e-6)
            w = float(op.edges[1] - op.edges[0])
            span = max(3, int(math.ceil(2 * h_span / op.subpixel / w * (1 - 1e-9))) + 1)
            if span <= SPAN_MAX:
                win = int(math.ceil(2 * h_span / w)) + 2
                epad = np.concatenate([e0 + w * np.arange(-2, 0), op.edges,
                                       op.edges[-1] + w * np.arange(1, span + win + 4)])
                geometry = (tuple(range(1, span)), win, epad)
        op._cache["sub"] = geometry
    return op._cache["sub"]


def _shifted_geometry(op):
    """(reach, padded edges, bins per footprint: 3 … SPAN_MAX, or 0 = general) of the
    per-pattern kernel, cached.

    A pixel's footprint half-width h = (|û·v1| + |û·v2|)/2 (v1 = A e_x dx,
    v2 = A e_y dy) is at most (‖v1‖ + ‖v2‖)/2 (reached on the centre, r = 0), and
    |A q| ≥ σ_min |q|, so no pixel farther than (edge + that)/σ_min from the
    centre reaches a bin. Off the centre h ≤ max(‖v1 + v2‖, ‖v1 − v2‖)/2 (0.707 px
    without distortion), so with one sub-square and uniform bins of width w a
    footprint covers at most S bins, 2 h ≤ (S − 1) w: S = 3 down to bins of
    0.707 px (one bin per pixel, with a distortion of axis ratio ≤ 2, or the
    default grid slightly finer than a pixel), 4 down to 0.47 px, …; the pixel
    on the centre is spread by :func:`_footprint` itself.
    """
    if "shifted" not in op._cache:
        dx, dy = float(op.kx[1] - op.kx[0]), float(op.ky[1] - op.ky[0])
        a = op.distortion
        v1, v2 = a[:, 0] * dx, a[:, 1] * dy
        h_max = 0.5 * (np.linalg.norm(v1) + np.linalg.norm(v2))  # any r, also r = 0
        smin = np.linalg.svd(a, compute_uv=False).min()
        reach = (float(op.edges[-1]) + h_max) / smin * (1 + 1e-9) + 1e-12
        # for r > 0: h = (|û·v1| + |û·v2|)/2 ≤ max(|v1 + v2|, |v1 − v2|)/2 (0.707 px
        # without distortion; + the 1e-6 floor on the smaller width)
        h_span = 0.5 * max(np.linalg.norm(v1 + v2), np.linalg.norm(v1 - v2)) * (1 + 2e-6)
        w = np.diff(op.edges)
        e0, _, uniform = _edges_info(op.edges)
        span = 0
        if op.subpixel == 1 and uniform:
            # footprint width 2h ≤ 2 h_span ≤ (S − 1) w: at most S bins
            span = max(3, int(math.ceil(2 * h_span / w[0] * (1 - 1e-9))) + 1)
            span = span if span <= SPAN_MAX else 0
        step = w[0]
        epad = np.concatenate([e0 + step * np.arange(-2, 0), op.edges,
                               op.edges[-1] + step * np.arange(1, SPAN_MAX + 1)])
        op._cache["shifted"] = (reach, epad, span)
    return op._cache["shifted"]


def _block(frames, op, centres=None, *, allow_negative=False, threads=1, n_valid=None,
           pts=None):
    """(mean, variance, nonfinite, valid area) for a NumPy block (..., ny, nx).

    With ``centres`` and no ``n_valid``, each thread also computes the valid areas of
    its patterns (``pts``: the invalid lattice points of all centres); the valid area
    returned is (n_bins,) for a fixed centre, (n_patterns, n_bins) otherwise.
    """
    lead = frames.shape[:-2]
    flat = _native(frames.reshape(-1, frames.shape[-2] * frames.shape[-1]))
    cen = None if centres is None else np.asarray(centres, dtype=float).reshape(-1, 2)
    nb = op.edges.size - 1
    if cen is None:
        n = op.n_valid[None, :]
    elif n_valid is not None:  # computed once for the whole scan
        n = np.asarray(n_valid, dtype=float).reshape(-1, nb)
    else:
        cen = np.ascontiguousarray(cen)
        n = np.empty((cen.shape[0], nb))
        pts = _invalid_points(op, cen) if pts is None else pts

    def run(sl):
        both = _sums(flat[sl], op, None if cen is None else cen[sl])
        if cen is not None and n_valid is None:
            _valid_area_into(op, cen[sl], n[sl], pts)
        return both

    if threads > 1 and flat.shape[0] >= 2 * threads:
        from concurrent.futures import ThreadPoolExecutor

        bounds = np.linspace(0, flat.shape[0], threads + 1).astype(int)
        with ThreadPoolExecutor(threads) as pool:
            both = np.concatenate(list(pool.map(run, [slice(a, b) for a, b in
                                                      zip(bounds[:-1], bounds[1:], strict=True)])))
    else:
        both = run(slice(None))
    negative = both[:, 3 * nb + 1]
    if not allow_negative and np.any(negative > 0):
        raise ValueError(
            f"The frames hold negative values ({int(negative.sum())} pixels in "
            f"{int(np.count_nonzero(negative))} patterns): counts cannot be negative. For "
            "background-subtracted data pass 'allow_negative=True' (the Poisson variance is "
            "then clipped at 0)."
        )
    area = n[0] if cen is None else n
    n = n - both[:, 2 * nb:3 * nb]
    n = np.where(n > 1e-9, n, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, both[:, :nb] / n, 0.0)
        var = np.where(n > 0, both[:, nb:2 * nb] / n**2, 0.0)
    if allow_negative:
        var = np.maximum(var, 0.0)
    if np.any(n == 0):
        mean, var = fill_empty_bins(mean, var, n)
    return (mean.reshape(lead + (-1,)), var.reshape(lead + (-1,)),
            both[:, 3 * nb].reshape(lead), area)


def fill_empty_bins(mean, variance, n_valid):
    """Fill bins without valid pixels by linear interpolation from the nearest valid bins.

    Parameters
    ----------
    mean, variance : numpy.ndarray
        Shape (n_patterns, n_bins).
    n_valid : numpy.ndarray
        Valid area per bin, shape (n_bins,) or (n_patterns, n_bins); 0 = empty.

    Returns
    -------
    mean, variance : numpy.ndarray
        New arrays; an empty bin between valid bins l and r gets
        w_l I_l + w_r I_r (variance w_l² σ_l² + w_r² σ_r²); empty bins before
        the first (after the last) valid bin take its value. Patterns
        without any valid bin are left at 0.

    Examples
    --------
    >>> m, v = fill_empty_bins(np.array([[0.0, 1.0, 0.0, 3.0]]), np.ones((1, 4)),
    ...                        np.array([0.0, 5.0, 0.0, 7.0]))
    >>> m.tolist(), v.tolist()
    ([[1.0, 1.0, 2.0, 3.0]], [[1.0, 1.0, 0.5, 1.0]])
    """
    mean, variance = np.array(mean, dtype=float), np.array(variance, dtype=float)
    empty = np.broadcast_to(np.asarray(n_valid) <= 0, mean.shape)
    patterns, inverse = np.unique(empty, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    x = np.arange(mean.shape[1])
    for g, pattern in enumerate(patterns):
        if not pattern.any() or pattern.all():
            continue
        rows = np.flatnonzero(inverse == g)
        good = np.flatnonzero(~pattern)
        bad = np.flatnonzero(pattern)
        right = np.searchsorted(good, bad)
        li = good[np.clip(right - 1, 0, good.size - 1)]
        ri = good[np.clip(right, 0, good.size - 1)]
        span = np.where(ri != li, ri - li, 1)
        wr = np.where(ri != li, (x[bad] - li) / span, 0.0)
        wl = 1.0 - wr
        sub_m, sub_v = mean[rows], variance[rows]
        sub_m[:, bad] = wl * sub_m[:, li] + wr * sub_m[:, ri]
        sub_v[:, bad] = wl**2 * sub_v[:, li] + wr**2 * sub_v[:, ri]
        mean[rows], variance[rows] = sub_m, sub_v
    return mean, variance


#: Fewest patterns per block of the lazy profiles (and so of everything computed
#: from them): smaller frame blocks are merged after the integration. Measured on a
#: 160 × 160 × 256² lazy scan stored in 8 × 8-pattern blocks (the synthetic
#: generator's and many files' block size): get_pdf + compute_all took 8.3 s on the
#: 400 blocks of the profiles (dask ordering and executing ~22,000 small tasks for G
#: and its 15 maps) against 3.7 s for the same data in 27 × 27-pattern blocks.
MIN_BLOCK_PATTERNS = 4096


def merged_blocks(profiles, min_patterns=MIN_BLOCK_PATTERNS):
    """Lazy ``profiles`` (navigation..., n) with small navigation blocks merged.

    Merges neighbouring blocks along the navigation axes, the last one first,
    until a block holds at least ``min_patterns`` patterns (or the whole axis);
    blocks already that large, and NumPy input, are returned unchanged. The
    values are unchanged (a concatenation).

    Parameters
    ----------
    profiles : dask.array.Array or numpy.ndarray
        Navigation axes first, the profile axis last.
    min_patterns : int
        Fewest patterns per merged block (≥ 1).

    Returns
    -------
    dask.array.Array or numpy.ndarray

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.zeros((64, 64, 10), chunks=(8, 8, 10))
    >>> merged_blocks(x, 1024).chunks[:2]
    ((16, 16, 16, 16), (64,))
    >>> merged_blocks(x, 16).chunks[:2] == x.chunks[:2]   # already 64 patterns a block
    True
    """
    if not hasattr(profiles, "dask") or profiles.ndim < 2:
        return profiles
    nav = profiles.chunks[:-1]
    sizes = [max(c) for c in nav]
    if int(np.prod(sizes, dtype=np.int64)) >= min_patterns:
        return profiles
    target = list(sizes)
    for axis in range(len(nav) - 1, -1, -1):  # the fastest axis first
        length = profiles.shape[axis]
        other = int(np.prod([t for k, t in enumerate(target) if k != axis], dtype=np.int64))
        need = -(-min_patterns // max(other, 1))
        # whole multiples of the existing block size, so blocks are merged, never split
        target[axis] = min(length, -(-max(need, sizes[axis]) // sizes[axis]) * sizes[axis])
        if int(np.prod(target, dtype=np.int64)) >= min_patterns:
            break
    return profiles.rechunk(tuple(target) + (-1,))


def integrate(frames, op, centres=None, *, allow_negative=False):
    """Mean counts per valid pixel in each s bin, with Poisson variance.

    Parameters
    ----------
    frames : numpy.ndarray or dask.array.Array
        Diffraction patterns, shape (..., ny, nx): integer or float dtype
        (float16 is read as float32); complex raises a ``TypeError``.
    op : RadialOperator
        From :func:`radial_operator` for this detector.
    centres : array_like, optional
        Pattern centre (kx0, ky0) of every frame in Å⁻¹, shape (..., 2)
        (NumPy; descan). Default: the operator's centre for all frames.
    allow_negative : bool
        Accept negative pixel values (background-subtracted data); the
        variance is then clipped at 0. Default: a ``ValueError``.

    Returns
    -------
    Integrated
        ``mean`` and ``variance`` of shape (..., n_bins) (lazy for dask
        input), ``n_valid``, ``nonfinite`` (count map) and ``n_valid_min``.
        Bins with no valid pixel are filled by :func:`fill_empty_bins`.

    Examples
    --------
    >>> k = np.arange(-4, 4) + 0.5
    >>> op = radial_operator(k, k, edges=[0.0, 2.0, 4.0])
    >>> res = integrate(np.full((2, 8, 8), 3.0), op)
    >>> np.round(res.mean, 12).tolist(), np.round(res.n_valid, 2).tolist()
    ([[3.0, 3.0], [3.0, 3.0]], [12.8, 37.68])
    >>> shifted = integrate(np.full((2, 8, 8), 3.0), op, centres=[[0.0, 0.0], [0.4, -0.3]])
    >>> bool(np.allclose(shifted.mean, 3.0, rtol=1e-3))
    True
    """
    if tuple(frames.shape[-2:]) != tuple(op.detector_shape):
        raise ValueError(
            f"Frames have detector shape {tuple(frames.shape[-2:])}; the operator was built "
            f"for {op.detector_shape}."
        )
    lead = tuple(frames.shape[:-2])
    if centres is not None:
        centres = np.asarray(centres, dtype=float)
        if centres.shape != lead + (2,):
            raise ValueError(
                f"'centres' must have shape {lead + (2,)} (navigation + (kx0, ky0)); got "
                f"{centres.shape}."
            )
        if not np.all(np.isfinite(centres)):
            raise ValueError("'centres' must be finite.")
    kw = {"allow_negative": bool(allow_negative)}
    if hasattr(frames, "dask"):
        import dask.array as da

        if centres is not None:  # the scan's mean and least valid area: needed now
            n_all = valid_area(op, centres).reshape(-1, op.edges.size - 1)
            n_mean, n_min = n_all.mean(axis=0), n_all.min(axis=0)
        else:
            n_mean = n_min = op.n_valid

        nb = op.edges.size - 1
        frames = frames.rechunk({frames.ndim - 2: -1, frames.ndim - 1: -1})
        chunks = frames.chunks[:-2]

        def pack(*blocks):
            if len(blocks) == 1:
                m, v, bad, _ = _block(blocks[0], op, **kw)
            else:
                m, v, bad, _ = _block(blocks[0], op, blocks[1], n_valid=blocks[2], **kw)
            return np.concatenate([m, v, bad[..., None]], axis=-1)[..., None, :]

        args = [frames]
        if centres is not None:
            args.append(da.from_array(centres[..., None, :], chunks=chunks + ((1,), (2,))))
            n_nav = n_all.reshape(lead + (1, -1))
            args.append(da.from_array(n_nav, chunks=chunks + ((1,), (n_nav.shape[-1],))))
        packed = da.map_blocks(pack, *args, chunks=chunks + ((1,), (2 * nb + 1,)), dtype=float)
        packed = merged_blocks(packed[..., 0, :])
        return Integrated(packed[..., :nb], packed[..., nb:2 * nb], n_mean, packed[..., 2 * nb],
                          n_min)
    from ._common import usable_cores

    threads = usable_cores()
    # with centres, each thread also computes the valid areas of its patterns
    m, v, bad, area = _block(np.asarray(frames), op, centres, threads=threads, **kw)
    if centres is None:
        return Integrated(m, v, area, bad, area)
    return Integrated(m, v, area.mean(axis=0), bad, area.min(axis=0))
