"""Batch processing of a scan from a TOML configuration, with an HTML report.

``pyxem-epdf process SCAN --config config.toml --out DIR`` runs, lazily and
chunk by chunk: calibration (if the file lacks it) → detector mask →
(geometry: beam stop, detector gaps, elliptical distortion from the scan sum) → (descan) → navigation binning → :func:`~pyxem_epdf.signals.azimuthal_profile`
→ ``fit_scattering → polynomial_correct → damp_exponential →
extrapolate_low_s → to_pdf`` → decomposition and unmixing; it writes the PDF
cube and the unmixing results (.zspy), loading maps and component PDFs (PNG
and CSV; each component also as ``component_<i>.gr``), the mean I(s) with its fitted background and φ(s)
(``intensity_fit.png``), ``provenance.json`` (package versions, parameters, SHA-256 of the
input, start and end times, per-stage times, ``"complete": true``) and one
self-contained ``report.html`` (figures and report: :mod:`pyxem_epdf.report`).

Configuration (every key optional except ``chain.composition``; the valid
range of each key is in :data:`SCHEMA` and in ``pyxem-epdf process --help``)::

    [calibration]            # only if the scan is not calibrated in Å⁻¹
    s_per_pixel = 0.04       # Å⁻¹; or camera_length_m + pixel_size_m (+ beam_energy_kV)
    standard = "au.hspy"     # or: a polycrystalline standard's pattern, same detector and
    lattice_parameter_A = 4.0782  # camera length (fcc; default Au) → s per pixel and ellipse
    [navigation]
    rebin = 2                # 2 × 2 navigation binning, as in the paper
    [integration]
    npt = 70                 # 0 = one bin per detector pixel
    s_max = 2.5              # Å⁻¹; default the largest full ring
    subpixel = 1             # sub-squares per pixel side (exact-area pixel splitting)
    descan = true            # centre of mass of the direct beam + plane, applied inside the integration
    hot_threshold = 8.0
    beam_stop_radius = 0.0   # Å⁻¹ (at most chain.s_min)
    [geometry]               # from the data; no key = no geometry step (as before)
    distortion = "fit"       # ellipse of the scan sum (refitted on the drift-corrected sum when
                             # ring centres move > DRIFT_REFIT_PX), "standard"
                             # (calibration.standard's), or [axis_ratio, angle_deg] (pixel frame)
    s_range = [0.3, 2.4]     # Å⁻¹, ring band of the fit; default [0.3, 0.95 × full ring]
    beam_stop = "auto"       # beam stop of any shape from the scan sum, added to the mask
    detector = "merlin_quad" # inter-chip gaps added to the mask (physics.calibration.DETECTORS)
    center = "auto"          # pattern centres: "rings" (ring centre of every pattern → plane,
                             # constant from the scan sum), "sum", "descan", "none"; "auto" =
                             # "rings" with beam_stop = "auto", else integration.descan
    [chain]
    composition = "Zn(C3H3N2)1.75(C7H5N2)0.25"   # or a table {Zn = 0.1, C = 0.5, …}
    s_range = [1.6, 2.5]     # Å⁻¹, inside the profile's s axis; default (0.64, 1) × outer edge
    weights = "variance"     # "variance", "poisson" or "none" (Python API: None)
    fix_c = false
    c_pool = "scan"          # C/N pooled over the scan (default), "affine" (C = a + κN), or an
                             # odd neighbourhood width; 1 = N and C of every pattern on its own
    s_max = 2.5              # Å⁻¹, end of the polynomial; default the last s
    b = 0.8                  # Å²; default 5 / s_last² (0.8 Å² at 2.5 Å⁻¹)
    s_min = 0.18             # Å⁻¹, below chain.s_range[0]; default 0.14 or the first sample with counts
    r_max = 20.0             # Å
    r_step = 0.01            # Å
    [mapping]
    r_range = [1.0, 8.0]     # Å, inside [0, chain.r_max]
    n_components = 0         # 0 = from the rank evidence, else 2 … number of (binned) positions
    method = "closure"       # "closure", "ica", "nmf", "sklearn_fastica" or "orthomax"

Output folder::

    pdf_cube.zspy            G(r) cube (PDF1DPlus) with the fit maps in metadata.ePDF
    loadings.zspy, components.zspy, loadings.csv, components.csv, component_<i>.gr
    scree.png, loading_maps.png, component_pdfs.png, N_map.png, intensity_fit.png
    geometry.png             with a [geometry] section: scan sum, mask, ellipse, centre track
    report.html              self-contained (figures inlined)
    provenance.json          software, complete, status, started, finished (UTC),
                             seconds, stage_seconds (check, mask, [descan,] chain,
                             mapping, write; geometry with a [geometry] section), output,
                             input (path, sha256), parameters, plan, versions, mask,
                             geometry (with [geometry]: fit with 1σ errors, pixel counts,
                             the centre method, plane and residual; the centre track per
                             probe position also in pdf_cube's metadata.ePDF.geometry),
                             dose, n_components,
                             parallel_analysis, frames, manifest

Integrity of a result (:func:`verify_output`, ``pyxem-epdf verify OUT``): the
``manifest`` in ``provenance.json`` lists every file the run wrote (relative
path, size in bytes, SHA-256; each file inside a .zspy store), so a damaged
result is found before it is used: zarr reads a deleted chunk file as its fill
value (zeros) without an error, and HyperSpy's ``hs.load`` does the same.

Safety of the output folder (:func:`staged_output`): the command never writes
over or inside its input, refuses a non-empty output folder unless
``overwrite`` is given (and then only one holding an earlier pyxem-epdf
result), writes into a sibling folder ``DIR.partial-<pid>`` and renames it to
``DIR`` only once everything is written, so an interrupted run leaves an
earlier result untouched and the partial one under its own name, with
``"complete": false`` in its ``provenance.json``.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import math
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np

from .report import _chain_pdf, _csv_components, _csv_maps

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, published as tomli
    import tomli as tomllib


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _number(check, text):
    return (lambda v: _is_number(v) and check(v)), f"a number {text}"


def _integer(check, text):
    return (lambda v: _is_int(v) and check(v)), f"an integer {text}"


def _pair(unit):
    def check(v):
        return (isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v)
                and 0 <= v[0] < v[1])

    return check, f"a pair [lo, hi] of numbers with 0 <= lo < hi ({unit})"


def _boolean():
    return (lambda v: isinstance(v, bool)), "true or false"


def _composition_value(v):
    if isinstance(v, str):
        return bool(v.strip())
    return isinstance(v, dict) and bool(v) and all(
        isinstance(k, str) and _is_number(x) and x >= 0 for k, x in v.items())


#: Unmixing methods of :meth:`pyxem_epdf.mapping.Decomposition.unmix` usable without
#: extra packages ("ica" is FastICA from scikit-learn, as in the paper).
METHODS = ("closure", "ica", "nmf", "sklearn_fastica", "orthomax")

def _detector_name(v):
    from .physics.calibration import DETECTORS

    return isinstance(v, str) and v.strip().lower().replace("-", "_").replace(" ", "_") in DETECTORS


def _distortion_value(v):
    return v in ("fit", "standard") or (isinstance(v, list) and len(v) == 2 and all(_is_number(x) for x in v)
                          and 1 <= v[0] <= 2)


def _c_pool_value(v):
    from .physics.fit import check_c_pool

    try:
        check_c_pool(v)
    except ValueError:
        return False
    return True


#: Values of ``geometry.center`` (see :func:`_center_method`).
CENTER_METHODS = ("auto", "rings", "sum", "descan", "none")


def _detector_names():
    from .physics.calibration import DETECTORS

    return ", ".join(f'"{n}"' for n in DETECTORS)


#: Default ring band of ``geometry.distortion = "fit"``: [GEOMETRY_S_MIN, GEOMETRY_EDGE ×
#: largest full ring] in Å⁻¹. Measured on the embedded composite (2 % ellipticity at 30°,
#: rod beam stop; 20 × 20 scan, 128² detector at 10 e⁻/Å²; 4 × 4 scan, 64² at 2000 e⁻/Å²):
#: axis ratio 1.0196 ± 0.0011 and 1.0215 ± 0.0005 with [0.3, 0.95 × edge]; inner edges
#: 0.3 or 0.5 Å⁻¹ and outer 0.8 or 0.95 × edge agree to 0.0005.
GEOMETRY_S_MIN, GEOMETRY_EDGE = 0.3, 0.95

#: Valid keys per section: key → (check, description of the valid type and range).
SCHEMA = {
    "calibration": {
        "s_per_pixel": _number(lambda v: 0 < v <= 1, "in (0, 1] (Å⁻¹ per pixel)"),
        "camera_length_m": _number(lambda v: 0 < v <= 100, "in (0, 100] (metres)"),
        "pixel_size_m": _number(lambda v: 0 < v <= 1e-2, "in (0, 0.01] (metres, e.g. 55e-6)"),
        "beam_energy_kV": _number(lambda v: 1 <= v <= 3000, "in [1, 3000] (kV)"),
        "standard": ((lambda v: isinstance(v, str) and bool(v.strip())),
                     "the path of a pattern file of a polycrystalline standard (same detector "
                     "and camera length; relative to the configuration file)"),
        "lattice_parameter_A": _number(lambda v: 1 <= v <= 20,
                                       "in [1, 20] (Å, fcc; Au 4.0782, Al 4.0495)"),
    },
    "navigation": {"rebin": _integer(lambda v: 1 <= v <= 1024, "in 1–1024")},
    "integration": {
        "npt": _integer(lambda v: v == 0 or 2 <= v <= 8192,
                        "0 (one bin per pixel) or in 2–8192"),
        "s_max": _number(lambda v: 0 < v <= 50, "in (0, 50] (Å⁻¹)"),
        "subpixel": _integer(lambda v: 1 <= v <= 16, "in 1–16"),
        "descan": _boolean(),
        "hot_threshold": _number(lambda v: v > 0, "> 0"),
        "beam_stop_radius": _number(lambda v: 0 <= v <= 50, "in [0, 50] (Å⁻¹)"),
    },
    "geometry": {
        "distortion": (_distortion_value,
                       '"fit", "standard" or [axis_ratio, angle_deg] with 1 <= axis_ratio <= 2 '
                       "(major/minor) and the major axis in degrees from +x (columns) "
                       "towards +y (rows)"),
        "s_range": _pair("Å⁻¹, the ring band of the distortion fit"),
        "beam_stop": ((lambda v: v == "auto"), '"auto" (found on the scan sum)'),
        "detector": (_detector_name, "a detector name: " + _detector_names()),
        "center": ((lambda v: v in CENTER_METHODS),
                   " or ".join(f'"{m}"' for m in CENTER_METHODS)
                   + '; default "auto" ("rings" with geometry.beam_stop = "auto", else '
                   "integration.descan)"),
    },
    "chain": {
        "composition": (_composition_value,
                        "a formula (string) or a table {element = atomic fraction >= 0}"),
        "s_range": _pair("Å⁻¹"),
        "weights": ((lambda v: v in ("variance", "poisson", "none")),
                    '"variance", "poisson" or "none"'),
        "fix_c": _boolean(),
        "c_pool": (_c_pool_value, '"scan", "affine" or an odd integer >= 1 (probe positions '
                   "along each scan axis; 1 = every pattern's N and C on its own)"),
        "s_max": _number(lambda v: 0 < v <= 50, "in (0, 50] (Å⁻¹)"),
        "b": _number(lambda v: 0 <= v <= 10, "in [0, 10] (Å², typically 0.6–1.0; above 10 is likely nm²)"),
        "s_min": _number(lambda v: 0 < v <= 1, "in (0, 1] (Å⁻¹; the direct beam ends near 0.1–0.2, above 1 is likely nm⁻¹)"),
        "r_max": _number(lambda v: 0 < v <= 1000, "in (0, 1000] (Å)"),
        "r_step": _number(lambda v: 1e-4 <= v <= 10, "in [0.0001, 10] (Å)"),
    },
    "mapping": {
        "r_range": _pair("Å"),
        "n_components": _integer(lambda v: v == 0 or 2 <= v <= 1000,
                                 "0 (automatic) or in 2–1000 (at most the number of "
                                 "binned probe positions)"),
        "method": ((lambda v: v in METHODS), " or ".join(f'"{m}"' for m in METHODS)),
    },
}
DEFAULTS = {
    "calibration": {},
    "navigation": {"rebin": 1},
    "integration": {"npt": 0, "subpixel": 1, "descan": True, "hot_threshold": 8.0,
                    "beam_stop_radius": 0.0},
    "geometry": {},  # no geometry step
    # s_range, b and s_min: the chain's own defaults (physics.chain.validate_chain_parameters)
    "chain": {"weights": "variance", "fix_c": False, "r_max": 20.0, "r_step": 0.01},
    "mapping": {"r_range": [1.0, 8.0], "n_components": 0, "method": "closure"},
}
#: Largest PDF cube (bytes) :func:`plan` accepts, as a fraction of the machine's memory.
MEMORY_FRACTION = 0.5


class ConfigError(ValueError):
    """A configuration key is missing, unknown or out of range, or the input does not fit.

    Raised by :func:`load_config` (keys and values) and :func:`plan` (values
    that do not fit the data, or data the command cannot process); the
    message names the key, the value and its valid range.

    Examples
    --------
    >>> try:
    ...     load_config({"chain": {"composition": "SiO2", "b": -1.0}})
    ... except ConfigError as err:
    ...     print(err)
    'chain.b' must be a number in [0, 10] (Å², typically 0.6–1.0; above 10 is likely nm²); got -1.0.
    >>> issubclass(ConfigError, ValueError)
    True
    """


class OutputError(ValueError):
    """Writing to the output folder could lose data (see :func:`check_output`).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "report.html").write_text("my notes")
    >>> try:
    ...     check_output(folder)
    ... except OutputError as err:
    ...     print(str(err).split(";")[0])  # doctest: +ELLIPSIS
    output folder '...' is not empty (1 entry: report.html)
    """


def load_config(path_or_dict):
    """Read and validate a configuration (TOML file or dict).

    Parameters
    ----------
    path_or_dict : str, pathlib.Path or dict
        A TOML file, or its content as nested dicts (sections → keys).

    Returns
    -------
    dict
        Every section with defaults filled in; ``chain.weights = "none"``
        becomes ``None``, the value the Python API takes.

    Raises
    ------
    ConfigError
        Naming the key (``section.key``), the value and its valid range; also
        for a missing or unreadable file.

    Examples
    --------
    >>> cfg = load_config({"chain": {"composition": "SiO2", "b": 0.6, "weights": "none"}})
    >>> cfg["chain"]["b"], cfg["chain"]["weights"], cfg["mapping"]["method"]
    (0.6, None, 'closure')
    >>> load_config({"chain": {"composition": "SiO2", "s_range": ["a", "b"]}})
    Traceback (most recent call last):
    ...
    pyxem_epdf.batch.ConfigError: 'chain.s_range' must be a pair [lo, hi] of numbers with 0 <= lo < hi (Å⁻¹); got ['a', 'b'].
    """
    if isinstance(path_or_dict, dict):
        raw = path_or_dict
    else:
        try:
            with open(path_or_dict, "rb") as fh:
                raw = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path_or_dict}: not valid TOML ({err}).") from None
        except OSError as err:
            raise ConfigError(
                f"cannot read the configuration {str(path_or_dict)!r}: {err.strerror or err}."
            ) from None
    for section, keys in raw.items():
        if section not in SCHEMA:
            raise ConfigError(
                f"Unknown section [{section}]; valid sections: {', '.join(SCHEMA)}."
            )
        if not isinstance(keys, dict):
            raise ConfigError(f"[{section}] must be a table of keys; got {keys!r}.")
        for key, value in keys.items():
            if key not in SCHEMA[section]:
                raise ConfigError(
                    f"Unknown key '{section}.{key}'; valid keys: {', '.join(SCHEMA[section])}."
                )
            check, valid = SCHEMA[section][key]
            if not check(value):
                raise ConfigError(f"'{section}.{key}' must be {valid}; got {value!r}.")
    cfg = {section: {**DEFAULTS.get(section, {}), **raw.get(section, {})} for section in SCHEMA}
    chain, mapping, integ = cfg["chain"], cfg["mapping"], cfg["integration"]
    if "composition" not in chain:
        raise ConfigError("'chain.composition' is required (a formula or a table of fractions).")
    from .physics.scattering import parse_composition

    try:
        parse_composition(chain["composition"])
    except (ValueError, TypeError, KeyError) as err:
        raise ConfigError(
            "'chain.composition' must be a formula (e.g. \"SiO2\") or a table of atomic "
            f"fractions; got {chain['composition']!r}: {err}"
        ) from None
    cal = cfg["calibration"]
    if "standard" in cal:
        other = sorted({"s_per_pixel", "camera_length_m", "pixel_size_m"} & set(cal))
        if other:
            raise ConfigError(
                f"'calibration.standard' measures s per pixel: it must not be combined with "
                f"{other}; got both.")
        path = Path(cal["standard"]).expanduser()
        if not path.is_absolute() and not isinstance(path_or_dict, dict):
            path = Path(path_or_dict).resolve().parent / path
        if not path.exists():
            raise ConfigError(f"'calibration.standard' must be an existing pattern file; got "
                              f"{cal['standard']!r} (no such file: {path}).")
        cal["standard"] = str(path.resolve())
    elif "lattice_parameter_A" in cal:
        raise ConfigError("'calibration.lattice_parameter_A' needs 'calibration.standard'.")
    elif cal and "s_per_pixel" not in cal and not {"camera_length_m", "pixel_size_m"} <= set(cal):
        raise ConfigError(
            "[calibration] needs 's_per_pixel' or both 'camera_length_m' and 'pixel_size_m' "
            f"(or 'standard', a standard's pattern); got {sorted(cal)}."
        )
    if cfg["geometry"].get("distortion") == "standard" and "standard" not in cal:
        raise ConfigError("'geometry.distortion' = \"standard\" needs 'calibration.standard' "
                          "(the pattern of a polycrystalline standard).")
    lo, hi = chain.get("s_range", (None, None))
    if lo is not None and "s_min" in chain and not chain["s_min"] < lo:
        raise ConfigError(
            f"'chain.s_min' = {chain['s_min']} must be below chain.s_range[0] = {lo} Å⁻¹."
        )
    if lo is not None and "s_max" in chain and not chain["s_max"] > lo:
        raise ConfigError(
            f"'chain.s_max' = {chain['s_max']} must be above chain.s_range[0] = {lo} Å⁻¹."
        )
    if hi is not None and "s_max" in integ and not hi <= integ["s_max"]:
        raise ConfigError(
            f"'chain.s_range' = {chain['s_range']} must lie below integration.s_max = "
            f"{integ['s_max']} Å⁻¹."
        )
    if "s_min" in chain and integ["beam_stop_radius"] > chain["s_min"]:
        raise ConfigError(
            f"'integration.beam_stop_radius' = {integ['beam_stop_radius']} must be at most "
            f"chain.s_min = {chain['s_min']} Å⁻¹ (I(s) below s_min is extrapolated; masked "
            "rings above it would have no pixels)."
        )
    if chain["r_step"] * 2 > chain["r_max"]:
        raise ConfigError(
            f"'chain.r_step' = {chain['r_step']} must be at most half of chain.r_max = "
            f"{chain['r_max']} Å."
        )
    if chain["r_max"] / chain["r_step"] > 1e6:
        raise ConfigError(
            f"'chain.r_max' / 'chain.r_step' = {chain['r_max']} / {chain['r_step']} gives "
            f"{chain['r_max'] / chain['r_step']:.3g} r points per pattern; at most 1e6."
        )
    if mapping["r_range"][1] > chain["r_max"]:
        raise ConfigError(
            f"'mapping.r_range' = {mapping['r_range']} must lie inside [0, chain.r_max = "
            f"{chain['r_max']}] Å."
        )
    if mapping["r_range"][1] - mapping["r_range"][0] < 2 * chain["r_step"]:
        raise ConfigError(
            f"'mapping.r_range' = {mapping['r_range']} must span at least two r steps "
            f"(chain.r_step = {chain['r_step']} Å)."
        )
    geom = cfg["geometry"]
    if "s_range" in geom and not _uses_ring_band(cfg):
        raise ConfigError(
            f"'geometry.s_range' = {geom['s_range']} is the ring band of the distortion fit "
            "and of the ring centres; it needs geometry.distortion = \"fit\" or "
            "geometry.center = \"rings\"/\"sum\" (got geometry.distortion = "
            f"{geom.get('distortion', 'not set')!r}, geometry.center = "
            f"{geom.get('center', 'auto')!r} → {_center_method(cfg)!r})."
        )
    if chain["weights"] == "none":
        chain["weights"] = None
    return cfg


def describe_schema():
    """Every configuration key with its valid range and default, one line each.

    Returns
    -------
    str

    Examples
    --------
    >>> print(describe_schema().splitlines()[0])
    [calibration] s_per_pixel: a number in (0, 1] (Å⁻¹ per pixel)
    """
    lines = []
    for section, keys in SCHEMA.items():
        for key, (_, valid) in keys.items():
            default = DEFAULTS.get(section, {}).get(key)
            tail = "" if default is None else f"; default {json.dumps(default)}"
            if (section, key) == ("chain", "composition"):
                tail = "; required"
            lines.append(f"[{section}] {key}: {valid}{tail}")
    return "\n".join(lines)


_STANDARDS = {}


def _standard(cfg, detector_shape):
    """calibrate_standard of ``calibration.standard`` (cached per file, size and time)."""
    import hyperspy.api as hs

    from .physics.calibration import AU_LATTICE_PARAMETER
    from .signals import calibrate_standard

    cal = cfg["calibration"]
    path = Path(cal["standard"])
    lattice = float(cal.get("lattice_parameter_A", AU_LATTICE_PARAMETER))
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns, lattice)
    if key not in _STANDARDS:
        try:
            std = hs.load(path)
        except Exception as err:  # any reader error: name the file
            raise ConfigError(f"'calibration.standard' must be a readable pattern file; got "
                              f"{str(path)!r} ({type(err).__name__}: {err}).") from None
        if isinstance(std, list) or std.axes_manager.signal_dimension != 2:
            raise ConfigError(f"'calibration.standard' = {str(path)!r} must hold one 2-D "
                              "pattern (or a stack of them, summed); got "
                              f"{std if isinstance(std, list) else std.axes_manager}.")
        shape = tuple(std.axes_manager.signal_shape[::-1])
        if shape != tuple(detector_shape):
            raise ConfigError(f"'calibration.standard' = {str(path)!r} has a {shape} detector; "
                              f"it must be the scan's, {tuple(detector_shape)}.")
        try:
            result = calibrate_standard(std, lattice_parameter=lattice, show_progressbar=False)
        except ValueError as err:
            raise ConfigError(f"'calibration.standard' = {str(path)!r}: the ring fit failed "
                              f"(lattice parameter {lattice} Å), got: {err}") from None
        _STANDARDS.clear()  # one standard at a time
        _STANDARDS[key] = result
    return _STANDARDS[key]


def _standard_record(cfg, result):
    """The provenance record of ``calibration.standard``."""
    from .physics.calibration import AU_LATTICE_PARAMETER

    cal = cfg["calibration"]
    return {"path": cal["standard"], "sha256": sha256(cal["standard"]),
            "lattice_parameter_A": float(cal.get("lattice_parameter_A", AU_LATTICE_PARAMETER)),
            **json.loads(json.dumps(result.as_dict(), default=float))}


def _calibrated(dp, cfg):
    from .physics.units import s_unit_factor
    from .signals import calibrate_s

    cal = cfg["calibration"]
    if "standard" in cal:
        result = _standard(cfg, dp.axes_manager.signal_shape[::-1])
        try:
            return calibrate_s(dp, s_per_pixel=result.s_per_pixel,
                               beam_energy=cal.get("beam_energy_kV"))
        except (ValueError, TypeError) as err:
            raise ConfigError(f"[calibration] {cal}: {err}") from None
    if cal:
        try:
            return calibrate_s(dp, s_per_pixel=cal.get("s_per_pixel"),
                               camera_length=cal.get("camera_length_m"),
                               pixel_size=cal.get("pixel_size_m"),
                               beam_energy=cal.get("beam_energy_kV"))
        except (ValueError, TypeError) as err:
            raise ConfigError(f"[calibration] {cal}: {err}") from None
    try:
        s_unit_factor(dp.axes_manager.signal_axes[0].units)
    except ValueError:
        raise ConfigError(
            "The scan's detector axes are not calibrated in s "
            f"(units {dp.axes_manager.signal_axes[0].units!r}); add a [calibration] section."
        ) from None
    return dp


def check_scan(dp):
    """Check that ``dp`` is a 4D-STEM scan the batch command can process.

    Looks at the type, shape and dtype only (a lazy scan stays uncomputed).

    Parameters
    ----------
    dp : hyperspy.signal.BaseSignal
        The loaded input.

    Raises
    ------
    ConfigError
        For anything but a 2-D scan of 2-D diffraction patterns of real numbers.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> check_scan(epdf.data.example_pdf())
    Traceback (most recent call last):
    ...
    pyxem_epdf.batch.ConfigError: The input holds a PDF1DPlus (G(r) data) with 1 signal dimension, not diffraction patterns; process needs a 4D-STEM scan: a 2-D scan of 2-D patterns.
    """
    from hyperspy.signal import BaseSignal

    if isinstance(dp, list):
        raise ConfigError(
            f"The input file holds {len(dp)} signals; process needs one 4D-STEM scan "
            "(save the scan alone, e.g. signals[0].save('scan.zspy'))."
        )
    if not isinstance(dp, BaseSignal):
        raise ConfigError(f"The input is a {type(dp).__name__}, not a HyperSpy signal.")
    kind = type(dp).__name__.removeprefix("Lazy")
    stage = dp.metadata.get_item("ePDF.stage", None)
    what = {"pdf": "G(r) data", "reduced_intensity": "φ(s) data",
            "intensity": "an I(s) profile"}.get(stage, "")
    if dp.axes_manager.signal_dimension != 2:
        raise ConfigError(
            f"The input holds a {kind}{f' ({what})' if what else ''} with "
            f"{dp.axes_manager.signal_dimension} signal dimension"
            f"{'s' if dp.axes_manager.signal_dimension != 1 else ''}, not diffraction "
            "patterns; process needs a 4D-STEM scan: a 2-D scan of 2-D patterns."
        )
    nav = tuple(dp.axes_manager.navigation_shape[::-1])
    if len(nav) != 2:
        label = {0: "a single pattern", 1: "a line scan"}.get(len(nav), f"a {len(nav)}-D scan")
        raise ConfigError(
            f"The input is {label} (navigation shape {nav}); process needs a 2-D scan "
            "(rows × columns) for its maps. For a line scan use the Python API "
            "(azimuthal_profile → get_pdf), which takes any navigation shape."
        )
    dtype = np.dtype(dp.data.dtype)
    if dtype.kind not in "uif" or dtype == np.float16:
        hint = " (convert with dp.change_dtype('float32'))" if dtype == np.float16 else ""
        raise ConfigError(
            f"The scan's dtype {dtype} is not supported; process needs integer, float32 or "
            f"float64 counts{hint}."
        )


def _machine_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _composition_text(composition):
    if isinstance(composition, str):
        return composition
    if isinstance(composition, dict):
        return ", ".join(
            f"{el} {float(np.mean(v)):.4g}" if np.ndim(v) == 0 else f"{el} (map)"
            for el, v in composition.items()
        )
    return str(composition)


def _pixel_frame(dp):
    """(centre (x, y) in pixels of s = 0, steps (Å⁻¹ per pixel, signed) along x and y)."""
    from .physics.units import s_unit_factor

    axes = dp.axes_manager.signal_axes
    steps = [float(a.scale) * s_unit_factor(a.units) for a in axes]
    centre = tuple(-float(a.offset) / float(a.scale) for a in axes)
    return centre, steps


def _axes_distortion(matrix, steps):
    """A of the pixel frame (u = A·(p − c), x = columns) → A of the calibrated axes.

    k − k0 = D (p − c) with D = diag(steps), so |A_k (k − k0)| ∝ |A (p − c)| for
    A_k = A D⁻¹ √|det D| (the identity for square pixels and positive steps).
    """
    d = np.diag(steps)
    return np.asarray(matrix, float) @ np.linalg.inv(d) * math.sqrt(abs(np.linalg.det(d)))


def _geometry_s_range(geom, full):
    """The fit's ring band (Å⁻¹): geometry.s_range or the default for a full ring ``full``."""
    if "s_range" in geom:
        return [float(v) for v in geom["s_range"]]
    return [GEOMETRY_S_MIN, round(GEOMETRY_EDGE * full, 6)]


def _center_method(cfg):
    """``geometry.center`` resolved: "rings", "sum", "descan" or "none".

    "auto" (the default) is "rings" when the beam stop is found from the data
    (``geometry.beam_stop = "auto"``: the stop hides the direct beam, so its
    centre of mass is wrong), else what ``integration.descan`` says. Measured
    (benchmarks/bench_geometry_route.py; 20 × 20 composite, 10 e⁻/Å², 2 %
    ellipticity, 2 × 1.5 px drift, centre 3.6 px off the calibration): with a
    rod beam stop the centres are off by 0.96 px rms with descan, 0.079 px with
    "rings" (mean G(r) 6.1 % vs 0.44 % rms from the true-centre G); without a
    beam stop descan is better (0.002 px vs 0.095 px).
    """
    geom = cfg["geometry"]
    value = geom.get("center", "auto")
    if value == "auto":
        if geom.get("beam_stop") == "auto":
            return "rings"
        return "descan" if cfg["integration"]["descan"] else "none"
    return value


def _uses_ring_band(cfg):
    """Whether the [geometry] step fits rings in geometry.s_range (ellipse or centres)."""
    return (cfg["geometry"].get("distortion") == "fit"
            or _center_method(cfg) in ("rings", "sum"))


def _full_ring_px(centre, steps, shape):
    """Largest full ring (Å⁻¹) about ``centre`` (x, y px) on a detector of ``shape``."""
    return min(abs(steps[0]) * min(centre[0], shape[1] - 1 - centre[0]),
               abs(steps[1]) * min(centre[1], shape[0] - 1 - centre[1]))


#: Navigation binning of the scan for ``geometry.center = "rings"`` (each side,
#: the largest of CENTER_BINNING, 2, 1 that divides the scan and leaves ≥ 2 blocks
#: per side): the plane needs few, precise centres. Measured on the 20 × 20 composite
#: at 10 e⁻/Å² (benchmarks/README.md, "Geometry in the user's route"): 4 × 4 blocks 0.079 px rms
#: in 1.0 s, 2 × 2 0.084 px in 5.0 s, every pattern 0.165 px in 22 s (400 patterns); with
#: find_centers(refine=True) 0.078 px for all three, 0.47 s / 2.6 s / 13.3 s.
CENTER_BINNING = 4


def _center_binning(nav):
    for f in (CENTER_BINNING, 2, 1):
        if f <= CENTER_BINNING and all(n % f == 0 and n // f >= 2 for n in nav):
            return f
    return 1


def _geometry_centres(dp, cfg, summed, mask, pixel_matrix, sum_centre, s_range):
    """Pattern centres (x, y px; navigation + (2,)) of ``geometry.center`` and their record.

    "sum": the ring centre of the scan sum for every pattern. "rings": the ring
    centre of every pattern (:func:`~pyxem_epdf.signals.find_centers`, the
    fitted ellipse and the mask applied), then a least-squares plane over the
    probe positions whose constant is the scan sum's centre: at 10 e⁻/Å² single
    patterns are ~1 px noisy and biased away from a beam-stop arm by ~0.3 px
    (benchmarks/README.md, issue 16 §4), the sum is not.
    """
    from .physics.geometry import fit_descan
    from .signals import find_centers

    method = _center_method(cfg)
    nav = tuple(dp.data.shape[:-2])
    one = _summed_signal(dp, summed)
    if sum_centre is None:  # no ellipse fit: the ring centre of the scan sum
        sum_centre = find_centers(one, s_range=tuple(s_range), center=_pixel_frame(dp)[0],
                                  distortion=pixel_matrix, mask=mask, search=8.0,
                                  lazy_output=False).data
    sum_centre = np.asarray(sum_centre, float)
    record = {"method": method, "s_range": [float(v) for v in s_range],
              "sum_center_px": sum_centre.tolist()}
    if method == "sum":
        return np.broadcast_to(sum_centre, nav + (2,)).copy(), record
    f = _center_binning(nav)
    work = dp.rebin(scale=(f, f, 1, 1)) if f > 1 else dp
    # lazy in → the centres computed block by block (only they are held in memory)
    measured = find_centers(work, s_range=tuple(s_range), center=sum_centre,
                            distortion=pixel_matrix, mask=mask).data
    if hasattr(measured, "compute"):
        measured = measured.compute()
    measured = np.asarray(measured, float)
    # the plane through the block centres, evaluated at every probe position:
    # block (I, J) sits at i = f I + (f − 1)/2
    fitted = fit_descan(measured)
    grids = [np.arange(n, dtype=float) for n in measured.shape[:-1]]
    design = np.stack([np.ones(measured.shape[:-1]), *np.meshgrid(*grids, indexing="ij")],
                      -1).reshape(-1, 3)
    coef, *_ = np.linalg.lstsq(design, fitted.reshape(-1, 2), rcond=None)
    coef[1:] /= f
    coef[0] -= (f - 1) / 2 * (coef[1] + coef[2])
    ii, jj = np.meshgrid(*[np.arange(n, dtype=float) for n in nav], indexing="ij")
    plane = coef[0] + ii[..., None] * coef[1] + jj[..., None] * coef[2]
    offset = sum_centre - plane.reshape(-1, 2).mean(axis=0)
    plane += offset
    coef[0] += offset
    residual = np.hypot(*(measured - fitted).reshape(-1, 2).T)
    record.update({
        "navigation_binning": int(f),
        "plane_px": {"origin": coef[0].tolist(), "per_row": coef[1].tolist(),
                     "per_column": coef[2].tolist(),
                     "note": "(x, y) centre = origin + per_row · i + per_column · j"},
        "residual_rms_px": float(np.sqrt(np.mean(residual ** 2))),
        "residual_max_px": float(residual.max()),
        "residual_of": "the centres of the binned patterns about the plane",
        "track_range_px": (plane.reshape(-1, 2).max(0) - plane.reshape(-1, 2).min(0)).tolist(),
    })
    return plane, record


#: Centre-track range (px) above which ``distortion = "fit"`` is refitted on the
#: drift-corrected scan sum when the centres are ring centres. Measured
#: (benchmarks/README.md "Drift-corrected scan sum", 20×20 composite, 2 % at 30°,
#: mean of 3 seeds; one seed's 1σ 0.001–0.0015 / 1.2–2.3°): at 1 px the plain sum
#: (1.0212 / 28.1°) and the corrected one (1.0215 / 28.6°) agree; at 2.5 px 1.0225 /
#: 26.1° vs 1.0217 / 28.3°, at 4 px 1.0235 / 22.9° vs 1.0209 / 29.7°.
DRIFT_REFIT_PX = 2.0


def _geometry(dp, cfg, summed, mask):
    """The [geometry] step on the scan sum: (mask, distortion of the axes or None, record, centres).

    ``centres``: (x, y) pixel centre per probe position (``geometry.center`` =
    "rings" or "sum"), else None.
    """
    from .physics.calibration import detector_gaps, distortion_matrix
    from .signals import find_beam_stop, fit_distortion

    geom = cfg["geometry"]
    centre, steps = _pixel_frame(dp)
    record = {}
    pixel_matrix = sum_centre = None
    s_range = _geometry_s_range(geom, _full_ring_px(centre, steps, summed.shape))
    if "detector" in geom:
        try:
            gaps = detector_gaps(geom["detector"], summed.shape)
        except ValueError as err:
            raise ConfigError(f"'geometry.detector' = {geom['detector']!r}: {err}") from None
        record["detector"] = {"name": geom["detector"], "gap_pixels": int(gaps.sum()),
                              "new_pixels": int((gaps & ~mask).sum())}
        mask = mask | gaps
    if geom.get("beam_stop") == "auto":
        stop, report = find_beam_stop(dp, summed=summed, center=centre)
        record["beam_stop"] = {"method": "auto (find_beam_stop on the scan sum)",
                               "pixels": report["beam_stop"],
                               "new_pixels": int((stop & ~mask).sum())}
        mask = mask | stop
    distortion = None
    value = geom.get("distortion")
    if value == "fit":
        try:
            fit = fit_distortion(dp, s_range=tuple(s_range), center=centre, mask=mask,
                                 summed=summed)
        except ValueError as err:
            raise ConfigError(f"'geometry.distortion' = \"fit\" failed on this scan "
                              f"(geometry.s_range = {s_range} Å⁻¹): {err}") from None
        record["distortion"] = {
            "method": "fit (azimuthal variance of the scan sum)", "s_range": s_range,
            "axis_ratio": float(fit.axis_ratio), "axis_ratio_std": float(fit.axis_ratio_std),
            "angle_deg": float(fit.angle), "angle_std_deg": float(fit.angle_std),
            "center_px": [float(v) for v in fit.center],
            "center_std_px": [float(v) for v in fit.center_std],
            "n_points": int(fit.n_points), "rms": float(fit.rms),
            "matrix": np.asarray(fit.matrix, float).tolist(),
        }
        distortion = _axes_distortion(fit.matrix, steps)
        pixel_matrix, sum_centre = np.asarray(fit.matrix, float), fit.center
    elif value == "standard":
        e = _standard(cfg, summed.shape).ellipse
        pixel_matrix = np.asarray(e.matrix, float)
        record["distortion"] = {
            "method": "standard (ellipse of calibration.standard's rings)",
            "axis_ratio": float(e.axis_ratio), "axis_ratio_std": float(e.axis_ratio_std),
            "angle_deg": float(e.angle), "angle_std_deg": float(e.angle_std),
            "matrix": pixel_matrix.tolist()}
        distortion = _axes_distortion(pixel_matrix, steps)
    elif value is not None:
        a = distortion_matrix(*value)
        record["distortion"] = {"method": "given", "axis_ratio": float(value[0]),
                                "angle_deg": float(value[1]), "matrix": a.tolist()}
        distortion = _axes_distortion(a, steps)
        pixel_matrix = a
    if distortion is not None:
        record["distortion"]["frame"] = ("pixels: u = A·(p − c), x = columns, y = rows; "
                                         "applied inside the integration operator")
    centres = None
    if _center_method(cfg) in ("rings", "sum"):
        try:
            centres, record["center"] = _geometry_centres(dp, cfg, summed, mask, pixel_matrix,
                                                          sum_centre, s_range)
        except ValueError as err:
            raise ConfigError(f"'geometry.center' = {geom.get('center', 'auto')!r} failed on "
                              f"this scan (geometry.s_range = {s_range} Å⁻¹): {err}") from None
    else:
        record["center"] = {"method": _center_method(cfg)}
    if (value == "fit" and centres is not None and record["center"]["method"] == "rings"
            and max(record["center"]["track_range_px"]) > DRIFT_REFIT_PX):
        # a drifting centre smears the plain sum's rings: refit on the sum with
        # every pattern about its ring centre (one more pass over the scan)
        ny, nx = dp.axes_manager.signal_shape[::-1]
        shift = np.stack([nx / 2 - centres[..., 0], ny / 2 - centres[..., 1]], axis=-1)
        try:
            fit = fit_distortion(dp, s_range=tuple(s_range),
                                 center=tuple(centres.reshape(-1, 2).mean(axis=0)), mask=mask,
                                 beam_shift=shift, show_progressbar=False)
        except ValueError as err:
            raise ConfigError(f"'geometry.distortion' = \"fit\" failed on the drift-corrected "
                              f"scan sum (geometry.s_range = {s_range} Å⁻¹): {err}") from None
        plain = {k: record["distortion"][k] for k in ("axis_ratio", "angle_deg")}
        record["distortion"].update({
            "method": "fit (azimuthal variance of the drift-corrected scan sum: every pattern "
                      "about its ring centre)",
            "axis_ratio": float(fit.axis_ratio), "axis_ratio_std": float(fit.axis_ratio_std),
            "angle_deg": float(fit.angle), "angle_std_deg": float(fit.angle_std),
            "center_px": [float(v) for v in fit.center],
            "center_std_px": [float(v) for v in fit.center_std],
            "n_points": int(fit.n_points), "rms": float(fit.rms),
            "matrix": np.asarray(fit.matrix, float).tolist(), "plain_sum": plain,
        })
        distortion = _axes_distortion(fit.matrix, steps)
    record["masked_pixels"] = int(mask.sum())
    return mask, distortion, record, centres


def _build(dp, cfg, *, mask=None, shift=None, composition=None, distortion=None):
    """The lazy chain: binned scan → profile → G(r). Nothing is computed for a lazy ``dp``."""
    from .signals import azimuthal_profile

    integ, chain = cfg["integration"], cfg["chain"]
    rebin = cfg["navigation"]["rebin"]
    work = dp.rebin(scale=(rebin, rebin, 1, 1)) if rebin > 1 else dp
    ri = azimuthal_profile(work, npt=integ["npt"] or None, s_max=integ.get("s_max"),
                           mask=mask, subpixel=integ["subpixel"], beam_shift=shift,
                           distortion=distortion, show_progressbar=False)
    s = ri.axes_manager.signal_axes[0].axis
    half = 0.5 * float(s[1] - s[0])  # bin centres: the data cover half a bin beyond
    first, last = float(s[0]) - half, float(s[-1]) + half
    lo, hi = chain.get("s_range", (first, last))
    if lo < first - 1e-9 or hi > last + 1e-9:
        raise ConfigError(
            f"'chain.s_range' = {chain['s_range']} must lie inside the profile's s range "
            f"[{first:.4g}, {last:.4g}] Å⁻¹ ({s.size} bins to integration.s_max)."
        )
    if chain.get("s_max") is not None and chain["s_max"] > last + 1e-9:
        raise ConfigError(
            f"'chain.s_max' = {chain['s_max']} must be at most the profile's last s, "
            f"{last:.4g} Å⁻¹."
        )
    comp = chain["composition"] if composition is None else composition
    try:
        pdf = _chain_pdf(ri, comp, chain)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"[chain] does not fit this scan: {err}") from None
    return work, ri, pdf


def _geometry_figure_args(dp, cfg, summed, mask, geometry, centres):
    """Keywords of :func:`pyxem_epdf.report.geometry_figure` from the [geometry] record."""
    centre, steps = _pixel_frame(dp)
    dist = geometry.get("distortion", {})
    cen = geometry.get("center", {})
    if "sum_center_px" in cen:
        centre = cen["sum_center_px"]
    elif "center_px" in dist:
        centre = dist["center_px"]
    radii = ()
    if _uses_ring_band(cfg) or dist:
        band = cen.get("s_range") or dist.get("s_range") or _geometry_s_range(
            cfg["geometry"], _full_ring_px(centre, steps, summed.shape))
        radii = tuple(float(v) / abs(steps[0]) for v in band)
    return {"summed": summed, "mask": mask, "center": tuple(centre),
            "distortion": dist.get("matrix"), "radii": radii, "centers": centres}


def _centres_of_shift(dp, shifts):
    """(x, y) pixel centres from pyxem beam shifts (the inverse of the batch's conversion)."""
    ny, nx = dp.axes_manager.signal_shape[::-1]
    shifts = np.asarray(shifts, float)
    return np.stack([nx / 2 - shifts[..., 0], ny / 2 - shifts[..., 1]], axis=-1)


def _record_geometry(pdf, geometry, centres):
    """The [geometry] record (and the centre track) in ``metadata.ePDF.geometry`` of G(r)."""
    for key, value in geometry.items():
        pdf.metadata.set_item(f"ePDF.geometry.{key}", json.loads(json.dumps(value)))
    if centres is not None:
        # per probe position of the unbinned scan, (x, y) pixels
        pdf.metadata.set_item("ePDF.geometry.centers_px", np.asarray(centres, float))


def _record_resolved_chain(chain, pdf):
    """Fill the chain keys left to their defaults with the values get_pdf used."""
    md = pdf.metadata.ePDF
    chain.setdefault("s_range", [float(v) for v in md.fit.s_range])
    chain.setdefault("b", float(md.damping.b) if md.damping.kind == "exponential" else 0.0)
    chain.setdefault("s_min", float(md.s_min))


def plan(dp, cfg, *, composition=None):
    """Validate ``cfg`` against the (lazy) scan and describe the work; computes nothing.

    Runs every check the real run makes that depends only on the
    configuration and the scan's type, shape, calibration and dtype: the lazy
    chain (integration → G(r)) is built, so the chain's own parameter checks
    run too, without computing the data (an eager scan is wrapped lazily
    for this). The [geometry] step is listed and checked as far as the detector
    allows (the layout of ``geometry.detector`` against the detector shape, the
    ring band of the distortion fit and of the ring centres against the
    detector, a given distortion inside the integration, which centre method
    replaces descan). Not checked: the detector mask, the beam stop, the
    distortion fit, the centres found and descan, which need the data. With
    ``calibration.standard`` the standard's pattern is read and fitted here
    (one pattern, ~1 s; the run reuses the result), since every s check
    needs its calibration.

    Parameters
    ----------
    dp : pyxem Diffraction2D
    cfg : dict
        From :func:`load_config`.
    composition : dict, optional
        Per-pixel composition maps overriding ``chain.composition`` (as
        :func:`process`).

    Returns
    -------
    list of str
        One line per step.

    Raises
    ------
    ConfigError
        If the input is not a 2-D scan of diffraction patterns, or a value does
        not fit the data (s beyond the detector, binning that does not divide
        the scan, more components than probe positions …).

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

    check_scan(dp)
    dp = _calibrated(dp, cfg)
    axes = dp.axes_manager.signal_axes
    f = s_unit_factor(axes[0].units)
    kx = np.asarray(axes[0].axis) * f
    ky = np.asarray(axes[1].axis) * f
    step = abs(kx[1] - kx[0]) if kx.size > 1 else 0.0
    if kx.size < 8 or ky.size < 8 or not step > 0:
        raise ConfigError(
            f"The detector has {tuple(dp.axes_manager.signal_shape[::-1])} pixels with a step "
            f"of {step:g} Å⁻¹; process needs at least 8 × 8 pixels and a step > 0."
        )
    full = min(abs(kx[0]), abs(kx[-1]), abs(ky[0]), abs(ky[-1]))
    corner = float(np.hypot(max(abs(kx[0]), abs(kx[-1])), max(abs(ky[0]), abs(ky[-1]))))
    integ, chain, mapping = cfg["integration"], cfg["chain"], cfg["mapping"]
    s_max = integ.get("s_max", full)
    if s_max > corner:
        raise ConfigError(
            f"'integration.s_max' = {s_max:g} Å⁻¹ is beyond the detector corner ({corner:.3g} Å⁻¹)."
        )
    lo, hi = chain.get("s_range", (0.0, 0.0))
    if hi > s_max + 1e-9:
        raise ConfigError(
            f"'chain.s_range' = {chain['s_range']} must lie below the integration s_max {s_max:g} Å⁻¹."
        )
    if chain.get("s_max") is not None and chain["s_max"] > s_max + 1e-9:
        raise ConfigError(
            f"'chain.s_max' = {chain['s_max']} Å⁻¹ must be at most the integration s_max "
            f"{s_max:.3g} Å⁻¹."
        )
    nav = tuple(dp.axes_manager.navigation_shape[::-1])
    rebin = cfg["navigation"]["rebin"]
    if any(n % rebin for n in nav):
        raise ConfigError(
            f"'navigation.rebin' = {rebin} must divide the 2-D scan shape {nav}."
        )
    binned = tuple(n // rebin for n in nav)
    positions = int(np.prod(binned))
    if positions < 3 or min(binned) < 2:
        raise ConfigError(
            f"The scan has {binned[0]} × {binned[1]} probe positions after binning ({nav} / "
            f"navigation.rebin = {rebin}); the maps need at least 2 along each axis and the "
            "decomposition at least 3 positions."
        )
    k = mapping["n_components"]
    if k > positions:
        raise ConfigError(
            f"'mapping.n_components' = {k} must be at most the number of (binned) probe "
            f"positions, {positions}."
        )
    npt = integ["npt"] or int(np.ceil(s_max / step))
    n_r = int(round(chain["r_max"] / chain["r_step"])) + 1
    cube_bytes = positions * n_r * 8
    work_bytes = cube_bytes + 3 * positions * npt * 8
    memory = _machine_memory()
    if memory and work_bytes > MEMORY_FRACTION * memory:
        raise ConfigError(
            f"The results need about {work_bytes / 1e9:.3g} GB ({positions} positions × "
            f"{n_r} r points from chain.r_max / chain.r_step, + profiles), more than "
            f"{MEMORY_FRACTION:.0%} of this machine's {memory / 1e9:.3g} GB: raise chain.r_step, "
            "lower chain.r_max or bin the scan (navigation.rebin)."
        )
    geometry_steps = _plan_geometry(dp, cfg, full, corner)
    given = cfg["geometry"].get("distortion")
    distortion = None
    if isinstance(given, list):
        from .physics.calibration import distortion_matrix

        distortion = _axes_distortion(distortion_matrix(*given), _pixel_frame(dp)[1])
    elif given == "standard":
        distortion = _axes_distortion(
            _standard(cfg, dp.axes_manager.signal_shape[::-1]).ellipse.matrix,
            _pixel_frame(dp)[1])
    lazy = dp if dp._lazy else dp.as_lazy()
    # the chain's own checks; nothing computed
    _build(lazy, cfg, composition=composition, distortion=distortion)
    weights = "none" if chain["weights"] is None else chain["weights"]
    comp = _composition_text(chain["composition"] if composition is None else composition)
    return [
        f"scan {nav} × detector {tuple(dp.axes_manager.signal_shape[::-1])}, "
        f"{dp.data.dtype}, {dp.data.nbytes / 1e9:.2f} GB, lazy={dp._lazy}",
        f"calibration: {step:.5g} Å⁻¹/pixel, full rings to {full:.3g} Å⁻¹"
        + (f" (from the standard {Path(cfg['calibration']['standard']).name}, ± "
           f"{_standard(cfg, dp.axes_manager.signal_shape[::-1]).s_per_pixel_std / step:.2%})"
           if "standard" in cfg["calibration"] else ""),
        f"mask: hot/dead from the scan sum (threshold {integ['hot_threshold']}), "
        f"beam stop {integ['beam_stop_radius']} Å⁻¹",
        *geometry_steps,
        "descan correction: " + {"descan": "yes", "none": "no"}.get(
            _center_method(cfg), f"no (geometry.center = {_center_method(cfg)!r})"),
        f"navigation binning {rebin} × {rebin} → {binned}",
        f"azimuthal integration: {npt} bins to {s_max:.3g} Å⁻¹, {integ['subpixel']}² sub-pixels",
        f"chain: {comp}, fit {chain.get('s_range', 'default')} Å⁻¹ ({weights} weights), "
        f"b = {chain.get('b', 'default')} Å², s_min = {chain.get('s_min', 'default')} Å⁻¹, "
        f"r 0–{chain['r_max']} Å step "
        f"{chain['r_step']} ({cube_bytes / 1e6:.3g} MB PDF cube)",
        f"mapping: PCA over {mapping['r_range']} Å, "
        f"{mapping['n_components'] or 'automatic'} components, {mapping['method']}",
    ]


def _plan_geometry(dp, cfg, full, corner):
    """Check the [geometry] keys against the detector (no data); its plan line, if any."""
    from .physics.calibration import detector_gaps

    geom = cfg["geometry"]
    if not geom:
        return []
    shape = tuple(dp.axes_manager.signal_shape[::-1])
    parts = []
    if "detector" in geom:
        try:
            gaps = detector_gaps(geom["detector"], shape)
        except ValueError as err:
            raise ConfigError(f"'geometry.detector' = {geom['detector']!r}: {err}") from None
        parts.append(f"{geom['detector']} gaps ({int(gaps.sum())} pixels)")
    if geom.get("beam_stop") == "auto":
        parts.append("beam stop found on the scan sum")
    value = geom.get("distortion")
    if _uses_ring_band(cfg):
        lo, hi = _geometry_s_range(geom, full)
        if not lo < hi:
            raise ConfigError(
                f"'geometry.s_range' default [{lo}, {hi}] Å⁻¹ is empty: the largest full ring "
                f"is {full:.3g} Å⁻¹; give geometry.s_range = [lo, hi] with lo < hi."
            )
        if hi > corner + 1e-9:
            raise ConfigError(
                f"'geometry.s_range' = {[lo, hi]} reaches beyond the detector corner "
                f"({corner:.3g} Å⁻¹)."
            )
    if value == "fit":
        parts.append(f"elliptical distortion fitted on the scan sum over s {lo:g}–{hi:g} Å⁻¹")
    elif value == "standard":
        e = _standard(cfg, shape).ellipse
        parts.append(f"elliptical distortion of the standard: axis ratio {e.axis_ratio:.5f} ± "
                     f"{e.axis_ratio_std:.1g}, major axis {e.angle:.2f}°")
    elif value is not None:
        parts.append(f"elliptical distortion given: axis ratio {value[0]:g}, "
                     f"major axis {value[1]:g}°")
    method = _center_method(cfg)
    if method == "rings":
        parts.append(f"pattern centres from the rings of every pattern over s {lo:g}–{hi:g} "
                     "Å⁻¹ → plane, constant from the scan sum (replaces descan)")
    elif method == "sum":
        parts.append(f"one pattern centre from the rings of the scan sum over s {lo:g}–{hi:g} "
                     "Å⁻¹ (replaces descan)")
    return ["geometry (one scan sum with the mask): " + "; ".join(parts)]


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


# ------------------------------------------------------------------ output folder safety
def _is_our_result(folder):
    prov = folder / "provenance.json"
    try:
        return json.loads(prov.read_text(encoding="utf-8")).get("software") == "pyxem-epdf"
    except (OSError, ValueError, AttributeError):
        return False


def check_output(out_dir, inputs=(), *, overwrite=False):
    """Check that writing a result to ``out_dir`` cannot lose data; return its real path.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        The output folder (symlinks are resolved).
    inputs : sequence of str or pathlib.Path
        Files or folders (e.g. a ``.zspy`` store) that are read: the output may
        not be one of them, lie inside one, or contain one.
    overwrite : bool
        Allow an existing non-empty folder, if it holds an earlier pyxem-epdf
        result (a ``provenance.json`` written by this package); it is replaced
        as a whole, and only once the new result is complete.

    Returns
    -------
    pathlib.Path
        The resolved output folder.

    Raises
    ------
    OutputError
        Naming the folder and what would be lost.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> scan = pathlib.Path(tempfile.mkdtemp()) / "scan.zspy"
    >>> scan.mkdir()
    >>> try:
    ...     check_output(scan / "results", [scan])
    ... except OutputError as err:
    ...     print(str(err).split(" (")[0])  # doctest: +ELLIPSIS
    output folder '.../scan.zspy/results' is inside the input '.../scan.zspy'
    >>> check_output(scan.parent / "results", [scan]).name
    'results'
    """
    final = Path(out_dir).expanduser().resolve()
    for item in inputs:
        if item is None:
            continue
        inp = Path(item).expanduser().resolve()
        if final == inp:
            raise OutputError(f"output folder '{final}' is the input itself; choose another folder.")
        if inp in final.parents:
            raise OutputError(
                f"output folder '{final}' is inside the input '{inp}' (it would write into "
                "the input's store); choose a folder outside it."
            )
        if final in inp.parents:
            raise OutputError(
                f"the input '{inp}' lies inside the output folder '{final}', which the "
                "result would replace; choose another output folder or move the input."
            )
    if final.exists() and not final.is_dir():
        raise OutputError(f"output '{final}' exists and is not a folder; choose another name.")
    if final.is_dir():
        entries = sorted(p.name for p in final.iterdir())
        if entries:
            listing = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
            what = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}: {listing}"
            if not overwrite:
                raise OutputError(
                    f"output folder '{final}' is not empty ({what}); choose a new folder, or "
                    "pass --overwrite (overwrite=True) to replace an earlier pyxem-epdf result "
                    "once the new one is complete."
                )
            if not _is_our_result(final):
                raise OutputError(
                    f"output folder '{final}' is not empty ({what}) and holds no pyxem-epdf "
                    "result (provenance.json); --overwrite only replaces an earlier result. "
                    "Choose a new folder."
                )
    return final


@contextlib.contextmanager
def _signals_blocked():
    """Defer SIGINT/SIGTERM (main thread, POSIX) so a rename pair is not cut in half."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    blocked = hasattr(signal, "pthread_sigmask")
    if blocked:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _partial_name(final):
    base = final.with_name(f"{final.name}.partial-{os.getpid()}")
    candidate, n = base, 1
    while candidate.exists():
        candidate, n = base.with_name(f"{base.name}-{n}"), n + 1
    return candidate


def _commit(partial, final):
    """Rename ``partial`` to ``final``; an earlier result there is removed only after."""
    old = None
    with _signals_blocked():
        if final.is_dir() and not any(final.iterdir()):
            final.rmdir()
        elif final.exists():
            old = final.with_name(f"{final.name}.old-{os.getpid()}")
            os.rename(final, old)
        try:
            os.rename(partial, final)
        except OSError:
            if old is not None:
                os.rename(old, final)
            raise
    if old is not None:
        shutil.rmtree(old)


@contextlib.contextmanager
def staged_output(out_dir, inputs=(), *, overwrite=False):
    """Write into a sibling ``OUT.partial-<pid>`` folder and rename it to ``OUT`` when done.

    The checks of :func:`check_output` run first. If the block raises (an
    error, Ctrl-C), nothing is renamed: ``OUT`` keeps what it held and the
    partial folder stays under its own name for inspection. On success the
    partial folder replaces ``OUT``; with ``overwrite`` an earlier result is
    moved aside (``OUT.old-<pid>``) and deleted only after the rename.

    Parameters
    ----------
    out_dir, inputs, overwrite
        As :func:`check_output`.

    Yields
    ------
    pathlib.Path
        The partial folder to write into.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> with staged_output(out) as folder:
    ...     _ = (folder / "a.txt").write_text("done")
    ...     print(folder.name.startswith("results.partial-"), out.exists())
    True False
    >>> sorted(p.name for p in out.iterdir())
    ['a.txt']
    """
    final = check_output(out_dir, inputs, overwrite=overwrite)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        partial = _partial_name(final)
        partial.mkdir()
    except OSError as err:
        raise OutputError(
            f"cannot create a folder next to '{final}': {err.strerror or err}."
        ) from None
    try:
        yield partial
        _commit(partial, final)
    except BaseException as err:
        # tell the caller where the result is (the CLI prints it): an interrupt
        # delivered just after the final rename finds the new result complete
        with contextlib.suppress(AttributeError, TypeError):
            if partial.exists():
                err.partial_folder = str(partial)
            else:
                err.result_committed = str(final)
        raise


class _Stages:
    """Wall-clock time of each named stage (one timer for everything reported)."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.seconds = {}

    @contextlib.contextmanager
    def __call__(self, name):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - t, 3)

    def total(self):
        return round(time.perf_counter() - self.t0, 3)


def _utc(dt):
    return dt.isoformat(timespec="seconds").replace("+00:00", "Z")


@contextlib.contextmanager
def _progress(show):
    """One kind of progress bar: dask's, on stderr; HyperSpy's own (tqdm) bars are off."""
    from hyperspy.defaults_parser import preferences

    previous = preferences.General.show_progressbar
    preferences.General.show_progressbar = False
    try:
        if show:
            from dask.diagnostics import ProgressBar

            with ProgressBar(out=sys.stderr):
                yield
        else:
            yield
    finally:
        preferences.General.show_progressbar = previous


def _write_json(path, obj):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=_json_default), encoding="utf-8")
    os.replace(tmp, path)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}"
    return str(value)


def process(dp, cfg, out_dir, *, source=None, composition=None, overwrite=False,
            show_progressbar=True, extra=None):
    """Run the configured chain on a scan and write all outputs and the report.

    Everything is written into ``OUT.partial-<pid>`` next to ``out_dir`` and
    renamed to ``out_dir`` once complete (:func:`staged_output`); the input is
    never written over or into.

    Parameters
    ----------
    dp : pyxem Diffraction2D (eager or lazy)
    cfg : dict
        From :func:`load_config`.
    out_dir : str or pathlib.Path
        Output folder: new or empty, or (with ``overwrite``) an earlier result.
    source : str or pathlib.Path, optional
        Input file (hashed into the provenance; the output may not touch it).
    composition : dict, optional
        Per-pixel composition ``{element: map}`` with maps of the (binned)
        navigation shape, overriding ``chain.composition`` (Python API only).
    overwrite : bool
        Replace an earlier pyxem-epdf result in ``out_dir`` (at the final rename).
    show_progressbar : bool
        Dask progress bars on stderr (HyperSpy's own bars are turned off).
    extra : callable, optional
        ``extra(folder, result) -> dict`` writes further files into the
        partial folder before it is renamed (``result`` holds ``pdf``,
        ``profile``, ``decomposition``, ``unmixing``); returns name → path
        relative to the folder.

    Returns
    -------
    dict
        ``files`` (name → final path), ``seconds`` (total, as in the
        provenance), ``stage_seconds``, ``frames`` and ``out`` (final folder).

    Raises
    ------
    ConfigError
        As :func:`plan`, before anything is written.
    OutputError
        As :func:`check_output`, before anything is written.

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
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> result = process(synth.signal, cfg, out, show_progressbar=False)
    >>> result["frames"], sorted(pathlib.Path(f).name for f in result["files"].values())
    (64, ['N_map.png', 'component_0.gr', 'component_1.gr', 'component_pdfs.png',
          'components.csv', 'components.zspy', 'intensity_fit.png', 'loading_maps.png',
          'loadings.csv', 'loadings.zspy', 'pdf_cube.zspy', 'provenance.json', 'report.html',
          'scree.png'])
    >>> prov = json.loads((out / "provenance.json").read_text())
    >>> prov["complete"], prov["n_components"], prov["parameters"]["chain"]["r_step"]
    (True, 2, 0.05)
    >>> list(prov["stage_seconds"])
    ['check', 'mask', 'descan', 'chain', 'mapping', 'write']
    """
    stages = _Stages()
    with stages("check"):
        check_scan(dp)
        steps = plan(dp, cfg, composition=composition)
    # the file the signal was loaded from (a lazy signal still reads it) is protected too
    inputs = [source, _loaded_from(dp), cfg["calibration"].get("standard")]
    with staged_output(out_dir, inputs, overwrite=overwrite) as folder:
        final = Path(out_dir).expanduser().resolve()
        provenance = {
            "software": "pyxem-epdf",
            "complete": False,
            "status": "running",
            "started": _utc(stages.started),
            "output": str(final),
            "partial_folder": str(folder),
            "input": None,
            "parameters": cfg,
            "plan": steps,
        }
        if composition is not None:
            provenance["composition_override"] = (
                f"per-pixel maps of {', '.join(composition)} (Python API)")
        _write_json(folder / "provenance.json", provenance)
        try:
            files = _run(dp, cfg, folder, provenance, stages, source=source,
                         composition=composition, show_progressbar=show_progressbar,
                         extra=extra)
        except BaseException as err:
            provenance["status"] = ("interrupted" if isinstance(err, KeyboardInterrupt)
                                    else f"failed: {type(err).__name__}: {err}")
            provenance["stage_seconds"] = stages.seconds
            with contextlib.suppress(OSError):
                _write_json(folder / "provenance.json", provenance)
            raise
    return {"files": {k: str(final / v) for k, v in files.items()},
            "seconds": provenance["seconds"], "stage_seconds": provenance["stage_seconds"],
            "frames": provenance["frames"], "out": str(final)}


def _loaded_from(signal):
    """Path of the file HyperSpy loaded ``signal`` from, if any (``tmp_parameters``)."""
    tp = signal.tmp_parameters
    try:
        folder, name, ext = tp.folder, tp.filename, tp.extension
    except AttributeError:
        return None
    if not all(isinstance(v, str) for v in (folder, name, ext)):
        return None
    return Path(folder) / f"{name}{ext if ext.startswith('.') else '.' + ext}"


def _run(dp, cfg, folder, provenance, stages, *, source, composition, show_progressbar,
         extra):
    from types import SimpleNamespace

    from threadpoolctl import threadpool_limits

    from . import compute_all, quantify, report
    from .signals import descan, detector_mask, dose_map, scan_sum
    from .xray import write_gr

    integ, mapping = cfg["integration"], cfg["mapping"]
    with _progress(show_progressbar):
        with stages("check"):
            if source is not None:
                provenance["input"] = {"path": str(Path(source).resolve()),
                                       "sha256": sha256(source)}
            dp = _calibrated(dp, cfg)
            if "standard" in cfg["calibration"]:
                provenance["standard"] = _standard_record(
                    cfg, _standard(cfg, dp.axes_manager.signal_shape[::-1]))
        geometry = distortion = None
        with stages("mask"):
            summed = None
            source_of_mask = dp
            if cfg["geometry"]:
                # one pass over the data for the mask and the geometry: detector_mask
                # sums over the navigation, so it gets the summed pattern as its scan
                summed = scan_sum(dp, show_progressbar=False)
                source_of_mask = _summed_signal(dp, summed)
            mask, mask_report = detector_mask(
                source_of_mask, hot_threshold=integ["hot_threshold"],
                beam_stop_radius=integ["beam_stop_radius"] or None, show_progressbar=False,
            )
        centres = None
        if cfg["geometry"]:
            with stages("geometry"):
                mask, distortion, geometry, centres = _geometry(dp, cfg, summed, mask)
            for key in ("detector", "beam_stop"):
                if key in geometry:
                    mask_report[f"geometry_{key}"] = geometry[key]["new_pixels"]
            mask_report["total"] = int(mask.sum())
        shift = None
        if centres is not None:
            # pyxem's beam-shift convention (the shift that centres the pattern on
            # pixel (n/2, n/2)); azimuthal_profile averages it over the rebin blocks
            ny, nx = dp.axes_manager.signal_shape[::-1]
            shift = np.stack([nx / 2 - centres[..., 0], ny / 2 - centres[..., 1]], axis=-1)
        elif _center_method(cfg) == "descan":
            with stages("descan"):
                # measured at full resolution; azimuthal_profile averages the plane
                # over the navigation.rebin blocks
                result = descan(dp, show_progressbar=False)
                shift = result.plane
                if geometry is not None:
                    centres = _centres_of_shift(dp, result.plane.data)
        with stages("chain"):
            _, ri, pdf = _build(dp, cfg, mask=mask, shift=shift, composition=composition,
                                distortion=distortion)
            if geometry is not None:
                _record_geometry(pdf, geometry, centres)
            _record_resolved_chain(cfg["chain"], pdf)
            try:
                electrons, dose = dose_map(dp, mask=mask)
            except ValueError:  # no probe diameter in the metadata
                dose = None
            # G(r), its maps, the profiles (for the I(s) figure) and the dose in one pass
            compute_all(*([pdf, ri] if dose is None else [pdf, ri, dose]),
                        show_progressbar=False)
        with stages("mapping"), threadpool_limits(limits=1, user_api="blas"):
            # small SVDs and least squares (positions × r points): one BLAS thread is
            # faster; measured on 2 shared cores, 400 positions × 701 r: 2.4 s vs 33 s
            # with OpenBLAS's default 2 threads (best of 3, same process)
            dec = pdf.decompose(tuple(mapping["r_range"]),
                                n_components=mapping["n_components"] or None)
            unmix = dec.unmix(method=mapping["method"])
        with stages("write"):
            files = {}
            for name, sig in (("pdf_cube", pdf), ("loadings", unmix.loadings),
                              ("components", unmix.components)):
                sig.save(folder / f"{name}.zspy")
                files[name] = f"{name}.zspy"
            _csv_maps(unmix.loadings, folder / "loadings.csv")
            files["loadings_csv"] = "loadings.csv"
            _csv_components(unmix.components, folder / "components.csv")
            files["components_csv"] = "components.csv"
            for i in range(unmix.components.data.shape[0]):  # for PDFgui / diffpy
                name = f"component_{i}.gr"
                write_gr(unmix.components.inav[i], folder / name,
                         comment=f"{unmix.method} component {i} of {files['pdf_cube']}")
                files[f"component_{i}_gr"] = name
            comp = cfg["chain"]["composition"] if composition is None else composition
            # s-bin correlation of the pixel splitting for the component peak σ
            # (about the mean centre, without the distortion matrix: a first-order
            # approximation the report's band note states)
            correlation = quantify.integration_correlation(dp, ri, mask=mask)
            figures, content = report.build(
                pdf, ri, dec, unmix, comp, cfg["chain"], correlation=correlation,
                geometry=None if geometry is None else _geometry_figure_args(
                    dp, cfg, summed, mask, geometry, centres))
            for name, png in figures.items():
                (folder / f"{name}.png").write_bytes(png)
                files[name] = f"{name}.png"
            if extra is not None:
                result = SimpleNamespace(pdf=pdf, profile=ri, decomposition=dec, unmixing=unmix)
                files.update(extra(folder, result) or {})
            # every file written so far (each one inside the .zspy stores); report.html
            # is added once written, provenance.json cannot list itself
            manifest = _manifest(folder)
    provenance.update({
        "versions": versions(),
        "mask": mask_report,
        "dose": None if dose is None else _dose_summary(dose),
        "n_components": int(unmix.components.data.shape[0]),
        "parallel_analysis": int(dec.evidence.n_components),
        "frames": int(np.prod(dp.axes_manager.navigation_shape)),
    })
    if geometry is not None:
        provenance["geometry"] = geometry
    # the report's times end here, the provenance's a moment later: both from one timer
    provenance["stage_seconds"] = dict(stages.seconds)
    provenance["seconds"] = stages.total()
    provenance["finished"] = _utc(datetime.datetime.now(datetime.timezone.utc))
    provenance["complete"], provenance["status"] = True, "complete"
    del provenance["partial_folder"]
    (folder / "report.html").write_text(report.report_html(provenance, figures, content),
                                        encoding="utf-8")
    files["report"] = "report.html"
    manifest.update(_manifest(folder, ["report.html"]))
    provenance["manifest"] = {"algorithm": "sha256", "files": manifest}
    _write_json(folder / "provenance.json", provenance)  # last: marks the folder complete
    files["provenance"] = "provenance.json"
    return files


def _summed_signal(dp, summed):
    """The scan sum as a one-pattern signal with the scan's detector axes."""
    from hyperspy.signals import Signal2D

    out = Signal2D(np.asarray(summed, dtype=float))
    for new, old in zip(out.axes_manager.signal_axes, dp.axes_manager.signal_axes, strict=True):
        new.name, new.units = old.name, old.units
        new.scale, new.offset = old.scale, old.offset
    return out


def _file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(folder, names=None):
    """``{relative POSIX path: {"bytes", "sha256"}}`` of the files under ``folder``.

    ``names`` (entries of ``folder``: files or folders) limits it; by default
    every entry but ``provenance.json``. Folders (.zspy stores) are listed file
    by file.
    """
    folder = Path(folder)
    if names is None:
        names = [p.name for p in folder.iterdir() if p.name != "provenance.json"]
    out = {}
    for name in sorted(names):
        top = folder / name
        for p in sorted(top.rglob("*")) if top.is_dir() else [top]:
            if p.is_file():
                out[p.relative_to(folder).as_posix()] = {"bytes": p.stat().st_size,
                                                         "sha256": _file_sha256(p)}
    return dict(sorted(out.items()))


class DamagedOutputError(ValueError):
    """A result folder does not match the manifest in its ``provenance.json``.

    Raised by :func:`verify_output`; ``problems`` holds one line per missing
    or changed file (paths relative to the folder), or the one reason the
    folder cannot be checked.

    Examples
    --------
    >>> err = DamagedOutputError("/data/out", ["pdf_cube.zspy/.zgroup is missing"])
    >>> print(err)
    result folder '/data/out' is damaged (1 problem):
      pdf_cube.zspy/.zgroup is missing
    >>> err.problems, isinstance(err, ValueError)
    (['pdf_cube.zspy/.zgroup is missing'], True)
    """

    def __init__(self, folder, problems, *, header=None):
        self.folder = str(folder)
        self.problems = list(problems)
        n = len(self.problems)
        header = header or (f"result folder '{self.folder}' is damaged "
                            f"({n} problem{'s' if n != 1 else ''})")
        super().__init__(header + ":\n" + "\n".join(f"  {p}" for p in self.problems))


def _load_manifest(folder):
    """The provenance's manifest of ``folder``, or raise naming why there is none."""
    folder = Path(folder)
    prov_path = folder / "provenance.json"
    if not folder.is_dir():
        why = f"'{folder}' does not exist" if not folder.exists() else f"'{folder}' is not a folder"
        raise DamagedOutputError(folder, [f"{why}; expected a pyxem-epdf result folder"],
                                 header=f"cannot verify '{folder}'")
    try:
        prov = json.loads(prov_path.read_text(encoding="utf-8"))
    except OSError:
        raise DamagedOutputError(
            folder, ["provenance.json is missing: not a pyxem-epdf result folder, or its "
                     "provenance was deleted"], header=f"cannot verify '{folder}'") from None
    except ValueError as err:
        raise DamagedOutputError(folder, [f"provenance.json is not valid JSON ({err})"],
                                 header=f"cannot verify '{folder}'") from None
    if not isinstance(prov, dict) or prov.get("software") != "pyxem-epdf":
        raise DamagedOutputError(folder, ["provenance.json was not written by pyxem-epdf"],
                                 header=f"cannot verify '{folder}'")
    if prov.get("complete") is not True:
        raise DamagedOutputError(
            folder, [f"the run did not complete (status: {prov.get('status', 'unknown')}); "
                     "the folder holds a partial result"], header=f"cannot verify '{folder}'")
    manifest = prov.get("manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise DamagedOutputError(
            folder, ["provenance.json has no manifest (the result was written by a "
                     "pyxem-epdf without verify_output); it cannot be checked"],
            header=f"cannot verify '{folder}'")
    return manifest["files"]


def _zarr_array_of(rel, manifest):
    """The array folder of ``rel`` if it is a zarr chunk file (an ancestor holds .zarray)."""
    parts = rel.split("/")
    if parts[-1].startswith("."):
        return None
    for i in range(len(parts) - 1, 0, -1):
        array = "/".join(parts[:i])
        if f"{array}/.zarray" in manifest:
            return array
    return None


def _fill_value(folder, array):
    try:
        meta = json.loads((Path(folder) / array / ".zarray").read_text(encoding="utf-8"))
        return meta.get("fill_value")
    except (OSError, ValueError, AttributeError):
        return None


def verify_output(folder, *, paths=None):
    """Check a result folder against the manifest in its ``provenance.json``.

    Every file :func:`process` wrote is listed in the provenance with its size
    and SHA-256 (each file inside the .zspy stores); each is checked to exist
    with the same size and digest. A deleted chunk of a .zspy store does not
    fail on loading: zarr fills it with the array's fill value (zeros), so
    ``hs.load`` returns zeros there without an error. Files added to the
    folder later are not checked.

    Parameters
    ----------
    folder : str or pathlib.Path
        A result folder of :func:`process` (``pyxem-epdf process`` / ``demo``).
    paths : sequence of str, optional
        Entries of the folder to check (e.g. ``["pdf_cube.zspy"]``); default
        all of them.

    Returns
    -------
    str
        A one-line report: the number of files and bytes checked.

    Raises
    ------
    DamagedOutputError
        A :class:`ValueError` naming each missing or changed file (its
        ``problems``), or why the folder cannot be checked (no
        ``provenance.json``, an incomplete run, no manifest).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from pyxem_epdf import data
    >>> synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(32, 32),
    ...                                  s_scale=0.16)
    >>> cfg = load_config({"chain": {"composition": data.average_composition(synth),
    ...                              "fix_c": True, "r_max": 8.0, "r_step": 0.05},
    ...                    "integration": {"npt": 24}, "mapping": {"n_components": 2}})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> _ = process(synth.signal, cfg, out, show_progressbar=False)
    >>> print(verify_output(out))  # doctest: +ELLIPSIS
    '.../results' is intact: ... files (... MB) match the manifest in provenance.json (SHA-256).
    >>> chunk = next((out / "pdf_cube.zspy").glob("Experiments/*/data/0/0/0"))
    >>> chunk.unlink()
    >>> try:
    ...     verify_output(out)
    ... except ValueError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    result folder '.../results' is damaged (1 problem):
      pdf_cube.zspy/Experiments/G(r) of .../data/0/0/0 is missing: the chunk would load as zeros (fill value 0.0) without an error
    """
    folder = Path(folder).expanduser()
    manifest = _load_manifest(folder)
    selected = manifest
    if paths is not None:
        heads = {Path(p).as_posix().strip("/") for p in paths}
        selected = {rel: entry for rel, entry in manifest.items()
                    if rel in heads or any(rel.startswith(h + "/") for h in heads)}
        unknown = sorted(h for h in heads
                         if h not in manifest and not any(r.startswith(h + "/") for r in manifest))
        if unknown:
            raise DamagedOutputError(
                folder, [f"{h} is not in the manifest (it was not written by this run)"
                         for h in unknown])
    problems, total = [], 0
    for rel, entry in selected.items():
        p = folder / rel
        array = _zarr_array_of(rel, manifest)
        if not p.is_file():
            if array is not None:
                fill = _fill_value(folder, array)
                zeros = "zeros" if fill in (0, 0.0, None) else "its fill value"
                problems.append(f"{rel} is missing: the chunk would load as {zeros} "
                                f"(fill value {fill}) without an error")
            elif rel.endswith("/.zarray"):
                problems.append(f"{rel} is missing: the array's metadata (the array cannot "
                                "be read)")
            else:
                problems.append(f"{rel} is missing")
            continue
        size = p.stat().st_size
        total += size
        what = "the chunk's data" if array is not None else "its content"
        if size != entry.get("bytes"):
            problems.append(f"{rel} has changed: {size} bytes, the manifest records "
                            f"{entry.get('bytes')}")
        elif _file_sha256(p) != entry.get("sha256"):
            problems.append(f"{rel} has changed: {what} differ from what was written "
                            f"(SHA-256 mismatch, same size {size} bytes)")
    if problems:
        raise DamagedOutputError(folder, problems)
    scope = "" if paths is None else f" of {', '.join(sorted(heads))}"
    return (f"'{folder}' is intact: {len(selected)} files{scope} ({total / 1e6:.3g} MB) match "
            "the manifest in provenance.json (SHA-256).")


def _dose_summary(dose):
    d = np.asarray(dose.data, dtype=float)
    params = dose.metadata.get_item("ePDF.dose").as_dictionary()
    return {"mean_e_per_A2": float(np.mean(d)), "std_e_per_A2": float(np.std(d)),
            "min_e_per_A2": float(np.min(d)), "max_e_per_A2": float(np.max(d)),
            "probe_diameter_nm": params.get("probe_diameter_nm")}
