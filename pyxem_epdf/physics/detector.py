"""Detector masks: dead and hot pixels from the scan-summed pattern, chip gaps.

At ~10 e⁻/Å² a single pattern has < 0.1 counts per pixel at high s, so bad
pixels are found on the pattern summed over the whole scan, ring by ring:
a pixel is *hot* if its sum exceeds the median of its ring by more than
``hot_threshold`` robust standard deviations (the larger of 1.4826 × MAD and
the Poisson √median), and *dead* if it counted nothing where its ring's
median is at least ``dead_min_counts`` — by default ln(n_pixels / 0.01), the
level at which a live pixel reads 0 by chance (Poisson, e^−median per pixel)
somewhere on the detector with probability < 1 %.
"""

import numpy as np

__all__ = ["bad_pixels", "quad_gap_mask"]


def quad_gap_mask(shape=(515, 515), chip=256, gap=3):
    """Mask of the inter-chip gap rows and columns of a 2 × 2 Medipix3 detector.

    Parameters
    ----------
    shape : tuple of int
        Detector shape, 2 chip + gap on each side (515 × 515 for the quad).
    chip, gap : int
        Chip size and gap width in pixels.

    Returns
    -------
    numpy.ndarray of bool
        True on the gap rows and columns.

    Examples
    --------
    >>> m = quad_gap_mask()
    >>> int(m.sum()), bool(m[256, 0]), bool(m[0, 258]), bool(m[255, 255])
    (3081, True, True, False)
    """
    if tuple(shape) != (2 * chip + gap, 2 * chip + gap):
        raise ValueError(
            f"'shape' {tuple(shape)} is not a 2 × 2 chip detector with chip={chip}, gap={gap} "
            f"(expected {(2 * chip + gap,) * 2})."
        )
    mask = np.zeros(shape, dtype=bool)
    mask[chip:chip + gap, :] = True
    mask[:, chip:chip + gap] = True
    return mask


def bad_pixels(summed, radius, *, hot_threshold=8.0, dead_min_counts=None, exclude=None):
    """Hot and dead pixels of a scan-summed pattern, by rings.

    Parameters
    ----------
    summed : array_like
        Pattern summed over the scan (counts), shape (ny, nx).
    radius : array_like
        Distance of every pixel from the pattern centre in pixels, same shape.
    hot_threshold : float
        Robust standard deviations above the ring median that make a pixel hot (> 0).
    dead_min_counts : float, optional
        Ring median from which a zero-count pixel is called dead (> 0);
        default ln(n_pixels / 0.01).
    exclude : array_like of bool, optional
        Pixels left out of the ring statistics and of the result (e.g. gaps).

    Returns
    -------
    hot, dead : numpy.ndarray of bool

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y, x = np.mgrid[:64, :64]
    >>> r = np.hypot(y - 31.5, x - 31.5)
    >>> img = rng.poisson(50.0, (64, 64)).astype(float)   # ln(4096/0.01) = 12.9 < 50
    >>> img[10, 10], img[20, 40] = 5000, 0
    >>> hot, dead = bad_pixels(img, r)
    >>> np.argwhere(hot).tolist(), np.argwhere(dead).tolist()
    ([[10, 10]], [[20, 40]])
    """
    summed = np.asarray(summed, dtype=float)
    radius = np.asarray(radius, dtype=float)
    if summed.shape != radius.shape or summed.ndim != 2:
        raise ValueError("'summed' and 'radius' must be 2-D arrays of the same shape.")
    if dead_min_counts is None:
        dead_min_counts = float(np.log(summed.size / 0.01))
    if not (hot_threshold > 0 and dead_min_counts > 0):
        raise ValueError("'hot_threshold' and 'dead_min_counts' must be > 0.")
    valid = np.ones(summed.shape, bool) if exclude is None else ~np.asarray(exclude, bool)
    ring = np.floor(radius).astype(np.intp)
    median = np.zeros(summed.shape)
    spread = np.zeros(summed.shape)
    order = np.argsort(ring[valid], kind="stable")
    values = summed[valid][order]
    rings = ring[valid][order]
    bounds = np.flatnonzero(np.diff(rings)) + 1
    med_of = {}
    for chunk_vals, chunk_ring in zip(np.split(values, bounds), np.split(rings, bounds),
                                      strict=True):
        m = np.median(chunk_vals)
        mad = 1.4826 * np.median(np.abs(chunk_vals - m))
        med_of[int(chunk_ring[0])] = (m, max(mad, np.sqrt(max(m, 1.0))))
    lookup_m = np.array([med_of.get(k, (0.0, 1.0))[0] for k in range(ring.max() + 1)])
    lookup_s = np.array([med_of.get(k, (0.0, 1.0))[1] for k in range(ring.max() + 1)])
    median, spread = lookup_m[ring], lookup_s[ring]
    hot = valid & (summed - median > hot_threshold * spread)
    dead = valid & (summed == 0) & (median >= dead_min_counts)
    return hot, dead
