"""Azimuthal integration as a precomputed sparse pixel → s-bin operator.

The operator M (n_pixels × n_bins, SciPy CSR) holds for every detector pixel
the fraction of its area that falls in each s bin: each pixel is split into
``subpixel × subpixel`` sub-pixels whose centres are binned, so that low-s
bins, which only a handful of pixels reach, are not aliased. Masked pixels
have no entries: they are excluded from the averages, never counted as
zeros. For frames X (n_frames × n_pixels) one sparse product gives

* the mean counts per pixel in each bin, ``(X M) / n``, with
  ``n = 1ᵀ M`` the (fractional) number of valid pixels per bin;
* its Poisson variance, ``(X M∘M) / n²`` (Var of a count = its mean,
  estimated by the count itself), for weighted fits.

The product is computed by a small numba kernel that reads the frames in
their own dtype and skips zero pixels (low-dose frames are mostly zeros),
both sums in one pass; without numba, SciPy's CSR product on float64 copies.
Frames are processed in blocks (NumPy, split over threads) or chunk by chunk
(dask), so a scan never needs to fit in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["RadialOperator", "integrate", "radial_operator"]


@dataclass(frozen=True)
class RadialOperator:
    """Precomputed azimuthal-integration operator.

    Attributes
    ----------
    matrix : scipy.sparse.csr_matrix
        Shape (n_pixels, n_bins): area fraction of each pixel in each bin.
    matrix_sq : scipy.sparse.csr_matrix
        Element-wise square of ``matrix`` (for the variance).
    n_valid : numpy.ndarray
        Effective number of valid pixels per bin (column sums), shape (n_bins,).
    edges : numpy.ndarray
        Bin edges in s (Å⁻¹), shape (n_bins + 1,).
    detector_shape : tuple of int

    Examples
    --------
    >>> k = np.arange(-8, 8) + 0.5   # pixel centres of a 16 × 16 detector
    >>> op = radial_operator(k, k, edges=np.arange(0, 9, 1.0))
    >>> op.matrix.shape, op.detector_shape, op.centres[:3].tolist()
    ((256, 8), (16, 16), [0.5, 1.5, 2.5])
    >>> round(float(op.n_valid.sum()), 2), round(np.pi * 8**2, 2)   # area of the disc
    (201.75, 201.06)
    """

    matrix: object
    matrix_sq: object
    n_valid: np.ndarray
    edges: np.ndarray
    detector_shape: tuple
    stacked_t: object = None  # [M | M∘M]ᵀ as CSR: both products in one pass

    @property
    def centres(self):
        """Bin centres in Å⁻¹."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])


def radial_operator(kx, ky, edges, *, mask=None, subpixel=4, center=(0.0, 0.0)):
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
        Sub-pixels per pixel side (1–16).
    center : tuple of float
        (kx0, ky0) of the pattern centre in the same units.

    Returns
    -------
    RadialOperator

    Examples
    --------
    >>> k = np.arange(-8, 8) + 0.5
    >>> op = radial_operator(k, k, edges=np.arange(0, 9, 1.0))
    >>> mean, var, n = integrate(np.ones((1, 16, 16)), op)
    >>> bool(np.allclose(mean, 1.0)), bool(np.isclose(n.sum(), (op.n_valid).sum()))
    (True, True)
    """
    kx = np.asarray(kx, dtype=float)
    ky = np.asarray(ky, dtype=float)
    edges = np.asarray(edges, dtype=float)
    if kx.ndim != 1 or ky.ndim != 1 or kx.size < 2 or ky.size < 2:
        raise ValueError("'kx' and 'ky' must be 1-D pixel-centre coordinates (>= 2 pixels).")
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("'edges' must be a 1-D increasing array of at least 2 bin edges (Å⁻¹).")
    subpixel = int(subpixel)
    if not 1 <= subpixel <= 16:
        raise ValueError(f"'subpixel' must be between 1 and 16; got {subpixel}.")
    shape = (ky.size, kx.size)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != shape:
            raise ValueError(f"'mask' must have the detector shape {shape}; got {mask.shape}.")
    dx, dy = kx[1] - kx[0], ky[1] - ky[0]
    frac = (np.arange(subpixel) + 0.5) / subpixel - 0.5
    sub_x = (kx[:, None] + frac * dx - center[0]).ravel()  # (nx * k,)
    sub_y = (ky[:, None] + frac * dy - center[1]).ravel()  # (ny * k,)
    radius = np.hypot(sub_y[:, None], sub_x[None, :])  # (ny k, nx k)
    bins = np.searchsorted(edges, radius, side="right") - 1
    rows = (np.arange(ky.size).repeat(subpixel)[:, None] * kx.size
            + np.arange(kx.size).repeat(subpixel)[None, :])
    keep = (bins >= 0) & (bins < edges.size - 1)
    if mask is not None:
        keep &= ~mask.ravel()[rows]
    weight = 1.0 / subpixel**2
    matrix = sp.coo_matrix(
        (np.full(int(keep.sum()), weight), (rows[keep], bins[keep])),
        shape=(kx.size * ky.size, edges.size - 1),
    ).tocsr()
    matrix.sum_duplicates()
    n_valid = np.asarray(matrix.sum(axis=0)).ravel()
    matrix_sq = matrix.multiply(matrix).tocsr()
    stacked_t = sp.hstack([matrix, matrix_sq]).T.tocsr()
    return RadialOperator(matrix, matrix_sq, n_valid, edges, shape, stacked_t)


#: Frames per sparse product (bounds the float64 copy to ~64 MB at 256×256).
BLOCK_FRAMES = 128


def _gather(flat, indptr, indices, weights, weights_sq, out):  # pragma: no cover - compiled
    """out[f, b] += M[p, b] X[f, p]; out[f, n + b] += M²[p, b] X[f, p], zero pixels skipped."""
    n_bins = out.shape[1] // 2
    for f in range(flat.shape[0]):
        row = flat[f]
        for p in range(row.shape[0]):
            value = row[p]
            if value == 0:  # low-dose frames are mostly zeros
                continue
            for k in range(indptr[p], indptr[p + 1]):
                b = indices[k]
                out[f, b] += weights[k] * value
                out[f, n_bins + b] += weights_sq[k] * value


try:  # numba comes with pyxem; without it the scipy product below is used
    import numba

    _KERNEL = numba.njit(nogil=True, cache=True)(_gather)
except ImportError:  # pragma: no cover
    _KERNEL = None


def _sums(flat, op):
    """Σ_p M[p, b] X[f, p] and Σ_p M²[p, b] X[f, p] for a (frames, pixels) array."""
    n_bins = op.n_valid.size
    kernel = _KERNEL
    if kernel is not None and flat.dtype.kind in "uif" and flat.dtype.itemsize <= 8:
        if not flat.dtype.isnative:  # e.g. big-endian '>u2' frames of .mib files
            flat = flat.astype(flat.dtype.newbyteorder("="))
        out = np.zeros((flat.shape[0], 2 * n_bins))
        m = op.matrix
        kernel(np.ascontiguousarray(flat), m.indptr, m.indices, m.data, m.data**2, out)
        return out
    out = np.empty((flat.shape[0], 2 * n_bins))
    for start in range(0, flat.shape[0], BLOCK_FRAMES):
        part = np.ascontiguousarray(flat[start:start + BLOCK_FRAMES].T, dtype=np.float64)
        out[start:start + BLOCK_FRAMES] = (op.stacked_t @ part).T
    return out


def _block(frames, op, *, threads=1):
    """(mean, variance) for a NumPy block (..., ny, nx).

    Sums with a compiled kernel that reads the frames in their own dtype and
    skips zero pixels (scipy's CSR product on float64 copies without numba);
    ``threads`` > 1 splits the frames over threads (the kernel releases the GIL).
    """
    lead = frames.shape[:-2]
    flat = frames.reshape(-1, frames.shape[-2] * frames.shape[-1])
    n_bins = op.n_valid.size
    if threads > 1 and flat.shape[0] >= 2 * threads:
        from concurrent.futures import ThreadPoolExecutor

        parts = np.array_split(np.arange(flat.shape[0]), threads)
        with ThreadPoolExecutor(threads) as pool:
            both = np.concatenate(list(pool.map(lambda idx: _sums(flat[idx[0]:idx[-1] + 1], op),
                                                parts)))
    else:
        both = _sums(flat, op)
    n = op.n_valid
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, both[:, :n_bins] / n, 0.0)
        var = np.where(n > 0, both[:, n_bins:] / n**2, 0.0)
    return mean.reshape(lead + (-1,)), var.reshape(lead + (-1,))


def integrate(frames, op):
    """Mean counts per valid pixel in each s bin, with Poisson variance.

    Parameters
    ----------
    frames : numpy.ndarray or dask.array.Array
        Diffraction patterns, shape (..., ny, nx) (any integer or float dtype).
    op : RadialOperator
        From :func:`radial_operator` for this detector.

    Returns
    -------
    mean, variance : numpy.ndarray or dask.array.Array
        Shape (..., n_bins); bins without valid pixels are 0.
    n_valid : numpy.ndarray
        Effective number of valid pixels per bin, shape (n_bins,).

    Examples
    --------
    >>> k = np.arange(-4, 4) + 0.5
    >>> op = radial_operator(k, k, edges=[0.0, 2.0, 4.0], subpixel=1)
    >>> mean, var, n = integrate(np.full((2, 8, 8), 3.0), op)
    >>> mean.tolist(), n.tolist()
    ([[3.0, 3.0], [3.0, 3.0]], [12.0, 40.0])
    """
    if tuple(frames.shape[-2:]) != tuple(op.detector_shape):
        raise ValueError(
            f"Frames have detector shape {tuple(frames.shape[-2:])}; the operator was built "
            f"for {op.detector_shape}."
        )
    if hasattr(frames, "dask"):
        n_bins = op.n_valid.size
        frames = frames.rechunk({frames.ndim - 2: -1, frames.ndim - 1: -1})

        def both_block(block):
            return np.stack(_block(block, op), axis=-2)

        # one pass over the frames for both outputs: (..., 2, n_bins)
        both = frames.map_blocks(
            both_block, chunks=frames.chunks[:-2] + ((2,), (n_bins,)), dtype=float
        )
        return both[..., 0, :], both[..., 1, :], op.n_valid
    import os

    mean, var = _block(np.asarray(frames), op, threads=min(os.cpu_count() or 1, 8))
    return mean, var, op.n_valid


def integrate_shifted(frames, kx, ky, edges, centres, *, quantum=0.25, mask=None, subpixel=4):
    """Like :func:`integrate`, with a pattern centre per frame (descan).

    The centres are rounded to ``quantum`` pixels and one operator is built
    per distinct rounded centre within each block of frames (the radii are
    shifted inside the integration; no frame is resampled).

    Parameters
    ----------
    frames : numpy.ndarray or dask.array.Array
        Patterns, shape (..., ny, nx).
    kx, ky, edges, mask, subpixel
        As for :func:`radial_operator`.
    centres : numpy.ndarray or dask.array.Array
        Pattern centre (kx0, ky0) of every frame in Å⁻¹, shape (..., 2).
    quantum : float
        Rounding of the centres in pixels (0 < quantum ≤ 1).

    Returns
    -------
    mean, variance : numpy.ndarray or dask.array.Array
        Shape (..., n_bins).

    Examples
    --------
    >>> k = np.arange(-8, 8) + 0.5
    >>> frames = np.ones((3, 16, 16))
    >>> centres = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, -2.0]])
    >>> mean, var = integrate_shifted(frames, k, k, [0.0, 2.0, 4.0], centres)
    >>> bool(np.allclose(mean, 1.0))
    True
    """
    kx = np.asarray(kx, dtype=float)
    ky = np.asarray(ky, dtype=float)
    if not 0 < quantum <= 1:
        raise ValueError(f"'quantum' must be in (0, 1] pixels; got {quantum}.")
    if tuple(centres.shape) != tuple(frames.shape[:-2]) + (2,):
        raise ValueError(
            f"'centres' must have shape {tuple(frames.shape[:-2]) + (2,)}; got {tuple(centres.shape)}."
        )
    step = np.array([kx[1] - kx[0], ky[1] - ky[0]])
    n_bins = len(edges) - 1

    def block(fr, ce):
        lead = fr.shape[:-2]
        flat = fr.reshape((-1,) + fr.shape[-2:])
        keys = np.round(np.asarray(ce, dtype=float).reshape(-1, 2) / (quantum * step)).astype(np.int64)
        out = np.empty((2, flat.shape[0], n_bins))
        unique, inverse = np.unique(keys, axis=0, return_inverse=True)
        for j, key in enumerate(unique):
            rows = np.flatnonzero(inverse.ravel() == j)
            op = radial_operator(kx, ky, edges, mask=mask, subpixel=subpixel,
                                 center=tuple(key * quantum * step))
            out[0, rows], out[1, rows] = _block(flat[rows], op)
        return out.reshape((2,) + lead + (n_bins,))

    if hasattr(frames, "dask"):
        import dask.array as da

        frames = frames.rechunk({frames.ndim - 2: -1, frames.ndim - 1: -1})
        # an extra length-1 axis so that both arrays have the same block grid
        centres = da.asarray(centres)[..., None, :].rechunk(frames.chunks[:-2] + ((1,), (2,)))

        def kernel(fr, ce):
            return np.moveaxis(block(fr, ce), 0, -2)

        both = da.map_blocks(kernel, frames, centres,
                             chunks=frames.chunks[:-2] + ((2,), (n_bins,)), dtype=float)
        return both[..., 0, :], both[..., 1, :]
    result = block(np.asarray(frames), centres)
    return result[0], result[1]
