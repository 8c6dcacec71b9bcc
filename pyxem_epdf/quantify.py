"""Quantities beyond G(r): its standard deviation, number density, coordination numbers.

Thin wrappers over :mod:`pyxem_epdf.physics.uncertainty` and
:mod:`pyxem_epdf.physics.coordination` taking our signals.

* :func:`pdf_sigma` — σ of G(r) for every pattern from the Poisson variance
  of I(s) that :func:`~pyxem_epdf.signals.azimuthal_profile` records, in
  closed form (the chain after the fit is linear), lazy in → lazy out.
* :func:`integration_correlation` — the correlation of neighbouring s bins
  created by sub-pixel splitting (needed for an unbiased σ with
  ``subpixel > 1``).
* :func:`component_sigma` — σ of the component PDFs of a least-squares unmixing.
* :func:`number_density`, :func:`coordination` — ρ₀ from the slope of G below
  the first peak and coordination numbers from R(r) = r G + 4πρ₀ r², with σ
  propagated exactly from the counting noise (both are linear in G).
"""


import numpy as np

from .physics import chain, corrections, scattering, uncertainty


def _history(pdf):
    steps = pdf.metadata.get_item("ePDF.history", None)
    if steps is None:
        return []
    return [(v["method"], v["parameters"]) for v in steps.as_dictionary().values()]


def _composition_arrays(pdf, ri=None, composition=None):
    """(elements, fractions) of the fit of ``pdf``: one composition, or the per-pixel map
    ``composition`` (the dict given to the fit) when the fit used one."""
    comp = pdf.metadata.get_item("ePDF.composition", None)
    if isinstance(comp, str) and comp.startswith("per-pixel map"):
        if composition is None:
            raise ValueError(
                "'pdf' was fitted with per-pixel composition maps (metadata.ePDF.composition "
                f"= {comp!r}); pass the same maps as 'composition' ({{element: map}}).")
        from .signals.reduced_intensity import _composition

        elements, fractions, record = _composition(composition, ri)
        if record != comp:
            raise ValueError(f"'composition' maps {record!r} are not those of the fit "
                             f"({comp!r}).")
        return elements, fractions
    if comp is None or isinstance(comp, str):
        raise ValueError(
            "'pdf' must come from a fit with a composition (metadata.ePDF.composition "
            f"is {comp!r})."
        )
    comp = comp.as_dictionary() if hasattr(comp, "as_dictionary") else dict(comp)
    if composition is not None:
        raise ValueError("'composition' is only for PDFs fitted with per-pixel composition "
                         f"maps; this fit used one composition, {comp}.")
    return list(comp), np.array([float(v) for v in comp.values()])


def _nav(array, ri):
    """A fit map reshaped to the navigation shape of ``ri`` (maps of one pattern have shape (1,))."""
    return array.reshape(ri.data.shape[:-1])


def pdf_operator(ri, pdf, *, composition=None):
    """Rebuild the chain matrix and ⟨f²⟩, ⟨f⟩² of ``pdf`` from its metadata.

    Parameters
    ----------
    ri : ReducedIntensity1DPlus
        The I(s) profiles ``pdf`` was computed from (stage ``"intensity"``).
    pdf : PDF1DPlus
        From ``ri.get_pdf(...)`` or the step-by-step chain of ``ri``.
    composition : dict of maps, optional
        The per-pixel composition maps ``{element: array or signal}`` the fit
        of ``pdf`` used (they are not stored in its metadata); required then,
        refused otherwise.

    Returns
    -------
    operator : ChainOperator
    f2, fsq : numpy.ndarray
        ⟨f²⟩ and ⟨f⟩² in Å² on the s axis of ``ri``: ``(n_s,)``, or
        navigation + ``(n_s,)`` for composition maps.

    Raises
    ------
    ValueError
        If ``ri`` is not at the intensity stage, or ``pdf`` lacks the chain
        metadata (fit, s_min) or used steps other than the linear chain.

    Examples
    --------
    >>> import numpy as np, pyxem_epdf as epdf
    >>> from pyxem_epdf.physics import chain
    >>> ri = epdf.data.example_profile()
    >>> pdf = ri.get_pdf("SiO2", (2.8, 4.0), b=0.2, s_min=0.2, s_max=4.0, r_max=10.0)
    >>> op, f2, fsq = pdf_operator(ri, pdf)
    >>> s = ri.axes_manager.signal_axes[0].axis
    >>> N, C = (pdf.metadata.ePDF.fit[k].data.reshape(()) for k in ("N", "C"))  # one pattern
    >>> G, _ = chain.intensity_to_pdf(ri.data, s, N, C, f2, fsq, op)
    >>> bool(np.allclose(G, pdf.data))
    True
    """
    if ri.metadata.get_item("ePDF.stage", "intensity") != "intensity":
        raise ValueError("'ri' must hold I(s) (metadata.ePDF.stage 'intensity'); got "
                         f"{ri.metadata.get_item('ePDF.stage')!r}.")
    md = pdf.metadata
    if not md.has_item("ePDF.fit.N") or not md.has_item("ePDF.s_min"):
        raise ValueError("'pdf' must come from ri.get_pdf(...) or fit_scattering → … → "
                         "extrapolate_low_s → to_pdf (metadata.ePDF.fit and ePDF.s_min).")
    s = np.asarray(ri.axes_manager.signal_axes[0].axis, dtype=float)
    r = np.asarray(pdf.axes_manager.signal_axes[0].axis, dtype=float)
    envelope = np.ones_like(s)
    polynomial, p_max, p_range = False, None, None
    allowed = {"from_profile", "azimuthal_profile", "sum_regions", "bootstrap_region",
               "fit_scattering", "polynomial_correct", "damp_exponential", "damp_lorch",
               "extrapolate_low_s", "to_pdf"}
    for method, params in _history(pdf):
        if method not in allowed:
            raise ValueError(f"pdf_sigma covers the linear chain only; 'pdf' went through "
                             f"{method!r}.")
        if method == "polynomial_correct":
            polynomial, p_max, p_range = True, params["s_max"], tuple(params["s_range"])
        elif method == "damp_exponential":
            envelope = envelope * corrections.exponential_damping(s, params["b"])
        elif method == "damp_lorch":
            envelope = envelope * corrections.lorch_damping(s, params["s_max"])
    elements, fractions = _composition_arrays(pdf, ri, composition)
    table = md.get_item("ePDF.fit.table", "lobato")
    f = scattering.scattering_factors(elements, s, table=table)
    f2, fsq = scattering.scattering_averages(fractions, f)
    operator = chain.chain_operator(s, r, s_min=md.ePDF.s_min, envelope=envelope,
                                    s_max=p_max if polynomial else md.get_item("ePDF.s_max"),
                                    polynomial=polynomial, s_range=p_range)
    return operator, f2, fsq


def integration_correlation(dp, ri, *, mask=None):
    """Correlation of the s bins of ``ri`` from the integration of ``dp``.

    Rebuilds the integration operator of
    :func:`~pyxem_epdf.signals.azimuthal_profile` from the detector axes of
    ``dp`` and ``ri.metadata.ePDF.integration`` (edges, subpixel) and returns
    :func:`~pyxem_epdf.physics.uncertainty.bin_correlation` of it.

    Parameters
    ----------
    dp : pyxem Diffraction2D
        The 4D-STEM data (only its signal axes are used; nothing is computed).
    ri : ReducedIntensity1DPlus
        Its profiles from :func:`~pyxem_epdf.signals.azimuthal_profile`
        (centre read from its history; with a per-pattern ``beam_shift`` the
        central geometry is used).
    mask : array_like of bool, optional
        The detector mask given to the integration (required if it had one).

    Returns
    -------
    numpy.ndarray
        ``(n_s, n_s)`` correlation matrix.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(2,), detector_shape=(32, 32))
    >>> ri = epdf.azimuthal_profile(synth.signal, npt=16)
    >>> R = integration_correlation(synth.signal, ri)
    >>> R.shape, float(R[5, 5])
    ((16, 16), 1.0)
    """
    from .physics import integration
    from .signals.profile import s_unit_factor_checked_axis

    md = ri.metadata.get_item("ePDF.integration", None)
    if md is None or not md.has_item("edges"):
        raise ValueError("'ri' must come from azimuthal_profile (metadata.ePDF.integration).")
    params = next((p for m, p in _history(ri) if m == "azimuthal_profile"), {})
    masked = int(params.get("masked_pixels", 0))
    if masked and mask is None:
        raise ValueError(f"'ri' was integrated with {masked} masked pixels; pass the same "
                         "'mask'.")
    axes = dp.axes_manager.signal_axes
    kx, ky = (np.asarray(a.axis) * s_unit_factor_checked_axis(a) for a in axes)
    # per-pattern centres (beam_shift) move the rings by a fraction of a pixel: the
    # correlation of neighbouring bins is that of the central geometry to first order
    center = params.get("center", (0.0, 0.0))
    if isinstance(center, str):  # "per-pattern": beam_shift given, geometry of the mean centre
        center = (0.0, 0.0)
    op = integration.radial_operator(kx, ky, np.asarray(md.edges), mask=mask,
                                     subpixel=int(md.subpixel), center=tuple(center))
    return uncertainty.bin_correlation(op.matrix)


def pdf_sigma(ri, pdf, *, correlated_fit: bool = True, correlation=None, composition=None,
              lazy_output: bool | None = None):
    """Standard deviation of G(r) for every pattern, propagated from the variance of I(s).

    σ²_G = J Σ_I Jᵀ with J the (linear) sensitivity of G to I(s), including
    the fitted N and C and their correlation with the bins
    (:func:`~pyxem_epdf.physics.uncertainty.pdf_variance`).

    Parameters
    ----------
    ri : ReducedIntensity1DPlus
        The I(s) profiles with ``metadata.Signal.Noise_properties.variance``
        (:func:`~pyxem_epdf.signals.azimuthal_profile` records it;
        :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.sum_regions` sums it).
    pdf : PDF1DPlus
        G(r) computed from ``ri`` (``get_pdf`` or the step-by-step chain).
    correlated_fit : bool
        Propagate N and C through their least-squares gradients (exact to
        first order, default; for a fixed N, ``fit_scattering(..., N=...)``,
        only C, the weighted window mean of I − N⟨f²⟩, is propagated).
        ``False``: treat N, C as independent of I with
        the standard errors in ``metadata.ePDF.fit`` (N_std, C_std from the
        residual scatter; over-estimates σ where the fit window reaches G).
    correlation : numpy.ndarray, optional
        ``(n_s, n_s)`` correlation of the bins
        (:func:`integration_correlation`); ``None``: independent bins. With
        sub-pixel splitting (``subpixel > 1``) neighbouring bins share
        pixels and σ is under-estimated by up to ~2× without it.
    composition : dict of maps, optional
        For a PDF fitted with per-pixel composition maps (⟨f²⟩ and ⟨f⟩² vary
        from pixel to pixel): the same ``{element: map}`` given to the fit
        (see :func:`pdf_operator`).
    lazy_output : bool, optional
        Lazy result; default: lazy if ``pdf`` or ``ri`` is lazy.

    Returns
    -------
    PDF1DPlus
        σ(G) in Å⁻² on the r axis and navigation of ``pdf``; title
        "σ of …", ``metadata.ePDF.uncertainty`` records the method.

    Raises
    ------
    ValueError
        Without a variance in ``ri``, or as :func:`pdf_operator`.

    Examples
    --------
    >>> import numpy as np, pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(2, 2), detector_shape=(64, 64),
    ...                                       s_scale=0.09)
    >>> ri = epdf.azimuthal_profile(synth.signal, subpixel=1)
    >>> pdf = ri.get_pdf("ZnC4H6N2", (1.6, 2.5), b=0.8, s_min=0.18, r_max=10)
    >>> sigma = pdf_sigma(ri, pdf)
    >>> sigma.data.shape == pdf.data.shape, bool(np.all(sigma.data >= 0))
    (True, True)
    """
    sigma = np.sqrt(_propagate(ri, pdf, None, correlated_fit, correlation, lazy_output,
                               composition))
    from .signals import _base

    res = _base.new_signal(pdf, sigma)  # shares the fit maps of metadata.ePDF
    res._lazy = hasattr(sigma, "dask")
    res._assign_subclass()
    res.metadata.General.title = f"σ of {pdf.metadata.General.title}"
    res.metadata.set_item("ePDF.uncertainty", {
        "method": "closed-form propagation of Signal.Noise_properties.variance",
        "correlated_fit": bool(correlated_fit),
        "bin_correlation": correlation is not None,
    })
    res.metadata.set_item("ePDF.stage", "pdf_sigma")
    _base.record(res, "pdf_sigma", {"correlated_fit": bool(correlated_fit),
                                    "bin_correlation": correlation is not None})
    return res


def with_sigma(ri, pdf, *, correlated_fit: bool = True, correlation=None, composition=None,
               lazy_output: bool | None = None):
    """A copy of ``pdf`` that carries σ(G) and σ(dG/dr), for bands and peak uncertainties.

    Both come from :func:`pdf_sigma`'s closed-form propagation in one pass (the
    slope through the chain matrix times
    :func:`~pyxem_epdf.physics.uncertainty.derivative_matrix`). The copy
    carries them the HyperSpy way: σ² in
    ``metadata.Signal.Noise_properties.variance`` and the variance of dG/dr in
    ``metadata.ePDF.uncertainty.slope_variance`` (both signals of the shape of
    ``pdf``). Then :func:`~pyxem_epdf.mapping.plot_pdfs` draws ±1σ bands,
    :func:`~pyxem_epdf.mapping.peak_table` gives positions and heights ± σ and
    :meth:`~pyxem_epdf.signals.PDF1DPlus.find_peaks` returns positions and
    heights that carry their own variance
    (:func:`~pyxem_epdf.physics.uncertainty.peak_sigma`).

    Parameters
    ----------
    ri, pdf, correlated_fit, correlation, composition, lazy_output
        As :func:`pdf_sigma` (``lazy_output`` also decides whether the copy of
        G is lazy).

    Returns
    -------
    PDF1DPlus
        G(r) unchanged (a copy), with ``metadata.ePDF.uncertainty`` recording
        the method; ``pdf`` itself is not modified.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(2, 2), detector_shape=(64, 64),
    ...                                       s_scale=0.09)
    >>> ri = epdf.azimuthal_profile(synth.signal, subpixel=1)
    >>> pdf = with_sigma(ri, ri.get_pdf("ZnC4H6N2", (1.6, 2.5), b=0.8, s_min=0.18, r_max=10))
    >>> pos, height = pdf.find_peaks(2, r_range=(1.0, 3.0))
    >>> sigma = pos.metadata.Signal.Noise_properties.variance.data ** 0.5   # Å
    >>> sigma.shape, bool(np.isfinite(sigma).all())
    ((2, 2, 2), True)
    """
    from .signals import _base

    r = np.asarray(pdf.axes_manager.signal_axes[0].axis, dtype=float)
    n_r = r.size
    functional = np.concatenate([np.eye(n_r), uncertainty.derivative_matrix(r)], axis=1)
    both = _propagate(ri, pdf, functional, correlated_fit, correlation, lazy_output,
                      composition)
    lazy = hasattr(both, "dask")
    data = pdf.data
    if lazy and not hasattr(data, "dask"):
        import dask.array as da

        data = da.from_array(data, chunks=both.chunks[:-1] + (-1,))
    elif not lazy:
        data = np.array(_base.as_numpy(data), copy=True)
    out = _base.new_signal(pdf, data)
    out._lazy = lazy
    out._assign_subclass()
    method = {"method": "closed-form propagation of Signal.Noise_properties.variance",
              "correlated_fit": bool(correlated_fit), "bin_correlation": correlation is not None}
    sigs = []
    for part, title in ((both[..., :n_r], "variance of"), (both[..., n_r:], "slope variance of")):
        sig = _base.new_signal(pdf, part)
        sig._lazy = lazy
        sig._assign_subclass()
        sig.metadata.General.title = f"{title} {pdf.metadata.General.title}"
        sigs.append(sig)
    out.metadata.set_item("Signal.Noise_properties.variance", sigs[0])
    out.metadata.set_item("ePDF.uncertainty", dict(method, slope_variance=sigs[1]))
    _base.record(out, "with_sigma", method)
    return out


def _dense(a):
    return a.compute() if hasattr(a, "compute") else np.asarray(a)


def peak_sigma_of(pdf, positions):
    """σ of peak positions and heights of a PDF that carries σ (:func:`with_sigma`).

    Parameters
    ----------
    pdf : PDF1DPlus
    positions : numpy.ndarray
        Navigation shape of ``pdf`` + ``(n_peaks,)``, in Å (NaN allowed).

    Returns
    -------
    (position_sigma, height_sigma) or None
        ``None`` if ``pdf`` carries no σ; position σ is NaN without a slope variance.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> peak_sigma_of(epdf.data.example_pdf(), np.array([1.6])) is None
    True
    """
    from .signals.pdf import _carried_variances

    carried = _carried_variances(pdf)
    if carried is None:
        return None
    var, slope = (np.asarray(_dense(a), dtype=float) for a in carried)
    r = np.asarray(pdf.axes_manager.signal_axes[0].axis, dtype=float)
    g = np.asarray(_dense(pdf.data), dtype=float)
    pos = np.asarray(positions, dtype=float)
    ps, hs = uncertainty.peak_sigma(g, r, pos, var, var if slope.ndim == 0 else slope)
    if slope.ndim == 0:
        ps = np.full_like(ps, np.nan)
    return ps, hs


def _propagate(ri, pdf, functional, correlated_fit, correlation, lazy_output,
               composition=None):
    """Variance of ``G @ functional`` (``None``: of G itself) for every pattern of ``ri``."""
    from hyperspy.signal import BaseSignal

    operator, f2, fsq = pdf_operator(ri, pdf, composition=composition)
    if functional is not None:
        operator = chain.ChainOperator(rows=operator.rows,
                                       matrix=operator.matrix @ functional,
                                       coefficients=None, s_max=operator.s_max)
    var = ri.metadata.get_item("Signal.Noise_properties.variance", None)
    if not isinstance(var, BaseSignal):
        raise ValueError("'ri' needs metadata.Signal.Noise_properties.variance (a signal); "
                         "azimuthal_profile records it.")
    s = np.asarray(ri.axes_manager.signal_axes[0].axis, dtype=float)
    fitmd = pdf.metadata.ePDF.fit
    lazy = (pdf._lazy or ri._lazy) if lazy_output is None else bool(lazy_output)
    kwargs = {}
    data = ri.data
    if lazy and not hasattr(data, "dask"):
        import dask.array as da

        data = da.from_array(data, chunks=("auto",) * (data.ndim - 1) + (-1,))
    if correlated_fit:
        s_range, fix_c = tuple(fitmd.s_range), bool(fitmd.fix_c)
        fixed_n = bool(fitmd.get_item("N_fixed", False))
        w = _fit_weights(ri, data, var.data, s, f2, s_range, fix_c,
                         fitmd.get_item("weights", "None"),
                         _nav(fitmd.N.data, ri) if fixed_n else None,
                         c_pool=_fit_c_pool(pdf))
        opts = {"fix_c": fix_c, "fixed_n": fixed_n}
        if w is None:
            kwargs["gradients"] = uncertainty.fit_gradients(s, f2, s_range, **opts)
        elif hasattr(w, "dask"):
            w = w.rechunk(w.chunks[:-1] + (-1,))

            def grads(wb, which):
                return uncertainty.fit_gradients(s, f2, s_range, weights=wb, **opts)[which]

            kwargs["gradients"] = tuple(w.map_blocks(grads, k, dtype=float) for k in (0, 1))
        else:
            kwargs["gradients"] = uncertainty.fit_gradients(s, f2, s_range, weights=w, **opts)
        pooled = fitmd.get_item("pooled", None)
        if pooled is not None:
            kwargs["gradients"] = _pooled_gradients(ri, s, f2, s_range, w,
                                                    fitmd.C_over_N.data, pooled.data,
                                                    kwargs["gradients"])
    else:
        kwargs.update(N_std=_nav(fitmd.N_std.data, ri), C_std=_nav(fitmd.C_std.data, ri))
    out = uncertainty.pdf_variance(var.data, data, s, _nav(fitmd.N.data, ri),
                                   _nav(fitmd.C.data, ri), f2, fsq, operator,
                                   correlation=correlation, **kwargs)
    if hasattr(out, "dask") and not lazy:
        out = out.compute()
    return out


def _fit_c_pool(pdf):
    """The ``c_pool`` the background fit of ``pdf`` used: ``metadata.ePDF.fit.c_pool``, else
    the last fit step of the history (1, the free fit, for fits recorded before it)."""
    from .physics import fit

    value = pdf.metadata.get_item("ePDF.fit.c_pool", None)
    if value is None:
        history = pdf.metadata.get_item("ePDF.history", None)
        steps = history.as_dictionary().values() if history is not None else ()
        for step in steps:
            if step.get("method") in ("fit_scattering", "get_pdf"):
                value = step.get("parameters", {}).get("c_pool", value)
    return fit.check_c_pool(1 if value is None else value)


def _pooled_gradients(ri, s, f2, s_range, w, c_over_n, pooled, free):
    """∂N/∂I, ∂C/∂I of a pooled fit (:func:`pyxem_epdf.physics.fit.pooled_gradients`;
    C = a + κ N with the scan's a and κ held fixed) where ``pooled``, the free fit's
    ``free`` elsewhere; lazy maps or weights give lazy gradients (nothing computed)."""
    from .physics import fit

    kappa, pooled = _nav(c_over_n, ri), _nav(pooled, ri)
    parts = (kappa, pooled, w, *free)
    if not any(hasattr(v, "dask") for v in parts):
        if not np.any(pooled):
            return free
        return fit.pooled_gradients(s, f2, s_range, kappa, pooled, weights=w, free=free)
    import dask.array as da

    nav_shape = tuple(ri.data.shape[:-1])
    ref = next(v for v in (ri.data, *parts) if hasattr(v, "dask") and v.ndim >= len(nav_shape))
    nav_chunks = ref.chunks[:len(nav_shape)] if hasattr(ri.data, "dask") else (
        ref.chunks[:len(nav_shape)])
    full = nav_shape + (s.size,)

    def lazy_full(v):
        v = v if hasattr(v, "dask") else da.from_array(np.asarray(v))
        return da.broadcast_to(v, full).rechunk(nav_chunks + (-1,))

    f2_nav = np.ndim(f2) > 1
    args = [lazy_full(kappa[..., None] * np.ones(1)), lazy_full(pooled[..., None]),
            lazy_full(free[0]), lazy_full(free[1]),
            lazy_full(np.ones(s.size) if w is None else w)]
    if f2_nav:
        args.append(lazy_full(f2))

    def block(k, p, fa, fc, wb, *f2b, which):
        out = fit.pooled_gradients(s, f2b[0] if f2b else f2, s_range, k[..., 0], p[..., 0],
                                   weights=wb, free=(fa, fc))[which]
        return np.broadcast_to(out, fa.shape).copy()

    return tuple(da.map_blocks(block, *args, which=k, dtype=float) for k in (0, 1))


def _fit_weights(ri, data, var, s, f2, s_range, fix_c, name, fixed_n=None, c_pool=1):
    """The weights the fit of ``pdf`` used, rebuilt (None: unweighted; ``fixed_n``: the
    user's N map of a fixed-N fit, for the first Poisson pass; ``c_pool``: the fit's,
    so that the first Poisson pass is the fit's own first pass)."""
    from .physics import fit

    if name in ("None", None):
        return None
    if name == "variance":
        if hasattr(data, "dask") and not hasattr(var, "dask"):
            import dask.array as da

            var = da.from_array(var, chunks=data.chunks)
        return 1.0 / np.where(var > 0, var, np.inf)
    if name == "poisson":
        first = fit.fit_scattering_background(data, s, f2, s_range, fix_c=fix_c, N=fixed_n,
                                              c_pool=c_pool)
        npix = ri.metadata.get_item("ePDF.pixels_per_bin", None)
        if npix is None:
            npix = ri.metadata.get_item("ePDF.integration.n_valid", None)
        model = first.N[..., None] * f2 + first.C[..., None]
        return fit.poisson_weights(model, None if npix is None else np.asarray(npix))
    raise ValueError(f"correlated_fit=True cannot rebuild the fit weights {name!r}; "
                     "use correlated_fit=False.")


def _map(pdf, array, title, md):
    from .signals import _base

    sig = _base.nav_signal(pdf, array, title)
    sig.metadata.set_item("ePDF.quantify", md)
    return sig


def number_density(pdf, r_fit, *, ri=None, correlated_fit=True, correlation=None,
                   lazy_output=None):
    """ρ₀ from the slope of G(r) = −4πρ₀ r below the first peak, with σ.

    Parameters
    ----------
    pdf : PDF1DPlus
        G(r) (any navigation shape; a model from
        :func:`pyxem_epdf.structure.model_pdfs` too).
    r_fit : tuple of float
        (lo, hi) window in Å below the first peak, e.g. (0.3, 1.3) for oxides.
    ri : ReducedIntensity1DPlus, optional
        The I(s) profiles of ``pdf``: σ(ρ₀) is then propagated exactly from
        the counting noise (ρ₀ is linear in G, :func:`pdf_sigma`); without
        it, from the scatter of G about the line (which also holds the
        termination ripples: a systematic-error measure).
    correlated_fit, correlation, lazy_output
        As :func:`pdf_sigma` (with ``ri`` only).

    Returns
    -------
    rho0, rho0_std : BaseSignal
        Navigation-shaped maps in atoms/Å³ (shape (1,) for one pattern);
        ``metadata.ePDF.quantify`` records the method.

    Notes
    -----
    The slope below the first peak is the part of G(r) that any smooth
    error of φ(s) reaches first: a background that does not follow
    N⟨f²⟩ + C (inelastic and multiple scattering, detector response) adds a
    broad low-r feature, and so does the Mu polynomial that removes it. On the
    shipped a-SiO2 profile the slope gives 0.027 Å⁻³ (0.045 without the
    polynomial) against 0.066 for 2.2 g/cm³, while the same chain on a model
    α-quartz I(s) on the same s grid (zeros below 0.177 Å⁻¹, s_max 4) gives
    1.2× the model's density, and both give the same Si–O coordination
    (3.24 in the window (1.4, 1.85) Å with the bulk ρ₀): the normalisation
    and the peaks are right, the low-r baseline of that profile is not
    (``tests/test_quantify.py::test_sio2_density_bias_is_in_the_profile``).
    For such data take ρ₀ from composition and mass density
    (:func:`pyxem_epdf.physics.coordination.mass_density_to_number_density`)
    and pass it to :func:`coordination`.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> ri = epdf.data.example_profile()
    >>> pdf = ri.get_pdf("SiO2", (2.8, 4.0), b=0.2, s_min=0.2, s_max=4.0, r_max=10.0)
    >>> rho, err = number_density(pdf, (0.5, 1.3))
    >>> round(float(rho.data[0]), 3), round(float(err.data[0]), 3)  # 2.2 g/cm³: 0.066
    (0.027, 0.003)

    The slope is 0.4 of the density of a-SiO2: the low-r baseline of this
    measured profile is off (see Notes), not its normalisation.
    """
    from .physics import coordination as co

    r = np.asarray(pdf.axes_manager.signal_axes[0].axis, dtype=float)
    data = pdf.data
    rho, resid_std = co.slope_density(data, r, r_fit)
    md = {"quantity": "number density", "units": "atoms/Å^3", "r_fit": list(map(float, r_fit))}
    if ri is None:
        std, md["sigma"] = resid_std, "residuals of the linear fit"
    else:
        w = co.density_weights(r, r_fit)[:, None]
        std = np.sqrt(_propagate(ri, pdf, w, correlated_fit, correlation, lazy_output)[..., 0])
        md["sigma"] = "counting noise of I(s), propagated"
    if hasattr(rho, "dask") and not pdf._lazy:
        rho = rho.compute()
    if hasattr(std, "dask") and not (pdf._lazy or ri is not None and ri._lazy):
        std = std.compute()
    return (_map(pdf, rho, "number density ρ₀ (atoms/Å³)", md),
            _map(pdf, std, "σ of ρ₀ (atoms/Å³)", md))


def coordination(pdf, r_range, *, pair=None, composition=None, rho0=None, r_fit=None,
                 ri=None, correlated_fit=True, correlation=None, kind="electron",
                 lazy_output=None):
    """Coordination number from the area of a peak of R(r) = r G + 4πρ₀ r², with σ.

    Parameters
    ----------
    pdf : PDF1DPlus
        G(r) (maps, regions, components or a structure model).
    r_range : tuple of float
        (r₁, r₂) integration limits in Å (around the peak; e.g. the minima
        of R on either side).
    pair : tuple of str, optional
        (α, β): N_αβ, the β atoms around one α, from the weighted area
        (:func:`~pyxem_epdf.physics.coordination.pair_factor`; f at s = 0).
        ``None``: the weighted area of R itself.
    composition : dict, optional
        Atomic fractions for ``pair``; default ``metadata.ePDF.composition``.
    rho0 : float, optional
        ρ₀ in atoms/Å³ (e.g.
        :func:`~pyxem_epdf.physics.coordination.mass_density_to_number_density`,
        or ``metadata.ePDF.model.density`` of a model). Exactly one of
        ``rho0`` and ``r_fit``.
    r_fit : tuple of float, optional
        ρ₀ from the slope of G on this window (:func:`number_density`),
        included in the linear functional (and its σ).
    ri : ReducedIntensity1DPlus, optional
        The I(s) of ``pdf``: σ(CN) propagated exactly from the counting noise
        (the CN is linear in G). Without it the σ map is ``None``.
    correlated_fit, correlation, lazy_output
        As :func:`pdf_sigma`.
    kind : {"electron", "xray"}
        Pair weights (electron with the table of the fit).

    Returns
    -------
    cn : BaseSignal
        Navigation-shaped coordination number.
    cn_std : BaseSignal or None
        Its σ (only with ``ri``).

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> ri = epdf.data.example_profile()
    >>> pdf = ri.get_pdf("SiO2", (2.8, 4.0), b=0.2, s_min=0.2, s_max=4.0, r_max=10.0)
    >>> cn, err = coordination(pdf, (1.4, 1.85), pair=("Si", "O"), rho0=0.0662)
    >>> round(float(cn.data[0]), 2), err is None   # Si-O: 4 in a-SiO2
    (3.24, True)
    """
    from .physics import coordination as co

    r = np.asarray(pdf.axes_manager.signal_axes[0].axis, dtype=float)
    k, const = co.coordination_weights(r, r_range, rho0=rho0, r_fit=r_fit)
    factor = 1.0
    md = {"quantity": "coordination number", "r_range": list(map(float, r_range)),
          "rho0": "None" if rho0 is None else float(rho0),
          "r_fit": "None" if r_fit is None else list(map(float, r_fit))}
    if pair is not None:
        if composition is None:
            comp = pdf.metadata.get_item("ePDF.composition", None)
            if comp is None or isinstance(comp, str):
                raise ValueError("'pair' needs 'composition' (no fixed composition in "
                                 "metadata.ePDF.composition).")
            composition = comp.as_dictionary() if hasattr(comp, "as_dictionary") else comp
        table = pdf.metadata.get_item("ePDF.fit.table", "lobato")
        factor = co.pair_factor(dict(composition), *pair, kind=kind, table=table)
        md.update(pair="-".join(pair), factor=float(factor), kind=kind)
    cn = factor * (pdf.data @ k + const)
    if hasattr(cn, "dask") and not pdf._lazy:
        cn = cn.compute()
    std = None
    if ri is not None:
        var = _propagate(ri, pdf, k[:, None], correlated_fit, correlation, lazy_output)
        std = _map(pdf, factor * np.sqrt(var[..., 0]), "σ of the coordination number", md)
    return _map(pdf, cn, "coordination number", md), std


def component_sigma(fractions, sigma, pure=None):
    """σ of component PDFs of an unmixing (closure_unmix) from the per-pixel σ(G).

    For least-squares endmembers E = (FᵀF)⁻¹ Fᵀ X (fractions F fixed,
    independent pixels), var(E) = (P∘P) σ²_X with P = (FᵀF)⁻¹ Fᵀ. An
    endmember that :func:`~pyxem_epdf.physics.unmixing.closure_unmix`
    replaced by the mean of its pure pixels gets σ = √(Σ σ²)/n over them
    (the plain mean; its robust mean is within a few % of that for Gaussian
    noise).

    Parameters
    ----------
    fractions : array_like
        ``(n_pixels, k)`` fractions (e.g. ``closure_unmix(...).fractions``) or
        navigation-shaped + ``(k,)``.
    sigma : array_like or signal
        σ(G) per pixel, ``(n_pixels, n_r)`` or navigation + ``(n_r,)``
        (e.g. :func:`pdf_sigma`).
    pure : array_like of bool, optional
        ``(n_pixels, k)``: ``closure_unmix(...).pure``, the pixels averaged
        into each endmember (a column without any: least squares).

    Returns
    -------
    numpy.ndarray
        ``(k, n_r)`` σ of each component PDF in Å⁻².

    Examples
    --------
    Two pure pixel sets of 4 pixels each: σ/√4.

    >>> F = np.repeat(np.eye(2), 4, axis=0)
    >>> component_sigma(F, np.ones((8, 3))).tolist()
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    """
    sig = sigma.data if hasattr(sigma, "axes_manager") else sigma
    sig = np.asarray(sig.compute() if hasattr(sig, "compute") else sig, dtype=float)
    F = np.asarray(fractions, dtype=float)
    F = F.reshape(-1, F.shape[-1])
    sig = sig.reshape(-1, sig.shape[-1])
    if sig.shape[0] != F.shape[0]:
        raise ValueError(f"'fractions' has {F.shape[0]} pixels, 'sigma' has {sig.shape[0]}.")
    var = uncertainty.component_variance(F, sig**2)
    if pure is not None:
        pure = np.asarray(pure, dtype=bool).reshape(F.shape)
        n = pure.sum(axis=0)
        for k in np.flatnonzero(n):
            var[k] = (sig[pure[:, k]] ** 2).sum(axis=0) / n[k] ** 2
    return np.sqrt(var)


def components_with_sigma(components, fractions, pdf, *, pure=None):
    """A copy of component PDFs that carries their σ (and σ of dG/dr) from per-pixel σ.

    The variance of each component is :func:`component_sigma`² of the
    per-pixel σ(G) that ``pdf`` carries, and likewise for the slope, so that
    :func:`~pyxem_epdf.mapping.peak_table` gives component peak positions
    ± σ and :func:`~pyxem_epdf.mapping.plot_pdfs` draws their bands.

    Parameters
    ----------
    components : PDF1DPlus
        Component PDFs, navigation ``(k,)`` (e.g. ``Unmixing.components``).
    fractions : array_like
        ``(n_pixels, k)`` or navigation + ``(k,)`` fractions of the unmixing.
    pdf : PDF1DPlus
        The per-pixel PDFs the components were unmixed from, carrying their
        σ (:func:`with_sigma`; without a slope variance only σ(G) is carried on).
    pure : array_like of bool, optional
        As :func:`component_sigma`.

    Returns
    -------
    PDF1DPlus
        A copy of ``components`` with ``metadata.Signal.Noise_properties.variance``
        (and ``metadata.ePDF.uncertainty.slope_variance``).

    Raises
    ------
    ValueError
        If ``pdf`` carries no σ, or shapes disagree.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(3, 4), detector_shape=(64, 64),
    ...                                       s_scale=0.09)
    >>> ri = epdf.azimuthal_profile(synth.signal, subpixel=1)
    >>> pdf = with_sigma(ri, ri.get_pdf("ZnC4H6N2", (1.6, 2.5), b=0.8, s_min=0.18, r_max=10))
    >>> F = synth.fractions.reshape(-1, 2)
    >>> comps = epdf.PDF1DPlus(np.linalg.pinv(F) @ pdf.data.reshape(12, -1))
    >>> comps.axes_manager.signal_axes[0].scale = pdf.axes_manager.signal_axes[0].scale
    >>> table = epdf.mapping.peak_table(components_with_sigma(comps, F, pdf), n_peaks=2,
    ...                                 r_range=(1.0, 3.0))
    >>> table.position_sigma.shape, bool(np.isfinite(table.position_sigma[0]).all())
    ((2, 2), True)
    """
    from .signals import _base
    from .signals.pdf import _carried_variances

    carried = _carried_variances(pdf)
    if carried is None:
        raise ValueError("'pdf' carries no σ (metadata.Signal.Noise_properties.variance); "
                         "make it with quantify.with_sigma(ri, pdf).")
    var, slope = (np.asarray(_dense(a), dtype=float) for a in carried)
    k = components.data.shape[0] if components.data.ndim > 1 else 1
    F = np.asarray(fractions, dtype=float)
    if F.shape[-1] != k:
        raise ValueError(f"'fractions' has {F.shape[-1]} components, 'components' {k}.")
    n_r = components.data.shape[-1]
    if var.shape[-1] != n_r:
        raise ValueError(f"'pdf' has {var.shape[-1]} r values, 'components' {n_r}.")
    out = _base.new_signal(components, np.array(_base.as_numpy(components.data), copy=True))
    sig = component_sigma(F, np.sqrt(np.maximum(var, 0.0)), pure)
    shape = components.data.shape
    var_sig = _base.new_signal(components, (sig**2).reshape(shape))
    out.metadata.set_item("Signal.Noise_properties.variance", var_sig)
    md = {"method": "component_sigma of the per-pixel σ carried by the unmixed PDFs"}
    if slope.ndim:
        slope_sig = component_sigma(F, np.sqrt(np.maximum(slope, 0.0)), pure)
        md["slope_variance"] = _base.new_signal(components, (slope_sig**2).reshape(shape))
    out.metadata.set_item("ePDF.uncertainty", md)
    return out


__all__ = ["component_sigma", "components_with_sigma", "coordination",
           "integration_correlation", "number_density", "pdf_operator", "pdf_sigma",
           "peak_sigma_of", "with_sigma"]
