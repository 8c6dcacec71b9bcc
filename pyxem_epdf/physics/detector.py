"""Detector masks: dead and hot pixels from the scan-summed pattern, chip gaps.

At ~10 e⁻/Å² a single pattern has < 0.1 counts per pixel at high s, so bad
pixels are found on the pattern summed over the whole scan, ring by ring:
a pixel is *hot* if its sum exceeds the median of its ring by more than
``hot_threshold`` robust standard deviations (the larger of 1.4826 × MAD and
the Poisson √median), and *dead* if it counted nothing where its ring's
median is at least ``dead_min_counts`` — by default ln(n_pixels / 0.01), the
level at which a live pixel reads 0 by chance (Poisson, e^−median per pixel)
somewhere on the detector with probability < 1 %.

:func:`gap_mask` returns the chip / module gaps of a detector from its name:
the layouts of :data:`pyxem_epdf.physics.calibration.DETECTORS` (Medipix3 /
Merlin single chip and quad, DECTRIS ARINA and QUADRO, EIGER 1M) and the
DECTRIS EIGER (X) family of :func:`eiger_layout` (500K, 1M, 4M, 9M, 16M).
"""

import numpy as np

__all__ = ["DETECTOR_LAYOUTS", "bad_pixels", "eiger_layout", "gap_mask", "quad_gap_mask"]

#: EIGER (X) sizes: name → modules (rows, columns).
EIGER_MODULES = {"eiger_500k": (1, 1), "eiger_1m": (2, 1), "eiger_4m": (4, 2),
                 "eiger_9m": (6, 3), "eiger_16m": (8, 4)}


def eiger_layout(modules):
    """Shape and gap ranges of a DECTRIS EIGER (X) detector of ``modules`` (rows, columns).

    A module is 514 × 1030 pixels (rows × columns): 2 × 4 chips of 256²
    separated by 2-pixel gaps (rows 256–257; columns 256–257, 514–515,
    772–773). Modules are separated by 37 gap rows and 10 gap columns (the
    DECTRIS EIGER X specification: 1M 1065 × 1030, 4M 2167 × 2070, 9M
    3269 × 3110, 16M 4371 × 4150).

    Parameters
    ----------
    modules : tuple of int
        Modules along rows and columns (each 1–8).

    Returns
    -------
    tuple
        ((rows, columns), gap-row ranges, gap-column ranges); ranges as
        (start, stop) indices, stop exclusive.

    Examples
    --------
    >>> eiger_layout((4, 2))[0]
    (2167, 2070)
    >>> eiger_layout((1, 1))
    ((514, 1030), ((256, 258),), ((256, 258), (514, 516), (772, 774)))
    """
    my, mx = (int(v) for v in modules)
    if not (1 <= my <= 8 and 1 <= mx <= 8):
        raise ValueError(f"'modules' must be two integers in [1, 8]; got {modules!r}.")
    rows, cols = [], []
    for k in range(my):
        o = k * (514 + 37)
        rows.append((o + 256, o + 258))
        if k < my - 1:
            rows.append((o + 514, o + 551))
    for k in range(mx):
        o = k * (1030 + 10)
        cols.extend([(o + 256, o + 258), (o + 514, o + 516), (o + 772, o + 774)])
        if k < mx - 1:
            cols.append((o + 1030, o + 1040))
    shape = (my * 514 + (my - 1) * 37, mx * 1030 + (mx - 1) * 10)
    return shape, tuple(rows), tuple(cols)


def _layouts():
    from .calibration import DETECTORS

    out = dict(DETECTORS)
    out.update({name: eiger_layout(m) for name, m in EIGER_MODULES.items()})
    out["medipix_quad"] = DETECTORS["merlin_quad"]
    return out


#: Every named layout: name → ((rows, columns), gap rows, gap columns).
DETECTOR_LAYOUTS = _layouts()


def gap_mask(name, shape=None):
    """Mask of the chip / module gaps of a named detector.

    Parameters
    ----------
    name : str
        A key of :data:`DETECTOR_LAYOUTS`, case-insensitive, ``"-"`` and spaces
        read as ``"_"`` and an ``"x"`` model letter ignored (``"EIGER X 4M"``
        → ``"eiger_4m"``): ``medipix``, ``merlin`` (one 256² chip, no gap),
        ``merlin_quad`` = ``medipix_quad`` (515², 3-pixel cross), ``arina``,
        ``quadro`` (approximate), ``eiger_500k``, ``eiger_1m``, ``eiger_4m``,
        ``eiger_9m``, ``eiger_16m``.
    shape : tuple of int, optional
        The data's detector (rows, columns); a different layout size raises
        (binned or cropped data need their own mask).

    Returns
    -------
    numpy.ndarray of bool
        True on gap pixels, the layout's shape.

    Examples
    --------
    >>> m = gap_mask("EIGER X 4M")
    >>> m.shape, bool(m[514:551].all()), bool(m[:, 1030:1040].all()), bool(m[600, 600])
    ((2167, 2070), True, True, False)
    >>> int(gap_mask("Merlin-Quad", shape=(515, 515)).sum())
    3081
    """
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    key = key.replace("eiger_x_", "eiger_").replace("eigerx_", "eiger_")
    if key not in DETECTOR_LAYOUTS:
        raise ValueError(f"Unknown detector {name!r} in 'name'; known: {sorted(DETECTOR_LAYOUTS)}.")
    (rows, cols), grows, gcols = DETECTOR_LAYOUTS[key]
    if shape is not None and tuple(int(v) for v in shape) != (rows, cols):
        raise ValueError(f"Detector {key!r} is {rows} x {cols} pixels but 'shape' is "
                         f"{tuple(shape)}; binned or cropped data need their own mask.")
    out = np.zeros((rows, cols), dtype=bool)
    for a, b in grows:
        out[a:b, :] = True
    for a, b in gcols:
        out[:, a:b] = True
    return out


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
