"""Figures, tables and the self-contained HTML report of the batch command.

:func:`pyxem_epdf.batch.process` runs the chain; this module turns its results
into what a microscopist reads: phase-named maps in calibrated units with
colour bars, the mean I(s) with the fitted N⟨f²⟩ + C and its window, φ(s),
component and region G(r) with uncertainty bands, a peak table, the dose, the
time of each stage and the full provenance, all in one HTML file with the
figures inlined as base64 PNG (no remote resources).

Phases are named from their G(r): ``"phase A (r₁ = 1.31 Å)"``, with r₁ the
first-peak position (:func:`phase_labels`); the batch configuration carries
no phase names.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np

#: Loading threshold of a "pure" region: a region G(r) is made from the probe
#: positions whose phase fraction exceeds it.
REGION_THRESHOLD = 0.9
#: Bootstrap resamples per region: σ(r) to about ±7 % at each r (1/√(2(n − 1))).
#: Measured on the demo (400 positions, 70 bins, r to 20 Å at 0.01 Å): both
#: regions cost 0.16 s (the chain on all 400 profiles: 0.04 s; all the report's
#: figures: 2.6 s); the mean band over 1–8 Å agrees to 2–4 % between seeds for
#: 50, 100 and 200 resamples.
N_BOOTSTRAP = 100
#: Fewest probe positions a region needs for a bootstrap band.
MIN_REGION_PIXELS = 5
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ------------------------------------------------------------------ small helpers
def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _fmt(value):
    """Numbers to 4 significant digits (compositions, times), booleans as in TOML.

    Examples
    --------
    >>> _fmt(0.054943217), _fmt(True), _fmt(None), _fmt([1.6, 2.5])
    ('0.05494', 'true', 'none', '[1.6, 2.5]')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


def _value_pm(value, sd, unit=""):
    """``value ± sd`` with sd to one significant digit (two if it starts with 1).

    Examples
    --------
    >>> _value_pm(1.98734, 0.0123, " Å"), _value_pm(2.0, float("nan"), " Å")
    ('1.987 ± 0.012 Å', '2.00 Å')
    >>> _value_pm(float("nan"), 0.1)
    '–'
    """
    if not np.isfinite(value):
        return "–"
    if not (np.isfinite(sd) and sd > 0):
        return f"{value:.2f}{unit}"
    exp = int(np.floor(np.log10(sd)))
    digits = 2 if f"{sd:.1e}".startswith("1") else 1
    decimals = max(0, digits - 1 - exp)
    return f"{value:.{decimals}f} ± {sd:.{decimals}f}{unit}"


def _nav_extent(signal):
    """imshow extent (pixel edges) and axis labels from a signal's 2-D navigation axes."""
    ax_x, ax_y = signal.axes_manager.navigation_axes[:2]
    return _extent(ax_x, ax_y)


def _extent(ax_x, ax_y):
    x, y = np.asarray(ax_x.axis, float), np.asarray(ax_y.axis, float)
    dx, dy = (abs(float(a.scale)) or 1.0 for a in (ax_x, ax_y))
    extent = [x[0] - dx / 2, x[-1] + dx / 2, y[-1] + dy / 2, y[0] - dy / 2]

    def label(a, default):
        units = a.units if isinstance(a.units, str) and a.units not in ("", "<undefined>") \
            else "px"
        name = a.name if isinstance(a.name, str) and a.name not in ("", "<undefined>") \
            else default
        return f"{name} ({units})"

    return extent, label(ax_x, "x"), label(ax_y, "y")


def _map_panel(fig, ax, data, extent, xlabel, ylabel, title, cbar_label, cmap, *,
               vmin=None, vmax=None):
    im = ax.imshow(data, cmap=cmap, extent=extent, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, label=cbar_label)
    return im


def _csv_maps(maps, path, labels=None):
    data = np.asarray(maps.data)
    k = data.shape[0]
    rows, cols = data.shape[1:]
    head = [f"component_{i}" for i in range(k)] if labels is None else list(labels)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("row,col," + ",".join(head) + "\n")
        for r in range(rows):
            for c in range(cols):
                fh.write(f"{r},{c}," + ",".join(f"{data[i, r, c]:.6g}" for i in range(k)) + "\n")
    return str(path)


def _csv_components(comps, path):
    r = comps.axes_manager.signal_axes[0].axis
    data = np.asarray(comps.data)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("r_A," + ",".join(f"component_{i}" for i in range(len(data))) + "\n")
        for j, rj in enumerate(r):
            fh.write(f"{rj:.6g}," + ",".join(f"{row[j]:.6g}" for row in data) + "\n")
    return str(path)


# ------------------------------------------------------------------ names and bands
def phase_labels(components, r_range=(1.0, 3.0)):
    """Name each component PDF by a letter and its first-peak position.

    Parameters
    ----------
    components : PDF1DPlus
        Stack of component PDFs (navigation axis ``"component"``).
    r_range : tuple of float
        Window of the first coordination shell in Å
        (:func:`pyxem_epdf.physics.peaks.first_peak`).

    Returns
    -------
    list of str
        ``"phase A (r₁ = 1.31 Å)"``, … in component order; ``"phase A"`` where
        no first peak is found.

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> r = np.arange(0.0, 8.0, 0.01)
    >>> g = np.stack([np.exp(-0.5 * ((r - r0) / 0.1) ** 2) for r0 in (1.31, 1.98)])
    >>> comps = epdf.PDF1DPlus(g)
    >>> comps.axes_manager.signal_axes[0].scale = 0.01
    >>> phase_labels(comps)
    ['phase A (r₁ = 1.31 Å)', 'phase B (r₁ = 1.98 Å)']
    """
    from .physics import peaks

    r = np.asarray(components.axes_manager.signal_axes[0].axis, float)
    g = np.asarray(components.data, float).reshape(-1, r.size)
    pos, _ = peaks.first_peak(g, r, r_range=r_range)
    out = []
    for i, p in enumerate(np.atleast_1d(pos)):
        letter = _LETTERS[i] if i < len(_LETTERS) else str(i)
        out.append(f"phase {letter} (r₁ = {p:.2f} Å)" if np.isfinite(p) else f"phase {letter}")
    return out


def component_errors(pdf, unmix):
    """±1 standard error of each component G(r) from the linear mixing model.

    With the loading maps L (k × n positions) fixed, each component is a
    least-squares solution of X ≈ Lᵀ C for the cube X (n positions × r);
    its standard error at each r is √(σ²(r) (L Lᵀ)⁻¹ₖₖ), with σ²(r) the
    residual variance of the model at that r over all positions
    (n − k degrees of freedom). It includes counting noise and any
    variation the k components do not describe.

    Parameters
    ----------
    pdf : PDF1DPlus
        The (computed) G(r) cube the unmixing was made from.
    unmix : pyxem_epdf.mapping.Unmixing

    Returns
    -------
    numpy.ndarray
        Shape (k, n_r), in the units of G (Å⁻²).

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
    ...                                       s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
    >>> pdf = ri.get_pdf(epdf.data.average_composition(synth), (1.6, 2.4), b=0.8,
    ...                  s_min=0.2, r_max=8, r_step=0.05, fix_c=True)
    >>> unmix = pdf.decompose((1.0, 6.0)).unmix(2)
    >>> err = component_errors(pdf, unmix)
    >>> err.shape, bool(np.all(err >= 0))
    ((2, 161), True)
    """
    n_r = pdf.axes_manager.signal_axes[0].size
    x = np.asarray(pdf.data, float).reshape(-1, n_r)
    load = np.asarray(unmix.loadings.data, float).reshape(len(unmix.loadings.data), -1)
    comps = np.asarray(unmix.components.data, float).reshape(load.shape[0], n_r)
    # positions the decomposition left out (invalid fits) have NaN loadings
    keep = np.all(np.isfinite(load), axis=0) & np.all(np.isfinite(x), axis=1)
    load, x = load[:, keep], x[keep]
    k, n = load.shape
    resid = x - load.T @ comps
    dof = max(n - k, 1)
    var_r = np.sum(resid ** 2, axis=0) / dof
    cov = np.linalg.pinv(load @ load.T)
    return np.sqrt(np.clip(np.diag(cov), 0, None)[:, None] * var_r[None, :])


def component_sigmas(pdf, ri, unmix, composition=None, *, correlation=None, pure=None):
    """Counting-noise σ of each closure component G(r) and of its slope.

    The per-pattern σ(G) and σ(dG/dr) are propagated in closed form from the
    Poisson variance of I(s) (:func:`pyxem_epdf.quantify.with_sigma`) and
    then through the least-squares endmember estimate with the phase
    fractions F fixed, var(E) = (P∘P) σ² with P = (FᵀF)⁻¹Fᵀ
    (:func:`pyxem_epdf.quantify.component_sigma`), or, for a component given
    its pure pixels, through their mean, σ = √(Σσ²)/n. Closure components
    are such means (:attr:`~pyxem_epdf.mapping.Unmixing.pure`), which
    :func:`build` passes as ``pure``; the least-squares form uses all
    positions and is smaller (0.77 and 0.92× the pure-pixel mean's σ on the
    demo), the mean over the region (fraction > 0.9), :func:`build`'s
    stand-in for an Unmixing without ``pure``, 0.96 and 1.00×
    (``benchmarks/README.md``). Positions the
    decomposition left out (NaN fractions) or with a non-finite σ are left
    out. Unlike :func:`component_errors` this is counting noise only (no
    model misfit).

    Parameters
    ----------
    pdf : PDF1DPlus
        The computed G(r) cube the unmixing was made from.
    ri : ReducedIntensity1DPlus
        Its I(s) profiles, with their variance (``azimuthal_profile``).
    unmix : pyxem_epdf.mapping.Unmixing
        A ``"closure"`` unmixing of ``pdf`` (its loadings are phase fractions).
    composition : str or dict, optional
        The chain's composition: per-pixel maps (``{element: map}``) are
        passed on to the propagation; a formula or scalar fractions are read
        from the fit's history.
    correlation : numpy.ndarray, optional
        ``(n_s, n_s)`` bin correlation of the integration
        (:func:`pyxem_epdf.quantify.integration_correlation`); ``None``:
        independent bins (σ too small by up to ~2× with sub-pixel splitting).
    pure : array_like of bool, optional
        ``(n_positions, k)`` or navigation + ``(k,)``: the pixels averaged into
        each component (a column without any: least squares).

    Returns
    -------
    PDF1DPlus
        A copy of ``unmix.components`` carrying the variance of G in
        ``metadata.Signal.Noise_properties.variance`` and of dG/dr in
        ``metadata.ePDF.uncertainty.slope_variance``, for
        :func:`pyxem_epdf.mapping.peak_table` (positions and heights ± σ).

    Raises
    ------
    ValueError
        If the unmixing is not ``"closure"``, or as :func:`pyxem_epdf.quantify.with_sigma`.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
    ...                                       s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
    >>> pdf = ri.get_pdf(epdf.data.average_composition(synth), (1.6, 2.4), b=0.8,
    ...                  s_min=0.2, r_max=8, r_step=0.05, fix_c=True)
    >>> comps = component_sigmas(pdf, ri, pdf.decompose((1.0, 6.0)).unmix(2))
    >>> table = epdf.mapping.peak_table(comps, n_peaks=2, r_range=(1.0, 4.0))
    >>> bool(np.isfinite(table.position_sigma).all())
    True
    """
    from . import quantify
    from .signals import _base

    if unmix.method != "closure":
        raise ValueError(f"'unmix' must be a closure unmixing (phase fractions); got "
                         f"method={unmix.method!r}.")
    # only per-pixel maps go to the propagation; a formula or scalar fractions are
    # read back from the fit's history
    maps = isinstance(composition, dict) and any(np.ndim(v) for v in composition.values())
    comp = composition if maps else None
    carried = quantify.with_sigma(ri, pdf, correlation=correlation, composition=comp,
                                  lazy_output=False)
    n_r = pdf.axes_manager.signal_axes[0].size
    var = np.asarray(carried.metadata.Signal.Noise_properties.variance.data,
                     float).reshape(-1, n_r)
    slope = np.asarray(carried.metadata.ePDF.uncertainty.slope_variance.data,
                       float).reshape(-1, n_r)
    k = len(unmix.loadings.data)
    frac = np.asarray(unmix.loadings.data, float).reshape(k, -1).T
    keep = (np.all(np.isfinite(frac), axis=1) & np.all(np.isfinite(var), axis=1)
            & np.all(np.isfinite(slope), axis=1))
    frac = frac[keep]
    if pure is not None:
        pure = np.asarray(pure, dtype=bool)
        if pure.size != keep.size * k:
            raise ValueError(f"'pure' must have {keep.size} × {k} entries (positions × "
                             f"components); got shape {pure.shape}.")
        pure = pure.reshape(-1, k)[keep]
    sig = quantify.component_sigma(frac, np.sqrt(np.maximum(var[keep], 0.0)), pure)
    slope_sig = quantify.component_sigma(frac, np.sqrt(np.maximum(slope[keep], 0.0)), pure)
    comps = unmix.components
    shape = comps.data.shape
    out = _base.new_signal(comps, np.array(_base.as_numpy(comps.data), dtype=float, copy=True))
    out.metadata.set_item("Signal.Noise_properties.variance",
                          _base.new_signal(comps, (sig ** 2).reshape(shape)))
    out.metadata.set_item("ePDF.uncertainty", {
        "method": "closed-form counting-noise σ per pattern (quantify.with_sigma), "
                  + ("least-squares endmembers with the closure fractions fixed"
                     if pure is None else "means of the given pure pixels")
                  + " (quantify.component_sigma)",
        "bin_correlation": correlation is not None, "positions": int(keep.sum()),
        "slope_variance": _base.new_signal(comps, (slope_sig ** 2).reshape(shape))})
    return out


def _region_composition(composition, mask):
    """A scalar composition for a region: per-pixel maps averaged over ``mask``."""
    if isinstance(composition, dict) and any(np.ndim(v) for v in composition.values()):
        return {el: float(np.mean(np.broadcast_to(np.asarray(v, float), mask.shape)[mask]))
                for el, v in composition.items()}
    return composition


def _chain_pdf(profile, composition, chain):
    """The batch chain (a ``[chain]`` config section) on a profile stack.

    ``s_range``, ``b`` and ``s_min`` left out of the section take get_pdf's defaults;
    :func:`pyxem_epdf.batch._build` and the report's region PDFs both run it.
    """
    return profile.get_pdf(
        composition, tuple(chain["s_range"]) if "s_range" in chain else None,
        b=chain.get("b"), s_min=chain.get("s_min"),
        s_max=chain.get("s_max"), r_max=chain["r_max"], r_step=chain["r_step"],
        weights=chain["weights"], fix_c=chain["fix_c"], c_pool=chain.get("c_pool"),
        show_progressbar=False,
    )


def region_pdfs(ri, unmix, composition, chain, *, threshold=REGION_THRESHOLD,
                n_bootstrap=N_BOOTSTRAP, seed=0):
    """G(r) of each phase's pure region, with a bootstrap band.

    For each component, the region is the probe positions whose loading
    (phase fraction for closure unmixing) exceeds ``threshold``. I(s) is
    summed over the region and run through the chain; the band is the
    standard deviation of G(r) over ``n_bootstrap`` resamples of the region
    (probe positions drawn with replacement,
    :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.bootstrap_region`),
    each run through the same chain.

    Parameters
    ----------
    ri : ReducedIntensity1DPlus
        The (binned) I(s) profiles the cube was made from.
    unmix : pyxem_epdf.mapping.Unmixing
    composition : str or dict
        As the chain's; per-pixel maps are averaged over each region.
    chain : dict
        The ``[chain]`` section of the configuration.
    threshold : float
        Loading above which a position belongs to a region.
    n_bootstrap : int
        Resamples per region.
    seed : int

    Returns
    -------
    list of dict or None
        One per component: ``r`` (Å), ``g`` (G of the region sum), ``sd``,
        ``boot`` (G of each resample), ``n_pixels``; ``None`` where fewer
        than :data:`MIN_REGION_PIXELS` positions pass the threshold.

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
    ...                                       s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
    >>> chain = {"s_range": [1.6, 2.4], "weights": "poisson", "fix_c": True, "b": 0.8,
    ...          "s_min": 0.2, "r_max": 8.0, "r_step": 0.05}
    >>> comp = epdf.data.average_composition(synth)
    >>> unmix = _chain_pdf(ri, comp, chain).decompose((1.0, 6.0)).unmix(2)
    >>> regions = region_pdfs(ri, unmix, comp, chain, n_bootstrap=20)
    >>> [reg is None or reg["boot"].shape == (20, 161) for reg in regions]
    [True, True]
    >>> peaks = region_peaks(next(reg for reg in regions if reg is not None))
    >>> peaks["positions"].shape, bool(np.nanmax(peaks["positions_sd"]) < 0.3)
    ((4,), True)
    """
    out = []
    for k, m in enumerate(np.asarray(unmix.loadings.data, float)):
        mask = m > threshold
        if mask.sum() < MIN_REGION_PIXELS:
            out.append(None)
            continue
        comp = _region_composition(composition, mask)
        boot = ri.bootstrap_region(mask, n_bootstrap, seed=seed + k, lazy_output=False,
                                   show_progressbar=False)
        g_boot = np.asarray(_chain_pdf(boot, comp, chain).data, float)
        total = ri.sum_regions(mask, lazy_output=False, show_progressbar=False)
        pdf = _chain_pdf(total, comp, chain)
        out.append({"r": np.asarray(pdf.axes_manager.signal_axes[0].axis, float),
                    "g": np.asarray(pdf.data, float).reshape(-1),
                    "sd": g_boot.std(axis=0, ddof=1), "boot": g_boot,
                    "n_pixels": int(mask.sum())})
    return out


def region_peaks(region, n_peaks=4, r_range=(1.0, 8.0), window=0.15):
    """Peaks of a region G(r) with bootstrap standard deviations.

    Positions, heights and FWHM of the ``n_peaks`` highest maxima of the
    region-sum G(r); each is followed through the bootstrap resamples
    (:func:`pyxem_epdf.physics.peaks.track_peaks`, ± ``window`` Å) and its
    standard deviation over the resamples returned (NaN where a peak is lost
    in more than half of them).

    Parameters
    ----------
    region : dict
        One entry of :func:`region_pdfs`.
    n_peaks : int
    r_range : tuple of float
        Search window in Å.
    window : float
        Half-width (Å) within which a resample's peak counts as the same peak.

    Returns
    -------
    dict
        ``positions``, ``heights``, ``widths`` and their ``*_sd``, each of
        shape (n_peaks,).

    Examples
    --------
    A region whose resamples shift one peak by ±0.02 Å:

    >>> import numpy as np
    >>> r = np.arange(0.0, 10.0, 0.01)
    >>> shifts = np.tile([-0.02, 0.02], 10)
    >>> boot = np.exp(-0.5 * ((r - 2.0 - shifts[:, None]) / 0.1) ** 2)
    >>> region = {"r": r, "g": np.exp(-0.5 * ((r - 2.0) / 0.1) ** 2), "boot": boot}
    >>> out = region_peaks(region, n_peaks=1)
    >>> round(float(out["positions"][0]), 3), round(float(out["positions_sd"][0]), 3)
    (2.0, 0.021)
    """
    from .physics import peaks

    r, g, boot = region["r"], region["g"], region["boot"]
    r_range = _inside(r_range, r)
    pos, h = peaks.find_peaks(g, r, r_range=r_range, n_peaks=n_peaks)
    w = peaks.peak_widths(g, r, pos, h)
    out = {"positions": pos, "heights": h, "widths": w}
    ok = np.isfinite(pos)
    sd = {k: np.full(pos.shape, np.nan) for k in ("positions_sd", "heights_sd", "widths_sd")}
    if ok.any():
        bp, bh = peaks.track_peaks(boot, r, pos[ok], window=window)
        bw = peaks.peak_widths(boot, r, bp, bh)
        for key, arr in (("positions_sd", bp), ("heights_sd", bh), ("widths_sd", bw)):
            found = np.isfinite(arr)
            with np.errstate(invalid="ignore"):
                val = np.array([np.std(col[f], ddof=1) if f.sum() > max(2, f.size // 2)
                                else np.nan for col, f in zip(arr.T, found.T, strict=True)])
            sd[key][ok] = val
    out.update(sd)
    return out


def _inside(r_range, r):
    """``r_range`` cut to the r grid (a cube to r_max < 8 Å still gets a table)."""
    return (max(float(r_range[0]), float(r[0])), min(float(r_range[1]), float(r[-1])))


# ------------------------------------------------------------------ figures
def _colors(k):
    return [f"C{i}" for i in range(k)]


def _composite(fig, ax, maps, extent, xlabel, ylabel, labels, closure, percentile=99.0):
    """Colour composite with pixel-edge extent and a key naming each colour.

    Two closure phases: the mix is a linear blend of the two colours, drawn as
    the fraction of the first phase with a colour bar (same geometry and key as
    the other panels). Otherwise each colour is weighted by its map (scaled to
    its ``percentile`` for loadings) and a legend names the colours.
    """
    from matplotlib.colors import LinearSegmentedColormap, to_rgb
    from matplotlib.patches import Patch

    colors = _colors(len(maps))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("phase composite" if closure else "loading composite", fontsize=10)
    if closure and len(maps) == 2:
        blend = LinearSegmentedColormap.from_list("phases", [to_rgb(colors[1]),
                                                             to_rgb(colors[0])])
        im = ax.imshow(np.clip(maps[0], 0, 1), cmap=blend, vmin=0, vmax=1, extent=extent,
                       interpolation="nearest")
        cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03,
                            label=f"fraction of {labels[0].split(' (')[0]}")
        cbar.set_ticks([0, 0.5, 1], labels=[f"0: {labels[1].split(' (')[0]}", "0.5",
                                            f"1: {labels[0].split(' (')[0]}"])
        return
    rgb = np.zeros(maps.shape[1:] + (3,))
    for m, c in zip(maps, colors, strict=True):
        if closure:  # fractions sum to 1: the colour is the mixture itself
            w = np.clip(m, 0, 1)
        else:
            top = np.percentile(m, percentile)
            w = np.clip(m / (top if top > 0 else 1.0), 0, 1)
        rgb += w[..., None] * np.asarray(to_rgb(c))
    ax.imshow(np.clip(rgb, 0, 1), extent=extent, interpolation="nearest")
    handles = [Patch(color=c, label=lab) for c, lab in zip(colors, labels, strict=True)]
    # beside the panel, where the other panels have their colour bars
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.03, 1.0), fontsize=8,
              frameon=False, borderaxespad=0, handlelength=1.2)


def _map_figure(unmix, labels, pdf):
    """Phase-fraction (or loading) maps in calibrated units with colour bars, and a composite.

    Parameters
    ----------
    unmix : pyxem_epdf.mapping.Unmixing
    labels : list of str
        Phase names (:func:`phase_labels`).
    pdf : PDF1DPlus
        The cube (for its navigation calibration).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    extent, xlabel, ylabel = _nav_extent(pdf)
    maps = np.asarray(unmix.loadings.data, float)
    closure = unmix.method == "closure"
    legend = not (closure and len(maps) == 2)  # else a colour bar like the other panels
    fig = Figure(figsize=(3.9 * len(maps) + (5.2 if legend else 3.9), 4.2),
                 layout="constrained")
    # room above the titles: the ring of "Å" is clipped by the figure edge otherwise
    fig.get_layout_engine().set(h_pad=0.1)
    axes = fig.subplots(1, len(maps) + 1, width_ratios=[1] * len(maps) + [1.3 if legend else 1])
    for i, m in enumerate(maps):
        _map_panel(fig, axes[i], m, extent, xlabel, ylabel,
                   f"{labels[i]}\n{'phase fraction' if closure else unmix.method + ' loading'}",
                   "phase fraction (0–1)" if closure else "loading (99th percentile = 1)",
                   "viridis", vmin=0 if closure else None, vmax=1 if closure else None)
    _composite(fig, axes[-1], maps, extent, xlabel, ylabel, labels, closure)
    return fig


def _n_map_figure(pdf):
    """The fitted N map in calibrated units."""
    from matplotlib.figure import Figure

    extent, xlabel, ylabel = _nav_extent(pdf)
    fig = Figure(figsize=(4.6, 3.8), layout="constrained")
    _map_panel(fig, fig.subplots(), np.asarray(pdf.metadata.ePDF.fit.N.data), extent, xlabel,
               ylabel, "fitted N (I = N⟨f²⟩ + C)", "N (counts pixel⁻¹ Å⁻²)", "magma")
    return fig


def _scree_figure(dec):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.8, 3.6), layout="constrained")
    ax = dec.plot_scree(ax=fig.subplots())
    ax.set_xlabel("component index")
    return fig


def _pdf_figure(unmix, labels, errors, regions, threshold=REGION_THRESHOLD, xlim=(0.0, 10.0)):
    """Component G(r) ± 1 standard error and region G(r) ± 1 bootstrap sd, side by side."""
    from matplotlib.figure import Figure

    r = np.asarray(unmix.components.axes_manager.signal_axes[0].axis, float)
    comps = np.asarray(unmix.components.data, float).reshape(-1, r.size)
    colors = _colors(len(comps))
    have_regions = any(reg is not None for reg in regions)
    fig = Figure(figsize=(11, 3.9) if have_regions else (6.2, 3.9), layout="constrained")
    axes = fig.subplots(1, 2 if have_regions else 1, sharey=True, squeeze=False)[0]
    ax = axes[0]
    for g, e, lab, c in zip(comps, errors, labels, colors, strict=True):
        ax.fill_between(r, g - e, g + e, color=c, alpha=0.3, lw=0)
        ax.plot(r, g, color=c, lw=1.1, label=lab)
    ax.set_title(f"{unmix.method} components (band ±1 standard error)", fontsize=10)
    ax.set_ylabel("G(r) (Å⁻²)")
    if have_regions:
        ax = axes[1]
        for reg, lab, c in zip(regions, labels, colors, strict=True):
            if reg is None:
                continue
            ax.fill_between(reg["r"], reg["g"] - reg["sd"], reg["g"] + reg["sd"], color=c,
                            alpha=0.3, lw=0)
            ax.plot(reg["r"], reg["g"], color=c, lw=1.1,
                    label=f"{lab}: {reg['n_pixels']} positions")
        ax.set_title(f"regions with fraction > {threshold:g} (band ±1 bootstrap sd)",
                     fontsize=10)
    for ax in axes:
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xlim(*xlim)
        ax.set_xlabel("r (Å)")
        ax.legend(fontsize=8)
    return fig


def _intensity_figure(ri, pdf, composition, chain):
    """Mean I(s) with the mean fitted N⟨f²⟩ + C and the fit window; mean φ(s) ± 1 sd."""
    from matplotlib.figure import Figure

    from .physics import scattering
    from .signals import _base

    s = _base.s_axis_values(ri)
    intensity = np.asarray(ri.data, float).reshape(-1, s.size)
    table = pdf.metadata.get_item("ePDF.fit.table", "lobato")
    if isinstance(composition, dict) and any(np.ndim(v) for v in composition.values()):
        # per-pixel maps (navigation shape, rows first like the profiles)
        elements = list(composition)
        maps = [np.asarray(composition[el], float) for el in elements]
        shape = np.broadcast_shapes(*(m.shape for m in maps))
        fractions = np.stack([np.broadcast_to(m, shape) for m in maps], axis=-1)
        fractions = fractions.reshape(-1, len(elements))
        fractions = fractions / fractions.sum(axis=-1, keepdims=True)
    else:
        elements, fractions = scattering.composition_arrays(composition)
        fractions = fractions[None, :]
    f2, fsq = scattering.scattering_averages(
        fractions, scattering.scattering_factors(elements, s, table))
    f2, fsq = np.broadcast_to(f2, intensity.shape), np.broadcast_to(fsq, intensity.shape)
    n = np.asarray(pdf.metadata.ePDF.fit.N.data, float).reshape(-1, 1)
    c = np.asarray(pdf.metadata.ePDF.fit.C.data, float).reshape(-1, 1)
    model = n * f2 + c
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = s * (intensity - model) / (n * fsq)
    lo, hi = chain["s_range"]
    fig = Figure(figsize=(11, 3.9), layout="constrained")
    ax_i, ax_phi = fig.subplots(1, 2)
    ax_i.semilogy(s, intensity.mean(axis=0), "k.", ms=3, label="I(s), mean over positions")
    ax_i.semilogy(s, model.mean(axis=0), "C3", label="fitted N⟨f²⟩ + C, mean")
    for ax in (ax_i, ax_phi):
        ax.axvspan(lo, hi, color="C2", alpha=0.15, label=f"fit window {lo:g}–{hi:g} Å⁻¹")
        ax.axvline(chain["s_min"], color="0.5", ls=":", lw=0.9,
                   label=f"s_min {chain['s_min']:g} Å⁻¹ (extrapolated below)")
        ax.set_xlabel("s (Å⁻¹)")
    ax_i.set_ylabel("I(s) (counts per pixel)")
    ax_i.set_title("azimuthal mean and fitted background", fontsize=10)
    ax_i.legend(fontsize=7)
    mean, sd = np.nanmean(phi, axis=0), np.nanstd(phi, axis=0)
    keep = s >= chain["s_min"]
    ax_phi.fill_between(s[keep], (mean - sd)[keep], (mean + sd)[keep], color="C0", alpha=0.25,
                        lw=0, label="±1 sd over single positions")
    ax_phi.plot(s[keep], mean[keep], "C0", label="φ(s), mean")
    ax_phi.axhline(0, color="0.6", lw=0.8)
    ax_phi.set_xlim(0, s[-1] * 1.02)
    ax_phi.set_ylabel("φ(s) (Å⁻¹)")
    ax_phi.set_title("reduced intensity φ(s) (before polynomial and damping)", fontsize=10)
    ax_phi.legend(fontsize=7, loc="upper left")
    return fig


# ------------------------------------------------------------------ the report
def geometry_figure(summed, *, mask=None, center=None, distortion=None, radii=(),
                    centers=None, fig=None):
    """The detector geometry: scan sum with the mask and the fitted ellipse, and the centre track.

    Parameters
    ----------
    summed : array_like
        Scan-summed pattern, detector shape (rows, columns)
        (:func:`pyxem_epdf.signals.scan_sum`).
    mask : array_like of bool, optional
        Excluded pixels (True), drawn in red over the pattern.
    center : tuple of float, optional
        (x, y) centre of the rings in pixels; default the detector centre.
    distortion : array_like, optional
        2 × 2 matrix A of the pixel frame (u = A·(p − c), x = columns):
        each ring of corrected radius ρ is drawn where |A·(p − c)| = ρ.
    radii : sequence of float
        Corrected radii ρ in pixels of the rings to draw (e.g. the edges of the
        fit band).
    centers : array_like, optional
        (x, y) pattern centre in pixels per probe position, shape nav + (2,):
        the right panel plots them, coloured by probe index (scan order).
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into (e.g. ``plt.figure(layout="constrained")``);
        default a new one, not managed by pyplot.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.physics.calibration import distortion_matrix
    >>> y, x = np.mgrid[:64, :64]
    >>> img = 1 + np.exp(-((np.hypot(x - 31.5, y - 31.5) - 20) / 3) ** 2)
    >>> track = np.stack(np.meshgrid(31.5 + np.arange(4) * 0.1, 31.5 + np.arange(3) * 0.1),
    ...                  axis=-1)
    >>> fig = geometry_figure(img, mask=img < 0, distortion=distortion_matrix(1.02, 30.0),
    ...                       radii=(10, 25), centers=track)
    >>> [ax.get_title() for ax in fig.axes if ax.get_xlabel()]
    ['scan sum, mask and ellipse', 'pattern centre per probe position']
    """
    from matplotlib.figure import Figure

    img = np.asarray(summed, float)
    rows, cols = img.shape
    cx, cy = ((cols - 1) / 2, (rows - 1) / 2) if center is None else (float(v) for v in center)
    if fig is None:
        fig = Figure(figsize=(9.6 if centers is not None else 5.2, 4.4), layout="constrained")
    axes = fig.subplots(1, 2 if centers is not None else 1, squeeze=False)[0]
    ax = axes[0]
    positive = img[img > 0]
    floor = float(positive.min()) if positive.size else 1.0
    im = ax.imshow(np.log10(np.maximum(img, floor)), cmap="gray", interpolation="nearest",
                   extent=(-0.5, cols - 0.5, rows - 0.5, -0.5))
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, label="log₁₀ summed counts (counts)")
    if mask is not None and np.any(mask):
        ax.contourf(np.arange(cols), np.arange(rows), np.asarray(mask, float), levels=[0.5, 1.5],
                    colors=["red"], alpha=0.45)
        ax.plot([], [], "s", color="red", alpha=0.45, label=f"mask ({int(np.sum(mask))} px)")
    inv = np.linalg.inv(np.eye(2) if distortion is None else np.asarray(distortion, float))
    theta = np.linspace(0, 2 * np.pi, 361)
    for i, rho in enumerate(radii):
        px, py = inv @ np.stack([rho * np.cos(theta), rho * np.sin(theta)])
        ax.plot(cx + px, cy + py, "-", color="C1", lw=1.2,
                label="fitted ellipse (fit band)" if i == 0 else None)
    ax.plot([cx], [cy], "+", color="C0", ms=10, mew=2, label=f"centre ({cx:.2f}, {cy:.2f}) px")
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
    ax.set_title("scan sum, mask and ellipse", fontsize=10)
    ax.legend(loc="lower left", fontsize=7, framealpha=0.8)
    if centers is not None:
        c = np.asarray(centers, float).reshape(-1, 2)
        ax2 = axes[1]
        sc = ax2.scatter(c[:, 0], c[:, 1], c=np.arange(len(c)), cmap="viridis", s=12)
        ax2.plot([cx], [cy], "+", color="C0", ms=10, mew=2, label="scan-sum centre")
        ax2.set_xlabel("x (px)")
        ax2.set_ylabel("y (px)")
        ax2.invert_yaxis()
        ax2.set_aspect("equal", adjustable="datalim")
        ax2.set_title("pattern centre per probe position", fontsize=10)
        ax2.legend(loc="best", fontsize=7)
        fig.colorbar(sc, ax=ax2, fraction=0.046, pad=0.03, label="probe index (scan order)")
    return fig


def build(pdf, ri, dec, unmix, composition, chain, *, threshold=REGION_THRESHOLD,
          n_bootstrap=N_BOOTSTRAP, geometry=None, correlation=None):
    """All figures (PNG bytes) and tables of the report.

    Parameters
    ----------
    pdf : PDF1DPlus
        The computed G(r) cube.
    ri : ReducedIntensity1DPlus
        The computed I(s) profiles it was made from.
    dec : pyxem_epdf.mapping.Decomposition
    unmix : pyxem_epdf.mapping.Unmixing
    composition : str or dict
        The chain's composition (per-pixel maps allowed).
    chain : dict
        The ``[chain]`` section of the configuration.
    threshold, n_bootstrap
        Region threshold and bootstrap resamples (:func:`region_pdfs`).
    geometry : dict, optional
        Keywords of :func:`geometry_figure` (``summed``, ``mask``, ``center``,
        ``distortion``, ``radii``, ``centers``): adds the ``geometry`` figure.
    correlation : numpy.ndarray, optional
        ``(n_s, n_s)`` bin correlation of the integration
        (:func:`pyxem_epdf.quantify.integration_correlation` of the scan), for
        the counting-noise σ of the closure components' peaks
        (:func:`component_sigmas`); ``None``: independent bins, stated in the
        band note.

    Returns
    -------
    figures : dict
        ``scree``, ``loading_maps``, ``component_pdfs``, ``N_map``,
        ``intensity_fit`` (and ``geometry``) → PNG bytes.
    content : dict
        ``labels``, ``phases`` (rows of the phase table), ``peaks`` (rows of
        the peak table), ``band_note`` (how the bands were made).

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
    ...                                       s_scale=0.08)
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=40)
    >>> chain = {"s_range": [1.6, 2.4], "weights": "poisson", "fix_c": True, "b": 0.8,
    ...          "s_min": 0.2, "r_max": 8.0, "r_step": 0.05}
    >>> comp = epdf.data.average_composition(synth)
    >>> pdf = _chain_pdf(ri, comp, chain)
    >>> dec = pdf.decompose((1.0, 6.0))
    >>> figures, content = build(pdf, ri, dec, dec.unmix(2), comp, chain, n_bootstrap=20)
    >>> sorted(figures)
    ['N_map', 'component_pdfs', 'intensity_fit', 'loading_maps', 'scree']
    >>> content["labels"][0].startswith("phase A (r₁ = ")
    True
    >>> prov = {"started": "2026-01-02T03:04:05Z", "finished": "2026-01-02T03:04:09Z",
    ...         "seconds": 4.0, "stage_seconds": {"chain": 4.0}, "frames": 64,
    ...         "input": None, "dose": None, "n_components": 2, "parallel_analysis": 1,
    ...         "parameters": {"chain": chain, "mapping": {"method": "closure"}}}
    >>> text = report_html(prov, figures, content)
    >>> text.count('src="data:image/png;base64,'), "2 January 2026, 03:04:09 UTC" in text
    (5, True)
    """
    from .mapping import peak_table

    labels = phase_labels(unmix.components)
    errors = component_errors(pdf, unmix)
    try:
        regions = region_pdfs(ri, unmix, composition, chain, threshold=threshold,
                              n_bootstrap=n_bootstrap)
        region_error = None
    except ValueError as err:  # e.g. a region too dim for the fit
        regions, region_error = [None] * len(labels), str(err)
    figures = {}
    figures["scree"] = _png(_scree_figure(dec))
    figures["loading_maps"] = _png(_map_figure(unmix, labels, pdf))
    figures["component_pdfs"] = _png(_pdf_figure(unmix, labels, errors, regions, threshold))
    figures["N_map"] = _png(_n_map_figure(pdf))
    figures["intensity_fit"] = _png(_intensity_figure(ri, pdf, composition, chain))
    if geometry is not None:
        figures["geometry"] = _png(geometry_figure(**geometry))

    maps = np.asarray(unmix.loadings.data, float)
    closure = unmix.method == "closure"
    phases = []
    for i, lab in enumerate(labels):
        reg = regions[i]
        phases.append({
            "color": _hex(f"C{i}"), "label": lab,
            "mean": float(maps[i].mean()) if closure else None,
            "region": reg["n_pixels"] if reg is not None else int((maps[i] > threshold).sum()),
        })
    r = np.asarray(unmix.components.axes_manager.signal_axes[0].axis, float)
    sigma_error = None
    if closure:
        try:
            # closure's components are means of its pure pixels (Unmixing.pure); an
            # Unmixing without them (projected, refined): the region (fraction >
            # threshold, the same 0.9 as closure_unmix's pure_threshold by default)
            if unmix.pure is not None:
                pure = np.asarray(unmix.pure).reshape(-1, len(maps))
            else:
                pure = np.nan_to_num(maps.reshape(len(maps), -1).T) > threshold
                pure[:, pure.sum(axis=0) < MIN_REGION_PIXELS] = False  # least squares
            carried = component_sigmas(pdf, ri, unmix, composition, correlation=correlation,
                                       pure=pure)
        except ValueError as err:  # e.g. profiles without a variance
            carried, sigma_error = unmix.components, str(err)
    else:
        carried = unmix.components
    table = peak_table(carried, labels=labels, r_range=_inside((1.0, 8.0), r))
    peaks = []
    for i, lab in enumerate(labels):
        nan = np.full(table.positions.shape[1], np.nan)
        pos_sd = nan if table.position_sigma is None else table.position_sigma[i]
        h_sd = nan if table.height_sigma is None else table.height_sigma[i]
        peaks.append({"label": f"{lab}, {unmix.method} component", "positions": table.positions[i],
                      "heights": table.heights[i], "widths": table.widths[i],
                      "positions_sd": pos_sd, "heights_sd": h_sd, "widths_sd": nan})
    for i, lab in enumerate(labels):
        if regions[i] is not None:
            peaks.append({"label": f"{lab}, region (fraction > {threshold:g})",
                          **region_peaks(regions[i])})
    n_pix = maps[0].size
    band_note = (
        f"Component bands: ±1 standard error of each component G(r) from the linear "
        f"mixing model with the {unmix.method} maps fixed, √(σ²(r)·(LLᵀ)⁻¹), σ²(r) the "
        f"residual variance over all {n_pix} positions (counting noise and model misfit). "
        f"Region bands: I(s) summed over the "
        f"positions whose {'phase fraction' if closure else 'loading'} exceeds {threshold:g}, "
        f"run through the same chain; ±1 standard deviation of G(r) over {n_bootstrap} "
        "bootstrap resamples of the region's positions (drawn with replacement, "
        "ReducedIntensity1DPlus.bootstrap_region, seed 0 + component index), each through "
        "the same chain. Region peak uncertainties in the table are the same bootstrap's "
        "standard deviations.")
    if closure and sigma_error is None:
        used = carried.metadata.ePDF.uncertainty.positions
        band_note += (
            " Component peak uncertainties in the table (positions and heights; widths not "
            "propagated) are counting noise only: σ(G) and σ(dG/dr) of every pattern "
            "propagated in closed form from the Poisson variance of I(s) through the fit and "
            "the transform (quantify.with_sigma, "
            + ("with the bin correlation of the integration, rebuilt about the mean "
               "centre without a distortion matrix" if correlation is not None else
               "bins taken as independent, no integration correlation given")
            + "), then through the mean over each closure component's own pure pixels "
            + ("(Unmixing.pure)" if unmix.pure is not None else
               f"(here the phase's region, fraction > {threshold:g}, stands in for them)")
            + " or the least-squares endmember with the closure fractions fixed where a phase "
            f"has none, of the {used} positions kept (quantify.component_sigma); peak σ from "
            "the slope at the maximum (over 60 noise realisations of the demo, with the region "
            "standing in, the first-peak σ was 0.94–1.24× the scatter of the closure "
            "components' peaks). "
            "Unlike the component bands, which include model misfit, they are counting noise "
            "only.")
    elif closure:
        band_note += f" Component peak uncertainties not computed: {sigma_error}"
    else:
        band_note += (f" Component peak uncertainties not given: {unmix.method} loadings are "
                      "not phase fractions, so no propagation of the counting noise to its "
                      "components is defined.")
    missing = [lab for lab, reg in zip(labels, regions, strict=True) if reg is None]
    if region_error:
        band_note += f" Region G(r) not computed: {region_error}"
    elif missing:
        band_note += (f" No region for {', '.join(missing)}: fewer than {MIN_REGION_PIXELS} "
                      f"positions above {threshold:g}.")
    return figures, {"labels": labels, "phases": phases, "peaks": peaks,
                     "band_note": band_note, "closure": closure}


def _mean_text(value):
    return "–" if value is None else f"{value:.2f}"


def _hex(color):
    from matplotlib.colors import to_hex

    return to_hex(color)


def _date_text(iso):
    import datetime

    try:
        dt = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return str(iso)
    return dt.strftime("%d %B %Y, %H:%M:%S UTC").lstrip("0")


def _peak_rows(peaks):
    n = max(len(p["positions"]) for p in peaks) if peaks else 0
    head = "<tr><th class=l rowspan=2>G(r)</th>" + "".join(
        f"<th colspan=3>peak {i + 1}</th>" for i in range(n)) + "</tr><tr>" + \
        "<th>r (Å)</th><th>G (Å⁻²)</th><th>FWHM (Å)</th>" * n + "</tr>"
    body = []
    for p in peaks:
        cells = []
        for j in range(n):
            cells.append(_value_pm(p["positions"][j], p["positions_sd"][j]))
            cells.append(_value_pm(p["heights"][j], p["heights_sd"][j]))
            cells.append(_value_pm(p["widths"][j], p["widths_sd"][j]))
        name, _, kind = p["label"].partition(", ")
        body.append(f"<tr><td class=l>{html.escape(name)}<br><small>{html.escape(kind)}</small></td>"
                    + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return head + "".join(body)


def _flat_rows(d, prefix=""):
    out = []
    for k, v in d.items():
        if isinstance(v, dict):
            out += _flat_rows(v, f"{prefix}{k}.")
        elif isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            out.append(f"<tr><td class=l>{html.escape(prefix + str(k))}</td><td class=l>"
                       + "<br>".join(html.escape(x) for x in v) + "</td></tr>")
        else:
            out.append(f"<tr><td class=l>{html.escape(prefix + str(k))}</td>"
                       f"<td class=l>{html.escape(_fmt(v))}</td></tr>")
    return out


_CSS = """body{font-family:sans-serif;max-width:1160px;margin:1.5em auto;padding:0 1em;color:#222}
h2{border-bottom:1px solid #ccc;padding-bottom:2px;margin-top:1.6em}
table{border-collapse:collapse;margin:0.4em 0}
td,th{border:1px solid #ccc;padding:2px 7px;font-size:90%;text-align:right}
table.peaks td{white-space:nowrap;font-variant-numeric:tabular-nums;font-size:85%}
table.peaks th{font-size:85%}table.peaks td,table.peaks th{padding:2px 4px}
.scroll{overflow-x:auto;max-width:100%}th{text-align:center}
th{background:#f2f2f2}td.l,th.l{text-align:left}
figure{margin:0.8em 0}figure img{max-width:100%;display:block}
figcaption{font-size:90%;color:#444;max-width:1100px}
.swatch{display:inline-block;width:1em;height:1em;vertical-align:middle;border:1px solid #888}
.row{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
pre{background:#f6f6f6;padding:0.5em;overflow-x:auto;font-size:85%}"""


def _geometry_section(prov, img):
    """The Geometry section (figure and fitted numbers) of a run with a [geometry] section."""
    geo = prov.get("geometry")
    if not geo:
        return ""
    rows = []
    dist = geo.get("distortion")
    if dist:
        ratio = (_value_pm(dist["axis_ratio"], dist.get("axis_ratio_std"))
                 if "axis_ratio_std" in dist else _fmt(dist["axis_ratio"]))
        angle = (_value_pm(dist["angle_deg"], dist.get("angle_std_deg"), "°")
                 if "angle_std_deg" in dist else f"{_fmt(dist['angle_deg'])}°")
        rows.append(("elliptical distortion", f"{dist['method']}: axis ratio {ratio}, "
                     f"major axis {angle} from +x"))
    cen = geo.get("center", {})
    if cen:
        text = str(cen.get("method"))
        if "sum_center_px" in cen:
            x, y = cen["sum_center_px"]
            text += f"; scan-sum centre ({x:.2f}, {y:.2f}) px"
        if "residual_rms_px" in cen:
            text += (f"; track range {cen['track_range_px'][0]:.2f} × "
                     f"{cen['track_range_px'][1]:.2f} px, residual about the plane "
                     f"{cen['residual_rms_px']:.2f} px rms")
        rows.append(("pattern centres", text))
    for key, label in (("beam_stop", "beam stop"), ("detector", "detector gaps")):
        if key in geo:
            n = geo[key].get("pixels", geo[key].get("gap_pixels"))
            rows.append((label, f"{n} pixels ({geo[key]['new_pixels']} new in the mask)"))
    rows.append(("masked pixels", str(geo.get("masked_pixels", ""))))
    table = "".join(f"<tr><td class=l>{html.escape(k)}</td><td class=l>{html.escape(v)}</td></tr>"
                    for k, v in rows)
    return (
        "<h2>Geometry</h2>\n"
        + img("geometry", "Left: the scan-summed pattern (log scale) with the mask in red and "
              "the fitted ellipse at the edges of the fit band, centred on the fitted centre. "
              "Right: the pattern centre used for each probe position (scan order), the "
              "integration's per-pattern centres.")
        + f"\n<table><tr><th class=l>step</th><th class=l>result</th></tr>{table}</table>\n"
    )


def report_html(prov, figures, content):
    """The self-contained HTML report (figures inlined as base64 PNG).

    Parameters
    ----------
    prov : dict
        The provenance (as written to ``provenance.json``).
    figures : dict
        Name → PNG bytes (from :func:`build`).
    content : dict
        From :func:`build`.

    Returns
    -------
    str

    Examples
    --------
    Any dict of figures and tables from :func:`build` (here none):

    >>> prov = {"started": "2026-01-02T03:04:05Z", "finished": "2026-01-02T03:04:09Z",
    ...         "seconds": 4.0, "stage_seconds": {"chain": 4.0}, "frames": 64,
    ...         "input": None, "dose": None, "n_components": 2, "parallel_analysis": 1,
    ...         "parameters": {"chain": {"r_step": 0.01}, "mapping": {"method": "closure"}}}
    >>> content = {"closure": True, "phases": [], "peaks": [], "band_note": ""}
    >>> text = report_html(prov, {}, content)
    >>> "<td class=l>chain</td><td>4.00 s</td>" in text, "Dose unknown" in text
    (True, True)
    """
    def img(name, caption):
        if name not in figures:
            return ""
        data = base64.b64encode(figures[name]).decode()
        return (f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{caption}</figcaption></figure>")

    src = prov["input"]["path"] if prov.get("input") else "in-memory scan"
    sha = prov["input"]["sha256"] if prov.get("input") else None
    stage_rows = "".join(
        f"<tr><td class=l>{html.escape(name)}</td><td>{seconds:.2f} s</td></tr>"
        for name, seconds in prov["stage_seconds"].items()
    ) + f"<tr><th class=l>total (wall clock)</th><th>{prov['seconds']:.2f} s</th></tr>"
    dose = prov.get("dose")
    dose_text = (
        "unknown (no probe diameter in the scan's metadata)" if not dose else
        f"{dose['mean_e_per_A2']:.3g} ± {dose['std_e_per_A2']:.2g} e⁻/Å² per probe "
        f"position (range {dose['min_e_per_A2']:.3g}–{dose['max_e_per_A2']:.3g} e⁻/Å², "
        f"probe diameter {dose['probe_diameter_nm']:.3g} nm)"
    )
    closure = content["closure"]
    phase_rows = "".join(
        f"<tr><td class=l><span class=swatch style=\"background:{p['color']}\"></span> "
        f"{html.escape(p['label'])}</td>"
        f"<td>{_mean_text(p['mean'])}</td>"
        f"<td>{p['region']}</td></tr>"
        for p in content["phases"]
    )
    plan_items = "".join(f"<li>{html.escape(s)}</li>" for s in prov.get("plan", []))
    shown = {k: v for k, v in prov.items() if k != "plan"}
    if prov.get("composition_override"):  # say which composition the chain really used
        params = dict(shown["parameters"])
        params["chain"] = {
            ("composition (overridden: see composition_override)"
             if k == "composition" else k): v for k, v in params["chain"].items()}
        shown["parameters"] = params
    prov_rows = "".join(_flat_rows(shown))
    finished = prov.get("finished", prov.get("started", ""))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pyxem-epdf report</title>
<style>{_CSS}</style>
</head><body>
<h1>pyxem-epdf report</h1>
<p><b>{html.escape(_date_text(finished))}</b> — {html.escape(src)}{f" (SHA-256 {html.escape(sha[:16])}…)" if sha else ""}:
{prov['frames']} probe positions processed in {prov['seconds']:.1f} s
(started {html.escape(prov['started'])}, finished {html.escape(finished)}).
Dose {html.escape(dose_text)}.
Rank evidence: {prov['parallel_analysis']} component(s) above the noise floor (the mean included);
{prov['n_components']} unmixed ({html.escape(str(prov['parameters']['mapping']['method']))}).</p>

<h2>Phases</h2>
<p>Phases are named by a letter and the position r₁ of the first G(r) peak of their
component (the configuration gives no phase names); the colours are those of every figure.</p>
<table><tr><th class=l>phase</th><th>{'mean fraction' if closure else 'mean fraction (n/a)'}</th>
<th>positions with {'fraction' if closure else 'loading'} &gt; {REGION_THRESHOLD:g}</th></tr>{phase_rows}</table>
{img("loading_maps", "Phase-fraction maps (each 0–1) and their colour composite, in the scan's calibrated units (pixel edges at the map borders); in the composite each position's colour is the fraction-weighted mix of the phase colours.")}
<div class=row>
{img("N_map", "Fitted scattering normalisation N per probe position (I(s) = N⟨f²⟩ + C in the fit window).")}
{img("scree", "Singular values of the centred G(r) cube against the parallel-analysis noise floor.")}
</div>

{_geometry_section(prov, img)}
<h2>Intensity and reduced intensity</h2>
{img("intensity_fit", "Left: I(s) averaged over all positions with the mean fitted N⟨f²⟩ + C; the green band is the fit window, the dotted line s_min below which φ(s) is extrapolated. Right: φ(s) = s(I − N⟨f²⟩ − C)/(N⟨f⟩²), mean and ±1 sd over single positions (counting noise dominates at high s).")}

<h2>Pair distribution functions</h2>
{img("component_pdfs", "G(r) of each phase: unmixed component (left) and the sum over the phase's pure region (right), with uncertainty bands.")}
<p>{html.escape(content['band_note'])}</p>

<h2>Peaks</h2>
<p>The four highest maxima of G(r) in 1–8 Å, sorted by r; positions refined between
grid points (r step {_fmt(prov['parameters']['chain']['r_step'])} Å). Values with ± carry their bootstrap
standard deviation; component values are given to 0.01 Å.</p>
<div class=scroll><table class=peaks>{_peak_rows(content['peaks'])}</table></div>

<h2>Dose and time</h2>
<p>Dose: {html.escape(dose_text)}.</p>
<table><tr><th class=l>stage</th><th>time</th></tr>{stage_rows}</table>

<h2>Steps</h2><ol>{plan_items}</ol>

<h2>Parameters and provenance</h2>
<p>Every entry of provenance.json (numbers to 4 significant digits; the file holds them in full).</p>
<table><tr><th class=l>key</th><th class=l>value</th></tr>{prov_rows}</table>
</body></html>
"""
