"""Deterministic synthetic 4D-STEM scans of amorphous composites (1 to 3 phases).

The dataset imitates the composite of Laulainen et al., Nanoscale 14, 16524
(2022): a "ZIF-like" MOF glass (phase A, :data:`ZIF_LIKE`) and a
"glass-like" inorganic glass (phase B, :data:`GLASS_LIKE`), scanned with a
5 nm probe at 10 e⁻/Å² and 200 kV. Every ingredient is known exactly, so it
serves as ground truth for the ePDF chain. :func:`composite` generalises it:
one to three phases (e.g. a third, metallic-glass-like phase C,
:data:`METALLIC_LIKE`) and other inclusion sizes and numbers, for validating
the chain on composites unlike the embedded one.

Model
-----
Phase *p* has a reduced PDF made of Gaussian pair-distance peaks
(:func:`pyxem_epdf.physics.models.gaussian_peaks_pdf`) and the exactly
consistent reduced intensity φ_p(s)
(:func:`pyxem_epdf.physics.models.gaussian_peaks_reduced_intensity`). At probe
position x, with phase fractions w_p(x), thickness t(x) and atom number
densities ρ_p, the column densities are n_p = w_p t ρ_p (atoms/Å²) and the
mean number of counts per detector pixel at s is

.. math::

    I_x(s) = K_x \\sum_p n_p \\Big[⟨f^2⟩_p + ⟨f⟩^2_p \\frac{φ_p(s)}{s}
             + m_x\\, ⟨f^2⟩_p(0)\\, e^{-s^2 / 2 s_{ms}^2}\\Big]
             + C + E\\, e^{-t/λ} B(s),

* the bracket's last term is a smooth, non-oscillating low-s artifact standing
  in for multiple/inelastic scattering, of relative strength
  ``m_x = MULTIPLE_SCATTERING_STRENGTH · t/λ`` (so it grows as t², decays
  with :data:`MULTIPLE_SCATTERING_WIDTH`);
* E = dose · π (d/2)² is the number of electrons per pattern (d = probe
  diameter in Å); the fraction 1 − e^{−t/λ} is scattered and K_x is chosen so
  that the scattered electrons summed over the detector pixels are exactly
  E (1 − e^{−t/λ}); λ is the total mean free path (:func:`mean_free_path`);
* B(s) is the unscattered central beam, a narrow Gaussian normalised to 1 over
  the detector pixels (:attr:`CompositeParameters.beam_sigma`);
* C = :data:`BACKGROUND_COUNTS` is a small uniform detector background.

With the local atomic composition c(x) of the mixture,
:math:`\\sum_p n_p ⟨f^2⟩_p = (\\sum_p n_p) ⟨f^2⟩_{c(x)}`, so the scattering
scale of the usual fit :math:`I ≈ N⟨f^2⟩ + C` is well defined and known:
:math:`N = K_x \\sum_p n_p` (:attr:`SyntheticComposite.N_true`).

Patterns are rendered on a flat detector whose centre is at pixel
((n − 1)/2, (n − 1)/2), the pixel at distance ρ (pixels) from it having
s = ρ · s_scale, by linear interpolation from a fine 1-D profile grid.
Poisson noise is drawn per probe position from
``np.random.SeedSequence(seed).spawn(n)[k]`` (k = C-order index of the probe
position), so the data do not depend on chunking and the eager and lazy
results are bit-identical.
"""

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.special import ndtr

from ..physics.models import gaussian_peaks_pdf, gaussian_peaks_reduced_intensity
from ..physics.scattering import composition_arrays, mean_scattering
from ..physics.units import electron_wavelength, relativistic_beta2

# --------------------------------------------------------------------------
# Ground truth tables
# --------------------------------------------------------------------------


class Peak(NamedTuple):
    """One Gaussian pair-distance peak of a truth G(r).

    Attributes
    ----------
    label : str
        Pair it stands for, e.g. ``"Zn-N"``.
    center : float
        Peak position r_k in Å.
    coordination : float
        Effective (scattering-weighted) coordination number; the peak area in
        G(r) is ``coordination / center`` (Å⁻¹).
    sigma : float
        Gaussian standard deviation in Å.

    Examples
    --------
    >>> from pyxem_epdf.data import ZIF_LIKE_PEAKS, Peak
    >>> peak = Peak("Zn-N", center=1.98, coordination=0.9, sigma=0.08)
    >>> round(peak.amplitude, 4)
    0.4545
    >>> peak == ZIF_LIKE_PEAKS[1]
    True
    """

    label: str
    center: float
    coordination: float
    sigma: float

    @property
    def amplitude(self) -> float:
        """Peak area a_k = coordination / center of the peak in G(r), in Å⁻¹."""
        return self.coordination / self.center


#: Truth peaks of phase A, an a_g ZIF-62-like MOF glass (Å; area = CN/r).
ZIF_LIKE_PEAKS = (
    Peak("C-N", 1.34, 1.6, 0.06),
    Peak("Zn-N", 1.98, 0.9, 0.08),
    Peak("Zn...C", 2.98, 1.2, 0.12),
    Peak("Zn...N", 4.10, 1.2, 0.18),
    Peak("Zn-Zn", 5.86, 1.8, 0.28),
)

#: Truth peaks of phase B, a sodium aluminophosphate fluoride glass (Å).
GLASS_LIKE_PEAKS = (
    Peak("P-O", 1.53, 1.4, 0.06),
    Peak("Al-O/F", 1.80, 0.8, 0.08),
    Peak("O-O", 2.55, 2.0, 0.10),
    Peak("P...P", 2.90, 1.2, 0.11),
    Peak("3.5", 3.50, 1.5, 0.18),
    Peak("4.9", 4.90, 2.0, 0.24),
    Peak("6.4", 6.40, 2.2, 0.30),
)

#: Truth peaks of the optional phase C, a Cu-Zr-like metallic glass (Å): no
#: bond shorter than 2.4 Å, a split second shell (Cheng & Ma 2011).
METALLIC_LIKE_PEAKS = (
    Peak("Cu-Cu", 2.55, 1.5, 0.10),
    Peak("Cu-Zr", 2.80, 2.5, 0.11),
    Peak("Zr-Zr", 3.18, 1.5, 0.12),
    Peak("2nd a", 4.60, 3.0, 0.22),
    Peak("2nd b", 5.35, 2.5, 0.25),
    Peak("3rd", 7.30, 3.0, 0.35),
)

#: Composition of phase A, Zn(Im)1.75(bIm)0.25 (a_g ZIF-62).
ZIF_LIKE_COMPOSITION = "Zn(C3H3N2)1.75(C7H5N2)0.25"
#: Composition of phase B, the paper's inorganic glass.
GLASS_LIKE_COMPOSITION = "0.67[(Na2O)0.9(P2O5)]-0.33[(AlO1.5)(AlF3)1.5]"
#: Composition of the optional phase C, a Cu50Zr50 metallic glass.
METALLIC_LIKE_COMPOSITION = "Cu0.5Zr0.5"

#: Standard atomic weights (g/mol) of the elements of the phases.
ATOMIC_WEIGHTS = {
    "H": 1.008,
    "C": 12.011,
    "N": 14.007,
    "O": 15.999,
    "F": 18.998,
    "Na": 22.990,
    "Al": 26.982,
    "P": 30.974,
    "Zn": 65.38,
    "Si": 28.085,
    "Cu": 63.546,
    "Zr": 91.224,
}

#: Total (elastic + inelastic) mean free path at 200 kV, in nm.
MEAN_FREE_PATH_200KV = 150.0
#: Probe convergence semi-angle in mrad (the paper's ca. 0.6 mrad).
CONVERGENCE_SEMIANGLE = 0.6
#: Strength of the low-s multiple-scattering artifact per unit t/λ.
MULTIPLE_SCATTERING_STRENGTH = 0.5
#: Gaussian width (standard deviation) of the low-s artifact in Å⁻¹.
MULTIPLE_SCATTERING_WIDTH = 0.4
#: Uniform detector background C in counts per pixel (Medipix3: near zero).
BACKGROUND_COUNTS = 1e-3

_AVOGADRO = 6.02214076e23
_Z90 = 1.2815515655446004  # standard-normal quantile of 0.9
_FINE_STEP = 1e-3  # Å⁻¹, upper bound of the profile-grid step
_AUTO_BLOCK_ELEMENTS = 2**22  # detector pixels per block with chunks="auto"


def mean_free_path(beam_energy: float) -> float:
    """Total electron mean free path used by the generator.

    :data:`MEAN_FREE_PATH_200KV` scaled by β²(E)/β²(200 kV), as cross
    sections fall roughly as 1/β² (v = βc).

    Parameters
    ----------
    beam_energy
        Accelerating voltage in kV (> 0).

    Returns
    -------
    float
        Mean free path λ in nm.

    Examples
    --------
    >>> from pyxem_epdf.data import mean_free_path
    >>> mean_free_path(200.0)
    150.0
    >>> round(mean_free_path(300.0), 1)
    187.1
    """
    return MEAN_FREE_PATH_200KV * relativistic_beta2(beam_energy) / relativistic_beta2(200.0)


# --------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------


def _positive(name, value, unit):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"'{name}' must be a number ({unit}); got {value!r}."
        ) from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(
            f"'{name}' must be a finite number > 0 ({unit}); got {value!r}."
        )
    return v


def _int_tuple(name, value, *, minimum, max_len=None, min_len=1):
    if isinstance(value, (int, np.integer)):
        value = (value,)
    try:
        out = tuple(value)
    except TypeError:
        raise ValueError(
            f"'{name}' must be a tuple of integers; got {value!r}."
        ) from None
    ok = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in out)
    if (
        not ok
        or len(out) < min_len
        or (max_len is not None and len(out) > max_len)
        or any(v < minimum for v in out)
    ):
        n = f"{min_len}" if max_len == min_len else f"{min_len} to {max_len}"
        raise ValueError(
            f"'{name}' must be {n} integers, each >= {minimum}; got {value!r}."
        )
    return tuple(int(v) for v in out)


@dataclass(frozen=True)
class CompositeParameters:
    """Validated parameters of :func:`composite` and derived numbers.

    Attributes
    ----------
    nav_shape : tuple of int
        Scan shape (rows, columns) = (y, x); 0 to 2 entries.
    detector_shape : tuple of int
        Detector shape (rows, columns), each ≥ 16 pixels.
    s_scale : float
        Å⁻¹ per detector pixel.
    dose : float
        Electron dose in e⁻/Å².
    probe_diameter : float
        Probe diameter in nm.
    step : float
        Scan step in nm.
    beam_energy : float
        Accelerating voltage in kV.
    thickness_range : tuple of float
        (min, max) specimen thickness in nm.
    interface_width : float
        10–90 % width of the phase interfaces in nm.
    noise : bool
        Poisson counts (``True``) or expected counts (``False``).
    seed : int
        Root seed of :class:`numpy.random.SeedSequence`.
    descan : tuple of float
        Pattern-centre drift (x, y) in detector pixels across the scan.
    n_phases : int
        Number of phases, 1 to 3 (set by :func:`composite` from its
        ``phases``).
    inclusions : int
        Number of circular inclusions of phase A in the other phases (≥ 0).
        1 places it at (0.72 W, 0.45 H) (the embedded layout); any other
        number places them at seeded random, non-overlapping positions.
    inclusion_radius : float or None
        Inclusion radius in nm; ``None``: max(2, 0.12 min(nav_shape)) scan
        steps (the embedded layout).
    distortion : tuple of float or None
        Elliptical distortion (axis_ratio, angle) of the rendered patterns:
        major/minor semi-axis ratio (1–2) and major-axis direction in degrees
        from +x towards +y. The pixel at p has s = s_scale · |A·(p − c)|, A =
        :func:`pyxem_epdf.physics.calibration.distortion_matrix` (det A = 1);
        ``None``: circular rings.
    beam_stop : tuple of float or None
        (radius, arm_width, arm_angle): a disc of ``radius`` pixels at the
        detector centre with an arm of ``arm_width`` pixels to the detector
        edge in direction ``arm_angle`` (degrees from +x towards +y),
        :func:`pyxem_epdf.physics.calibration.rod_beam_stop`. Pixels behind it
        receive only the background :data:`BACKGROUND_COUNTS`; ``None``: none.

    Examples
    --------
    >>> from pyxem_epdf.data import CompositeParameters
    >>> params = CompositeParameters(nav_shape=(4, 6), s_scale=0.05)
    >>> params.detector_shape, params.center, params.dtype
    ((128, 128), (63.5, 63.5), dtype('uint16'))
    >>> round(params.electrons_per_pattern)
    19635
    >>> CompositeParameters(dose=-1)
    Traceback (most recent call last):
    ...
    ValueError: 'dose' must be a finite number > 0 (e⁻/Å²); got -1.
    """

    nav_shape: tuple = (20, 20)
    detector_shape: tuple = (128, 128)
    s_scale: float = 0.04
    dose: float = 10.0
    probe_diameter: float = 5.0
    step: float = 5.0
    beam_energy: float = 200.0
    thickness_range: tuple = (20.0, 60.0)
    interface_width: float = 10.0
    noise: bool = True
    seed: int = 0
    descan: tuple = (0.0, 0.0)
    n_phases: int = 2
    inclusions: int = 1
    inclusion_radius: float | None = None
    distortion: tuple | None = None
    beam_stop: tuple | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(
            self,
            "nav_shape",
            _int_tuple("nav_shape", self.nav_shape, minimum=1, max_len=2, min_len=0),
        )
        set_(
            self,
            "detector_shape",
            _int_tuple(
                "detector_shape", self.detector_shape, minimum=16, max_len=2, min_len=2
            ),
        )
        set_(self, "s_scale", _positive("s_scale", self.s_scale, "Å⁻¹ per pixel"))
        set_(self, "dose", _positive("dose", self.dose, "e⁻/Å²"))
        set_(
            self,
            "probe_diameter",
            _positive("probe_diameter", self.probe_diameter, "nm"),
        )
        set_(self, "step", _positive("step", self.step, "nm"))
        set_(self, "beam_energy", _positive("beam_energy", self.beam_energy, "kV"))
        set_(
            self,
            "interface_width",
            _positive("interface_width", self.interface_width, "nm"),
        )
        try:
            a, b = (float(v) for v in self.thickness_range)
        except (TypeError, ValueError):
            a = b = float("nan")
        if not (np.isfinite(a) and np.isfinite(b) and 0 < a <= b):
            raise ValueError(
                "'thickness_range' must be two numbers (a, b) in nm with "
                f"0 < a <= b; got {self.thickness_range!r}."
            )
        set_(self, "thickness_range", (a, b))
        try:
            dx, dy = (float(v) for v in self.descan)
        except (TypeError, ValueError):
            dx = dy = float("nan")
        if not (np.isfinite(dx) and np.isfinite(dy)):
            raise ValueError(
                f"'descan' must be two numbers (x, y) in detector pixels; got {self.descan!r}."
            )
        set_(self, "descan", (dx, dy))
        set_(self, "noise", bool(self.noise))
        seed = self.seed
        if (
            isinstance(seed, bool)
            or not isinstance(seed, (int, np.integer))
            or seed < 0
        ):
            raise ValueError(f"'seed' must be an integer >= 0; got {seed!r}.")
        set_(self, "seed", int(seed))
        for name, lo, hi in (("n_phases", 1, 3), ("inclusions", 0, 100)):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, np.integer))
                or not lo <= v <= hi
            ):
                raise ValueError(
                    f"'{name}' must be an integer in [{lo}, {hi}]; got {v!r}."
                )
            set_(self, name, int(v))
        if self.inclusion_radius is not None:
            set_(
                self,
                "inclusion_radius",
                _positive("inclusion_radius", self.inclusion_radius, "nm"),
            )
        set_(self, "distortion", _distortion_option(self.distortion))
        set_(self, "beam_stop", _beam_stop_option(self.beam_stop))

    @property
    def beam_stop_mask(self):
        """Truth mask of the beam stop (True behind it), detector shape, or ``None``."""
        if self.beam_stop is None:
            return None
        from ..physics.calibration import rod_beam_stop

        r, w, a = self.beam_stop
        return rod_beam_stop(self.detector_shape, r, w, a)

    @property
    def distortion_matrix(self):
        """The 2 × 2 matrix A of :attr:`distortion` (identity if ``None``)."""
        if self.distortion is None:
            return np.eye(2)
        from ..physics.calibration import distortion_matrix

        return distortion_matrix(*self.distortion)

    @property
    def beam_shifts(self) -> np.ndarray:
        """Pattern-centre offset (x, y) in detector pixels at every probe position.

        A linear descan plane: ``descan[0] · (u − ½)`` along x and
        ``descan[1] · (v − ½)`` along y, u and v the probe position's fractional
        coordinates across the scan (0 … 1). Shape ``nav_shape + (2,)``.
        """
        shape2 = (1,) * (2 - len(self.nav_shape)) + self.nav_shape
        ny, nx = shape2
        v, u = np.meshgrid(
            np.linspace(0, 1, ny) if ny > 1 else [0.5],
            np.linspace(0, 1, nx) if nx > 1 else [0.5],
            indexing="ij",
        )
        out = np.stack([self.descan[0] * (u - 0.5), self.descan[1] * (v - 0.5)], axis=-1)
        return out.reshape(self.nav_shape + (2,))

    @property
    def radius(self) -> float:
        """Inclusion radius in nm (:attr:`inclusion_radius` or the embedded rule)."""
        if self.inclusion_radius is not None:
            return self.inclusion_radius
        return self.step * max(2.0, 0.12 * min(self.nav_shape, default=1))

    @property
    def probe_area(self) -> float:
        """Probe area π (d/2)² in Å²."""
        return math.pi * (10.0 * self.probe_diameter / 2) ** 2

    @property
    def electrons_per_pattern(self) -> float:
        """Electrons per diffraction pattern, dose × probe area."""
        return self.dose * self.probe_area

    @property
    def wavelength(self) -> float:
        """Electron wavelength in Å."""
        return electron_wavelength(self.beam_energy)

    @property
    def mean_free_path(self) -> float:
        """Total mean free path λ in nm (:func:`mean_free_path`)."""
        return mean_free_path(self.beam_energy)

    @property
    def center(self) -> tuple:
        """Pattern centre (row, column) in pixels, ((n − 1)/2, (m − 1)/2)."""
        return tuple((n - 1) / 2 for n in self.detector_shape)

    @property
    def beam_sigma(self) -> float:
        """Standard deviation of the central-beam Gaussian in Å⁻¹.

        √((α/2λ)² + (s_scale/2)²): half the probe-disc radius α/λ
        (α = :data:`CONVERGENCE_SEMIANGLE`) blurred by half a pixel.
        """
        disc = CONVERGENCE_SEMIANGLE * 1e-3 / self.wavelength
        return math.hypot(disc / 2, self.s_scale / 2)

    @property
    def dtype(self) -> np.dtype:
        """Data type of the patterns: uint16 with noise (uint32 if a pixel
        could overflow 16 bits), float32 without."""
        if not self.noise:
            return np.dtype(np.float32)
        bound = self.electrons_per_pattern + BACKGROUND_COUNTS
        bound += 10 * math.sqrt(bound) + 10
        return np.dtype(np.uint16 if bound < np.iinfo(np.uint16).max else np.uint32)

    def as_dict(self) -> dict:
        """All parameters as a plain dict (tuples kept).

        Examples
        --------
        >>> from pyxem_epdf.data import CompositeParameters
        >>> params = CompositeParameters(nav_shape=(4, 6))
        >>> d = params.as_dict()
        >>> d["nav_shape"], d["s_scale"], len(d)
        ((4, 6), 0.04, 17)
        >>> CompositeParameters(**d) == params
        True
        """
        return {
            "nav_shape": self.nav_shape,
            "detector_shape": self.detector_shape,
            "s_scale": self.s_scale,
            "dose": self.dose,
            "probe_diameter": self.probe_diameter,
            "step": self.step,
            "beam_energy": self.beam_energy,
            "thickness_range": self.thickness_range,
            "interface_width": self.interface_width,
            "noise": self.noise,
            "seed": self.seed,
            "descan": self.descan,
            "n_phases": self.n_phases,
            "inclusions": self.inclusions,
            "inclusion_radius": self.inclusion_radius,
            "distortion": self.distortion,
            "beam_stop": self.beam_stop,
        }


def _distortion_option(value):
    if value is None:
        return None
    try:
        ratio, angle = (float(v) for v in value)
    except (TypeError, ValueError):
        ratio = angle = float("nan")
    if not (math.isfinite(ratio) and math.isfinite(angle) and 1.0 <= ratio <= 2.0):
        raise ValueError(
            "'distortion' must be None or (axis_ratio, angle) with 1 <= axis_ratio <= 2 "
            f"(major/minor) and a finite angle in degrees; got {value!r}."
        )
    return None if ratio == 1.0 else (ratio, angle % 180.0)


def _beam_stop_option(value):
    if value is None:
        return None
    try:
        r, w, a = (float(v) for v in value)
    except (TypeError, ValueError):
        r = w = a = float("nan")
    if not (math.isfinite(r) and math.isfinite(w) and math.isfinite(a) and r > 0 and w >= 0):
        raise ValueError(
            "'beam_stop' must be None or (radius, arm_width, arm_angle) with radius > 0 "
            f"and arm_width >= 0 in pixels and arm_angle in degrees; got {value!r}."
        )
    return (r, w, a)


# --------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    """One amorphous phase of the synthetic composite, with its ground truth.

    Attributes
    ----------
    name : str
        Short name (``"ZIF-like"``, ``"glass-like"``).
    composition : str
        Formula accepted by :func:`pyxem_epdf.physics.scattering.parse_composition`.
    peaks : tuple of Peak
        Gaussian pair-distance peaks of G(r).
    density : float
        Mass density in g/cm³ (sets the atom number density).
    parameters : CompositeParameters or None
        Acquisition that :meth:`intensity_profile` is scaled to; ``None``
        means the defaults of :func:`two_phase_composite`.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.data import Peak, Phase
    >>> zno = Phase("ZnO-like", "ZnO", (Peak("Zn-O", 1.98, 4.0, 0.08),), density=5.6)
    >>> zno.elements, round(float(zno.number_density), 4)
    (('Zn', 'O'), 0.0829)
    >>> r = np.arange(0.0, 6.0, 0.001)
    >>> round(float(np.trapezoid(zno.pdf(r), r)), 4)  # peak area = CN / r
    2.0202
    """

    name: str
    composition: str
    peaks: tuple
    density: float
    parameters: CompositeParameters | None = field(
        default=None, repr=False, compare=False
    )

    @property
    def peak_kwargs(self) -> dict:
        """``{"centers", "amplitudes", "sigmas"}`` arrays (Å, Å⁻¹, Å) for
        :mod:`pyxem_epdf.physics.models`."""
        return {
            "centers": np.array([p.center for p in self.peaks]),
            "amplitudes": np.array([p.amplitude for p in self.peaks]),
            "sigmas": np.array([p.sigma for p in self.peaks]),
        }

    @property
    def elements(self) -> tuple:
        """Element symbols of the composition."""
        return tuple(composition_arrays(self.composition)[0])

    @property
    def atomic_fractions(self) -> np.ndarray:
        """Atomic fractions (sum 1) in the order of :attr:`elements`."""
        fractions = np.asarray(composition_arrays(self.composition)[1], dtype=float)
        return fractions / fractions.sum()

    @property
    def number_density(self) -> float:
        """Atom number density ρ in atoms/Å³."""
        mass = sum(
            c * ATOMIC_WEIGHTS[e]
            for e, c in zip(self.elements, self.atomic_fractions, strict=True)
        )
        return self.density * _AVOGADRO / mass * 1e-24

    def pdf(self, r):
        """Truth reduced PDF G(r).

        Parameters
        ----------
        r : array_like
            Distances in Å.

        Returns
        -------
        numpy.ndarray
            G(r) in Å⁻², shape of ``r``.

        Examples
        --------
        >>> from pyxem_epdf.data import ZIF_LIKE
        >>> round(float(ZIF_LIKE.pdf(1.98)), 2)
        2.27
        """
        return gaussian_peaks_pdf(r, **self.peak_kwargs)

    def reduced_intensity(self, s):
        """Truth reduced intensity φ(s), the exact transform partner of :meth:`pdf`.

        Parameters
        ----------
        s : array_like
            Scattering vector s = 2 sin(θ)/λ in Å⁻¹.

        Returns
        -------
        numpy.ndarray
            φ(s) in Å⁻¹, shape of ``s``.

        Examples
        --------
        >>> from pyxem_epdf.data import GLASS_LIKE
        >>> float(GLASS_LIKE.reduced_intensity(0.0))
        0.0
        """
        return gaussian_peaks_reduced_intensity(s, **self.peak_kwargs)

    def scattering(self, s):
        """⟨f²⟩(s) and ⟨f⟩²(s) of the composition (Lobato table).

        Parameters
        ----------
        s : array_like
            Scattering vector in Å⁻¹.

        Returns
        -------
        f2_mean, f_mean_sq : numpy.ndarray
            ⟨f²⟩ and ⟨f⟩² in Å², shape of ``s``.

        Examples
        --------
        >>> from pyxem_epdf.data import ZIF_LIKE
        >>> f2, fsq = ZIF_LIKE.scattering([0.5, 2.0])
        >>> bool(f2[0] > f2[1] > 0 and (fsq <= f2).all())
        True
        """
        return mean_scattering(self.composition, np.asarray(s, dtype=float))

    def structure_profile(self, s):
        """Single-scattering profile per atom, ⟨f²⟩ + ⟨f⟩² φ(s)/s.

        φ(s)/s is finite at s = 0: its limit Σ_k a_k r_k is used there.

        Parameters
        ----------
        s : array_like
            Scattering vector in Å⁻¹ (≥ 0).

        Returns
        -------
        numpy.ndarray
            Profile in Å², shape of ``s``.

        Examples
        --------
        >>> from pyxem_epdf.data import ZIF_LIKE
        >>> bool(ZIF_LIKE.structure_profile([0.0, 1.0, 3.0]).min() > 0)
        True
        """
        s = np.asarray(s, dtype=float)
        f2, fsq = self.scattering(s)
        kw = self.peak_kwargs
        limit = float(np.sum(kw["amplitudes"] * kw["centers"]))
        phi = gaussian_peaks_reduced_intensity(s, **kw)
        ratio = np.divide(phi, s, out=np.full(s.shape, limit), where=s > 0)
        return f2 + fsq * ratio

    def artifact_profile(self, s):
        """Shape of the low-s multiple-scattering artifact per atom.

        .. math::

            A(s) = ⟨f^2⟩(0)\\, e^{-s^2 / 2 s_{ms}^2},

        with :math:`s_{ms}` = :data:`MULTIPLE_SCATTERING_WIDTH`; smooth and
        non-oscillating, negligible above s ≈ 1.5 Å⁻¹.

        Parameters
        ----------
        s : array_like
            Scattering vector in Å⁻¹.

        Returns
        -------
        numpy.ndarray
            A(s) in Å², shape of ``s``.

        Examples
        --------
        >>> from pyxem_epdf.data import GLASS_LIKE
        >>> a = GLASS_LIKE.artifact_profile([0.0, 2.0])
        >>> bool(a[1] < 1e-5 * a[0])
        True
        """
        s = np.asarray(s, dtype=float)
        f2_0 = self.scattering(np.zeros(1))[0][0]
        return f2_0 * np.exp(-0.5 * (s / MULTIPLE_SCATTERING_WIDTH) ** 2)

    def intensity_profile(self, s, thickness, *, direct_beam=False):
        """Noiseless I(s) of the pure phase, on the scale of the patterns.

        Counts per detector pixel for a probe position filled with this phase
        only, under :attr:`parameters` (dose, probe, detector, beam energy).

        Parameters
        ----------
        s : array_like
            Scattering vector in Å⁻¹ (1-D).
        thickness : float or array_like
            Specimen thickness in nm; an array gives one profile per value
            (shape ``thickness.shape + s.shape``).
        direct_beam : bool
            Include the unscattered central beam.

        Returns
        -------
        numpy.ndarray
            Expected counts per pixel.

        Examples
        --------
        >>> import numpy as np
        >>> from pyxem_epdf.data import GLASS_LIKE
        >>> i = GLASS_LIKE.intensity_profile(np.array([1.0, 2.0]), 40.0)
        >>> bool(i[0] > i[1] > 0)
        True
        """
        params = self.parameters or CompositeParameters()
        phases = (_bare(ZIF_LIKE), _bare(GLASS_LIKE))
        bare = _bare(self)
        if bare not in phases:
            phases = (bare, bare)
        index = phases.index(bare)
        t = np.asarray(thickness, dtype=float)
        if not np.all(np.isfinite(t) & (t > 0)):
            raise ValueError(f"'thickness' must be > 0 nm; got {thickness!r}.")
        fractions = np.zeros(t.shape + (2,))
        fractions[..., index] = 1.0
        model = _detector_model(
            phases, params.detector_shape, params.s_scale, params.beam_energy
        )
        coefs = _coefficients(model, params, fractions, t)
        return _profiles(
            model, params, coefs, t, np.asarray(s, dtype=float), direct_beam
        )


def _bare(phase):
    """The phase without its bound parameters (hashable cache key)."""
    return Phase(phase.name, phase.composition, phase.peaks, phase.density)


#: Phase A: a_g ZIF-62-like MOF glass, density 1.56 g/cm³.
ZIF_LIKE = Phase("ZIF-like", ZIF_LIKE_COMPOSITION, ZIF_LIKE_PEAKS, 1.56)
#: Phase B: sodium aluminophosphate fluoride glass, density 2.6 g/cm³ (assumed).
GLASS_LIKE = Phase("glass-like", GLASS_LIKE_COMPOSITION, GLASS_LIKE_PEAKS, 2.6)
#: Optional phase C: Cu50Zr50-like metallic glass, density 7.4 g/cm³.
METALLIC_LIKE = Phase("metallic-like", METALLIC_LIKE_COMPOSITION, METALLIC_LIKE_PEAKS, 7.4)


# --------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------


def _grid(params):
    """Probe coordinates X, Y (nm) and scan extents W, H on a 2-D grid."""
    shape2 = (1,) * (2 - len(params.nav_shape)) + params.nav_shape
    ny, nx = shape2
    y, x = np.meshgrid(
        np.arange(ny) * params.step, np.arange(nx) * params.step, indexing="ij"
    )
    return x, y, (nx - 1) * params.step, (ny - 1) * params.step


def phase_fractions(params: CompositeParameters) -> np.ndarray:
    """Phase fractions (A, B[, C]) at every probe position.

    A straight interface across the scan, tilted by 15° from the y axis
    through (0.4 W, 0.5 H) (W, H the scan extents, phase A on the left), and
    circular inclusions of phase A in the rest (:attr:`CompositeParameters.inclusions`,
    default one centred at (0.72 W, 0.45 H), radius
    :attr:`CompositeParameters.radius`). With three phases, the part right of
    the interface is split by a horizontal interface at y = 0.62 H: phase B
    above, phase C below. Every edge is an error-function profile with the
    10–90 % width ``interface_width`` (σ = width / 2.563). The non-A fraction
    is (1 − w_int)(1 − w_inc), split between B and C by the second edge, and
    the A fraction is 1 minus it, so all lie in [0, 1] and sum to 1. One phase:
    fractions are all 1.

    Parameters
    ----------
    params
        The generator parameters.

    Returns
    -------
    numpy.ndarray
        Shape ``nav_shape + (n_phases,)``.

    Examples
    --------
    >>> from pyxem_epdf.data import CompositeParameters, phase_fractions
    >>> w = phase_fractions(CompositeParameters(nav_shape=(20, 20)))
    >>> w.shape, bool((w.sum(-1) == 1).all())
    ((20, 20, 2), True)
    >>> w3 = phase_fractions(CompositeParameters(nav_shape=(20, 20), n_phases=3))
    >>> w3.shape, bool(abs(w3.sum(-1) - 1).max() < 1e-12)
    ((20, 20, 3), True)
    """
    x, y, width, height = _grid(params)
    return fractions_at(params, x, y, width, height).reshape(
        params.nav_shape + (params.n_phases,)
    )


#: Interface tilt from the y axis (degrees) and the height of the B | C edge (× H).
_TILT_DEG = 15.0
_BC_EDGE = 0.62


def inclusion_centers(params, width, height):
    """Centres (x, y) in nm of the inclusions of phase A in a scan of extents W, H.

    One inclusion: (0.72 W, 0.45 H). Otherwise seeded random positions
    (``np.random.default_rng([seed, 1])``, independent of the noise streams)
    right of the interface, inside the scan, at least two radii plus one
    interface width apart from each other and from the interface.

    Parameters
    ----------
    params
        The generator parameters.
    width, height
        Scan extents in nm.

    Returns
    -------
    numpy.ndarray
        Shape (inclusions, 2).

    Raises
    ------
    ValueError
        If the inclusions do not fit (too many or too large for the scan).

    Examples
    --------
    >>> from pyxem_epdf.data import CompositeParameters, inclusion_centers
    >>> params = CompositeParameters(nav_shape=(48, 48), inclusions=3, inclusion_radius=12.0)
    >>> inclusion_centers(params, 235.0, 235.0).shape
    (3, 2)
    """
    n = params.inclusions
    if n == 1:
        return np.array([[0.72 * width, 0.45 * height]])
    r, gap = params.radius, params.interface_width
    angle = np.deg2rad(_TILT_DEG)
    rng = np.random.default_rng([params.seed, 1])
    centres = []
    for _ in range(2000 * max(n, 1)):
        if len(centres) == n:
            break
        c = rng.uniform([r, r], [max(r, width - r), max(r, height - r)])
        d = (c[0] - 0.4 * width) * np.cos(angle) + (c[1] - 0.5 * height) * np.sin(angle)
        if d < r + gap:
            continue
        if all(np.hypot(*(c - o)) >= 2 * r + gap for o in centres):
            centres.append(c)
    if len(centres) < n:
        raise ValueError(
            f"'inclusions' = {n} of radius {r:g} nm do not fit right of the interface "
            f"of a {width:g} × {height:g} nm scan; use fewer or smaller inclusions."
        )
    return np.array(centres).reshape(n, 2)


def fractions_at(params, x, y, width, height):
    """Phase fractions (A, B[, C]) at arbitrary positions x, y (nm) of a scan of extents W, H.

    The continuous field behind :func:`phase_fractions` (which samples it on
    the scan grid); other instruments' grids (EDS) sample the same field.
    Returns ``x.shape + (n_phases,)``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if params.n_phases == 1:
        return np.ones(x.shape + (1,))
    sigma = params.interface_width / (2 * _Z90)
    angle = np.deg2rad(_TILT_DEG)
    d = (x - 0.4 * width) * np.cos(angle) + (y - 0.5 * height) * np.sin(angle)
    in_a = ndtr(-d / sigma)
    radius = params.radius
    if params.inclusions == 1:
        rho = np.hypot(x - 0.72 * width, y - 0.45 * height)
        inclusion = ndtr((radius - rho) / sigma)
    else:
        outside = np.ones(x.shape)
        for cx, cy in inclusion_centers(params, width, height):
            outside = outside * ndtr((np.hypot(x - cx, y - cy) - radius) / sigma)
        inclusion = 1.0 - outside
    frac_b = (1.0 - in_a) * (1.0 - inclusion)
    if params.n_phases == 2:
        return np.stack([1.0 - frac_b, frac_b], axis=-1)
    in_c = ndtr((y - _BC_EDGE * height) / sigma)
    return np.stack([1.0 - frac_b, frac_b * (1.0 - in_c), frac_b * in_c], axis=-1)


def thickness_map(params: CompositeParameters) -> np.ndarray:
    """Specimen thickness at every probe position, in nm.

    t = a + (b − a)(1 − cos(π u))/2 with u = (X/W + Y/H)/2 ∈ [0, 1]: a smooth
    wedge from a at the first probe position to b at the last.

    Examples
    --------
    >>> from pyxem_epdf.data import CompositeParameters, thickness_map
    >>> t = thickness_map(CompositeParameters(nav_shape=(5, 5)))
    >>> float(t.min()), float(t.max())
    (20.0, 60.0)
    """
    x, y, width, height = _grid(params)
    return thickness_at(params, x, y, width, height).reshape(params.nav_shape)


def thickness_at(params, x, y, width, height):
    """Thickness (nm) at arbitrary positions x, y (nm) of a scan of extents W, H.

    The continuous wedge behind :func:`thickness_map`, held at its end values
    outside the scan.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    u = np.clip(0.5 * (x / (width or 1.0) + y / (height or 1.0)), 0.0, 1.0)
    a, b = params.thickness_range
    return a + (b - a) * 0.5 * (1 - np.cos(np.pi * u))


# --------------------------------------------------------------------------
# Detector model (basis images) and coefficients
# --------------------------------------------------------------------------


class _DetectorModel:
    """Fine 1-D basis profiles rendered once onto the detector.

    ``images`` has shape (2 P + 1, n_pixels) for P phases: the structure
    profiles of all phases, then their artifact profiles (linearly
    interpolated from the fine profile grid), then the central beam (exact
    Gaussian, normalised to sum 1). Two phases: structure A, structure B,
    artifact A, artifact B, beam.
    """

    def __init__(self, phases, detector_shape, s_scale, beam_sigma, distortion=None):
        self.phases = phases
        rows, cols = detector_shape
        cy, cx = (rows - 1) / 2, (cols - 1) / 2
        yy, xx = np.meshgrid(np.arange(rows) - cy, np.arange(cols) - cx, indexing="ij")
        if distortion is None:
            s_pix = (np.hypot(yy, xx) * s_scale).ravel()
        else:
            from ..physics.calibration import distortion_matrix

            a = distortion_matrix(*distortion)
            u, v = a[0, 0] * xx + a[0, 1] * yy, a[1, 0] * xx + a[1, 1] * yy
            s_pix = (np.hypot(u, v) * s_scale).ravel()
        step = min(_FINE_STEP, s_scale / 8)
        n_fine = int(np.ceil(s_pix.max() / step)) + 2
        s_fine = np.arange(n_fine) * step
        fine = np.stack(self.basis(s_fine))
        pos = s_pix / step
        index = np.minimum(pos.astype(np.intp), n_fine - 2)
        weight = pos - index
        n_basis = 2 * len(phases)
        images = np.empty((n_basis + 1, s_pix.size))
        images[:n_basis] = fine[:, index] * (1 - weight) + fine[:, index + 1] * weight
        beam = np.exp(-0.5 * (s_pix / beam_sigma) ** 2)
        self.beam_norm = float(beam.sum())
        images[n_basis] = beam / self.beam_norm
        self.images = images
        self.pixel_sums = images.sum(axis=1)
        self.beam_sigma = beam_sigma

    def basis(self, s):
        """Structure profiles of every phase at ``s``, then their artifact profiles."""
        return tuple(p.structure_profile(s) for p in self.phases) + tuple(
            p.artifact_profile(s) for p in self.phases
        )


@lru_cache(maxsize=4)
def _detector_model(phases, detector_shape, s_scale, beam_energy, distortion=None):
    params = CompositeParameters(
        detector_shape=detector_shape, s_scale=s_scale, beam_energy=beam_energy
    )
    return _DetectorModel(phases, detector_shape, s_scale, params.beam_sigma, distortion)


def _coefficients(model, params, fractions, thickness):
    """Per-position weights (…, 2 P + 1) of the basis images, in counts."""
    n_ph = len(model.phases)
    densities = np.array([p.number_density for p in model.phases])
    n = fractions * (10.0 * thickness[..., None]) * densities  # atoms/Å²
    t_over_l = thickness / params.mean_free_path
    m = MULTIPLE_SCATTERING_STRENGTH * t_over_l
    e = params.electrons_per_pattern
    sums = model.pixel_sums
    denom = n[..., 0] * (sums[0] + m * sums[n_ph])
    for p in range(1, n_ph):
        denom = denom + n[..., p] * (sums[p] + m * sums[n_ph + p])
    k = e * -np.expm1(-t_over_l) / denom
    coefs = np.empty(thickness.shape + (2 * n_ph + 1,))
    for p in range(n_ph):
        coefs[..., p] = k * n[..., p]
    for p in range(n_ph):
        coefs[..., n_ph + p] = k * m * n[..., p]
    coefs[..., 2 * n_ph] = e * np.exp(-t_over_l)
    return coefs


def _profiles(model, params, coefs, thickness, s, direct_beam):
    n_basis = 2 * len(model.phases)
    basis = np.stack(model.basis(s.ravel()))  # (2 P, n_s)
    out = coefs[..., :n_basis] @ basis + BACKGROUND_COUNTS
    if direct_beam:
        beam = np.exp(-0.5 * (s.ravel() / model.beam_sigma) ** 2) / model.beam_norm
        out = out + coefs[..., n_basis : n_basis + 1] * beam
    return out.reshape(thickness.shape + s.shape)


# --------------------------------------------------------------------------
# Block rendering (shared by the eager and the lazy path)
# --------------------------------------------------------------------------


def _shift_patterns(lam, shifts, detector_shape):
    """Move each expected pattern by its (x, y) shift (pixels), bilinearly."""
    from scipy.ndimage import shift as nd_shift

    out = np.empty_like(lam)
    for row, (dx, dy) in enumerate(shifts):
        img = lam[row].reshape(detector_shape)
        out[row] = nd_shift(img, (dy, dx), order=1, mode="nearest").ravel()
    return out


class _BlockRenderer:
    """Renders any rectangular block of probe positions, deterministically."""

    def __init__(self, model, params, coefs):
        self.model = model
        self.params = params
        self.coefs = coefs  # nav_shape + (2 P + 1,)
        self.dtype = params.dtype

    def __dask_tokenize__(self):
        return ("pyxem_epdf-two-phase-composite", self.params.as_dict(),
                repr(self.model.phases))

    def render(self, nav_slices):
        """Patterns of the probe positions ``nav_slices`` (one slice per nav axis)."""
        params = self.params
        nav_slices = tuple(nav_slices)
        block = self.coefs[nav_slices]
        coefs = block.reshape(-1, block.shape[-1])
        # Elementwise in a fixed order (not BLAS): each pattern's expected
        # counts are bit-identical whatever the block shape.
        images = self.model.images
        lam = coefs[:, :1] * images[0]
        for k in range(1, coefs.shape[1]):
            lam += coefs[:, k : k + 1] * images[k]
        lam += BACKGROUND_COUNTS
        if params.descan != (0.0, 0.0):
            lam = _shift_patterns(lam, params.beam_shifts[nav_slices].reshape(-1, 2),
                                  params.detector_shape)
        if params.beam_stop is not None:
            lam[:, params.beam_stop_mask.ravel()] = BACKGROUND_COUNTS
        out_shape = block.shape[:-1] + params.detector_shape
        if not params.noise:
            return lam.astype(np.float32).reshape(out_shape)
        flat = np.arange(math.prod(params.nav_shape)).reshape(params.nav_shape)
        flat = flat[nav_slices].ravel()
        out = np.empty((lam.shape[0], lam.shape[1]), dtype=self.dtype)
        for row, k in enumerate(flat):
            rng = np.random.default_rng(
                np.random.SeedSequence(params.seed, spawn_key=(int(k),))
            )
            out[row] = rng.poisson(lam[row])
        return out.reshape(out_shape)

    def __call__(self, block_info=None):
        location = block_info[None]["array-location"]
        n_nav = len(self.params.nav_shape)
        return self.render(slice(a, b) for a, b in location[:n_nav])


def _resolve_chunks(chunks, params):
    """Navigation chunk sizes, one tuple per navigation axis (dask style)."""
    nav = params.nav_shape
    if chunks is None or (isinstance(chunks, str) and chunks == "auto"):
        per_block = max(1, _AUTO_BLOCK_ELEMENTS // math.prod(params.detector_shape))
        if len(nav) == 2:
            side = max(1, math.isqrt(per_block))
            cy = min(nav[0], side)
            sizes = (cy, min(nav[1], max(1, per_block // cy)))
        else:
            sizes = tuple(min(n, per_block) for n in nav)
    else:
        sizes = (
            _int_tuple("chunks", chunks, minimum=1, min_len=len(nav), max_len=len(nav))
            if nav
            else ()
        )
    return tuple(
        (c,) * (n // c) + ((n % c,) if n % c else ())
        for n, c in zip(nav, sizes, strict=True)
    )


# --------------------------------------------------------------------------
# Public result and generator
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticComposite:
    """A synthetic composite scan and its ground truth.

    Attributes
    ----------
    signal : pyxem.signals.ElectronDiffraction2D or LazyElectronDiffraction2D
        The 4D-STEM data: navigation axes x, y in nm, signal axes kx, ky in
        ``"k_A^-1"`` (s in Å⁻¹) with 0 at the pattern centre.
    fractions : numpy.ndarray
        Phase fractions, ``nav_shape + (n_phases,)`` in the order of
        :attr:`phases` (default A = ZIF-like, B = glass-like).
    thickness : numpy.ndarray
        Specimen thickness in nm, ``nav_shape``.
    phases : tuple of Phase
        The phases, bound to :attr:`parameters`.
    N_true : numpy.ndarray
        Scale N of ⟨f²⟩ in :math:`I = N⟨f^2⟩ + C + N⟨f⟩^2 φ/s` for the local
        mixture composition (:attr:`element_fractions`), in counts per pixel
        per Å², ``nav_shape``.
    C_true : float
        Uniform background C in counts per pixel.
    electrons_per_pattern : float
        dose × probe area (expected total counts per pattern, plus
        ``C_true`` × number of pixels).
    parameters : CompositeParameters
        Everything the data were generated with.
    elements : tuple of str
        Elements of all phases.
    element_fractions : numpy.ndarray
        Local atomic fractions of :attr:`elements`, ``nav_shape + (n_el,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from pyxem_epdf.data import SyntheticComposite, two_phase_composite
    >>> synth = two_phase_composite(nav_shape=(4, 4), detector_shape=(32, 32))
    >>> isinstance(synth, SyntheticComposite), synth.N_true.shape, synth.C_true
    (True, (4, 4), 0.001)
    >>> synth.elements
    ('Al', 'C', 'F', 'H', 'N', 'Na', 'O', 'P', 'Zn')
    >>> float(synth.thickness.min()), float(synth.thickness.max())
    (20.0, 60.0)
    >>> bool(np.allclose(synth.element_fractions.sum(-1), 1.0))
    True
    >>> synth.phases[0].parameters is synth.parameters
    True
    """

    signal: object = field(repr=False)
    fractions: np.ndarray = field(repr=False)
    thickness: np.ndarray = field(repr=False)
    phases: tuple
    N_true: np.ndarray = field(repr=False)
    C_true: float
    electrons_per_pattern: float
    parameters: CompositeParameters
    elements: tuple
    element_fractions: np.ndarray = field(repr=False)
    _coefficients: np.ndarray = field(repr=False, compare=False)

    @property
    def unscattered_fraction(self) -> np.ndarray:
        """exp(−t/λ) per probe position: fraction of electrons in the central beam."""
        return np.exp(-self.thickness / self.parameters.mean_free_path)

    def profiles(self, s, *, direct_beam=False):
        """Noiseless I(s) at every probe position, before detector rendering.

        Parameters
        ----------
        s : array_like
            Scattering vector values in Å⁻¹ (1-D).
        direct_beam : bool
            Include the unscattered central beam (only matters for s ≲ 0.1 Å⁻¹).

        Returns
        -------
        numpy.ndarray
            Expected counts per detector pixel, ``nav_shape + s.shape``.

        Examples
        --------
        >>> import numpy as np
        >>> from pyxem_epdf.data import two_phase_composite
        >>> synth = two_phase_composite(nav_shape=(4, 5), detector_shape=(32, 32))
        >>> synth.profiles(np.linspace(0.2, 1.2, 11)).shape
        (4, 5, 11)
        """
        p = self.parameters
        model = _detector_model(
            tuple(_bare(ph) for ph in self.phases),
            p.detector_shape,
            p.s_scale,
            p.beam_energy,
            p.distortion,
        )
        s = np.asarray(s, dtype=float)
        return _profiles(model, p, self._coefficients, self.thickness, s, direct_beam)

    def interface_line(self, length=None):
        """A line across the A | B interface, perpendicular to it, clear of other edges.

        Among heights 0.1 H … 0.9 H of the interface, the one whose line stays
        farthest from the inclusions (and, with three phases, from the B | C
        edge); the interface crosses its middle. Along it the true phase-A
        fraction is an error function of 10–90 % width
        :attr:`CompositeParameters.interface_width` (the truth for
        :func:`pyxem_epdf.mapping.interface_width`).

        Parameters
        ----------
        length : float, optional
            Line length in nm; default 6 interface widths (at least 8 scan
            steps), shortened to stay inside the scan.

        Returns
        -------
        tuple
            ((x1, y1), (x2, y2)) in nm, from the A side to the other side.

        Examples
        --------
        >>> from pyxem_epdf.data import two_phase_composite
        >>> synth = two_phase_composite(nav_shape=(30, 30), detector_shape=(16, 16))
        >>> (x1, y1), (x2, y2) = synth.interface_line()
        >>> round(float(x2 - x1), 2), round(float(y2 - y1), 2)   # 60 nm at 15°
        (57.96, 15.53)
        """
        p = self.parameters
        if p.n_phases < 2 or len(p.nav_shape) != 2:
            raise ValueError("interface_line needs a 2-D scan of at least two phases.")
        _, _, width, height = _grid(p)
        angle = np.deg2rad(_TILT_DEG)
        normal = np.array([np.cos(angle), np.sin(angle)])
        half = 0.5 * (max(6 * p.interface_width, 8 * p.step) if length is None
                      else _positive("length", length, "nm"))
        centres = inclusion_centers(p, width, height) if p.inclusions else np.zeros((0, 2))
        best = None
        for y0 in np.linspace(0.1, 0.9, 33) * height:
            x0 = 0.4 * width - (y0 - 0.5 * height) * np.tan(angle)
            mid = np.array([x0, y0])
            # shorten to stay inside the scan
            h = half
            for lo, hi, c, n in ((0.0, width, x0, normal[0]), (0.0, height, y0, normal[1])):
                if abs(n) > 1e-12:
                    h = min(h, (hi - c) / abs(n), (c - lo) / abs(n))
            if h <= 2 * p.step:
                continue
            t = np.linspace(-h, h, 201)
            pts = mid + t[:, None] * normal
            clear = np.inf
            for c in centres:
                clear = min(clear, np.hypot(*(pts - c).T).min() - p.radius)
            if p.n_phases == 3:
                right = pts[t > 0]
                clear = min(clear, np.abs(right[:, 1] - _BC_EDGE * height).min())
            score = (clear, h)
            if best is None or score > best[0]:
                best = (score, mid, h)
        if best is None:
            raise ValueError("The scan is too small for a line across the interface.")
        _, mid, h = best
        a, b = mid - h * normal, mid + h * normal
        return (float(a[0]), float(a[1])), (float(b[0]), float(b[1]))


def average_composition(synth: SyntheticComposite) -> dict:
    """Atomic composition of the whole scanned volume.

    Parameters
    ----------
    synth
        A result of :func:`composite` or :func:`two_phase_composite`.

    Returns
    -------
    dict
        Element → atomic fraction (sum 1), weighted by the number of atoms
        in every probe column.

    Examples
    --------
    >>> from pyxem_epdf.data import average_composition, two_phase_composite
    >>> comp = average_composition(two_phase_composite(detector_shape=(16, 16)))
    >>> round(sum(comp.values()), 12), "Zn" in comp and "P" in comp
    (1.0, True)
    """
    densities = np.array([p.number_density for p in synth.phases])
    atoms = (synth.fractions * synth.thickness[..., None] * densities).sum(-1)
    x = (
        (synth.element_fractions * atoms[..., None])
        .reshape(-1, len(synth.elements))
        .sum(0)
    )
    x = x / x.sum()
    return {e: float(v) for e, v in zip(synth.elements, x, strict=True)}


def _element_fractions(phases, fractions, thickness):
    elements = tuple(sorted({e for p in phases for e in p.elements}))
    per_phase = np.zeros((len(phases), len(elements)))
    for i, p in enumerate(phases):
        for e, c in zip(p.elements, p.atomic_fractions, strict=True):
            per_phase[i, elements.index(e)] += c
    densities = np.array([p.number_density for p in phases])
    atoms = fractions * densities  # thickness cancels
    x = atoms @ per_phase
    return elements, x / x.sum(-1, keepdims=True)


def _readonly(a):
    a = np.array(a, order="C")  # a copy; keeps 0-d arrays 0-d
    a.setflags(write=False)
    return a


def composite(
    nav_shape: tuple[int, ...] = (20, 20),
    detector_shape: tuple[int, int] = (128, 128),
    s_scale: float = 0.04,
    dose: float = 10.0,
    probe_diameter: float = 5.0,
    step: float = 5.0,
    beam_energy: float = 200.0,
    thickness_range: tuple[float, float] = (20.0, 60.0),
    interface_width: float = 10.0,
    noise: bool = True,
    lazy: bool = False,
    chunks: str | int | tuple[int, ...] | None = "auto",
    seed: int = 0,
    descan: tuple[float, float] = (0.0, 0.0),
    phases: tuple | None = None,
    *,
    inclusions: int = 1,
    inclusion_radius: float | None = None,
    distortion: tuple[float, float] | None = None,
    beam_stop: tuple[float, float, float] | None = None,
) -> SyntheticComposite:
    """Synthetic low-dose 4D-STEM scan of an amorphous composite of 1 to 3 phases.

    The generator behind :func:`two_phase_composite` (whose output it
    reproduces bit for bit with the same arguments), with more phases and
    other particle geometries: phase A left of a tilted interface holding
    ``inclusions`` inclusions of phase A of radius ``inclusion_radius`` on
    its other side; with three phases that side is split into B (top) and C
    (bottom) by a second interface (:func:`phase_fractions`); with one phase
    every pattern is of the pure phase (noiseless pure-phase references with
    ``noise=False``). Thickness wedge, descan, dose and noise model as for
    :func:`two_phase_composite`; all truth is returned alongside the signal.

    Parameters
    ----------
    nav_shape
        Scan shape (rows, columns) = (y, x); 0, 1 or 2 entries, each ≥ 1.
    detector_shape
        Detector (rows, columns), each ≥ 16 pixels. The pattern centre is at
        pixel ((rows − 1)/2, (columns − 1)/2).
    s_scale
        Detector calibration in Å⁻¹ per pixel (s = 2 sin(θ)/λ).
    dose
        Electron dose in e⁻/Å² (the paper: 10).
    probe_diameter
        Probe diameter d in nm; electrons per pattern = dose · π (d/2)².
    step
        Scan step in nm.
    beam_energy
        Accelerating voltage in kV (sets the mean free path and wavelength).
    thickness_range
        (a, b) thickness in nm, 0 < a ≤ b.
    interface_width
        10–90 % width of the phase boundaries in nm.
    noise
        Poisson counts as uint16 (``True``) or expected counts as float32.
    lazy
        Return a lazy signal (dask, one task per navigation chunk); the data
        are bit-identical to ``lazy=False``.
    chunks
        Navigation chunk size: ``"auto"`` (about 4 M detector pixels per
        block), an int for every navigation axis, or one int per axis.
        Signal axes are never chunked; the data do not depend on it.
    seed
        Root seed (≥ 0). Probe position k (C order) draws its noise from
        ``np.random.SeedSequence(seed).spawn(n)[k]``.
    descan
        Total pattern-centre drift (x, y) in detector pixels across the scan,
        a linear plane (:attr:`CompositeParameters.beam_shifts` is the truth
        per probe position); (0, 0) keeps every pattern centred.
    phases
        One to three :class:`Phase` objects (A, B, C); default
        (:data:`ZIF_LIKE`, :data:`GLASS_LIKE`). :data:`METALLIC_LIKE` is a
        third phase of distinct short-range order (no bond below 2.4 Å) and
        composition (Cu, Zr).
    inclusions
        Number of inclusions of phase A right of the interface (0 to 100).
        1 (default) is the embedded layout, centred at (0.72 W, 0.45 H); other
        numbers are placed at random, non-overlapping positions drawn from
        ``seed`` (:func:`inclusion_centers`).
    inclusion_radius
        Inclusion radius in nm; default max(2, 0.12 min(nav_shape)) scan steps.
    distortion
        (axis_ratio, angle): elliptical distortion of every pattern (major/minor
        semi-axis ratio 1–2, major axis in degrees from +x towards +y), the
        convention of :func:`pyxem_epdf.physics.calibration.distortion_matrix`;
        ``None`` (default): circular rings, output unchanged.
    beam_stop
        (radius, arm_width, arm_angle) in pixels, pixels, degrees: a disc at
        the detector centre with an arm to the edge; pixels behind it get only
        the background counts. Fixed on the detector (does not follow the
        descan). ``None`` (default): no beam stop.

    Returns
    -------
    SyntheticComposite
        The signal and the ground truth (``fractions`` has one map per phase).

    Raises
    ------
    ValueError
        If a parameter is outside its valid range (the message names it).

    Examples
    --------
    A three-phase scan with two larger inclusions, drifting descan, at a
    quarter of the paper's dose:

    >>> import numpy as np
    >>> from pyxem_epdf.data import GLASS_LIKE, METALLIC_LIKE, ZIF_LIKE, composite
    >>> synth = composite(nav_shape=(24, 24), detector_shape=(32, 32), dose=2.5,
    ...                   phases=(ZIF_LIKE, GLASS_LIKE, METALLIC_LIKE), inclusions=2,
    ...                   inclusion_radius=12.0, descan=(2.0, 1.0), seed=4)
    >>> synth.signal.metadata.General.title
    'Synthetic three-phase composite'
    >>> synth.fractions.shape, [p.name for p in synth.phases]
    ((24, 24, 3), ['ZIF-like', 'glass-like', 'metallic-like'])
    >>> bool(np.allclose(synth.fractions.sum(-1), 1.0))
    True
    >>> (x1, y1), (x2, y2) = synth.interface_line()   # across the A | B edge, in nm
    >>> bool(x1 < x2)
    True

    Noiseless patterns of one pure phase (the reference for its PDF):

    >>> pure = composite(nav_shape=(2, 3), detector_shape=(32, 32), noise=False,
    ...                  phases=(METALLIC_LIKE,))
    >>> pure.fractions.shape, pure.signal.data.dtype
    ((2, 3, 1), dtype('float32'))
    """
    if phases is None:
        phases = (ZIF_LIKE, GLASS_LIKE)
    try:
        phases = tuple(phases)
    except TypeError:
        phases = (phases,)
    if not 1 <= len(phases) <= 3 or not all(isinstance(p, Phase) for p in phases):
        raise ValueError(
            f"'phases' must be one to three Phase objects (A, B, C); got {phases!r}."
        )
    params = CompositeParameters(
        nav_shape=nav_shape,
        detector_shape=detector_shape,
        s_scale=s_scale,
        dose=dose,
        probe_diameter=probe_diameter,
        step=step,
        beam_energy=beam_energy,
        thickness_range=thickness_range,
        interface_width=interface_width,
        noise=noise,
        seed=seed,
        descan=descan,
        n_phases=len(phases),
        inclusions=inclusions,
        inclusion_radius=inclusion_radius,
        distortion=distortion,
        beam_stop=beam_stop,
    )
    nav_chunks = _resolve_chunks(chunks, params)
    bare = tuple(_bare(p) for p in phases)
    model = _detector_model(
        bare, params.detector_shape, params.s_scale, params.beam_energy, params.distortion
    )
    fractions = phase_fractions(params)
    thickness = thickness_map(params)
    coefs = _coefficients(model, params, fractions, thickness)
    renderer = _BlockRenderer(model, params, coefs)
    # N = K Σ_p n_p: the first P coefficients are K n_p.
    n_true = coefs[..., 0]
    for p in range(1, len(bare)):
        n_true = n_true + coefs[..., p]

    if lazy:
        import dask.array as da
        from dask.base import tokenize

        ndim = len(params.nav_shape) + 2
        data = da.map_blocks(
            renderer,
            chunks=nav_chunks + tuple((n,) for n in params.detector_shape),
            dtype=params.dtype,
            meta=np.empty((0,) * ndim, dtype=params.dtype),
            name="two-phase-composite-" + tokenize(params.as_dict(), repr(bare)),
        )
    else:
        data = np.empty(params.nav_shape + params.detector_shape, dtype=params.dtype)
        for nav_slices in _block_slices(nav_chunks):
            data[nav_slices] = renderer.render(nav_slices)

    phases = tuple(
        Phase(p.name, p.composition, p.peaks, p.density, params) for p in bare
    )
    elements, element_fractions = _element_fractions(bare, fractions, thickness)
    signal = _make_signal(data, params, lazy, elements, bare)
    return SyntheticComposite(
        signal=signal,
        fractions=_readonly(fractions),
        thickness=_readonly(thickness),
        phases=phases,
        N_true=_readonly(n_true),
        C_true=BACKGROUND_COUNTS,
        electrons_per_pattern=params.electrons_per_pattern,
        parameters=params,
        elements=elements,
        element_fractions=_readonly(element_fractions),
        _coefficients=_readonly(coefs),
    )


def two_phase_composite(
    nav_shape: tuple[int, ...] = (20, 20),
    detector_shape: tuple[int, int] = (128, 128),
    s_scale: float = 0.04,
    dose: float = 10.0,
    probe_diameter: float = 5.0,
    step: float = 5.0,
    beam_energy: float = 200.0,
    thickness_range: tuple[float, float] = (20.0, 60.0),
    interface_width: float = 10.0,
    noise: bool = True,
    lazy: bool = False,
    chunks: str | int | tuple[int, ...] | None = "auto",
    seed: int = 0,
    descan: tuple[float, float] = (0.0, 0.0),
    phases: tuple | None = None,
    *,
    inclusions: int = 1,
    inclusion_radius: float | None = None,
    distortion: tuple[float, float] | None = None,
    beam_stop: tuple[float, float, float] | None = None,
) -> SyntheticComposite:
    """Synthetic low-dose 4D-STEM scan of a two-phase amorphous composite.

    A ZIF-like MOF glass (phase A) with an interface to a glass-like
    inorganic glass (phase B) holding a small inclusion of phase A, on a
    thickness wedge, after Laulainen et al. (2022). See the module
    :mod:`pyxem_epdf.data._synthetic` for the intensity model; all truth is
    returned alongside the signal. :func:`composite` takes one to three
    phases.

    Parameters
    ----------
    nav_shape
        Scan shape (rows, columns) = (y, x); 0, 1 or 2 entries, each ≥ 1.
    detector_shape
        Detector (rows, columns), each ≥ 16 pixels. The pattern centre is at
        pixel ((rows − 1)/2, (columns − 1)/2).
    s_scale
        Detector calibration in Å⁻¹ per pixel (s = 2 sin(θ)/λ).
    dose
        Electron dose in e⁻/Å² (the paper: 10).
    probe_diameter
        Probe diameter d in nm; electrons per pattern = dose · π (d/2)².
    step
        Scan step in nm.
    beam_energy
        Accelerating voltage in kV (sets the mean free path and wavelength).
    thickness_range
        (a, b) thickness in nm, 0 < a ≤ b.
    interface_width
        10–90 % width of the phase boundaries in nm.
    noise
        Poisson counts as uint16 (``True``) or expected counts as float32.
    lazy
        Return a lazy signal (dask, one task per navigation chunk); the data
        are bit-identical to ``lazy=False``.
    chunks
        Navigation chunk size: ``"auto"`` (about 4 M detector pixels per
        block), an int for every navigation axis, or one int per axis.
        Signal axes are never chunked; the data do not depend on it.
    seed
        Root seed (≥ 0). Probe position k (C order) draws its noise from
        ``np.random.SeedSequence(seed).spawn(n)[k]``.
    descan
        Total pattern-centre drift (x, y) in detector pixels across the scan,
        a linear plane (:attr:`CompositeParameters.beam_shifts` is the truth
        per probe position); (0, 0) keeps every pattern centred.
    phases
        The two phases (A, B) as :class:`Phase` objects; default
        (:data:`ZIF_LIKE`, :data:`GLASS_LIKE`). Altered peaks simulate, e.g.,
        beam damage in a repeat scan:
        ``dataclasses.replace(ZIF_LIKE, peaks=...)``.
    inclusions
        Number of inclusions of phase A in phase B (default 1, the embedded
        layout), as :func:`composite`.
    inclusion_radius
        Inclusion radius in nm, as :func:`composite`.
    distortion
        (axis_ratio, angle) elliptical distortion, as :func:`composite`.
    beam_stop
        (radius, arm_width, arm_angle) beam stop, as :func:`composite`.

    Returns
    -------
    SyntheticComposite
        The signal and the ground truth.

    Raises
    ------
    ValueError
        If a parameter is outside its valid range (the message names it).

    Examples
    --------
    >>> from pyxem_epdf.data import two_phase_composite
    >>> synth = two_phase_composite(nav_shape=(8, 10), detector_shape=(64, 64))
    >>> synth.signal
    <ElectronDiffraction2D, title: Synthetic two-phase composite, dimensions: (10, 8|64, 64)>
    >>> synth.signal.data.dtype, round(synth.electrons_per_pattern)
    (dtype('uint16'), 19635)
    >>> synth.fractions.shape, synth.phases[0].name
    ((8, 10, 2), 'ZIF-like')
    """
    if phases is None:
        phases = (ZIF_LIKE, GLASS_LIKE)
    if (
        not isinstance(phases, (tuple, list))
        or len(phases) != 2
        or not all(isinstance(p, Phase) for p in phases)
    ):
        raise ValueError(f"'phases' must be two Phase objects (A, B); got {phases!r}.")
    return composite(
        nav_shape=nav_shape,
        detector_shape=detector_shape,
        s_scale=s_scale,
        dose=dose,
        probe_diameter=probe_diameter,
        step=step,
        beam_energy=beam_energy,
        thickness_range=thickness_range,
        interface_width=interface_width,
        noise=noise,
        lazy=lazy,
        chunks=chunks,
        seed=seed,
        descan=descan,
        phases=tuple(phases),
        inclusions=inclusions,
        inclusion_radius=inclusion_radius,
        distortion=distortion,
        beam_stop=beam_stop,
    )


def _block_slices(nav_chunks):
    """Navigation slices of every block, in C order of the block grid."""
    edges = [np.cumsum((0,) + c) for c in nav_chunks]
    for index in np.ndindex(*(len(c) for c in nav_chunks)):
        yield tuple(
            slice(int(e[i]), int(e[i + 1])) for e, i in zip(edges, index, strict=True)
        )


def _make_signal(data, params, lazy, elements, phases):
    import warnings

    with warnings.catch_warnings():
        # pyxem 0.21 imports a moved HyperSpy helper; harmless, not ours.
        warnings.filterwarnings("ignore", message=".*_get_block_pattern.*")
        from pyxem.signals import ElectronDiffraction2D, LazyElectronDiffraction2D

    cls = LazyElectronDiffraction2D if lazy else ElectronDiffraction2D
    sig = cls(data)
    for axis, name in zip(sig.axes_manager.navigation_axes, "xy", strict=False):
        axis.name, axis.units, axis.scale, axis.offset = name, "nm", params.step, 0.0
    for axis, name in zip(sig.axes_manager.signal_axes, ("kx", "ky"), strict=True):
        axis.name = name
    sig.calibration.units = "k_A^-1"
    sig.calibration.scale = params.s_scale
    sig.calibration.center = None
    md = sig.metadata
    n_ph = len(phases)
    kind = {1: "single-phase scan", 2: "two-phase composite", 3: "three-phase composite"}
    md.General.title = f"Synthetic {kind[n_ph]}"
    if n_ph == 2:
        described = (
            "Synthetic 4D-STEM scan (pyxem_epdf.data.two_phase_composite): phase A "
            f"{phases[0].name} {phases[0].composition} and phase B {phases[1].name} "
            f"{phases[1].composition}"
        )
    else:
        described = "Synthetic 4D-STEM scan (pyxem_epdf.data.composite): " + ", ".join(
            f"phase {'ABC'[i]} {p.name} {p.composition}" for i, p in enumerate(phases)
        )
    md.General.notes = (
        f"{described}; Gaussian-peak truth G(r); dose "
        f"{params.dose:g} e-/A^2, probe {params.probe_diameter:g} nm, thickness "
        f"{params.thickness_range[0]:g}-{params.thickness_range[1]:g} nm, seed "
        f"{params.seed}, {'Poisson counts' if params.noise else 'expected counts'}."
    )
    md.set_item("Signal.quantity", "Counts" if params.noise else "Expected counts")
    md.set_item("Sample.description", f"{kind[n_ph]} of amorphous phases (synthetic)"
                if n_ph != 2 else "two-phase amorphous composite (synthetic)")
    md.set_item("Sample.elements", list(elements))
    md.set_item(
        "Sample.phases", {"ABC"[i]: p.composition for i, p in enumerate(phases)}
    )
    md.set_item("Acquisition_instrument.TEM.beam_energy", params.beam_energy)
    md.set_item("Acquisition_instrument.TEM.convergence_angle", CONVERGENCE_SEMIANGLE)
    md.set_item("Acquisition_instrument.TEM.probe_diameter", params.probe_diameter)
    md.set_item("Acquisition_instrument.TEM.dose", params.dose)
    return sig


# --------------------------------------------------------------------------
# Polycrystalline gold standard
# --------------------------------------------------------------------------

#: Debye–Waller B of gold at room temperature in Å² (ring intensities ∝ exp(−B s²/2)).
GOLD_B_FACTOR = 0.6


@dataclass(frozen=True)
class GoldStandard:
    """A synthetic polycrystalline-Au calibration pattern and its truth.

    Attributes
    ----------
    signal : pyxem.signals.ElectronDiffraction2D
        The pattern (no navigation axes), signal axes kx, ky in ``"k_A^-1"``
        set to the *true* calibration and centre.
    s_scale : float
        True Å⁻¹ per pixel in the corrected frame.
    center : tuple of float
        True pattern centre (x, y) in pixels.
    distortion : tuple of float or None
        True (axis_ratio, angle) (see :func:`composite`).
    matrix : numpy.ndarray
        The 2 × 2 distortion matrix A (identity without distortion).
    beam_stop_mask : numpy.ndarray of bool or None
        Pixels behind the beam stop.
    hkl, d_spacings, multiplicities, ring_counts : numpy.ndarray
        Reflection families on the detector, their d in Å, multiplicities
        and the expected counts in each ring (before the beam stop).
    lattice_parameter : float
        a in Å.

    Examples
    --------
    >>> from pyxem_epdf.data import GoldStandard, gold_standard
    >>> au = gold_standard(noise=False, distortion=(1.02, 45.0))
    >>> isinstance(au, GoldStandard), au.distortion, round(float(au.matrix[0, 1]), 4)
    (True, (1.02, 45.0), -0.0099)
    """

    signal: object = field(repr=False)
    s_scale: float
    center: tuple
    distortion: tuple | None
    matrix: np.ndarray = field(repr=False)
    beam_stop_mask: np.ndarray | None = field(repr=False)
    hkl: np.ndarray = field(repr=False)
    d_spacings: np.ndarray = field(repr=False)
    multiplicities: np.ndarray = field(repr=False)
    ring_counts: np.ndarray = field(repr=False)
    lattice_parameter: float


def gold_standard(
    detector_shape: tuple[int, int] = (128, 128),
    s_scale: float = 0.04,
    beam_energy: float = 200.0,
    counts: float = 2e7,
    *,
    center: tuple[float, float] | None = None,
    distortion: tuple[float, float] | None = None,
    beam_stop: tuple[float, float, float] | None = None,
    lattice_parameter: float = 4.0782,
    ring_width: float | None = None,
    ring_fraction: float = 0.5,
    beam_fraction: float = 0.2,
    noise: bool = True,
    seed: int = 0,
) -> GoldStandard:
    """Synthetic diffraction pattern of a polycrystalline gold film (calibration standard).

    Rings at the fcc Au d-spacings (:func:`pyxem_epdf.physics.calibration.fcc_reflections`)
    with total counts ∝ m (4 f_Au(s))² exp(−B s²/2) / s (multiplicity m,
    Lobato electron scattering factor, B = :data:`GOLD_B_FACTOR`), Gaussian
    radial profiles of width ``ring_width``, on a diffuse background ∝ f_Au(s)²
    and a Gaussian direct beam, rendered with 4 × 4 sub-pixel sampling through
    the same detector options as :func:`composite` (calibration, ellipticity,
    beam stop), plus a free pattern centre.

    Parameters
    ----------
    detector_shape
        Detector (rows, columns), each ≥ 16 pixels.
    s_scale
        True calibration in Å⁻¹ per pixel (corrected frame; det A = 1).
    beam_energy
        Accelerating voltage in kV (sets the probe-disc width).
    counts
        Expected electrons in the pattern (> 0).
    center
        Pattern centre (x, y) in pixels; default the detector centre.
    distortion
        (axis_ratio, angle) elliptical distortion, as :func:`composite`.
    beam_stop
        (radius, arm_width, arm_angle) beam stop at the detector centre, as
        :func:`composite`; behind it only :data:`BACKGROUND_COUNTS`.
    lattice_parameter
        Cubic lattice parameter in Å.
    ring_width
        Gaussian σ of the rings in Å⁻¹; default the probe-disc width
        :attr:`CompositeParameters.beam_sigma` (0.023 Å⁻¹ at 200 kV, 0.04 Å⁻¹/px).
    ring_fraction, beam_fraction
        Fractions of ``counts`` in the rings and in the direct beam (the rest
        is diffuse), each in [0, 1], sum ≤ 1.
    noise
        Poisson counts (float64 array of integers) or expected counts.
    seed
        Seed of the Poisson noise (≥ 0).

    Returns
    -------
    GoldStandard

    Examples
    --------
    >>> from pyxem_epdf.data import gold_standard
    >>> au = gold_standard(distortion=(1.02, 30.0), beam_stop=(6, 3, 90), seed=1)
    >>> au.signal.data.shape, ["".join(map(str, h)) for h in au.hkl[:3]]
    ((128, 128), ['111', '200', '220'])
    >>> round(float(au.d_spacings[0]), 4), bool(au.signal.data[au.beam_stop_mask].max() <= 1)
    (2.3545, True)
    """
    from ..physics.calibration import corrected_radius, fcc_reflections, rod_beam_stop
    from ..physics.scattering import scattering_factors

    params = CompositeParameters(nav_shape=(), detector_shape=detector_shape,
                                 s_scale=s_scale, beam_energy=beam_energy,
                                 distortion=distortion, beam_stop=beam_stop, seed=seed)
    counts = _positive("counts", counts, "electrons")
    a = _positive("lattice_parameter", lattice_parameter, "Å")
    width = params.beam_sigma if ring_width is None else _positive("ring_width", ring_width,
                                                                   "Å⁻¹")
    for name, v in (("ring_fraction", ring_fraction), ("beam_fraction", beam_fraction)):
        if not (isinstance(v, (int, float)) and 0 <= v <= 1):
            raise ValueError(f"'{name}' must be a number in [0, 1]; got {v!r}.")
    if ring_fraction + beam_fraction > 1:
        raise ValueError(
            f"'ring_fraction' + 'beam_fraction' must be <= 1; got {ring_fraction + beam_fraction!r}."
        )
    rows, cols = params.detector_shape
    cx, cy = ((cols - 1) / 2, (rows - 1) / 2) if center is None else (
        float(center[0]), float(center[1]))
    if not (math.isfinite(cx) and math.isfinite(cy)):
        raise ValueError(f"'center' must be two finite numbers (x, y) in pixels; got {center!r}.")
    amat = params.distortion_matrix
    sub = 4
    off = (np.arange(sub) + 0.5) / sub - 0.5
    # corrected radius (pixels) of every sub-pixel sample, shape (rows, cols, sub*sub)
    rad = np.stack([corrected_radius((rows, cols), (cx - ox, cy - oy), amat)
                    for oy in off for ox in off], axis=-1)
    s = rad * params.s_scale
    s_max = float(s.max()) + 4 * width
    hkl, d, mult = fcc_reflections(a, s_max)
    s_ring = 1.0 / d
    f = scattering_factors(["Au"], np.concatenate([s_ring, [0.0]]))[0]
    strength = mult * (4 * f[:-1]) ** 2 * np.exp(-GOLD_B_FACTOR * s_ring**2 / 2) / s_ring
    # per-pixel density of each ring: Gaussian in s over the ring circumference
    area_px = params.s_scale**2
    # on a fine 1-D grid (step σ/20), linearly interpolated at every sample
    s_fine = np.arange(0.0, s_max + 2 * width, width / 20)
    ring_fine = np.zeros_like(s_fine)
    for sj, wj in zip(s_ring, strength, strict=True):
        near = np.abs(s_fine - sj) < 6 * width
        ring_fine[near] += wj * np.exp(-0.5 * ((s_fine[near] - sj) / width) ** 2) / (
            2 * math.pi * sj * width * math.sqrt(2 * math.pi))
    rings = np.interp(s, s_fine, ring_fine).mean(-1) * area_px
    f_fine = scattering_factors(["Au"], s_fine)[0]
    diffuse = np.interp(s, s_fine, f_fine**2).mean(-1)
    beam = np.exp(-0.5 * (s / params.beam_sigma) ** 2).mean(-1)
    # the rings are normalised to their full (untruncated) strengths
    lam = (ring_fraction * counts / strength.sum()) * rings
    lam += (1 - ring_fraction - beam_fraction) * counts * diffuse / diffuse.sum()
    lam += beam_fraction * counts * beam / beam.sum()
    lam += BACKGROUND_COUNTS
    stop = None
    if params.beam_stop is not None:
        stop = rod_beam_stop(params.detector_shape, *params.beam_stop)
        lam[stop] = BACKGROUND_COUNTS
    if noise:
        rng = np.random.default_rng(np.random.SeedSequence(params.seed, spawn_key=(1,)))
        data = rng.poisson(lam).astype(float)
    else:
        data = lam
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*_get_block_pattern.*")
        from pyxem.signals import ElectronDiffraction2D

    sig = ElectronDiffraction2D(data)
    for ax, name, c in zip(sig.axes_manager.signal_axes, ("kx", "ky"), (cx, cy), strict=True):
        ax.name, ax.units, ax.scale, ax.offset = name, "k_A^-1", params.s_scale, -c * params.s_scale
    sig.metadata.General.title = "Synthetic polycrystalline Au standard"
    sig.metadata.set_item("Signal.quantity", "Counts" if noise else "Expected counts")
    sig.metadata.set_item("Sample.description", "polycrystalline Au film (synthetic)")
    sig.metadata.set_item("Sample.elements", ["Au"])
    sig.metadata.set_item("Acquisition_instrument.TEM.beam_energy", params.beam_energy)
    return GoldStandard(
        signal=sig, s_scale=params.s_scale, center=(cx, cy), distortion=params.distortion,
        matrix=amat, beam_stop_mask=stop, hkl=hkl, d_spacings=d, multiplicities=mult,
        ring_counts=ring_fraction * counts * strength / strength.sum(),
        lattice_parameter=a,
    )
