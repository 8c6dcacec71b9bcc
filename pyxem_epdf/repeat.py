"""Repeat scans of one area: registration, region PDFs with bootstrap errors, a damage verdict.

The paper shows that a second scan of the same area gives the same PDFs, i.e.
the first scan did not damage the material. :func:`compare_scans` makes that
check one call:

1. the two scans are registered by cross-correlating images of each (the
   vADF — counts in an s annulus — computed from the I(s) profiles, or images
   you pass), after a high-pass filter
   (:func:`pyxem_epdf.physics.registration.register_translation`), and the
   drift is tested against a noise-only null: the drifts found between
   pairs of noise-only realisations of the first image
   (:func:`pyxem_epdf.physics.registration.drift_significance`);
2. every region (mask, ROI or thresholded loading map, given in the first
   scan's frame) is moved by the drift onto the second scan — only if the
   drift is significant (p < ``drift_alpha``); a drift within the noise is
   reported and not applied;
3. region-summed PDFs of both scans go through *your* chain, with bootstrap
   resamples of the region's probe positions
   (:meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.bootstrap_region`)
   giving the uncertainty of G(r) (an error band) and of every peak position
   and height (:func:`pyxem_epdf.physics.peaks.track_peaks`);
4. a peak counts as changed when its difference exceeds both the tolerance
   and ``z`` standard errors, or when the second scan has no maximum within
   ``window`` of a maximum the first scan shows in ≥ 95 % of its resamples
   (a shoulder at the noise level that vanishes is not a change); the verdict is ``"changed"`` if any peak is,
   ``"unchanged"`` if the data could have resolved the tolerance (z σ below
   it) for every peak, and ``"inconclusive"`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .physics import peaks as _peaks
from .physics import registration as _reg
from .signals import _regions
from .signals._base import as_numpy as _dense

__all__ = ["RegionPDF", "RepeatScanCheck", "compare_scans", "region_pdf"]

#: Length units of navigation axes, in nm.
_LENGTH_NM = {"nm": 1.0, "µm": 1e3, "μm": 1e3, "um": 1e3, "Å": 0.1, "A": 0.1, "pm": 1e-3}


@dataclass
class RegionPDF:
    """A region-summed PDF with bootstrap resamples.

    Attributes
    ----------
    pdf : PDF1DPlus
        The chain applied to the region sum.
    samples : PDF1DPlus
        The chain applied to each bootstrap resample (navigation axis
        ``"bootstrap"``).
    n_pixels : int
        Probe positions in the region.

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
    ...                                       s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
    >>> comp = epdf.data.average_composition(synth)
    >>> chain = lambda x: (x.fit_scattering(comp, (1.6, 2.4)).polynomial_correct()
    ...                    .damp_exponential(0.8).extrapolate_low_s(0.2).to_pdf(8, 0.02))
    >>> glass = synth.fractions[..., 1] > 0.9
    >>> reg = epdf.repeat.region_pdf(ri, glass, chain, n_bootstrap=20)
    >>> reg.n_pixels == int(glass.sum()), reg.n_pixels
    (True, 9)
    >>> reg.pdf.data.shape, reg.samples.data.shape   # r = 0–8 Å in 0.02 Å steps
    ((401,), (20, 401))
    >>> bool(np.all(reg.std >= 0)), reg.std.shape == reg.r.shape
    (True, True)
    """

    pdf: object = field(repr=False)
    samples: object = field(repr=False)
    n_pixels: int

    @property
    def r(self):
        """r grid in Å."""
        return np.asarray(self.pdf.axes_manager.signal_axes[0].axis)

    @property
    def std(self):
        """Bootstrap standard deviation of G(r), in the units of G (Å⁻²)."""
        return _dense(self.samples.data).std(axis=0, ddof=1)

    def band(self, level=0.68):
        """Central ``level`` interval of the bootstrap G(r).

        Parameters
        ----------
        level : float
            Probability in (0, 1).

        Returns
        -------
        lower, upper : numpy.ndarray

        Examples
        --------
        >>> import numpy as np
        >>> import pyxem_epdf as epdf
        >>> synth = epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
        ...                                       s_scale=0.08)
        >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
        >>> comp = epdf.data.average_composition(synth)
        >>> chain = lambda x: (x.fit_scattering(comp, (1.6, 2.4)).polynomial_correct()
        ...                    .damp_exponential(0.8).extrapolate_low_s(0.2).to_pdf(8, 0.02))
        >>> glass = synth.fractions[..., 1] > 0.9
        >>> reg = epdf.repeat.region_pdf(ri, glass, chain, n_bootstrap=20)
        >>> lo, hi = reg.band(0.68)
        >>> lo.shape == reg.r.shape, bool(np.all(lo <= hi))
        (True, True)
        >>> lo95, hi95 = reg.band(0.95)    # a wider probability, a wider band
        >>> bool(np.all(hi95 - lo95 >= hi - lo))
        True
        """
        if not 0 < level < 1:
            raise ValueError(f"'level' must lie in (0, 1); got {level!r}.")
        q = 50 * (1 - level)
        return tuple(np.percentile(_dense(self.samples.data), [q, 100 - q], axis=0))

    def peaks(self, positions, *, window=0.15):
        """Peak positions and heights near ``positions``, with bootstrap σ.

        Parameters
        ----------
        positions : array_like
            Reference positions in Å.
        window : float
            Search half-width in Å.

        Returns
        -------
        dict
            ``position``, ``position_std``, ``height``, ``height_std`` (arrays,
            one entry per reference position; Å and Å⁻²) and ``found``, the
            fraction of bootstrap resamples with a maximum within ±window
            (1 for a robust peak, lower for a shoulder at the noise level).

        Examples
        --------
        >>> import numpy as np
        >>> import pyxem_epdf as epdf
        >>> synth = epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
        ...                                       s_scale=0.08)
        >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
        >>> comp = epdf.data.average_composition(synth)
        >>> chain = lambda x: (x.fit_scattering(comp, (1.6, 2.4)).polynomial_correct()
        ...                    .damp_exponential(0.8).extrapolate_low_s(0.2).to_pdf(8, 0.02))
        >>> glass = synth.fractions[..., 1] > 0.9
        >>> reg = epdf.repeat.region_pdf(ri, glass, chain, n_bootstrap=20)
        >>> pk = reg.peaks([1.55, 2.6])   # the glass's P–O and O–O peaks
        >>> sorted(pk), pk["position"].round(2).tolist()
        (['found', 'height', 'height_std', 'position', 'position_std'], [1.61, 2.58])
        >>> bool(np.all(pk["position_std"] < 0.05)), bool(np.all(pk["height"] > 0))
        (True, True)
        """
        g = _dense(self.pdf.data)
        pos, h = _peaks.track_peaks(g, self.r, positions, window=window)
        spos, sh = _peaks.track_peaks(_dense(self.samples.data), self.r, positions,
                                      window=window)
        return {"position": pos, "position_std": _spread(spos),
                "height": h, "height_std": _spread(sh),
                "found": np.isfinite(spos).mean(axis=0)}

    def plot(self, ax=None, *, label=None, color=None, level=0.68):
        """G(r) with its bootstrap band.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Default a new figure with ``layout="constrained"``.
        label : str, optional
            Legend label of the curve (the band is labelled
            ``"<label>, 68 % band"``).
        color : str, optional
        level : float
            Band probability.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        new = ax is None
        if new:
            _, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
        lo, hi = self.band(level)
        (line,) = ax.plot(self.r, _dense(self.pdf.data), label=label, color=color, lw=1.2)
        ax.fill_between(self.r, lo, hi, color=line.get_color(), alpha=0.3, lw=0,
                        label=None if label is None else f"{label}, {level:.0%} band")
        ax.set_xlabel("r (Å)")
        ax.set_ylabel("G(r) (Å⁻²)")
        if new and label is not None:
            ax.legend(fontsize=8)
        return ax


def _spread(samples):
    """Std over axis 0 of the finite samples (NaN where fewer than two)."""
    finite = np.isfinite(samples)
    n = finite.sum(axis=0)
    filled = np.where(finite, samples, 0.0)
    mean = filled.sum(axis=0) / np.maximum(n, 1)
    var = (np.where(finite, samples - mean, 0.0) ** 2).sum(axis=0) / np.maximum(n - 1, 1)
    return np.where(n >= 2, np.sqrt(var), np.nan)


def region_pdf(ri, region, chain, *, n_bootstrap=200, seed=0):
    """Region-summed PDF of a scan with a bootstrap error band.

    Parameters
    ----------
    ri : ReducedIntensity1DPlus
        I(s) per probe position (1-D or 2-D scan).
    region : mask, signal or ROI
        As in :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.sum_regions`.
    chain : callable
        ``chain(ri) -> PDF1DPlus`` (fit_scattering … to_pdf); it must work on
        a profile stack (it is applied to all resamples at once).
    n_bootstrap : int
        Resamples (≥ 2).
    seed : int

    Returns
    -------
    RegionPDF

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
    ...                                        s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
    >>> comp = epdf.data.average_composition(synth)
    >>> chain = lambda x: (x.fit_scattering(comp, (1.6, 2.4)).polynomial_correct()
    ...                    .damp_exponential(0.8).extrapolate_low_s(0.2).to_pdf(8, 0.02))
    >>> reg = epdf.repeat.region_pdf(ri, synth.fractions[..., 1] > 0.9, chain, n_bootstrap=20)
    >>> reg.std.shape == reg.r.shape, reg.samples.data.shape[0]
    (True, 20)
    """
    mask = _regions.region_mask(ri, region)
    pdf = chain(ri.sum_regions(mask))
    samples = chain(ri.bootstrap_region(mask, n_bootstrap, seed=seed))
    return RegionPDF(pdf, samples, int(mask.sum()))


def _annulus_image(ri, s_range):
    """Counts with s in ``s_range`` per probe position, from I(s) profiles."""
    from .signals.reduced_intensity import _window_counts

    s = np.asarray(ri.axes_manager.signal_axes[0].axis)
    return _dense(_window_counts(ri, ri.data, s, s_range, unweighted=True))


def _image(img, ri, s_range, name):
    if img is None:
        return _annulus_image(ri, s_range)
    arr = _dense(img.data if hasattr(img, "data") else img)
    nav = tuple(ri.axes_manager._navigation_shape_in_array)
    if arr.shape != nav:
        raise ValueError(f"'{name}' has shape {arr.shape}; the scan is {nav}.")
    return arr


@dataclass
class RepeatScanCheck:
    """Result of :func:`compare_scans`.

    Attributes
    ----------
    shift_pixels : numpy.ndarray
        Drift (row, column) of the second scan as measured: feature at [k] in
        scan a is at [k − shift] in scan b.
    shift_nm : numpy.ndarray
        The same as (x, y) in nm (in navigation units if those are not a
        length, see ``drift_units``).
    ncc : float
        Cross-correlation of the two (high-passed) images at the drift.
    labels : list of str
        Region labels.
    a, b : list of RegionPDF
        Region PDFs of the first and second scan.
    reference : numpy.ndarray
        Peak positions tracked, (n_regions, n_peaks), Å (from scan a).
    position_a, position_b, sigma_position : numpy.ndarray
        Positions (Å) and σ of their difference (Å), (n_regions, n_peaks).
    height_ratio, sigma_height_ratio : numpy.ndarray
        h_b / h_a and its σ (where scan b has no maximum left near a peak,
        h_b is its G at scan a's peak position, with σ from scan b's resamples there).
    changed : numpy.ndarray of bool
        Peaks judged changed.
    verdict : str
        ``"changed"``, ``"unchanged"`` or ``"inconclusive"``.
    tolerance, height_tolerance, z : float
        The criteria used.
    drift_p_value : float
        How often noise alone (registrations of noise-only realisations of
        scan a's image) gives a drift at least as large; 1 for no drift.
    drift_noise_nm : float
        95th percentile of those noise-only drift radii, in ``drift_units``.
    drift_sigma_nm : numpy.ndarray
        Their robust spread (x, y), in ``drift_units``.
    drift_recovery : float
        Fraction of simulated pairs (scan a's smoothed image and its copy
        moved by the drift, with noise) in which the drift is found again
        within one probe position.
    drift_significant : bool
        ``drift_p_value < drift_alpha`` and ``drift_recovery >= 0.8``.
    drift_applied : numpy.ndarray
        Whole probe positions (row, column) the regions were moved by: the
        rounded drift if significant (or ``apply_drift=True``), else 0.
    drift_units : str
        ``"nm"``, or the navigation units when they are not a length.
    region_verdicts : list of str
        Verdict per region, the words of ``verdict``.

    Examples
    --------
    Two scans of the same area with independent noise, the second drifted by
    (2, 1) probe positions:

    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> kw = dict(nav_shape=(22, 22), detector_shape=(64, 64), s_scale=0.08)
    >>> first = epdf.data.two_phase_composite(seed=1, **kw)
    >>> second = epdf.data.two_phase_composite(seed=2, **kw)
    >>> def crop(synth, rows, cols):
    ...     sig = synth.signal.inav[cols:cols + 20, rows:rows + 20]
    ...     for ax in sig.axes_manager.navigation_axes:
    ...         ax.offset = 0.0
    ...     return epdf.azimuthal_profile(sig, npt=40)
    >>> comp = epdf.data.average_composition(first)
    >>> chain = lambda x: (x.fit_scattering(comp, (1.6, 2.4), weights="poisson", fix_c=True)
    ...                    .polynomial_correct().damp_exponential(0.8)
    ...                    .extrapolate_low_s(0.2).to_pdf(8, 0.02))
    >>> glass = first.fractions[:20, :20, 1] > 0.9
    >>> check = epdf.compare_scans(crop(first, 0, 0), crop(second, 2, 1), glass, chain,
    ...                            labels=["glass"], n_peaks=1, r_range=(1.0, 1.7),
    ...                            tolerance=0.05, height_tolerance=0.2, n_bootstrap=20)
    >>> np.rint(check.shift_pixels).tolist(), check.changed.tolist(), check.verdict
    ([2.0, 1.0], [[False]], 'unchanged')
    >>> check.shift_nm.round(1).tolist(), check.drift_units   # (x, y), 5 nm steps
    ([5.0, 8.5], 'nm')
    >>> check.drift_significant, check.drift_applied.tolist()   # tested against noise
    (True, [2, 1])
    >>> print(str(check).splitlines()[0])
    Drift (x, y) = (+5.00, +8.50) nm, NCC 0.82; noise-only drifts reach 2.81 nm (95 %), p = 0.032, found again in 93% of simulated drifted pairs: applied
    >>> check.reference.round(2).tolist()   # the P–O peak of the glass, Å
    [[1.59]]

    Without drift (the same area, new noise) nothing is applied, and the
    printed verdict is the plot's title:

    >>> same = epdf.compare_scans(crop(first, 0, 0), crop(second, 0, 0), glass, chain,
    ...                           labels=["glass"], n_peaks=1, r_range=(1.0, 1.7),
    ...                           tolerance=0.05, height_tolerance=0.2, n_bootstrap=20)
    >>> same.drift_significant, same.drift_applied.tolist(), same.verdict
    (False, [0, 0], 'unchanged')
    >>> import matplotlib.pyplot as plt
    >>> fig = same.plot()
    >>> fig.axes[0].get_title().split(" (")[0]
    'glass: unchanged'
    >>> plt.close(fig)
    """

    shift_pixels: np.ndarray
    shift_nm: np.ndarray
    ncc: float
    labels: list
    a: list = field(repr=False)
    b: list = field(repr=False)
    reference: np.ndarray = field(repr=False)
    position_a: np.ndarray = field(repr=False)
    position_b: np.ndarray = field(repr=False)
    sigma_position: np.ndarray = field(repr=False)
    height_ratio: np.ndarray = field(repr=False)
    sigma_height_ratio: np.ndarray = field(repr=False)
    changed: np.ndarray = field(repr=False)
    verdict: str
    tolerance: float
    height_tolerance: float | None
    z: float
    drift_p_value: float = 1.0
    drift_noise_nm: float = float("nan")
    drift_sigma_nm: np.ndarray = field(default=None, repr=False)
    drift_recovery: float = float("nan")
    drift_significant: bool = False
    drift_applied: np.ndarray = field(default=None, repr=False)
    drift_units: str = "nm"
    region_verdicts: list = field(default=None, repr=False)

    @property
    def delta(self):
        """Peak position differences b − a, in Å."""
        return self.position_b - self.position_a

    def __str__(self):
        head = (f"{'region':<12}{'peak (Å)':>9}{'Δr (Å)':>16}{'h_b/h_a':>16}  changed")
        u = self.drift_units
        applied = ("applied" if np.any(self.drift_applied) else "not applied (rounds to 0)") \
            if self.drift_significant else "within the noise, not applied"
        rows = [f"Drift (x, y) = ({self.shift_nm[0]:+.2f}, {self.shift_nm[1]:+.2f}) {u}, NCC "
                f"{self.ncc:.2f}; noise-only drifts reach {self.drift_noise_nm:.2f} {u} (95 %), "
                f"p = {self.drift_p_value:.3f}, found again in {self.drift_recovery:.0%} of "
                f"simulated drifted pairs: {applied}", head]
        for i, lab in enumerate(self.labels):
            for j, ref in enumerate(self.reference[i]):
                moved = (f"{self.delta[i, j]:+.3f} ± {self.sigma_position[i, j]:.3f}"
                         if np.isfinite(self.delta[i, j]) else "no maximum")
                rows.append(
                    f"{str(lab)[:12]:<12}{ref:9.3f}"
                    f"{moved:>16}"
                    f"{f'{self.height_ratio[i, j]:.3f} ± {self.sigma_height_ratio[i, j]:.3f}':>16}"
                    f"  {'YES' if self.changed[i, j] else 'no'}"
                )
        tol = f"tolerance {self.tolerance:g} Å"
        if self.height_tolerance is not None:
            tol += f" and {self.height_tolerance:.0%} in height"
        if len(self.labels) > 1:
            rows.append("Per region: " + ", ".join(
                f"{lab} {v}" for lab, v in zip(self.labels, self.region_verdicts, strict=True)))
        rows.append(f"Verdict: {self.verdict} ({tol}, z = {self.z:g})")
        return "\n".join(rows)

    def plot(self, *, xlim=(0.0, 8.0), level=0.68):
        """Both scans' region PDFs with bootstrap bands, one panel per region.

        Parameters
        ----------
        xlim : tuple of float
            r range shown, Å.
        level : float
            Band probability.

        Returns
        -------
        matplotlib.figure.Figure
            Each panel titled with its region's verdict (``region_verdicts``:
            the words of the printed verdict).
        """
        import matplotlib.pyplot as plt

        n = len(self.labels)
        fig, axes = plt.subplots(n, 1, figsize=(6.5, 2.6 * n), squeeze=False,
                                 layout="constrained")
        for ax, lab, ra, rb, ch, ref, verdict in zip(axes[:, 0], self.labels, self.a, self.b,
                                                      self.changed, self.reference,
                                                      self.region_verdicts, strict=True):
            ra.plot(ax, label="scan 1", color="C0", level=level)
            rb.plot(ax, label="scan 2", color="C3", level=level)
            for x, c in zip(ref, ch, strict=True):
                ax.axvline(x, color="k" if not c else "C3", lw=0.6, ls=":")
            ax.plot([], [], color="k", lw=0.6, ls=":", label="reference peak (red: changed)")
            ax.set_xlim(*xlim)
            ax.set_title(f"{lab}: {verdict} "
                         f"({ra.n_pixels} / {rb.n_pixels} probe positions)", fontsize=9)
            ax.legend(fontsize=7, ncols=2)
        return fig


def compare_scans(ri_a, ri_b, regions, chain, *, labels=None, image_a=None, image_b=None,
                  s_range=(1.5, 2.5), tolerance=0.02, height_tolerance=0.1, z=3.0, n_peaks=3,
                  r_range=(1.0, 5.0), window=0.15, n_bootstrap=200, seed=0, upsample=20,
                  highpass_sigma=3.0, lowpass_sigma=1.0, apply_drift="auto", drift_alpha=0.05,
                  n_null=30):
    """Damage check from two scans of the same area.

    Parameters
    ----------
    ri_a, ri_b : ReducedIntensity1DPlus
        I(s) per probe position of the first and second scan (2-D scans,
        same step and s axis), e.g. from
        :func:`~pyxem_epdf.signals.azimuthal_profile`.
    regions : mask, signal, ROI or list of them
        In the first scan's frame.
    chain : callable
        ``chain(ri) -> PDF1DPlus``, applied to region sums and their
        bootstrap resamples of both scans alike.
    labels : list of str, optional
        Region labels.
    image_a, image_b : Signal2D or array, optional
        Images to register (navigation shape of each scan); default the
        counts in ``s_range`` from the profiles (a vADF).
    s_range : tuple of float
        Annulus of the default images, Å⁻¹.
    tolerance : float
        Peak shift that matters, Å (> 0).
    height_tolerance : float or None
        Relative peak height change that matters (e.g. 0.1); ``None``
        judges positions only.
    z : float
        Significance in standard errors (> 0).
    n_peaks : int
        Highest peaks of scan a's region PDF in ``r_range`` to follow.
    r_range : tuple of float
        Å.
    window : float
        Peak-tracking half-width, Å.
    n_bootstrap : int
        Resamples per region and scan.
    seed : int
    upsample, highpass_sigma, lowpass_sigma
        Registration precision (1/``upsample`` pixel) and band-pass σ
        (pixels), see :func:`~pyxem_epdf.physics.registration.register_translation`.
    apply_drift : {"auto", True, False}
        Move the regions by the drift when it is significant (``"auto"``),
        always, or never.
    drift_alpha : float
        Significance level of the drift test (0 < α < 1).
    n_null : int
        Noise-only registrations of the drift test, and as many simulated
        drifted pairs (≥ 19; 30 lets p reach 1/31 = 0.03). Each costs one
        registration: with 30, the test takes ≈ 60 registrations' time
        (≈ 2 s for a 64 × 64 scan, 8 s for 128 × 128 on a loaded core).

    Returns
    -------
    RepeatScanCheck

    Notes
    -----
    Lazy inputs are computed where numbers are needed (the two images, the
    region sums and resamples); the full cubes are never loaded at once.
    The drift is applied to the region masks rounded to whole probe
    positions; positions moved outside the second scan are dropped. Two noise
    realisations of one geometry typically register within a fraction of a
    probe position of each other but, for small or low-contrast scans, the
    cross-correlation can lock onto a noise peak several positions away; the
    noise-only null measures exactly that spread for the scans at hand, so a
    drift found is applied only when noise alone rarely gives one as large.
    """
    for name, value in (("tolerance", tolerance), ("z", z)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"'{name}' must be > 0; got {value!r}.")
    if height_tolerance is not None and not height_tolerance > 0:
        raise ValueError(f"'height_tolerance' must be > 0 or None; got {height_tolerance!r}.")
    if apply_drift not in ("auto", True, False):
        raise ValueError(f"'apply_drift' must be 'auto', True or False; got {apply_drift!r}.")
    if not 0 < drift_alpha < 1:
        raise ValueError(f"'drift_alpha' must lie in (0, 1); got {drift_alpha!r}.")
    for ri, name in ((ri_a, "ri_a"), (ri_b, "ri_b")):
        if ri.axes_manager.navigation_dimension != 2:
            raise ValueError(f"'{name}' must have a 2-D scan; got navigation shape "
                             f"{ri.axes_manager.navigation_shape}.")
    sa = np.asarray(ri_a.axes_manager.signal_axes[0].axis)
    sb = np.asarray(ri_b.axes_manager.signal_axes[0].axis)
    # the default outer edge follows each scan's own centres, so two scans
    # integrated alike differ by ~1e-4 of a bin; 1 % of a bin is the same axis
    step = float(np.abs(np.diff(sa)).min()) if sa.size > 1 else 0.0
    if sa.shape != sb.shape or not np.allclose(sa, sb, rtol=0.0, atol=0.01 * step):
        raise ValueError("'ri_a' and 'ri_b' must share the s axis to 1 % of a bin "
                         "(integrate both alike, e.g. with the same npt and s_max).")
    steps = [np.array([ax.scale for ax in ri.axes_manager.navigation_axes])
             for ri in (ri_a, ri_b)]
    if not np.allclose(steps[0], steps[1], rtol=1e-6):
        raise ValueError(f"The scans have different steps {steps[0].tolist()} and "
                         f"{steps[1].tolist()}; compare scans taken with one step.")
    img_a = _image(image_a, ri_a, s_range, "image_a")
    img_b = _image(image_b, ri_b, s_range, "image_b")
    test = _reg.drift_significance(img_a, img_b, n_null=n_null, seed=seed, upsample=upsample,
                                   highpass_sigma=highpass_sigma, lowpass_sigma=lowpass_sigma)
    shift, ncc = test.shift, test.ncc
    significant = test.significant(drift_alpha)
    use = significant if apply_drift == "auto" else bool(apply_drift)
    applied = np.rint(shift).astype(int) if use else np.zeros(2, int)
    single = not isinstance(regions, (list, tuple))
    regions = [regions] if single else list(regions)
    labels = [f"region {i}" for i in range(len(regions))] if labels is None else list(labels)
    if len(labels) != len(regions):
        raise ValueError(f"'labels' needs {len(regions)} entries; got {len(labels)}.")
    results_a, results_b = [], []
    for region in regions:
        mask_a = _regions.region_mask(ri_a, region)
        moved = ndimage.shift(mask_a.astype(float), -applied, order=0, cval=0.0) > 0.5
        if moved.shape != tuple(ri_b.axes_manager._navigation_shape_in_array):
            moved_full = np.zeros(tuple(ri_b.axes_manager._navigation_shape_in_array), bool)
            rows, cols = (min(a, b) for a, b in zip(moved.shape, moved_full.shape, strict=True))
            moved_full[:rows, :cols] = moved[:rows, :cols]
            moved = moved_full
        if moved.sum() < 2:
            raise ValueError("A region moved by the drift "
                             f"{np.round(shift, 2).tolist()} px lies outside the second scan.")
        results_a.append(region_pdf(ri_a, mask_a, chain, n_bootstrap=n_bootstrap, seed=seed))
        results_b.append(region_pdf(ri_b, moved, chain, n_bootstrap=n_bootstrap, seed=seed + 1))
    refs, pa, pb, sp, hr, shr, found = [], [], [], [], [], [], []
    for ra, rb in zip(results_a, results_b, strict=True):
        ref, _ = _peaks.find_peaks(_dense(ra.pdf.data), ra.r, r_range=r_range, n_peaks=n_peaks)
        ka, kb = ra.peaks(ref, window=window), rb.peaks(ref, window=window)
        refs.append(ref)
        pa.append(ka["position"])
        pb.append(kb["position"])
        found.append(ka["found"])
        sp.append(np.hypot(ka["position_std"], kb["position_std"]))
        gone = ~np.isfinite(kb["position"]) & np.isfinite(ka["position"])
        # no maximum left in scan b: compare G (and its bootstrap σ) at scan a's position
        at_a = np.nan_to_num(ka["position"])
        hb = np.where(gone, _g_at(_dense(rb.pdf.data), rb.r, at_a), kb["height"])
        hb_std = np.where(gone, _spread(_g_at(_dense(rb.samples.data), rb.r, at_a)),
                          kb["height_std"])
        ratio = hb / ka["height"]
        hr.append(ratio)
        shr.append(np.abs(ratio) * np.hypot(ka["height_std"] / ka["height"], hb_std / hb))
    refs, pa, pb, sp, hr, shr, found = map(np.array, (refs, pa, pb, sp, hr, shr, found))
    delta = pb - pa
    changed = (np.abs(delta) > tolerance) & (np.abs(delta) > z * sp)
    resolvable = z * sp < tolerance
    if height_tolerance is not None:
        rel = hr - 1
        changed |= (np.abs(rel) > height_tolerance) & (np.abs(rel) > z * shr)
        resolvable &= z * shr < height_tolerance
    # (NaN compares False: a peak without a maximum in b is judged by its height at
    # scan a's position, above, and by the rule below)
    # no maximum left within ±window: a change only where scan a's maximum is robust
    # (found in ≥ 95 % of its resamples), not a shoulder at the noise level
    changed |= np.isfinite(pa) & ~np.isfinite(pb) & (found >= _ROBUST_PEAK)
    region_verdicts = [_verdict(c, r & np.isfinite(d))
                       for c, r, d in zip(changed, resolvable, delta, strict=True)]
    verdict = _verdict(changed, resolvable & np.isfinite(delta))
    factor, units = _nm_factor(ri_a)
    step_xy = steps[0] * factor
    return RepeatScanCheck(
        shift_pixels=shift, shift_nm=shift[::-1] * step_xy, ncc=float(ncc), labels=labels,
        a=results_a, b=results_b, reference=refs, position_a=pa, position_b=pb,
        sigma_position=sp, height_ratio=hr, sigma_height_ratio=shr, changed=changed,
        verdict=verdict, tolerance=float(tolerance),
        height_tolerance=None if height_tolerance is None else float(height_tolerance),
        z=float(z), drift_p_value=test.p_value,
        drift_noise_nm=float(test.noise_radius * np.mean(step_xy)),  # radius: mean step
        drift_sigma_nm=test.sigma[::-1] * step_xy, drift_recovery=test.recovery,
        drift_significant=significant,
        drift_applied=applied, drift_units=units, region_verdicts=region_verdicts,
    )


def _g_at(g, r, positions):
    """G at ``positions`` (Å) by linear interpolation along the last axis of ``g``."""
    positions = np.asarray(positions, float)
    i = np.clip(np.searchsorted(r, positions) - 1, 0, r.size - 2)
    t = (positions - r[i]) / (r[i + 1] - r[i])
    return g[..., i] * (1 - t) + g[..., i + 1] * t


_ROBUST_PEAK = 0.95
"""Fraction of scan a's bootstrap resamples that must show a maximum for its loss to count."""


def _verdict(changed, resolvable):
    """"changed" if any peak changed, "unchanged" if all were resolvable, else "inconclusive"."""
    if np.any(changed):
        return "changed"
    return "unchanged" if np.all(resolvable) else "inconclusive"


def _nm_factor(ri):
    """(nm per navigation unit, units label) of a scan's navigation axes."""
    units = {str(ax.units) for ax in ri.axes_manager.navigation_axes}
    if len(units) == 1 and (u := units.pop()) in _LENGTH_NM:
        return _LENGTH_NM[u], "nm"
    return 1.0, "navigation units"
