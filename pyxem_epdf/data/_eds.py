"""Synthetic EDS spectrum image of the embedded composite, on its own scan grid.

An EDS map is usually recorded with another step, origin and field of view
than the 4D-STEM scan, and drifts relative to it. :func:`synthetic_eds` samples
the *same* continuous phase-fraction and thickness fields as
:func:`~pyxem_epdf.data.two_phase_composite` at the EDS probe positions —
nominal positions from the EDS calibration plus a known drift — and builds an
exspy ``EDSTEMSpectrum`` with Poisson counts and a simultaneously recorded
HAADF image.

Model (per EDS probe position, thickness t, phase fractions w_p, atom number
densities ρ_p, atomic fractions x_{e,p}): the expected counts of element e are
``k · t Σ_p w_p ρ_p x_{e,p}`` (equal X-ray yield per atom for every element —
a simplification: real k-factors differ by a few × and would only rescale the
maps), spread over the element's lines from exspy's element database
(``exspy.material.elements``; line weights as tabulated) as Gaussians whose
FWHM grows with energy as in Fiori's formula from 130 eV at Mn Kα; a Kramers
bremsstrahlung background ∝ t (E₀ − E)/E; Poisson noise. The HAADF signal is
``t Σ_p w_p ρ_p ⟨Z^1.7⟩_p`` plus 1 % Gaussian noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..signals._base import copy_axes
from ._synthetic import SyntheticComposite, _grid, fractions_at, thickness_at

#: Elements whose lines are modelled (the composite's heavier elements and O, F, C, N).
EDS_ELEMENTS = ("C", "N", "O", "F", "Na", "Al", "P", "Zn")
#: Lines named in the spectrum's metadata (the paper's EDS maps).
EDS_LINES = ("Zn_Ka", "Al_Ka", "P_Ka", "Na_Ka")


@dataclass
class SyntheticEDS:
    """A synthetic EDS spectrum image and its truth.

    Attributes
    ----------
    spectrum : exspy.signals.EDSTEMSpectrum or LazyEDSTEMSpectrum
        Counts, navigation axes x, y in nm with the *nominal* EDS calibration
        (origin and step), energy axis in keV.
    haadf : hyperspy.signals.Signal2D
        Simultaneous HAADF image on the same grid and calibration.
    scan_haadf : hyperspy.signals.Signal2D
        The HAADF image recorded with the 4D-STEM scan (scan grid and
        calibration, independent noise): the shared image for registration.
    drift : numpy.ndarray
        True (x, y) positions minus nominal ones, in nm.
    line_counts : dict
        Expected counts (no noise) of each element, maps on the EDS grid.

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(12, 12), detector_shape=(32, 32))
    >>> eds = epdf.data.synthetic_eds(synth, n_channels=1024, drift=(3.7, -2.6))
    >>> isinstance(eds, epdf.data.SyntheticEDS), eds.drift.tolist()
    (True, [3.7, -2.6])
    >>> eds.haadf.data.shape, eds.scan_haadf.data.shape  # EDS grid, 4D-STEM scan grid
    ((8, 8), (12, 12))
    >>> sorted(eds.line_counts)
    ['Al', 'C', 'F', 'N', 'Na', 'O', 'P', 'Zn']
    >>> round(float(np.mean(sum(eds.line_counts.values()))), 6)  # the ``counts`` argument
    400.0
    """

    spectrum: object = field(repr=False)
    haadf: object = field(repr=False)
    scan_haadf: object = field(repr=False)
    drift: np.ndarray
    line_counts: dict = field(repr=False)


def _line_table(elements, beam_energy):
    import exspy.material

    table = []
    for el in elements:
        lines = exspy.material.elements[el].Atomic_properties.Xray_lines
        for name in lines.keys():
            energy = float(lines[name]["energy (keV)"])
            if energy < beam_energy:
                table.append((el, energy, float(lines[name].weight)))
    return table


def _calibrate(axes, origin, step):
    """x, y axes in nm starting at ``origin`` with ``step``."""
    for ax, name, off in zip(axes, ("x", "y"), origin, strict=True):
        ax.name, ax.units, ax.scale, ax.offset = name, "nm", float(step), float(off)


def _fwhm(energy, resolution_mnka=130.0):
    """Detector FWHM in keV at ``energy`` keV (Fiori & Newbury; 130 eV at Mn Kα)."""
    fwhm_ev = np.sqrt(resolution_mnka**2 + 2.5 * (energy - 5.8987) * 1000.0)
    return fwhm_ev / 1000.0


def synthetic_eds(synth: SyntheticComposite, *, step=None, shape=None, origin=(0.0, 0.0),
                  drift=(3.7, -2.6), counts=400.0, n_channels=2048, energy_scale=0.01,
                  beam_energy=200.0, background=0.2, seed=0, lazy=False, chunks="auto"):
    """EDS spectrum image of the same area as a synthetic 4D-STEM scan.

    Parameters
    ----------
    synth : SyntheticComposite
        Result of :func:`~pyxem_epdf.data.two_phase_composite` with a 2-D scan.
    step : float, optional
        EDS step in nm (default 1.5 × the scan step: a coarser grid).
    shape : tuple of int, optional
        EDS grid (rows, columns); default covers the scan's field of view.
    origin : tuple of float
        Nominal position (x, y) of EDS pixel [0, 0] in the scan's frame, nm.
    drift : tuple of float
        True minus nominal positions (x, y), nm — what registration must find.
    counts : float
        Mean expected line counts per EDS pixel (all elements), > 0.
    n_channels : int
        Energy channels (≥ 64).
    energy_scale : float
        keV per channel; the axis starts at 0.
    beam_energy : float
        kV, stored in the metadata and bounding the bremsstrahlung.
    background : float
        Bremsstrahlung counts per pixel relative to ``counts`` (≥ 0).
    seed : int
        Seed of the Poisson noise.
    lazy : bool
        Return a lazy (dask) spectrum image.
    chunks : str or tuple
        Dask chunks of the lazy spectrum image.

    Returns
    -------
    SyntheticEDS

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> synth = epdf.data.two_phase_composite(nav_shape=(12, 12), detector_shape=(32, 32))
    >>> eds = epdf.data.synthetic_eds(synth, n_channels=1024)
    >>> eds.spectrum.data.shape, eds.spectrum.metadata.Sample.xray_lines
    ((8, 8, 1024), ['Al_Ka', 'Na_Ka', 'P_Ka', 'Zn_Ka'])
    """
    import exspy.material
    import hyperspy.api as hs
    from exspy.signals import EDSTEMSpectrum, LazyEDSTEMSpectrum

    params = synth.parameters
    if len(params.nav_shape) != 2:
        raise ValueError(f"'synth' must have a 2-D scan; got nav_shape {params.nav_shape}.")
    x0, y0, width, height = _grid(params)
    step = 1.5 * params.step if step is None else float(step)
    if not step > 0:
        raise ValueError(f"'step' must be > 0 nm; got {step!r}.")
    if shape is None:
        shape = (int(height // step) + 1, int(width // step) + 1)
    rows, cols = (int(n) for n in shape)
    if rows < 2 or cols < 2:
        raise ValueError(f"'shape' must be at least (2, 2); got {shape!r}.")
    if not counts > 0:
        raise ValueError(f"'counts' must be > 0; got {counts!r}.")
    if int(n_channels) < 64:
        raise ValueError(f"'n_channels' must be >= 64; got {n_channels!r}.")
    if background < 0:
        raise ValueError(f"'background' must be >= 0; got {background!r}.")
    origin = np.asarray(origin, dtype=float)
    drift = np.asarray(drift, dtype=float)
    yy, xx = np.meshgrid(np.arange(rows) * step, np.arange(cols) * step, indexing="ij")
    xt, yt = xx + origin[0] + drift[0], yy + origin[1] + drift[1]
    frac = fractions_at(params, xt, yt, width, height)
    thick = thickness_at(params, xt, yt, width, height)
    rho = np.array([p.number_density for p in synth.phases])
    column = frac * rho * thick[..., None]  # atoms per area, per phase
    amounts = {}
    for el in EDS_ELEMENTS:
        x_el = np.array([dict(zip(p.elements, p.atomic_fractions, strict=True)).get(el, 0.0)
                         for p in synth.phases])
        amounts[el] = column @ x_el
    norm = counts / np.mean(sum(amounts.values()))
    line_counts = {el: a * norm for el, a in amounts.items()}
    energy = np.arange(int(n_channels)) * float(energy_scale)
    shapes = np.zeros((len(EDS_ELEMENTS), energy.size))
    for el, e_line, weight in _line_table(EDS_ELEMENTS, beam_energy):
        sigma = _fwhm(e_line) / 2.3548
        shapes[EDS_ELEMENTS.index(el)] += weight * np.exp(-0.5 * ((energy - e_line) / sigma) ** 2)
    shapes /= shapes.sum(axis=1, keepdims=True)
    kramers = np.where(energy > 0.2, (beam_energy - energy) / np.maximum(energy, 0.2), 0.0)
    kramers /= kramers.sum()
    maps = np.stack([line_counts[el] for el in EDS_ELEMENTS], axis=-1)
    brems = background * counts * thick / thick.mean()
    z_eff = np.array([
        sum(x * float(exspy.material.elements[e].General_properties.Z) ** 1.7
            for e, x in zip(p.elements, p.atomic_fractions, strict=True))
        for p in synth.phases
    ])
    rng = np.random.default_rng(seed)

    def haadf_at(x, y):
        col = fractions_at(params, x, y, width, height) * rho
        img = (col * thickness_at(params, x, y, width, height)[..., None]) @ z_eff
        return img * (1 + 0.01 * rng.standard_normal(img.shape))

    haadf = haadf_at(xt, yt)
    scan_haadf = haadf_at(x0, y0).reshape(params.nav_shape)

    def render(block_maps, block_brems, block_seed):
        expected = block_maps @ shapes + block_brems[..., None] * kramers
        return np.random.default_rng(block_seed).poisson(expected).astype(np.int32)

    if lazy:
        import dask.array as da

        mdata = da.from_array(maps, chunks=(chunks if chunks != "auto" else "auto",) * 2 + (-1,))
        bdata = da.from_array(brems, chunks=mdata.chunks[:2])
        seeds = np.random.SeedSequence(seed).generate_state(mdata.numblocks[0] * mdata.numblocks[1])
        seed_arr = da.from_array(seeds.reshape(mdata.numblocks[:2]), chunks=1)
        data = da.map_blocks(
            lambda m, b, s: render(m, b[..., 0], int(s.ravel()[0])), mdata, bdata[..., None],
            seed_arr[..., None], chunks=mdata.chunks[:2] + ((energy.size,),), dtype=np.int32,
        )
        spec = LazyEDSTEMSpectrum(data)
    else:
        spec = EDSTEMSpectrum(render(maps, brems, seed))
    _calibrate(spec.axes_manager.navigation_axes, origin, step)
    eax = spec.axes_manager.signal_axes[0]
    eax.name, eax.units, eax.scale, eax.offset = "Energy", "keV", float(energy_scale), 0.0
    spec.metadata.General.title = "Synthetic EDS of the two-phase composite"
    spec.set_microscope_parameters(beam_energy=float(beam_energy), energy_resolution_MnKa=130.0)
    spec.add_lines(list(EDS_LINES))
    image = hs.signals.Signal2D(haadf)
    _calibrate(image.axes_manager.signal_axes, origin, step)
    image.metadata.General.title = "HAADF (recorded with the EDS map)"
    scan_image = hs.signals.Signal2D(scan_haadf)
    copy_axes(synth.signal.axes_manager.navigation_axes, scan_image.axes_manager.signal_axes)
    scan_image.metadata.General.title = "HAADF (recorded with the 4D-STEM scan)"
    return SyntheticEDS(spec, image, scan_image, drift, line_counts)
