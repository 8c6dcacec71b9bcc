"""ReducedIntensity1DPlus: from an azimuthal profile I(s) to φ(s) and G(r).

The signal holds I(s) until :meth:`ReducedIntensity1DPlus.fit_scattering`
turns it into the reduced intensity φ(s); the stage is recorded in
``metadata.ePDF.stage`` (``"intensity"`` or ``"reduced_intensity"``).
"""

import dataclasses
import warnings
from collections.abc import Mapping

import numpy as np
from hyperspy.signal import BaseSignal
from hyperspy.signals import LazySignal1D
from pyxem.signals import ReducedIntensity1D

from ..physics import _common, chain, corrections, fit, scattering, transform
from ..physics._common import count_up_to
from . import _base, _regions

_STAGE = "ePDF.stage"


class ReducedIntensity1DPlus(ReducedIntensity1D):
    """Azimuthal profile I(s) or reduced intensity φ(s) for every probe position.

    s = 2 sin(θ)/λ in Å⁻¹ on the signal axis. Make one from a pyxem azimuthal
    integral with :func:`pyxem_epdf.from_profile`, then chain
    ``fit_scattering → polynomial_correct → damp_exponential →
    extrapolate_low_s → to_pdf``.

    Every processing method returns a new signal by default
    (``inplace=False``), works on any navigation shape, eager or lazy (lazy in,
    lazy out, nothing computed), keeps the navigation axes and records its
    parameters in ``metadata.ePDF.history``.

    Notes
    -----
    This **differs from pyxem's parent** :class:`pyxem.signals.ReducedIntensity1D`,
    whose methods default to ``inplace=True`` and return ``None``: here
    ``ri.damp_exponential(0.8)`` returns the damped signal and leaves ``ri``
    unchanged. pyxem's ``damp_updated_lorch``, ``damp_low_q_region_erfc`` and
    ``damp_extrapolate_to_zero`` are overridden with this contract (new
    signal, lazy-aware, recorded); ``fit_thermal_multiple_scattering_correction``
    raises a ``TypeError`` pointing to :meth:`polynomial_correct`. HyperSpy's
    own generic methods (``smooth_*``, ``remove_background`` …) keep
    HyperSpy's semantics and are not recorded in ``metadata.ePDF.history``.

    Examples
    --------
    The chain on a measured a-SiO2 profile; every step returns a new signal:

    >>> import pyxem_epdf as epdf
    >>> ri = epdf.data.example_profile()
    >>> type(ri).__name__, ri.metadata.ePDF.stage
    ('ReducedIntensity1DPlus', 'intensity')
    >>> phi = (ri.fit_scattering("SiO2", (2.8, 4.0)).polynomial_correct(s_max=4.0)
    ...        .damp_exponential(0.2).extrapolate_low_s(0.2))
    >>> phi.metadata.ePDF.stage, ri.metadata.ePDF.stage
    ('reduced_intensity', 'intensity')
    >>> [step["method"] for step in phi.metadata.ePDF.history.as_dictionary().values()]
    ['from_profile', 'fit_scattering', 'polynomial_correct', 'damp_exponential',
     'extrapolate_low_s']
    >>> pdf = phi.to_pdf(r_max=10.0, r_step=0.01)
    >>> pos, _ = pdf.find_peaks(1, r_range=(1.2, 2.0))  # Si-O, 1.61 Å
    >>> round(float(pos.data[0]), 2)
    1.62
    """

    _signal_type = "epdf_reduced_intensity"

    # ------------------------------------------------------------------ fit
    def fit_scattering(
        self,
        composition,
        s_range: tuple[float, float] | None = None,
        *,
        table: str = "lobato",
        fix_c: bool = False,
        N=None,
        weights=None,
        min_window_counts: float = 100.0,
        c_pool: int | str | None = None,
        inplace: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Fit N⟨f²⟩ + C on a high-s window and return φ(s).

        N and C are found for all probe positions at once by closed-form
        (weighted) linear least squares (:func:`pyxem_epdf.physics.fit.fit_scattering_background`);
        then

        .. math::

            φ(s) = s \\frac{I(s) - N⟨f^2⟩ - C}{N⟨f⟩^2}.

        Parameters
        ----------
        composition : dict, str or dict of maps
            Atomic fractions ``{"Si": 1/3, "O": 2/3}`` (must sum to 1), a
            formula ``"Zn(C3H3N2)1.75(C7H5N2)0.25"`` or a molar mixture
            ``"0.67[(Na2O)0.9(P2O5)]-0.33[(AlO1.5)(AlF3)1.5]"`` (normalised),
            or a per-pixel composition map: ``{element: array or signal of the
            navigation shape}``, fractions summing to 1 at every pixel.
        s_range : tuple of float, optional
            (lo, hi) fit window in Å⁻¹ (the paper: high s, (1.6, 2.5)).
            Default the upper part of the profile, (0.64 s_edge, s_edge) with
            s_edge the outer edge of its last bin (the paper's window for
            s_edge = 2.5; :data:`pyxem_epdf.physics.chain.FIT_WINDOW_FRACTION`).
        table : {"lobato", "xtables", "kirkland"}
            Electron scattering factors: Lobato & Van Dyck (2014), the
            International Tables Vol. C 4.3.2.3 parameterisation or Kirkland (2010).
        fix_c : bool
            Fix C = 0 (no detector offset) and fit N only.
        N : float, array or signal, optional
            Fix N (intensity units per Å²) instead of fitting it, as
            single-pattern tools (eRDF Analyser, ePDFsuite) let the user set
            it: one value, or a map of the navigation shape (array or
            signal, e.g. ``metadata.ePDF.fit.N`` of an earlier fit), finite
            and > 0 everywhere (else a ``ValueError`` naming ``'N'``; a lazy
            map is checked for shape only). Only C is then fitted, in closed
            form on ``s_range`` (nothing with ``fix_c=True``); ``N_std`` is 0,
            the N map is titled "N (fixed)", ``metadata.ePDF.fit.N_fixed`` is
            ``True`` and the N outlier test is skipped (``z_N`` = 0).
            ``None``: N is fitted.
        weights : None, "none", "variance", "poisson", array or signal
            ``None`` (or ``"none"``, as in the batch TOML): unweighted.
            ``"variance"``: 1/variance from
            ``metadata.Signal.Noise_properties.variance``; bins with a
            variance ≤ 0 or non-finite (e.g. from negative counts) get weight
            0, with a warning giving their number. ``"poisson"``:
            two closed-form passes, the second weighted by the Poisson variance
            of the first-pass model (mean counts per pixel; uses
            ``metadata.ePDF.pixels_per_bin`` or the valid-pixel counts of
            :func:`~pyxem_epdf.signals.azimuthal_profile` when present). An
            array or signal of finite, non-negative weights broadcastable to
            the data (else a ``ValueError`` naming both shapes).
        min_window_counts : float
            With profiles from :func:`~pyxem_epdf.signals.azimuthal_profile`
            (valid-pixel counts known) the counts in ``s_range`` of every
            pattern are stored as ``metadata.ePDF.fit.window_counts``; for an
            eager signal a warning names the patterns with fewer than this
            (N is then known to worse than 1/√counts, Poisson).
        c_pool : int, "scan" or "affine", optional
            The probe positions whose pooled fit gives the ratio κ = C/N:
            ``"scan"`` (all of them) or an odd width of a neighbourhood along
            each navigation axis; each pattern then fits only its own N, with
            C = κ N (:func:`pyxem_epdf.physics.fit.fit_scattering_background`).
            1 fits N and C of every pattern on its own, as single-pattern
            tools do. Default :data:`pyxem_epdf.physics.fit.C_POOL` =
            ``"scan"`` for scans of counts integrated by
            :func:`~pyxem_epdf.signals.azimuthal_profile` (Poisson noise,
            ``metadata.ePDF.integration``), 1 for profiles from elsewhere and
            when the navigation axis holds regions or resamples
            (:meth:`sum_regions`, :meth:`bootstrap_region`); a single pattern
            is its own scan. A pattern whose own data reject the pooled ratio
            keeps its free fit (:data:`pyxem_epdf.physics.fit.POOL_REJECT`;
            map ``metadata.ePDF.fit.pooled``). Measured at 2.5 e⁻/Å²: the
            spread of N falls from 29 % to 12 % and the mean G(r) is 1.01×
            the noiseless one instead of 1.22× (``benchmarks/bench_lowdose_fit.py``).
            Not used with ``N`` fixed or ``fix_c=True``. The κ map is
            ``metadata.ePDF.fit.C_over_N``; the value used is in the history.
            ``"affine"``: C = a + κ N with a scan-wide offset a too (map
            ``metadata.ePDF.fit.C_offset``), for scans with a large constant
            background (dark offset) and a wide thickness range, where one
            C/N biases N by thickness (+40–120 % in the thinnest tenth of a
            10–150 nm wedge with a background of 0.3–1 × N⟨f²⟩, affine
            ±6–10 %); it adds noise and is not the default
            (``benchmarks/bench_cn_robust.py``).
        inplace : bool
            Overwrite this signal and return ``None``.
        lazy_output : bool, optional
            Lazy result; default: lazy if this signal is lazy.
        show_progressbar : bool, optional
            Progress bar if a lazy computation is run here.

        Returns
        -------
        ReducedIntensity1DPlus or None
            φ(s) in Å⁻¹. Maps of N, C, their standard errors, the reduced χ²,
            ``finite``, ``outlier`` (with the robust z maps ``z_N`` and
            ``z_chi2``) and ``valid`` are in ``metadata.ePDF.fit`` (read-only
            arrays); the fit composition is ``metadata.ePDF.composition``
            (``metadata.Sample.elements`` is left as it is). Patterns with a
            NaN or inf anywhere in I(s), or with N ≤ 0 (vacuum, no or negative
            counts in the window), get φ = 0 and ``valid = False``; fit-quality
            outliers (robust z of log N or log χ² against the scan beyond
            :data:`pyxem_epdf.physics.fit.OUTLIER_Z`) keep their φ but get
            ``valid = False``, so that decompositions skip them. An eager fit
            warns how many of each, naming the cause.

        Notes
        -----
        pyxem's own generator returns 2π times this φ (it works in q = 2πs);
        here G(r) = 8π ∫ φ(s) sin(2π s r) ds, the paper's convention.

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> ri = epdf.data.example_profile()
        >>> phi = ri.fit_scattering("SiO2", s_range=(1.6, 2.5))
        >>> phi.metadata.ePDF.stage
        'reduced_intensity'
        """
        _base.check_contract(inplace, lazy_output)
        fitted = self._fit(composition, s_range, table=table, fix_c=fix_c, N=N,
                           weights=weights, min_window_counts=min_window_counts,
                           lazy_output=lazy_output, c_pool=c_pool)
        phi = fit.reduced_intensity(fitted.data, fitted.s, fitted.result.N, fitted.result.C,
                                    fitted.f2, fitted.fsq)
        return _base.finish(
            self,
            phi,
            inplace=inplace,
            lazy=fitted.lazy,
            title=_title("fit_scattering", self.metadata.General.title),
            method="fit_scattering",
            parameters=fitted.parameters,
            update=lambda out: _fit_metadata(out, fitted),
            show_progressbar=show_progressbar,
        )

    def _fit(self, composition, s_range, *, table, fix_c, N, weights, min_window_counts,
             lazy_output, c_pool=None, known=None, then=None):
        """Validation, the closed-form fit and its warnings (shared by
        :meth:`fit_scattering` and :meth:`get_pdf`; ``c_pool=None``: the
        default of :meth:`_c_pool`; ``known``: ``(s, _edge, _first_valid)``
        of this signal when the caller has them already).

        With ``then``, ``started = then(data, result, f2, fsq)`` is called as
        soon as N and C are fitted (the outlier test only clears ``valid``),
        and ``(fitted, started)`` is returned; ``started.wait()`` is called
        before an error of the rest of the fit propagates.
        """
        stage = _base.lookup(self.metadata, _STAGE, "intensity")
        if stage != "intensity":
            raise ValueError(
                "fit_scattering needs I(s); this signal already holds "
                f"{stage!r} (metadata.ePDF.stage)."
            )
        if not isinstance(table, str) or table not in scattering.SCATTERING_TABLES:
            raise ValueError(
                f"'table' must be one of {scattering.SCATTERING_TABLES}; got {table!r}."
            )
        if known is None:
            s = _base.s_axis_values(self)
            known = (s, _edge(self, s), _first_valid(self, s))
        s, edge, first_valid = known
        s_range = chain.resolve_s_range(s, s_range, edge=edge)
        min_window_counts = _common.as_float(min_window_counts, "min_window_counts")
        c_pool = self._c_pool(c_pool)
        elements, fractions, comp_md = _composition(composition, self)
        f = scattering.scattering_factors(elements, s, table=table)
        f2, fsq = scattering.scattering_averages(fractions, f)
        data, lazy = _base.working_data(self, lazy_output)
        N, n_md = _fixed_n(self, N, lazy)
        w = _weights(self, weights, data)
        result = fit.fit_scattering_background(data, s, f2, s_range, weights=w, fix_c=fix_c,
                                               N=N, c_pool=c_pool)
        if isinstance(weights, str) and weights == "poisson":
            npix = _base.lookup(self.metadata, "ePDF.pixels_per_bin", None)
            if npix is None:  # from our own integration
                npix = _base.lookup(self.metadata, "ePDF.integration.n_valid", None)
            model = _base_model(result, f2)
            w = fit.poisson_weights(model, None if npix is None else np.asarray(npix))
            result = fit.fit_scattering_background(
                data, s, f2, s_range, weights=w, fix_c=fix_c, N=N, c_pool=c_pool
            )
        if then is None:
            return self._fit_rest(result, s, s_range, data, lazy, f2, fsq, weights,
                                  min_window_counts, N, n_md, c_pool, comp_md, elements,
                                  table, fix_c, first_valid)
        started = then(data, result, f2, fsq)
        try:
            return self._fit_rest(result, s, s_range, data, lazy, f2, fsq, weights,
                                  min_window_counts, N, n_md, c_pool, comp_md, elements,
                                  table, fix_c, first_valid), started
        except BaseException:
            started.wait()
            raise

    def _fit_rest(self, result, s, s_range, data, lazy, f2, fsq, weights, min_window_counts,
                  N, n_md, c_pool, comp_md, elements, table, fix_c, first_valid):
        """The part of :meth:`_fit` after N and C: outlier test, window counts,
        warnings and the record."""
        # residual rms below 1e-7 of the model: noiseless data, no χ² test
        floor = (1e-7 * result.N * float(np.median(f2))) ** 2
        result, outlier, z_n, z_c = fit.flag_outliers(result, chi2_floor=floor,
                                                      test_n=N is None)
        window_counts = _window_counts(self, data, s, s_range)

        if window_counts is not None and not _base.is_dask(window_counts):
            low = int(np.count_nonzero(window_counts < min_window_counts))
            if low:
                warnings.warn(
                    f"{low} of {np.size(window_counts)} patterns have fewer than "
                    f"{min_window_counts:g} counts in s_range {tuple(s_range)}: N is then known "
                    f"to worse than 1/√{min_window_counts:g} = {100 / np.sqrt(min_window_counts):.0f} % "
                    "(Poisson). Sum regions or bin the scan (see metadata.ePDF.fit.window_counts).",
                    UserWarning,
                    stacklevel=4,  # the caller of fit_scattering / get_pdf
                )
        _warn_invalid(result, outlier, data, s_range, stacklevel=5)
        parameters = {
            "composition": comp_md,
            "s_range": tuple(map(float, s_range)),
            "table": table,
            "fix_c": bool(fix_c),
            "N": n_md,
            "weights": _weights_name(weights),
            "c_pool": c_pool if N is None and not fix_c else 1,
        }
        quality = {"outlier": outlier, "z_N": z_n, "z_chi2": z_c}
        return _Fitted(s=s, data=data, lazy=lazy, f2=f2, fsq=fsq, result=result,
                       window_counts=window_counts, elements=sorted(elements),
                       parameters=parameters, quality=quality, first_valid=first_valid)

    def _c_pool(self, c_pool):
        """``c_pool`` checked, or its default: :data:`~pyxem_epdf.physics.fit.C_POOL`
        for a scan of counts integrated by :func:`~pyxem_epdf.signals.azimuthal_profile`,
        1 for other profiles and when the navigation axis holds regions or
        resamples (not neighbours in space)."""
        if c_pool is not None:
            return fit.check_c_pool(c_pool)
        names = {str(ax.name) for ax in self.axes_manager.navigation_axes}
        if names & {"region", "bootstrap"}:
            return 1
        if _base.lookup(self.metadata, "ePDF.integration.n_valid", None) is None:
            return 1  # not counts integrated here: each profile on its own
        return fit.C_POOL

    # ----------------------------------------------------------- corrections
    def polynomial_correct(
        self,
        s_max: float | None = None,
        s_range: tuple[float, float] | None = None,
        *,
        inplace: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Subtract the Mu et al. 4th-order polynomial that is 0 at s = 0 and s_max.

        p(s) = s (s − s_max)(c₀ + c₁ s + c₂ s²) is fitted to φ in closed form
        for all probe positions (:func:`pyxem_epdf.physics.corrections.fit_polynomial_correction`)
        and subtracted, so that φ oscillates about zero.

        Parameters
        ----------
        s_max : float, optional
            Upper zero of the polynomial in Å⁻¹, anywhere up to the outer edge
            of the last bin (``metadata.ePDF.integration.edges[-1]``, e.g. the
            ``s_max`` given to :func:`~pyxem_epdf.signals.azimuthal_profile`);
            default the last s. Data beyond s_max is cropped (the polynomial
            is only defined up to it).
        s_range : tuple of float, optional
            (lo, hi) fit window in Å⁻¹. Default (s_min, s_max), with s_min
            the direct-beam edge: that of an earlier :meth:`extrapolate_low_s`,
            else its default (:func:`pyxem_epdf.physics.chain.default_s_min`),
            so that the direct beam does not drive the fit.
        inplace, lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus or None
            Corrected φ(s); coefficients (c₀, c₁, c₂ in Å⁻³, Å⁻⁴, Å⁻⁵) as a
            map in ``metadata.ePDF.polynomial.coefficients``.

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> corrected = phi.polynomial_correct()
        >>> corrected.metadata.ePDF.polynomial.coefficients.data.shape
        (3,)
        """
        _base.check_contract(inplace, lazy_output)
        self._require_reduced("polynomial_correct")
        s = _base.s_axis_values(self)
        s_max, s_range = _polynomial_window(self, s, s_max, s_range)
        data, lazy = _base.working_data(self, lazy_output)
        coefs = corrections.fit_polynomial_correction(
            data, s, s_max=s_max, s_range=s_range
        )
        keep = count_up_to(s, s_max)
        corrected = data[..., :keep] - corrections.polynomial_baseline(coefs, s[:keep], s_max)
        params = {"s_max": s_max, "s_range": tuple(map(float, s_range))}
        return _base.finish(
            self,
            corrected,
            inplace=inplace,
            lazy=lazy,
            title=_title("polynomial_correct", self.metadata.General.title),
            method="polynomial_correct",
            parameters=params,
            update=lambda out: _polynomial_metadata(out, coefs, params, lazy),
            show_progressbar=show_progressbar,
        )

    def damp_exponential(
        self,
        b: float | None = None,
        *,
        inplace: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Returns a new signal (inplace=False), unlike pyxem's ``damp_exponential``: φ(s) × exp(−b s²).

        Parameters
        ----------
        b : float, optional
            Damping factor in Å² (≥ 0). The paper used 0.6–1.0 Å²: lower for
            region-averaged, higher for per-pixel data. Default 5/s_last²
            (e^−5 at the last s; the paper's 0.8 Å² at 2.5 Å⁻¹, measured on the
            embedded composite and the a-SiO2 profile:
            :func:`pyxem_epdf.physics.chain.check_b`). Call it after
            :meth:`polynomial_correct` (which crops at s_max) for the same
            default as :meth:`get_pdf`. A value above 10 Å² is warned about
            (nm²?).
        inplace, lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus or None

        Notes
        -----
        Unlike pyxem's parent method this returns a new signal by default.

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> damped = phi.damp_exponential(b=0.8)
        >>> damped.metadata.ePDF.damping.b
        0.8
        """
        s = _base.s_axis_values(self)
        b = chain.check_b(b, float(s[-1]))
        envelope = corrections.exponential_damping(_base.s_axis_values(self), b)
        return self._damp(
            envelope, "exponential", {"b": b}, inplace, lazy_output, show_progressbar,
        )

    def damp_lorch(
        self,
        s_max: float | None = None,
        *,
        inplace: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Returns a new signal (inplace=False), unlike pyxem's ``damp_lorch``: φ(s) × the Lorch window.

        The window is sin(πs/s_max)/(πs/s_max).

        Parameters
        ----------
        s_max : float, optional
            Window cut-off in Å⁻¹ (φ = 0 beyond); default the last s.
        inplace, lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus or None

        Notes
        -----
        Unlike pyxem's parent method this returns a new signal by default.

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> phi.damp_lorch().metadata.ePDF.damping.kind
        'lorch'
        """
        s = _base.s_axis_values(self)
        s_max = float(s[-1]) if s_max is None else _common.check_s_max(s, s_max,
                                                                       edge=_edge(self, s))
        envelope = corrections.lorch_damping(s, s_max)
        return self._damp(
            envelope, "lorch", {"s_max": s_max}, inplace, lazy_output, show_progressbar,
        )

    def damp_updated_lorch(
        self,
        s_max: float | None = None,
        *,
        inplace: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Returns a new signal (inplace=False), unlike pyxem's ``damp_updated_lorch``: φ(s) × Soper's window.

        The window is 3 (sin x − x cos x)/x³ with x = π s/s_max
        (:func:`pyxem_epdf.physics.corrections.updated_lorch_damping`, pyxem's
        formula), 0 beyond s_max; recorded in ``metadata.ePDF.history``.

        Parameters
        ----------
        s_max : float, optional
            Window width in Å⁻¹; default the last s.
        inplace, lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus or None

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> phi.damp_updated_lorch().metadata.ePDF.damping.kind
        'updated_lorch'
        """
        s = _base.s_axis_values(self)
        s_max = float(s[-1]) if s_max is None else _common.check_s_max(s, s_max,
                                                                       edge=_edge(self, s))
        envelope = corrections.updated_lorch_damping(s, s_max)
        return self._damp(envelope, "updated_lorch", {"s_max": s_max}, inplace, lazy_output,
                          show_progressbar)

    def damp_low_q_region_erfc(
        self,
        scale: float = 20.0,
        offset: float = 1.3,
        *,
        inplace: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Returns a new signal (inplace=False), unlike pyxem's ``damp_low_q_region_erfc``: φ(s) × an erf step.

        The step is (erf(scale·s − offset) + 1)/2
        (:func:`pyxem_epdf.physics.corrections.erf_low_s_damping`, pyxem's
        formula and defaults); recorded in ``metadata.ePDF.history``. For the
        paper's direct-beam removal use :meth:`extrapolate_low_s`.

        Parameters
        ----------
        scale : float
            Steepness in Å.
        offset : float
            Offset (the step's middle is at s = offset/scale Å⁻¹).
        inplace, lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus or None

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> phi.damp_low_q_region_erfc().metadata.ePDF.damping.kind
        'low_q_region_erfc'
        """
        envelope = corrections.erf_low_s_damping(_base.s_axis_values(self), scale, offset)
        return self._damp(envelope, "low_q_region_erfc",
                          {"scale": float(scale), "offset": float(offset)}, inplace,
                          lazy_output, show_progressbar)

    def damp_extrapolate_to_zero(
        self,
        s_min: float | None = None,
        *,
        inplace: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Returns a new signal (inplace=False), unlike pyxem's ``damp_extrapolate_to_zero``: :meth:`extrapolate_low_s`.

        The same operation (φ linear to 0 below s_min) under pyxem's name,
        with this class's contract; recorded as ``extrapolate_low_s``.

        Parameters
        ----------
        s_min : float, optional
            As :meth:`extrapolate_low_s`.
        inplace, lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus or None

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> phi.damp_extrapolate_to_zero(0.2).metadata.ePDF.s_min
        0.2
        """
        return self.extrapolate_low_s(s_min, inplace=inplace, lazy_output=lazy_output,
                                      show_progressbar=show_progressbar)

    def fit_thermal_multiple_scattering_correction(self, *args, **kwargs):
        """Not available with pyxem's semantics: use :meth:`polynomial_correct` (returns a new signal).

        pyxem's method fits a per-pixel model in place, returns ``None`` and
        leaves no record; this class removes the same low-frequency
        multiple/inelastic-scattering artefact with the Mu polynomial
        (closed form for all probe positions, recorded in
        ``metadata.ePDF.history``).

        Parameters
        ----------
        *args, **kwargs
            Ignored.

        Raises
        ------
        TypeError
            Always, naming the replacement.

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> phi.fit_thermal_multiple_scattering_correction()
        Traceback (most recent call last):
        ...
        TypeError: ReducedIntensity1DPlus.fit_thermal_multiple_scattering_correction is pyxem's in-place method ...
        """
        raise TypeError(_base.pyxem_only("ReducedIntensity1DPlus",
                                         "fit_thermal_multiple_scattering_correction",
                                         "polynomial_correct(s_max, s_range)"))

    def _damp(self, envelope, kind, params, inplace, lazy_output, show_progressbar):
        _base.check_contract(inplace, lazy_output)
        self._require_reduced(f"damp_{kind}")
        data, lazy = _base.working_data(self, lazy_output)
        return _base.finish(
            self,
            corrections.apply_envelope(data, envelope),
            inplace=inplace,
            lazy=lazy,
            title=_title(f"damp_{kind}", self.metadata.General.title, **params),
            method=f"damp_{kind}",
            parameters=params,
            update=lambda out: out.metadata.set_item("ePDF.damping", {"kind": kind, **params}),
            show_progressbar=show_progressbar,
        )

    def extrapolate_low_s(
        self,
        s_min: float | None = None,
        *,
        inplace: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Remove the direct beam: φ below s_min becomes the line from 0 to φ(s_min).

        Parameters
        ----------
        s_min : float, optional
            Edge of the direct beam in Å⁻¹ (the paper: 0.18 Å⁻¹), from the
            first sample up to below the fit window. Default 0.14 Å⁻¹ or the
            first sample with counts (beam-stop edge) if later
            (:func:`pyxem_epdf.physics.chain.default_s_min`, measured). Below
            the first sample φ is always taken linear to 0 (in the transform),
            so ``s_min`` at the first sample is valid and changes nothing.
            Above 1 Å⁻¹ a warning asks whether it is in nm⁻¹. The first
            sample with counts is known from our integration's valid-pixel
            counts or, for eager I(s), from the data (zeros below a beam
            stop); a lazy profile without integration metadata is not
            computed for it, so give ``s_min`` there.
        inplace, lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus or None

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> float(phi.extrapolate_low_s(0.2).isig[0.0].data[0])
        0.0
        """
        _base.check_contract(inplace, lazy_output)
        self._require_reduced("extrapolate_low_s")
        s = _base.s_axis_values(self)
        fit_range = self.metadata.get_item("ePDF.fit.s_range", None)
        if fit_range is not None and s_min is not None:
            lo = float(fit_range[0])
            if not _common.as_float(s_min, "s_min", units="Å⁻¹") < lo:
                hint = f" In nm⁻¹? {s_min:g} nm⁻¹ = {s_min / 10:g} Å⁻¹." if s_min > 1 else ""
                raise ValueError(
                    f"'s_min' = {s_min:g} Å⁻¹ must lie below the fit window s_range = "
                    f"({lo:g}, {float(fit_range[1]):g}) Å⁻¹ (the direct-beam edge is at low s)."
                    + hint
                )
        s_min = chain.validate_chain_parameters(
            s, s_min=s_min, first_valid=_first_valid(self, s), r_max=1.0, r_step=1.0,
        ).s_min
        data, lazy = _base.working_data(self, lazy_output)
        out = corrections.extrapolate_low_s(data, s, s_min)
        return _base.finish(
            self,
            out,
            inplace=inplace,
            lazy=lazy,
            title=_title("extrapolate_low_s", self.metadata.General.title, s_min=s_min),
            method="extrapolate_low_s",
            parameters={"s_min": float(s_min)},
            update=lambda sig: sig.metadata.set_item("ePDF.s_min", float(s_min)),
            show_progressbar=show_progressbar,
        )

    # ------------------------------------------------------------- transform
    def suggest_damping(
        self,
        s_min: float,
        *,
        b_values=None,
        tolerance: float = 0.05,
        show_progressbar: bool | None = None,
        **metric_kwargs,
    ):
        """Suggest the damping factor b from the data (see :mod:`pyxem_epdf.physics.damping`).

        The smallest b whose G(r) has high-r noise (15–20 Å by default) below
        ``tolerance`` × the undamped first-peak height, medians over all
        probe positions. Per-pixel data need more damping than
        region-summed data (:meth:`sum_regions`); call it on each. A lazy
        signal is computed (φ is small: n_pixels × n_s).

        Parameters
        ----------
        s_min : float
            Direct-beam edge in Å⁻¹, as for :meth:`extrapolate_low_s`.
        b_values : array_like, optional
            Candidates in Å² (default 0–1.5 in steps of 0.05).
        tolerance : float
            Allowed high-r noise relative to the first-peak height.
        show_progressbar : bool, optional
            Progress bar when a lazy signal is computed.
        **metric_kwargs
            ``r_max``, ``r_step``, ``high_r``, ``low_r``, ``first_peak_range``
            of :func:`pyxem_epdf.physics.damping.damping_metrics`.

        Returns
        -------
        pyxem_epdf.physics.damping.DampingSuggestion
            ``.b``, ``.criterion`` and ``.plot()`` for the diagnostic.

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (2.8, 4.0))
        >>> 0 <= phi.polynomial_correct().suggest_damping(s_min=0.2).b <= 1.5
        True
        """
        from ..physics import damping

        self._require_reduced("suggest_damping")
        steps = self.metadata.get_item("ePDF.history", None)
        methods = [v["method"] for v in steps.as_dictionary().values()] if steps else []
        if any(m.startswith("damp_") for m in methods):
            raise ValueError(
                "suggest_damping needs undamped φ(s); this signal was already damped "
                f"({[m for m in methods if m.startswith('damp_')]})."
            )
        data = self.data
        if _base.is_dask(data):
            data = _base.compute(data, show_progressbar=show_progressbar)
        return damping.suggest_damping(
            np.asarray(data), _base.s_axis_values(self), s_min=s_min, b_values=b_values,
            tolerance=tolerance, **metric_kwargs,
        )

    def sum_regions(
        self,
        regions,
        *,
        mean: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Sum (or average) I(s) over regions of the scan before the chain.

        The paper's route for region PDFs (Laulainen et al. 2022, Fig. 2):
        summing the raw intensity first gives one well-exposed profile per
        region, which then goes through :meth:`fit_scattering` →
        … → :meth:`to_pdf` like any other profile. One tensor contraction for
        all regions; lazy in, lazy out.

        Parameters
        ----------
        regions : mask, signal, ROI, or list of them
            A boolean mask of the navigation shape (array order), a signal
            holding one (e.g. ``loading > 0.5``), a HyperSpy
            ``RectangularROI`` / ``CircleROI`` (2-D scans) or ``SpanROI``
            (1-D scans) in calibrated navigation units, or a list of these.
        mean : bool
            Average instead of sum (same φ(s); N scales by 1/n_pixels).
        lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus
            One profile for a single region; for a list, a navigation axis
            ``"region"`` of that length. ``metadata.ePDF.regions`` holds the
            number of probe positions and the mask of each region; a
            ``Signal.Noise_properties.variance`` signal is summed alike.

        Examples
        --------
        >>> import numpy as np, pyxem_epdf as epdf
        >>> synth = epdf.data.two_phase_composite(nav_shape=(6, 6), detector_shape=(32, 32))
        >>> ri = epdf.from_profile(synth.signal.get_azimuthal_integral1d(
        ...     npt=12, mean=True, show_progressbar=False))
        >>> zif = synth.fractions[..., 0] > 0.9
        >>> sums = ri.sum_regions([zif, ~zif])
        >>> sums.data.shape, sums.metadata.ePDF.regions.n_pixels == [int(zif.sum()), int((~zif).sum())]
        ((2, 12), True)
        """
        stage = self.metadata.get_item(_STAGE, "intensity")
        if stage != "intensity":
            raise ValueError(
                f"sum_regions sums I(s); this signal holds {stage!r} (metadata.ePDF.stage). "
                "Sum the intensity before fit_scattering."
            )
        single = not isinstance(regions, (list, tuple))
        if not single and len(regions) == 0:
            raise ValueError(
                "'regions' is an empty list; give a mask, signal or ROI, or a list of at least "
                "one of them."
            )
        masks = np.stack(
            [_regions.region_mask(self, r) for r in ([regions] if single else regions)]
        )
        counts = masks.reshape(len(masks), -1).sum(axis=1)
        out = self._weighted_sums(masks, counts if mean else None, None if single else "region",
                                  lazy_output, show_progressbar)
        kind = "mean" if mean else "sum"
        out.metadata.General.title = f"{self.metadata.General.title}, region {kind}"
        _base.record(
            out,
            "sum_regions",
            {"mean": bool(mean), "n_regions": len(masks), "n_pixels": counts.tolist()},
        )
        out.metadata.set_item("ePDF.regions.n_pixels", counts.tolist())
        out.metadata.set_item("ePDF.regions.kind", kind)
        out.metadata.set_item("ePDF.regions.masks", masks)
        return out

    def _weighted_sums(self, weights, divisor, axis_name, lazy_output, show_progressbar):
        """Σ over probe positions of I(s) × each weight map → a new signal.

        ``weights`` (n, *nav) in array order; ``divisor`` (n,) or None;
        ``axis_name`` None returns the single sum without a navigation axis.
        """
        data, lazy = _base.working_data(self, lazy_output)
        summed = _contract(weights, data, divisor)
        variance = self.metadata.get_item("Signal.Noise_properties.variance", None)
        if isinstance(variance, BaseSignal):
            var_div = None if divisor is None else np.asarray(divisor, dtype=float) ** 2
            summed_var = _contract(weights**2, variance.data, var_div)
        if axis_name is None:
            summed = summed[0]
        if _base.is_dask(summed) and not lazy:
            summed = _base.compute(summed, show_progressbar=show_progressbar)
        axes = [self.axes_manager.signal_axes[0].get_axis_dictionary()]
        if axis_name is not None:
            axes.insert(0, {"name": axis_name, "size": len(weights), "navigate": True})
        metadata = self.metadata.deepcopy()
        if metadata.has_item("Signal.Noise_properties.variance"):
            del metadata.Signal.Noise_properties.variance
        out = ReducedIntensity1DPlus(summed, axes=axes, metadata=metadata.as_dictionary())
        out._lazy = _base.is_dask(summed)
        out._assign_subclass()
        if isinstance(variance, BaseSignal):
            var_data = summed_var[0] if axis_name is None else summed_var
            if _base.is_dask(var_data) and not out._lazy:
                var_data = var_data.compute()
            out.metadata.set_item("Signal.Noise_properties.variance",
                                  out._deepcopy_with_new_data(var_data))
        return out

    def bootstrap_region(
        self,
        region,
        n_bootstrap: int = 200,
        *,
        seed: int = 0,
        mean: bool = False,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Bootstrap resamples of a region sum: probe positions drawn with replacement.

        Each resample sums I(s) over as many probe positions as the region
        has, drawn with replacement (multinomial multiplicities), so the
        spread of anything computed from the resamples (G(r), peak
        positions) estimates its uncertainty from the pixel-to-pixel
        variation: counting noise and real heterogeneity alike. All resamples
        are one tensor contraction; run the chain on the result as on any
        profile stack.

        Parameters
        ----------
        region : mask, signal or ROI
            As in :meth:`sum_regions` (one region).
        n_bootstrap : int
            Number of resamples (≥ 2; 200 gives σ to about ±5 %).
        seed : int
            Seed of the multinomial draws.
        mean : bool
            Average instead of sum.
        lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        ReducedIntensity1DPlus
            Navigation axis ``"bootstrap"`` of length ``n_bootstrap``;
            ``metadata.ePDF.regions`` as for :meth:`sum_regions`.

        Examples
        --------
        >>> import numpy as np, pyxem_epdf as epdf
        >>> synth = epdf.data.two_phase_composite(nav_shape=(6, 6), detector_shape=(32, 32))
        >>> ri = epdf.azimuthal_profile(synth.signal, npt=12)
        >>> boot = ri.bootstrap_region(synth.fractions[..., 0] > 0.9, 50)
        >>> boot.data.shape, boot.axes_manager.navigation_axes[0].name
        ((50, 12), 'bootstrap')
        """
        stage = self.metadata.get_item(_STAGE, "intensity")
        if stage != "intensity":
            raise ValueError(
                f"bootstrap_region resamples I(s); this signal holds {stage!r} "
                "(metadata.ePDF.stage). Resample the intensity before fit_scattering."
            )
        if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, (int, np.integer)) \
                or n_bootstrap < 2:
            raise ValueError(f"'n_bootstrap' must be an integer >= 2; got {n_bootstrap!r}.")
        mask = _regions.region_mask(self, region)
        index = np.flatnonzero(mask.ravel())
        n = index.size
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(n, np.full(n, 1.0 / n), size=int(n_bootstrap))
        weights = np.zeros((int(n_bootstrap), mask.size))
        weights[:, index] = draws
        weights = weights.reshape((int(n_bootstrap),) + mask.shape)
        out = self._weighted_sums(weights, np.full(int(n_bootstrap), n) if mean else None,
                                  "bootstrap", lazy_output, show_progressbar)
        kind = "mean" if mean else "sum"
        out.metadata.General.title = f"{self.metadata.General.title}, bootstrap region {kind}"
        _base.record(out, "bootstrap_region",
                     {"mean": bool(mean), "n_bootstrap": int(n_bootstrap), "seed": int(seed),
                      "n_pixels": int(n)})
        out.metadata.set_item("ePDF.regions.n_pixels", [int(n)] * int(n_bootstrap))
        out.metadata.set_item("ePDF.regions.kind", kind)
        out.metadata.set_item("ePDF.regions.masks", mask[None])
        return out

    def to_pdf(
        self,
        r_max: float = 20.0,
        r_step: float = 0.01,
        r_min: float = 0.0,
        *,
        dtype: str = "float64",
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """Transform φ(s) to the reduced PDF G(r) = 8π ∫ φ(s) sin(2π s r) ds.

        One matrix product for all probe positions
        (:func:`pyxem_epdf.physics.transform.sine_transform`, trapezoidal rule).

        Parameters
        ----------
        r_max : float
            Largest r in Å.
        r_step : float
            r spacing in Å (> 0).
        r_min : float
            Smallest r in Å (≥ 0).
        dtype : {"float64", "float32"}
            Precision of G(r). float32 halves the memory of the PDF cube (a
            512 × 512 scan with 2001 r values: 2.1 instead of 4.2 GB) and the
            time of the product; rounding ~1e-6 of max |G|.
        lazy_output, show_progressbar
            See :meth:`fit_scattering`.

        Returns
        -------
        PDF1DPlus
            G(r) in Å⁻² on the grid r_min, r_min + r_step, …, ≤ r_max (Å).

        Examples
        --------
        >>> import pyxem_epdf as epdf
        >>> phi = epdf.data.example_profile().fit_scattering("SiO2", (1.6, 2.5))
        >>> pdf = phi.to_pdf(r_max=10, r_step=0.02)
        >>> pdf.axes_manager.signal_axes[0].units, pdf.data.shape
        ('Å', (501,))
        """
        self._require_reduced("to_pdf")
        s = _base.s_axis_values(self)
        _, lazy_out = _base.working_data_kind(self, lazy_output)
        r = chain.checked_r_grid(r_max, r_step, r_min, n_s=s.size, n_patterns=_n_patterns(self),
                                 itemsize=np.dtype(_common.float_dtype(dtype)).itemsize,
                                 eager=not lazy_out)
        data, lazy = _base.working_data(self, lazy_output)
        g = transform.sine_transform(data, s, r, dtype=dtype)
        params = _pdf_parameters(r_min, r_max, r_step, dtype)
        return _base.finish(
            self,
            g,
            inplace=False,
            lazy=lazy,
            title=_title("to_pdf", self.metadata.General.title),
            method="to_pdf",
            parameters=params,
            update=lambda out: _pdf_metadata(out, r, params, float(s[-1])),
            show_progressbar=show_progressbar,
        )

    def get_pdf(
        self,
        composition,
        s_range: tuple[float, float] | None = None,
        *,
        b: float | None = None,
        s_min: float | None = None,
        lorch: bool = False,
        polynomial: bool = True,
        s_max: float | None = None,
        polynomial_range: tuple[float, float] | None = None,
        r_max: float = 20.0,
        r_step: float = 0.01,
        r_min: float = 0.0,
        dtype: str = "float64",
        table: str = "lobato",
        fix_c: bool = False,
        N=None,
        weights=None,
        min_window_counts: float = 100.0,
        c_pool: int | str | None = None,
        lazy_output: bool | None = None,
        show_progressbar: bool | None = None,
    ):
        """The whole chain I(s) → G(r) in one pass, without intermediate φ(s) signals.

        Gives the same G(r), maps and history as the step-by-step chain ::

            (self.fit_scattering(composition, s_range, ...)
                 .polynomial_correct(s_max, polynomial_range)   # if polynomial;
                                                                # default (s_min, s_max)
                 .damp_exponential(b)
                 .damp_lorch()                                  # if lorch
                 .extrapolate_low_s(s_min)
                 .to_pdf(r_max, r_step, r_min, dtype=dtype))

        but after the fit every step is linear in φ, so they are folded into
        one matrix (:func:`pyxem_epdf.physics.chain.chain_operator`) and
        applied to φ in one product (:func:`pyxem_epdf.physics.chain.intensity_to_pdf`):
        the chain costs about as much as its sine transform. Use the
        step-by-step methods to look at φ(s) on the way (e.g. while tuning);
        use this one to process a whole scan.

        Parameters
        ----------
        composition, s_range, table, fix_c, N, weights, min_window_counts, c_pool
            As :meth:`fit_scattering` (``N`` fixes N; only C is then fitted;
            ``c_pool``: where the ratio C/N is pooled, default ``"scan"`` for
            scans integrated by :func:`~pyxem_epdf.signals.azimuthal_profile`).
        b : float, optional
            Exponential damping exp(−b s²) in Å² (≥ 0; 0: none), as
            :meth:`damp_exponential`; default 5/s_last² with s_last the
            last sample up to s_max (0.8 Å² at 2.5 Å⁻¹).
        s_min : float, optional
            Edge of the direct beam in Å⁻¹, as :meth:`extrapolate_low_s`;
            default 0.14 Å⁻¹ or the first sample with counts if later.
        lorch : bool
            Also apply the Lorch window up to the last s (:meth:`damp_lorch`).
        polynomial : bool
            Subtract the Mu polynomial (:meth:`polynomial_correct`).
        s_max, polynomial_range : optional
            ``s_max`` and ``s_range`` of :meth:`polynomial_correct` (Å⁻¹);
            only with ``polynomial=True``. ``s_max`` may be anything up to the
            outer edge of the last bin; ``polynomial_range`` defaults to
            (s_min, s_max). Every parameter is checked by
            :func:`pyxem_epdf.physics.chain.validate_chain_parameters` (as the
            batch command's dry run does) before anything is computed.
        r_max, r_step, r_min, dtype
            As :meth:`to_pdf`.
        lazy_output : bool, optional
            Lazy result; default: lazy if this signal is lazy. With a lazy
            input and ``lazy_output=False``, G(r) and all maps are computed in
            one dask pass.
        show_progressbar : bool, optional
            Progress bar if a lazy computation is run here.

        Returns
        -------
        PDF1DPlus
            G(r) in Å⁻²; ``metadata.ePDF`` holds the fit maps, the polynomial
            coefficients and every parameter, as after the step-by-step chain.

        Examples
        --------
        >>> import numpy as np
        >>> import pyxem_epdf as epdf
        >>> ri = epdf.data.example_profile()
        >>> pdf = ri.get_pdf("SiO2", (2.8, 4.0), b=0.2, s_min=0.2, s_max=4.0, r_max=10.0)
        >>> steps = (ri.fit_scattering("SiO2", (2.8, 4.0))
        ...          .polynomial_correct(s_max=4.0, s_range=(0.2, 4.0))  # (s_min, s_max)
        ...          .damp_exponential(0.2).extrapolate_low_s(0.2).to_pdf(r_max=10.0))
        >>> bool(np.allclose(pdf.data, steps.data))
        True
        >>> [step["method"] for step in pdf.metadata.ePDF.history.as_dictionary().values()][1:]
        ['fit_scattering', 'polynomial_correct', 'damp_exponential', 'extrapolate_low_s',
         'to_pdf']

        Defaults only: the fit window is the upper part of the profile, b
        damps to e^−5 at its end, s_min is the beam-stop edge of these data:

        >>> pdf = ri.get_pdf("SiO2", r_max=10.0)
        >>> pdf.metadata.ePDF.s_min, pdf.metadata.ePDF.damping.b
        (0.17702, 0.2785)
        >>> pos, _ = pdf.find_peaks(2, r_range=(1.3, 3.0))  # Si–O 1.61, O–O 2.63 Å
        >>> pos.data.round(2).tolist()
        [1.61, 2.65]
        """
        if not polynomial and (s_max is not None or polynomial_range is not None):
            raise ValueError(
                "'s_max' and 'polynomial_range' set the Mu polynomial; they need polynomial=True."
            )
        s_axis = _base.s_axis_values(self)
        _, lazy_out = _base.working_data_kind(self, lazy_output)
        edge, first_valid = _edge(self, s_axis), _first_valid(self, s_axis)
        p = chain.validate_chain_parameters(
            s_axis, s_range=s_range, b=b, s_min=s_min, s_max=s_max,
            polynomial_range=polynomial_range, r_max=r_max, r_step=r_step, r_min=r_min,
            edge=edge, first_valid=first_valid,
            n_patterns=_n_patterns(self),
            itemsize=np.dtype(_common.float_dtype(dtype)).itemsize, eager=not lazy_out,
        )
        r, b, s_min, s_max_ = p.r, p.b, p.s_min, p.s_max
        pdf_params = _pdf_parameters(r_min, r_max, r_step, dtype)
        s, title = s_axis, _title("fit_scattering", self.metadata.General.title)
        steps = []  # (method, parameters) after fit_scattering, as the chain records them
        poly_params = None
        if polynomial:
            p_max, p_range = s_max_, p.polynomial_range
            poly_params = {"s_max": p_max, "s_range": tuple(map(float, p_range))}
            steps.append(("polynomial_correct", poly_params))
        else:
            p_max, p_range = float(s[-1]), None
        s_last = float(s[count_up_to(s, p_max) - 1])
        envelope = corrections.exponential_damping(s, b)
        steps.append(("damp_exponential", {"b": float(b)}))
        if lorch:
            envelope = envelope * corrections.lorch_damping(s, s_last)
            steps.append(("damp_lorch", {"s_max": s_last}))
        steps.append(("extrapolate_low_s", {"s_min": float(s_min)}))

        def start(data, result, f2, fsq):
            # Called by _fit as soon as N and C are known (before its outlier test,
            # window counts and warnings). NumPy data: φ, the coefficients and the
            # product φ L run in background threads while this thread finishes the
            # fit's bookkeeping and builds the output signal and its maps
            # (HyperSpy's Python work) into G's buffer; ready() before reading the
            # coefficients, wait() before returning.
            operator = chain.chain_operator(s, r, s_min=s_min, envelope=envelope, s_max=p_max,
                                            polynomial=polynomial, s_range=p_range)
            return chain.start_intensity_to_pdf(data, s, result.N, result.C, f2, fsq,
                                                operator, dtype=dtype)

        fitted, pending = self._fit(composition, p.s_range, table=table, fix_c=fix_c, N=N,
                                    weights=weights, min_window_counts=min_window_counts,
                                    lazy_output=lazy_output, c_pool=c_pool,
                                    known=(s_axis, edge, first_valid), then=start)
        try:
            return self._pdf_result(pending, fitted, s_min, steps, title, r, pdf_params,
                                    s_last, show_progressbar)
        finally:
            pending.wait()

    def _pdf_result(self, pending, fitted, s_min, steps, title, r, pdf_params, s_last,
                    show_progressbar):
        """The output signal of :meth:`get_pdf` around G (possibly still being filled)."""
        G, coefs = pending.G, pending.coefficients
        if _base.is_dask(G) and not fitted.lazy:  # everything in one pass
            fitted, G, coefs = _computed(fitted, G, coefs, show_progressbar)
        for method, params in steps:
            title = _title(method, title, **params)
        title = _title("to_pdf", title)

        def update(out):
            _fit_metadata(out, fitted, phi_axis=False)
            _base.record_steps(out, steps + [("to_pdf", pdf_params)])
            for method, params in steps:
                if method == "polynomial_correct":
                    pending.ready()  # formed first in the product threads
                    _polynomial_metadata(out, coefs, params, fitted.lazy)
                elif method.startswith("damp_"):
                    out.metadata.ePDF.damping = {"kind": method[5:], **params}
                else:
                    out.metadata.ePDF.s_min = float(s_min)
            _pdf_metadata(out, r, pdf_params, s_last, axis=False)

        return _base.finish(
            self,
            G,
            inplace=False,
            lazy=fitted.lazy,
            title=title,
            method="fit_scattering",
            parameters=fitted.parameters,
            update=update,
            show_progressbar=show_progressbar,
            signal_axis=_r_axis(r, pdf_params),
            signal_type="epdf_pdf",
        )

    # --------------------------------------------------------------- helpers
    def _require_reduced(self, method):
        stage = self.metadata.get_item(_STAGE, "reduced_intensity")
        if stage != "reduced_intensity":
            raise ValueError(
                f"{method} needs φ(s); this signal holds {stage!r} "
                "(metadata.ePDF.stage). Call fit_scattering(composition, s_range) first."
            )


class LazyReducedIntensity1DPlus(_base.LazyComputeMixin, LazySignal1D, ReducedIntensity1DPlus):
    """Lazy twin of :class:`ReducedIntensity1DPlus`; ``compute()`` runs BLAS on one thread per
    dask task (:class:`~pyxem_epdf.signals._base.LazyComputeMixin`).

    Computation is delayed until ``compute()`` is called. Obtained from
    ``hs.load(..., lazy=True)``, ``as_lazy()`` or :func:`pyxem_epdf.from_profile`
    of a lazy profile; not meant to be instantiated directly.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> lazy = epdf.data.example_profile().as_lazy()
    >>> type(lazy).__name__
    'LazyReducedIntensity1DPlus'
    """

    __doc__ += _base.LAZY_DOC


# ---------------------------------------------------------------------------
def _composition(composition, signal):
    """(elements, fractions, metadata) for a composition or a composition map."""
    if isinstance(composition, Mapping) and any(
        isinstance(v, BaseSignal) or np.ndim(v) > 0 for v in composition.values()
    ):
        nav_shape = signal.axes_manager._navigation_shape_in_array
        elements, arrays = [], []
        for el, value in composition.items():
            (symbol,) = scattering.parse_composition({el: 1.0})
            arr = np.asarray(value.data if isinstance(value, BaseSignal) else value, dtype=float)
            if arr.shape != tuple(nav_shape):
                raise ValueError(
                    f"Composition map for {el!r} in 'composition' has shape {arr.shape}; "
                    f"it must have the navigation shape {tuple(nav_shape)}."
                )
            elements.append(symbol)
            arrays.append(arr)
        fractions = np.stack(arrays, axis=-1)
        if np.any(~np.isfinite(fractions)) or np.any(fractions < 0):
            raise ValueError("Composition maps in 'composition' must be finite and >= 0.")
        total = fractions.sum(axis=-1)
        if np.any(np.abs(total - 1) > 1e-3):
            raise ValueError(
                "Composition maps in 'composition' must sum to 1 at every pixel; "
                f"sums range {total.min():.4g}–{total.max():.4g}."
            )
        fractions = fractions / total[..., None]
        return elements, fractions, "per-pixel map: " + ", ".join(elements)
    parsed = scattering.parse_composition(composition)
    elements = list(parsed)
    return elements, np.array([parsed[e] for e in elements]), dict(parsed)


def _fixed_n(signal, N, lazy):
    """(N array or None, its metadata record) of ``fit_scattering(..., N=...)``.

    A lazy map is computed only when the output is eager.
    """
    if N is None:
        return None, None
    nav_shape = tuple(signal.axes_manager._navigation_shape_in_array)
    value = N.data if isinstance(N, BaseSignal) else N
    if not nav_shape and np.size(value) == 1 and np.ndim(value) > 0:  # map of a 0-D scan
        value = value.reshape(())
    if _base.is_dask(value) and not lazy:
        value = value.compute()
    shape = np.shape(value) if not isinstance(value, (str, bytes)) else ()
    if shape and shape != nav_shape:  # a map of another scan: no numpy broadcasting
        raise ValueError(
            f"'N' of shape {shape} must be a single value or have the navigation "
            f"shape {nav_shape}."
        )
    value = fit.check_fixed_n(value, nav_shape)
    if not isinstance(N, BaseSignal) and np.ndim(N) == 0:
        return value, float(N)
    return value, "per-pixel map"


def _weights(signal, weights, data):
    """The weight array of a fit: None (unweighted), 1/variance or the user's.

    Rule for the variance: bins with variance <= 0 or non-finite (negative
    counts give a negative Poisson estimate) get weight 0, never a negative
    or infinite one; an eager signal warns how many.
    """
    if weights is None or (isinstance(weights, str) and weights in ("poisson", "none")):
        return None
    if isinstance(weights, str):
        if weights != "variance":
            raise ValueError(
                "'weights' must be None, 'none', 'variance', 'poisson', an array or a signal; "
                f"got {weights!r}."
            )
        var = signal.metadata.get_item("Signal.Noise_properties.variance", None)
        if var is None:
            raise ValueError(
                "weights='variance' needs metadata.Signal.Noise_properties.variance "
                "(e.g. from estimate_poissonian_noise_variance())."
            )
        var = var.data if isinstance(var, BaseSignal) else np.asarray(var, dtype=float)
        _check_weight_shape(np.shape(var), data.shape, "variance")
        if not _base.is_dask(var):
            bad = ~(np.isfinite(var) & (var > 0))
            if np.any(bad):
                warnings.warn(
                    f"{int(np.count_nonzero(bad))} of {bad.size} variance values are <= 0 or "
                    f"not finite (min {np.nanmin(np.where(np.isfinite(var), var, np.nan)):.3g}; "
                    "negative counts give a negative Poisson variance): those bins get "
                    "weight 0 in the fit.",
                    UserWarning, stacklevel=4,
                )
        ok = np.isfinite(var) & (var > 0)
        return np.where(ok, 1.0 / np.where(ok, var, 1.0), 0.0)
    w = weights.data if isinstance(weights, BaseSignal) else weights
    if not _base.is_dask(w):
        try:
            w = np.asarray(w, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(
                "'weights' must be None, 'none', 'variance', 'poisson', an array or a signal; "
                f"got {type(weights).__name__}."
            ) from None
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise ValueError("'weights' must be finite and >= 0.")
    _check_weight_shape(np.shape(w), data.shape, "weights")
    return w


def _check_weight_shape(shape, data_shape, what):
    try:
        np.broadcast_shapes(tuple(shape), tuple(data_shape))
    except ValueError:
        raise ValueError(
            f"'weights' ({what}) of shape {tuple(shape)} cannot be broadcast to the data of "
            f"shape {tuple(data_shape)} (navigation + s)."
        ) from None


def _weights_name(weights):
    if weights is None or isinstance(weights, str):
        return str(weights)
    return "user array"


def _edge(signal, s):
    """Outer edge of the last s bin from our integration's edges, else None."""
    edges = _base.lookup(signal.metadata, "ePDF.integration.edges", None)
    if edges is None or len(edges) != s.size + 1:
        return None
    return float(edges[-1])


def _first_valid(signal, s):
    """First s with counts (below it: beam stop or mask), or None.

    From ``metadata.ePDF.first_valid_s`` (set by the fit), the valid-pixel
    counts of our integration, or — for eager I(s) — the first sample that
    is non-zero and finite in some pattern. A lazy signal is never computed.
    """
    value = _base.lookup(signal.metadata, "ePDF.first_valid_s", None)
    if value is not None:
        return float(value)
    n_valid = _base.lookup(signal.metadata, "ePDF.integration.n_valid", None)
    if n_valid is not None and len(n_valid) == s.size:
        index = np.flatnonzero(np.asarray(n_valid) > 0)
        return float(s[index[0]]) if index.size else None
    if _base.lookup(signal.metadata, _STAGE, "intensity") != "intensity" or _base.is_dask(signal.data):
        return None
    data = np.asarray(signal.data)
    used = np.any((data != 0) & np.isfinite(data), axis=tuple(range(data.ndim - 1)))
    index = np.flatnonzero(used)
    return float(s[index[0]]) if index.size else None


_MAP_TITLES = {
    "window_counts": "counts in the fit window",
    "finite": "finite I(s)",
    "outlier": "fit-quality outlier",
    "z_N": "robust z of log N",
    "z_chi2": "robust z of log reduced χ²",
    "C_over_N": "C/N (pooled)",
    "pooled": "pooled C/N used",
    "C_offset": "C offset (affine pool)",
}


def _pixels(mask, limit=3):
    """Text naming the first few navigation indices of a boolean map."""
    index = np.argwhere(np.asarray(mask))
    text = ", ".join(str(tuple(int(i) for i in row)) for row in index[:limit])
    return text + (", …" if len(index) > limit else "")


def _warn_invalid(result, outlier, data, s_range, stacklevel=4):
    """One warning per cause of invalid patterns (eager fits only)."""
    if _base.is_dask(result.valid) or np.ndim(result.valid) == 0 and bool(result.valid):
        return
    total = int(np.size(result.valid))
    finite = np.asarray(result.finite, dtype=bool) & np.ones(np.shape(result.valid), bool)
    if not np.all(finite):
        bad = ~finite
        warnings.warn(
            f"{int(np.count_nonzero(bad))} of {total} patterns contain NaN or inf in I(s) "
            f"(e.g. at {_pixels(bad)}; unmasked hot or dead detector pixels?): their φ(s) and "
            "G(r) are set to 0 and valid = False (metadata.ePDF.fit.finite).",
            UserWarning, stacklevel=stacklevel,
        )
    nonpositive = finite & ~(np.asarray(result.N) > 0)
    if np.any(nonpositive):
        with np.errstate(invalid="ignore"):
            level = np.nanmax(np.where(np.isfinite(data), data, np.nan), axis=-1)
        zero, negative = nonpositive & (level == 0), nonpositive & (level < 0)
        other = nonpositive & ~zero & ~negative
        for mask, what in ((zero, "have no counts at all (vacuum, or a blank or masked pattern)"),
                           (negative, "are negative everywhere (background subtracted too "
                                      "much, or a detector offset)")):
            if np.any(mask):
                n_bad = int(np.count_nonzero(mask))
                every = "All patterns" if np.all(mask) else f"{n_bad} of {total} patterns"
                warnings.warn(
                    f"{every} {what}, e.g. at {_pixels(mask)}: N cannot be fitted; their φ(s) "
                    "and G(r) are set to 0 and valid = False (metadata.ePDF.fit.valid).",
                    UserWarning, stacklevel=stacklevel,
                )
        if np.any(other):
            warnings.warn(
                f"{int(np.count_nonzero(other))} of {total} patterns have a fitted N <= 0 in "
                f"s_range {tuple(s_range)} (e.g. at {_pixels(other)}; vacuum, or the window "
                "holds no structureless scattering): φ(s) is set to 0 and valid = False "
                "(metadata.ePDF.fit.valid).",
                UserWarning, stacklevel=stacklevel,
            )
    outlier = np.asarray(outlier, dtype=bool)
    if np.any(outlier):
        warnings.warn(
            f"{int(np.count_nonzero(outlier))} of {total} patterns are fit-quality outliers "
            f"(e.g. at {_pixels(outlier)}): log N or log reduced χ² lies more than "
            f"{fit.OUTLIER_Z:g} robust standard deviations from the scan's median. They keep "
            "their φ(s) but get valid = False, so decompositions skip them "
            "(metadata.ePDF.fit.outlier, z_N, z_chi2).",
            UserWarning, stacklevel=stacklevel,
        )


def _contract(masks, data, divisor):
    """Σ over the navigation axes of ``data`` weighted by each mask: (n_regions, n_s)."""
    nav_ndim = masks.ndim - 1
    weights = masks.astype(data.dtype if np.issubdtype(data.dtype, np.floating) else float)
    if _base.is_dask(data):
        import dask.array as da

        out = da.tensordot(da.from_array(weights), data, axes=nav_ndim)
    else:
        out = np.tensordot(weights, data, axes=nav_ndim)
    if divisor is not None:
        out = out / np.asarray(divisor, dtype=float)[:, None]
    return out


def _window_counts(signal, data, s, s_range, *, unweighted=False):
    """Counts per pattern in an s window: mean counts × valid pixels per bin, summed.

    Needs the valid-pixel counts of our integration; without them returns
    None, or with ``unweighted=True`` the plain sum of the profile over the
    window (a vADF-like image up to a factor per bin).
    """
    from ..physics._common import window_slice

    n_valid = _base.lookup(signal.metadata, "ePDF.integration.n_valid", None)
    if n_valid is not None:
        n_valid = np.asarray(n_valid, dtype=float)
        if n_valid.size != s.size:
            n_valid = None
    if n_valid is None and not unweighted:
        return None
    win = window_slice(s, *s_range)
    weights = 1.0 if n_valid is None else n_valid[win]
    window = data[..., win]
    finite = np.isfinite(window)
    if _base.is_dask(window) or not finite.all():
        window = np.where(finite, window, 0.0)  # non-finite patterns: invalid anyway
    return (window * weights).sum(axis=-1)


def _base_model(result, f2):
    from ..physics._common import expand_nav

    return expand_nav(result.N) * f2 + expand_nav(result.C)


def _coef_signal(template, coefs):
    """Map of the 3 polynomial coefficients (navigation + one signal axis)."""
    from hyperspy.signals import Signal1D

    data = coefs if _base.is_dask(coefs) else np.array(coefs)
    sig = Signal1D(data)
    if _base.is_dask(data):
        sig = sig.as_lazy()
    _base.copy_nav_axes(template, sig)
    if not _base.is_dask(sig.data):
        sig.data.flags.writeable = False  # shared between chain steps: never written to
    sig.axes_manager.signal_axes[0].name = "coefficient (c0, c1, c2)"
    sig.metadata.General.title = "Mu polynomial coefficients"
    return sig


@dataclasses.dataclass(frozen=True)
class _Fitted:
    """What :meth:`ReducedIntensity1DPlus._fit` hands to the chain methods."""

    s: np.ndarray
    data: object
    lazy: bool
    f2: np.ndarray
    fsq: np.ndarray
    result: fit.ScatteringFit
    window_counts: object
    elements: list
    parameters: dict
    quality: dict
    first_valid: float | None


def _computed(fitted, G, coefs, show_progressbar):
    """Compute G, the coefficients and every fit map in one dask pass."""
    names = [f.name for f in dataclasses.fields(fitted.result)]
    qnames = list(fitted.quality)
    arrays = ([G, coefs, fitted.window_counts] + [getattr(fitted.result, n) for n in names]
              + [fitted.quality[n] for n in qnames])
    lazy = [i for i, a in enumerate(arrays) if _base.is_dask(a)]
    values = _base.compute(*[arrays[i] for i in lazy], show_progressbar=show_progressbar)
    values = values if len(lazy) > 1 else (values,)
    for i, v in zip(lazy, values, strict=True):
        arrays[i] = v
    k = 3 + len(names)
    result = dataclasses.replace(fitted.result, **dict(zip(names, arrays[3:k], strict=True)))
    quality = dict(zip(qnames, arrays[k:], strict=True))
    return (dataclasses.replace(fitted, result=result, window_counts=arrays[2], quality=quality),
            arrays[0], arrays[1])


def _fit_metadata(out, fitted, phi_axis=True):
    """The maps and parameters :meth:`ReducedIntensity1DPlus.fit_scattering` records
    (``phi_axis``: also the signal axis units of φ(s); ``False`` when ``out``
    already has the r axis of G, :meth:`~ReducedIntensity1DPlus.get_pdf`)."""
    result, lazy, params = fitted.result, fitted.lazy, fitted.parameters
    maps = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    maps.update(fitted.quality)
    if fitted.window_counts is not None:
        maps["window_counts"] = fitted.window_counts
    nav_shape = tuple(out.axes_manager._navigation_shape_in_array)
    arrays = {}
    for key, value in maps.items():
        if not lazy and _base.is_dask(value):
            value = value.compute()
        if not _base.is_dask(value):
            value = np.broadcast_to(np.asarray(value), nav_shape).copy()
        title = _MAP_TITLES.get(key, key)
        if key == "N" and params.get("N") is not None:
            title = "N (fixed)"
        arrays[key] = (value, title)
    md = out.metadata
    node = md.ePDF  # made by finish's record (the nodes are set directly, not by
    # set_item's path walks: the same tree, ~20 µs less per entry)
    # The maps are built when first read (fresh arrays, made read-only):
    # HyperSpy's constructor costs ~1 ms per signal (_base.MapTree).
    extra = [("outlier_threshold", float(fit.OUTLIER_Z)), ("elements", fitted.elements),
             ("s_range", list(params["s_range"])), ("fix_c", params["fix_c"]),
             ("N_fixed", params["N"] is not None), ("weights", params["weights"]),
             ("table", params["table"]), ("c_pool", params["c_pool"])]
    node.fit = _base.deferred_nav_signals(
        out, arrays, read_only=True, base=_base.lookup(node, "fit"), extra=extra)
    if fitted.first_valid is not None and fitted.first_valid > fitted.s[0]:
        node.first_valid_s = float(fitted.first_valid)
    node.composition = params["composition"]
    node.stage = "reduced_intensity"
    md.Signal.quantity = "φ(s) (Å⁻¹)"
    if phi_axis:
        out.axes_manager.signal_axes[0].units = "Å^-1"


def _polynomial_window(signal, s, s_max, s_range, s_min=None):
    """``s_max`` and fit window of :meth:`ReducedIntensity1DPlus.polynomial_correct`
    with their defaults resolved: s_range (s_min, s_max), s_min that of
    ``extrapolate_low_s`` (or ``s_min``) else the default direct-beam edge."""
    s_max = float(s[-1]) if s_max is None else _common.check_s_max(s, s_max,
                                                                   edge=_edge(signal, s))
    if s_range is None:
        lo = signal.metadata.get_item("ePDF.s_min", None) if s_min is None else s_min
        if lo is None:
            lo = chain.default_s_min(s, _first_valid(signal, s))
        s_range = (max(float(lo), float(s[0])), s_max)
    else:
        s_range = _common.as_pair(s_range, "s_range")
    return s_max, s_range


def _polynomial_metadata(out, coefs, params, lazy):
    c = coefs.compute() if (_base.is_dask(coefs) and not lazy) else coefs
    md = out.metadata
    coef_map = _coef_recipe(out, c)
    if coef_map is None:  # lazy, or navigation _coef_recipe does not defer
        coef_map = _coef_signal(out, c)
    md.ePDF.polynomial = _base.map_tree(
        [("coefficients", coef_map), ("s_max", params["s_max"]),
         ("s_range", list(params["s_range"]))], base=_base.lookup(md.ePDF, "polynomial"))


def _coef_recipe(template, coefs):
    """:func:`_coef_signal`, built when first read (``None`` for dask ``coefs``
    or navigation axes that are not all uniform: those are built at once)."""
    if _base.is_dask(coefs):
        return None
    nav = template.axes_manager.navigation_axes[::-1]  # array order
    if not all(ax.is_uniform for ax in nav):
        return None
    from hyperspy.signals import Signal1D

    axes = [{"name": ax.name, "units": ax.units, "scale": ax.scale, "offset": ax.offset,
             "size": ax.size, "navigate": True} for ax in nav]
    axes.append({"name": "coefficient (c0, c1, c2)", "size": 3, "navigate": False})
    return _base.MapRecipe(Signal1D, np.array(coefs), axes, "Mu polynomial coefficients",
                            read_only=True)


def _n_patterns(signal):
    return int(np.prod(signal.axes_manager._navigation_shape_in_array, dtype=np.int64))


def _pdf_parameters(r_min, r_max, r_step, dtype):
    from ..physics._common import float_dtype

    return {"r_min": float(r_min), "r_max": float(r_max), "r_step": float(r_step),
            "dtype": float_dtype(dtype)}


def _r_axis(r, params):
    """The signal axis of G(r) (for :func:`_base.set_signal_axis`)."""
    return {"name": "r", "units": "Å", "offset": float(r[0]), "scale": params["r_step"],
            "size": r.size}


def _pdf_metadata(out, r, params, s_last, axis=True):
    """Metadata of G(r); with ``axis``, first the r axis and the signal type."""
    if axis:
        _base.set_signal_axis(out, **_r_axis(r, params))
        out.set_signal_type("epdf_pdf")
    node = out.metadata.ePDF  # made by finish's record
    node.stage = "pdf"
    node.r_grid = {k: params[k] for k in ("r_min", "r_max", "r_step")}
    node.s_max = s_last
    out.metadata.Signal.quantity = "G(r) (Å⁻²)"
    fit_node = _base.lookup(node, "fit")
    n_map = None if fit_node is None else _base.stored(fit_node, "N")
    if n_map is not None and out.axes_manager.navigation_dimension in (1, 2):
        # HyperSpy's default navigator: the scattering-scale map (built when read)
        _base.set_navigator(out, n_map)


#: Prefixes our chain puts before the source title (one level is kept).
_TITLE_PREFIXES = ("G(r) of ", "φ(s) of ", "I(s) of ")


def _source_title(title):
    """The title without the chain's own "G(r) of " / "φ(s) of " / "I(s) of " prefixes."""
    title = str(title).strip()
    changed = True
    while changed:
        changed = False
        for prefix in _TITLE_PREFIXES:
            if title.startswith(prefix):
                title, changed = title[len(prefix):].strip(), True
    return title


def _title(method, title, **params):
    """The title a chain method gives its output: one level, "φ(s) of X" or "G(r) of X".

    The steps themselves are in ``metadata.ePDF.history``, not in the title.
    """
    source = _source_title(title) or "I(s)"
    return f"{'G(r)' if method == 'to_pdf' else 'φ(s)'} of {source}"
