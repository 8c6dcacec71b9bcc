"""Structure-model PDFs as signals, processed like the data.

Signal layer over :mod:`pyxem_epdf.physics.structure_pdf`: load a model
(a crystal from CIF/.stru with diffpy.structure; a finite cluster from an
``.xyz`` file or an ``(xyz, elements)`` tuple), compute its electron- or
X-ray-weighted total and partial G(r) as :class:`~pyxem_epdf.signals.PDF1DPlus`,
and put a model through the same φ-domain steps as a measured profile (s range,
damping, low-s extrapolation) so that the two compare like for like.

A cluster is never given a periodic cell: its G(r) = 4πr[ρ(r) − ρ₀γ₀(r)] uses
its own density ρ₀ and shape function γ₀
(:func:`~pyxem_epdf.physics.structure_pdf.cluster_shape_function`).
"""

import contextlib
import io
from pathlib import Path

import numpy as np

from .physics import corrections, transform
from .physics.structure_pdf import model_pdf, model_reduced_intensity

__all__ = ["load_model", "model_pdfs", "process_like_data"]


def _read_xyz(path):
    """(xyz, elements) of an XYZ file: "n", a comment line, then "El x y z" rows."""
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    first = lines[0].split() if lines else []
    counted = len(first) == 1 and first[0].isdigit()
    rows = lines[2:] if counted else lines
    offset = 3 if counted else 1
    elements, xyz = [], []
    for k, line in enumerate(rows):
        words = line.split()
        if not words:
            continue
        try:
            if len(words) < 4:
                raise ValueError
            xyz.append([float(w) for w in words[1:4]])
        except ValueError:
            raise ValueError(
                f"{path}, line {k + offset}: expected 'element x y z' (Å); got {line.strip()!r}."
            ) from None
        elements.append(words[0])
    if counted and len(xyz) != int(first[0]):
        raise ValueError(f"{path} announces {int(first[0])} atoms on line 1 but lists {len(xyz)}.")
    if not xyz:
        raise ValueError(f"{path} has no atoms.")
    return np.array(xyz, dtype=float), elements


def load_model(source):
    """A structure model from a file, a diffpy Structure or an (xyz, elements) tuple.

    Parameters
    ----------
    source : str, pathlib.Path, diffpy.structure.Structure or tuple
        ``.xyz`` (a finite cluster: "n", comment, then "El x y z" in Å; a
        file without the count lines is read as rows too), any other file
        diffpy.structure reads (CIF, .stru, …), a Structure, or
        ``(xyz, elements[, lattice])`` with positions (n, 3) in Å (no
        lattice: a cluster).

    Returns
    -------
    diffpy.structure.Structure or tuple
        What :func:`~pyxem_epdf.physics.structure_pdf.model_pdf` takes; a
        cluster comes back as ``(xyz, elements)``.

    Raises
    ------
    FileNotFoundError
        The file does not exist (named).
    ValueError
        The file cannot be parsed or holds no atoms (named, with the line
        for ``.xyz``); a tuple of the wrong shape.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "sio.xyz"
    >>> _ = path.write_text("2\\nSiO dimer\\nSi 0 0 0\\nO 1.6 0 0\\n")
    >>> xyz, elements = load_model(path)
    >>> xyz.shape, elements
    ((2, 3), ['Si', 'O'])
    """
    if hasattr(source, "xyz_cartn"):
        return source
    if isinstance(source, (tuple, list)):
        if len(source) not in (2, 3):
            raise ValueError("A model tuple is (xyz, elements) or (xyz, elements, lattice); "
                             f"got {len(source)} items.")
        xyz = np.asarray(source[0], dtype=float)
        if xyz.ndim != 2 or xyz.shape[1] != 3:
            raise ValueError(f"'xyz' of the model must have shape (n, 3) in Å; got {xyz.shape}.")
        if len(source[1]) != len(xyz):
            raise ValueError(f"The model has {len(xyz)} positions but {len(source[1])} elements.")
        return (xyz, [str(e) for e in source[1]], *source[2:])
    if not isinstance(source, (str, Path)):
        raise TypeError("'structure' must be a file path, a diffpy Structure or a tuple "
                        f"(xyz, elements); got {type(source).__name__}.")
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"Structure file not found: '{path}'.")
    if path.suffix.lower() == ".xyz":
        return _read_xyz(path)
    from diffpy.structure import loadStructure

    fmt = "cif" if path.suffix.lower() in (".cif", ".mcif") else "auto"
    chatter = io.StringIO()  # PyCifRW prints its syntax errors
    try:
        with contextlib.redirect_stdout(chatter):
            structure = loadStructure(str(path), fmt=fmt)
    except Exception as err:  # diffpy raises StructureFormatError, TypeError, … on bad files
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"Cannot read the structure file '{path}' ({fmt}): {detail}") from None
    if structure is None or len(structure) == 0:
        raise ValueError(f"The structure file '{path}' has no atoms.")
    return structure



def _pdf_signal(g, r, title, nav_name=None):
    from .signals import PDF1DPlus

    sig = PDF1DPlus(np.asarray(g))
    ax = sig.axes_manager.signal_axes[0]
    ax.name, ax.units, ax.offset, ax.scale = "r", "Å", float(r[0]), float(r[1] - r[0])
    if nav_name:
        sig.axes_manager.navigation_axes[0].name = nav_name
    sig.metadata.General.title = title
    return sig


def model_pdfs(structure, *, kind="electron", r_max=20.0, dr=0.01, sigma=0.05, table="lobato",
               density=None):
    """Total and partial G(r) of a structure model as signals.

    Parameters
    ----------
    structure : str, pathlib.Path, diffpy.structure.Structure or tuple
        A model file (CIF, .stru … read by diffpy.structure; ``.xyz`` read as
        a finite cluster), a Structure, or ``(xyz, elements[, lattice])``
        (see :func:`load_model`).
    kind : {"electron", "xray"}
        Pair weights (:func:`pyxem_epdf.physics.structure_pdf.pair_weights`).
    r_max, dr, sigma : float
        r range, step and Gaussian pair broadening in Å.
    table : str
        Electron scattering-factor table.
    density : float, optional
        ρ₀ in atoms/Å³; default from the cell of a crystal, or a cluster's own
        density with its shape function (see
        :func:`~pyxem_epdf.physics.structure_pdf.model_pdf`).

    Returns
    -------
    total : PDF1DPlus
    partials : PDF1DPlus
        Navigation axis ``"pair"``; ``metadata.ePDF.model.pairs`` and
        ``.weights`` list the pairs and their weights, ``.density`` ρ₀ and
        ``.periodic`` whether the model had a lattice.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        The file cannot be read or has no atoms (see :func:`load_model`).

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

    A finite cluster (a Ni₁₃ cuboctahedron) as an ``(xyz, elements)`` tuple gets
    its own density, not a periodic cell:

    >>> import numpy as np
    >>> d = a / np.sqrt(2)
    >>> shell = [p for p in np.ndindex(3, 3, 3) if sum(abs(np.array(p) - 1)) == 2]
    >>> xyz = np.vstack([[0, 0, 0], (np.array(shell) - 1) * d / np.sqrt(2)])
    >>> total, _ = model_pdfs((xyz, ["Ni"] * 13), r_max=6.0)
    >>> model = total.metadata.ePDF.model
    >>> model.periodic, len(xyz), bool(0.05 < model.density < 0.15)
    (False, 13, True)
    """
    structure = load_model(structure)
    m = model_pdf(structure, kind=kind, r_max=r_max, dr=dr, sigma=sigma, table=table,
                  density=density)
    total = _pdf_signal(m.total, m.r, f"{kind} model PDF")
    pairs = list(m.partials)
    partials = _pdf_signal(np.stack([m.partials[p] for p in pairs]), m.r,
                           f"{kind} partial PDFs", nav_name="pair")
    for sig in (total, partials):
        sig.metadata.set_item("ePDF.model", {
            "kind": kind, "sigma": float(sigma), "density": m.density,
            "periodic": m.periodic,
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
