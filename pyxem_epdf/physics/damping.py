"""Choosing the damping factor b of exp(−b s²) from the data.

Laulainen et al. (2022) raised b (0.6–1.0 Å²) until spurious high-r
oscillations vanished, using less damping for region-summed than for
per-pixel data. Here that judgement is made measurable. For each candidate b
the chain's last steps (damping, low-s extrapolation, transform) are applied
to the polynomial-corrected φ(s), and three numbers are taken from G(r):

* **high-r noise** — rms of G over an r window where the structure has died
  out (default 15–20 Å);
* **low-r ripple** — rms deviation of G from its best straight line through
  the origin (the −4πρ₀r baseline) below 0.8 × the first-peak position;
* **first peak** — height and FWHM (the resolution paid for damping).

:func:`suggest_damping` returns the smallest b for which the high-r noise
is below ``tolerance`` × the *undamped* first-peak height (medians over all
spectra given; a fixed reference, so that the loss of height with damping
does not reward or punish b), and reports the ripple and the first-peak
broadening it costs, with the metrics for a diagnostic plot. The ripple is
a diagnostic, not part of the criterion: it also reflects truncation and
normalisation errors that damping does not cure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import corrections, peaks, transform

__all__ = ["DampingMetrics", "DampingSuggestion", "damping_metrics", "suggest_damping"]


@dataclass(frozen=True)
class DampingMetrics:
    """Metrics of G(r) per candidate b (first axis) and spectrum.

    Attributes
    ----------
    b_values : numpy.ndarray
        Candidates in Å².
    high_r_noise, low_r_ripple : numpy.ndarray
        rms values in Å⁻², shape ``(n_b,) + leading``.
    first_peak_height, first_peak_width : numpy.ndarray
        Height (Å⁻²) and FWHM (Å) of the first peak, same shape.

    Examples
    --------
    >>> from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity
    >>> s = np.arange(0.01, 2.5, 0.01)
    >>> phi = gaussian_peaks_reduced_intensity(s, [1.6, 2.6], [1.0, 1.5], [0.08, 0.1])
    >>> m = damping_metrics(np.stack([phi, 2 * phi]), s, [0.0, 0.5, 1.0], s_min=0.2)
    >>> m.b_values.tolist(), m.high_r_noise.shape   # (n_b, n_spectra)
    ([0.0, 0.5, 1.0], (3, 2))
    >>> m.first_peak_height[:, 0].round(3).tolist()   # damping lowers the first peak ...
    [3.199, 1.46, 0.903]
    >>> m.first_peak_width[:, 0].round(3).tolist()    # ... and broadens it
    [0.238, 0.323, 0.386]
    """

    b_values: np.ndarray
    high_r_noise: np.ndarray
    low_r_ripple: np.ndarray
    first_peak_height: np.ndarray
    first_peak_width: np.ndarray


@dataclass(frozen=True)
class DampingSuggestion:
    """Result of :func:`suggest_damping`.

    Attributes
    ----------
    b : float
        Suggested damping factor in Å².
    metrics : DampingMetrics
    tolerance : float
    criterion : str
        What was required and what it cost (first-peak broadening).

    Examples
    --------
    >>> from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity
    >>> s = np.arange(0.01, 2.5, 0.01)
    >>> phi = gaussian_peaks_reduced_intensity(s, [1.6, 2.6], [1.0, 1.5], [0.08, 0.1])
    >>> noisy = phi + 0.05 * s * np.random.default_rng(0).normal(size=(50, s.size))
    >>> choice = suggest_damping(noisy, s, s_min=0.2)
    >>> choice.b, choice.tolerance, choice.metrics.high_r_noise.shape   # 31 candidates
    (0.1, 0.05, (31, 50))
    >>> print(choice.criterion)
    smallest b with high-r noise 0.043 <= 0.05 × undamped first-peak height; low-r ripple
    0.049; first-peak FWHM 0.253 Å (+7 % vs b = 0)
    """

    b: float
    metrics: DampingMetrics
    tolerance: float
    criterion: str

    def plot(self, ax=None):
        """Relative high-r noise and low-r ripple against b, with the choice.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Default a new figure with ``layout="constrained"``.

        Returns
        -------
        matplotlib.axes.Axes
            Both metrics as medians over the spectra, divided by the undamped
            first-peak height (a dimensionless ratio, as ``tolerance``).

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity
        >>> s = np.arange(0.01, 2.5, 0.01)
        >>> phi = gaussian_peaks_reduced_intensity(s, [1.6, 2.6], [1.0, 1.5], [0.08, 0.1])
        >>> ax = suggest_damping(phi, s, s_min=0.2).plot()
        >>> ax.get_xlabel(), ax.get_ylabel()
        ('b (Å²)', 'rms / undamped peak (dimensionless)')
        >>> plt.close(ax.figure)
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.8, 3.6), layout="constrained")
        m = self.metrics
        height = _median(m.first_peak_height)[0]
        ax.plot(m.b_values, _median(m.high_r_noise) / height, "o-", label="high-r noise")
        ax.plot(m.b_values, _median(m.low_r_ripple) / height, "s-", label="low-r ripple")
        ax.axhline(self.tolerance, color="k", ls="--", lw=0.8, label="tolerance")
        ax.axvline(self.b, color="C3", lw=0.8, label="suggested b")
        ax.set_xlabel("b (Å²)")
        ax.set_ylabel("rms / undamped peak (dimensionless)")
        ax.set_title(f"suggested b = {self.b:g} Å²")
        ax.legend(fontsize=7)
        return ax


def _median(a):
    a = np.asarray(a, dtype=float)
    return np.nanmedian(a.reshape(a.shape[0], -1), axis=1)


def damping_metrics(phi, s, b_values, *, s_min, r_max=20.0, r_step=0.02, low_r=None,
                    high_r=(15.0, 20.0), first_peak_range=(1.0, 3.0)):
    """G(r) quality metrics for each candidate damping factor.

    Parameters
    ----------
    phi : numpy.ndarray
        Polynomial-corrected, **undamped** φ(s), any leading shape, s last.
    s : array_like
        s values in Å⁻¹.
    b_values : array_like
        Candidate damping factors in Å² (≥ 0, at least one).
    s_min : float
        Direct-beam edge in Å⁻¹ (φ extrapolated linearly to 0 below it).
    r_max, r_step : float
        r grid of the transform in Å.
    low_r : float, optional
        Upper r (Å) of the ripple window; default 0.8 × the first-peak position.
    high_r : tuple of float
        r window (Å) of the high-r noise; inside (0, r_max] and below the
        aliasing limit 1/(2 Δs) of the s sampling.
    first_peak_range : tuple of float
        r window (Å) that holds the first peak.

    Returns
    -------
    DampingMetrics

    Examples
    --------
    >>> from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity
    >>> s = np.arange(0.01, 2.5, 0.01)
    >>> phi = gaussian_peaks_reduced_intensity(s, [1.6, 2.6], [1.0, 1.5], [0.08, 0.1])
    >>> m = damping_metrics(phi, s, [0.0, 0.5, 1.0], s_min=0.2)
    >>> bool(np.all(np.diff(m.first_peak_width) > 0))  # damping broadens
    True
    """
    phi = np.asarray(phi, dtype=float)
    s = np.asarray(s, dtype=float)
    b_values = np.atleast_1d(np.asarray(b_values, dtype=float))
    if b_values.size == 0 or np.any(b_values < 0) or not np.all(np.isfinite(b_values)):
        raise ValueError(f"'b_values' must be a non-empty set of finite values >= 0 Å²; got {b_values}.")
    if not s[0] <= s_min < s[-1]:
        raise ValueError(f"'s_min' must lie inside the s axis [{s[0]:g}, {s[-1]:g}) Å⁻¹; got {s_min}.")
    lo, hi = map(float, high_r)
    if not 0 < lo < hi <= r_max:
        raise ValueError(f"'high_r' must satisfy 0 < lo < hi <= r_max = {r_max} Å; got {tuple(high_r)}.")
    alias = 0.5 / float(np.min(np.diff(s)))
    if hi > alias:
        raise ValueError(
            f"'high_r' upper end {hi:g} Å exceeds the aliasing limit 1/(2 Δs) = {alias:.3g} Å "
            "of the s sampling; use a finer profile (more bins) or a lower window."
        )
    r = transform.r_grid(r_max, r_step)
    matrix = transform.sine_transform_matrix(s, r)
    high = (r >= lo) & (r <= hi)
    out = {k: [] for k in ("noise", "ripple", "height", "width")}
    for b in b_values:
        damped = corrections.extrapolate_low_s(phi * corrections.exponential_damping(s, b), s, s_min)
        g = damped @ matrix
        pos, height = peaks.first_peak(g, r, r_range=first_peak_range)
        width = peaks.peak_widths(g, r, pos[..., None], height[..., None])[..., 0]
        limit = 0.8 * pos if low_r is None else np.full(pos.shape, float(low_r))
        window = (r > 0) & (r < np.nan_to_num(limit)[..., None])
        rr = np.where(window, r, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            slope = (g * rr).sum(-1) / (rr * rr).sum(-1)
            ripple = np.sqrt(((g - slope[..., None] * rr) ** 2 * window).sum(-1) / window.sum(-1))
        out["noise"].append(np.sqrt(np.mean(g[..., high] ** 2, axis=-1)))
        out["ripple"].append(ripple)
        out["height"].append(height)
        out["width"].append(width)
    return DampingMetrics(b_values, *(np.stack(out[k]) for k in ("noise", "ripple", "height", "width")))


def suggest_damping(phi, s, *, s_min, b_values=None, tolerance=0.05, **metric_kwargs):
    """Smallest b that brings the high-r noise of G(r) under a tolerance.

    Parameters
    ----------
    phi : numpy.ndarray
        Polynomial-corrected, undamped φ(s); one spectrum (region-summed
        data) or many (per-pixel data: medians over them are used).
    s : array_like
        s values in Å⁻¹.
    s_min : float
        Direct-beam edge in Å⁻¹.
    b_values : array_like, optional
        Candidates in Å²; default 0 to 1.5 in steps of 0.05.
    tolerance : float
        Allowed high-r noise as a fraction of the undamped first-peak
        height (> 0).
    **metric_kwargs
        Passed to :func:`damping_metrics`.

    Returns
    -------
    DampingSuggestion

    Examples
    --------
    >>> from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity
    >>> s = np.arange(0.01, 2.5, 0.01)
    >>> phi = gaussian_peaks_reduced_intensity(s, [1.6, 2.6], [1.0, 1.5], [0.08, 0.1])
    >>> noisy = phi + 0.05 * s * np.random.default_rng(0).normal(size=(50, s.size))
    >>> suggest_damping(noisy, s, s_min=0.2).b > suggest_damping(phi, s, s_min=0.2).b
    True
    """
    if not tolerance > 0:
        raise ValueError(f"'tolerance' must be > 0; got {tolerance}.")
    if b_values is None:
        b_values = np.round(np.arange(0.0, 1.51, 0.05), 2)
    m = damping_metrics(phi, s, b_values, s_min=s_min, **metric_kwargs)
    height = _median(m.first_peak_height)[0]
    noise = _median(m.high_r_noise) / height
    ripple = _median(m.low_r_ripple) / height
    ok = noise <= tolerance
    width = _median(m.first_peak_width)
    if ok.any():
        i = int(np.argmax(ok))
        text = (f"smallest b with high-r noise {noise[i]:.3f} <= {tolerance:g} × undamped "
                f"first-peak height; low-r ripple {ripple[i]:.3f}")
    else:
        i = len(m.b_values) - 1
        text = (f"no candidate brings the high-r noise to {tolerance:g} × first-peak height "
                f"(best {noise.min():.3f}); largest b returned")
    if np.isfinite(width[0]) and np.isfinite(width[i]) and width[0] > 0:
        text += f"; first-peak FWHM {width[i]:.3f} Å ({100 * (width[i] / width[0] - 1):+.0f} % vs b = 0)"
    return DampingSuggestion(float(m.b_values[i]), m, float(tolerance), text)
