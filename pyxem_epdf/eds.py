"""EDS element maps registered to the ePDF scan and correlated with loading maps.

The paper checks its unmixing against EDS: the Zn map follows the ZIF
loading, the Al map the glass loading. Here that check is one call:

1. :func:`element_maps` — element maps from an exspy ``EDSTEMSpectrum`` with
   exspy's own ``get_lines_intensity`` (background windows from
   ``estimate_background_windows``); lazy spectrum images stay lazy;
2. :func:`register_eds` — bring the maps onto the ePDF scan grid: the drift
   between a shared image on each grid (the HAADF recorded with the EDS map
   against the scan's vADF, or an element map against a loading map) is found
   by cross-correlation at the scale known from both calibrations
   (:func:`pyxem_epdf.physics.registration.register_grids`), then every map is
   resampled (bilinear; area-averaged where the EDS grid is finer);
3. :func:`correlate` — Pearson and Spearman r of every element map with every
   loading map, a 2-D histogram per pair;
4. :func:`correlate_eds` — all of it at once.

Only translations are fitted: the scale comes from the calibrations (reported
as :attr:`EDSRegistration.scale`) and scan rotation between the two
acquisitions is assumed zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .physics import registration as _reg
from .signals._base import as_numpy as _dense
from .signals._base import copy_axes

__all__ = [
    "EDSRegistration",
    "MapCorrelation",
    "correlate",
    "correlate_eds",
    "element_maps",
    "register_eds",
]

#: Length units understood on navigation axes, in nm.
_LENGTH_NM = {"nm": 1.0, "µm": 1e3, "μm": 1e3, "um": 1e3, "Å": 0.1, "A": 0.1, "pm": 1e-3,
              "mm": 1e6, "m": 1e9}


def _to_nm(axis, what):
    units = str(axis.units)
    if units not in _LENGTH_NM:
        raise ValueError(
            f"The {what} axis '{axis.name}' has units {units!r}; calibrate it in one of "
            f"{sorted(_LENGTH_NM)} (e.g. axis.units = 'nm') so the grids can be matched."
        )
    return _LENGTH_NM[units]


def _image_grid(image, what):
    """(data, origin (x, y) nm, step (x, y) nm) of a single 2-D image signal."""
    am = image.axes_manager
    if am.signal_dimension == 2 and am.navigation_dimension == 0:
        axes = am.signal_axes
    elif am.signal_dimension == 0 and am.navigation_dimension == 2:
        axes = am.navigation_axes
    else:
        raise ValueError(
            f"'{what}' must be one 2-D image (a Signal2D without navigation axes, or a "
            f"navigation-shaped map); got {am.navigation_shape} | {am.signal_shape}. "
            "Pick one image with .inav[i]."
        )
    factors = [_to_nm(ax, what) for ax in axes]
    origin = np.array([ax.offset * f for ax, f in zip(axes, factors, strict=True)])
    step = np.array([ax.scale * f for ax, f in zip(axes, factors, strict=True)])
    if np.any(step <= 0):
        raise ValueError(f"'{what}' has a non-positive axis scale {step.tolist()} nm.")
    return image.data, origin, step


def element_maps(eds, xray_lines=None, *, background_windows=True, line_width=(2.0, 2.0),
                 windows_width=1.0, integration_windows=2.0):
    """Element maps from an EDS spectrum image with exspy's ``get_lines_intensity``.

    Parameters
    ----------
    eds : exspy.signals.EDSTEMSpectrum or LazyEDSTEMSpectrum
        Spectrum image with calibrated navigation axes (e.g. from ``hs.load``
        of a .bcf, .emd or .hspy file).
    xray_lines : list of str, optional
        Lines such as ``["Zn_Ka", "Al_Ka"]``; default the metadata's
        ``Sample.xray_lines`` (or the lines exspy picks for
        ``Sample.elements``).
    background_windows : bool
        Subtract a linear background from two windows beside each line
        (exspy's ``estimate_background_windows``).
    line_width : tuple of float
        Distance of the background windows from the line centre, in units of
        the line's FWHM (left, right).
    windows_width : float
        Width of each background window in FWHM.
    integration_windows : float
        Width of the integration window in FWHM.
    Returns
    -------
    list of hyperspy.signals.Signal2D
        One map per line (counts), titled by exspy (``"X-ray line intensity of
        …: Zn_Ka at 8.64 keV"``), lazy if ``eds`` is.

    Raises
    ------
    ValueError
        No elements or lines in the metadata and none passed; a line that is
        not ``"Element_Line"`` of exspy's database (the message lists the
        valid lines of that element, or of the spectrum's elements).

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(12, 12), detector_shape=(32, 32))
    >>> eds = epdf.data.synthetic_eds(synth, n_channels=1024).spectrum
    >>> maps = epdf.eds.element_maps(eds, ["Zn_Ka", "Al_Ka"])
    >>> [m.metadata.Sample.xray_lines[0] for m in maps], maps[0].data.shape
    (['Zn_Ka', 'Al_Ka'], (8, 8))
    """
    if not hasattr(eds, "get_lines_intensity"):
        raise TypeError(
            f"'eds' must be an exspy EDS spectrum (e.g. EDSTEMSpectrum); got {type(eds).__name__}."
        )
    if xray_lines is None:
        lines = eds.metadata.get_item("Sample.xray_lines", None)
        if not lines and not eds.metadata.get_item("Sample.elements", None):
            raise ValueError(
                "The EDS metadata names no elements (Sample.elements / Sample.xray_lines are "
                "missing): call eds.add_elements(['Zn', 'Al', ...]) or eds.add_lines(...), or "
                "pass xray_lines=['Zn_Ka', ...]."
            )
        if not lines:
            eds = eds.deepcopy() if not eds._lazy else eds._deepcopy_with_new_data(eds.data)
            eds.add_lines()
            lines = eds.metadata.Sample.xray_lines
    else:
        lines = [str(v) for v in xray_lines]
        if not lines:
            raise ValueError("'xray_lines' is empty; name at least one line, e.g. ['Zn_Ka'].")
    lines = list(lines)
    _check_lines(eds, lines)
    bw = None
    if background_windows:
        bw = eds.estimate_background_windows(line_width=list(map(float, line_width)),
                                             windows_width=float(windows_width),
                                             xray_lines=lines)
    return eds.get_lines_intensity(xray_lines=lines, background_windows=bw,
                                   integration_windows=float(integration_windows),
                                   plot_result=False)


def _valid_lines(element):
    from exspy.material import elements

    if not element or not elements.has_item(element):
        return None
    return [f"{element}_{line}" for line in
            elements.get_item(element).Atomic_properties.Xray_lines.keys()]


def _check_lines(eds, lines):
    """ValueError naming an unknown X-ray line and the valid ones, before exspy's KeyError."""
    for line in lines:
        element, sep, name = str(line).partition("_")
        valid = _valid_lines(element) if sep else None
        if valid is not None and str(line) in valid:
            continue
        if valid:  # a known element, an unknown line
            raise ValueError(f"Unknown X-ray line {line!r} in 'xray_lines'; {element} has "
                             f"{', '.join(valid)}.")
        known = eds.metadata.get_item("Sample.elements", None) or []
        listed = [v for el in known for v in (_valid_lines(str(el)) or [])]
        hint = (f" Lines of the spectrum's elements: {', '.join(listed)}." if listed else
                " Add the elements first (eds.add_elements([...])) to see their lines.")
        raise ValueError(
            f"Unknown X-ray line {line!r} in 'xray_lines': lines are 'Element_Line' with an "
            f"element symbol and one of its lines (e.g. 'Zn_Ka', 'Al_Ka', 'Zn_La')."
            f"{' ' + repr(element) + ' is not an element.' if sep and valid is None else ''}"
            f"{hint}"
        )


def _line_name(sig, fallback):
    lines = sig.metadata.get_item("Sample.xray_lines", None)
    if lines and len(lines) == 1:
        return str(lines[0])
    return str(sig.metadata.get_item("General.title", fallback))


def _quantity(sig, default):
    """Axis label of a map's values: ``metadata.Signal.quantity`` if it names a
    unit in parentheses (HyperSpy's ``"Intensity (counts)"``), else ``default``."""
    q = sig.metadata.get_item("Signal.quantity", None) if hasattr(sig, "metadata") else None
    return str(q) if isinstance(q, str) and "(" in q and q.rstrip().endswith(")") else default


def _as_maps(eds, xray_lines, map_kwargs):
    if isinstance(eds, (list, tuple)):
        maps = list(eds)
        if not maps:
            raise ValueError("'eds' is an empty list of maps.")
        if xray_lines is not None:
            wanted = [str(v) for v in xray_lines]
            names = [_line_name(m, f"map {i}") for i, m in enumerate(maps)]
            missing = [w for w in wanted if w not in names]
            if missing:
                raise ValueError(f"Lines {missing} are not among the maps {names}.")
            maps = [m for m, n in zip(maps, names, strict=True) if n in wanted]
        return maps
    return element_maps(eds, xray_lines, **map_kwargs)


@dataclass
class MapCorrelation:
    """Pixel-by-pixel correlation of two sets of maps on one grid.

    Attributes
    ----------
    names : list of str
        Rows (e.g. X-ray lines).
    labels : list of str
        Columns (e.g. loading maps).
    pearson, spearman : numpy.ndarray
        Shape (len(names), len(labels)).
    n_pixels : int
        Pixels finite in every map (the registered EDS field of view).
    registration : EDSRegistration or None
        Set by :func:`correlate_eds`.
    quantities_a, quantities_b : list of (str or None)
        Value label with unit of each map / loading (``metadata.Signal.quantity``
        when it names a unit in parentheses), used by :meth:`plot_pair`.

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import pyxem_epdf as epdf
    >>> x = np.arange(16.0).reshape(4, 4)
    >>> maps = [hs.signals.Signal2D(x), hs.signals.Signal2D(-x)]
    >>> c = epdf.eds.correlate(maps, [hs.signals.Signal2D(x ** 2)], names=["Zn_Ka", "Al_Ka"])
    >>> c.names, c.labels, c.n_pixels, c.pearson.shape
    (['Zn_Ka', 'Al_Ka'], ['loading 0'], 16, (2, 1))
    >>> print(c)
    Pearson / Spearman r       loading 0
    Zn_Ka                    +0.96/+1.00
    Al_Ka                    -0.96/-1.00
    (16 pixels)
    """

    names: list
    labels: list
    pearson: np.ndarray
    spearman: np.ndarray
    n_pixels: int
    values_a: np.ndarray = field(repr=False)
    values_b: np.ndarray = field(repr=False)
    registration: object = field(default=None, repr=False)
    quantities_a: list = field(default=None, repr=False)
    quantities_b: list = field(default=None, repr=False)

    def __str__(self):
        width = max(14, *(len(lab) + 2 for lab in self.labels))
        head = f"{'Pearson / Spearman r':<22}" + "".join(f"{lab:>{width}}" for lab in self.labels)
        rows = [head]
        for i, name in enumerate(self.names):
            cells = "".join(
                f"{f'{self.pearson[i, j]:+.2f}/{self.spearman[i, j]:+.2f}':>{width}}"
                for j in range(len(self.labels))
            )
            rows.append(f"{name:<22}{cells}")
        rows.append(f"({self.n_pixels} pixels)")
        return "\n".join(rows)

    def r(self, name, label, kind="pearson"):
        """Correlation coefficient of one pair.

        Parameters
        ----------
        name : str
            Row name (e.g. ``"Zn_Ka"``).
        label : str
            Column label (e.g. ``"loading 0"``).
        kind : {"pearson", "spearman"}

        Returns
        -------
        float

        Examples
        --------
        >>> import numpy as np, hyperspy.api as hs
        >>> import pyxem_epdf as epdf
        >>> x = np.arange(16.0).reshape(4, 4)
        >>> c = epdf.eds.correlate([hs.signals.Signal2D(x)], [hs.signals.Signal2D(np.exp(-x))],
        ...                        names=["Zn_Ka"], labels=["glass"])
        >>> round(c.r("Zn_Ka", "glass"), 3), c.r("Zn_Ka", "glass", kind="spearman")
        (-0.593, -1.0)
        """
        if kind not in ("pearson", "spearman"):
            raise ValueError(f"'kind' must be 'pearson' or 'spearman'; got {kind!r}.")
        for what, value, pool in (("name", name, self.names), ("label", label, self.labels)):
            if value not in pool:
                raise ValueError(f"'{what}' must be one of {pool}; got {value!r}.")
        return float(getattr(self, kind)[self.names.index(name), self.labels.index(label)])

    def plot_pair(self, name, label, *, bins=40, ax=None):
        """2-D histogram of one element map against one loading map.

        Parameters
        ----------
        name, label : str
            The pair, as in :meth:`r`.
        bins : int
            Histogram bins per axis.
        ax : matplotlib.axes.Axes, optional
            Default a new figure with ``layout="constrained"``.

        Returns
        -------
        matplotlib.figure.Figure
            With a colour bar of the number of probe positions per bin.

        Examples
        --------
        >>> import matplotlib.pyplot as plt, numpy as np, hyperspy.api as hs
        >>> import pyxem_epdf as epdf
        >>> x = np.arange(16.0).reshape(4, 4)
        >>> c = epdf.eds.correlate([hs.signals.Signal2D(x)], [hs.signals.Signal2D(x ** 2)],
        ...                        names=["Zn_Ka"], labels=["ZIF"])
        >>> fig = c.plot_pair("Zn_Ka", "ZIF", bins=4)
        >>> ax, cbar = fig.axes
        >>> ax.get_xlabel(), ax.get_ylabel(), ax.get_title()
        ('ZIF loading (a.u.)', 'Zn_Ka intensity (counts)', 'r = +0.96, ρ = +1.00')
        >>> cbar.get_ylabel()
        'probe positions per bin (counts)'
        >>> plt.close("all")

        The value labels come from each map's ``metadata.Signal.quantity``
        when it names a unit in parentheses; otherwise element maps are
        taken as counts (exspy's ``get_lines_intensity``) and loadings as
        arbitrary units.
        """
        import matplotlib.pyplot as plt

        r = self.r(name, label)
        i, j = self.names.index(name), self.labels.index(label)
        if ax is None:
            _, ax = plt.subplots(figsize=(3.8, 3.0), layout="constrained")
        *_, mesh = ax.hist2d(self.values_b[j], self.values_a[i], bins=int(bins),
                             cmap="viridis", cmin=1)
        qa = (self.quantities_a or [None] * len(self.names))[i]
        qb = (self.quantities_b or [None] * len(self.labels))[j]
        ax.set_xlabel(f"{label} {qb}" if qb else f"{label} loading (a.u.)")
        ax.set_ylabel(f"{name} {qa}" if qa else f"{name} intensity (counts)")
        ax.figure.colorbar(mesh, ax=ax, label="probe positions per bin (counts)")
        ax.set_title(f"r = {r:+.2f}, ρ = {self.r(name, label, 'spearman'):+.2f}", fontsize=9)
        return ax.figure

    def plot(self, *, bins=40):
        """Grid of 2-D histograms: one panel per (map, loading) pair.

        Parameters
        ----------
        bins : int
            Histogram bins per axis.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt

        na, nb = len(self.names), len(self.labels)
        fig, axes = plt.subplots(na, nb, figsize=(3.6 * nb, 2.8 * na), squeeze=False,
                                 layout="constrained")
        for i, name in enumerate(self.names):
            for j, label in enumerate(self.labels):
                self.plot_pair(name, label, bins=bins, ax=axes[i, j])
        return fig


def _loading_stack(loadings, labels):
    """(list of 2-D arrays, labels, template) from an Unmixing, a stack or a list."""
    if hasattr(loadings, "loadings") and hasattr(loadings, "components"):  # an Unmixing
        loadings = loadings.loadings
    if isinstance(loadings, (list, tuple)):
        images = list(loadings)
    else:
        am = loadings.axes_manager
        if am.navigation_dimension == 1 and am.signal_dimension == 2:
            images = [loadings.inav[i] for i in range(am.navigation_shape[0])]
        else:
            images = [loadings]
    if labels is None:
        labels = [f"loading {i}" for i in range(len(images))]
    labels = [str(v) for v in labels]
    if len(labels) != len(images):
        raise ValueError(f"'labels' needs {len(images)} entries; got {len(labels)}.")
    return images, labels


def correlate(maps, loadings, *, names=None, labels=None):
    """Pearson and Spearman r of every map with every loading map (same grid).

    Parameters
    ----------
    maps : list of Signal2D
        E.g. :attr:`EDSRegistration.maps`; NaN pixels (outside the EDS field
        of view) are left out.
    loadings : Unmixing, Signal2D stack or list of Signal2D
        Loading maps on the same grid (an :class:`~pyxem_epdf.mapping.Unmixing`
        gives its ``loadings``).
    names : list of str, optional
        Row names (default the maps' X-ray lines or titles).
    labels : list of str, optional
        Column labels (default ``"loading 0"``, …).

    Returns
    -------
    MapCorrelation

    Examples
    --------
    >>> import numpy as np, hyperspy.api as hs
    >>> import pyxem_epdf as epdf
    >>> a = hs.signals.Signal2D(np.arange(16.0).reshape(4, 4))
    >>> c = epdf.eds.correlate([a], [a ** 2], names=["Zn_Ka"])
    >>> round(c.r("Zn_Ka", "loading 0"), 3), c.r("Zn_Ka", "loading 0", "spearman")
    (0.965, 1.0)
    """
    maps = list(maps)
    images, labels = _loading_stack(loadings, labels)
    names = [_line_name(m, f"map {i}") for i, m in enumerate(maps)] if names is None else \
        [str(v) for v in names]
    if len(names) != len(maps):
        raise ValueError(f"'names' needs {len(maps)} entries; got {len(names)}.")
    a = np.stack([_dense(m.data) for m in maps])
    b = np.stack([_dense(m.data) for m in images])
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(
            f"Maps {a.shape[1:]} and loadings {b.shape[1:]} are on different grids; register "
            "the maps first (register_eds)."
        )
    pearson, spearman, n = _reg.correlation_table(a, b)
    keep = np.isfinite(a).all(0) & np.isfinite(b).all(0)
    return MapCorrelation(names, labels, pearson, spearman, n, a[:, keep], b[:, keep],
                          quantities_a=[_quantity(m, None) for m in maps],
                          quantities_b=[_quantity(m, None) for m in images])


@dataclass
class EDSRegistration:
    """EDS maps brought onto the ePDF scan grid by :func:`register_eds`.

    Attributes
    ----------
    maps : list of hyperspy.signals.Signal2D
        One map per line on the scan grid (scan calibration); NaN outside the
        EDS field of view. ``metadata.ePDF.eds_registration`` records the
        parameters.
    names : list of str
        X-ray line (or title) of each map.
    shift : numpy.ndarray
        Drift (x, y) in nm: true EDS positions = nominal (calibrated) + shift.
    scale : numpy.ndarray
        EDS step / scan step (x, y), from the two calibrations.
    ncc : float
        Normalised cross-correlation of the two shared images at the shift.
    overlap : float
        Overlapping fraction of the smaller field of view.
    reference : hyperspy.signals.Signal2D
        The EDS-side shared image on the scan grid.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(24, 24), detector_shape=(32, 32))
    >>> eds = epdf.data.synthetic_eds(synth, drift=(4.0, -3.0), n_channels=1024)
    >>> reg = epdf.eds.register_eds(eds.spectrum, eds.scan_haadf, eds.haadf)
    >>> reg.names, reg.scale.tolist(), reg.overlap, reg.ncc > 0.9
    (['Al_Ka', 'Na_Ka', 'P_Ka', 'Zn_Ka'], [1.5, 1.5], 1.0, True)
    >>> reg.maps[0].data.shape, reg.reference.data.shape   # on the 24 x 24 scan grid
    ((24, 24), (24, 24))
    """

    maps: list = field(repr=False)
    names: list
    shift: np.ndarray
    scale: np.ndarray
    ncc: float
    overlap: float
    reference: object = field(repr=False)
    scan_image: object = field(repr=False)

    def correlate(self, loadings, *, labels=None):
        """:func:`correlate` of the registered maps with loading maps.

        Parameters
        ----------
        loadings : Unmixing, Signal2D stack or list of Signal2D
        labels : list of str, optional

        Returns
        -------
        MapCorrelation

        Examples
        --------
        >>> import hyperspy.api as hs
        >>> import pyxem_epdf as epdf
        >>> synth = epdf.data.two_phase_composite(nav_shape=(24, 24), detector_shape=(32, 32))
        >>> eds = epdf.data.synthetic_eds(synth, n_channels=1024)
        >>> reg = epdf.eds.register_eds(eds.spectrum, eds.scan_haadf, eds.haadf)
        >>> truth = hs.signals.Signal2D(synth.fractions.transpose(2, 0, 1))  # stand-in loadings
        >>> corr = reg.correlate(truth, labels=["ZIF", "glass"])
        >>> corr.registration is reg, corr.labels
        (True, ['ZIF', 'glass'])
        >>> corr.r("Zn_Ka", "ZIF") > 0.8, corr.r("Al_Ka", "glass") > 0.8
        (True, True)
        """
        out = correlate(self.maps, loadings, names=self.names, labels=labels)
        out.registration = self
        return out

    def plot(self):
        """Scan image, registered EDS image and their overlay (magenta/green).

        Returns
        -------
        matplotlib.figure.Figure
            Three panels on the scan's calibrated axes (``x (nm)``, ``y (nm)``;
            ``px`` when uncalibrated) with ``layout="constrained"``; the two
            grey images have colour bars of the intensity normalised to their
            1–99 % percentile range, the overlay a legend naming its colours.

        Examples
        --------
        >>> import matplotlib.pyplot as plt
        >>> import pyxem_epdf as epdf
        >>> synth = epdf.data.two_phase_composite(nav_shape=(24, 24), detector_shape=(32, 32))
        >>> eds = epdf.data.synthetic_eds(synth, n_channels=1024)
        >>> fig = epdf.eds.register_eds(eds.spectrum, eds.scan_haadf, eds.haadf).plot()
        >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
        ('x (nm)', 'y (nm)')
        >>> plt.close(fig)
        """
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch

        from .report import _extent

        def norm(img):
            img = _dense(img)
            lo, hi = np.nanpercentile(img, [1, 99])
            return np.clip((img - lo) / (hi - lo if hi > lo else 1.0), 0, 1)

        am = self.scan_image.axes_manager
        grid = am.signal_axes if am.signal_dimension == 2 else am.navigation_axes
        extent, xlabel, ylabel = _extent(*grid[:2])
        a, b = norm(self.scan_image.data), norm(self.reference.data)
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
        cbar = "intensity, 1–99 % range (normalized)"
        for ax, img, title in ((axes[0], a, "scan image"), (axes[1], b, "EDS image, registered")):
            im = ax.imshow(img, cmap="gray", extent=extent, vmin=0, vmax=1,
                           interpolation="nearest")
            ax.set_title(title, fontsize=9)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03, label=cbar)
        rgb = np.stack([a, np.nan_to_num(b), a], axis=-1)
        axes[2].imshow(rgb, extent=extent, interpolation="nearest")
        axes[2].set_title(f"overlay, shift ({self.shift[0]:.1f}, {self.shift[1]:.1f}) nm",
                          fontsize=9)
        axes[2].legend(handles=[Patch(color="m", label="scan image"),
                                Patch(color="lime", label="EDS image"),
                                Patch(facecolor="w", edgecolor="0.5", label="both")],
                       fontsize=7, loc="lower right", framealpha=0.8)
        for ax in axes:
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
        return fig


def _on_scan_grid(data, eds_origin, eds_step, scan_sig, scan_origin, scan_step, shift, title):
    import hyperspy.api as hs

    shape = scan_sig.data.shape
    out = _reg.resample_image(_dense(data), eds_origin, eds_step, scan_origin, scan_step, shape,
                              shift=shift)
    sig = hs.signals.Signal2D(out)
    src = (scan_sig.axes_manager.signal_axes if scan_sig.axes_manager.signal_dimension == 2
           else scan_sig.axes_manager.navigation_axes)
    copy_axes(src, sig.axes_manager.signal_axes)
    sig.metadata.General.title = title
    return sig


def register_eds(eds, scan_image, eds_image, *, xray_lines=None, upsample=20, min_overlap=0.3,
                 highpass_sigma=3.0, normalize=None, **map_kwargs):
    """Register EDS element maps to the ePDF scan grid.

    Parameters
    ----------
    eds : EDSTEMSpectrum or list of Signal2D
        A spectrum image (maps are made with :func:`element_maps`) or element
        maps already made, with calibrated navigation/signal axes.
    scan_image : Signal2D or navigation-shaped signal
        Image on the ePDF scan grid: the vADF
        (:func:`~pyxem_epdf.signals.virtual_adf`), a HAADF recorded with the
        scan, or one loading map (``unmixing.loadings.inav[k]``).
    eds_image : Signal2D or str
        The matching image on the EDS grid: the HAADF recorded with the EDS
        map, or the name of an element map (``"Zn_Ka"``) to register against a
        loading map that follows it.
    xray_lines : list of str, optional
        Lines to map (default: from the EDS metadata).
    upsample : int
        Sub-pixel precision of the drift, 1/``upsample`` scan pixel.
    min_overlap : float
        Smallest overlapping fraction of the smaller field of view (0–1].
    highpass_sigma : float
        σ (scan pixels) of the high-pass filter applied to both shared images
        before registration, so smooth thickness trends do not dominate.
    normalize : None, "eds_image" or Signal2D
        Divide every registered map by the registered ``eds_image`` (a HAADF
        is ∝ mass thickness, so counts per HAADF follow composition, not
        thickness) or by a map on the scan grid (e.g. the fitted scale N,
        ``phi.metadata.ePDF.fit.N``: counts per scattering atom). ``None``
        keeps counts.
    **map_kwargs
        Passed to :func:`element_maps` (background windows etc.).

    Returns
    -------
    EDSRegistration

    Raises
    ------
    ValueError
        Fields of view that do not overlap (from the calibrations, or at the
        best shift), missing elements in the EDS metadata, axes without length
        units.

    Notes
    -----
    Lazy spectrum images are reduced to maps here (one pass through
    ``dask.compute`` for all maps): registration needs the map values.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(24, 24), detector_shape=(32, 32))
    >>> eds = epdf.data.synthetic_eds(synth, drift=(4.0, -3.0), n_channels=1024)
    >>> reg = epdf.eds.register_eds(eds.spectrum, eds.scan_haadf, eds.haadf)
    >>> [round(float(v)) for v in reg.shift], reg.scale.tolist()
    ([4, -3], [1.5, 1.5])
    """
    import dask

    maps = _as_maps(eds, xray_lines, map_kwargs)
    names = [_line_name(m, f"map {i}") for i, m in enumerate(maps)]
    if isinstance(eds_image, str):
        key = eds_image
        if key not in names:
            matches = [n for n in names if n.split("_")[0] == key]
            if len(matches) != 1:
                raise ValueError(f"'eds_image' {key!r} is not one of the maps {names}.")
            key = matches[0]
        eds_img = maps[names.index(key)]
        ref_name = key
    else:
        eds_img = eds_image
        ref_name = str(eds_image.metadata.get_item("General.title", "EDS image"))
    scan_data, scan_origin, scan_step = _image_grid(scan_image, "scan_image")
    eds_data, eds_origin, eds_step = _image_grid(eds_img, "eds_image")
    map_grids = [_image_grid(m, f"element map {n}") for m, n in zip(maps, names, strict=True)]
    for (_, o, s), n in zip(map_grids, names, strict=True):
        if not (np.allclose(o, eds_origin) and np.allclose(s, eds_step)):
            raise ValueError(f"Element map {n} is not on the grid of 'eds_image' (origin "
                             f"{o.tolist()} vs {eds_origin.tolist()} nm, step {s.tolist()} vs "
                             f"{eds_step.tolist()} nm).")
    computed = dask.compute(scan_data, eds_data, *[g[0] for g in map_grids])
    scan_arr, eds_arr, map_arrs = _dense(computed[0]), _dense(computed[1]), computed[2:]
    result = _reg.register_grids(scan_arr, scan_origin, scan_step, eds_arr, eds_origin, eds_step,
                                 upsample=upsample, min_overlap=min_overlap,
                                 highpass_sigma=highpass_sigma)
    record = {
        "shift_nm": result.shift.tolist(),
        "scale": result.scale.tolist(),
        "ncc": float(result.ncc),
        "overlap": float(result.overlap),
        "eds_image": ref_name,
        "eds_origin_nm": eds_origin.tolist(),
        "eds_step_nm": eds_step.tolist(),
        "upsample": int(upsample),
        "min_overlap": float(min_overlap),
        "highpass_sigma": float(highpass_sigma),
        "normalize": None if normalize is None else (
            normalize if isinstance(normalize, str)
            else str(normalize.metadata.get_item("General.title", "map"))),
    }
    reference = _on_scan_grid(eds_arr, eds_origin, eds_step, scan_image, scan_origin, scan_step,
                              result.shift, f"{ref_name} (registered to the scan)")
    if normalize is None:
        divisor = None
    elif isinstance(normalize, str):
        if normalize != "eds_image":
            raise ValueError(f"'normalize' must be None, 'eds_image' or a map; got {normalize!r}.")
        divisor = _dense(reference.data)
    else:
        divisor = _dense(normalize.data)
        if divisor.shape != scan_arr.shape:
            raise ValueError(f"'normalize' map has shape {divisor.shape}; the scan grid is "
                             f"{scan_arr.shape}.")
    if divisor is not None and np.any(divisor[np.isfinite(divisor)] <= 0):
        raise ValueError("'normalize' must be > 0 wherever it is finite (it divides the maps).")
    out_maps = []
    for arr, name in zip(map_arrs, names, strict=True):
        sig = _on_scan_grid(arr, eds_origin, eds_step, scan_image, scan_origin, scan_step,
                            result.shift, f"{name} (registered to the scan)")
        if divisor is not None:
            sig.data = sig.data / divisor
        if "_" in name:
            sig.metadata.set_item("Sample.xray_lines", [name])
        sig.metadata.set_item("ePDF.eds_registration", dict(record))
        out_maps.append(sig)
    return EDSRegistration(out_maps, names, result.shift, result.scale, float(result.ncc),
                           float(result.overlap), reference, scan_image)


def correlate_eds(eds, loadings, *, scan_image, eds_image, labels=None, xray_lines=None,
                  **kwargs):
    """EDS element maps vs loading maps in one call: maps, registration, correlation.

    Parameters
    ----------
    eds : EDSTEMSpectrum or list of Signal2D
        As in :func:`register_eds`.
    loadings : Unmixing, Signal2D stack or list of Signal2D
        Loading maps on the ePDF scan grid.
    scan_image, eds_image
        The shared image on each grid, as in :func:`register_eds`.
    labels : list of str, optional
        Loading labels (e.g. ``["ZIF", "glass"]``).
    xray_lines : list of str, optional
    **kwargs
        Passed to :func:`register_eds`.

    Returns
    -------
    MapCorrelation
        With ``.registration`` holding the :class:`EDSRegistration`.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(24, 24), detector_shape=(32, 32))
    >>> eds = epdf.data.synthetic_eds(synth, n_channels=1024)
    >>> import hyperspy.api as hs
    >>> truth = hs.signals.Signal2D(synth.fractions.transpose(2, 0, 1))   # stand-in loadings
    >>> for ax in truth.axes_manager.signal_axes:
    ...     ax.units, ax.scale = "nm", 5.0
    >>> corr = epdf.eds.correlate_eds(eds.spectrum, truth, labels=["ZIF", "glass"],
    ...                               scan_image=truth.inav[0], eds_image="Zn_Ka")
    >>> corr.r("Zn_Ka", "ZIF") > 0.9, corr.r("Al_Ka", "glass") > 0.9
    (True, True)
    """
    reg = register_eds(eds, scan_image, eds_image, xray_lines=xray_lines, **kwargs)
    return reg.correlate(loadings, labels=labels)
