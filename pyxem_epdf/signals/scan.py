"""Per-probe-position maps of a 4D-STEM scan: virtual ADF and dose.

Both are linear in the frames and use the same sparse pixel → s operator as
:func:`pyxem_epdf.signals.azimuthal_profile`: the virtual annular dark field
is the count in an s annulus (the paper's Fig. 3a uses 1.5–2.5 Å⁻¹); the dose
is the total count per pattern divided by a detector conversion factor and by
the probe area. Lazy in, lazy out.
"""

import math
import warnings
from collections.abc import Sequence
from copy import deepcopy

import numpy as np

from ..physics import integration
from . import _base
from .profile import s_unit_factor_checked_axis

#: Elementary charge in C.
ELEMENTARY_CHARGE = 1.602176634e-19


def _frames(dp):
    axes = dp.axes_manager.signal_axes
    if len(axes) != 2:
        raise ValueError("'dp' must have two signal (detector) axes.")
    return axes


def virtual_adf(dp, s_range=(1.5, 2.5), *, mask=None, subpixel=1, center=(0.0, 0.0)):
    """Virtual annular dark-field image: counts with s in ``s_range`` per pattern.

    Parameters
    ----------
    dp : pyxem Diffraction2D (eager or lazy)
        Detector axes calibrated in s (Å⁻¹ or nm⁻¹).
    s_range : tuple of float
        (inner, outer) s in Å⁻¹.
    mask : array_like of bool, optional
        Detector pixels to exclude.
    subpixel : int
        Sub-squares per pixel side for the annulus edges (pixels on an edge
        count with the fraction of their area inside the annulus).
    center : tuple of float
        (kx0, ky0) pattern centre in Å⁻¹.

    Returns
    -------
    hyperspy.signals.BaseSignal
        Navigation-shaped map (Signal2D for 2-D scans) with the scan
        calibration, lazy if ``dp`` is.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(3, 4), detector_shape=(64, 64))
    >>> epdf.signals.virtual_adf(synth.signal, (0.5, 1.2)).data.shape
    (3, 4)
    """
    axes = _frames(dp)
    lo, hi = map(float, s_range)
    if not 0 <= lo < hi:
        raise ValueError(f"'s_range' must satisfy 0 <= inner < outer (Å⁻¹); got {tuple(s_range)}.")
    kx, ky = (np.asarray(a.axis) * s_unit_factor_checked_axis(a) for a in axes)
    op = integration.radial_operator(kx, ky, [lo, hi], mask=mask, subpixel=subpixel, center=center)
    if op.n_valid[0] == 0:
        raise ValueError(f"'s_range' {tuple(s_range)} Å⁻¹ contains no detector pixel.")
    res = integration.integrate(dp.data, op)
    image = res.mean[..., 0] * res.n_valid[0]
    out = _base.nav_signal(dp, image, f"vADF {lo:g}–{hi:g} Å⁻¹")
    out.metadata.set_item("ePDF.vadf", {"s_range": [lo, hi], "n_pixels": float(res.n_valid[0])})
    return out


def electrons_from_beam(current, dwell_time):
    """Electrons per pattern from beam current and dwell time.

    Parameters
    ----------
    current : float
        Beam current in pA.
    dwell_time : float
        Dwell time per probe position in s.

    Returns
    -------
    float
        Electrons per pattern, I t / e.

    Examples
    --------
    >>> round(electrons_from_beam(10.0, 1e-3))   # 10 pA for 1 ms
    62415
    """
    if not (current > 0 and dwell_time > 0):
        raise ValueError(
            f"'current' (pA) and 'dwell_time' (s) must be > 0; got {current}, {dwell_time}."
        )
    return current * 1e-12 * dwell_time / ELEMENTARY_CHARGE


def dose_map(dp, *, probe_diameter=None, counts_per_electron=1.0, mask=None):
    """Electrons per pattern and dose (e⁻/Å²) at every probe position.

    Parameters
    ----------
    dp : pyxem Diffraction2D (eager or lazy)
        The scan (raw counts).
    probe_diameter : float, optional
        Probe diameter in nm; default
        ``metadata.Acquisition_instrument.TEM.probe_diameter``.
    counts_per_electron : float
        Detector conversion (1 for counting detectors such as Medipix3).
    mask : array_like of bool, optional
        Detector pixels to exclude from the count (hot pixels, gaps).

    Returns
    -------
    electrons, dose : BaseSignal
        Navigation-shaped maps: electrons per pattern and e⁻/Å² (electrons /
        π (d/2)²), with the parameters in ``metadata.ePDF.dose``.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(3, 3), detector_shape=(64, 64))
    >>> electrons, dose = epdf.signals.dose_map(synth.signal)
    >>> 9 < float(dose.data.mean()) < 11   # generated at 10 e⁻/Å²
    True
    """
    _frames(dp)
    if probe_diameter is None:
        probe_diameter = dp.metadata.get_item("Acquisition_instrument.TEM.probe_diameter", None)
        if probe_diameter is None:
            raise ValueError(
                "'probe_diameter' (nm) is needed: pass it or set "
                "metadata.Acquisition_instrument.TEM.probe_diameter."
            )
    if not (probe_diameter > 0 and counts_per_electron > 0):
        raise ValueError(
            f"'probe_diameter' (nm) and 'counts_per_electron' must be > 0; got "
            f"{probe_diameter}, {counts_per_electron}."
        )
    data = dp.data
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != tuple(data.shape[-2:]):
            raise ValueError(f"'mask' must have the detector shape {tuple(data.shape[-2:])}.")
        data = data * ~mask
    counts = data.sum(axis=(-2, -1), dtype=np.float64)
    electrons = counts / float(counts_per_electron)
    area = math.pi * (10.0 * float(probe_diameter) / 2) ** 2  # Å²
    e_map = _base.nav_signal(dp, electrons, "electrons per pattern")
    d_map = _base.nav_signal(dp, electrons / area, "dose (e⁻/Å²)")
    params = {"probe_diameter_nm": float(probe_diameter), "probe_area_A2": area,
              "counts_per_electron": float(counts_per_electron),
              "masked_pixels": int(0 if mask is None else mask.sum())}
    for sig in (e_map, d_map):
        sig.metadata.set_item("ePDF.dose", params)
    return e_map, d_map


def detector_mask(dp, *, hot_threshold=8.0, dead_min_counts=None, quad_gaps=False,
                  beam_stop_radius=None, user_mask=None, center=(0.0, 0.0), summed=None,
                  detector=None, show_progressbar=None):
    """Mask of pixels to exclude, found on the scan-summed pattern.

    Hot and dead pixels are judged ring by ring against the median and MAD
    of the pixels not already excluded (gaps, beam stop, ``user_mask``):
    excluded pixels enter neither the statistics nor the hot/dead counts, so
    a dark user-masked sector does not pull a ring's median down (before:
    with a 40-px-wide user-masked beam-stop arm at 45° on the synthetic
    composite, 302 of 12,912 good pixels, 2.3 %, were flagged hot; now 0).

    Parameters
    ----------
    dp : pyxem Diffraction2D (eager or lazy)
        The scan; its sum over all probe positions is computed (one pass)
        unless ``summed`` is given.
    hot_threshold, dead_min_counts : float
        See :func:`pyxem_epdf.physics.detector.bad_pixels`.
    quad_gaps : bool
        Also mask the inter-chip gaps of a 2 × 2 Medipix3 (515 × 515).
    beam_stop_radius : float, optional
        Mask the central disk / beam stop up to this s (Å⁻¹).
    user_mask : array_like of bool, optional
        Any further pixels to exclude (left out of the hot/dead statistics).
    center : tuple of float
        (kx0, ky0) pattern centre in Å⁻¹.
    summed : array_like, optional
        The scan-summed pattern (counts, detector shape), e.g. from
        :func:`pyxem_epdf.signals.calibration.scan_sum`, so the scan is not
        read again; default: summed here.
    detector : str, optional
        Also mask the gaps of this detector by name
        (:func:`pyxem_epdf.physics.detector.gap_mask`, e.g. ``"merlin_quad"``,
        ``"eiger_1m"``); counted under ``gaps``.
    show_progressbar : bool, optional
        Progress bar for a lazy sum.

    Returns
    -------
    mask : numpy.ndarray of bool
        True = exclude; pass it to :func:`azimuthal_profile`.
    report : dict
        Number of pixels per reason (``hot``, ``dead``, ``gaps``,
        ``beam_stop``, ``user``) and ``total``; hot and dead pixels are
        counted only outside the other masks.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(4, 4), detector_shape=(64, 64))
    >>> mask, report = epdf.signals.detector_mask(synth.signal, beam_stop_radius=0.1)
    >>> report["hot"], report["dead"], report["beam_stop"] > 0
    (0, 0, True)
    >>> total = synth.signal.data.sum(axis=(0, 1), dtype=float)      # summed once, elsewhere
    >>> again, _ = epdf.signals.detector_mask(synth.signal, beam_stop_radius=0.1, summed=total)
    >>> bool((again == mask).all())
    True
    """
    from ..physics import detector as _det

    axes = _frames(dp)
    factors = [s_unit_factor_checked_axis(a) for a in axes]
    kx, ky = (np.asarray(a.axis) * f for a, f in zip(axes, factors, strict=True))
    yy, xx = np.meshgrid(ky - center[1], kx - center[0], indexing="ij")
    s_pix = np.hypot(xx, yy)
    shape = tuple(dp.data.shape[-2:])
    if summed is None:
        summed = dp.data.sum(axis=tuple(range(dp.data.ndim - 2)), dtype=np.float64)
        if _base.is_dask(summed):
            summed = _base.compute(summed, show_progressbar=show_progressbar)
    else:
        if _base.is_dask(summed):
            summed = _base.compute(summed, show_progressbar=show_progressbar)
        summed = np.asarray(summed)
        if summed.shape != shape or summed.dtype.kind not in "uif":
            raise ValueError(f"'summed' must be a real pattern of the detector shape {shape}; "
                             f"got shape {summed.shape} and dtype {summed.dtype}.")
        summed = summed.astype(np.float64, copy=False)
    gaps = _det.quad_gap_mask(shape) if quad_gaps else np.zeros(shape, bool)
    if detector is not None:
        gaps = gaps | _det.gap_mask(detector, shape=shape)
    user = np.zeros(shape, bool) if user_mask is None else np.asarray(user_mask, bool)
    if user.shape != shape:
        raise ValueError(f"'user_mask' must have the detector shape {shape}; got {user.shape}.")
    stop = np.zeros(shape, bool) if beam_stop_radius is None else s_pix < float(beam_stop_radius)
    hot, dead = _det.bad_pixels(summed, s_pix / abs(kx[1] - kx[0]),
                                hot_threshold=hot_threshold,
                                dead_min_counts=dead_min_counts, exclude=gaps | stop | user)
    mask = hot | dead | gaps | stop | user
    report = {"hot": int(hot.sum()), "dead": int(dead.sum()), "gaps": int(gaps.sum()),
              "beam_stop": int(stop.sum()), "user": int(user.sum()), "total": int(mask.sum())}
    return mask, report


class Descan(Sequence):
    """Result of :func:`descan`: ``measured``, ``plane`` (pyxem ``BeamShift``) and ``residual``.

    A sequence of three signals that unpacks, indexes and iterates like the
    tuple ``(measured, plane, residual)``. :func:`descan` stores the arrays,
    the parameters and copies of the scan's axes; each signal is built the
    first time it is read (``result.plane``, ``result[1]``, unpacking,
    iterating) and then kept, so reading it twice gives the same object.
    HyperSpy's constructions (axes, trait observers; a ``BeamShift`` also
    gets its copy of the detector axes for ``metadata.Shifts.signal_axes``)
    take ~3 ms per ``BeamShift`` and ~2 ms for the residual map, 6.3–6.5 ms
    for the three: 1.6× the measurement itself at 48×48×128² (4.0 ms;
    ``benchmarks/bench_descan.py --route``). :func:`~pyxem_epdf.azimuthal_profile` and
    :func:`~pyxem_epdf.signals.fit_distortion` read the plane's array directly
    when given the result itself (``beam_shift=descan(dp)``), so nothing is
    built on that route. The signals are the ones :func:`descan` built before
    this deferral (same data, axes, metadata, class); later edits of the scan
    do not change them. ``repr`` shows them without building them. A result
    pickles (the tuple of signals did not) as what its signals are built from:
    an unpickled copy builds them afresh from the arrays (in-place edits of
    their data are kept, other edits of a signal already built are not);
    ``copy.copy`` shares the signals already built, ``copy.deepcopy`` copies them.

    Parameters
    ----------
    measured, plane, residual : BaseSignal
        The three signals (a result built from signals already made; the
        constructor :func:`descan` uses is private).

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(3, 3), detector_shape=(64, 64))
    >>> result = epdf.signals.descan(synth.signal)
    >>> result
    Descan(measured=<BeamShift, title: measured beam shift, dimensions: (3, 3|2)>, plane=<BeamShift, title: descan plane, dimensions: (3, 3|2)>, residual=<Signal2D, title: descan residual (px), dimensions: (|3, 3)>)
    >>> measured, plane, residual = result          # unpacks like a tuple
    >>> plane is result.plane is result[1], type(plane).__name__, len(result)
    (True, 'BeamShift', 3)
    """

    _fields = ("measured", "plane", "residual")
    __slots__ = ("_recipe", "_signals")

    def __init__(self, measured, plane, residual):
        self._recipe = None
        self._signals = {"measured": measured, "plane": plane, "residual": residual}

    @classmethod
    def _deferred(cls, recipe):
        """A result whose signals ``recipe`` (:class:`_DescanRecipe`) builds on first access."""
        out = cls.__new__(cls)
        out._recipe = recipe
        out._signals = {}
        return out

    def _get(self, name):
        sig = self._signals.get(name)
        if sig is None:
            # setdefault: two threads reading at once still share one signal
            sig = self._signals.setdefault(name, self._recipe.build(name))
        return sig

    @property
    def measured(self):
        """pyxem ``BeamShift``: the measured shift of every pattern (px, pyxem's convention)."""
        return self._get("measured")

    @property
    def plane(self):
        """pyxem ``BeamShift``: the fitted descan plane (px, pyxem's convention)."""
        return self._get("plane")

    @property
    def residual(self):
        """Map of the distance between measured and fitted centre (px)."""
        return self._get("residual")

    def _plane_source(self):
        """``(shifts, detector_axes)`` of the plane without building its signal, or None.

        None when the plane signal exists already (it is then read, as any
        ``BeamShift``) or the result was built from signals. ``detector_axes``:
        (offset, scale, size, units) of the scan's detector axes at
        :func:`descan` time (``metadata.Shifts.signal_axes`` of the signal),
        or None when they are not two uniform axes.
        """
        if self._recipe is None or "plane" in self._signals:
            return None
        return self._recipe.fitted, self._recipe.detector_axes()

    def __len__(self):
        return 3

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self._get(name) for name in self._fields[index])
        return self._get(self._fields[index])

    def __iter__(self):
        return (self._get(name) for name in self._fields)

    def _asdict(self):
        """``{"measured": …, "plane": …, "residual": …}`` (builds the three signals)."""
        return {name: self._get(name) for name in self._fields}

    def __repr__(self):
        parts = []
        for name in self._fields:
            sig = self._signals.get(name)
            parts.append(f"{name}={sig!r}" if sig is not None
                         else f"{name}={self._recipe.describe(name)}")
        return f"Descan({', '.join(parts)})"

    def __reduce__(self):
        if self._recipe is None:
            return (Descan, tuple(self._signals[name] for name in self._fields))
        return (Descan._deferred, (self._recipe,))

    def __copy__(self):
        out = Descan._deferred(self._recipe)
        out._signals = dict(self._signals)
        return out

    def __deepcopy__(self, memo):
        out = Descan._deferred(deepcopy(self._recipe, memo))
        out._signals = {name: sig.deepcopy() for name, sig in self._signals.items()}
        return out


class _DescanRecipe:
    """What the signals of a :class:`Descan` are built from (all captured at :func:`descan` time).

    ``shifts``, ``fitted`` (nav + (2,)), ``dist`` (nav): the arrays;
    ``params``: ``metadata.ePDF.descan``; ``nav``: the scan's navigation-axis
    dicts; ``signal_axes``: ``(tuple type, [(axis class, axis dict), …])`` of
    its detector axes. Each build copies the dicts, so every signal owns its
    axes and metadata.
    """

    __slots__ = ("shifts", "fitted", "dist", "params", "nav", "signal_axes")

    def __init__(self, shifts, fitted, dist, params, nav, signal_axes):
        self.shifts, self.fitted, self.dist = shifts, fitted, dist
        self.params, self.nav, self.signal_axes = params, nav, signal_axes

    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state):
        for k, v in state.items():
            setattr(self, k, v)

    def build(self, name):
        if name == "residual":
            return _residual_signal(self.dist, self.nav, _copy_params(self.params))
        shifts, title = ((self.shifts, "measured beam shift") if name == "measured"
                         else (self.fitted, "descan plane"))
        return _beam_shift_signal(shifts, title, _copy_params(self.params), self.nav,
                                  self.signal_axes)

    def detector_axes(self):
        dicts = [d for _, d in self.signal_axes[1]]
        keys = ("offset", "scale", "size", "units")
        if len(dicts) != 2 or not all(all(k in d for k in keys) for d in dicts):
            return None
        return [tuple(d[k] for k in keys) for d in dicts]

    def describe(self, name):
        """HyperSpy's repr of the signal ``name`` would have, without building it."""
        if name == "residual":
            shape = np.shape(self.dist) or (1,)
            cls = {1: "Signal1D", 2: "Signal2D"}.get(len(self.nav), "BaseSignal")
            title, dims = "descan residual (px)", "|" + ", ".join(map(str, shape[::-1]))
        else:
            cls = "BeamShift"
            title = "measured beam shift" if name == "measured" else "descan plane"
            dims = ", ".join(map(str, self.shifts.shape[:-1][::-1])) + "|2"
        return f"<{cls}, title: {title}, dimensions: ({dims})>"


#: Methods of :func:`descan`.
DESCAN_METHODS = ("window", "full")


def descan(dp, *, method="window", threshold=20.0, fraction=None, margin=None,
           show_progressbar=None):
    """Pattern centres per probe position, their plane fit and the residual map.

    ``method="window"`` (default): the direct-beam disc is located once on a
    few patterns (the scan's corners, edge midpoints and centre, read whole),
    then every pattern's centre is the centre of mass of its pixels at or
    above ``fraction`` × the maximum (and ``threshold`` × the sampled patterns'
    mean count) of a window around the disc (its radius +
    the drift over the sampled positions + ``margin``), one compiled pass
    reading only that window (:func:`pyxem_epdf.physics.geometry.windowed_centres`).
    A pattern whose disc is not contained in the window, or whose window
    maximum does not reach ``threshold`` × the sampled mean count (no disc
    there), falls back to the full-frame centre of mass and its disc is
    looked for again about that centre; where none is found the centre is NaN
    (left out of the plane fit) and a warning says how many. Both counts are
    recorded in ``metadata.ePDF.descan``. Measured on the embedded composite
    (48×48×128², benchmarks/README.md, "Issue 13: windowed descan"): as
    accurate as the full frame (plane vs the true centres 0.001 px; per
    pattern 0.008 vs 0.009 px rms, at 2.5 e⁻/Å² 0.014 vs 0.016, at 256²
    frames and 2.5 e⁻/Å² 0.017 vs 0.054) and reading ~2 % of the pixels.

    ``method="full"``: pyxem's semantics, the centre of mass of the whole
    pattern thresholded at ``threshold`` × its mean count
    (``get_direct_beam_position(method="center_of_mass", threshold=...)``;
    :func:`pyxem_epdf.physics.geometry.beam_centres`, equal to pyxem's).

    The descan is then the least-squares plane over the probe positions (a
    line for a 1-D scan; a single pattern keeps its measured centre),
    :func:`pyxem_epdf.physics.geometry.fit_descan`.

    Parameters
    ----------
    dp : pyxem Diffraction2D (eager or lazy; 0-, 1- or 2-D navigation)
    method : str
        ``"window"`` or ``"full"``.
    threshold : float
        Multiples of the mean count per pixel (> 0). ``"full"``: pixels below
        it (the pattern's own mean) are ignored; ``"window"``: a disc is where
        the window maximum reaches it (the sampled patterns' mean), and the
        full-frame fallback uses it as ``"full"`` does. At ~10 e⁻/Å² the
        unscattered beam holds most electrons, so the thresholded centre is
        precise; without a threshold the diffuse scattering biases it.
    fraction : float, optional
        ``"window"`` only: pixels below this fraction of the window maximum
        (or below ``threshold`` × the sampled mean count) are ignored, in (0, 1); default
        :data:`pyxem_epdf.physics.geometry.WINDOW_FRACTION` (0.01).
    margin : float, optional
        ``"window"`` only: pixels of room around the located disc (≥ 0);
        default :data:`pyxem_epdf.physics.geometry.WINDOW_MARGIN` (3).
    show_progressbar : bool, optional
        Progress bar for lazy input (the centres are computed: they are small).

    Returns
    -------
    Descan
        ``(measured, plane, residual)``, a sequence that unpacks and indexes
        like a tuple, each signal built on first access (:class:`Descan`):
        ``measured`` and ``plane`` are pyxem ``BeamShift`` signals in pyxem's
        convention (pixels; the shift that would centre the pattern on pixel
        (n/2, n/2); (x, y); the detector axes in ``metadata.Shifts.signal_axes``
        as pyxem stores them); pass ``descan(dp)`` (then no signal is built)
        or its ``plane`` to :func:`azimuthal_profile` as ``beam_shift``.
        ``residual`` is the distance between measured and fitted centre per
        probe position in pixels (the map to inspect for diffraction-contrast
        outliers). ``metadata.ePDF.descan`` holds the parameters; for
        ``"window"`` also the window read (``window_rows``, ``window_cols``,
        half-open pixel ranges), ``n_window``, ``n_fallback`` and
        ``n_no_disc``.

    Raises
    ------
    ValueError
        ``"window"`` when none of the sampled patterns shows a disc (a beam
        stop): use :func:`ring_center`, or ``method="full"``.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(4, 5), descan=(3.0, 0.0))
    >>> result = epdf.signals.descan(synth.signal)
    >>> bool(result.residual.data.max() < 0.1), result.plane.data.shape
    (True, (4, 5, 2))
    >>> result.plane.metadata.ePDF.descan.n_fallback
    0
    >>> full = epdf.signals.descan(synth.signal, method="full")   # pyxem's centre of mass
    >>> bool(abs(full.plane.data - result.plane.data).max() < 0.01)
    True
    """
    _frames(dp)
    if method not in DESCAN_METHODS:
        raise ValueError(f"'method' must be one of {DESCAN_METHODS}; got {method!r}.")
    if method == "full" and (fraction is not None or margin is not None):
        raise ValueError("'fraction' and 'margin' apply to method='window' only.")
    window = None
    if method == "window":
        from ..physics import geometry

        window = geometry.disc_window(
            dp.data, threshold,
            fraction=geometry.WINDOW_FRACTION if fraction is None else fraction,
            margin=geometry.WINDOW_MARGIN if margin is None else margin)
    # Sequential: measuring the centres in a worker thread while the signals are built
    # here saved ~1 ms of ~10 at 48×48×128² on a quiet machine but cost 1–5 ms with the
    # 2 cores loaded (load 6, best of 25 alternated), so it is not done.
    shifts, fitted, dist, params = _descan_arrays(dp.data, threshold, window, show_progressbar)
    # The signals are built on first access (Descan): HyperSpy's constructions were
    # ~3/4 of the call (2 BeamShift + the residual map, ~7 of ~10 ms at 48×48×128²).
    recipe = _DescanRecipe(shifts, fitted, dist, params, _nav_dicts(dp), _signal_axes_of(dp))
    if params.get("n_no_disc"):
        warnings.warn(
            f"descan: {params['n_no_disc']} of {np.size(dist)} patterns show no direct-beam "
            "disc (none in the window, none at the full-frame centre of mass): their centres "
            "are NaN and left out of the plane fit. If a beam stop hides the disc, it may cut "
            "the disc of other patterns too: check the residual map, or use ring_center.",
            UserWarning, stacklevel=2)
    return Descan._deferred(recipe)


def _copy_params(params):
    """The parameters dict with its lists copied (each signal's metadata owns its own)."""
    return {k: list(v) if isinstance(v, list) else v for k, v in params.items()}


def _descan_arrays(data, threshold, window, show_progressbar, threads=None):
    """Measured shifts, fitted plane, residual distance and the parameters of :func:`descan`
    (``window``: the located :class:`~pyxem_epdf.physics.geometry.DiscWindow`, or None
    for the full-frame method)."""
    from ..physics import geometry

    method = "full" if window is None else "window"
    params = {"method": method, "threshold": float(threshold)}
    if window is None:
        com = geometry.beam_centres(data, threshold, threads=threads)
        if _base.is_dask(com):
            com = _base.compute(com, show_progressbar=show_progressbar)
        params["estimator"] = "thresholded centre of mass, full frame (pyxem)"
    else:
        com, status, win = geometry.windowed_centres(data, threshold, window=window,
                                                     threads=threads)
        if _base.is_dask(com):
            com, status = _base.compute(com, status, show_progressbar=show_progressbar)
        counts = np.bincount(np.ravel(status), minlength=3)
        params.update({
            "estimator": ("centre of mass in the window of the pixels >= max(fraction × the "
                          "window maximum, threshold × the sampled mean count)"),
            "fraction": win.fraction, "margin": win.margin,
            "window_rows": list(win.rows), "window_cols": list(win.cols),
            "disc_radius": win.radius, "n_window": int(counts[0]),
            "n_fallback": int(counts[1]), "n_no_disc": int(counts[2])})
    ny, nx = data.shape[-2:]
    measured = np.stack([nx / 2 - com[..., 0], ny / 2 - com[..., 1]], axis=-1)
    plane = geometry.fit_descan(measured)
    diff = measured - plane
    params["fit"] = ("plane", "line", "none")[2 - min(measured.ndim - 1, 2)]
    return measured, plane, np.hypot(diff[..., 0], diff[..., 1]), params


def _nav_dicts(dp):
    """Copies of the scan's navigation-axis dicts (later edits of ``dp`` leave them)."""
    return deepcopy(dp.axes_manager._get_navigation_axes_dicts())


def _signal_axes_of(dp):
    """``(tuple type, [(axis class, axis dict), …])`` of the scan's detector axes.

    What ``deepcopy(dp.axes_manager.signal_axes)`` rebuilds (HyperSpy's axis
    ``__deepcopy__`` is ``cls(**axis.get_axis_dictionary())``), captured as
    dicts: ~0.03 ms instead of ~0.6 ms for the two axis objects.
    """
    axes = dp.axes_manager.signal_axes
    return type(axes), [(type(a), deepcopy(a.get_axis_dictionary())) for a in axes]


def _beam_shift_signal(shifts, title, params, nav, signal_axes):
    """A pyxem BeamShift of ``shifts`` with the navigation axes ``nav`` (dicts) and
    pyxem's metadata: ``metadata.Shifts.signal_axes`` the detector axes rebuilt from
    ``signal_axes`` (:func:`_signal_axes_of`), as pyxem's ``get_direct_beam_position``
    stores a deep copy of them; ``params`` in ``metadata.ePDF.descan``."""
    from pyxem.signals import BeamShift

    tuple_type, captured = signal_axes
    axes = deepcopy(nav) + [{"size": 2, "name": "Beam position", "navigate": False}]
    metadata = {"General": {"title": title},
                "Shifts": {"signal_axes": tuple_type(cls(**deepcopy(d)) for cls, d in captured)},
                "ePDF": {"descan": {} if params is None else dict(params)}}
    return BeamShift(shifts, axes=axes, metadata=metadata)


def _residual_signal(dist, nav, params):
    """The residual map as :func:`_base.nav_signals` (1-, 2-D) / :func:`_base.nav_signal`
    make it for a scan with navigation axes ``nav`` (dicts); ``params`` in
    ``metadata.ePDF.descan``."""
    from hyperspy import signals

    n = len(nav)
    data = np.asarray(dist)
    if n in (1, 2):
        cls = signals.Signal1D if n == 1 else signals.Signal2D
        sig = cls(data, axes=[dict(d, navigate=False) for d in deepcopy(nav)])
    elif n == 0:
        sig = signals.BaseSignal(data.reshape((1,)))
    else:
        sig = signals.BaseSignal(data, axes=deepcopy(nav)).T
    sig.metadata.General.title = "descan residual (px)"
    sig.metadata.set_item("ePDF.descan", params)
    return sig


def _beam_shift(dp, shifts, title, params, nav=None):
    """A pyxem BeamShift with the scan's navigation axes and pyxem's metadata.

    ``nav``: the scan's navigation-axis dicts when the caller already has them;
    ``params`` (or None: set later) go to ``metadata.ePDF.descan``.
    ``metadata.Shifts.signal_axes`` is a deep copy of the scan's detector axes,
    as pyxem's ``get_direct_beam_position`` stores it.
    """
    return _beam_shift_signal(shifts, title, params, _nav_dicts(dp) if nav is None else nav,
                              _signal_axes_of(dp))


def ring_center(dp, r_range, *, mask=None, guess=None, search=4.0, distortion=None,
                show_progressbar=None):
    """Centre of the amorphous rings of every pattern, robust to a beam stop.

    Thin wrapper of :func:`pyxem_epdf.physics.geometry.ring_centre`: a
    coarse azimuthal-variance grid search, then Fisher scoring of the rings'
    first azimuthal harmonic, masked pixels left out. Single patterns of the
    synthetic composite (rod beam stop, band 3–40 px): 0.34 px rms at
    10 e⁻/Å² (the Cramér–Rao bound of those counts: 0.30 px), 0.08 px at
    160 e⁻/Å²; 0.1 px is met from ~100 e⁻/Å² on a single pattern, and at
    10 e⁻/Å² on the scan sum (0.005–0.015 px) or on a descan plane fitted
    over the per-pattern centres (0.02 px).

    Parameters
    ----------
    dp : pyxem Diffraction2D (0-, 1- or 2-D navigation; eager or lazy)
        Lazy data are read block by block; the centres are computed.
    r_range : tuple of float
        (inner, outer) radius of the rings to use in **pixels**; with a mask
        the band may start just outside the beam stop's disc.
    mask : array_like of bool, optional
        Pixels to leave out (beam stop with its arm, saturated disc, gaps),
        detector shape.
    guess : array_like, optional
        Starting (x, y) centre in pixel indices; default the detector centre.
    search : float
        Largest displacement of the coarse search from the guess, pixels.
    distortion : array_like, optional
        2 × 2 ellipse matrix A (``fit_distortion(...).matrix``).
    show_progressbar : bool, optional
        Progress bar for lazy input.

    Returns
    -------
    pyxem.signals.BeamShift
        pyxem's convention (pixels, the shift that centres the pattern on
        pixel (n/2, n/2); (x, y)), usable as ``beam_shift`` of
        :func:`azimuthal_profile`; the median standard error (σx, σy) of the
        centres in ``metadata.ePDF.descan.std_px_median`` (px).

    Examples
    --------
    >>> import numpy as np, pyxem as pxm
    >>> y, x = np.mgrid[:96, :96]
    >>> r = np.hypot(x - 49.3, y - 46.8)
    >>> stop = (r < 8) | ((np.abs(y - 46.8) < 3) & (x > 49))
    >>> dp = pxm.signals.ElectronDiffraction2D(np.where(stop, 0.0, 1 + 4 * np.exp(-((r - 25) / 3) ** 2)))
    >>> np.round(ring_center(dp, (10, 40), mask=stop).data, 2).tolist()   # 48 − 49.3, 48 − 46.8
    [-1.3, 1.2]
    """
    from ..physics import geometry

    _frames(dp)
    centre, std = geometry.ring_centre(dp.data, r_range, mask=mask, guess=guess, search=search,
                                       distortion=distortion, return_std=True)
    if _base.is_dask(centre):
        centre, std = _base.compute(centre, std, show_progressbar=show_progressbar)
    ny, nx = dp.data.shape[-2:]
    shifts = np.stack([nx / 2 - centre[..., 0], ny / 2 - centre[..., 1]], axis=-1)
    params = {"method": "ring centre (azimuthal-variance grid + first-harmonic Fisher scoring)",
              "r_range_px": list(map(float, r_range)), "search_px": float(search),
              "distortion": np.eye(2).tolist() if distortion is None
              else np.asarray(distortion, float).tolist(),
              "masked_pixels": int(0 if mask is None else np.sum(mask)),
              "std_px_median": np.nanmedian(np.asarray(std).reshape(-1, 2), 0).tolist()}
    return _beam_shift(dp, shifts, "ring centre beam shift", params)


def calibrate_s(dp, *, s_per_pixel=None, camera_length=None, pixel_size=None,
                beam_energy=None, center=None, inplace=False):
    """Calibrate the detector axes in s = 2 sinθ/λ (Å⁻¹), centred on the pattern.

    Parameters
    ----------
    dp : pyxem Diffraction2D
    s_per_pixel : float, optional
        Known calibration in Å⁻¹ per pixel.
    camera_length, pixel_size : float, optional
        Camera length and physical pixel size, both in m; then
        s per pixel = pixel_size / (camera_length · λ) (small-angle: at
        2θ = 60 mrad the error is < 0.1 %).
    beam_energy : float, optional
        kV; default ``metadata.Acquisition_instrument.TEM.beam_energy``.
    center : tuple of float, optional
        Pattern centre (x, y) in pixels; default the geometric centre
        ((n − 1)/2). Set through pyxem's ``calibration`` accessor.
    inplace : bool
        Calibrate ``dp`` itself instead of a copy.

    Returns
    -------
    Diffraction2D or None

    Examples
    --------
    >>> import numpy as np, pyxem as pxm
    >>> dp = pxm.signals.ElectronDiffraction2D(np.zeros((2, 16, 16)))
    >>> cal = calibrate_s(dp, camera_length=0.2, pixel_size=55e-6, beam_energy=200)
    >>> round(cal.axes_manager.signal_axes[0].scale, 5), cal.axes_manager.signal_axes[0].units
    (0.01097, 'k_A^-1')
    """
    from ..physics.units import electron_wavelength

    if s_per_pixel is None:
        if camera_length is None or pixel_size is None:
            raise ValueError(
                "Nothing calibrates the detector: give 's_per_pixel' (Å⁻¹) or both "
                "'camera_length' and 'pixel_size' (m)."
            )
        if not (camera_length > 0 and pixel_size > 0):
            raise ValueError("'camera_length' and 'pixel_size' must be > 0 (m).")
        if beam_energy is None:
            beam_energy = dp.metadata.get_item("Acquisition_instrument.TEM.beam_energy", None)
            if beam_energy is None:
                raise ValueError(
                    "'beam_energy' (kV) is needed with camera_length: pass it or set "
                    "metadata.Acquisition_instrument.TEM.beam_energy."
                )
        if not (isinstance(beam_energy, (int, float, np.number)) and 1 <= beam_energy <= 3000):
            raise ValueError(
                f"'beam_energy' must be an accelerating voltage in kV between 1 and 3000; got "
                f"{beam_energy!r}."
            )
        s_per_pixel = pixel_size / (camera_length * electron_wavelength(beam_energy))
    if not s_per_pixel > 0:
        raise ValueError(f"'s_per_pixel' must be > 0 Å⁻¹; got {s_per_pixel}.")
    out = dp if inplace else dp.deepcopy()
    out.calibration.center = center
    out.calibration.scale = float(s_per_pixel)
    out.calibration.units = "k_A^-1"
    out.metadata.set_item("ePDF.calibration", {
        "s_per_pixel": float(s_per_pixel),
        "camera_length_m": "None" if camera_length is None else float(camera_length),
        "pixel_size_m": "None" if pixel_size is None else float(pixel_size),
        "beam_energy_kV": "None" if beam_energy is None else float(beam_energy),
    })
    return None if inplace else out


__all__ = [
    "Descan", "calibrate_s", "descan", "ring_center", "detector_mask", "dose_map", "electrons_from_beam", "virtual_adf",
]
