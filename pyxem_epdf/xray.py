"""Bulk X-ray PDFs: read and write .gr-type files and compare them with ePDFs.

Column files (PDFgetX3 ``.gr``/``.fq``/``.sq``/``.iq`` with their
``key = value`` headers, Gudrun ``.dofr``/``.int01`` with ``#`` headers, plain
two- or three-column text) are read by :func:`read_columns`: the data block
is the first run of numeric rows of one width, as diffpy.utils'
``load_data`` finds it, and the header's ``key = value`` lines are kept. A
malformed row inside the block is an error naming the file and the line;
rows with NaN or inf are refused (with their line numbers), never dropped
silently, since dropping them would break the uniform r grid.

r-space files (G(r) or D(r), columns r, G[, error]) become
:class:`~pyxem_epdf.signals.PDF1DPlus` (:func:`load_xray_pdf`); Q-space files
become a :class:`~pyxem_epdf.signals.ReducedIntensity1DPlus` at the right stage
(:func:`load_reduced_intensity`), so X-ray data go through the same
``damp_exponential`` / ``to_pdf`` as electron data. :func:`save_gr` writes any
PDF (one pattern, a pixel, every component or region) as ``.gr`` with the
header PDFgui and PDFgetX3 users expect.

X-ray and electron PDFs weight the atom pairs differently (see
:func:`pyxem_epdf.physics.structure_pdf.pair_weights`) and are normalised
differently (e.g. Gudrun's D(r) carries ⟨b⟩² where ours divides by ⟨f⟩²), so
:func:`compare` scales one onto the other before computing Rw.
"""

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .physics import peaks

__all__ = [
    "PairWeightTable",
    "compare",
    "load_reduced_intensity",
    "load_xray_fq",
    "load_xray_pdf",
    "pdf_from_arrays",
    "plot_comparison",
    "read_columns",
    "save_gr",
    "weight_table",
    "write_gr",
]


def _numbers(line):
    words = line.replace(",", " ").split()
    if not words:
        return None
    try:
        return [float(w) for w in words]
    except ValueError:
        return None


def _header_value(text):
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return text


def read_columns(path, *, min_columns=2, min_rows=3, what="(x, y) data columns"):
    """The numeric data block and the ``key = value`` header of a column file.

    Parameters
    ----------
    path : str or pathlib.Path
        Text file: header lines (``#`` comments, ``key = value``, ``[section]``),
        then rows of numbers separated by blanks or commas.
    min_columns, min_rows : int
        Smallest acceptable data block.
    what : str
        What the columns are, for the error message.

    Returns
    -------
    data : numpy.ndarray
        (rows, columns) float array.
    header : dict
        ``{key: value}`` of the header's ``key = value`` lines (numbers as
        float), ``#`` stripped from the key.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        No data block; a row inside the block that is not numbers or has
        another number of columns (file and line named); rows holding NaN or
        inf (their count and line numbers named).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.gr"
    >>> _ = path.write_text("qmax = 25.0\\n#### start data\\n0 0\\n0.1 0.5\\n0.2 0.7\\n0.3 x\\n")
    >>> read_columns(path)
    Traceback (most recent call last):
    ...
    ValueError: ...x.gr, line 6: expected 2 numbers (the data block starts on line 3); got '0.3 x'.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"File not found: '{path}'.")
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    parsed = [_numbers(line) if not line.lstrip().startswith("#") else None for line in lines]
    # the data block starts at the first numeric row whose next row has the same width
    content = [i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")]
    start = None
    for k, i in enumerate(content):
        row = parsed[i]
        if row is None or len(row) < min_columns:
            continue
        nxt = parsed[content[k + 1]] if k + 1 < len(content) else None
        if nxt is not None and len(nxt) == len(row):
            start = i
            break
    if start is None:
        raise ValueError(f"{path} has no {what}: no block of rows with at least {min_columns} "
                         "numbers was found.")
    header = {}
    for line in lines[:start]:
        text = line.strip().lstrip("#").strip()
        if "=" in text:
            key, _, value = text.partition("=")
            if key.strip() and value.strip():
                header[key.strip()] = _header_value(value)
    width = len(parsed[start])
    rows, bad = [], []
    for i in range(start, len(lines)):
        line = lines[i]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row = parsed[i]
        if row is None or len(row) != width:
            raise ValueError(
                f"{path}, line {i + 1}: expected {width} numbers (the data block starts on "
                f"line {start + 1}); got {line.strip()[:60]!r}."
            )
        if not all(np.isfinite(row)):
            bad.append(i + 1)
        rows.append(row)
    if bad:
        listed = ", ".join(map(str, bad[:5])) + (", …" if len(bad) > 5 else "")
        raise ValueError(
            f"{path}: {len(bad)} data row(s) hold NaN or inf (line {listed}); remove or fix "
            "them (they are not dropped silently: that would break the uniform grid)."
        )
    data = np.array(rows, dtype=float)
    if data.shape[0] < min_rows:
        raise ValueError(f"{path} has only {data.shape[0]} data rows; at least {min_rows} are "
                         f"needed for {what}.")
    return data, header


def _columns(path, min_columns=2, what="(r, G) data columns"):
    return read_columns(path, min_columns=min_columns, what=what)[0]


def load_xray_pdf(path, *, title=None):
    """Read an r-space PDF file (.gr, .dofr …) as a PDF1DPlus.

    Parameters
    ----------
    path : str or pathlib.Path
        Columns r (Å), G(r) [, error].
    title : str, optional

    Returns
    -------
    PDF1DPlus
        r axis in Å (uniform grids are kept uniform; the error column, if any
        — the last of three or four, as PDFgui reads them — goes to
        ``metadata.Signal.Noise_properties.variance`` as its square); the
        header's ``key = value`` lines in ``metadata.ePDF.source_header``.

    Raises
    ------
    FileNotFoundError, ValueError
        See :func:`read_columns` (a bad line, NaN rows: file and line named);
        a non-uniform r column.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from pyxem_epdf.physics.models import gaussian_peaks_pdf
    >>> r = np.arange(0, 10, 0.01)
    >>> pdf = pdf_from_arrays(r, gaussian_peaks_pdf(r, [2.0], [1.0], [0.1]), "x")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.gr"
    >>> _ = save_gr(pdf, path)
    >>> back = load_xray_pdf(path)
    >>> bool(np.allclose(back.data, pdf.data)), back.metadata.ePDF.source_header.rstep
    (True, 0.01)
    """
    data, header = read_columns(path, what="(r, G) data columns")
    r, g = data[:, 0], data[:, 1]
    try:
        out = pdf_from_arrays(r, g, title or Path(path).stem)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    if data.shape[1] >= 3:
        err_col = data[:, -1]  # r, G, dG or r, G, dr, dG (PDFgui)
        var = out._deepcopy_with_new_data(err_col**2)
        out.metadata.set_item("Signal.Noise_properties.variance", var)
    out.metadata.set_item("ePDF.source_file", str(path))
    if header:
        out.metadata.set_item("ePDF.source_header", {_key(k): v for k, v in header.items()})
    return out


def _key(text):
    """A header key usable as a metadata node name."""
    clean = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in str(text)).strip("_")
    return clean if clean and not clean[0].isdigit() else f"k_{clean}"


def pdf_from_arrays(r, g, title=""):
    """A PDF1DPlus from a uniform r grid (Å) and G(r) values.

    Examples
    --------
    >>> pdf_from_arrays(np.arange(0, 5, 0.5), np.zeros(10)).axes_manager.signal_axes[0].scale
    0.5
    """
    from .signals import PDF1DPlus

    r = np.asarray(r, dtype=float)
    g = np.asarray(g, dtype=float)
    if r.ndim != 1 or r.shape != g.shape[-1:] or r.size < 2:
        raise ValueError(f"'r' must be 1-D with one value per G(r) sample; got shapes {r.shape} "
                         f"and {g.shape}.")
    sig = PDF1DPlus(g.copy())
    ax = sig.axes_manager.signal_axes[0]
    step = np.diff(r)
    if not (step[0] > 0 and np.allclose(step, step[0], rtol=1e-6, atol=1e-9)):
        raise ValueError("The r column is not uniformly spaced and increasing "
                         f"(steps {step.min():g} to {step.max():g} Å); resample it first.")
    ax.name, ax.units, ax.offset, ax.scale = "r", "Å", float(r[0]), float(step[0])
    sig.metadata.General.title = title
    return sig


def load_xray_fq(path, *, title=None):
    """Read a Q-space file (Q = 2πs in Å⁻¹, then a value column) onto an s axis, as is.

    For a signal the chain can transform use :func:`load_reduced_intensity`,
    which says what the column is. The shipped ZIF-4 ``.int01`` (Gudrun) holds
    i(Q) ∝ S(Q) − 1 (Keen's F(Q), not multiplied by Q): its transform with
    ``kind="S(Q)-1"`` matches the shipped D(r) with r = 0.99, with
    ``kind="F(Q)"`` only 0.67. The rest is the authors' GudrunX transform,
    whose parameters the files do not carry: D(r) holds i(Q) continued as
    the constant i(Q₀) below Q₀ = 0.61 Å⁻¹ and a modification that is not a
    function of Q alone (r-dependent broadening; ~1 below 5 Å⁻¹, 0.6–0.9
    above 10 Å⁻¹ in a back-transform of D), so 0.999 is not reachable from
    the files (``benchmarks/quantify_validation.py``).

    Parameters
    ----------
    path : str or pathlib.Path
        Columns Q (Å⁻¹), value [, …].
    title : str, optional
        Default the file name without its suffix.

    Returns
    -------
    hyperspy.signals.Signal1D
        The second column on s = Q/2π (Å⁻¹); the axis is non-uniform if Q was.

    Examples
    --------
    >>> import numpy as np
    >>> import pyxem_epdf as epdf
    >>> fq = load_xray_fq(epdf.data.zif4_files()["xray_fq"])
    >>> fq.metadata.General.title, fq.data.shape, fq.axes_manager.signal_axes[0].units
    ('ZIF4glassa_403', (936,), 'Å^-1')
    >>> round(float(2 * np.pi * fq.axes_manager.signal_axes[0].axis[0]), 4)  # first Q
    0.6125
    """
    from hyperspy.signals import Signal1D

    data = _columns(path, what="(Q, F) data columns")
    s = data[:, 0] / (2 * np.pi)
    sig = Signal1D(data[:, 1], axes=[{"axis": s, "name": "s", "units": "Å^-1", "navigate": False}])
    sig.metadata.General.title = title or Path(path).stem
    sig.metadata.set_item("ePDF.source_file", str(path))
    return sig


def _as_numpy(data):
    return np.asarray(data.compute() if hasattr(data, "compute") else data, dtype=float)


def _formula(fractions):
    """``Zn0.04591C0.3214…``: atomic fractions as a formula string (4 significant digits)."""
    return "".join(f"{el}{float(v):.4g}" for el, v in fractions.items())


def _processing_header(md):
    """``key = value`` lines of the chain parameters found in ``metadata.ePDF``."""
    get = lambda key: md.get_item(f"ePDF.{key}", None)  # noqa: E731
    lines = []
    comp = get("composition")
    if comp is not None:
        comp = comp.as_dictionary() if hasattr(comp, "as_dictionary") else dict(comp)
        lines.append(f"composition = {_formula(comp)}")
    table = get("fit.table")
    if table is not None:
        lines.append(f"scatteringfactors = {table}")
    s_min, s_max = get("s_min"), get("s_max")
    if s_min is not None:
        lines.append(f"qmin = {2 * np.pi * float(s_min):.6g}")
    if s_max is not None:
        lines.append(f"qmax = {2 * np.pi * float(s_max):.6g}")
        lines.append(f"qmaxinst = {2 * np.pi * float(s_max):.6g}")
    if s_min is not None:
        lines.append(f"smin = {float(s_min):.6g}")
    if s_max is not None:
        lines.append(f"smax = {float(s_max):.6g}")
    kind, b = get("damping.kind"), get("damping.b")
    if kind is not None:
        lines.append("# damping: phi(s) * exp(-b s^2), b in A^2 (not PDFgui's qdamp)")
        lines.append(f"damping = {kind}")
    if b is not None:
        lines.append(f"dampingb = {float(b):.6g}")
    return lines


def _targets(pdf, path, names):
    """(path, array index, label) of every PDF to write."""
    nav = tuple(pdf.axes_manager._navigation_shape_in_array)
    path = Path(path)
    if not nav:
        return [(path, (), None)]
    indices = list(np.ndindex(*nav))
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != len(indices):
            raise ValueError(f"'names' needs {len(indices)} entries (one per PDF); got {len(names)}.")
    elif len(nav) == 1:
        axis = pdf.axes_manager.navigation_axes[0]
        stem = axis.name if isinstance(axis.name, str) and axis.name.isidentifier() else "pdf"
        names = [f"{stem}{i}" for i in range(nav[0])]
    else:
        names = ["_".join(f"{c}{i}" for c, i in zip("yxwvu"[: len(nav)], idx, strict=True))
                 for idx in indices]
    prefix = path.stem if path.suffix else path.name
    folder = path.parent if path.suffix else path
    return [(folder / f"{prefix}_{name}.gr", idx, name) for idx, name in zip(indices, names, strict=True)]


def save_gr(pdf, path, *, index=None, sigma=None, names=None, metadata_from=None,
            comment="", overwrite=False):
    """Write PDFs as ``.gr`` files with a PDFgetX3-style header that PDFgui reads.

    Parameters
    ----------
    pdf : PDF1DPlus, Unmixing or RegionPDF
        One PDF; a stack (navigation axes: every component, region, pattern
        …; one file each); an :class:`~pyxem_epdf.mapping.Unmixing` (its
        ``components``) or a :class:`~pyxem_epdf.repeat.RegionPDF` (its
        ``pdf`` with the bootstrap σ as the dG column). Lazy signals are
        computed for the PDFs written.
    path : str or pathlib.Path
        The file for one PDF. For a stack, ``folder/name.gr`` writes
        ``folder/name_<label>.gr`` (labels from ``names``, else
        ``component0``, ``component1``, … after the navigation axis name, or
        ``y3_x5`` on a scan); a path without suffix is the folder.
    index : int or tuple of int, optional
        Write only this navigation position (array order, e.g. ``(row, col)``
        of a pixel) to ``path``.
    sigma : array_like or hyperspy signal, optional
        σ of G (Å⁻²), the shape of ``pdf``'s data: written as a third column
        dG. Default: √variance from ``metadata.Signal.Noise_properties``, if
        any.
    names : list of str, optional
        File labels of a stack, one per PDF.
    metadata_from : hyperspy signal, optional
        Take the chain parameters (composition, s range, damping) from this
        signal's ``metadata.ePDF`` when ``pdf`` does not carry them (e.g. the
        PDF cube that an unmixing's components came from).
    comment : str
        A ``comment = …`` header line.
    overwrite : bool
        Replace existing files; by default an existing file is an error and
        nothing is written.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Notes
    -----
    Header keys (``key = value``, read by diffpy.utils'
    ``load_data(..., headers=True)`` and PDFgui's ``qmax`` parser):
    ``version``, ``mode = electron``, ``composition`` (atomic fractions),
    ``qmin``/``qmax``/``qmaxinst`` in Å⁻¹ of Q = 2πs (qmin: the low-s
    extrapolation edge s_min, qmax: the s_max of the polynomial correction
    and transform), ``smin``/``smax`` (Å⁻¹ of s), ``damping`` and
    ``dampingb`` (b in Å² of exp(−b s²); deliberately not PDFgui's ``qdamp``,
    which is an r-space envelope), ``rmin``/``rmax``/``rstep`` (Å),
    ``title``, ``software``, ``softwareversion``, ``date`` and the pixel's
    ``position``. Keys whose value is unknown are left out. The data follow
    ``#### start data`` / ``#L r($\\AA$)  G($\\AA^{-2}$)`` as in PDFgetX3.

    Examples
    --------
    >>> import numpy as np, pathlib, tempfile
    >>> import pyxem_epdf as epdf
    >>> pdf = epdf.data.example_pdf()
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> [p.name for p in save_gr(pdf, folder / "sio2.gr")]
    ['sio2.gr']
    >>> from diffpy.utils.parsers import load_data
    >>> head = load_data(folder / "sio2.gr", headers=True)
    >>> head["mode"], round(head["qmax"] / (2 * np.pi), 3) == round(pdf.metadata.ePDF.s_max, 3)
    ('electron', True)
    >>> bool(np.allclose(load_data(folder / "sio2.gr")[:, 1], pdf.data))
    True
    """
    from . import __version__

    if hasattr(pdf, "components") and hasattr(pdf, "loadings"):
        pdf = pdf.components
    elif hasattr(pdf, "samples") and hasattr(pdf, "n_pixels"):
        sigma = pdf.std if sigma is None else sigma
        pdf = pdf.pdf
    if not hasattr(pdf, "axes_manager") or pdf.axes_manager.signal_dimension != 1:
        raise TypeError("'pdf' must be a PDF1DPlus (or an Unmixing / RegionPDF); got "
                        f"{type(pdf).__name__}.")
    r = np.asarray(pdf.axes_manager.signal_axes[0].axis, dtype=float)
    data = pdf.data
    if sigma is None and pdf.metadata.has_item("Signal.Noise_properties.variance"):
        var = pdf.metadata.Signal.Noise_properties.variance
        sigma = np.sqrt(_as_numpy(var.data if hasattr(var, "data") else var))
    if sigma is not None:
        sigma = _as_numpy(sigma.data if hasattr(sigma, "data") else sigma)
        sigma = np.broadcast_to(sigma, np.shape(data)) if sigma.size == r.size else sigma
        if sigma.shape != tuple(np.shape(data)):
            raise ValueError(f"'sigma' has shape {sigma.shape}; the PDFs have {np.shape(data)}.")
    nav = tuple(pdf.axes_manager._navigation_shape_in_array)
    if index is not None:
        idx = (int(index),) if np.ndim(index) == 0 else tuple(int(i) for i in index)
        if len(idx) != len(nav) or any(not 0 <= i < n for i, n in zip(idx, nav, strict=True)):
            raise ValueError(f"'index' {index!r} is not a navigation position of shape {nav}.")
        targets = [(Path(path), idx, None)]
    else:
        targets = _targets(pdf, path, names)
    if not overwrite:
        existing = [str(t[0]) for t in targets if t[0].exists()]
        if existing:
            raise FileExistsError(f"{len(existing)} file(s) exist, e.g. '{existing[0]}'; pass "
                                  "overwrite=True to replace them.")
    if metadata_from is not None and not hasattr(metadata_from, "metadata"):
        raise TypeError("'metadata_from' must be a signal with metadata.ePDF; got "
                        f"{type(metadata_from).__name__}.")
    chain = _processing_header((pdf if metadata_from is None else metadata_from).metadata)
    title = str(pdf.metadata.General.title)
    source = pdf.metadata.get_item("ePDF.source_file", None) or title
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    step = float(r[1] - r[0]) if r.size > 1 else 0.0
    values = _as_numpy(data[targets[0][1]] if index is not None else data)
    bad = [str(t[0]) for t in targets
           if not np.all(np.isfinite(values if index is not None else values[t[1]]))]
    if bad:
        raise ValueError(f"{len(bad)} of the PDFs hold NaN or inf (e.g. the one for '{bad[0]}'); "
                         "nothing was written.")
    written = []
    for target, idx, label in targets:
        g = values if index is not None else values[idx]
        header = ["[DEFAULT]", "", f"version = pyxem-epdf {__version__}", "",
                  "# input and output specifications", f"inputfile = {source}",
                  "outputtype = gr", "", "# PDF calculation setup", "mode = electron", *chain,
                  f"rmin = {r[0]:.6g}", f"rmax = {r[-1]:.6g}", f"rstep = {step:.6g}",
                  f"title = {title}" + (f" [{label}]" if label else ""),
                  "software = pyxem-epdf", f"softwareversion = {__version__}", f"date = {date}"]
        if idx:
            header.append(f"position = {' '.join(map(str, idx))}")
        if comment:
            header.append(f"comment = {comment}")
        header += ["", "# End of config " + "-" * 62, "#### start data", "", "#S 1"]
        cols = [r, g]
        if sigma is not None:
            cols.append(np.asarray(sigma[idx] if idx else sigma, dtype=float))
            header.append("#L r($\\AA$)  G($\\AA^{-2}$)  dG($\\AA^{-2}$)")
        else:
            header.append("#L r($\\AA$)  G($\\AA^{-2}$)")
        body = "\n".join(" ".join(f"{v:.8g}" for v in row) for row in zip(*cols, strict=True))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(header) + "\n" + body + "\n", encoding="utf-8")
        written.append(target)
    return written


def write_gr(pdf, path, *, comment=""):
    """Write one PDF as a .gr file: :func:`save_gr` for a single PDF.

    Parameters
    ----------
    pdf : PDF1DPlus
        One G(r) (no navigation axes; select one with ``pdf.inav[i]`` or use
        :func:`save_gr` for stacks).
    path : str or pathlib.Path
    comment : str
        Added to the header.

    Examples
    --------
    >>> import numpy as np, pathlib, tempfile
    >>> pdf = pdf_from_arrays(np.arange(0, 5, 0.5), np.arange(10.0), "ramp")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ramp.gr"
    >>> write_gr(pdf, path, comment="test")
    >>> lines = path.read_text(encoding="utf-8").splitlines()
    >>> lines[0], "mode = electron" in lines, "comment = test" in lines
    ('[DEFAULT]', True, True)
    >>> lines[-11:-9]
    ['#L r($\\\\AA$)  G($\\\\AA^{-2}$)', '0 0']
    >>> bool(np.allclose(load_xray_pdf(path).data, pdf.data))
    True
    """
    if pdf.axes_manager.navigation_dimension:
        raise ValueError("write_gr writes one PDF; select it first (e.g. pdf.inav[i]) or use "
                         "save_gr for a stack.")
    save_gr(pdf, path, comment=comment, overwrite=True)


#: What the value column of a Q-space file is, and φ(s) from it (s in Å⁻¹).
_KINDS = {
    "F(Q)": ("reduced_intensity", "Q[S(Q) − 1] (PDFgetX3 .fq)", lambda s, y: y / (2 * np.pi)),
    "S(Q)": ("reduced_intensity", "S(Q) (PDFgetX3 .sq)", lambda s, y: s * (y - 1)),
    "S(Q)-1": ("reduced_intensity", "S(Q) − 1, e.g. Gudrun .int01 i(Q)", lambda s, y: s * y),
    "phi(s)": ("reduced_intensity", "φ(s) = s[S − 1] of this package", lambda s, y: y),
    "I(Q)": ("intensity", "I(Q), to be fitted (PDFgetX3 .iq)", lambda s, y: y),
}


def load_reduced_intensity(path, kind, *, axis="Q", title=None):
    """Read an F(Q), S(Q) or I(Q) file as a ReducedIntensity1DPlus at the right stage.

    With φ(s) = s[S(Q) − 1] = F(Q)/2π (Q = 2πs), X-ray or neutron data go
    through the same ``damp_exponential`` / ``extrapolate_low_s`` / ``to_pdf``
    as electron data (G = 8π ∫ φ sin(2πsr) ds is the usual
    (2/π) ∫ F(Q) sin(Qr) dQ).

    Parameters
    ----------
    path : str or pathlib.Path
        Columns x, value [, error] (see :func:`read_columns`).
    kind : {"F(Q)", "S(Q)", "S(Q)-1", "phi(s)", "I(Q)"}
        The value column: F(Q) = Q[S(Q) − 1] (PDFgetX3 ``.fq``, Å⁻¹); S(Q);
        S(Q) − 1 (Gudrun's ``.int01`` i(Q), Keen's F(Q)); φ(s) of this
        package; I(Q), raw intensity (stage ``"intensity"``: fit it with
        ``fit_scattering`` first).
    axis : {"Q", "s"}
        What the first column is: Q = 4π sinθ/λ or s = Q/2π, both in Å⁻¹.
    title : str, optional
        Default the file name without its suffix.

    Returns
    -------
    ReducedIntensity1DPlus
        On s (Å⁻¹; uniform if the file's grid is); ``metadata.ePDF.stage`` is
        ``"reduced_intensity"`` (or ``"intensity"`` for I(Q)); the error column,
        converted like the values, in ``metadata.Signal.Noise_properties.variance``;
        ``metadata.ePDF.source_file``/``source_kind`` and a history step.

    Raises
    ------
    ValueError
        Unknown ``kind`` or ``axis``; unreadable file (see :func:`read_columns`);
        x not increasing.

    Examples
    --------
    The shipped X-ray i(Q) of amorphous ZIF-4 through the electron chain: the
    C–N, Zn–N and Zn–Im shells of the shipped D(r).

    >>> import pyxem_epdf as epdf
    >>> phi = load_reduced_intensity(epdf.data.zif4_files()["xray_fq"], kind="S(Q)-1")
    >>> phi.metadata.ePDF.stage, phi.axes_manager.signal_axes[0].units
    ('reduced_intensity', 'Å^-1')
    >>> pdf = phi.to_pdf(r_max=10, r_step=0.02)
    >>> pos, _ = pdf.find_peaks(3, r_range=(1.1, 3.3))
    >>> pos.data.round(1).tolist()
    [1.3, 2.0, 3.0]
    """
    from hyperspy.signals import Signal1D

    from .signals import _base, from_profile

    if kind not in _KINDS:
        raise ValueError(f"'kind' must be one of {sorted(_KINDS)}; got {kind!r}.")
    if axis not in ("Q", "s"):
        raise ValueError(f"'axis' must be 'Q' (Å⁻¹, 4π sinθ/λ) or 's' (Å⁻¹, Q/2π); got {axis!r}.")
    stage, meaning, to_phi = _KINDS[kind]
    data, header = read_columns(path, what=f"(x, {kind}) data columns")
    x = data[:, 0]
    if not np.all(np.diff(x) > 0):
        raise ValueError(f"{path}: the {axis} column is not increasing.")
    s = x / (2 * np.pi) if axis == "Q" else x
    y = to_phi(s, data[:, 1])
    step = np.diff(s)
    if np.allclose(step, step[0], rtol=1e-4, atol=1e-9):
        ax = {"name": "s", "units": "Å^-1", "offset": float(s[0]), "scale": float(step.mean()),
              "size": s.size, "navigate": False}
    else:
        ax = {"axis": s, "name": "s", "units": "Å^-1", "navigate": False}
    sig = Signal1D(y, axes=[ax])
    sig.metadata.General.title = title or Path(path).stem
    out = from_profile(sig, bin_position="center")
    if data.shape[1] >= 3:
        err = np.abs(to_phi(s, data[:, -1]) - (to_phi(s, 0 * s) if kind == "S(Q)" else 0))
        out.metadata.set_item("Signal.Noise_properties.variance",
                              out._deepcopy_with_new_data(err**2))
    out.metadata.set_item("ePDF.stage", stage)
    out.metadata.set_item("ePDF.source_file", str(path))
    out.metadata.set_item("ePDF.source_kind", f"{kind}: {meaning}")
    if header:
        out.metadata.set_item("ePDF.source_header", {_key(k): v for k, v in header.items()})
    _base.record(out, "load_reduced_intensity", {"path": str(path), "kind": kind, "axis": axis})
    return out


def compare(epdf, xpdf, *, r_range=(1.0, 8.0), scale="least_squares", n_peaks=4):
    """Put an ePDF and an X-ray PDF on one r grid, scale, and compare.

    Parameters
    ----------
    epdf, xpdf : PDF1DPlus
        Single PDFs (e.g. a component or region PDF, and a bulk X-ray PDF).
    r_range : tuple of float
        r window (Å) for scaling, Rw and peaks.
    scale : {"least_squares", "first_peak"}
        How the X-ray PDF is scaled onto the ePDF.
    n_peaks : int
        Peaks compared (highest in ``r_range``).

    Raises
    ------
    ValueError
        NaN/inf in either PDF inside ``r_range`` (counted), a PDF that is zero
        there, ``r_range`` outside either r range, an unknown ``scale``, a stack
        instead of one PDF.

    Returns
    -------
    dict
        ``scale`` (factor applied to the X-ray PDF), ``rw`` (√(Σ(G_e − kG_x)²/ΣG_e²)),
        ``peaks_e``, ``peaks_x`` and ``differences`` (Å), ``r`` and the two curves
        on the common grid (``g_e``, ``g_x_scaled``).
    """
    for name, sig in (("epdf", epdf), ("xpdf", xpdf)):
        if not hasattr(sig, "axes_manager") or sig.axes_manager.signal_dimension != 1:
            raise TypeError(f"'{name}' must be a PDF1DPlus; got {type(sig).__name__}.")
        if sig.axes_manager.navigation_dimension:
            raise ValueError(f"'{name}' must be a single PDF; it has navigation shape "
                             f"{sig.axes_manager.navigation_shape} (select one with .inav[i]).")
    if scale not in ("least_squares", "first_peak"):
        raise ValueError(f"'scale' must be 'least_squares' or 'first_peak'; got {scale!r}.")
    r_e = np.asarray(epdf.axes_manager.signal_axes[0].axis)
    try:
        lo, hi = map(float, r_range)
    except (TypeError, ValueError):
        raise ValueError(f"'r_range' must be two numbers (Å); got {r_range!r}.") from None
    r_x = np.asarray(xpdf.axes_manager.signal_axes[0].axis)
    if not lo < hi or lo < max(r_e[0], r_x[0]) - 1e-9 or hi > min(r_e[-1], r_x[-1]) + 1e-9:
        raise ValueError(f"'r_range' {tuple(r_range)} must be increasing and lie inside both "
                         f"PDFs' r ranges ([{r_e[0]:g}, {r_e[-1]:g}] and [{r_x[0]:g}, "
                         f"{r_x[-1]:g}] Å).")
    sel = (r_e >= lo) & (r_e <= hi)
    r = r_e[sel]
    g_e = _as_numpy(epdf.data)[sel]
    near = (r_x >= lo - 2 * abs(r_x[1] - r_x[0])) & (r_x <= hi + 2 * abs(r_x[1] - r_x[0]))
    x_data = _as_numpy(xpdf.data)
    g_x = np.interp(r, r_x, x_data)
    for name, sig, g, n_bad in (("epdf", epdf, g_e, int((~np.isfinite(g_e)).sum())),
                                ("xpdf", xpdf, g_x, int((~np.isfinite(x_data[near])).sum()))):
        if n_bad:
            raise ValueError(
                f"'{name}' ({sig.metadata.General.title!r}) has {n_bad} NaN/inf values in "
                f"'r_range' {tuple(r_range)} Å; scale and Rw would be NaN. Fix or crop the "
                "PDF (NaN rows are refused when files are read, not dropped)."
            )
        if not np.any(g):
            raise ValueError(f"'{name}' ({sig.metadata.General.title!r}) is zero everywhere in "
                             f"'r_range' {tuple(r_range)} Å; there is nothing to scale or compare.")
    if scale == "least_squares":
        k = float(g_e @ g_x / (g_x @ g_x))
    elif scale == "first_peak":
        _, he = peaks.first_peak(g_e, r, r_range=(lo, min(hi, lo + 2.5)))
        _, hx = peaks.first_peak(g_x, r, r_range=(lo, min(hi, lo + 2.5)))
        if not (np.isfinite(he) and np.isfinite(hx) and hx != 0):
            raise ValueError(f"No first peak in 'xpdf' within {lo:g}–{min(hi, lo + 2.5):g} Å "
                             "to scale by; use scale='least_squares' or another 'r_range'.")
        k = float(he / hx)
    rw = float(np.sqrt(np.sum((g_e - k * g_x) ** 2) / np.sum(g_e**2)))
    pe, _ = peaks.find_peaks(g_e, r, n_peaks=n_peaks)
    px, _ = peaks.find_peaks(g_x, r, n_peaks=n_peaks)
    return {"scale": k, "rw": rw, "peaks_e": pe, "peaks_x": px, "differences": pe - px,
            "r": r, "g_e": g_e, "g_x_scaled": k * g_x}


def plot_comparison(result, *, ax=None, labels=("ePDF", "X-ray PDF (scaled)")):
    """Overlay of an ePDF and a scaled X-ray PDF from :func:`compare`, with the difference.

    Parameters
    ----------
    result : dict
        The return value of :func:`compare`.
    ax : matplotlib.axes.Axes, optional
        Default a new figure with ``layout="constrained"``.
    labels : tuple of str
        Legend labels of the two curves.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> x = epdf.xray.load_xray_pdf(epdf.data.zif4_files()["xray_dofr"])
    >>> ax = epdf.xray.plot_comparison(epdf.xray.compare(x, x, r_range=(1.0, 6.0)))
    >>> ax.get_title()
    'Rw = 0.000, scale 1'
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('r (Å)', 'G(r) (Å⁻²)')
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    r, g_e, g_x = result["r"], result["g_e"], result["g_x_scaled"]
    ax.plot(r, g_e, label=labels[0], lw=1.3)
    ax.plot(r, g_x, label=labels[1], lw=1.1)
    offset = 1.2 * min(np.min(g_e), np.min(g_x)) - 0.2 * np.ptp(g_e)
    ax.plot(r, g_e - g_x + offset, color="0.4", lw=0.8, label="difference (offset)")
    for pe, px in zip(result["peaks_e"], result["peaks_x"], strict=True):
        ax.axvline(pe, color="C0", ls=":", lw=0.6)
        ax.axvline(px, color="C1", ls=":", lw=0.6)
    if len(result["peaks_e"]):
        ax.plot([], [], color="0.3", ls=":", lw=0.6, label="peak positions")
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("G(r) (Å⁻²)")
    ax.set_title(f"Rw = {result['rw']:.3f}, scale {result['scale']:.3g}")
    ax.legend(fontsize=8)
    return ax


@dataclass
class PairWeightTable:
    """Electron and X-ray weights of the atom pairs of one composition.

    Attributes
    ----------
    pairs : list of str
        Unordered pairs ``"Zn-N"`` (a-b and b-a combined).
    electron, xray : numpy.ndarray
        Weights w = (2 −δ_ab) c_a c_b f_a f_b / ⟨f⟩² at s = 0, each summing to
        1: electron f from the Lobato–Van Dyck (or International Tables)
        parameterisation, X-ray f₀ = Z (xraydb).

    Examples
    --------
    Usually made by :func:`weight_table`:

    >>> import numpy as np
    >>> w = weight_table("SiO2")
    >>> print(w)
    pair      electron     X-ray     e/X
    Si-O         0.484     0.498    0.97
    Si-Si        0.348     0.218    1.60
    O-O          0.168     0.284    0.59
    >>> bool(np.isclose(w.electron.sum(), 1.0) and np.isclose(w.xray.sum(), 1.0))
    True
    >>> PairWeightTable(["A-A", "A-B"], np.array([0.25, 0.75]), np.array([0.5, 0.5])).ratio
    array([0.5, 1.5])
    """

    pairs: list
    electron: np.ndarray
    xray: np.ndarray

    @property
    def ratio(self):
        """electron / X-ray weight of every pair (> 1: the pair counts more in the ePDF)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.electron / self.xray

    def __str__(self):
        rows = [f"{'pair':<8}{'electron':>10}{'X-ray':>10}{'e/X':>8}"]
        for p, e, x, q in zip(self.pairs, self.electron, self.xray, self.ratio, strict=True):
            rows.append(f"{p:<8}{e:10.3f}{x:10.3f}{q:8.2f}")
        return "\n".join(rows)


def weight_table(composition, *, table="lobato"):
    """Which atom pairs dominate an electron and an X-ray PDF of one composition.

    X-ray f₀ grows with Z (f₀(0) = Z), electron f much more slowly (about
    Z^⅓ at s = 0), so heavy–heavy pairs dominate X-ray PDFs and light-atom
    pairs count relatively more in ePDFs. xraydb is used for f₀ because it is
    maintained, tabulates Waasmaier–Kirfel f₀(q) for every element and ion,
    and is pure Python.

    Parameters
    ----------
    composition : dict or str
        Atomic fractions or a formula (see
        :func:`~pyxem_epdf.physics.scattering.parse_composition`).
    table : str
        Electron scattering-factor table (``"lobato"`` or ``"itc"``-style names
        accepted by :func:`~pyxem_epdf.physics.scattering.scattering_factors`).

    Returns
    -------
    PairWeightTable
        Sorted by electron weight, largest first.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> w = epdf.xray.weight_table("Zn(C3H3N2)2")
    >>> i = w.pairs.index("Zn-N")
    >>> round(float(w.electron[i]), 3), round(float(w.xray[i]), 3)
    (0.098, 0.168)
    """
    from .physics.scattering import parse_composition
    from .physics.structure_pdf import pair_weights

    fractions = parse_composition(composition)
    we = pair_weights(fractions, "electron", table)
    wx = pair_weights(fractions, "xray")
    combined = {}
    for (a, b), w in we.items():
        key = "-".join(sorted((a, b), key=lambda el: list(fractions).index(el)))
        e, x = combined.get(key, (0.0, 0.0))
        combined[key] = (e + w, x + wx[(a, b)])
    pairs = sorted(combined, key=lambda k: -combined[k][0])
    return PairWeightTable(pairs, np.array([combined[p][0] for p in pairs]),
                           np.array([combined[p][1] for p in pairs]))
