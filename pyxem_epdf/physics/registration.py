"""Image registration and map correlation on calibrated grids (pure numpy).

Two images of the same area recorded on different scan grids — an EDS map and
the ePDF scan, or two repeat scans — are related by their calibrations (origin
and step in nm, both known) and an unknown drift (a translation). These
functions resample an image from one grid to another, find the drift by
normalised cross-correlation (scikit-image's masked phase correlation for the
integer part, its upsampled cross-correlation on the overlap for the sub-pixel
part) and correlate sets of maps pixel by pixel (Pearson and Spearman r,
scipy.stats).

Conventions: images are indexed ``[row, column] = [y, x]``; grids are given as
``origin = (x0, y0)`` and ``step = (dx, dy)`` in nm; a drift ``(x, y)`` in nm
means the moving image's true positions are its nominal ones plus the drift.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage, stats

__all__ = [
    "DriftTest",
    "Registration",
    "resample_image",
    "highpass",
    "image_noise",
    "register_translation",
    "register_grids",
    "drift_significance",
    "correlation_table",
]


def _pair(name, value):
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"'{name}' must be two numbers (x, y); got {value!r}.") from None
    if not (np.isfinite(a) and np.isfinite(b)):
        raise ValueError(f"'{name}' must be finite; got {value!r}.")
    return np.array([a, b])


def resample_image(image, src_origin, src_step, dst_origin, dst_step, dst_shape, *,
                   shift=(0.0, 0.0), order=1):
    """Resample an image from one calibrated grid onto another.

    Parameters
    ----------
    image : array_like
        2-D image ``[y, x]`` on the source grid; NaN marks missing pixels.
    src_origin, src_step : tuple of float
        Source grid: position (x, y) of pixel [0, 0] and pixel step (x, y),
        in nm.
    dst_origin, dst_step : tuple of float
        Destination grid, same units.
    dst_shape : tuple of int
        Destination shape (rows, columns).
    shift : tuple of float
        Drift (x, y) in nm added to the source positions (the source pixel
        [i, j] lies at ``src_origin + (j, i)·src_step + shift``).
    order : int
        Spline order of :func:`scipy.ndimage.map_coordinates` (0 or 1 keep
        counts positive).

    Returns
    -------
    numpy.ndarray
        Float image of ``dst_shape``; NaN where the destination pixel lies
        outside the source field of view. When the source is finer than the
        destination it is first smoothed by a Gaussian of σ = 0.4 × (step
        ratio) source pixels, so the result is an area average, not a sample.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import resample_image
    >>> img = np.arange(12.0).reshape(3, 4)              # x = 0, 2, 4, 6 nm
    >>> out = resample_image(img, (0, 0), (2, 2), (0, 0), (1, 1), (1, 7))
    >>> out[0, :3]                                       # linear between pixels
    array([0. , 0.5, 1. ])
    """
    img = np.asarray(image, dtype=float)
    if img.ndim != 2:
        raise ValueError(f"'image' must be 2-D; got shape {img.shape}.")
    src_origin, src_step = _pair("src_origin", src_origin), _pair("src_step", src_step)
    dst_origin, dst_step = _pair("dst_origin", dst_origin), _pair("dst_step", dst_step)
    shift = _pair("shift", shift)
    if np.any(src_step <= 0) or np.any(dst_step <= 0):
        raise ValueError("'src_step' and 'dst_step' must be > 0 (nm).")
    rows, cols = (int(n) for n in dst_shape)
    valid = np.isfinite(img)
    filled = np.where(valid, img, np.nanmean(img) if valid.any() else 0.0)
    ratio = dst_step / src_step
    if np.any(ratio > 1):
        sigma = tuple(0.4 * r if r > 1 else 0.0 for r in ratio[::-1])
        filled = ndimage.gaussian_filter(filled, sigma, mode="nearest")
    xs = (dst_origin[0] + np.arange(cols) * dst_step[0] - src_origin[0] - shift[0]) / src_step[0]
    ys = (dst_origin[1] + np.arange(rows) * dst_step[1] - src_origin[1] - shift[1]) / src_step[1]
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    out = ndimage.map_coordinates(filled, [yy, xx], order=order, mode="nearest")
    # outside the source field of view (half a pixel beyond the outer centres)
    # or next to a missing source pixel → NaN
    ny, nx = img.shape
    inside = (xx >= -0.5) & (xx <= nx - 0.5) & (yy >= -0.5) & (yy <= ny - 0.5)
    if not valid.all():
        near = ndimage.map_coordinates((~valid).astype(float), [yy, xx], order=1,
                                       mode="nearest")
        inside &= near < 0.5
    out[~inside] = np.nan
    return out


def _standardise(image):
    img = np.asarray(image, dtype=float)
    mask = np.isfinite(img)
    if mask.sum() < 4:
        raise ValueError("An image to register has fewer than 4 finite pixels.")
    vals = img[mask]
    out = np.zeros_like(img)
    sd = vals.std()
    out[mask] = (vals - vals.mean()) / (sd if sd > 0 else 1.0)
    return out, mask


def highpass(image, sigma):
    """Image minus its NaN-aware Gaussian blur (σ in pixels); NaN stays NaN.

    Removes smooth trends (a thickness wedge correlates with any shifted copy
    of itself) so that registration locks onto edges and features.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import highpass
    >>> ramp = np.add.outer(np.arange(40.0), np.arange(40.0))   # a smooth trend
    >>> bool(np.abs(highpass(ramp, 3.0)[13:-13, 13:-13]).max() < 1e-9)
    True
    """
    img = np.asarray(image, dtype=float)
    if not sigma or sigma <= 0:
        return img.copy()
    return img - _nan_blur(img, sigma)


def _nan_blur(image, sigma):
    """Gaussian blur (σ in pixels) that ignores NaN pixels and keeps them NaN."""
    valid = np.isfinite(image)
    weight = ndimage.gaussian_filter(valid.astype(float), sigma, mode="constant")
    with np.errstate(invalid="ignore", divide="ignore"):
        out = ndimage.gaussian_filter(np.where(valid, image, 0.0), sigma, mode="constant") / weight
    out[~valid] = np.nan
    return out


def _bandpass(image, highpass_sigma, lowpass_sigma):
    out = highpass(image, highpass_sigma)
    if lowpass_sigma and lowpass_sigma > 0:
        out = _nan_blur(out, lowpass_sigma)
    return out


def register_translation(reference, moving, *, upsample=20, min_overlap=0.3, highpass_sigma=3.0,
                         lowpass_sigma=1.0):
    """Translation (in pixels) that maps ``moving`` onto ``reference``.

    Both images share a pixel size; they may differ in shape and contain NaN
    (outside a field of view). The integer shift maximises the masked
    normalised cross-correlation over all shifts with at least
    ``min_overlap`` of the smaller image overlapping
    (:func:`skimage.registration.phase_cross_correlation` with masks); the
    sub-pixel part comes from the upsampled cross-correlation of the two
    overlapping crops under a Hann window.

    Parameters
    ----------
    reference, moving : array_like
        2-D images ``[y, x]``.
    upsample : int
        Sub-pixel precision 1/``upsample`` pixel (≥ 1).
    min_overlap : float
        Smallest overlapping fraction of the smaller image's area (0 < … ≤ 1).
    highpass_sigma : float
        Both images are first high-pass filtered (:func:`highpass`, σ in
        pixels; 0 turns it off).
    lowpass_sigma : float
        ... and smoothed by a NaN-aware Gaussian of this σ (pixels; 0 turns it
        off), which suppresses the pixel noise of low-dose images.

    Returns
    -------
    shift : numpy.ndarray
        (row, column) shift: ``reference[k, l] ≈ moving[k − shift[0], l − shift[1]]``.
    ncc : float
        Normalised cross-correlation of the overlapping pixels at that shift
        (−1 … 1).
    overlap : float
        Overlapping fraction of the smaller image's valid pixels.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import register_translation
    >>> yy, xx = np.mgrid[:40, :40]
    >>> img = np.exp(-((xx - 22.0) ** 2 + (yy - 17.0) ** 2) / 30) + 0.01 * xx
    >>> moved = np.roll(img, (-3, 5), axis=(0, 1))
    >>> shift, ncc, _ = register_translation(img, moved)
    >>> shift.round(2).tolist()
    [3.0, -5.0]
    """
    from skimage.registration import phase_cross_correlation

    if int(upsample) < 1:
        raise ValueError(f"'upsample' must be an integer >= 1; got {upsample!r}.")
    if not 0 < float(min_overlap) <= 1:
        raise ValueError(f"'min_overlap' must lie in (0, 1]; got {min_overlap!r}.")
    ref, mref = _standardise(_bandpass(reference, highpass_sigma, lowpass_sigma))
    mov, mmov = _standardise(_bandpass(moving, highpass_sigma, lowpass_sigma))
    # common canvas: the masked cross-correlation needs equal shapes
    shape = tuple(max(a, b) for a, b in zip(ref.shape, mov.shape, strict=True))
    canvas = []
    for img, m in ((ref, mref), (mov, mmov)):
        c, cm = np.zeros(shape), np.zeros(shape, bool)
        c[: img.shape[0], : img.shape[1]] = img
        cm[: img.shape[0], : img.shape[1]] = m
        canvas.append((c, cm))
    (c_ref, m_ref), (c_mov, m_mov) = canvas
    smaller = min(mref.sum(), mmov.sum())
    coarse = phase_cross_correlation(c_ref, c_mov, reference_mask=m_ref, moving_mask=m_mov,
                                     overlap_ratio=float(min_overlap))
    coarse = np.asarray(coarse[0] if isinstance(coarse, tuple) else coarse, dtype=float)
    n = np.rint(coarse).astype(int)
    # overlap of reference [k] with moving [k − n]
    k0 = np.maximum(0, n)
    k1 = np.minimum(ref.shape, np.array(mov.shape) + n)
    if np.any(k1 - k0 < 2):
        raise ValueError("The images do not overlap at the best shift.")
    r_crop = ref[k0[0]:k1[0], k0[1]:k1[1]]
    mr = mref[k0[0]:k1[0], k0[1]:k1[1]]
    m_crop = mov[k0[0] - n[0]:k1[0] - n[0], k0[1] - n[1]:k1[1] - n[1]]
    mm = mmov[k0[0] - n[0]:k1[0] - n[0], k0[1] - n[1]:k1[1] - n[1]]
    both = mr & mm
    overlap = float(both.sum() / max(smaller, 1))
    if overlap < float(min_overlap):
        raise ValueError(
            f"The images overlap by {overlap:.0%} of the smaller field of view at the best "
            f"shift; 'min_overlap' is {float(min_overlap):.0%}."
        )
    a = np.where(both, r_crop, 0.0)
    b = np.where(both, m_crop, 0.0)
    ncc = float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))
    if min(a.shape) >= 4 and int(upsample) > 1:
        window = np.outer(np.hanning(a.shape[0] + 2)[1:-1], np.hanning(a.shape[1] + 2)[1:-1])
        fine = phase_cross_correlation(a * window, b * window, upsample_factor=int(upsample),
                                       normalization=None)
        fine = np.asarray(fine[0], dtype=float)
        if np.all(np.abs(fine) <= 1.0):  # a sub-pixel correction, not a new peak
            return n + fine, ncc, overlap
    return n.astype(float), ncc, overlap


def image_noise(image):
    """Robust σ of the pixel noise of an image (same units as the image).

    1.4826 × the median absolute deviation of the image minus its 3 × 3 mean,
    divided by √(8/9) (the variance that residual keeps of white noise).
    Edges and fine structure raise it a little, so a null built on it is on
    the safe side.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import image_noise
    >>> rng = np.random.default_rng(0)
    >>> yy, xx = np.mgrid[:64, :64]
    >>> img = 100 + 10 * np.sin(xx / 9) + rng.normal(scale=2.0, size=(64, 64))
    >>> round(image_noise(img), 1)
    2.0
    """
    img = np.asarray(image, dtype=float)
    valid = np.isfinite(img)
    if valid.sum() < 9:
        raise ValueError("An image needs at least 9 finite pixels to estimate its noise.")
    filled = np.where(valid, img, np.nanmean(img))
    resid = (filled - ndimage.uniform_filter(filled, 3, mode="nearest"))[valid]
    return float(1.4826 * np.median(np.abs(resid - np.median(resid))) / np.sqrt(8 / 9))


class DriftTest(NamedTuple):
    """A measured drift and its significance against noise-only registrations.

    Attributes
    ----------
    shift : numpy.ndarray
        (row, column) drift in pixels from :func:`register_translation`.
    ncc : float
        Cross-correlation at the drift.
    null : numpy.ndarray
        (n_null, 2) drifts found between pairs of noise-only realisations of
        the same image (NaN where registration failed).
    p_value : float
        (1 + #{null radius ≥ |shift|}) / (1 + n_null): how often noise alone
        gives a drift at least this large.
    noise_radius : float
        95th percentile of the null drift radius, pixels.
    sigma : numpy.ndarray
        Robust spread (1.4826 MAD) of the null drifts per axis, pixels.
    recovery : float
        Fraction of simulated pairs — the smoothed reference and its copy
        moved by ``shift``, each with its noise — in which the drift is found
        again within 1 pixel: whether the drift is a reproducible property
        of these images, not a noise peak of the cross-correlation.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import drift_significance
    >>> rng = np.random.default_rng(1)
    >>> yy, xx = np.mgrid[:48, :48]
    >>> scene = 50 * np.exp(-((xx - 20) ** 2 + (yy - 26) ** 2) / 40.0) + 20
    >>> a = scene + rng.normal(scale=2, size=scene.shape)
    >>> b = np.roll(scene, (-3, 2), axis=(0, 1)) + rng.normal(scale=2, size=scene.shape)
    >>> test = drift_significance(a, b, n_null=20)
    >>> np.rint(test.shift).tolist(), test.p_value < 0.05, bool(test.noise_radius < 0.5)
    ([3.0, -2.0], True, True)
    >>> test.recovery, test.significant(0.05)
    (1.0, True)
    """

    shift: np.ndarray
    ncc: float
    null: np.ndarray
    p_value: float
    noise_radius: float
    sigma: np.ndarray
    recovery: float

    def significant(self, alpha=0.05, min_recovery=0.8):
        """Whether the drift is real: beyond the noise and reproducible.

        Parameters
        ----------
        alpha : float
            Significance level: ``p_value < alpha`` is required.
        min_recovery : float
            Smallest acceptable :attr:`recovery`. Real drifts in the tests and
            examples are found again in 93–100 % of the simulated pairs, the
            spurious cross-correlation peak of a 16 × 16 scan in 57 %
            (with 30 pairs).

        Returns
        -------
        bool

        Examples
        --------
        >>> import numpy as np
        >>> test = DriftTest(np.array([2.0, 1.0]), 0.8, np.zeros((30, 2)), 1 / 31, 0.4,
        ...                  np.array([0.1, 0.1]), 0.97)
        >>> test.significant(), test.significant(alpha=0.01)
        (True, False)
        """
        return bool(self.p_value < alpha and self.recovery >= min_recovery)


def drift_significance(reference, moving, *, n_null=30, seed=0, smooth=1.0, **kwargs):
    """Register two images and test the drift against a noise-only null.

    The null hypothesis is "no drift, only noise": ``n_null`` pairs of images
    are drawn as the smoothed reference (Gaussian, σ = ``smooth`` pixels,
    NaN-aware) plus independent Gaussian noise of each image's own σ
    (:func:`image_noise`), and registered exactly like the data. Smoothing
    removes the reference's own noise (else the two null images would share
    it and lock at zero) and some fine structure, and the σ estimate includes
    some structure, so the null errs wide: a drift called significant is.

    Parameters
    ----------
    reference, moving : array_like
        2-D images as in :func:`register_translation`.
    n_null : int
        Null realisations, and as many simulated drifted pairs (≥ 19 so that
        p can reach 0.05; the default 30 reaches 1/31 = 0.03).
    seed : int
        Seed of the null noise.
    smooth : float
        σ in pixels of the reference's smoothing for the null scene.
    **kwargs
        Passed to :func:`register_translation` (``upsample``,
        ``highpass_sigma``, …), for the data and the null alike.

    Returns
    -------
    DriftTest

    Examples
    --------
    A self-comparison: no drift, p = 1.

    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import drift_significance
    >>> rng = np.random.default_rng(0)
    >>> img = np.add.outer(np.sin(np.arange(40) / 3), np.cos(np.arange(40) / 4)) * 10
    >>> img = img + rng.normal(size=img.shape)
    >>> test = drift_significance(img, img, n_null=20)
    >>> test.shift.tolist(), test.p_value, test.significant()
    ([0.0, 0.0], 1.0, False)
    """
    if int(n_null) < 19:
        raise ValueError(f"'n_null' must be >= 19 (p can then reach 0.05); got {n_null!r}.")
    if not (np.isfinite(smooth) and smooth >= 0):
        raise ValueError(f"'smooth' must be >= 0 pixels; got {smooth!r}.")
    ref = np.asarray(reference, dtype=float)
    mov = np.asarray(moving, dtype=float)
    shift, ncc, _ = register_translation(ref, mov, **kwargs)
    truth = _nan_blur(ref, smooth) if smooth > 0 else ref.copy()
    sa, sb = image_noise(ref), image_noise(mov)
    rng = np.random.default_rng(seed)
    null = np.full((int(n_null), 2), np.nan)
    for k in range(int(n_null)):  # one registration per null realisation
        x = truth + rng.normal(scale=sa, size=truth.shape)
        y = truth + rng.normal(scale=sb, size=truth.shape)
        try:
            null[k] = register_translation(x, y, **kwargs)[0]
        except ValueError:  # no overlap at the best shift: counts as a large drift
            pass
    radius = np.where(np.isfinite(null).all(axis=1), np.hypot(*null.T), np.inf)
    p = (1 + np.count_nonzero(radius >= np.hypot(*shift) - 1e-12)) / (1 + len(null))
    finite = null[np.isfinite(null).all(axis=1)]
    sigma = (1.4826 * np.median(np.abs(finite - np.median(finite, axis=0)), axis=0)
             if len(finite) else np.full(2, np.inf))
    # the alternative: the smoothed scene moved by the drift found (NaN outside the field
    # of view), registered under the same noise: how often is the drift found again?
    moved = ndimage.shift(np.where(np.isfinite(truth), truth, np.nanmean(truth)), -shift,
                          order=1, mode="constant", cval=np.nan)
    outside = ndimage.shift(np.isfinite(truth).astype(float), -shift, order=1, mode="constant",
                            cval=0.0) < 0.5
    moved[outside] = np.nan
    hits = 0
    for _ in range(int(n_null)):
        x = truth + rng.normal(scale=sa, size=truth.shape)
        y = moved + rng.normal(scale=sb, size=truth.shape)
        try:
            found = register_translation(x, y, **kwargs)[0]
        except ValueError:
            continue
        hits += np.hypot(*(found - shift)) <= 1.0
    return DriftTest(np.asarray(shift, dtype=float), float(ncc), null, float(p),
                     float(np.percentile(radius, 95)), sigma, float(hits / int(n_null)))


class Registration(NamedTuple):
    """Drift between two calibrated grids found by :func:`register_grids`.

    Attributes
    ----------
    shift : numpy.ndarray
        Drift (x, y) in nm to add to the moving grid's nominal positions.
    scale : numpy.ndarray
        Moving step / reference step (x, y), from the calibrations.
    ncc : float
        Normalised cross-correlation at the drift.
    overlap : float
        Overlapping fraction of the smaller field of view.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import register_grids, resample_image
    >>> yy, xx = np.mgrid[:48, :48] * 1.0                       # 1 nm steps
    >>> ref = np.exp(-((xx - 25) ** 2 + (yy - 20) ** 2) / 40) + np.exp(-((xx - 10) ** 2) / 20)
    >>> mov = resample_image(ref, (0, 0), (1, 1), (0, 0), (2, 2), (24, 24), shift=(-1.5, 2.0))
    >>> reg = register_grids(ref, (0, 0), (1, 1), mov, (0, 0), (2, 2))
    >>> reg.shift.round(1).tolist(), reg.scale.tolist(), round(reg.ncc, 2), reg.overlap
    ([1.4, -2.0], [2.0, 2.0], 0.98, 1.0)
    """

    shift: np.ndarray
    scale: np.ndarray
    ncc: float
    overlap: float


def register_grids(reference, ref_origin, ref_step, moving, mov_origin, mov_step, *,
                   upsample=20, min_overlap=0.3, highpass_sigma=3.0, lowpass_sigma=1.0):
    """Drift of an image on one calibrated grid relative to an image on another.

    The moving image is resampled to the reference pixel size over its own
    field of view, then registered with :func:`register_translation`.

    Parameters
    ----------
    reference : array_like
        2-D image on the reference grid (e.g. the ePDF scan's vADF).
    ref_origin, ref_step : tuple of float
        Reference grid origin (x, y) and step (x, y) in nm.
    moving : array_like
        2-D image on the moving grid (e.g. the HAADF recorded with EDS).
    mov_origin, mov_step : tuple of float
        Moving grid origin and step in nm (nominal, from its calibration).
    upsample, min_overlap, highpass_sigma, lowpass_sigma
        As in :func:`register_translation` (σ in reference pixels).

    Returns
    -------
    Registration

    Raises
    ------
    ValueError
        When the nominal fields of view do not overlap, or no shift gives
        ``min_overlap``.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import register_grids, resample_image
    >>> yy, xx = np.mgrid[:48, :48] * 1.0                       # 1 nm steps
    >>> ref = np.exp(-((xx - 25) ** 2 + (yy - 20) ** 2) / 40) + np.exp(-((xx - 10) ** 2) / 20)
    >>> mov = resample_image(ref, (0, 0), (1, 1), (0, 0), (2, 2), (24, 24), shift=(-1.5, 2.0))
    >>> reg = register_grids(ref, (0, 0), (1, 1), mov, (0, 0), (2, 2))
    >>> bool(np.abs(reg.shift - (1.5, -2.0)).max() < 0.5), reg.scale.tolist()
    (True, [2.0, 2.0])
    """
    ref = np.asarray(reference, dtype=float)
    mov = np.asarray(moving, dtype=float)
    ref_origin, ref_step = _pair("ref_origin", ref_origin), _pair("ref_step", ref_step)
    mov_origin, mov_step = _pair("mov_origin", mov_origin), _pair("mov_step", mov_step)
    ref_extent = ref_origin + (np.array(ref.shape[::-1]) - 1) * ref_step
    mov_extent = mov_origin + (np.array(mov.shape[::-1]) - 1) * mov_step
    lo = np.maximum(ref_origin - ref_step / 2, mov_origin - mov_step / 2)
    hi = np.minimum(ref_extent + ref_step / 2, mov_extent + mov_step / 2)
    if np.any(hi <= lo):
        raise ValueError(
            "The fields of view do not overlap: reference x ∈ "
            f"[{ref_origin[0]:g}, {ref_extent[0]:g}] nm, y ∈ [{ref_origin[1]:g}, "
            f"{ref_extent[1]:g}] nm; moving x ∈ [{mov_origin[0]:g}, {mov_extent[0]:g}] nm, "
            f"y ∈ [{mov_origin[1]:g}, {mov_extent[1]:g}] nm. Check the navigation axes' "
            "offsets, scales and units."
        )
    shape = tuple(int(np.floor((mov_extent[i] - mov_origin[i]) / ref_step[i])) + 1
                  for i in (1, 0))
    mov_fine = resample_image(mov, mov_origin, mov_step, mov_origin, ref_step, shape)
    pix, ncc, overlap = register_translation(ref, mov_fine, upsample=upsample,
                                             min_overlap=min_overlap,
                                             highpass_sigma=highpass_sigma,
                                             lowpass_sigma=lowpass_sigma)
    # reference[k] ≈ mov_fine[k − pix]: mov_fine[i] lies at mov_origin + i·step + drift
    shift = pix[::-1] * ref_step - (mov_origin - ref_origin)
    return Registration(shift, mov_step / ref_step, ncc, overlap)


def correlation_table(first, second):
    """Pearson and Spearman r of every map in ``first`` with every map in ``second``.

    Parameters
    ----------
    first, second : array_like
        Stacks of maps ``(n_a, …)`` and ``(n_b, …)`` with equal map shapes.
        Pixels that are NaN in any map are left out of every pair.

    Returns
    -------
    pearson, spearman : numpy.ndarray
        Shape (n_a, n_b).
    n_pixels : int
        Pixels used.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.registration import correlation_table
    >>> x = np.linspace(0, 1, 50)
    >>> p, s, n = correlation_table([x, -x], [x ** 3])
    >>> p.round(3).ravel().tolist(), s.ravel().tolist(), n
    ([0.915, -0.915], [1.0, -1.0], 50)
    """
    a = np.asarray(first, dtype=float)
    b = np.asarray(second, dtype=float)
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(f"Map shapes differ: {a.shape[1:]} vs {b.shape[1:]}.")
    a = a.reshape(a.shape[0], -1)
    b = b.reshape(b.shape[0], -1)
    keep = np.isfinite(a).all(0) & np.isfinite(b).all(0)
    n = int(keep.sum())
    if n < 3:
        raise ValueError(f"Only {n} pixels are finite in every map; need at least 3.")
    a, b = a[:, keep], b[:, keep]

    def pearson(x, y):
        x = x - x.mean(1, keepdims=True)
        y = y - y.mean(1, keepdims=True)
        norm = np.sqrt((x * x).sum(1))[:, None] * np.sqrt((y * y).sum(1))[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            return (x @ y.T) / norm

    rank = lambda m: np.apply_along_axis(stats.rankdata, 1, m)  # noqa: E731
    return pearson(a, b), pearson(rank(a), rank(b)), n
