"""Mapping short-range order: decomposition, unmixing, region overlays, interfaces.

Signal-level layer of the paper's PCA → ICA step (Laulainen et al. 2022) and
of what follows from it. PCA and BSS are HyperSpy's own ``decomposition`` and
``blind_source_separation``; the numerics added here live in
:mod:`pyxem_epdf.physics.unmixing` (parallel analysis, closure-aware
unmixing) and :mod:`pyxem_epdf.physics.interface` (error-function edge fit).

* :meth:`PDF1DPlus.decompose <pyxem_epdf.signals.PDF1DPlus.decompose>` →
  :class:`Decomposition` (PCA with the evidence for the number of components);
* :meth:`Decomposition.unmix` → :class:`Unmixing` (loading or phase-fraction
  maps, component PDFs over the full r range, per-pixel residual);
* :func:`plot_pdfs` overlays PDFs with first-peak normalisation;
* :func:`interface_width` fits an error function to a line profile;
* :func:`peak_table` tabulates peak positions, heights and widths of any set
  of PDFs, :meth:`PeakTable.compare` differences two sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hyperspy.signals import Signal1D, Signal2D

from .physics import interface as _interface
from .physics import peaks as _peaks
from .physics import unmixing as _unmixing
from .physics.scattering import composition_arrays
from .signals import _base

__all__ = [
    "Decomposition",
    "InterfaceWidth",
    "PeakTable",
    "Unmixing",
    "interactive_region_pdf",
    "interface_width",
    "peak_table",
    "plot_pdfs",
]

#: HyperSpy BSS algorithms are passed through; these names are ours.
OWN_METHODS = ("closure", "ica", "nmf")


def _dense(signal):
    """NumPy copy of a signal's data (computes a lazy signal)."""
    return np.array(_base.as_numpy(signal.data))


def _nav_unfolded(signal):
    """(n_pixels, n_r) view of the data and the navigation shape (array order)."""
    data = _dense(signal)
    nav_shape = data.shape[:-1]
    return data.reshape(-1, data.shape[-1]), nav_shape


def _copy_axis(src, dst):
    _base.copy_axes([src], [dst])


@dataclass
class Decomposition:
    """PCA of a PDF cube over an r range, with evidence for its rank.

    Attributes
    ----------
    signal : PDF1DPlus
        r-cropped copy of the cube holding HyperSpy's ``learning_results``
        (use its ``plot_explained_variance_ratio``,
        ``plot_decomposition_results`` …). The input is never modified.
    source : PDF1DPlus
        The full cube the components are re-expressed on.
    r_range : tuple of float
        (lo, hi) in Å used for the decomposition.
    evidence : object
        :func:`pyxem_epdf.physics.unmixing.parallel_analysis` result on the
        column-centred data (singular values vs. the shuffled-data quantile).
    n_components : int
        Suggested number of components for unmixing: the parallel-analysis
        count plus one for the mean (HyperSpy's SVD is not centred), at least
        2. Override in :meth:`unmix`.

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(12, 12), detector_shape=(64, 64),
    ...                                       s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
    >>> def chain(sig, composition):
    ...     return (sig.fit_scattering(composition, (1.6, 2.4), weights="poisson", fix_c=True)
    ...             .polynomial_correct().damp_exponential(0.8).extrapolate_low_s(0.2)
    ...             .to_pdf(8, 0.05))
    >>> pdf = chain(ri, epdf.data.average_composition(synth))
    >>> dec = pdf.decompose((1.0, 6.0))
    >>> dec.r_range, dec.evidence.n_components, dec.n_components  # 1 above noise + the mean
    ((1.0, 6.0), 1, 2)
    >>> dec.signal.axes_manager.signal_shape, dec.source is pdf    # 1–6 Å at 0.05 Å
    ((100,), True)
    """

    signal: object = field(repr=False)
    source: object = field(repr=False)
    r_range: tuple
    evidence: object = field(repr=False)
    n_components: int

    def plot_scree(self, ax=None):
        """Singular values against the parallel-analysis noise floor.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw into; a new figure otherwise.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 3.2))
        sv = np.asarray(self.evidence.singular_values)
        null = np.asarray(self.evidence.null_singular_values)
        n = min(len(sv), 30)
        idx = np.arange(1, n + 1)
        ax.semilogy(idx, sv[:n], "o-", label="data (centred)")
        ax.semilogy(idx, null[:n], "k--", label="noise floor (null quantile)")
        k = self.evidence.n_components
        if k:
            ax.axvline(k + 0.5, color="C3", lw=0.8)
        ax.set_xlabel("component")
        ax.set_ylabel("singular value")
        ax.set_title(f"{k} significant + mean → {self.n_components} components")
        ax.legend(fontsize=7)
        return ax

    def unmix(self, n_components=None, method="closure", *, seed=0, **kwargs):
        """Unmix into loading (or phase-fraction) maps and component PDFs.

        Parameters
        ----------
        n_components : int, optional
            Number of components; default :attr:`n_components`.
        method : str
            ``"closure"`` — phase fractions ≥ 0 that sum to 1 at every probe
            position and pure-phase PDFs
            (:func:`pyxem_epdf.physics.unmixing.closure_unmix`), the right
            model for an n-phase sample; ``"ica"`` — the paper's PCA → ICA
            (HyperSpy ``blind_source_separation`` with FastICA); ``"nmf"`` —
            HyperSpy's NMF decomposition (needs non-negative data, so it
            only applies to shifted or positive quantities); any other name is
            passed to ``blind_source_separation(algorithm=...)``.
        seed : int
            Random state of ICA / the deterministic start of closure.
        **kwargs
            Passed to the underlying HyperSpy or :mod:`physics.unmixing` call.

        Returns
        -------
        Unmixing
        """
        k = self.n_components if n_components is None else int(n_components)
        x_crop, nav_shape = _nav_unfolded(self.signal)
        n_pix = x_crop.shape[0]
        if not 1 <= k <= n_pix:
            raise ValueError(
                f"'n_components' must be between 1 and the number of pixels ({n_pix}); got {k}."
            )
        if method == "closure":
            if k < 2:
                raise ValueError("'n_components' must be >= 2 for method='closure'.")
            res = _unmixing.closure_unmix(x_crop, k, seed=seed, **kwargs)
            loadings = np.asarray(res.fractions).T  # (k, n_pix)
            return self._result(loadings, x_crop, nav_shape, method, pure=res.pure)
        elif method == "nmf":
            sig = self.signal.deepcopy()
            try:
                sig.decomposition(algorithm="NMF", output_dimension=k, print_info=False,
                                  random_state=seed, **kwargs)
            except ValueError as err:
                raise ValueError(
                    f"method='nmf' needs non-negative data over r_range {self.r_range}: {err}"
                ) from None
            loadings = _dense(sig.get_decomposition_loadings()).reshape(k, -1)
        else:
            algorithm = "sklearn_fastica" if method == "ica" else method
            sig = self.signal.deepcopy()
            kw = {"random_state": seed, "whiten": False} if algorithm == "sklearn_fastica" else {}
            kw.update(kwargs)
            sig.blind_source_separation(k, algorithm=algorithm, print_info=False, **kw)
            loadings = _dense(sig.get_bss_loadings()).reshape(k, -1)
            loadings = _orient(loadings)
        return self._result(loadings, x_crop, nav_shape, method)

    def _result(self, loadings, x_crop, nav_shape, method, pure=None):
        x_full, _ = _nav_unfolded(self.source)
        # components on the full r range: least squares given the loadings,
        # or the (outlier-robust) mean of the pure pixels where closure found them
        comps, *_ = np.linalg.lstsq(loadings.T, x_full, rcond=None)
        if pure is not None:
            for k in np.flatnonzero(pure.any(axis=0)):
                comps[k] = _unmixing.robust_mean(x_full[pure[:, k]])
        comps_crop, *_ = np.linalg.lstsq(loadings.T, x_crop, rcond=None)
        resid = np.sqrt(np.mean((x_crop - loadings.T @ comps_crop) ** 2, axis=1))
        return Unmixing(
            loadings=_maps(self.source, loadings.reshape((-1,) + nav_shape), "loading"),
            components=_components(self.source, comps, method),
            residual=_maps(self.source, resid.reshape((1,) + nav_shape), "residual").inav[0],
            method=method,
            r_range=self.r_range,
        )


def _orient(loadings):
    """Sign/scale convention: mostly positive loadings, 99th percentile = 1."""
    out = np.array(loadings, dtype=float)
    for i, row in enumerate(out):
        sign = 1.0 if row.sum() >= 0 else -1.0
        scale = np.percentile(sign * row, 99)
        out[i] = sign * row / (scale if scale > 0 else 1.0)
    return out


def _maps(template, data, title):
    """Signal2D (or Signal1D for line scans) stack over a 'component' axis."""
    nav_axes = template.axes_manager.navigation_axes
    cls = Signal2D if len(nav_axes) == 2 else Signal1D
    sig = cls(data)
    sig.axes_manager.navigation_axes[0].name = "component"
    for src, dst in zip(nav_axes, sig.axes_manager.signal_axes, strict=True):
        _copy_axis(src, dst)
    sig.metadata.General.title = f"{title} maps"
    return sig


def _components(template, comps, method):
    from .signals import PDF1DPlus

    sig = PDF1DPlus(comps)
    _copy_axis(template.axes_manager.signal_axes[0], sig.axes_manager.signal_axes[0])
    sig.axes_manager.navigation_axes[0].name = "component"
    sig.metadata.General.title = f"{method} component PDFs"
    sig.metadata.set_item("ePDF.unmixing.method", method)
    return sig


@dataclass
class Unmixing:
    """Result of :meth:`Decomposition.unmix`.

    Attributes
    ----------
    loadings : Signal2D
        One map per component (navigation axis ``"component"``), with the
        scan calibration; phase fractions for ``method="closure"``.
    components : PDF1DPlus
        Component PDFs over the full r range of the source cube (least
        squares given the loadings); pure-phase PDFs for ``"closure"``.
    residual : Signal2D
        Per-pixel rms residual of the model over ``r_range`` (Å⁻²).
    method : str
    r_range : tuple of float

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(12, 12), detector_shape=(64, 64),
    ...                                       s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
    >>> def chain(sig, composition):
    ...     return (sig.fit_scattering(composition, (1.6, 2.4), weights="poisson", fix_c=True)
    ...             .polynomial_correct().damp_exponential(0.8).extrapolate_low_s(0.2)
    ...             .to_pdf(8, 0.05))
    >>> pdf = chain(ri, epdf.data.average_composition(synth))
    >>> unmix = pdf.decompose((1.0, 6.0)).unmix(2, "closure")
    >>> unmix.method, unmix.loadings.data.shape, unmix.components.data.shape
    ('closure', (2, 12, 12), (2, 161))
    >>> bool(np.allclose(unmix.loadings.data.sum(axis=0), 1.0))  # phase fractions
    True
    >>> zif_truth = synth.fractions[..., 0].ravel()
    >>> round(float(np.corrcoef(unmix.loadings.data[0].ravel(), zif_truth)[0, 1]), 2)
    0.92
    """

    loadings: object = field(repr=False)
    components: object = field(repr=False)
    residual: object = field(repr=False)
    method: str
    r_range: tuple

    def plot_composite(self, colors=None, ax=None, percentile=99.0):
        """Colour composite of the loading maps (the paper's Fig. 3c/d).

        Parameters
        ----------
        colors : sequence of matplotlib colours, optional
            One per component (default C0, C1, …).
        ax : matplotlib.axes.Axes, optional
        percentile : float
            Each map is scaled to [0, 1] between 0 and this percentile.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        from matplotlib.colors import to_rgb

        maps = np.asarray(self.loadings.data, dtype=float)
        if maps.ndim != 3:
            raise ValueError("plot_composite needs a 2-D scan.")
        colors = colors or [f"C{i}" for i in range(len(maps))]
        rgb = np.zeros(maps.shape[1:] + (3,))
        for m, c in zip(maps, colors, strict=False):
            top = np.percentile(m, percentile)
            w = np.clip(m / (top if top > 0 else 1.0), 0, 1)
            rgb += w[..., None] * np.asarray(to_rgb(c))
        if ax is None:
            _, ax = plt.subplots(figsize=(4, 4))
        ax_x, ax_y = self.loadings.axes_manager.signal_axes
        extent = [ax_x.axis[0], ax_x.axis[-1], ax_y.axis[-1], ax_y.axis[0]]
        ax.imshow(np.clip(rgb, 0, 1), extent=extent)
        ax.set_xlabel(f"{ax_x.name} ({ax_x.units})")
        ax.set_ylabel(f"{ax_y.name} ({ax_y.units})")
        ax.set_title(f"{self.method} loadings")
        return ax

    def composition_map(self, phase_compositions):
        """Per-pixel atomic composition from phase-fraction maps.

        Parameters
        ----------
        phase_compositions : sequence
            Composition of each component (anything
            :func:`~pyxem_epdf.physics.scattering.parse_composition` takes),
            in component order.

        Returns
        -------
        dict
            ``{element: fraction map}`` (navigation shape, summing to 1),
            ready for :meth:`ReducedIntensity1DPlus.fit_scattering`.
            Fractions are clipped at 0 and renormalised per pixel (they
            already are for ``method="closure"``).

        Examples
        --------
        >>> import numpy as np
        >>> import pyxem_epdf as epdf
        >>> synth = epdf.data.two_phase_composite(nav_shape=(12, 12), detector_shape=(64, 64),
        ...                                       s_scale=0.08)
        >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
        >>> def chain(sig, composition):
        ...     return (sig.fit_scattering(composition, (1.6, 2.4), weights="poisson", fix_c=True)
        ...             .polynomial_correct().damp_exponential(0.8).extrapolate_low_s(0.2)
        ...             .to_pdf(8, 0.05))
        >>> pdf = chain(ri, epdf.data.average_composition(synth))
        >>> unmix = pdf.decompose((1.0, 6.0)).unmix(2, "closure")  # component 0 is the ZIF
        >>> zif, glass = (phase.composition for phase in synth.phases)
        >>> cmap = unmix.composition_map([zif, glass])
        >>> sorted(cmap), cmap["Zn"].shape
        (['Al', 'C', 'F', 'H', 'N', 'Na', 'O', 'P', 'Zn'], (12, 12))
        >>> bool(np.allclose(sum(cmap.values()), 1.0))
        True
        >>> zn_in_zif = epdf.parse_composition(zif)["Zn"]  # Zn is only in the ZIF
        >>> bool(np.allclose(cmap["Zn"], unmix.loadings.data[0] * zn_in_zif))
        True
        """
        maps = np.asarray(self.loadings.data, dtype=float)
        if len(phase_compositions) != len(maps):
            raise ValueError(
                f"'phase_compositions' needs {len(maps)} entries (one per component); "
                f"got {len(phase_compositions)}."
            )
        w = np.clip(maps, 0, None)
        total = w.sum(axis=0)
        w = np.where(total > 0, w / np.where(total > 0, total, 1), 1.0 / len(w))
        parsed = [composition_arrays(c) for c in phase_compositions]
        elements = sorted({e for els, _ in parsed for e in els})
        out = {e: np.zeros(maps.shape[1:]) for e in elements}
        for wk, (els, fr) in zip(w, parsed, strict=True):
            for e, f in zip(els, fr, strict=True):
                out[e] += wk * f
        return out

    def refine_composition(self, ri, phase_compositions, chain):
        """Re-run the chain with per-pixel compositions and unmix again.

        The paper's check (ESI Fig. 9): the composition assumed in
        ``fit_scattering`` changes φ(s), so a composite should be re-processed
        with the composition each pixel actually has. The composition map
        comes from these fractions (:meth:`composition_map`); the new cube
        is decomposed over the same r range and unmixed with the same method
        and number of components.

        Parameters
        ----------
        ri : ReducedIntensity1DPlus
            The I(s) cube the current result was made from.
        phase_compositions : sequence
            Composition of each component, in component order.
        chain : callable
            ``chain(ri, composition) -> PDF1DPlus``: the processing used
            (fit_scattering … to_pdf) with the composition as argument.

        Returns
        -------
        refined : Unmixing
            Components in the order of this result's components.
        change : dict
            ``"pdf_rms"`` (rms change of each component PDF over r_range,
            relative to its maximum), ``"pdf_corr"`` (correlation old/new)
            and ``"fraction_mean_abs"`` (mean |Δ loading|), one value per
            component.

        Examples
        --------
        >>> import numpy as np
        >>> import pyxem_epdf as epdf
        >>> synth = epdf.data.two_phase_composite(nav_shape=(12, 12), detector_shape=(64, 64),
        ...                                       s_scale=0.08)
        >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
        >>> def chain(sig, composition):
        ...     return (sig.fit_scattering(composition, (1.6, 2.4), weights="poisson", fix_c=True)
        ...             .polynomial_correct().damp_exponential(0.8).extrapolate_low_s(0.2)
        ...             .to_pdf(8, 0.05))
        >>> pdf = chain(ri, epdf.data.average_composition(synth))
        >>> unmix = pdf.decompose((1.0, 6.0)).unmix(2, "closure")  # component 0 is the ZIF
        >>> zif, glass = (phase.composition for phase in synth.phases)
        >>> refined, change = unmix.refine_composition(ri, [zif, glass], chain)
        >>> sorted(change), refined.loadings.data.shape
        (['fraction_mean_abs', 'pdf_corr', 'pdf_rms'], (2, 12, 12))
        >>> [round(v, 2) for v in change["pdf_corr"]]  # the component PDFs hardly change
        [0.97, 1.0]
        >>> zif_truth = synth.fractions[..., 0].ravel()
        >>> round(float(np.corrcoef(refined.loadings.data[0].ravel(), zif_truth)[0, 1]), 2)
        0.87
        """
        composition = self.composition_map(phase_compositions)
        pdf = chain(ri, composition)
        k = len(self.loadings.data)
        refined = pdf.decompose(self.r_range, n_components=k).unmix(k, method=self.method)
        old_maps = np.asarray(self.loadings.data).reshape(k, -1)
        new_maps = np.asarray(refined.loadings.data).reshape(k, -1)
        cc = np.corrcoef(old_maps, new_maps)[:k, k:]
        order = [int(np.argmax(row)) for row in cc]
        if sorted(order) != list(range(k)):
            order = list(range(k))
        for sig in (refined.loadings, refined.components):
            sig.data = np.asarray(sig.data)[order]
        r = np.asarray(self.components.axes_manager.signal_axes[0].axis)
        win = (r >= self.r_range[0]) & (r <= self.r_range[1])
        old = np.asarray(self.components.data)[:, win]
        new = np.asarray(refined.components.data)[:, win]
        change = {
            "pdf_rms": (np.sqrt(np.mean((new - old) ** 2, axis=1)) / np.abs(old).max(axis=1)).tolist(),
            "pdf_corr": [float(np.corrcoef(a, b)[0, 1]) for a, b in zip(old, new, strict=True)],
            "fraction_mean_abs": np.mean(
                np.abs(np.asarray(refined.loadings.data).reshape(k, -1) - old_maps), axis=1
            ).tolist(),
        }
        return refined, change


def decompose(pdf, r_range=(1.0, 8.0), *, n_components=None, n_shuffles=20, seed=0,
              algorithm="SVD", null="neighbour", **kwargs):
    """PCA of a PDF cube over ``r_range`` with parallel-analysis evidence.

    See :meth:`pyxem_epdf.signals.PDF1DPlus.decompose`.
    """
    r = pdf.axes_manager.signal_axes[0].axis
    lo, hi = map(float, r_range)
    if not (lo < hi and lo >= r[0] - 1e-9 and hi <= r[-1] + 1e-9):
        raise ValueError(
            f"'r_range' {tuple(r_range)} must be an increasing pair inside the PDF's r axis "
            f"[{r[0]:g}, {r[-1]:g}] Å."
        )
    if pdf.axes_manager.navigation_dimension == 0:
        raise ValueError("decompose needs a PDF cube with navigation axes (a scan).")
    cropped = pdf.isig[lo:hi].deepcopy()
    if cropped._lazy:
        # parallel analysis and unmixing need the cropped cube in memory anyway
        cropped.compute(show_progressbar=False)
    x, _ = _nav_unfolded(cropped)
    if n_components is not None and not 1 <= int(n_components) <= x.shape[0]:
        raise ValueError(
            f"'n_components' must be between 1 and the number of pixels ({x.shape[0]}); "
            f"got {n_components}."
        )
    if x.shape[0] < 3:
        raise ValueError(
            f"decompose needs at least 3 probe positions; the scan has {x.shape[0]}."
        )
    cropped.decomposition(algorithm=algorithm, print_info=False, **kwargs)
    evidence = _unmixing.parallel_analysis(x, null=null, n_shuffles=n_shuffles, seed=seed)
    n = max(2, evidence.n_components + 1) if n_components is None else int(n_components)
    cropped.metadata.set_item("ePDF.decomposition.r_range", [lo, hi])
    return Decomposition(
        signal=cropped,
        source=pdf,
        r_range=(lo, hi),
        evidence=evidence,
        n_components=n,
    )


def plot_pdfs(pdfs, labels=None, *, normalize=True, r_range=(1.0, 3.0), xlim=(0, 10), ax=None):
    """Overlay PDFs on one axis, optionally scaled to their first-peak height.

    Parameters
    ----------
    pdfs : PDF1DPlus or sequence of PDF1DPlus
        Single PDFs or stacks (each navigation index becomes one line), e.g.
        region PDFs and :attr:`Unmixing.components`.
    labels : sequence of str, optional
        One label per line.
    normalize : bool
        Divide each G(r) by its first-peak height (Laulainen et al. 2022,
        Figs. 2–4) using the first peak in ``r_range`` (Å).
    xlim : tuple of float
        r limits of the plot in Å.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if not isinstance(pdfs, (list, tuple)):
        pdfs = [pdfs]
    lines = []
    for p in pdfs:
        r = p.axes_manager.signal_axes[0].axis
        g = _dense(p).reshape(-1, r.size)
        for row in g:
            lines.append((r, row))
    if labels is not None and len(labels) != len(lines):
        raise ValueError(f"'labels' needs {len(lines)} entries; got {len(labels)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for i, (r, g) in enumerate(lines):
        if normalize:
            _, h = _peaks.first_peak(g, r, r_range=r_range)
            g = g / h if np.isfinite(h) and h > 0 else g
        ax.plot(r, g, label=None if labels is None else labels[i])
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlim(*xlim)
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("G(r) / first-peak height" if normalize else "G(r) (Å⁻²)")
    if labels is not None:
        ax.legend(fontsize=8)
    return ax


def interactive_region_pdf(ri, roi, chain):
    """A region PDF that follows a ROI moved on the navigator.

    Parameters
    ----------
    ri : ReducedIntensity1DPlus
        I(s) cube with a 1-D or 2-D scan.
    roi : RectangularROI, CircleROI or SpanROI
        In calibrated navigation units; add it to the navigator with
        ``ri.plot(); roi.add_widget(ri, axes=ri.axes_manager.navigation_axes)``.
    chain : callable
        ``chain(region_ri) -> PDF1DPlus`` (fit_scattering … to_pdf).

    Returns
    -------
    PDF1DPlus
        Recomputed in place (``data_changed`` event, so an open plot
        updates) every time the ROI changes.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(12, 12), detector_shape=(64, 64),
    ...                                       s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)   # 5 nm scan steps
    >>> comp = epdf.data.average_composition(synth)
    >>> def chain(sig):
    ...     return (sig.fit_scattering(comp, (1.6, 2.4), weights="poisson", fix_c=True)
    ...             .polynomial_correct().damp_exponential(0.8).extrapolate_low_s(0.2)
    ...             .to_pdf(8, 0.05))
    >>> roi = hs.roi.RectangularROI(left=0, right=20, top=0, bottom=20)
    >>> region = epdf.mapping.interactive_region_pdf(ri, roi, chain)
    >>> region.metadata.ePDF.regions.n_pixels   # 4 x 4 probe positions
    [16]
    >>> before = region.data.copy()
    >>> roi.right = 30                            # moving the ROI recomputes the PDF
    >>> region.metadata.ePDF.regions.n_pixels
    [24]
    >>> bool(np.allclose(region.data, before)), bool(np.allclose(region.data,
    ...                                                          chain(ri.sum_regions(roi)).data))
    (False, True)
    """
    out = chain(ri.sum_regions(roi))

    def update(*_args, **_kwargs):
        new = chain(ri.sum_regions(roi))
        out.data[...] = np.asarray(new.data)
        out.metadata.set_item("ePDF.regions.n_pixels", new.metadata.ePDF.regions.n_pixels)
        out.events.data_changed.trigger(obj=out)

    roi.events.changed.connect(update, [])
    return out


@dataclass
class InterfaceWidth:
    """Error-function fit of a line profile across an interface.

    Attributes
    ----------
    profile : Signal1D
        The sampled line profile (position along the line in scan units).
    fit : object
        :func:`pyxem_epdf.physics.interface.fit_interface` result.
    width : float
        10–90 % width in scan units (nm for a calibrated scan).
    width_err : float
        One-sigma uncertainty of ``width``.
    units : str
    probe_diameter : float or None
        For comparison, in the same units.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(24, 24), detector_shape=(32, 32))
    >>> fmap = hs.signals.Signal2D(synth.fractions[..., 0])   # true ZIF fraction, 5 nm steps
    >>> for ax in fmap.axes_manager.signal_axes:
    ...     ax.units, ax.scale = "nm", 5.0
    >>> a, half = np.deg2rad(15.0), 25.0   # along the normal of the interface at (40, 80) nm
    >>> line = ((40 - half * np.cos(a), 80 - half * np.sin(a)),
    ...         (40 + half * np.cos(a), 80 + half * np.sin(a)))
    >>> width = epdf.interface_width(fmap, line, linewidth=10.0, probe_diameter=5.0)
    >>> abs(width.width - synth.parameters.interface_width) < 5.0, width.units  # < 1 pixel
    (True, 'nm')
    >>> print(width)
    interface 10–90 % width 8.41 ± 0.03 nm (1.68 × the probe diameter)
    """

    profile: object = field(repr=False)
    fit: object = field(repr=False)
    width: float
    width_err: float
    units: str
    probe_diameter: float | None = None

    def __str__(self):
        text = f"interface 10–90 % width {self.width:.2f} ± {self.width_err:.2f} {self.units}"
        if self.probe_diameter:
            text += f" ({self.width / self.probe_diameter:.2f} × the probe diameter)"
        return text


def interface_width(loading_map, line, *, linewidth=0.0, probe_diameter=None):
    """Width of an interface on a (loading or fraction) map.

    Parameters
    ----------
    loading_map : Signal2D
        One map with calibrated axes (e.g. ``unmixing.loadings.inav[0]``).
    line : hyperspy.roi.Line2DROI or tuple
        The line across the interface: a ``Line2DROI`` or two points
        ``((x1, y1), (x2, y2))`` in calibrated units.
    linewidth : float
        Width of the averaged band in calibrated units (0: a single line).
    probe_diameter : float, optional
        Probe size in the same units, reported for comparison.

    Returns
    -------
    InterfaceWidth
    """
    from hyperspy.roi import Line2DROI

    if not isinstance(line, Line2DROI):
        try:
            (x1, y1), (x2, y2) = line
        except (TypeError, ValueError):
            raise ValueError(
                "'line' must be a Line2DROI or two points ((x1, y1), (x2, y2))."
            ) from None
        line = Line2DROI(x1=x1, y1=y1, x2=x2, y2=y2, linewidth=linewidth)
    ax_x, ax_y = loading_map.axes_manager.signal_axes
    for name, v, a in (("x1", line.x1, ax_x), ("x2", line.x2, ax_x),
                       ("y1", line.y1, ax_y), ("y2", line.y2, ax_y)):
        if not a.axis[0] - 0.5 * a.scale <= v <= a.axis[-1] + 0.5 * a.scale:
            raise ValueError(
                f"Line end {name}={v:g} lies outside the map "
                f"[{a.axis[0]:g}, {a.axis[-1]:g}] {a.units}."
            )
    profile = line(loading_map)
    axis = profile.axes_manager.signal_axes[0]
    fit = _interface.fit_interface(np.asarray(axis.axis), _dense(profile))
    return InterfaceWidth(
        profile=profile,
        fit=fit,
        width=float(fit.width_10_90),
        width_err=float(fit.width_10_90_err),
        units=str(ax_x.units),
        probe_diameter=probe_diameter,
    )


@dataclass
class PeakTable:
    """Positions, heights and widths of the main G(r) peaks of a set of PDFs.

    Attributes
    ----------
    labels : list of str
        One per PDF (row).
    positions, heights, widths : numpy.ndarray
        Shape (n_pdfs, n_peaks): sub-grid positions (Å), heights (units of G)
        and FWHM (Å); NaN where a PDF has fewer peaks.

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> r = np.arange(0.0, 10.0, 0.01)   # Gaussian peaks, σ = 0.1 Å
    >>> g = sum(h * np.exp(-0.5 * ((r - r0) / 0.1) ** 2) for r0, h in [(1.5, 2.0), (2.5, 1.0)])
    >>> pdf = epdf.PDF1DPlus(g)
    >>> pdf.axes_manager.signal_axes[0].scale = 0.01
    >>> table = epdf.mapping.peak_table(pdf, ["model"], n_peaks=2)
    >>> table.positions.round(3).tolist(), table.heights.round(3).tolist()
    ([[1.5, 2.5]], [[2.0, 1.0]])
    >>> table.widths.round(3).tolist()   # FWHM = 2.355 σ
    [[0.236, 0.236]]
    """

    labels: list
    positions: np.ndarray
    heights: np.ndarray
    widths: np.ndarray

    def __str__(self):
        n = self.positions.shape[1]
        head = f"{'':>14}" + "".join(f"{'r' + str(i + 1) + ' (Å)':>10}{'height':>9}{'FWHM':>7}"
                                       for i in range(n))
        rows = [head]
        for lab, p, h, w in zip(self.labels, self.positions, self.heights, self.widths,
                                strict=True):
            rows.append(f"{str(lab)[:14]:>14}" + "".join(
                f"{pi:10.3f}{hi:9.3f}{wi:7.3f}" for pi, hi, wi in zip(p, h, w, strict=True)))
        return "\n".join(rows)

    def compare(self, other):
        """Differences ``other − self`` row by row (e.g. a second scan of the same area).

        Parameters
        ----------
        other : PeakTable
            Same number of rows and peaks.

        Returns
        -------
        PeakTable
            Differences of positions (Å), heights and widths (Å); labels
            ``"b − a"``.
        """
        if other.positions.shape != self.positions.shape:
            raise ValueError(
                f"Peak tables differ in shape: {self.positions.shape} vs {other.positions.shape}."
            )
        labels = [f"{b} − {a}" for a, b in zip(self.labels, other.labels, strict=True)]
        return PeakTable(labels, other.positions - self.positions,
                         other.heights - self.heights, other.widths - self.widths)

    def save_csv(self, path):
        """Write the table as CSV (one row per PDF and peak).

        Parameters
        ----------
        path : str or pathlib.Path

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> import pyxem_epdf as epdf
        >>> r = np.arange(0.0, 10.0, 0.01)
        >>> pdf = epdf.PDF1DPlus(2.0 * np.exp(-0.5 * ((r - 1.5) / 0.1) ** 2))
        >>> pdf.axes_manager.signal_axes[0].scale = 0.01
        >>> table = epdf.mapping.peak_table(pdf, ["model"], n_peaks=1)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     path = os.path.join(tmp, "peaks.csv")
        ...     table.save_csv(path)
        ...     with open(path, encoding="utf-8") as fh:
        ...         print(fh.read().strip())
        label,peak,position_A,height,fwhm_A
        model,1,1.5,2,0.235534
        """
        lines = ["label,peak,position_A,height,fwhm_A"]
        for lab, p, h, w in zip(self.labels, self.positions, self.heights, self.widths,
                                strict=True):
            for i, (pi, hi, wi) in enumerate(zip(p, h, w, strict=True)):
                lines.append(f"{lab},{i + 1},{pi:.6g},{hi:.6g},{wi:.6g}")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


def peak_table(pdfs, labels=None, *, n_peaks=4, r_range=(1.0, 8.0)):
    """Peak table of any set of PDFs (single PDFs or stacks).

    Parameters
    ----------
    pdfs : PDF1DPlus or sequence of PDF1DPlus
        Each navigation index of a stack is one row.
    labels : sequence of str, optional
        One per row (default ``"pdf 0"``, …).
    n_peaks : int
        The ``n_peaks`` highest maxima in ``r_range``, sorted by r.
    r_range : tuple of float
        Search window in Å.

    Returns
    -------
    PeakTable
    """
    if not isinstance(pdfs, (list, tuple)):
        pdfs = [pdfs]
    rows = []
    for p in pdfs:
        r = np.asarray(p.axes_manager.signal_axes[0].axis)
        g = _dense(p).reshape(-1, r.size)
        pos, h = _peaks.find_peaks(g, r, r_range=r_range, n_peaks=n_peaks)
        rows.append((pos, h, _peaks.peak_widths(g, r, pos, h)))
    pos, h, w = (np.concatenate([row[i] for row in rows]) for i in range(3))
    if labels is None:
        labels = [f"pdf {i}" for i in range(len(pos))]
    if len(labels) != len(pos):
        raise ValueError(f"'labels' needs {len(pos)} entries; got {len(labels)}.")
    return PeakTable(list(labels), pos, h, w)
