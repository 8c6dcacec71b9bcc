"""Rank evidence and closure-aware unmixing of a per-pixel PDF cube.

At every probe position of an n-phase sample the phase fractions are ≥ 0 and
sum to 1, so they are not independent sources; ICA of such fractions tends to
return one map well and a mixture for the other. :func:`closure_unmix` fits
the model X ≈ F E with each row of F on the probability simplex (fractions)
and E the pure-phase PDFs, by alternating least squares with exact
projections. :func:`parallel_analysis` (Horn 1965) counts the components
that rise above what column-shuffled data of the same noise give.

All functions take X of shape (n_pixels, n_r) and are vectorised over pixels.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ParallelAnalysis(NamedTuple):
    """Result of :func:`parallel_analysis`.

    Attributes
    ----------
    n_components : int
        Components whose singular value exceeds the null quantile.
    singular_values : numpy.ndarray
        Singular values of the column-centred data.
    null_singular_values : numpy.ndarray
        Their ``quantile`` over the shuffled (null) data sets.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w = np.sort(rng.uniform(size=(200, 1)), axis=0)   # one smooth component + noise
    >>> x = w * np.sin(np.linspace(0, 6, 50)) + 0.05 * rng.normal(size=(200, 50))
    >>> pa = parallel_analysis(x)
    >>> pa.n_components, pa.singular_values.shape, pa.null_singular_values.shape
    (1, (50,), (50,))
    >>> bool(pa.singular_values[0] > pa.null_singular_values[0] > pa.singular_values[1])
    True
    """

    n_components: int
    singular_values: np.ndarray
    null_singular_values: np.ndarray


class ClosureUnmixing(NamedTuple):
    """Result of :func:`closure_unmix`.

    Attributes
    ----------
    fractions : numpy.ndarray
        (n_pixels, k) phase fractions, ≥ 0 and summing to 1 per pixel.
    endmembers : numpy.ndarray
        (k, n_r) pure-phase profiles.
    residual : numpy.ndarray
        (n_pixels,) rms residual per pixel.
    n_iter : int
        Alternations run.
    converged : bool
    pure : numpy.ndarray of bool
        (n_pixels, k): the pixels averaged into each endmember.

    Examples
    --------
    >>> r = np.linspace(1, 8, 100)
    >>> e = np.stack([np.sin(2 * r), np.cos(3 * r)])
    >>> w = np.linspace(0, 1, 50)[:, None]   # a linear mixing series
    >>> res = closure_unmix(np.hstack([w, 1 - w]) @ e, 2)
    >>> res.fractions.shape, res.endmembers.shape, bool(res.converged)
    ((50, 2), (2, 100), True)
    >>> bool(np.allclose(res.fractions.sum(axis=1), 1.0)), res.pure.sum(axis=0).tolist()
    (True, [8, 8])
    """

    fractions: np.ndarray
    endmembers: np.ndarray
    residual: np.ndarray
    n_iter: int
    converged: bool
    pure: np.ndarray


def _check_x(x):
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"'X' must be 2-D (n_pixels, n_r); got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("'X' must be finite (no NaN/inf).")
    return x


def parallel_analysis(x, *, null="neighbour", n_shuffles=20, quantile=0.95, seed=0,
                      max_components=None):
    """Number of significant components against a simulated noise floor.

    The singular values of the column-centred X are compared with the
    ``quantile`` of those of ``n_shuffles`` null data sets of the same shape
    (Horn's parallel analysis). Leading singular values above that floor
    are significant.

    Two nulls are offered:

    * ``"neighbour"`` (default, for PDF cubes): Gaussian noise with the
      covariance over r estimated from differences of consecutive pixels,
      Σ = ⟨(x_{i+1} − x_i)(x_{i+1} − x_i)ᵀ⟩ / 2. Structure varies slowly
      across a scan and cancels in the differences; the noise of G(r) is
      strongly correlated along r (it is the transform of the φ noise) and
      this null keeps that correlation. Rows must be in scan (raster) order.
    * ``"shuffle"``: every column permuted independently across pixels
      (classic Horn); right for noise that is independent between columns,
      and it over-counts components when the noise is correlated along r.

    Parameters
    ----------
    x : array_like
        Data, shape (n_pixels, n_r), rows in raster order of the scan.
    null : {"neighbour", "shuffle"}
        Null model (see above).
    n_shuffles : int
        Number of null data sets (≥ 1).
    quantile : float
        Quantile of the null singular values used as floor, in (0, 1).
    seed : int
        Seed of :func:`numpy.random.default_rng`.
    max_components : int, optional
        Number of singular values returned (default all).

    Returns
    -------
    ParallelAnalysis
        ``n_components`` (count of the leading run above the floor),
        ``singular_values`` and ``null_singular_values``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w = np.sort(rng.uniform(size=(200, 1)), axis=0)   # smooth along the scan
    >>> x = w * np.sin(np.linspace(0, 6, 50)) + 0.05 * rng.normal(size=(200, 50))
    >>> parallel_analysis(x).n_components, parallel_analysis(x, null="shuffle").n_components
    (1, 1)
    """
    x = _check_x(x)
    if int(n_shuffles) < 1:
        raise ValueError(f"'n_shuffles' must be >= 1; got {n_shuffles}.")
    if not 0 < quantile < 1:
        raise ValueError(f"'quantile' must lie in (0, 1); got {quantile}.")
    if null not in ("neighbour", "shuffle"):
        raise ValueError(f"'null' must be 'neighbour' or 'shuffle'; got {null!r}.")
    if x.shape[0] < 3:
        raise ValueError(f"parallel_analysis needs at least 3 pixels; got {x.shape[0]}.")
    xc = x - x.mean(axis=0)
    sv = np.linalg.svd(xc, compute_uv=False)
    rng = np.random.default_rng(seed)
    null_sv = np.empty((int(n_shuffles), sv.size))
    if null == "neighbour":
        d = np.diff(x, axis=0)
        cov = d.T @ d / (2 * d.shape[0])
        lam, vec = np.linalg.eigh(cov)
        root = vec * np.sqrt(np.clip(lam, 0, None))
    for i in range(int(n_shuffles)):
        if null == "neighbour":
            z = rng.standard_normal(xc.shape) @ root.T
            z -= z.mean(axis=0)
        else:
            order = np.argsort(rng.random(xc.shape), axis=0)
            z = np.take_along_axis(xc, order, axis=0)
        null_sv[i] = np.linalg.svd(z, compute_uv=False)
    floor = np.quantile(null_sv, quantile, axis=0)
    above = sv > floor
    n = int(np.argmin(above)) if not above.all() else sv.size
    m = sv.size if max_components is None else int(max_components)
    return ParallelAnalysis(n, sv[:m], floor[:m])


def project_to_simplex(y):
    """Euclidean projection of every row onto the probability simplex.

    Parameters
    ----------
    y : array_like
        Shape (n, k).

    Returns
    -------
    numpy.ndarray
        Rows ≥ 0 summing to 1, the closest such points to the rows of ``y``
        (sort-based algorithm, Duchi et al. 2008).

    Examples
    --------
    >>> project_to_simplex([[0.2, 0.8], [2.0, 0.0], [0.7, 0.7]])
    array([[0.2, 0.8],
           [1. , 0. ],
           [0.5, 0.5]])
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 2:
        raise ValueError(f"'y' must be 2-D (n, k); got shape {y.shape}.")
    k = y.shape[1]
    u = -np.sort(-y, axis=1)
    css = np.cumsum(u, axis=1) - 1.0
    idx = np.arange(1, k + 1)
    cond = u - css / idx > 0
    rho = k - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(len(y)), rho] / (rho + 1)
    return np.maximum(y - theta[:, None], 0.0)


def robust_mean(rows, cut=3.0):
    """Mean of the rows that lie within ``cut`` × the median distance of the median row.

    Parameters
    ----------
    rows : array_like
        Shape (n, m).
    cut : float
        Outlier cut in units of the median distance (> 1).

    Returns
    -------
    numpy.ndarray
        Shape (m,).

    Examples
    --------
    >>> rows = np.vstack([np.ones((9, 3)), [[100.0, 100.0, 100.0]]])
    >>> robust_mean(rows + np.arange(10)[:, None] * 1e-3).round(3).tolist()
    [1.004, 1.004, 1.004]
    """
    rows = np.asarray(rows, dtype=float)
    med = np.median(rows, axis=0)
    d = np.sqrt(np.einsum("ij,ij->i", rows - med, rows - med))
    keep = d <= cut * np.median(d)
    if keep.sum() < max(1, len(rows) // 2):
        keep = d <= np.median(d)
    return rows[keep].mean(axis=0)


def _initial_endmembers(x, k):
    """k mutually distant pixels (successive farthest-point search), each
    replaced by the mean of its nearest 2 % of pixels so that a single outlier
    cannot become a vertex."""
    centred = x - x.mean(axis=0)
    chosen = [int(np.argmax(np.einsum("ij,ij->i", centred, centred)))]
    for _ in range(1, k):
        basis = x[chosen] - x[chosen[0]]
        diff = x - x[chosen[0]]
        if len(chosen) > 1:
            q, _ = np.linalg.qr(basis[1:].T)
            diff = diff - (diff @ q) @ q.T
        chosen.append(int(np.argmax(np.einsum("ij,ij->i", diff, diff))))
    m = max(3, int(0.02 * len(x)))
    out = np.empty((k, x.shape[1]))
    for i, c in enumerate(chosen):
        d = np.einsum("ij,ij->i", x - x[c], x - x[c])
        out[i] = x[np.argsort(d, kind="stable")[:m]].mean(axis=0)
    return out


def _simplex_ls(x, e, f, n_steps):
    """A few projected-gradient steps of min ||X − F E||² with F on the simplex."""
    gram = e @ e.T
    lipschitz = np.linalg.eigvalsh(gram)[-1]
    xe = x @ e.T
    for _ in range(n_steps):
        f = project_to_simplex(f - (f @ gram - xe) / lipschitz)
    return f


def closure_unmix(x, n_phases, *, init=None, max_iter=500, tol=1e-7, inner_steps=10,
                  pure_threshold=0.9, min_pure=3, seed=0):
    """Phase fractions on the simplex and pure-phase profiles: X ≈ F E.

    Alternates (a) E by unconstrained least squares given F and (b) F by
    projected-gradient steps on the simplex given E, for all pixels at once,
    until the relative change of the residual is below ``tol``.

    With noisy data the least-squares simplex is pushed outwards (noise
    carries pixels beyond the pure-phase vertices and the fit encloses them),
    which exaggerates the endmembers. Where a phase has at least
    ``min_pure`` pixels with fraction ≥ ``pure_threshold`` × the 99th
    percentile of its fractions, its endmember is
    therefore replaced by the :func:`robust_mean` of those pixels (the
    region-averaged route of the paper, found automatically; outlier pixels —
    e.g. a failed N fit — are left out; nearly pure mixtures among them bias
    it slightly inwards), the fractions are refitted
    and reselected until the selection is stable (the selection bias of a
    single pass towards noise-extreme pixels vanishes); ``pure`` records the
    pixels used.

    Parameters
    ----------
    x : array_like
        Data, shape (n_pixels, n_r) (e.g. per-pixel G(r) over an r range).
    n_phases : int
        Number of phases k (2 ≤ k ≤ n_pixels).
    init : array_like, optional
        Initial endmembers (k, n_r); default the k most mutually distant
        pixels (deterministic).
    max_iter : int
        Maximum number of alternations.
    tol : float
        Convergence threshold on the relative change of the rms residual.
    inner_steps : int
        Projected-gradient steps per alternation.
    pure_threshold : float or None
        Fraction above which a pixel counts as pure; ``None`` keeps the
        least-squares endmembers.
    min_pure : int
        Minimum number of pure pixels for the replacement.
    seed : int
        Unused by the deterministic start; kept for API symmetry with ICA.

    Returns
    -------
    ClosureUnmixing
        ``fractions`` (n_pixels, k) ≥ 0 summing to 1, ``endmembers`` (k, n_r),
        ``residual`` (n_pixels,) rms residual per pixel, ``n_iter``,
        ``converged`` and ``pure`` (n_pixels, k) bool: the pixels averaged
        into each endmember (all False for a least-squares endmember).

    Examples
    --------
    >>> r = np.linspace(1, 8, 100)
    >>> e = np.stack([np.sin(2 * r), np.cos(3 * r)])
    >>> w = np.linspace(0, 1, 50)[:, None]
    >>> res = closure_unmix(np.hstack([w, 1 - w]) @ e, 2)
    >>> bool(res.converged), round(float(res.residual.max()), 6)
    (True, 0.0)
    """
    x = _check_x(x)
    k = int(n_phases)
    if not 2 <= k <= x.shape[0]:
        raise ValueError(
            f"'n_phases' must be between 2 and the number of pixels ({x.shape[0]}); got {n_phases}."
        )
    if init is None:
        e = _initial_endmembers(x, k)
    else:
        e = np.array(init, dtype=float)
        if e.shape != (k, x.shape[1]):
            raise ValueError(f"'init' must have shape {(k, x.shape[1])}; got {e.shape}.")
    f = project_to_simplex(np.full((x.shape[0], k), 1.0 / k))
    previous, converged, n_iter = np.inf, False, 0
    scale = np.sqrt(np.mean(x**2)) or 1.0
    for n_iter in range(1, int(max_iter) + 1):  # noqa: B007 (n_iter is returned)
        f = _simplex_ls(x, e, f, inner_steps)
        e, *_ = np.linalg.lstsq(f, x, rcond=None)
        rms = np.sqrt(np.mean((x - f @ e) ** 2))
        if abs(previous - rms) <= tol * scale or rms <= 1e-12 * scale:
            converged = True
            break
        previous = rms
    pure = np.zeros(f.shape, dtype=bool)
    if pure_threshold is not None:
        # self-consistent: endmember = mean of its pure pixels, fractions refitted,
        # until the selection no longer changes
        for _ in range(50):
            # relative to the largest fraction, so that a vertex pushed far
            # outwards (no fraction reaches the threshold) still gets a start
            # (the 99th percentile rather than the maximum: one noisy pixel must not set it)
            candidate = f >= float(pure_threshold) * np.percentile(f, 99, axis=0)
            use = candidate.sum(axis=0) >= int(min_pure)
            new = np.zeros_like(pure)
            new[:, use] = candidate[:, use]
            if not use.any() or np.array_equal(new, pure):
                break
            pure = new
            for k_ in np.flatnonzero(use):
                e[k_] = robust_mean(x[pure[:, k_]])
            f = _simplex_ls(x, e, f, 20 * inner_steps)
    residual = np.sqrt(np.mean((x - f @ e) ** 2, axis=1))
    return ClosureUnmixing(f, e, residual, n_iter, converged, pure)
