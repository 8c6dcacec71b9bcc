"""Batch processing of a scan from a TOML configuration, with an HTML report.

``pyxem-epdf process SCAN --config config.toml --out DIR`` runs, lazily and
chunk by chunk: calibration (if the file lacks it) → detector mask →
(descan) → navigation binning → :func:`~pyxem_epdf.signals.azimuthal_profile`
→ ``fit_scattering → polynomial_correct → damp_exponential →
extrapolate_low_s → to_pdf`` → decomposition and unmixing; it writes the PDF
cube and the unmixing results (.zspy), loading maps and component PDFs (PNG
and CSV), ``provenance.json`` (package versions, parameters, SHA-256 of the
input) and one self-contained ``report.html``.

Configuration (every key optional except ``chain.composition``)::

    [calibration]            # only if the scan is not calibrated in Å⁻¹
    s_per_pixel = 0.04       # or camera_length_m + pixel_size_m (+ beam_energy_kV)
    [navigation]
    rebin = 2                # 2 × 2 navigation binning, as in the paper
    [integration]
    npt = 70
    s_max = 2.5              # Å⁻¹; default the largest full ring
    subpixel = 4
    descan = false           # pyxem centre of mass + plane, applied inside the integration
    hot_threshold = 8.0
    beam_stop_radius = 0.0   # Å⁻¹
    [chain]
    composition = "Zn(C3H3N2)1.75(C7H5N2)0.25"
    s_range = [1.6, 2.5]
    weights = "variance"     # "variance", "poisson" or "none"
    fix_c = false
    s_max = 2.5              # polynomial; default the last s
    b = 0.8
    s_min = 0.18
    r_max = 20.0
    r_step = 0.01
    [mapping]
    r_range = [1.0, 8.0]
    n_components = 0         # 0 = from parallel analysis
    method = "closure"       # or "ica", or a HyperSpy BSS algorithm
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import time
from pathlib import Path

import numpy as np
import tomllib

#: Valid keys per section: (type(s), check, description of the valid range).
_POSITIVE = (lambda v: v > 0, "> 0")
_NONNEG = (lambda v: v >= 0, ">= 0")
SCHEMA = {
    "calibration": {
        "s_per_pixel": ((int, float), *_POSITIVE),
        "camera_length_m": ((int, float), *_POSITIVE),
        "pixel_size_m": ((int, float), *_POSITIVE),
        "beam_energy_kV": ((int, float), *_POSITIVE),
    },
    "navigation": {"rebin": (int, lambda v: v >= 1, "an integer >= 1")},
    "integration": {
        "npt": (int, lambda v: v >= 2, "an integer >= 2"),
        "s_max": ((int, float), *_POSITIVE),
        "subpixel": (int, lambda v: 1 <= v <= 16, "an integer in 1–16"),
        "descan": (bool, lambda v: True, "true or false"),
        "hot_threshold": ((int, float), *_POSITIVE),
        "beam_stop_radius": ((int, float), *_NONNEG),
    },
    "chain": {
        "composition": ((str, dict), lambda v: True, "a formula or a table of fractions"),
        "s_range": (list, lambda v: len(v) == 2 and 0 <= v[0] < v[1], "[lo, hi] with 0 <= lo < hi (Å⁻¹)"),
        "weights": (str, lambda v: v in ("variance", "poisson", "none"), '"variance", "poisson" or "none"'),
        "fix_c": (bool, lambda v: True, "true or false"),
        "s_max": ((int, float), *_POSITIVE),
        "b": ((int, float), *_NONNEG),
        "s_min": ((int, float), *_POSITIVE),
        "r_max": ((int, float), *_POSITIVE),
        "r_step": ((int, float), *_POSITIVE),
    },
    "mapping": {
        "r_range": (list, lambda v: len(v) == 2 and 0 <= v[0] < v[1], "[lo, hi] with 0 <= lo < hi (Å)"),
        "n_components": (int, lambda v: v >= 0, "0 (automatic) or an integer >= 2"),
        "method": (str, lambda v: len(v) > 0, "closure, ica or a HyperSpy BSS algorithm"),
    },
}
DEFAULTS = {
    "calibration": {},
    "navigation": {"rebin": 1},
    "integration": {"npt": 0, "subpixel": 4, "descan": False, "hot_threshold": 8.0,
                    "beam_stop_radius": 0.0},
    "chain": {"s_range": [1.6, 2.5], "weights": "variance", "fix_c": False, "b": 0.8,
              "s_min": 0.18, "r_max": 20.0, "r_step": 0.01},
    "mapping": {"r_range": [1.0, 8.0], "n_components": 0, "method": "closure"},
}


class ConfigError(ValueError):
    """A configuration key is missing, unknown or out of range.

    Raised by :func:`load_config` (keys and values) and :func:`plan` (values
    that do not fit the data); the message names the key and its valid range.

    Examples
    --------
    >>> try:
    ...     load_config({"chain": {"composition": "SiO2", "b": -1.0}})
    ... except ConfigError as err:
    ...     print(err)
    'chain.b' must be >= 0; got -1.0.
    >>> issubclass(ConfigError, ValueError)
    True
    """


def load_config(path_or_dict):
    """Read and validate a configuration (TOML file or dict).

    Parameters
    ----------
    path_or_dict : str, pathlib.Path or dict

    Returns
    -------
    dict
        Sections with defaults filled in.

    Raises
    ------
    ConfigError
        Naming the key (``section.key``) and its valid range.

    Examples
    --------
    >>> cfg = load_config({"chain": {"composition": "SiO2", "b": 0.6}})
    >>> cfg["chain"]["b"], cfg["mapping"]["method"]
    (0.6, 'closure')
    """
    if isinstance(path_or_dict, dict):
        raw = path_or_dict
    else:
        try:
            with open(path_or_dict, "rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path_or_dict}: not valid TOML ({err}).") from None
    cfg = {}
    for section, keys in raw.items():
        if section not in SCHEMA:
            raise ConfigError(
                f"Unknown section [{section}]; valid sections: {', '.join(SCHEMA)}."
            )
        if not isinstance(keys, dict):
            raise ConfigError(f"[{section}] must be a table of keys.")
        for key, value in keys.items():
            if key not in SCHEMA[section]:
                raise ConfigError(
                    f"Unknown key '{section}.{key}'; valid keys: {', '.join(SCHEMA[section])}."
                )
            types, check, valid = SCHEMA[section][key]
            ok_type = isinstance(value, types) and not (
                isinstance(value, bool) and types in (int, (int, float))
            )
            if not ok_type or not check(value):
                raise ConfigError(f"'{section}.{key}' must be {valid}; got {value!r}.")
    for section in SCHEMA:
        cfg[section] = {**DEFAULTS.get(section, {}), **raw.get(section, {})}
    if "composition" not in cfg["chain"]:
        raise ConfigError("'chain.composition' is required (a formula or a table of fractions).")
    from .physics.scattering import parse_composition

    try:
        parse_composition(cfg["chain"]["composition"])
    except (ValueError, TypeError) as err:
        raise ConfigError(f"'chain.composition': {err}") from None
    n = cfg["mapping"]["n_components"]
    if n == 1:
        raise ConfigError("'mapping.n_components' must be 0 (automatic) or an integer >= 2; got 1.")
    cal = cfg["calibration"]
    if cal and "s_per_pixel" not in cal and not {"camera_length_m", "pixel_size_m"} <= set(cal):
        raise ConfigError(
            "[calibration] needs 's_per_pixel' or both 'camera_length_m' and 'pixel_size_m'."
        )
    return cfg


def _calibrated(dp, cfg):
    from .physics.units import s_unit_factor
    from .signals import calibrate_s

    cal = cfg["calibration"]
    if cal:
        return calibrate_s(dp, s_per_pixel=cal.get("s_per_pixel"),
                           camera_length=cal.get("camera_length_m"),
                           pixel_size=cal.get("pixel_size_m"),
                           beam_energy=cal.get("beam_energy_kV"))
    try:
        s_unit_factor(dp.axes_manager.signal_axes[0].units)
    except ValueError:
        raise ConfigError(
            "The scan's detector axes are not calibrated in s "
            f"(units {dp.axes_manager.signal_axes[0].units!r}); add a [calibration] section."
        ) from None
    return dp


def plan(dp, cfg):
    """Validate ``cfg`` against the (lazy) scan and describe the work; computes nothing.

    Parameters
    ----------
    dp : pyxem Diffraction2D
    cfg : dict
        From :func:`load_config`.

    Returns
    -------
    list of str
        One line per step.

    Raises
    ------
    ConfigError
        If a value does not fit the data (s beyond the detector, binning that
        does not divide the scan …).

    Examples
    --------
    >>> from pyxem_epdf import data
    >>> synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(64, 64),
    ...                                  s_scale=0.08)
    >>> cfg = load_config({"chain": {"composition": "SiO2"}, "navigation": {"rebin": 2}})
    >>> steps = plan(synth.signal, cfg)
    >>> print(steps[1]); print(steps[4])
    calibration: 0.08 Å⁻¹/pixel, full rings to 2.52 Å⁻¹
    navigation binning 2 × 2 → (2, 2)
    >>> plan(synth.signal, load_config({"chain": {"composition": "SiO2"},
    ...                                 "navigation": {"rebin": 3}}))
    Traceback (most recent call last):
    ...
    pyxem_epdf.batch.ConfigError: 'navigation.rebin' = 3 must divide the 2-D scan shape (4, 4).
    """
    from .physics.units import s_unit_factor

    dp = _calibrated(dp, cfg)
    axes = dp.axes_manager.signal_axes
    f = s_unit_factor(axes[0].units)
    kx = np.asarray(axes[0].axis) * f
    ky = np.asarray(axes[1].axis) * f
    full = min(abs(kx[0]), abs(kx[-1]), abs(ky[0]), abs(ky[-1]))
    corner = float(np.hypot(max(abs(kx[0]), abs(kx[-1])), max(abs(ky[0]), abs(ky[-1]))))
    integ, chain, mapping = cfg["integration"], cfg["chain"], cfg["mapping"]
    s_max = integ.get("s_max", full)
    if s_max > corner:
        raise ConfigError(
            f"'integration.s_max' = {s_max:g} Å⁻¹ is beyond the detector corner ({corner:.3g} Å⁻¹)."
        )
    lo, hi = chain["s_range"]
    if hi > s_max + 1e-9:
        raise ConfigError(
            f"'chain.s_range' = {chain['s_range']} must lie below the integration s_max {s_max:g} Å⁻¹."
        )
    if not chain["s_min"] < lo:
        raise ConfigError(f"'chain.s_min' = {chain['s_min']} must be below chain.s_range[0] = {lo}.")
    if mapping["r_range"][1] > chain["r_max"]:
        raise ConfigError(
            f"'mapping.r_range' = {mapping['r_range']} must lie inside [0, chain.r_max = {chain['r_max']}] Å."
        )
    nav = tuple(dp.axes_manager.navigation_shape[::-1])
    rebin = cfg["navigation"]["rebin"]
    if len(nav) != 2 or any(n % rebin for n in nav):
        raise ConfigError(
            f"'navigation.rebin' = {rebin} must divide the 2-D scan shape {nav}."
        )
    npt = integ["npt"] or int(np.ceil(s_max / abs(kx[1] - kx[0])))
    binned = tuple(n // rebin for n in nav)
    return [
        f"scan {nav} × detector {tuple(dp.axes_manager.signal_shape[::-1])}, "
        f"{dp.data.nbytes / 1e9:.2f} GB, lazy={dp._lazy}",
        f"calibration: {abs(kx[1] - kx[0]):.5g} Å⁻¹/pixel, full rings to {full:.3g} Å⁻¹",
        f"mask: hot/dead from the scan sum (threshold {integ['hot_threshold']}), "
        f"beam stop {integ['beam_stop_radius']} Å⁻¹",
        f"descan correction: {'yes' if integ['descan'] else 'no'}",
        f"navigation binning {rebin} × {rebin} → {binned}",
        f"azimuthal integration: {npt} bins to {s_max:.3g} Å⁻¹, {integ['subpixel']}² sub-pixels",
        f"chain: {chain['composition']}, fit {chain['s_range']} Å⁻¹ ({chain['weights']} weights), "
        f"b = {chain['b']} Å², s_min = {chain['s_min']} Å⁻¹, r 0–{chain['r_max']} Å step {chain['r_step']}",
        f"mapping: PCA over {mapping['r_range']} Å, "
        f"{mapping['n_components'] or 'automatic'} components, {mapping['method']}",
    ]


def sha256(path):
    """SHA-256 of a file, or of every file under a directory (e.g. a .zspy), in name order.

    For a directory, each file's path relative to it is hashed before its
    content, so renaming a file changes the digest.

    Parameters
    ----------
    path : str or pathlib.Path
        A file or a directory.

    Returns
    -------
    str
        Hexadecimal digest.

    Examples
    --------
    >>> import hashlib, pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.txt").write_bytes(b"abc")
    >>> sha256(folder / "a.txt")
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    >>> sha256(folder) == hashlib.sha256(b"a.txtabc").hexdigest()
    True
    """
    digest = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        if path.is_dir():
            digest.update(str(p.relative_to(path)).encode())
        with open(p, "rb") as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def versions():
    """Versions of the packages the result depends on.

    Returns
    -------
    dict
        Distribution name → version string (``"not installed"`` if missing).

    Examples
    --------
    >>> import numpy as np
    >>> v = versions()
    >>> list(v)
    ['pyxem-epdf', 'hyperspy', 'pyxem', 'rosettasciio', 'numpy', 'scipy', 'dask',
     'scikit-learn', 'diffsims']
    >>> v["numpy"] == np.__version__
    True
    """
    import importlib.metadata as md

    out = {}
    for name in ("pyxem-epdf", "hyperspy", "pyxem", "rosettasciio", "numpy", "scipy", "dask",
                 "scikit-learn", "diffsims"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def process(dp, cfg, out_dir, *, source=None, show_progressbar=True):
    """Run the configured chain on a scan and write all outputs and the report.

    Parameters
    ----------
    dp : pyxem Diffraction2D (eager or lazy)
    cfg : dict
        From :func:`load_config`.
    out_dir : str or pathlib.Path
    source : str or pathlib.Path, optional
        Input file (hashed into the provenance).
    show_progressbar : bool

    Returns
    -------
    dict
        Written files and summary numbers.

    Examples
    --------
    A tiny synthetic scan (8 × 8 probe positions, s to 2.52 Å⁻¹):

    >>> import json, pathlib, tempfile
    >>> from pyxem_epdf import data
    >>> synth = data.two_phase_composite(nav_shape=(8, 8), detector_shape=(64, 64),
    ...                                  s_scale=0.08)
    >>> cfg = load_config({
    ...     "chain": {"composition": data.average_composition(synth), "fix_c": True,
    ...               "r_max": 10.0, "r_step": 0.05},
    ...     "integration": {"npt": 32, "s_max": 2.5},
    ...     "mapping": {"n_components": 2}})
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> result = process(synth.signal, cfg, out, show_progressbar=False)
    >>> result["frames"], sorted(pathlib.Path(f).name for f in result["files"].values())
    (64, ['N_map.png', 'component_pdfs.png', 'components.csv', 'components.zspy',
          'loading_maps.png', 'loadings.csv', 'loadings.zspy', 'pdf_cube.zspy',
          'provenance.json', 'report.html', 'scree.png'])
    >>> prov = json.loads((out / "provenance.json").read_text())
    >>> prov["n_components"], prov["parameters"]["chain"]["r_step"]
    (2, 0.05)
    """
    from . import compute_all
    from .mapping import peak_table, plot_pdfs
    from .signals import azimuthal_profile, descan, detector_mask

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    steps = plan(dp, cfg)
    dp = _calibrated(dp, cfg)
    integ, chain, mapping = cfg["integration"], cfg["chain"], cfg["mapping"]
    mask, mask_report = detector_mask(
        dp, hot_threshold=integ["hot_threshold"],
        beam_stop_radius=integ["beam_stop_radius"] or None, show_progressbar=show_progressbar,
    )
    rebin = cfg["navigation"]["rebin"]
    work = dp.rebin(scale=(rebin, rebin, 1, 1)) if rebin > 1 else dp
    shift = descan(work)[1] if integ["descan"] else None
    ri = azimuthal_profile(work, npt=integ["npt"] or None, s_max=integ.get("s_max"),
                           mask=mask, subpixel=integ["subpixel"], beam_shift=shift)
    weights = None if chain["weights"] == "none" else chain["weights"]
    # the whole chain in one pass (same result and history as the five steps)
    pdf = ri.get_pdf(
        chain["composition"], tuple(chain["s_range"]), b=chain["b"], s_min=chain["s_min"],
        s_max=chain.get("s_max"), r_max=chain["r_max"], r_step=chain["r_step"],
        weights=weights, fix_c=chain["fix_c"],
    )
    compute_all(pdf, show_progressbar=show_progressbar)
    dec = pdf.decompose(tuple(mapping["r_range"]), n_components=mapping["n_components"] or None)
    unmix = dec.unmix(method=mapping["method"])
    files = {}
    files["pdf_cube"] = _save(pdf, out / "pdf_cube.zspy")
    files["loadings"] = _save(unmix.loadings, out / "loadings.zspy")
    files["components"] = _save(unmix.components, out / "components.zspy")
    files["loadings_csv"] = _csv_maps(unmix.loadings, out / "loadings.csv")
    files["components_csv"] = _csv_components(unmix.components, out / "components.csv")
    figures = _figures(pdf, dec, unmix, plot_pdfs)
    for name, png in figures.items():
        path = out / f"{name}.png"
        path.write_bytes(png)
        files[name] = str(path)
    table = peak_table(unmix.components, labels=[f"component {i}" for i in
                                                  range(unmix.components.data.shape[0])])
    elapsed = time.perf_counter() - t0
    provenance = {
        "input": None if source is None else {"path": str(source), "sha256": sha256(source)},
        "versions": versions(),
        "parameters": cfg,
        "mask": mask_report,
        "plan": steps,
        "n_components": int(unmix.components.data.shape[0]),
        "parallel_analysis": int(dec.evidence.n_components),
        "seconds": round(elapsed, 2),
        "frames": int(np.prod(dp.axes_manager.navigation_shape)),
    }
    (out / "provenance.json").write_text(json.dumps(provenance, indent=2, default=str))
    files["provenance"] = str(out / "provenance.json")
    (out / "report.html").write_text(_report_html(provenance, figures, table), encoding="utf-8")
    files["report"] = str(out / "report.html")
    return {"files": files, "seconds": round(elapsed, 2), "frames": provenance["frames"]}


def _save(signal, path):
    signal.save(path, overwrite=True)
    return str(path)


def _csv_maps(maps, path):
    data = np.asarray(maps.data)
    k = data.shape[0]
    rows, cols = data.shape[1:]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("row,col," + ",".join(f"component_{i}" for i in range(k)) + "\n")
        for r in range(rows):
            for c in range(cols):
                fh.write(f"{r},{c}," + ",".join(f"{data[i, r, c]:.6g}" for i in range(k)) + "\n")
    return str(path)


def _csv_components(comps, path):
    r = comps.axes_manager.signal_axes[0].axis
    data = np.asarray(comps.data)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("r_A," + ",".join(f"component_{i}" for i in range(len(data))) + "\n")
        for j, rj in enumerate(r):
            fh.write(f"{rj:.6g}," + ",".join(f"{row[j]:.6g}" for row in data) + "\n")
    return str(path)


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _figures(pdf, dec, unmix, plot_pdfs):
    from matplotlib.figure import Figure

    figs = {}
    fig = Figure(figsize=(4.5, 3.2), layout="tight")
    dec.plot_scree(ax=fig.subplots())
    figs["scree"] = _png(fig)
    maps = np.asarray(unmix.loadings.data)
    fig = Figure(figsize=(3.2 * len(maps) + 3.2, 3.2), layout="tight")
    axes = fig.subplots(1, len(maps) + 1)
    for i, m in enumerate(maps):
        im = axes[i].imshow(m, cmap="viridis")
        axes[i].set_title(f"{unmix.method} {i}")
        fig.colorbar(im, ax=axes[i], fraction=0.046)
    unmix.plot_composite(ax=axes[-1])
    figs["loading_maps"] = _png(fig)
    fig = Figure(figsize=(6, 3.5), layout="tight")
    plot_pdfs([unmix.components], labels=[f"component {i}" for i in range(len(maps))],
              ax=fig.subplots())
    figs["component_pdfs"] = _png(fig)
    fig = Figure(figsize=(4.5, 3.2), layout="tight")
    ax = fig.subplots()
    im = ax.imshow(np.asarray(pdf.metadata.ePDF.fit.N.data), cmap="magma")
    ax.set_title("fitted N")
    fig.colorbar(im, ax=ax, fraction=0.046)
    figs["N_map"] = _png(fig)
    return figs


def _report_html(prov, figures, table):
    def rows(d, prefix=""):
        out = []
        for k, v in d.items():
            if isinstance(v, dict):
                out += rows(v, f"{prefix}{k}.")
            else:
                out.append(f"<tr><td>{html.escape(prefix + str(k))}</td>"
                           f"<td>{html.escape(str(v))}</td></tr>")
        return out

    imgs = "\n".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}"><figcaption>{name.replace("_", " ")}</figcaption></figure>'
        for name, png in figures.items()
    )
    plan_items = "".join(f"<li>{html.escape(s)}</li>" for s in prov["plan"])
    src = prov["input"]["path"] if prov["input"] else "in-memory scan"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>pyxem-epdf report</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
table{{border-collapse:collapse}}td{{border:1px solid #ccc;padding:2px 6px;font-size:90%}}
figure{{display:inline-block;margin:0.5em}}img{{max-width:100%}}pre{{background:#f6f6f6;padding:0.5em}}</style>
</head><body>
<h1>pyxem-epdf report</h1>
<p>Input: {html.escape(src)} — {prov['frames']} probe positions processed in {prov['seconds']} s;
parallel analysis: {prov['parallel_analysis']} significant component(s) + mean; {prov['n_components']} unmixed.</p>
<h2>Steps</h2><ol>{plan_items}</ol>
<h2>Figures</h2>{imgs}
<h2>Component peaks</h2><pre>{html.escape(str(table))}</pre>
<h2>Parameters and provenance</h2><table>{''.join(rows({'parameters': prov['parameters'], 'mask': prov['mask'], 'versions': prov['versions'], 'input': prov['input'] or {}}))}</table>
</body></html>
"""
