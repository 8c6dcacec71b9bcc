"""Analytic model functions with exact φ(s) ↔ G(r) pairs.

Used as ground truth by the tests and by the embedded synthetic datasets. A
pair-distance peak is modelled in G(r) as an odd pair of normalised Gaussians,

.. math::

    G(r) = \\sum_k a_k [g_{σ_k}(r - r_k) - g_{σ_k}(r + r_k)],

whose reduced intensity under the transform convention of
:func:`pyxem_epdf.physics.transform.sine_transform`
(:math:`G(r) = 8π\\int_0^∞ φ(s) \\sin(2π s r)\\,ds`) is exactly

.. math::

    φ(s) = \\sum_k \\frac{a_k}{2π} \\sin(2π s r_k)\\, e^{-2π^2 σ_k^2 s^2}.

For peaks with r_k ≫ σ_k the mirrored Gaussian is negligible for r > 0.
"""

import numpy as np


def _peak_arrays(centers, amplitudes, sigmas):
    centers = np.atleast_1d(np.asarray(centers, dtype=float))
    amplitudes = np.broadcast_to(np.asarray(amplitudes, dtype=float), centers.shape)
    sigmas = np.broadcast_to(np.asarray(sigmas, dtype=float), centers.shape)
    if np.any(sigmas <= 0):
        raise ValueError(f"'sigmas' must be > 0 Å; got {sigmas.tolist()}.")
    return centers, amplitudes, sigmas


def gaussian_peaks_pdf(r, centers, amplitudes, sigmas):
    """Reduced PDF G(r) of a sum of Gaussian pair-distance peaks.

    Parameters
    ----------
    r : array_like
        Radial distances in Å.
    centers : array_like
        Peak positions r_k in Å.
    amplitudes : array_like
        Integrated peak areas a_k in Å⁻¹ (G is in Å⁻²; area of G in Å⁻¹).
    sigmas : array_like
        Gaussian standard deviations σ_k in Å (> 0).

    Returns
    -------
    numpy.ndarray
        G(r) in Å⁻², same shape as ``r``.

    Examples
    --------
    >>> g = gaussian_peaks_pdf([2.0], [2.0], [1.0], [0.1])
    >>> round(float(g[0]), 4)  # 1 / (0.1 sqrt(2π))
    3.9894
    """
    r = np.asarray(r, dtype=float)
    centers, amplitudes, sigmas = _peak_arrays(centers, amplitudes, sigmas)
    rr = r[..., None]
    norm = amplitudes / (sigmas * np.sqrt(2 * np.pi))
    g = norm * (
        np.exp(-0.5 * ((rr - centers) / sigmas) ** 2)
        - np.exp(-0.5 * ((rr + centers) / sigmas) ** 2)
    )
    return g.sum(axis=-1)


def gaussian_peaks_reduced_intensity(s, centers, amplitudes, sigmas):
    """Reduced intensity φ(s) whose transform is :func:`gaussian_peaks_pdf`.

    Parameters
    ----------
    s : array_like
        Scattering vector s = 2 sin(θ)/λ in Å⁻¹.
    centers, amplitudes, sigmas : array_like
        As in :func:`gaussian_peaks_pdf` (Å, Å⁻¹, Å).

    Returns
    -------
    numpy.ndarray
        φ(s) (dimensionless × Å⁻¹, the paper's s-multiplied reduced intensity),
        same shape as ``s``.

    Examples
    --------
    >>> phi = gaussian_peaks_reduced_intensity([0.125], [2.0], [2 * np.pi], [0.1])
    >>> round(float(phi[0]), 4)  # sin(π/2) exp(-2π² 0.01 / 64)
    0.9969
    """
    s = np.asarray(s, dtype=float)
    centers, amplitudes, sigmas = _peak_arrays(centers, amplitudes, sigmas)
    ss = s[..., None]
    phi = (
        amplitudes
        / (2 * np.pi)
        * np.sin(2 * np.pi * ss * centers)
        * np.exp(-2 * np.pi**2 * sigmas**2 * ss**2)
    )
    return phi.sum(axis=-1)
