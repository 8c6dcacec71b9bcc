"""Rank evidence and closure-aware unmixing of a per-pixel PDF cube.

At every probe position of an n-phase sample the phase fractions are ≥ 0 and
sum to 1, so they are not independent sources; ICA of such fractions tends to
return one map well and a mixture for the other. :func:`closure_unmix` fits
the model X ≈ F E with each row of F on the probability simplex (fractions)
and E the pure-phase PDFs, by alternating least squares with exact
projections. :func:`rank_evidence` counts the components that rise above
the noise floor of heteroscedastic, r-correlated noise (the noise of a PDF
cube); :func:`parallel_analysis` (Horn 1965) is the classic homoscedastic
version. :func:`simplex_fit` projects any cube onto given endmembers.

All functions take X of shape (n_pixels, n_r) and are vectorised over pixels.
Every BLAS call runs inside :func:`blas_threads` (one thread by default), so
that a loaded machine or a dask/numba pool is never oversubscribed.
"""

from __future__ import annotations

import contextlib
from typing import NamedTuple

import numpy as np

#: BLAS threads used by the functions of this module (see :func:`blas_threads`).
BLAS_THREADS = 1


@contextlib.contextmanager
def blas_threads(n=None):
    """Limit BLAS/LAPACK to ``n`` threads (default :data:`BLAS_THREADS`).

    With OpenBLAS's default (one thread per core) on a loaded 2-core
    machine, a 2304 × 700 SVD took 3.3 s instead of 0.1 s: threads fight
    for cores. The matrices here are small enough that one thread is the
    fastest choice whenever anything else runs.

    Parameters
    ----------
    n : int, optional
        Thread count (≥ 1).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> with blas_threads(1):
    ...     print({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
    {1}
    """
    n = BLAS_THREADS if n is None else int(n)
    if n < 1:
        raise ValueError(f"'n' (BLAS threads) must be >= 1; got {n}.")
    if _BLAS_STATE["depth"] and _BLAS_STATE["n"] == n:  # already limited: no re-scan
        yield
        return
    global _CONTROLLER
    if _CONTROLLER is None:  # scanning the loaded libraries costs ~40 ms: once
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    outer = _BLAS_STATE["n"]
    _BLAS_STATE["depth"] += 1
    _BLAS_STATE["n"] = n
    try:
        with _CONTROLLER.limit(limits=n, user_api="blas"):
            yield
    finally:
        _BLAS_STATE["depth"] -= 1
        _BLAS_STATE["n"] = outer


_CONTROLLER = None
_BLAS_STATE = {"depth": 0, "n": None}


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
    if k == 2:  # closed form: the segment from (1, 0) to (0, 1)
        a = np.clip(0.5 * (y[:, 0] - y[:, 1] + 1.0), 0.0, 1.0)
        return np.stack([a, 1.0 - a], axis=1)
    u = -np.sort(-y, axis=1)
    css = np.cumsum(u, axis=1) - 1.0
    idx = np.arange(1, k + 1)
    cond = u - css / idx > 0
    rho = k - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(len(y)), rho] / (rho + 1)
    return np.maximum(y - theta[:, None], 0.0)


def robust_keep(rows, cut=3.0):
    """Rows within ``cut`` × the median distance of the median row (mask).

    Parameters
    ----------
    rows : array_like
        Shape (n, m).
    cut : float
        Outlier cut in units of the median distance (> 1).

    Returns
    -------
    numpy.ndarray of bool
        (n,); at least half of the rows are kept.

    Examples
    --------
    >>> robust_keep([[0.0], [0.1], [-0.1], [9.0]]).tolist()
    [True, True, True, False]
    """
    rows = np.asarray(rows, dtype=float)
    med = np.median(rows, axis=0)
    d = np.sqrt(np.einsum("ij,ij->i", rows - med, rows - med))
    keep = d <= cut * np.median(d)
    if keep.sum() < max(1, len(rows) // 2):
        keep = d <= np.median(d)
    return keep


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
    return rows[robust_keep(rows, cut)].mean(axis=0)


def _neighbour_mean(f, pairs):
    """Mean of the rows of ``f`` over each row's neighbours (itself excluded);
    NaN for rows without neighbours."""
    i, j = pairs[:, 0], pairs[:, 1]
    n = f.shape[0]
    count = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    out = np.empty_like(f)
    for c in range(f.shape[1]):
        out[:, c] = (np.bincount(i, weights=f[j, c], minlength=n)
                     + np.bincount(j, weights=f[i, c], minlength=n))
    with np.errstate(invalid="ignore", divide="ignore"):
        return out / np.where(count > 0, count, np.nan)[:, None]


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
    """A few accelerated projected-gradient steps of min ||X − F E||² with F on the simplex."""
    return _simplex_ls_fast(x, e, f, n_steps, tol=0.0)


def _normal_lstsq(a, b):
    """argmin ‖a e − b‖ through the (small, k × k) normal equations; pinv if singular."""
    gram = a.T @ a
    rhs = a.T @ b
    try:
        if np.linalg.cond(gram) < 1e12:
            return np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        pass
    return np.linalg.pinv(gram) @ rhs


def closure_unmix(x, n_phases, *, init=None, max_iter=500, tol=1e-7, inner_steps=10,
                  pure_threshold=0.9, min_pure=3, weights=None, neighbours=None, seed=0):
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

    With ``neighbours`` (adjacent pixel pairs of a scan) a pixel is judged
    pure by the mean fraction of its neighbours, not by its own: selecting
    on a pixel's own fraction picks the pixels whose noise points furthest
    along the endmember, and their mean is a fixed point of the reselection
    that is exaggerated (measured on a 24 × 24, 10 e⁻/Å² scan: the glass
    endmember 1.45 × the noiseless pure-phase G(r), peaks up to 0.10 Å off,
    its 38 pure pixels at 1.21–1.65 × the reference amplitude while the
    truly pure ones spread over 0.73–1.53 around 0.99). The pixel's own
    noise is independent of its neighbours', so their fractions select
    without that bias.

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
    weights : array_like, optional
        (n_pixels,) weight of every pixel in the endmember least squares
        (e.g. 1/σᵢ² of :attr:`RankEvidence.noise_scale`); the fractions of
        each pixel do not depend on its own weight.
    neighbours : array_like of int, optional
        (n_pairs, 2) indices of adjacent pixels (rows of ``x``), e.g. the
        4-neighbour pairs of the scan grid; when given, purity is judged on
        the mean fraction of each pixel's neighbours (pixels without
        neighbours are never pure).
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
    if weights is None:
        sw = np.ones((x.shape[0], 1))
    else:
        sw = np.asarray(weights, dtype=float).reshape(-1, 1)
        if sw.shape[0] != x.shape[0] or not np.all(np.isfinite(sw)) or np.any(sw < 0):
            raise ValueError(
                f"'weights' must be {x.shape[0]} finite values >= 0; got shape {sw.shape}."
            )
        sw = np.sqrt(sw / sw.mean())
    xw = x * sw
    if neighbours is not None:
        neighbours = np.asarray(neighbours)
        if (neighbours.ndim != 2 or neighbours.shape[1] != 2
                or not np.issubdtype(neighbours.dtype, np.integer)
                or (neighbours.size and (neighbours.min() < 0 or neighbours.max() >= x.shape[0]))):
            raise ValueError(
                f"'neighbours' must be (n_pairs, 2) integer indices in [0, {x.shape[0]}); got "
                f"shape {neighbours.shape}, dtype {neighbours.dtype}."
            )
    f = project_to_simplex(np.full((x.shape[0], k), 1.0 / k))
    previous, converged, n_iter = np.inf, False, 0
    scale = np.sqrt(np.mean(xw**2)) or 1.0
    for n_iter in range(1, int(max_iter) + 1):  # noqa: B007 (n_iter is returned)
        f = _simplex_ls(x, e, f, inner_steps)
        e = _normal_lstsq(f * sw, xw)
        rms = np.sqrt(np.mean((xw - (f * sw) @ e) ** 2))
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
            score = f if neighbours is None else _neighbour_mean(f, neighbours)
            candidate = score >= float(pure_threshold) * np.nanpercentile(score, 99, axis=0)
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


class RankEvidence(NamedTuple):
    """Result of :func:`rank_evidence` (all in the reduced r-basis).

    Attributes
    ----------
    n_components : int
        Number of components (phases) the data support: the leading run of
        singular values above the noise floor whose excess energy is at least
        ``min_strength`` of the strongest variation. Counts the mean
        direction (the SVD is not centred), so an n-phase sample gives n.
    singular_values : numpy.ndarray
        (m,) singular values of the noise-whitened, uncentred data.
    noise_floor : numpy.ndarray
        (m,) ``quantile`` of the null singular values, calibrated on the
        bulk of the spectrum.
    strength : numpy.ndarray
        (m,) excess energy (s² − floor²)/(s₂² − floor₂²) relative to the
        second (strongest non-mean) component; 1 for the first two.
    noise_scale : numpy.ndarray
        (n_used,) relative noise level σᵢ of every used pixel (median 1).
    basis : numpy.ndarray
        (n_r, m) orthonormal basis of the row space of X (r-profiles).
    coordinates : numpy.ndarray
        (n_used, m) X[used] @ basis.
    components : numpy.ndarray
        (m, m) right singular vectors (rows) of the whitened data in
        ``basis`` coordinates; ``components[:k] @ basis.T`` are r-profiles.
    used : numpy.ndarray of bool
        (n_pixels,) pixels that entered (finite and valid).
    noise_cov : numpy.ndarray
        (m, m) noise covariance over r in ``basis`` coordinates, for a pixel
        of noise level 1 (neighbour differences, times ``calibration``²).
    calibration : float
        Factor applied to the null (median data/null ratio over the bulk).
    min_strength, quantile : float
        The criterion's parameters.
    coherence : numpy.ndarray
        (m,) spatial coherence of every component's loading map: the
        correlation of the loadings of adjacent pixels times √(n_pairs), a
        z-score (≈ standard normal for a spatially white loading, e.g. a
        noise direction); NaN for the mean direction (index 0, not tested)
        and when the scan has no adjacent pixel pairs.
    min_coherence : float or None
        Minimum ``coherence`` of a counted component (index ≥ 1); ``None``:
        not applied.

    Examples
    --------
    Maps that vary smoothly across the scan (the neighbour null needs it):

    >>> rng = np.random.default_rng(0)
    >>> f = np.linspace(0, 1, 400)[:, None]
    >>> x = np.hstack([f, 1 - f]) @ rng.normal(size=(2, 60)) + 0.1 * rng.normal(size=(400, 60))
    >>> ev = rank_evidence(x, (20, 20))
    >>> ev.n_components, ev.basis.shape, bool(ev.used.all())
    (2, (60, 60), True)
    """

    n_components: int
    singular_values: np.ndarray
    noise_floor: np.ndarray
    strength: np.ndarray
    noise_scale: np.ndarray
    basis: np.ndarray
    coordinates: np.ndarray
    components: np.ndarray
    used: np.ndarray
    noise_cov: np.ndarray
    calibration: float
    min_strength: float
    quantile: float
    coherence: np.ndarray = None
    min_coherence: float = None


def _loading_coherence(y, components, pairs):
    """Neighbour correlation of every component's loading, as a z-score.

    ``y @ components.T`` are the loadings (one column per component); for
    each column the Pearson correlation over the adjacent pixel pairs,
    times √(n_pairs). A spatially white loading gives ≈ N(0, 1); index 0
    (the mean direction) is NaN.
    """
    m = components.shape[0]
    z = np.full(m, np.nan)
    if len(pairs) < 3 or m < 2:
        return z
    u = y @ components[1:].T
    a, b = u[pairs[:, 0]], u[pairs[:, 1]]
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt(np.einsum("ij,ij->j", a, a) * np.einsum("ij,ij->j", b, b))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(den > 0, np.einsum("ij,ij->j", a, b) / np.where(den > 0, den, 1), 0.0)
    z[1:] = c * np.sqrt(len(pairs))
    return z


def row_basis(x, *, max_rank=128, seed=0, tol=1e-10):
    """Orthonormal basis of the row space of X (randomized range finder).

    A PDF cube is G = L φ with φ on a few tens of s-samples, so its rows
    span far fewer dimensions than it has r-samples (≈ 50 for 700 samples
    from 64 s-bins): everything after this projection costs O(n m²)
    instead of O(n n_r²). One random product X Ω (Ω of ``max_rank``
    columns) and a thin SVD give the basis; when the data fill all
    ``max_rank`` directions one power iteration sharpens the leading ones.

    Parameters
    ----------
    x : array_like
        (n_pixels, n_r), finite.
    max_rank : int
        Largest basis size m (≥ 1).
    seed : int
        Seed of Ω.
    tol : float
        Relative singular value below which a direction is numerically zero
        (directions weaker than ``tol`` relative to the first are lost when
        ``max_rank`` is exceeded, as with any randomized range finder).

    Returns
    -------
    numpy.ndarray
        (n_r, m) orthonormal columns, leading directions first.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 5)) @ rng.normal(size=(5, 300))   # rank 5
    >>> v = row_basis(x)
    >>> v.shape, bool(np.allclose(x @ v @ v.T, x))
    ((300, 5), True)
    """
    x = _check_x(x)
    n, n_r = x.shape
    with blas_threads():
        if n_r <= max_rank or n <= max_rank:
            _, s, vt = np.linalg.svd(x if n <= n_r else x.T @ x, full_matrices=False)
            s = s if n <= n_r else np.sqrt(s)
            keep = s > tol * (s[0] if s.size and s[0] > 0 else 1.0)
            return vt[keep].T if n <= n_r else vt[keep].T
        omega = np.random.default_rng(seed).standard_normal((n_r, int(max_rank)))
        # the columns of Xᵀ X Ω span the row space (one implicit power
        # iteration); a thin SVD of this (n_r × max_rank) matrix orthonormalizes
        # it without a QR of the tall (n × max_rank) product
        u, s2, _ = np.linalg.svd(x.T @ (x @ omega), full_matrices=False)
        keep = s2 > max(tol**2, 1e-13) * s2[0]  # rounding of the product: ~1e-16
        return u[:, keep]


def _neighbour_pairs(nav_shape, used):
    """Index pairs (i, j) of used, adjacent pixels along every navigation axis."""
    idx = np.full(int(np.prod(nav_shape)), -1)
    idx[used] = np.arange(int(used.sum()))
    grid = idx.reshape(nav_shape)
    pairs = []
    for ax in range(len(nav_shape)):
        if nav_shape[ax] < 2:
            continue
        a = np.take(grid, range(1, nav_shape[ax]), axis=ax).ravel()
        b = np.take(grid, range(0, nav_shape[ax] - 1), axis=ax).ravel()
        ok = (a >= 0) & (b >= 0)
        pairs.append(np.stack([a[ok], b[ok]], 1))
    return np.concatenate(pairs) if pairs else np.empty((0, 2), int)


def _wishart_eigvals(lam, n, n_draws, rng):
    """Eigenvalues of Zᵀ Z, Z = G diag(√λ), G (n × m) standard normal,
    drawn through the Bartlett decomposition (O(m²) random numbers)."""
    m = lam.size
    out = np.empty((n_draws, m))
    root = np.sqrt(lam)
    rows, cols = np.tril_indices(m, -1)
    for k in range(n_draws):
        lo = np.zeros((m, m))
        lo[np.diag_indices(m)] = np.sqrt(rng.chisquare(n - np.arange(m)))
        lo[rows, cols] = rng.standard_normal(rows.size)
        a = root[:, None] * lo
        out[k] = np.linalg.eigvalsh(a @ a.T)[::-1]
    return np.sqrt(np.clip(out, 0, None))


def rank_evidence(x, nav_shape=None, *, valid=None, n_draws=20, quantile=0.95,
                  min_strength=0.07, trim=10.0, n_noise_ref=8, max_rank=128, outlier_z=6.0,
                  seed=0, noise_scale=None, noise_cov=None, min_coherence=None,
                  coherent_strength=None):
    """Number of components of a PDF cube above its own noise floor.

    The noise of G(r) from Poisson counts is neither white (it is the sine
    transform of the φ(s) noise, so strongly correlated along r) nor of the
    same level everywhere (thickness, dose and the fitted N change it ten
    times across a scan). Horn's parallel analysis with an i.i.d. null
    under-estimates the top noise singular values of such data and counts
    noise as components. Here:

    1. X is projected on its row space (:func:`row_basis`);
    2. every pixel's noise level σᵢ is its residual energy beyond the
       leading ``n_noise_ref`` uncentred components (pure noise there),
       normalized to median 1, and its row is divided by σᵢ (the analogue
       of HyperSpy's ``normalize_poissonian_noise``; a row scale does not
       change the span of noiseless rows, so the rank is kept);
    3. the noise covariance over r is estimated from differences of
       adjacent pixels, (xᵢ − xⱼ)/√(σᵢ² + σⱼ²), the ``trim`` × median most
       energetic pairs (interfaces, outliers) left out;
    4. the null singular values of Gaussian noise with that covariance
       (drawn through the Bartlett decomposition, exact and cheap) are
       scaled to the median of the data's bulk (components beyond
       ``n_noise_ref``) and their ``quantile`` is the floor;
    5. the count is the leading run of singular values above the floor
       whose excess energy s² − floor² is at least ``min_strength`` of that
       of the second component (the strongest variation) and, with
       ``min_coherence``, whose loading map is spatially coherent (step 6).
    6. (optional) a component's loading map is kept only if the
       correlation of the loadings of adjacent pixels, as a z-score
       (× √n_pairs), is at least ``min_coherence``. Phases are spatially
       coherent; a noise direction's loading is white, z ≈ N(0, 1)
       (measured on pure-noise cubes of 12², 24² and 48² pixels with
       r-correlated, heteroscedastic noise: 760 components, std 0.90–1.01,
       0.999 quantile 2.3–2.6, largest absolute z 2.9; benchmarks/README.md).

    The null assumes the structure varies slowly from pixel to pixel (it
    cancels in neighbour differences); for maps that change at every pixel
    (no spatial correlation) it counts signal as noise and under-counts.

    Step 5 exists because a real scan has structure that is not a phase: a
    thickness-dependent change of the φ(s) shape within one phase (fit of N
    with an average composition) is well above the noise of a 2 × 2-binned
    scan but carries ~10 % of the energy of the phase contrast (measured on
    the embedded composite); a third phase carries more (see the tests).

    Parameters
    ----------
    x : array_like
        (n_pixels, n_r), rows in C order of ``nav_shape``.
    nav_shape : tuple of int, optional
        Navigation shape (array order); default one line of pixels.
    valid : array_like of bool, optional
        (n_pixels,) pixels to use; non-finite rows are always left out.
    n_draws : int
        Null draws (≥ 1).
    quantile : float
        Quantile of the null in (0, 1).
    min_strength : float
        Minimum relative excess energy in [0, 1).
    trim : float
        Pair-energy cut in units of the median (> 1).
    n_noise_ref : int
        Components treated as possible signal when measuring σᵢ and the
        bulk (≥ 1).
    max_rank : int
        Largest basis size (:func:`row_basis`).
    outlier_z : float or None
        Rows whose log-norm lies more than ``outlier_z`` robust standard
        deviations (1.4826 × MAD) above the median are left out (a failed N
        fit scales G by 100× and would define the leading components; the
        data's own spread from thickness and noise is < 3 such units on the
        embedded composite). ``None`` keeps all.
    seed : int
        Seed of the basis and the null draws.
    noise_scale : array_like, optional
        (n_pixels,) known relative noise level of every pixel (e.g.
        :attr:`PropagatedNoise.level`), used instead of step 2's estimate
        (normalized to median 1 over the used pixels, floored at 1/20);
        pixels where it is not finite and > 0 are left out.
    noise_cov : array_like, optional
        (n_r, n_r) known noise covariance over r of a pixel of level 1 (e.g.
        :attr:`PropagatedNoise.covariance`), used instead of step 3's
        neighbour estimate (projected on the basis; still calibrated on the
        bulk in step 4).
    min_coherence : float, optional
        Minimum loading coherence z-score (step 6, > 0) of a counted
        component of index ≥ 1; default ``None`` (not applied). Needs a
        scan with adjacent pixels (a ``nav_shape`` with an axis ≥ 2).
    coherent_strength : float, optional
        With ``min_coherence``: the minimum relative excess energy in
        [0, 1) of a component whose loading passed the coherence test, used
        instead of ``min_strength`` (white directions just above the floor,
        which ``min_strength`` guards against, are rejected by step 6
        already). Default ``None``: ``min_strength``.

    Returns
    -------
    RankEvidence
        ``used`` marks the pixels that entered: finite, ``valid`` and not
        norm outliers.

    Examples
    --------
    Two phases with thickness-like amplitude changes and noise whose level
    varies ten times across the scan:

    >>> rng = np.random.default_rng(0)
    >>> r = np.linspace(1, 8, 300)
    >>> e = np.stack([np.sin(2 * r), np.cos(3 * r)])
    >>> f = np.linspace(0, 1, 40 * 40)[:, None]
    >>> amp = rng.uniform(0.7, 1.3, (1600, 1))
    >>> sigma = np.exp(rng.uniform(0, np.log(10), (1600, 1)))
    >>> noise = rng.normal(size=(1600, 40)) @ rng.normal(size=(40, 300)) / 40
    >>> x = amp * np.hstack([f, 1 - f]) @ e + 0.05 * sigma * noise
    >>> ev = rank_evidence(x, (40, 40))
    >>> ev.n_components, ev.basis.shape[1]
    (2, 42)
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2:
        raise ValueError(f"'X' must be 2-D (n_pixels, n_r); got shape {x.shape}.")
    n_pix, n_r = x.shape
    if n_r < 2:
        raise ValueError(f"rank_evidence needs at least 2 r samples; got {n_r}.")
    nav_shape = (n_pix,) if nav_shape is None else tuple(int(v) for v in nav_shape)
    if int(np.prod(nav_shape)) != n_pix:
        raise ValueError(f"'nav_shape' {nav_shape} does not hold {n_pix} pixels.")
    if int(n_draws) < 1:
        raise ValueError(f"'n_draws' must be >= 1; got {n_draws}.")
    if not 0 < quantile < 1:
        raise ValueError(f"'quantile' must lie in (0, 1); got {quantile}.")
    if not 0 <= min_strength < 1:
        raise ValueError(f"'min_strength' must lie in [0, 1); got {min_strength}.")
    if min_coherence is not None and not (np.isfinite(min_coherence) and min_coherence > 0):
        raise ValueError(f"'min_coherence' must be a finite number > 0 or None; got "
                         f"{min_coherence}.")
    if coherent_strength is not None and not 0 <= coherent_strength < 1:
        raise ValueError(f"'coherent_strength' must lie in [0, 1) or be None; got "
                         f"{coherent_strength}.")
    used = np.isfinite(x).all(axis=1)
    if valid is not None:
        valid = np.asarray(valid, dtype=bool).ravel()
        if valid.size != n_pix:
            raise ValueError(f"'valid' must hold {n_pix} flags; got {valid.size}.")
        used &= valid
    if noise_scale is not None:
        noise_scale = np.asarray(noise_scale, dtype=float).ravel()
        if noise_scale.size != n_pix:
            raise ValueError(f"'noise_scale' must hold {n_pix} values; got {noise_scale.size}.")
        used &= np.isfinite(noise_scale) & (noise_scale > 0)
    if noise_cov is not None:
        noise_cov = np.asarray(noise_cov, dtype=float)
        if noise_cov.shape != (n_r, n_r) or not np.all(np.isfinite(noise_cov)):
            raise ValueError(f"'noise_cov' must be a finite ({n_r}, {n_r}) matrix; got shape "
                             f"{noise_cov.shape}.")
    if outlier_z is not None and used.sum() >= 3:
        norms = np.sqrt(np.einsum("ij,ij->i", x, x))[used]
        pos = norms > 0
        if pos.sum() >= 3:
            lg = np.log(np.where(pos, norms, 1.0))
            med = np.median(lg[pos])
            mad = 1.4826 * np.median(np.abs(lg[pos] - med)) or 1.0
            idx = np.flatnonzero(used)
            used[idx[pos & (lg - med > float(outlier_z) * mad)]] = False
    xv = x if used.all() else x[used]
    if len(xv) < 3:
        raise ValueError(
            f"rank_evidence needs at least 3 finite, valid pixels; got {len(xv)} of {n_pix}."
        )
    if not np.any(xv):
        raise ValueError("The data are all zero (vacuum?): nothing to decompose.")
    with blas_threads():
        basis = row_basis(xv, max_rank=max_rank, seed=seed)
        xm = xv @ basis
        m = xm.shape[1]
        n = xm.shape[0]
        k_ref = int(min(n_noise_ref, max(1, m // 4)))
        _, s_raw, vt_raw = np.linalg.svd(xm, full_matrices=False)
        proj = xm @ vt_raw[:k_ref].T
        rho = np.einsum("ij,ij->i", xm, xm) - np.einsum("ij,ij->i", proj, proj)
        rho = np.clip(rho, 0, None)
        med = np.median(rho)
        if noise_scale is not None:
            sigma = noise_scale[used] / np.median(noise_scale[used])
            sigma = np.maximum(sigma, 0.05)
        elif med > 1e-24 * max(float(np.max(np.einsum("ij,ij->i", xm, xm))), 1e-300):
            sigma = np.sqrt(np.maximum(rho / med, 0.05**2))  # floor: 1/20 of the median noise
        else:
            sigma = np.ones(n)  # noiseless data: no whitening
        y = xm / sigma[:, None]
        _, sv, comps = np.linalg.svd(y, full_matrices=False)
        pairs = _neighbour_pairs(nav_shape, used)
        if noise_cov is not None:
            cov = basis.T @ noise_cov @ basis
            cov = 0.5 * (cov + cov.T)
        elif len(pairs) >= 2:
            d = (xm[pairs[:, 0]] - xm[pairs[:, 1]]) / np.sqrt(
                sigma[pairs[:, 0]] ** 2 + sigma[pairs[:, 1]] ** 2)[:, None]
            e = np.einsum("ij,ij->i", d, d)
            d = d[e <= trim * np.median(e)] if np.median(e) > 0 else d
            cov = d.T @ d / max(len(d), 1)
        else:
            cov = np.zeros((m, m))
        lam = np.clip(np.linalg.eigvalsh(cov), 0, None)[::-1]
        rng = np.random.default_rng(seed)
        if lam.max(initial=0) > 0 and n >= m:
            null = _wishart_eigvals(lam, n, int(n_draws), rng)
        else:
            null = np.zeros((int(n_draws), m))
        coherence = _loading_coherence(y, comps, pairs)
    if min_coherence is not None and len(pairs) < 3:
        raise ValueError(f"'min_coherence' needs adjacent pixel pairs; 'nav_shape' {nav_shape} "
                         f"with {len(pairs)} used pairs has none to correlate.")
    bulk = slice(k_ref, m)
    med_null = np.median(null, axis=0)
    # a given noise model may have a lower rank than the data's basis (rounding
    # directions of the cube, no modelled noise there): calibrate on the rest
    ok = med_null[bulk] > (1e-6 * med_null.max(initial=0) if noise_cov is not None else 0)
    calib = float(np.median(sv[bulk][ok] / med_null[bulk][ok])) if ok.any() else 1.0
    floor = calib * np.quantile(null, quantile, axis=0)
    excess = np.clip(sv**2 - floor**2, 0, None)
    ref = excess[1] if m > 1 and excess[1] > 0 else np.inf
    strength = np.ones(m)
    if m > 2:
        strength[2:] = excess[2:] / ref
    if min_coherence is None:
        ok = (sv > floor) & (strength >= min_strength)
    else:
        lo = min_strength if coherent_strength is None else float(coherent_strength)
        ok = (sv > floor) & (strength >= lo)
        ok[1:] &= coherence[1:] >= min_coherence
    n_comp = int(np.argmin(ok)) if not ok.all() else m
    return RankEvidence(n_comp, sv, floor, strength, sigma, basis, xm, comps, used,
                        cov * calib**2, calib, float(min_strength), float(quantile),
                        coherence, None if min_coherence is None else float(min_coherence))


def residual_covariance(evidence, k):
    """Covariance of everything a k-component model leaves out, per unit noise level.

    The noise covariance of :class:`RankEvidence` plus the part of the data's
    covariance beyond its k leading (whitened) components that the noise does
    not explain — structure the model does not have (e.g. a thickness-driven
    change of one phase's G(r)). Generalized least squares with the noise
    covariance alone weights such structure *up* where the noise is low
    (measured on a 2 × 2-binned scan: fraction-map correlation 0.98 → 0.89).
    Using this covariance instead did not help there either (0.91, and worse
    at full resolution: 0.92 → 0.78 on a 64 × 64 scan), so
    :meth:`~pyxem_epdf.mapping.Decomposition.unmix` does not use it; it
    stays for inspecting what a k-component model leaves out (its trace
    against that of ``noise_cov``).

    Parameters
    ----------
    evidence : RankEvidence
    k : int
        Number of model components (≥ 1).

    Returns
    -------
    numpy.ndarray
        (m, m) in ``evidence.basis`` coordinates.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 3)) @ rng.normal(size=(3, 60)) + 0.1 * rng.normal(size=(400, 60))
    >>> ev = rank_evidence(x, (20, 20))
    >>> residual_covariance(ev, 3).shape
    (60, 60)
    """
    k = int(k)
    if not 1 <= k <= evidence.basis.shape[1]:
        raise ValueError(f"'k' must be between 1 and {evidence.basis.shape[1]}; got {k}.")
    y = evidence.coordinates / evidence.noise_scale[:, None]
    p = evidence.components[:k]
    with blas_threads():
        res = y - (y @ p.T) @ p
        c_res = res.T @ res / len(res)
        perp = np.eye(p.shape[1]) - p.T @ p
        excess = c_res - perp @ evidence.noise_cov @ perp
        lam, vec = np.linalg.eigh(0.5 * (excess + excess.T))
        excess = (vec * np.clip(lam, 0, None)) @ vec.T
    return evidence.noise_cov + excess


def noise_whitener(noise_cov, *, regularization=0.01):
    """Matrix W with Wᵀ Σ W ≈ 1: generalized least squares in r for correlated noise.

    The noise of G(r) is concentrated in a few r-profiles (the transform
    of the low-s and fit-window φ noise); fitting fractions in the metric
    Σ⁻¹ instead of the Euclidean one weights those profiles down. With true
    endmembers this raises the fraction-map correlation of a full-resolution
    48 × 48 scan from 0.956 to 0.975 (10 e⁻/Å²) and from 0.82 to 0.90 (2.5 e⁻/Å²).

    Parameters
    ----------
    noise_cov : array_like
        (m, m) symmetric positive semi-definite covariance.
    regularization : float
        Added to the eigenvalues, relative to the largest (≥ 0; 0.01 was
        best of 0.001/0.01/0.1 on the embedded composite, within 0.003).

    Returns
    -------
    numpy.ndarray
        (m, m); transform rows as ``x @ W``.

    Examples
    --------
    >>> cov = np.diag([4.0, 1.0])
    >>> noise_whitener(cov, regularization=0.0).round(3).tolist()
    [[0.0, 0.5], [1.0, 0.0]]
    """
    cov = np.asarray(noise_cov, dtype=float)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"'noise_cov' must be square; got shape {cov.shape}.")
    if regularization < 0:
        raise ValueError(f"'regularization' must be >= 0; got {regularization}.")
    with blas_threads():
        lam, vec = np.linalg.eigh(0.5 * (cov + cov.T))
    lam = np.clip(lam, 0, None)
    top = lam[-1] if lam.size and lam[-1] > 0 else 1.0
    return vec / np.sqrt(lam + regularization * top + 1e-300)


def _nav_shape_of(evidence, nav_shape):
    """``nav_shape`` as a tuple of ints holding the evidence's pixels, or a ValueError."""
    try:
        shape = tuple(int(v) for v in nav_shape)
    except (TypeError, ValueError):
        raise ValueError(f"'nav_shape' must be a tuple of integers; got {nav_shape!r}.") from None
    n_pix = np.asarray(evidence.used).size
    if int(np.prod(shape)) != n_pix or any(v < 1 for v in shape):
        raise ValueError(f"'nav_shape' {shape} does not hold the evidence's {n_pix} pixels.")
    return shape


def interior_noise_covariance(evidence, endmembers, nav_shape, *, margin=0.2, trim=10.0,
                              min_pairs=20):
    """Noise covariance over r from adjacent pixels inside one phase.

    :func:`rank_evidence` estimates the noise covariance from the
    differences of *all* adjacent pixels. A pair across a phase boundary
    adds its signal difference (the phase contrast) to that estimate, and
    the product of that difference with the pair's own noise. Where
    boundaries hold a large share of the pairs, as on 2 × 2-binned maps of
    small inclusions, the variance along the phase difference comes out
    3.7 × too large (24 × 24 composite at 10 e⁻/Å², 2 × 2: 7.9 × the mean
    eigenvalue against 2.1 × for the true noise; 1.3 × at full resolution;
    8 seeds), and the metric is correlated with the boundary pixels' own
    noise. Fractions fitted in that metric come out wider at the
    boundaries: +16 % on the 10–90 % width at 2 × 2 (+4 % with the true
    covariance). It is the correlation with the map's own noise that
    widens: the same all-pairs estimate taken from an independent noise
    draw of the same composite gives +4.8 ± 8.9 % instead of +22.5 ± 5.8 %
    (2.5 e⁻/Å² composite, 2 × 2, 8 draws; benchmarks/bench_interface_bias.py).

    Here a pair enters only if both pixels lie inside the same phase,
    judged by the mean affine fractions of each pixel's *neighbours*
    (not its own: its noise would select the pair) on the scale between
    min(5th percentile, 0) and max(95th percentile, 1) of those means:
    inside phase p when that scaled mean is above 1 − ``margin``.
    Differences are normalised by the pixels' noise levels and trimmed as
    in :func:`rank_evidence`.

    Parameters
    ----------
    evidence : RankEvidence
        Of the cube (``rank_evidence(x, nav_shape)``): basis, coordinates,
        noise levels, used pixels.
    endmembers : array_like
        (k, n_r) component PDFs on the cube's r samples (k ≥ 1; with one,
        every pixel is inside it and the result is the all-pairs estimate).
    nav_shape : tuple of int
        Navigation shape of the cube (array order).
    margin : float
        Relative distance from a phase's top level still counted as inside,
        in (0, 1); 0.2 measured best of 0.1/0.2/0.3 (width bias and
        fraction-map r on two composites, full and 2 × 2, 8 seeds each).
    trim : float
        Pairs with more than ``trim`` × the median energy are left out (> 0).
    min_pairs : int
        Fewest interior pairs to estimate from (an integer ≥ 1); with fewer, the
        evidence's own covariance is returned and ``n_pairs`` is 0.

    Returns
    -------
    covariance : numpy.ndarray
        (m, m) in ``evidence.basis`` coordinates, scaled like
        ``evidence.noise_cov`` (× ``evidence.calibration``²).
    n_pairs : int
        Number of pairs used (0: fell back to ``evidence.noise_cov``).

    Examples
    --------
    Two phases with a sharp boundary and white noise of unit variance: the
    all-pairs estimate is inflated along the phase difference, the interior
    one is not.

    >>> rng = np.random.default_rng(4)
    >>> e = rng.normal(size=(2, 40)) * 3.0
    >>> f = (np.arange(24)[None, :] < 12).repeat(24, 0).astype(float).ravel()
    >>> x = np.outer(f, e[0]) + np.outer(1 - f, e[1]) + rng.normal(size=(576, 40))
    >>> ev = rank_evidence(x, (24, 24))
    >>> cov, n = interior_noise_covariance(ev, e, (24, 24))
    >>> d = (e[0] - e[1]) @ ev.basis
    >>> along = lambda c: float(d @ c @ d / (d @ d) / (np.trace(c) / len(c)))
    >>> round(along(ev.noise_cov), 1), round(along(cov), 1), n
    (5.3, 1.0, 986)
    """
    e = np.asarray(endmembers, dtype=float)
    if e.ndim != 2 or e.shape[0] < 1 or e.shape[1] != evidence.basis.shape[0]:
        raise ValueError(f"'endmembers' must be (k >= 1, {evidence.basis.shape[0]}); got shape "
                         f"{e.shape}.")
    if not 0 < margin < 1:
        raise ValueError(f"'margin' must lie in (0, 1); got {margin}.")
    if not (np.isfinite(trim) and trim > 0):
        raise ValueError(f"'trim' must be a finite number > 0; got {trim}.")
    if not (isinstance(min_pairs, (int, np.integer)) and not isinstance(min_pairs, bool)
            and min_pairs >= 1):
        raise ValueError(f"'min_pairs' must be an integer >= 1; got {min_pairs!r}.")
    nav_shape = _nav_shape_of(evidence, nav_shape)
    used = np.asarray(evidence.used, dtype=bool)
    if int(np.prod(nav_shape)) != used.size:
        raise ValueError(f"'nav_shape' {nav_shape} does not hold the evidence's {used.size} "
                         f"pixels.")
    xm, sigma = evidence.coordinates, evidence.noise_scale
    pairs = _neighbour_pairs(nav_shape, used)
    if len(pairs) < int(min_pairs):
        return evidence.noise_cov, 0
    with blas_threads():
        f, _ = simplex_fit(xm, e @ evidence.basis, affine=True)
    k = f.shape[1]
    total = np.zeros((len(xm), k))
    count = np.zeros(len(xm))
    for a, b in ((0, 1), (1, 0)):
        np.add.at(total, pairs[:, a], f[pairs[:, b]])
        np.add.at(count, pairs[:, a], 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        nb = total / count[:, None]
    has = count > 0
    lo = np.minimum(np.percentile(nb[has], 5, axis=0), 0.0)
    hi = np.maximum(np.percentile(nb[has], 95, axis=0), 1.0)
    scaled = (nb - lo) / (hi - lo)
    phase = np.where(has, np.argmax(np.where(has[:, None], scaled, -np.inf), axis=1), -1)
    inside = has & (scaled[np.arange(len(xm)), np.maximum(phase, 0)] > 1.0 - margin)
    phase = np.where(inside, phase, -1)
    keep = (phase[pairs[:, 0]] >= 0) & (phase[pairs[:, 0]] == phase[pairs[:, 1]])
    p = pairs[keep]
    if len(p) < int(min_pairs):
        return evidence.noise_cov, 0
    d = (xm[p[:, 0]] - xm[p[:, 1]]) / np.sqrt(sigma[p[:, 0]] ** 2 + sigma[p[:, 1]] ** 2)[:, None]
    energy = np.einsum("ij,ij->i", d, d)
    if np.median(energy) > 0:
        d = d[energy <= trim * np.median(energy)]
    with blas_threads():
        cov = d.T @ d / len(d)
    return 0.5 * (cov + cov.T) * evidence.calibration**2, int(len(d))


def simplex_fit(x, endmembers, *, n_steps=200, tol=1e-10, affine=False):
    """Fractions on the simplex that best reproduce every row: min ‖x − f E‖².

    Solved in the k-dimensional span of the endmembers (the part of x
    orthogonal to it does not change the minimiser), by accelerated
    projected gradient for all rows at once.

    Parameters
    ----------
    x : array_like
        (n_pixels, n_r).
    endmembers : array_like
        (k, n_r), linearly independent.
    n_steps : int
        Maximum projected-gradient steps.
    tol : float
        Stop when no fraction changes by more than this.
    affine : bool
        Only the sum-to-one constraint (no f ≥ 0): the exact affine least
        squares solution, unbiased at the plateaus (for interface widths).

    Returns
    -------
    fractions : numpy.ndarray
        (n_pixels, k).
    residual : numpy.ndarray
        (n_pixels,) rms residual over the r samples.

    Examples
    --------
    >>> e = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> f, res = simplex_fit([[0.3, 0.7, 0.1], [1.2, -0.2, 0.0]], e)
    >>> f.round(3).tolist(), res.round(3).tolist()
    ([[0.3, 0.7], [1.0, 0.0]], [0.058, 0.163])
    >>> simplex_fit([[1.2, -0.2, 0.0]], e, affine=True)[0].round(3).tolist()
    [[1.2, -0.2]]
    """
    x = _check_x(x)
    e = np.asarray(endmembers, dtype=float)
    if e.ndim != 2 or e.shape[1] != x.shape[1]:
        raise ValueError(
            f"'endmembers' must have shape (k, {x.shape[1]}); got {e.shape}."
        )
    k = e.shape[0]
    with blas_threads():
        q, rr = np.linalg.qr(e.T)  # e.T = q rr; coordinates in span(e)
        if np.min(np.abs(np.diag(rr))) <= 1e-12 * np.max(np.abs(np.diag(rr))):
            raise ValueError("'endmembers' are linearly dependent.")
        c = x @ q  # (n, k)
        ec = rr.T  # (k, k): endmember coordinates
        if affine:
            # min ||c - f ec|| s.t. f 1 = 1: f = f0 + g N with N the null space of 1
            base = np.full(k, 1.0 / k)
            null = np.linalg.svd(np.ones((1, k)))[2][1:]  # (k-1, k)
            a = null @ ec
            g, *_ = np.linalg.lstsq(a.T, (c - base @ ec).T, rcond=None)
            f = base + g.T @ null
        else:
            f = _simplex_ls_fast(c, ec, project_to_simplex(np.linalg.lstsq(ec.T, c.T, rcond=None)[0].T),
                                 n_steps, tol)
        full = np.einsum("ij,ij->i", x, x) - np.einsum("ij,ij->i", c, c)
        res_c = c - f @ ec
        res = np.sqrt(np.clip(full + np.einsum("ij,ij->i", res_c, res_c), 0, None) / x.shape[1])
    return f, res


def volume_fractions(fractions, powers):
    """Volume fractions from scattering-weighted (closure) fractions.

    A probe column holding volume fractions w_p of phases with scattering
    powers k_p per volume (:func:`~pyxem_epdf.physics.scattering.scattering_power`)
    gives a G(r) that is the mixture of the pure-phase PDFs with weights
    β_p = w_p k_p / Σ_q w_q k_q: the chain divides by one fitted N per
    pixel, and each phase contributes k_p w_p of it. Closure unmixing returns
    β; this inverts the weighting, w_p = (β_p / k_p) / Σ_q (β_q / k_q).

    Parameters
    ----------
    fractions : array_like
        (..., k) fractions along the last axis (each row summing to 1; rows
        with NaN stay NaN). Affine fractions (not clipped at 0 and 1) are
        allowed: a row whose Σ β_q / k_q is not > 0 becomes NaN.
    powers : array_like
        (k,) scattering power of each component, finite and > 0 (any unit:
        only ratios matter).

    Returns
    -------
    numpy.ndarray
        Same shape as ``fractions``, rows summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.unmixing import volume_fractions
    >>> w = np.array([[0.5, 0.5], [0.9, 0.1]])          # volume fractions
    >>> k = np.array([1.0, 4.0])                         # B scatters 4x more
    >>> beta = w * k / (w * k).sum(axis=1, keepdims=True)
    >>> beta.round(3).tolist()                           # what closure sees
    [[0.2, 0.8], [0.692, 0.308]]
    >>> volume_fractions(beta, k).round(6).tolist()
    [[0.5, 0.5], [0.9, 0.1]]
    """
    f = np.asarray(fractions, dtype=float)
    if f.ndim < 1 or f.shape[-1] < 1:
        raise ValueError(f"'fractions' must have the components along its last axis; got "
                         f"shape {f.shape}.")
    try:
        k = np.asarray(powers, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"'powers' must be {f.shape[-1]} numbers > 0; got {powers!r}.") from None
    if k.shape != (f.shape[-1],) or not np.all(np.isfinite(k)) or not np.all(k > 0):
        raise ValueError(f"'powers' must be {f.shape[-1]} finite numbers > 0 (one per "
                         f"component); got {powers!r}.")
    q = f / k
    with np.errstate(invalid="ignore", divide="ignore"):
        total = q.sum(axis=-1, keepdims=True)
        return np.where(total > 0, q / np.where(total > 0, total, 1.0), np.nan)


def _simplex_ls_fast(c, ec, f, n_steps, tol=1e-10):
    """FISTA projected gradient of min ‖c − f ec‖² over the simplex, all rows at once
    (exact in one step for two endmembers: the clipped projection on the segment)."""
    if ec.shape[0] == 2:
        d = ec[0] - ec[1]
        dd = float(d @ d)
        if dd > 0:
            a = np.clip((c @ d - ec[1] @ d) / dd, 0.0, 1.0)
            return np.stack([a, 1.0 - a], axis=1)
    gram = ec @ ec.T
    lip = float(np.linalg.eigvalsh(gram)[-1]) or 1.0
    ce = c @ ec.T
    z, t = f, 1.0
    for _ in range(int(n_steps)):
        new = project_to_simplex(z - (z @ gram - ce) / lip)
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        z = new + ((t - 1) / t_new) * (new - f)
        done = np.max(np.abs(new - f)) <= tol
        f, t = new, t_new
        if done:
            break
    return f


class PropagatedNoise(NamedTuple):
    """Result of :func:`propagated_noise`.

    Attributes
    ----------
    level : numpy.ndarray
        (n_pixels,) rms noise of G(r) over the r samples of every pattern
        (Å⁻²); NaN where N ≤ 0 or not finite.
    covariance : numpy.ndarray
        (n_r, n_r) scan average of every pattern's noise covariance over r,
        each divided by its own level² (a pattern of level 1: trace n_r).
    """

    level: np.ndarray
    covariance: np.ndarray


def propagated_noise(variance, intensity, s, N, C, f_mean_sq, matrix, rows, *, gradients=None,
                     correlation=None, block=256):
    """Noise level and r-covariance of G(r) propagated in closed form from the variance of I(s).

    For each pattern, G = φ[rows] L with φ = s (I − N⟨f²⟩ − C)/(N⟨f⟩²) and N,
    C linear in I (``gradients``, the least-squares fit's ∂N/∂I and ∂C/∂I),
    so to first order δG = δI P L with P (n_s × n_rows) = diag(∂φ/∂I)
    + (∂N/∂I) ⊗ ∂φ/∂N + (∂C/∂I) ⊗ ∂φ/∂C and Cov(G) = Lᵀ Pᵀ Σ_I P L
    (Σ_I = diag(√v) R diag(√v), R the bin correlation). This is the matrix
    form of :func:`~pyxem_epdf.physics.uncertainty.pdf_variance` (whose
    result is its diagonal), for whitening a decomposition
    (:func:`rank_evidence` ``noise_cov``/``noise_scale``). The scan average
    of the unit-level covariances is formed in φ space (n_rows² per
    pattern), then mapped once through L.

    Parameters
    ----------
    variance, intensity : array_like
        (n_pixels, n_s) variance of I(s) and I(s).
    s : array_like
        (n_s,) in Å⁻¹.
    N, C : array_like
        (n_pixels,) fitted scale and constant.
    f_mean_sq : array_like
        (n_s,) ⟨f⟩² in Å².
    matrix : array_like
        (n_rows, n_r) chain matrix (e.g. the columns of an r window of
        :attr:`~pyxem_epdf.physics.chain.ChainOperator.matrix`).
    rows : slice
        The s bins of ``matrix``'s rows.
    gradients : tuple of array_like, optional
        ``(a, c)`` of :func:`~pyxem_epdf.physics.uncertainty.fit_gradients`,
        each (n_s,) or (n_pixels, n_s); ``None``: N and C exact.
    correlation : array_like, optional
        (n_s, n_s) correlation of the s bins; ``None``: independent bins.
    block : int
        Patterns per vectorised block (memory: block × n_s × n_rows floats).

    Returns
    -------
    PropagatedNoise

    Examples
    --------
    The diagonal is :func:`~pyxem_epdf.physics.uncertainty.pdf_variance`:

    >>> from pyxem_epdf.physics import chain, transform, uncertainty
    >>> s, r = np.linspace(0, 3, 301), transform.r_grid(10, 0.05)
    >>> f2 = fsq = 1 / (1 + s**2)
    >>> op = chain.chain_operator(s, r, s_min=0.2)
    >>> I = np.array([2.0, 3.0])[:, None] * f2
    >>> v = np.full((2, 301), 1e-4)
    >>> grads = uncertainty.fit_gradients(s, f2, (2.0, 3.0))
    >>> noise = propagated_noise(v, I, s, [2.0, 3.0], [0.0, 0.0], fsq, op.matrix, op.rows,
    ...                          gradients=grads)
    >>> var = uncertainty.pdf_variance(v, I, s, np.array([2.0, 3.0]), np.zeros(2), f2, fsq, op,
    ...                                gradients=grads)
    >>> bool(np.allclose(noise.level, np.sqrt(var.mean(axis=1))))
    True
    >>> unit = var / noise.level[:, None] ** 2
    >>> bool(np.allclose(np.diag(noise.covariance), unit.mean(axis=0)))
    True
    """
    v = np.asarray(variance, dtype=float)
    x = np.asarray(intensity, dtype=float)
    s = np.asarray(s, dtype=float)
    if v.ndim != 2 or v.shape != x.shape or v.shape[1] != s.size:
        raise ValueError(f"'variance' {v.shape} and 'intensity' {x.shape} must be (n_pixels, "
                         f"{s.size}).")
    n, n_s = v.shape
    N = np.broadcast_to(np.asarray(N, dtype=float).ravel(), (n,))
    C = np.broadcast_to(np.asarray(C, dtype=float).ravel(), (n,))
    fsq = np.asarray(f_mean_sq, dtype=float)
    if fsq.shape != (n_s,):
        raise ValueError(f"'f_mean_sq' must have shape ({n_s},); got {fsq.shape}.")
    L = np.asarray(matrix, dtype=float)
    idx = np.arange(n_s)[rows]
    if L.ndim != 2 or L.shape[0] != idx.size:
        raise ValueError(f"'matrix' must be ({idx.size}, n_r) for rows {rows}; got {L.shape}.")
    if int(block) < 1:
        raise ValueError(f"'block' must be >= 1; got {block}.")
    root = None
    if correlation is not None:
        corr = np.asarray(correlation, dtype=float)
        if corr.shape != (n_s, n_s):
            raise ValueError(f"'correlation' must have shape {(n_s, n_s)}; got {corr.shape}.")
        lam, vec = np.linalg.eigh(0.5 * (corr + corr.T))
        root = (vec * np.sqrt(np.clip(lam, 0, None))) @ vec.T
    if gradients is not None:
        gradients = tuple(np.broadcast_to(np.asarray(g, dtype=float), (n, n_s))
                          for g in gradients)
        if len(gradients) != 2:
            raise ValueError("'gradients' must be (a, c).")
    ok = np.isfinite(N) & (N > 0) & np.isfinite(C) & np.isfinite(v).all(1) & np.isfinite(x).all(1)
    n_r = L.shape[1]
    level = np.full(n, np.nan)
    acc = np.zeros((idx.size, idx.size))
    kk = L @ L.T  # trace(Lᵀ M L) = Σ M ∘ (L Lᵀ)
    s_f = s[idx] / fsq[idx]
    with blas_threads():
        for i0 in range(0, n, int(block)):
            j = np.arange(i0, min(i0 + int(block), n))
            j = j[ok[j]]
            if j.size == 0:
                continue
            inv_n = 1.0 / N[j][:, None]
            u = s_f * inv_n  # ∂φ/∂I on the rows
            sd = np.sqrt(np.maximum(v[j], 0.0))
            p = np.zeros((j.size, n_s, idx.size))
            p[:, idx, np.arange(idx.size)] = sd[:, idx] * u
            if gradients is not None:
                h = -(x[j][:, idx] - C[j][:, None]) * u * inv_n  # ∂φ/∂N
                k = -inv_n * s_f  # ∂φ/∂C = −s/(N⟨f⟩²)
                p += np.einsum("is,ir->isr", sd * gradients[0][j], h)
                p += np.einsum("is,ir->isr", sd * gradients[1][j], k)
            if root is not None:
                p = np.einsum("ts,isr->itr", root, p)
            m = np.einsum("isr,isq->irq", p, p)
            t = np.einsum("irq,rq->i", m, kk)
            level[j] = np.sqrt(t / n_r)
            good = t > 0
            acc += np.einsum("irq,i->rq", m[good], 1.0 / t[good] * n_r)
        n_ok = max(int(np.sum(level > 0)), 1)
        cov = L.T @ (acc / n_ok) @ L
    return PropagatedNoise(level, 0.5 * (cov + cov.T))


#: Gaussian smoothing (σ in scan pixels) of the log N̂ residual in the
#: thickness test (suppresses the pixel noise of N̂).
THICKNESS_SMOOTHING = 1.0
#: Components (from index 1) the thickness correlation is computed for.
THICKNESS_MAX_COMPONENTS = 8


def loading_thickness_correlation(evidence, n_map, nav_shape, *, smooth=THICKNESS_SMOOTHING,
                                  n_max=THICKNESS_MAX_COMPONENTS):
    """Partial correlation of every component's loading with the scan's log N̂ map.

    A thickness-driven change of G(r) within a phase (e.g. a multiple-scattering
    artefact that grows with t/λ) has a loading that follows the specimen
    thickness, which the fitted scale N̂ of the chain (``metadata.ePDF.fit.N``,
    ∝ atoms per area) tracks within every phase; a phase's loading is piecewise
    constant. For component k the noise-whitened loading
    uₖ = (coordinates / noise_scale) · componentsₖ and log N̂ are both
    residualised on a constant and u₀ … uₖ₋₁ (the components before it: N̂'s
    jumps between the phases already found are removed), log N̂'s residual is
    smoothed over the scan (Gaussian, ``smooth`` pixels, normalized by the
    smoothed mask of the used pixels) and the Pearson correlation of the two
    residuals is ρₖ.

    N̂ also jumps where the *candidate* phase begins (a denser or thicker phase),
    which this residual cannot remove: a real third phase correlates too
    (measured abs(ρ) ≤ 0.14 at 20–60 nm thickness ranges, ≤ 0.43 at 20–160 nm),
    hence the threshold :data:`pyxem_epdf.mapping.THICKNESS_CORRELATION` rather than a z-score
    (the pixel noise of N̂ and of G are coupled through the fit, so even
    noise directions have abs(ρ) √n ≫ 1: std 1.8, largest 7 on 382 measured
    incoherent components).

    Parameters
    ----------
    evidence : pyxem_epdf.physics.unmixing.RankEvidence
        The rank evidence of the cube.
    n_map : array_like
        Fitted N̂ at every pixel (any shape holding ``prod(nav_shape)``
        values, C order); must be finite and > 0 at the used pixels.
    nav_shape : tuple of int
        Navigation shape (array order).
    smooth : float
        Gaussian σ (pixels, ≥ 0) of the smoothing of log N̂'s residual.
    n_max : int
        Number of leading components (≥ 2) to compute ρ for.

    Returns
    -------
    numpy.ndarray
        (m,) ρₖ, NaN for k = 0 (the mean direction) and k ≥ ``n_max``.

    Examples
    --------
    Two phases and a change of G(r) that follows a thickness wedge across
    both (tests/test_rank_thickness.py also has a denser third phase, abs(ρ) < 0.2):

    >>> import numpy as np
    >>> from pyxem_epdf.physics.unmixing import rank_evidence
    >>> rng = np.random.default_rng(1)
    >>> ny, nx = 30, 30
    >>> yy, xx = np.mgrid[:ny, :nx]
    >>> t = 1 + xx / nx                                   # thickness wedge
    >>> a = (yy < 15).astype(float)                       # phase A | phase B
    >>> r = np.linspace(1, 8, 200)
    >>> g = np.stack([np.sin(2 * r), np.cos(3 * r), np.sin(5 * r + 1)])
    >>> noise = 0.02 * rng.normal(size=(ny * nx, 200))
    >>> x = np.column_stack([a.ravel(), 1 - a.ravel(), (t - 1.5).ravel()]) @ g + noise
    >>> ev = rank_evidence(x, (ny, nx))
    >>> n_hat = t * (1 + 0.3 * a) * np.exp(0.02 * rng.normal(size=(ny, nx)))
    >>> rho = loading_thickness_correlation(ev, n_hat, (ny, nx))
    >>> bool(abs(rho[2]) > 0.9)                           # the wedge: a thickness mode
    True
    """
    nav_shape = _nav_shape_of(evidence, nav_shape)
    n_pix = int(np.prod(nav_shape))
    n_map = np.asarray(n_map, dtype=float).ravel()
    if n_map.size != n_pix:
        raise ValueError(f"'n_map' must hold {n_pix} values (nav_shape {nav_shape}); got "
                         f"{n_map.size}.")
    if not (np.isfinite(smooth) and smooth >= 0):
        raise ValueError(f"'smooth' must be a finite number >= 0 (pixels); got {smooth}.")
    if int(n_max) < 2:
        raise ValueError(f"'n_max' must be >= 2; got {n_max}.")
    used = np.asarray(evidence.used, dtype=bool)
    nu = n_map[used]
    if not np.all(np.isfinite(nu) & (nu > 0)):
        raise ValueError("'n_map' must be finite and > 0 at every used pixel.")
    y = evidence.coordinates / evidence.noise_scale[:, None]
    m = evidence.components.shape[0]
    k_top = min(int(n_max), m)
    rho = np.full(m, np.nan)
    if k_top < 2 or len(nu) < 4:
        return rho
    with blas_threads():
        u = y @ evidence.components[:k_top].T
    t = np.log(nu)
    for k in range(1, k_top):
        q, _ = np.linalg.qr(np.column_stack([np.ones(len(t)), u[:, :k]]))
        tr = t - q @ (q.T @ t)
        ur = u[:, k] - q @ (q.T @ u[:, k])
        if smooth > 0:
            tr = _smooth_on_scan(tr, used, nav_shape, smooth)
        den = np.sqrt((tr @ tr) * (ur @ ur))
        rho[k] = float(tr @ ur / den) if den > 0 else 0.0
    return rho


def _count_phases(evidence, coherent_strength, rho, rho_max):
    """The leading run of components that count (as ``rank_evidence``'s rule),
    ended by the first coherent candidate of index ≥ 2 whose abs(ρ) ≥ ``rho_max``
    (a thickness mode): (count, thickness_like flags)."""
    sv = np.asarray(evidence.singular_values)
    ok = (sv > evidence.noise_floor) & (evidence.strength >= coherent_strength)
    ok[1:] &= evidence.coherence[1:] >= evidence.min_coherence
    thick = np.zeros(sv.size, dtype=bool)
    thick[2:] = ok[2:] & (np.where(np.isfinite(rho[2:]), np.abs(rho[2:]), 0.0) >= rho_max)
    count = ok & ~thick
    n = int(np.argmin(count)) if not count.all() else sv.size
    return n, thick


def _smooth_on_scan(values, used, nav_shape, sigma):
    """Gaussian smoothing (σ pixels) of per-used-pixel values over the scan,
    normalized by the smoothed mask (pixels left out do not pull towards 0)."""
    from scipy import ndimage

    full = np.zeros(used.size)
    full[used] = values
    weight = ndimage.gaussian_filter(used.reshape(nav_shape).astype(float), float(sigma),
                                     mode="nearest").ravel()[used]
    smooth = ndimage.gaussian_filter(full.reshape(nav_shape), float(sigma),
                                     mode="nearest").ravel()[used]
    return smooth / np.maximum(weight, 1e-12)


def thickness_deflated(evidence, n_map, nav_shape, k, *, smooth=THICKNESS_SMOOTHING):
    """The rank evidence with the thickness-driven variation within k phases removed.

    Model of every pixel's noise-whitened coordinates:
    yᵢ = a + Σⱼ uᵢⱼ bⱼ + τᵢ (c₀ + Σⱼ≥1 uᵢⱼ cⱼ / std(uⱼ)), with uⱼ the loadings of the
    leading k components and τ the part of log N̂ they and a constant do not
    explain (smoothed over ``smooth`` pixels, as in
    :func:`loading_thickness_correlation`): a change of G(r) proportional to
    the thickness, different in every phase. The τ terms are fitted by least
    squares together with the phase terms and subtracted; the components are
    the SVD of what is left. Only what the unmixing reads is replaced
    (``coordinates``, ``components``); singular values, floor and count stay.

    Parameters
    ----------
    evidence : pyxem_epdf.physics.unmixing.RankEvidence
    n_map : array_like
        Fitted N̂ (``prod(nav_shape)`` values, C order; finite and > 0 at the
        used pixels).
    nav_shape : tuple of int
    k : int
        Number of phases (1 ≤ k ≤ number of the evidence's components).
    smooth : float
        Gaussian σ (pixels, ≥ 0) of the smoothing of τ.

    Returns
    -------
    pyxem_epdf.physics.unmixing.RankEvidence

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.unmixing import rank_evidence
    >>> rng = np.random.default_rng(0)
    >>> yy, xx = np.mgrid[:20, :20]
    >>> t = 1 + xx / 20
    >>> a = (yy < 10).astype(float).ravel()[:, None]
    >>> r = np.linspace(1, 8, 120)
    >>> g = np.stack([np.sin(2 * r), np.cos(3 * r)])
    >>> x = np.hstack([a, 1 - a]) @ g + 0.3 * (t.ravel()[:, None] - 1.5) * np.sin(7 * r)
    >>> x = x + 0.01 * rng.normal(size=x.shape)
    >>> ev = rank_evidence(x, (20, 20))
    >>> flat = thickness_deflated(ev, t * (1 + 0.2 * a.reshape(20, 20)), (20, 20), 2)
    >>> y = flat.coordinates / flat.noise_scale[:, None]
    >>> resid = y - (y @ flat.components[:2].T) @ flat.components[:2]
    >>> bool(np.sqrt((resid ** 2).sum(1)).mean() < 0.2)
    True
    """
    k_max = evidence.components.shape[0]
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise ValueError(f"'k' must be an integer in [1, {k_max}]; got {k!r}.")
    if k < 1:
        raise ValueError(f"'k' must be >= 1; got {k}.")
    if k > k_max:
        raise ValueError(f"'k' must be at most {k_max} (the evidence's components); got {k}.")
    k = int(k)
    if not (np.isfinite(smooth) and smooth >= 0):
        raise ValueError(f"'smooth' must be a finite number >= 0 (pixels); got {smooth}.")
    nav_shape = _nav_shape_of(evidence, nav_shape)
    used = np.asarray(evidence.used, dtype=bool)
    n_map = np.asarray(n_map, dtype=float).ravel()
    if n_map.size != used.size:
        raise ValueError(f"'n_map' must hold {used.size} values; got {n_map.size}.")
    nu = n_map[used]
    if not np.all(np.isfinite(nu) & (nu > 0)):
        raise ValueError("'n_map' must be finite and > 0 at every used pixel.")
    y = evidence.coordinates / evidence.noise_scale[:, None]
    with blas_threads():
        u = y @ evidence.components[:k].T
        a = np.column_stack([np.ones(len(nu)), u])
        q, _ = np.linalg.qr(a)
        t = np.log(nu)
        tau = t - q @ (q.T @ t)
        if smooth > 0:
            tau = _smooth_on_scan(tau, used, nav_shape, smooth)
        scale = u[:, 1:].std(axis=0)
        z = np.column_stack([tau] + [tau * u[:, j] / scale[j - 1] for j in range(1, k)
                                     if scale[j - 1] > 0])
        coef, *_ = np.linalg.lstsq(np.column_stack([a, z]), y, rcond=None)
        y = y - z @ coef[a.shape[1]:]
        _, _, comps = np.linalg.svd(y, full_matrices=False)
    return evidence._replace(coordinates=y * evidence.noise_scale[:, None], components=comps)
