"""Bulk X-ray PDFs: read and write .gr-type files and compare them with ePDFs.

Files are read with diffpy.utils' ``loadData`` (PDFgetX3 ``.gr`` headers,
Gudrun ``.dofr``/``.int01`` with ``#`` headers). r-space files (G(r) or
D(r), columns r, G[, error]) become :class:`~pyxem_epdf.signals.PDF1DPlus`;
Q-space files (F(Q), Q = 2πs) become a Signal1D on s. X-ray and electron PDFs
weight the atom pairs differently (see
:func:`pyxem_epdf.physics.structure_pdf.pair_weights`) and are normalised
differently (e.g. Gudrun's D(r) carries ⟨b⟩² where ours divides by ⟨f⟩²), so
:func:`compare` scales one onto the other before computing Rw.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .physics import peaks

__all__ = [
    "PairWeightTable",
    "compare",
    "load_xray_fq",
    "load_xray_pdf",
    "pdf_from_arrays",
    "plot_comparison",
    "weight_table",
    "write_gr",
]


def _columns(path, min_columns=2):
    from diffpy.utils.parsers.loaddata import loadData

    try:
        data = np.atleast_2d(loadData(str(path)))
    except (ValueError, OSError) as err:
        raise ValueError(f"Cannot read {path}: {err}") from None
    if data.ndim != 2 or data.shape[1] < min_columns or data.shape[0] < 3:
        raise ValueError(
            f"{path} has no (r, G) data columns: found an array of shape {data.shape}; "
            "expected at least 2 numeric columns and 3 rows."
        )
    return data


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
        r axis in Å (uniform grids are kept uniform; the error column, if any,
        goes to ``metadata.Signal.Noise_properties.variance`` as its square).

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> from pyxem_epdf.physics.models import gaussian_peaks_pdf
    >>> r = np.arange(0, 10, 0.01)
    >>> pdf = pdf_from_arrays(r, gaussian_peaks_pdf(r, [2.0], [1.0], [0.1]), "x")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.gr"
    >>> write_gr(pdf, path)
    >>> back = load_xray_pdf(path)
    >>> bool(np.allclose(back.data, pdf.data))
    True
    """
    data = _columns(path)
    r, g = data[:, 0], data[:, 1]
    out = pdf_from_arrays(r, g, title or Path(path).stem)
    if data.shape[1] >= 3:
        var = out._deepcopy_with_new_data(data[:, 2] ** 2)
        out.metadata.set_item("Signal.Noise_properties.variance", var)
    out.metadata.set_item("ePDF.source_file", str(path))
    return out


def pdf_from_arrays(r, g, title=""):
    """A PDF1DPlus from a uniform r grid (Å) and G(r) values.

    Examples
    --------
    >>> pdf_from_arrays(np.arange(0, 5, 0.5), np.zeros(10)).axes_manager.signal_axes[0].scale
    0.5
    """
    from .signals import PDF1DPlus

    sig = PDF1DPlus(np.asarray(g, dtype=float))
    ax = sig.axes_manager.signal_axes[0]
    step = np.diff(r)
    if not np.allclose(step, step[0], rtol=1e-6, atol=1e-9):
        raise ValueError("The r column is not uniformly spaced; resample it first.")
    ax.name, ax.units, ax.offset, ax.scale = "r", "Å", float(r[0]), float(step[0])
    sig.metadata.General.title = title
    return sig


def load_xray_fq(path, *, title=None):
    """Read a Q-space file (F(Q), Q = 2πs in Å⁻¹; e.g. Gudrun .int01) onto an s axis.

    Parameters
    ----------
    path : str or pathlib.Path
        Columns Q (Å⁻¹), F(Q) [, …].
    title : str, optional
        Default the file name without its suffix.

    Returns
    -------
    hyperspy.signals.Signal1D
        F on s = Q/2π (Å⁻¹); the axis is non-uniform if Q was.

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

    data = _columns(path)
    s = data[:, 0] / (2 * np.pi)
    sig = Signal1D(data[:, 1], axes=[{"axis": s, "name": "s", "units": "Å^-1", "navigate": False}])
    sig.metadata.General.title = title or Path(path).stem
    sig.metadata.set_item("ePDF.source_file", str(path))
    return sig


def write_gr(pdf, path, *, comment=""):
    """Write a single PDF as a two-column .gr file (PDFgetX3-style header).

    Parameters
    ----------
    pdf : PDF1DPlus
        One G(r) (no navigation axes).
    path : str or pathlib.Path
    comment : str
        Added to the header.

    Examples
    --------
    >>> import numpy as np, pathlib, tempfile
    >>> pdf = pdf_from_arrays(np.arange(0, 5, 0.5), np.arange(10.0), "ramp")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "ramp.gr"
    >>> write_gr(pdf, path, comment="test")
    >>> for line in path.read_text(encoding="utf-8").splitlines()[:8]:
    ...     print(line)
    [PDF]
    # written by pyxem-epdf; test
    title = ramp
    #### start data
    #S 1
    #L r(Å)  G(Å^-2)
    0.000000 0.00000000e+00
    0.500000 1.00000000e+00
    >>> bool(np.allclose(load_xray_pdf(path).data, pdf.data))
    True
    """
    if pdf.axes_manager.navigation_dimension:
        raise ValueError("write_gr writes one PDF; select it first (e.g. pdf.inav[i]).")
    r = np.asarray(pdf.axes_manager.signal_axes[0].axis)
    g = np.asarray(pdf.data)
    header = ["[PDF]", f"# written by pyxem-epdf; {comment}".rstrip("; "),
              f"title = {pdf.metadata.General.title}", "#### start data", "#S 1", "#L r(Å)  G(Å^-2)"]
    body = "\n".join(f"{a:.6f} {b:.8e}" for a, b in zip(r, g, strict=True))
    Path(path).write_text("\n".join(header) + "\n" + body + "\n", encoding="utf-8")


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

    Returns
    -------
    dict
        ``scale`` (factor applied to the X-ray PDF), ``rw`` (√(Σ(G_e − kG_x)²/ΣG_e²)),
        ``peaks_e``, ``peaks_x`` and ``differences`` (Å), ``r`` and the two curves
        on the common grid (``g_e``, ``g_x_scaled``).
    """
    r_e = np.asarray(epdf.axes_manager.signal_axes[0].axis)
    lo, hi = map(float, r_range)
    r_x = np.asarray(xpdf.axes_manager.signal_axes[0].axis)
    if lo < max(r_e[0], r_x[0]) - 1e-9 or hi > min(r_e[-1], r_x[-1]) + 1e-9:
        raise ValueError(f"'r_range' {tuple(r_range)} must lie inside both PDFs' r ranges.")
    sel = (r_e >= lo) & (r_e <= hi)
    r = r_e[sel]
    g_e = np.asarray(epdf.data)[sel]
    g_x = np.interp(r, r_x, np.asarray(xpdf.data))
    if scale == "least_squares":
        k = float(g_e @ g_x / (g_x @ g_x))
    elif scale == "first_peak":
        _, he = peaks.first_peak(g_e, r, r_range=(lo, min(hi, lo + 2.5)))
        _, hx = peaks.first_peak(g_x, r, r_range=(lo, min(hi, lo + 2.5)))
        k = float(he / hx)
    else:
        raise ValueError(f"'scale' must be 'least_squares' or 'first_peak'; got {scale!r}.")
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
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    r, g_e, g_x = result["r"], result["g_e"], result["g_x_scaled"]
    ax.plot(r, g_e, label=labels[0], lw=1.3)
    ax.plot(r, g_x, label=labels[1], lw=1.1)
    offset = 1.2 * min(np.min(g_e), np.min(g_x)) - 0.2 * np.ptp(g_e)
    ax.plot(r, g_e - g_x + offset, color="0.4", lw=0.8, label="difference (offset)")
    for pe, px in zip(result["peaks_e"], result["peaks_x"], strict=True):
        ax.axvline(pe, color="C0", ls=":", lw=0.6)
        ax.axvline(px, color="C1", ls=":", lw=0.6)
    ax.set_xlabel("r (Å)")
    ax.set_ylabel("G(r)")
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
