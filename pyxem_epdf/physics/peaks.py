"""Peak positions and first-peak normalisation of G(r), vectorised.

Peaks are local maxima of the sampled G(r) refined to sub-grid precision by
the vertex of the parabola through the maximum and its two neighbours:

.. math::

    δ = \\frac{1}{2}\\frac{y_{-1} - y_{+1}}{y_{-1} - 2 y_0 + y_{+1}},\\quad
    r_{peak} = r_0 + δ Δr,\\quad
    G_{peak} = y_0 - \\frac{1}{4}(y_{-1} - y_{+1}) δ .

:func:`find_peaks`, :func:`track_peaks`, :func:`first_peak` and
:func:`peak_widths` work on NumPy arrays with any leading (navigation) shape
and loop over nothing but the requested number of peaks. :func:`peak_basins`
and :func:`match_peaks` compare one curve with one reference curve (1-D): the
reference's peak basins, and the curve's own peak in each of them.
"""

import numpy as np

from ._common import as_axis, window_slice


def _parabolic(y, i):
    """Sub-grid offset δ (in samples) and height at integer maxima ``i``.

    ``i`` has the navigation shape of ``y`` plus one trailing axis (peaks).
    """
    i = np.clip(i, 1, y.shape[-1] - 2)
    ym = np.take_along_axis(y, i - 1, -1)
    y0 = np.take_along_axis(y, i, -1)
    yp = np.take_along_axis(y, i + 1, -1)
    den = ym - 2 * y0 + yp
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(den < 0, 0.5 * (ym - yp) / np.where(den < 0, den, -1), 0.0)
    delta = np.clip(delta, -0.5, 0.5)
    return delta, y0 - 0.25 * (ym - yp) * delta


def find_peaks(g, r, *, r_range=None, n_peaks=5, min_height=0.0):
    """The ``n_peaks`` highest local maxima of G(r), sorted by position.

    Parameters
    ----------
    g : numpy.ndarray
        G(r), any leading shape, r last.
    r : array_like
        Uniform r grid in Å.
    r_range : tuple of float, optional
        (lo, hi) in Å to search; default the whole grid.
    n_peaks : int
        Number of peaks returned per spectrum (≥ 1).
    min_height : float
        Maxima with G below this (Å⁻²) are ignored.

    Returns
    -------
    positions, heights : numpy.ndarray
        Shape ``navigation + (n_peaks,)``, positions in Å (sub-grid) and
        heights in Å⁻², sorted by position; NaN where fewer peaks exist.

    Examples
    --------
    >>> r = np.arange(0, 5, 0.1)
    >>> g = np.exp(-0.5 * ((r - 2.03) / 0.2) ** 2)
    >>> pos, h = find_peaks(g, r, n_peaks=1)
    >>> round(float(pos[0]), 2), round(float(h[0]), 2)
    (2.03, 1.0)
    """
    r = as_axis(r, "r")
    if int(n_peaks) < 1:
        raise ValueError(f"'n_peaks' must be >= 1; got {n_peaks!r}.")
    n_peaks = int(n_peaks)
    g = np.asarray(g, dtype=float)
    win = window_slice(r, *(r_range or (r[0], r[-1])), name="r_range")
    lo, hi = max(win.start, 1), min(win.stop, r.size - 1)
    centre = g[..., lo:hi]
    is_max = (centre > g[..., lo - 1 : hi - 1]) & (centre >= g[..., lo + 1 : hi + 1])
    is_max &= centre >= min_height
    score = np.where(is_max, centre, -np.inf)
    k = min(n_peaks, score.shape[-1])
    top = np.argsort(-score, axis=-1, kind="stable")[..., :k]
    found = np.isfinite(np.take_along_axis(score, top, -1))
    idx = top + lo
    delta, height = _parabolic(g, idx)
    step = r[1] - r[0]
    pos = np.where(found, r[idx] + delta * step, np.nan)
    height = np.where(found, height, np.nan)
    order = np.argsort(np.where(np.isnan(pos), np.inf, pos), axis=-1)
    pos = np.take_along_axis(pos, order, -1)
    height = np.take_along_axis(height, order, -1)
    if k < n_peaks:
        pad = [(0, 0)] * (pos.ndim - 1) + [(0, n_peaks - k)]
        pos = np.pad(pos, pad, constant_values=np.nan)
        height = np.pad(height, pad, constant_values=np.nan)
    return pos, height


def track_peaks(g, r, positions, *, window=0.15):
    """Positions of the local maxima of G(r) nearest given reference positions.

    For every reference position p the local maximum of G in
    [p − window, p + window] nearest to p is refined by the parabola through
    it and its neighbours. Used to follow the same peaks through bootstrap resamples or
    a second scan, where ranking "the n highest peaks" could swap them.

    Parameters
    ----------
    g : numpy.ndarray
        G(r), any leading shape, r last.
    r : array_like
        Uniform r grid in Å.
    positions : array_like
        Reference positions in Å, 1-D (one set for every spectrum).
    window : float
        Half-width of the search window in Å (> 0).

    Returns
    -------
    positions, heights : numpy.ndarray
        Shape ``navigation + (len(positions),)``; NaN where the window holds
        no local maximum.

    Examples
    --------
    >>> r = np.arange(0, 5, 0.01)
    >>> g = np.stack([np.exp(-0.5 * ((r - c) / 0.1) ** 2) for c in (2.00, 2.04)])
    >>> pos, _ = track_peaks(g, r, [2.0])
    >>> pos.round(3).ravel().tolist()
    [2.0, 2.04]
    """
    r = as_axis(r, "r")
    if not window > 0:
        raise ValueError(f"'window' must be > 0 Å; got {window!r}.")
    g = np.asarray(g, dtype=float)
    ref = np.atleast_1d(np.asarray(positions, dtype=float))
    step = r[1] - r[0]
    out_pos, out_h = [], []
    for p in ref:  # a handful of peaks; every spectrum at once
        lo = max(int(np.ceil((p - window - r[0]) / step)), 1)
        hi = min(int(np.floor((p + window - r[0]) / step)) + 1, r.size - 1)
        if hi - lo < 3:
            raise ValueError(f"Reference position {p:g} Å with window {window:g} Å lies "
                             f"outside the r grid [{r[0]:g}, {r[-1]:g}] Å.")
        centre = g[..., lo:hi]
        is_max = (centre > g[..., lo - 1:hi - 1]) & (centre >= g[..., lo + 1:hi + 1])
        score = np.where(is_max, -np.abs(r[lo:hi] - p), -np.inf)
        i = np.argmax(score, axis=-1)
        found = np.isfinite(np.take_along_axis(score, i[..., None], -1)[..., 0])
        idx = (i + lo)[..., None]
        delta, height = _parabolic(g, idx)
        out_pos.append(np.where(found, r[idx[..., 0]] + delta[..., 0] * step, np.nan))
        out_h.append(np.where(found, height[..., 0], np.nan))
    return np.stack(out_pos, axis=-1), np.stack(out_h, axis=-1)


def first_peak(g, r, *, r_range=(1.0, 3.0), min_fraction=0.2):
    """Position and height of the first peak of G(r) in ``r_range``.

    The first peak is the lowest-r local maximum whose height is at least
    ``min_fraction`` × the largest value of G in ``r_range`` (so that noise
    wiggles on the rising edge are skipped).

    Parameters
    ----------
    g : numpy.ndarray
        G(r), any leading shape, r last.
    r : array_like
        Uniform r grid in Å.
    r_range : tuple of float
        (lo, hi) in Å bracketing the first coordination shell.
    min_fraction : float
        In (0, 1].

    Returns
    -------
    position, height : numpy.ndarray
        Navigation-shaped, Å and Å⁻²; NaN where no positive maximum exists.

    Examples
    --------
    >>> r = np.arange(0, 5, 0.01)
    >>> g = 2 * np.exp(-0.5 * ((r - 1.6) / 0.1) ** 2) + 5 * np.exp(-0.5 * ((r - 2.6) / 0.1) ** 2)
    >>> p, h = first_peak(g, r, r_range=(1.0, 3.0))
    >>> round(float(p), 3), round(float(h), 3)
    (1.6, 2.0)
    """
    r = as_axis(r, "r")
    if not 0 < min_fraction <= 1:
        raise ValueError(f"'min_fraction' must be in (0, 1]; got {min_fraction!r}.")
    g = np.asarray(g, dtype=float)
    win = window_slice(r, *r_range, name="r_range")
    lo, hi = max(win.start, 1), min(win.stop, r.size - 1)
    centre = g[..., lo:hi]
    top = centre.max(axis=-1, keepdims=True)
    is_max = (centre > g[..., lo - 1 : hi - 1]) & (centre >= g[..., lo + 1 : hi + 1])
    is_max &= (centre >= min_fraction * top) & (centre > 0)
    has = is_max.any(axis=-1)
    idx = np.argmax(is_max, axis=-1) + lo
    delta, height = (x[..., 0] for x in _parabolic(g, idx[..., None]))
    pos = np.where(has, r[idx] + delta * (r[1] - r[0]), np.nan)
    return pos, np.where(has, height, np.nan)


def peak_widths(g, r, positions, heights):
    """Full widths at half maximum of given peaks, vectorised.

    From each peak the half-height crossings are searched to the left and
    right and located by linear interpolation between samples.

    Parameters
    ----------
    g : numpy.ndarray
        G(r), any leading shape, r last.
    r : array_like
        Uniform r grid in Å.
    positions, heights : numpy.ndarray
        Peak positions (Å) and heights, shape ``leading + (n_peaks,)`` (as
        returned by :func:`find_peaks`).

    Returns
    -------
    numpy.ndarray
        FWHM in Å, shape of ``positions``; NaN where a position is NaN or a
        half-height crossing is not reached inside the grid.

    Examples
    --------
    >>> r = np.arange(0, 5, 0.01)
    >>> g = np.exp(-0.5 * ((r - 2.0) / 0.1) ** 2)
    >>> pos, h = find_peaks(g, r, n_peaks=1)
    >>> round(float(peak_widths(g, r, pos, h)[0]), 2)  # 2.3548 σ
    0.24
    """
    r = as_axis(r, "r")
    g = np.asarray(g, dtype=float)
    pos = np.asarray(positions, dtype=float)
    half = 0.5 * np.asarray(heights, dtype=float)
    step = r[1] - r[0]
    ok = np.isfinite(pos) & np.isfinite(half)
    i0 = np.clip(np.rint((np.where(ok, pos, r[0]) - r[0]) / step).astype(int), 0, r.size - 1)
    gg = g[..., None, :]  # leading + (1, n_r)
    below = gg < half[..., None]  # leading + (n_peaks, n_r)
    idx = np.arange(r.size)
    left_cand = below & (idx < i0[..., None])
    right_cand = below & (idx > i0[..., None])
    has_left, has_right = left_cand.any(-1), right_cand.any(-1)
    il = np.where(has_left, r.size - 1 - np.argmax(left_cand[..., ::-1], axis=-1), 0)
    ir = np.where(has_right, np.argmax(right_cand, axis=-1), r.size - 1)

    def crossing(i_below, i_above):
        gb = np.take_along_axis(g, i_below.reshape(i_below.shape[:-1] + (-1,)), -1)
        ga = np.take_along_axis(g, i_above.reshape(i_above.shape[:-1] + (-1,)), -1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(ga != gb, (half - gb) / (ga - gb), 0.5)
        return r[i_below] + t * (r[i_above] - r[i_below])

    il_up = np.clip(il + 1, 0, r.size - 1)
    ir_up = np.clip(ir - 1, 0, r.size - 1)
    width = crossing(ir, ir_up) - crossing(il, il_up)
    return np.where(ok & has_left & has_right, width, np.nan)


def peak_basins(g_ref, r, positions):
    """The basin of each given peak of a reference curve: its nearest minima.

    For every position p the interval between the nearest local minimum of
    ``g_ref`` below p and the nearest one above it (the grid ends where there
    is none). Two different peaks of ``g_ref`` never share a basin: their
    basins meet at most at the minimum between them.

    Parameters
    ----------
    g_ref : numpy.ndarray
        Reference G(r), 1-D.
    r : array_like
        Uniform r grid in Å.
    positions : array_like
        Peak positions of ``g_ref`` in Å, 1-D, on the grid [r[0], r[-1]];
        NaN entries give NaN basins.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(positions), 2)``: (lo, hi) in Å.

    Examples
    --------
    >>> r = np.arange(0, 6, 0.01)
    >>> g = np.exp(-0.5 * ((r - 2) / 0.2) ** 2) + np.exp(-0.5 * ((r - 3) / 0.2) ** 2)
    >>> peak_basins(g, r, [2.0, 3.0]).round(2).tolist()
    [[0.0, 2.5], [2.5, 5.99]]
    """
    r = as_axis(r, "r")
    g_ref = np.asarray(g_ref, dtype=float)
    if g_ref.shape != r.shape:
        raise ValueError(f"'g_ref' must be 1-D on the r grid ({r.size} values); "
                         f"got shape {g_ref.shape}.")
    is_min = np.zeros(r.size, dtype=bool)
    is_min[1:-1] = (g_ref[1:-1] <= g_ref[:-2]) & (g_ref[1:-1] < g_ref[2:])
    minima = r[is_min]
    pos = np.atleast_1d(np.asarray(positions, dtype=float))
    if pos.ndim != 1:
        raise ValueError(f"'positions' must be 1-D (Å); got shape {pos.shape}.")
    off = ~np.isnan(pos) & ~((pos >= r[0]) & (pos <= r[-1]))
    if off.any():
        raise ValueError(f"'positions' must lie on the r grid [{r[0]:g}, {r[-1]:g}] Å (or be "
                         f"NaN); got {pos[off][0]!r}.")
    edges = np.concatenate([[r[0]], minima, [r[-1]]])  # grid ends close the outer basins
    lo = edges[np.searchsorted(minima, pos, side="left")]  # last minimum < p
    hi = edges[np.searchsorted(minima, pos, side="right") + 1]  # first minimum > p
    out = np.stack([lo, hi], axis=-1).astype(float)
    out[~np.isfinite(pos)] = np.nan
    return out


def match_peaks(g, r, basins):
    """Position of the peak of G(r) in each given basin: its highest local maximum there.

    Every local maximum of ``g`` is refined by the parabola through it and its
    neighbours (as in :func:`find_peaks`); in each basin (lo, hi), e.g. of a
    reference peak by :func:`peak_basins`, the highest one strictly inside is
    returned. No count of peaks is cut first, so a low but real peak (a broad
    peak at high r below the wiggles of the strong low-r peaks) is found in its
    basin; a maximum in another basin is never taken for it.

    Parameters
    ----------
    g : numpy.ndarray
        G(r), 1-D.
    r : array_like
        Uniform r grid in Å.
    basins : array_like
        Shape ``(n, 2)`` (or one pair), (lo, hi) in Å with lo < hi; NaN rows
        give NaN.

    Returns
    -------
    positions, heights : numpy.ndarray
        Shape ``(n,)``, Å and Å⁻²; NaN where a basin holds no local maximum
        (or is NaN).

    Examples
    --------
    >>> r = np.arange(0, 6, 0.01)
    >>> g = np.exp(-0.5 * ((r - 2.013) / 0.2) ** 2) + 0.5 * np.exp(-0.5 * ((r - 3.1) / 0.2) ** 2)
    >>> pos, h = match_peaks(g, r, [[0.0, 2.5], [2.5, 5.99]])
    >>> pos.round(3).tolist()
    [2.013, 3.1]
    """
    r = as_axis(r, "r")
    g = np.asarray(g, dtype=float)
    if g.shape != r.shape:
        raise ValueError(f"'g' must be 1-D on the r grid ({r.size} values); got shape {g.shape}.")
    basins = np.asarray(basins, dtype=float)
    if basins.ndim == 1 and basins.size == 2:
        basins = basins[None, :]
    if basins.ndim != 2 or basins.shape[1] != 2:
        raise ValueError(f"'basins' must have shape (n, 2) of (lo, hi) in Å; got shape "
                         f"{basins.shape}.")
    bad = ~(basins[:, 0] < basins[:, 1]) & ~np.isnan(basins).any(axis=1)
    if bad.any():
        raise ValueError(f"'basins' must have lo < hi (or be NaN); got "
                         f"{basins[bad][0].tolist()}.")
    centre = g[1:-1]
    is_max = (centre > g[:-2]) & (centre >= g[2:])
    idx = np.flatnonzero(is_max) + 1
    delta, height = (x[0] for x in _parabolic(g[None, :], idx[None, :]))
    pos = r[idx] + delta * (r[1] - r[0])
    inside = (pos > basins[:, :1]) & (pos < basins[:, 1:])  # (n, n_max)
    if not idx.size:
        return np.full(len(basins), np.nan), np.full(len(basins), np.nan)
    best = np.argmax(np.where(inside, height, -np.inf), axis=-1)
    found = inside.any(axis=-1)
    return np.where(found, pos[best], np.nan), np.where(found, height[best], np.nan)
