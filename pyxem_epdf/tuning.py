"""Interactive tuning of the chain parameters on a region-averaged profile.

:func:`tune` opens one matplotlib figure with sliders for the fit window
(s_lo, s_hi), the damping b and the direct-beam edge s_min, and shows the fit
of N⟨f²⟩ + C to I(s), the corrected and damped φ(s) and G(r), all recomputed
on every slider move with the pure functions of :mod:`pyxem_epdf.physics`
(a few milliseconds for one profile). Works in Jupyter with an interactive
matplotlib backend (``%matplotlib widget``) and in any desktop backend; the
chosen values are in :attr:`Tuner.params`, ready for the chain
(:meth:`Tuner.apply`) or a batch configuration (:meth:`Tuner.config_toml`).
"""

from __future__ import annotations

import numpy as np

from .physics import corrections, fit, scattering, transform

__all__ = ["Tuner", "tune"]


class Tuner:
    """Live view of the chain on one profile; see :func:`tune`.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    sliders : dict of matplotlib.widgets.Slider
        ``"s_lo"``, ``"s_hi"``, ``"b"``, ``"s_min"``.
    message : str
        Empty, or why the last setting could not be used.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pyxem_epdf as epdf
    >>> ri = epdf.data.example_profile()
    >>> tuner = Tuner(ri, "SiO2", s_range=(2.8, 4.0), b=0.2, s_min=0.2, s_max=4.0)
    >>> sorted(tuner.sliders), tuner.message
    (['b', 's_hi', 's_lo', 's_min'], '')
    >>> tuner.params
    {'s_range': [2.8, 4.0], 'b': 0.2, 's_min': 0.2, 's_max': 4.0}
    >>> tuner.sliders["s_lo"].set_val(4.1)  # above s_hi: reported, view kept
    >>> tuner.message
    "'s_range' must satisfy lo < hi; got (4.1, 4.0)."
    >>> plt.close(tuner.figure)
    """

    def __init__(self, ri, composition, *, s_range=(1.6, 2.5), b=0.8, s_min=0.18,
                 s_max=None, r_max=10.0, r_step=0.01, table="lobato"):
        import matplotlib.pyplot as plt
        from matplotlib.widgets import Slider

        from .signals import _base

        if ri.axes_manager.navigation_dimension != 0:
            raise ValueError(
                "tune works on one profile: sum a region first, e.g. "
                "ri.sum_regions(mask) (navigation dimension must be 0)."
            )
        if ri.metadata.get_item("ePDF.stage", "intensity") != "intensity":
            raise ValueError("tune needs I(s) (metadata.ePDF.stage 'intensity').")
        data = ri.data.compute() if _base.is_dask(ri.data) else ri.data
        self._intensity = np.asarray(data, dtype=float)
        self._s = _base.s_axis_values(ri)
        elements, fractions = scattering.composition_arrays(composition)
        f = scattering.scattering_factors(elements, self._s, table)
        self._f2, self._fsq = scattering.scattering_averages(fractions, f)
        self._s_max = float(self._s[-1] if s_max is None else s_max)
        self._r = transform.r_grid(r_max, r_step)
        self._composition = composition
        self.message = ""
        s0, s1 = float(self._s[0]), float(self._s[-1])
        # constrained layout keeps the x-labels clear of the sliders and the slider
        # labels (drawn left of their axes) inside the figure
        self.figure = plt.figure(figsize=(11, 6.5), layout="constrained")
        grid = self.figure.add_gridspec(5, 3, height_ratios=[6, 0.4, 0.4, 0.4, 0.4])
        self._ax_fit = self.figure.add_subplot(grid[0, 0])
        self._ax_phi = self.figure.add_subplot(grid[0, 1])
        self._ax_g = self.figure.add_subplot(grid[0, 2])
        specs = [("s_lo", s0, s1, s_range[0], "fit window lo (Å⁻¹)"),
                 ("s_hi", s0, s1, s_range[1], "fit window hi (Å⁻¹)"),
                 ("b", 0.0, 2.0, b, "damping b (Å²)"),
                 ("s_min", s0, min(1.0, s1), s_min, "s_min (Å⁻¹)")]
        self.sliders = {}
        for row, (key, lo, hi, value, label) in enumerate(specs, start=1):
            ax = self.figure.add_subplot(grid[row, :])
            self.sliders[key] = Slider(ax, label, lo, hi, valinit=float(value))
            self.sliders[key].on_changed(lambda _v: self.update())
        self._lines = {}
        self.update()
        if self._lines:
            self._ax_fit.legend(fontsize=8)

    @property
    def params(self):
        """The current values as chain parameters (dict)."""
        v = {k: float(s.val) for k, s in self.sliders.items()}
        return {"s_range": [round(v["s_lo"], 4), round(v["s_hi"], 4)], "b": round(v["b"], 4),
                "s_min": round(v["s_min"], 4), "s_max": self._s_max}

    def update(self):
        """Recompute the fit, φ(s) and G(r) for the slider values and redraw.

        Called on every slider move; call it yourself after changing a
        slider with its events switched off.

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> import pyxem_epdf as epdf
        >>> ri = epdf.data.example_profile()
        >>> tuner = Tuner(ri, "SiO2", s_range=(2.8, 4.0), b=0.2, s_min=0.2, s_max=4.0)
        >>> tuner.figure.axes[0].get_title()
        'fit: N = 8912, C = 1.62'
        >>> slider = tuner.sliders["s_hi"]
        >>> slider.eventson = False
        >>> slider.set_val(3.5)
        >>> tuner.figure.axes[0].get_title()  # not yet recomputed
        'fit: N = 8912, C = 1.62'
        >>> tuner.update()
        >>> tuner.figure.axes[0].get_title()
        'fit: N = 9744, C = -5.81'
        >>> plt.close(tuner.figure)
        """
        p = self.params
        try:
            res = fit.fit_scattering_background(self._intensity, self._s, self._f2,
                                                tuple(p["s_range"]))
            phi = fit.reduced_intensity(self._intensity, self._s, res.N, res.C,
                                        self._f2, self._fsq)
            # get_pdf's default polynomial window (s_min, s_max), so that apply() and
            # the batch config reproduce this view exactly
            lo = max(float(p["s_min"]), float(self._s[0]))
            coefs = corrections.fit_polynomial_correction(
                phi, self._s, s_max=self._s_max, s_range=(lo, self._s_max))
            keep = self._s <= self._s_max * (1 + 1e-12)
            s = self._s[keep]
            phi = phi[keep] - corrections.polynomial_baseline(coefs, s, self._s_max)
            phi = corrections.extrapolate_low_s(
                phi * corrections.exponential_damping(s, p["b"]), s, p["s_min"])
            g = transform.sine_transform(phi, s, self._r)
            self.message = ""
        except ValueError as err:
            self.message = str(err)
            self.figure.suptitle(self.message, color="C3", fontsize=9)
            return
        self.figure.suptitle("")
        model = float(res.N) * self._f2 + float(res.C)
        self._draw("I", self._ax_fit, self._s, self._intensity, "I(s)", "k")
        self._draw("model", self._ax_fit, self._s, model, "N⟨f²⟩ + C", "C3")
        self._ax_fit.set_yscale("log")
        self._ax_fit.set_title(f"fit: N = {float(res.N):.4g}, C = {float(res.C):.3g}")
        self._draw("phi", self._ax_phi, s, phi, "φ(s)", "C0")
        self._ax_phi.set_title("φ(s), corrected and damped")
        self._draw("G", self._ax_g, self._r, g, "G(r)", "C1")
        self._ax_g.set_title("G(r)")
        for ax in (self._ax_fit, self._ax_phi, self._ax_g):
            ax.relim()
            ax.autoscale_view()
        self._ax_fit.set_xlabel("s (Å⁻¹)")
        self._ax_fit.set_ylabel("I(s) (counts per pixel)")
        self._ax_phi.set_xlabel("s (Å⁻¹)")
        self._ax_phi.set_ylabel("φ(s) (Å⁻¹)")
        self._ax_g.set_xlabel("r (Å)")
        self._ax_g.set_ylabel("G(r) (Å⁻²)")
        self.figure.canvas.draw_idle()

    def _draw(self, key, ax, x, y, label, color):
        if key in self._lines:
            self._lines[key].set_data(x, y)
        else:
            (self._lines[key],) = ax.plot(x, y, color=color, label=label)

    def apply(self, ri, **kwargs):
        """Run the chain with the tuned values on any I(s) signal (e.g. the full cube).

        One pass through :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.get_pdf`
        (same result and history as the five step-by-step methods).

        Parameters
        ----------
        ri : ReducedIntensity1DPlus
        **kwargs
            ``r_max``, ``r_step`` (default: the tuner's r grid), ``dtype``,
            ``lazy_output`` and the ``fit_scattering`` options of ``get_pdf``.

        Returns
        -------
        PDF1DPlus

        Examples
        --------
        The tuned values of :data:`pyxem_epdf.data.SIO2_CHAIN` give the
        packaged example PDF:

        >>> import matplotlib; matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> import pyxem_epdf as epdf
        >>> ri = epdf.data.example_profile()
        >>> tuner = Tuner(ri, "SiO2", s_range=(2.8, 4.0), b=0.2, s_min=0.2, s_max=4.0)
        >>> import numpy as np
        >>> pdf = tuner.apply(ri, r_max=10.0, r_step=0.01)
        >>> type(pdf).__name__, pdf.data.shape
        ('PDF1DPlus', (1001,))
        >>> steps = (ri.fit_scattering("SiO2", (2.8, 4.0))
        ...          .polynomial_correct(s_max=4.0, s_range=(0.2, 4.0))  # (s_min, s_max)
        ...          .damp_exponential(0.2).extrapolate_low_s(0.2).to_pdf(10.0, 0.01))
        >>> bool(np.allclose(pdf.data, steps.data))
        True
        >>> plt.close(tuner.figure)
        """
        p = self.params
        r_max = kwargs.pop("r_max", float(self._r[-1]))
        r_step = kwargs.pop("r_step", float(self._r[1] - self._r[0]))
        return ri.get_pdf(self._composition, tuple(p["s_range"]), b=p["b"], s_min=p["s_min"],
                          s_max=p["s_max"], r_max=r_max, r_step=r_step, **kwargs)

    def config_toml(self):
        """The tuned values as a ``[chain]`` block for ``pyxem-epdf process``.

        Returns
        -------
        str
            TOML text; add ``composition`` before using it as a configuration.

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> import pyxem_epdf as epdf
        >>> ri = epdf.data.example_profile()
        >>> tuner = Tuner(ri, "SiO2", s_range=(2.8, 4.0), b=0.2, s_min=0.2, s_max=4.0)
        >>> print(tuner.config_toml())
        [chain]
        s_range = [2.8, 4.0]
        b = 0.2
        s_min = 0.2
        s_max = 4.0
        <BLANKLINE>
        >>> from pyxem_epdf.batch import tomllib
        >>> from pyxem_epdf.batch import load_config
        >>> cfg = tomllib.loads(tuner.config_toml())
        >>> cfg["chain"]["composition"] = "SiO2"
        >>> load_config(cfg)["chain"]["s_range"]
        [2.8, 4.0]
        >>> plt.close(tuner.figure)
        """
        p = self.params
        return (f"[chain]\ns_range = [{p['s_range'][0]}, {p['s_range'][1]}]\n"
                f"b = {p['b']}\ns_min = {p['s_min']}\ns_max = {p['s_max']}\n")


def tune(ri, composition, **kwargs):
    """Open the interactive tuning view on a region-averaged I(s).

    Parameters
    ----------
    ri : ReducedIntensity1DPlus
        One profile (``navigation_dimension == 0``), e.g. from
        :meth:`~pyxem_epdf.signals.ReducedIntensity1DPlus.sum_regions`.
    composition : dict or str
        As for ``fit_scattering``.
    **kwargs
        Initial ``s_range``, ``b``, ``s_min`` and ``s_max`` (polynomial),
        ``r_max``, ``r_step`` (Å), ``table``.

    Returns
    -------
    Tuner
        Keep a reference (the sliders live as long as it does); read
        ``tuner.params`` when done.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pyxem_epdf as epdf
    >>> tuner = tune(epdf.data.example_profile(), "SiO2", s_range=(2.8, 4.0), s_min=0.2)
    >>> tuner.sliders["b"].set_val(0.3)
    >>> tuner.params["b"]
    0.3
    >>> import matplotlib.pyplot as plt; plt.close(tuner.figure)
    """
    return Tuner(ri, composition, **kwargs)
