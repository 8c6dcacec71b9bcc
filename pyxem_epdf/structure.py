"""Structure-model PDFs as signals, processed like the data.

Signal layer over :mod:`pyxem_epdf.physics.structure_pdf`: load a model
(diffpy.structure: CIF, xyz, .stru), compute its electron- or X-ray-weighted
total and partial G(r) as :class:`~pyxem_epdf.signals.PDF1DPlus`, and put a
model through the same φ-domain steps as a measured profile (s range,
damping, low-s extrapolation) so that the two compare like for like.
"""

import numpy as np

from .physics import corrections, transform
from .physics.structure_pdf import model_pdf, model_reduced_intensity

__all__ = ["model_pdfs", "process_like_data"]


def _pdf_signal(g, r, title, nav_name=None):
    from .signals import PDF1DPlus

    sig = PDF1DPlus(np.asarray(g))
    ax = sig.axes_manager.signal_axes[0]
    ax.name, ax.units, ax.offset, ax.scale = "r", "Å", float(r[0]), float(r[1] - r[0])
    if nav_name:
        sig.axes_manager.navigation_axes[0].name = nav_name
    sig.metadata.General.title = title
    return sig


def model_pdfs(structure, *, kind="electron", r_max=20.0, dr=0.01, sigma=0.05, table="lobato"):
    """Total and partial G(r) of a structure model as signals.

    Parameters
    ----------
    structure : str, pathlib.Path or diffpy.structure.Structure
        A model file diffpy.structure reads (CIF, xyz, .stru …) or a Structure.
    kind : {"electron", "xray"}
        Pair weights (:func:`pyxem_epdf.physics.structure_pdf.pair_weights`).
    r_max, dr, sigma : float
        r range, step and Gaussian pair broadening in Å.
    table : str
        Electron scattering-factor table.

    Returns
    -------
    total : PDF1DPlus
    partials : PDF1DPlus
        Navigation axis ``"pair"``; ``metadata.ePDF.model.pairs`` and
        ``.weights`` list the pairs and their weights.

    Examples
    --------
    >>> from diffpy.structure import Atom, Lattice, Structure
    >>> a = 3.524
    >>> ni = Structure([Atom("Ni", xyz) for xyz in
    ...                 ([0, 0, 0], [.5, .5, 0], [.5, 0, .5], [0, .5, .5])], lattice=Lattice(a, a, a, 90, 90, 90))
    >>> total, partials = model_pdfs(ni, r_max=5.0, dr=0.005)
    >>> pos, _ = total.find_peaks(1, r_range=(2.0, 3.0))
    >>> round(float(pos.data[0]), 2)
    2.49
    """
    if not hasattr(structure, "xyz_cartn"):
        from diffpy.structure import loadStructure

        structure = loadStructure(str(structure))
    m = model_pdf(structure, kind=kind, r_max=r_max, dr=dr, sigma=sigma, table=table)
    total = _pdf_signal(m.total, m.r, f"{kind} model PDF")
    pairs = list(m.partials)
    partials = _pdf_signal(np.stack([m.partials[p] for p in pairs]), m.r,
                           f"{kind} partial PDFs", nav_name="pair")
    for sig in (total, partials):
        sig.metadata.set_item("ePDF.model", {
            "kind": kind, "sigma": float(sigma), "density": m.density,
            "pairs": ["-".join(p) for p in pairs],
            "weights": [m.weights[p] for p in pairs],
        })
    return total, partials


def process_like_data(model, s, *, b, s_min, r_max=None, r_step=None):
    """Send a model G(r) through the data's φ-domain processing.

    φ(s) of the model (:func:`~pyxem_epdf.physics.structure_pdf.model_reduced_intensity`)
    is sampled on the data's s grid, damped with exp(−b s²), extrapolated
    linearly below ``s_min`` and transformed back, like
    ``damp_exponential(b).extrapolate_low_s(s_min).to_pdf(...)`` on data.

    Parameters
    ----------
    model : PDF1DPlus
        Model G(r) (one or a stack).
    s : array_like
        The data's s values in Å⁻¹ (e.g. ``phi.axes_manager.signal_axes[0].axis``).
    b, s_min : float
        As used for the data.
    r_max, r_step : float, optional
        Output r grid (default the model's).

    Returns
    -------
    PDF1DPlus
        ``metadata.ePDF.model_processing`` records the s range, b and s_min.

    Examples
    --------
    A Ni model seen through data that end at s = 2.5 Å⁻¹: the nearest-neighbour
    peak stays at 2.49 Å but is lower and broader.

    >>> import numpy as np
    >>> from diffpy.structure import Atom, Lattice, Structure
    >>> a = 3.524
    >>> ni = Structure([Atom("Ni", xyz) for xyz in
    ...                 ([0, 0, 0], [.5, .5, 0], [.5, 0, .5], [0, .5, .5])],
    ...                lattice=Lattice(a, a, a, 90, 90, 90))
    >>> total, _ = model_pdfs(ni, r_max=5.0, dr=0.005)
    >>> s = np.arange(0.05, 2.5, 0.01)
    >>> like_data = process_like_data(total, s, b=0.2, s_min=0.2)
    >>> pos, height = like_data.find_peaks(1, r_range=(2.0, 3.0))
    >>> _, model_height = total.find_peaks(1, r_range=(2.0, 3.0))
    >>> round(float(pos.data[0]), 2), bool(height.data[0] < 0.5 * model_height.data[0])
    (2.49, True)
    >>> round(like_data.metadata.ePDF.model_processing.s_max, 2)
    2.49
    """
    r = np.asarray(model.axes_manager.signal_axes[0].axis)
    s = np.asarray(s, dtype=float)
    phi = model_reduced_intensity(np.asarray(model.data), r, s)
    phi = corrections.extrapolate_low_s(phi * corrections.exponential_damping(s, b), s, s_min)
    r_out = transform.r_grid(r_max or float(r[-1]), r_step or float(r[1] - r[0]))
    g = transform.sine_transform(phi, s, r_out)
    out = _pdf_signal(g, r_out, f"{model.metadata.General.title}, processed like data",
                      nav_name="pair" if g.ndim > 1 else None)
    out.metadata.set_item("ePDF.model_processing", {"s_min_data": float(s[0]), "s_max": float(s[-1]),
                                                   "b": float(b), "s_min": float(s_min)})
    return out
