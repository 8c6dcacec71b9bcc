"""Command-line entry point ``pyxem-epdf`` (also ``python -m pyxem_epdf``).

``pyxem-epdf demo OUT`` generates the embedded synthetic two-phase composite
scan and runs the batch route on it (:func:`run_demo`): the PDF cube, maps,
component PDFs, the HTML report and a figure against the ground truth, all
from one analysis.

``pyxem-epdf process SCAN --config config.toml --out DIR [--dry-run]`` runs
the configured chain on a scan file (see :mod:`pyxem_epdf.batch`, whose
docstring documents the configuration keys) and writes the results,
provenance and an HTML report.

``pyxem-epdf verify OUT`` checks a result folder against the manifest in its
``provenance.json`` (:func:`pyxem_epdf.batch.verify_output`): every file the
run wrote, with its size and SHA-256. A .zspy store whose chunk files were
deleted loads as zeros without an error; ``verify`` names each missing or
changed file. ``process`` verifies its input first when it is a .zspy store
of one of our results (a ``provenance.json`` with a manifest beside it).

Both commands write into ``OUT.partial-<pid>`` and rename it to ``OUT`` once
complete; ``OUT`` must be new or empty, or hold an earlier result and be
given with ``--overwrite``. Exit status: 0 done (``verify``: intact), 2 bad
input, configuration or output folder, or a damaged result (one line on
stderr per problem), 130 interrupted (Ctrl-C).
"""

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

_logger = logging.getLogger(__name__)

#: Processing parameters of the demo (the paper's values where they apply).
DEMO_PARAMETERS = {
    "npt": 70,
    "s_range": (1.6, 2.5),
    "weights": "poisson",
    "s_max": 2.5,  # last s with full rings on the 128 × 128 detector
    "b": 0.8,
    "s_min": 0.18,
    "r_max": 20.0,
    "r_step": 0.01,
}


def demo_config(synth):
    """The demo's batch configuration (from :data:`DEMO_PARAMETERS`).

    Parameters
    ----------
    synth : pyxem_epdf.data.SyntheticComposite
        The synthetic scan (its average composition goes into ``chain``;
        :func:`run_demo` overrides it with the per-pixel composition maps).

    Returns
    -------
    dict
        A configuration for :func:`pyxem_epdf.batch.load_config`.

    Examples
    --------
    >>> from pyxem_epdf import batch, data
    >>> synth = data.two_phase_composite(nav_shape=(3, 3), detector_shape=(32, 32))
    >>> cfg = batch.load_config(demo_config(synth))
    >>> cfg["integration"]["npt"], cfg["chain"]["weights"], cfg["mapping"]["n_components"]
    (70, 'poisson', 2)
    """
    from . import data

    p = DEMO_PARAMETERS
    return {
        "integration": {"npt": p["npt"], "s_max": p["s_max"] + 0.04},
        "chain": {"composition": data.average_composition(synth),
                  "s_range": list(p["s_range"]), "weights": p["weights"], "s_max": p["s_max"],
                  "b": p["b"], "s_min": p["s_min"], "r_max": p["r_max"], "r_step": p["r_step"]},
        "mapping": {"r_range": [1.0, 8.0], "n_components": 2},
    }


def run_demo(out_dir, *, nav_shape=(20, 20), lazy=True, show_progressbar=True, seed=0,
             overwrite=False):
    """Run the batch route on the embedded synthetic scan and write its outputs.

    One analysis (:func:`demo_config`, with the generator's per-pixel
    composition maps, as EDS maps would give in practice) through
    :func:`pyxem_epdf.batch.process`: ``OUT`` gets the batch outputs
    (``pdf_cube.zspy``, maps, component PDFs, ``provenance.json``,
    ``report.html``) and ``truth.png`` (fitted N over the true N, the true
    phase map, region-mean G(r) against the truth band-limited to the same
    s window).

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Output folder: new or empty, or an earlier result with ``overwrite``.
    nav_shape : tuple of int
        Scan size (rows, columns) of the synthetic composite; at least 3
        probe positions.
    lazy : bool
        Run lazily (dask) and compute once.
    show_progressbar : bool
        Show dask progress bars (on stderr).
    seed : int
        Seed of the synthetic dataset.
    overwrite : bool
        Replace an earlier result in ``out_dir`` once the new one is complete.

    Returns
    -------
    dict
        As :func:`pyxem_epdf.batch.process`, plus ``nav_shape`` and ``patterns``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import hyperspy.api as hs
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "demo"
    >>> summary = run_demo(out, nav_shape=(2, 2), lazy=False, show_progressbar=False)
    >>> summary["patterns"], sorted(summary["files"])[:4]
    (4, ['N_map', 'component_0_gr', 'component_1_gr', 'component_pdfs'])
    >>> pdf = hs.load(out / "pdf_cube.zspy")
    >>> type(pdf).__name__, pdf.data.shape
    ('PDF1DPlus', (2, 2, 2001))
    """
    import numpy as np

    from . import batch, data

    synth = data.two_phase_composite(nav_shape=nav_shape, lazy=lazy, seed=seed)
    cfg = batch.load_config(demo_config(synth))
    # Per-pixel composition (here the generator's truth; in practice EDS maps).
    composition = {el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)}
    p = DEMO_PARAMETERS

    def truth_figure(folder, result):
        from .signals import _base

        s = _base.s_axis_values(result.profile)  # Å⁻¹, the units of metadata.ePDF.s_max
        pdf = result.pdf
        _summary_figure(synth, pdf, pdf.metadata.ePDF.fit.N, s[s <= pdf.metadata.ePDF.s_max],
                        folder / "truth.png", p)
        return {"truth": "truth.png"}

    summary = batch.process(synth.signal, cfg, out_dir, composition=composition,
                            overwrite=overwrite, show_progressbar=show_progressbar,
                            extra=truth_figure)
    summary["nav_shape"] = list(nav_shape)
    summary["patterns"] = int(np.prod(nav_shape))
    return summary


def _summary_figure(synth, pdf, n_map, s, path, p):
    """Fitted N / true N, phase map, region-mean G(r) against the truth."""
    import numpy as np
    from matplotlib.figure import Figure

    from .physics import corrections, transform
    from .report import _nav_extent

    fig = Figure(figsize=(13, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    extent, xlabel, ylabel = _nav_extent(pdf)
    im = axes[0].imshow(np.asarray(n_map.data) / synth.N_true, cmap="viridis", extent=extent)
    axes[0].set_title("fitted N / true N")
    fig.colorbar(im, ax=axes[0], fraction=0.046, label="N / N_true (dimensionless)")
    frac = np.asarray(synth.fractions[..., 0])
    im = axes[1].imshow(frac, cmap="coolwarm", vmin=0, vmax=1, extent=extent)
    axes[1].set_title(f"true fraction of {synth.phases[0].name}")
    fig.colorbar(im, ax=axes[1], fraction=0.046, label="fraction (dimensionless)")
    for ax in axes[:2]:
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
    r = pdf.axes_manager.signal_axes[0].axis
    g = np.asarray(pdf.data)
    for phase, mask, color in (
        (synth.phases[0], frac > 0.9, "C0"),
        (synth.phases[1], frac < 0.1, "C1"),
    ):
        if not mask.any():
            continue
        axes[2].plot(r, g[mask].mean(axis=0), color=color, label=f"{phase.name} region")
        # The truth as the chain can see it: same s window, damping, low-s cut.
        phi = phase.reduced_intensity(s) * corrections.exponential_damping(s, p["b"])
        phi = corrections.extrapolate_low_s(phi, s, p["s_min"])
        axes[2].plot(r, transform.sine_transform(phi, s, r), color=color, ls="--",
                     lw=0.9, label=f"{phase.name} truth (same s window)")
    axes[2].set_xlim(0, 8)
    axes[2].set_xlabel("r (Å)")
    axes[2].set_ylabel("G(r) (Å⁻²)")
    axes[2].axhline(0, color="0.6", lw=0.8)
    axes[2].legend(fontsize=7)
    axes[2].set_title("region-mean G(r)")
    fig.savefig(path, dpi=120)


def _parser():
    from . import __version__
    from .batch import describe_schema

    parser = argparse.ArgumentParser(
        prog="pyxem-epdf", description="STEM electron PDF analysis (pyxem-epdf).",
        epilog="Exit status: 0 done, 2 bad input, configuration or output folder, "
               "130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"pyxem-epdf {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--overwrite", action="store_true",
                        help="replace an earlier pyxem-epdf result in the output folder, "
                             "once the new one is complete")
    common.add_argument("--no-progress", action="store_true", help="hide progress bars")
    demo = sub.add_parser(
        "demo", parents=[common],
        help="run the batch route on the embedded synthetic composite",
        description="Run the batch route on the embedded synthetic two-phase composite and "
                    "write its results, report and a figure against the ground truth.",
    )
    demo.add_argument("out", help="output folder (new or empty)")
    demo.add_argument("--scan-shape", type=int, nargs=2, default=(20, 20),
                      metavar=("ROWS", "COLS"),
                      help="scan size of the synthetic dataset (default 20 20)")
    demo.add_argument("--nav", type=int, nargs=2, dest="scan_shape", help=argparse.SUPPRESS)
    demo.add_argument("--eager", action="store_true", help="run eagerly instead of lazily")
    demo.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    proc = sub.add_parser(
        "process", parents=[common], help="run the configured chain on a scan file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the configured chain on a scan file and write the results, "
                    "provenance.json and report.html.",
        epilog="Configuration keys (TOML; documented in the pyxem_epdf.batch module "
               "docstring, `python -m pydoc pyxem_epdf.batch`, and the docs' batch page):\n  "
               + describe_schema().replace("\n", "\n  "),
    )
    proc.add_argument("scan", help="scan file (.hspy, .zspy, .mib, … as hs.load reads)")
    proc.add_argument("--config", required=True, help="TOML configuration")
    proc.add_argument("--out", required=True, help="output folder (new or empty)")
    proc.add_argument("--dry-run", action="store_true",
                      help="check the configuration against the data (lazily, computing "
                           "nothing) and the output folder, and print the plan")
    proc.add_argument("--scan-shape", type=int, nargs=2, metavar=("ROWS", "COLS"),
                      help="scan shape for files without it (e.g. .mib)")
    proc.add_argument("--navigation-shape", type=int, nargs=2, dest="navigation_shape_xy",
                      help=argparse.SUPPRESS)  # old spelling, X Y order
    ver = sub.add_parser(
        "verify", help="check a result folder against the manifest in its provenance.json",
        description="Check that every file a pyxem-epdf run wrote (listed with its size and "
                    "SHA-256 in provenance.json) is present and unchanged; a .zspy store "
                    "with deleted chunk files would otherwise load as zeros.",
        epilog="Exit status: 0 intact, 2 damaged or not verifiable (one line per problem).",
    )
    ver.add_argument("out", help="result folder of `pyxem-epdf process` or `demo`")
    return parser


def main(argv=None):
    """Entry point of the ``pyxem-epdf`` console script.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name (default
        ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 2 for a bad input file, configuration or
        output folder, 130 when interrupted.

    Examples
    --------
    A dry run validates a configuration against a saved scan and prints the
    plan without computing anything:

    >>> import pathlib, tempfile
    >>> from pyxem_epdf import data
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(64, 64),
    ...                                  s_scale=0.08)
    >>> synth.signal.save(folder / "scan.zspy")
    >>> config = folder / "config.toml"
    >>> _ = config.write_text('[chain]\\ncomposition = "SiO2"\\n[navigation]\\nrebin = 2\\n')
    >>> main(["process", str(folder / "scan.zspy"), "--config", str(config),
    ...       "--out", str(folder / "out"), "--dry-run"])
    dry run: nothing computed; the plan is
      1. scan (4, 4) × detector (64, 64), uint16, 0.00 GB, lazy=True
      2. calibration: 0.08 Å⁻¹/pixel, full rings to 2.52 Å⁻¹
    ...
      5. navigation binning 2 × 2 → (2, 2)
    ...
    0
    >>> (folder / "out").exists()
    False
    """
    parser = _parser()
    args = parser.parse_args(argv)
    # pyxem 0.21 triggers a HyperSpy deprecation notice about its own internals
    # on import; it is not actionable for a user of this command.
    warnings.filterwarnings("ignore", message=".*has moved to `hyperspy.misc.dask_utils`")
    # rosettasciio's .zspy writer uses a zarr store that zarr 2.18 announces as deprecated
    warnings.filterwarnings("ignore", message="The NestedDirectoryStore is deprecated")
    from . import batch

    if args.command == "verify":
        return _verify(args.out)
    try:
        if args.command == "process":
            summary = _process(args)
            if summary is None:
                return 0
        else:
            if min(args.scan_shape) < 1:
                parser.error("--scan-shape ROWS COLS must be positive integers")
            summary = run_demo(args.out, nav_shape=tuple(args.scan_shape),
                               lazy=not args.eager, show_progressbar=not args.no_progress,
                               seed=args.seed, overwrite=args.overwrite)
    except batch.DamagedOutputError as err:
        _report_damage(err, f"input '{args.scan}' is damaged or unverifiable: ")
        return 2
    except (batch.ConfigError, batch.OutputError, _InputError) as err:
        sys.stderr.write(f"pyxem-epdf: error: {err}\n")
        return 2
    except KeyboardInterrupt as err:
        partial = getattr(err, "partial_folder", None)
        done = getattr(err, "result_committed", None)
        if done is not None:
            sys.stderr.write(f"pyxem-epdf: interrupted after the result was complete: {done} "
                             "holds the new result.\n")
        else:
            where = ("nothing was written" if partial is None else f"the partial result is in "
                     f"{partial} (provenance.json: \"complete\": false)")
            sys.stderr.write(f"pyxem-epdf: interrupted; {args.out} is unchanged, {where}.\n")
        return 130
    for name, path in summary["files"].items():
        sys.stdout.write(f"wrote {name}: {path}\n")
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in summary["stage_seconds"].items())
    sys.stdout.write(
        f"{summary['frames']} patterns processed in {summary['seconds']:.1f} s ({stages})\n"
    )
    return 0


def _report_damage(err, prefix=None):
    """One line on stderr per problem of a :class:`~pyxem_epdf.batch.DamagedOutputError`."""
    prefix = f"{err.folder}: " if prefix is None else prefix
    for problem in err.problems:
        sys.stderr.write(f"pyxem-epdf: error: {prefix}{problem}\n")


def _verify(out):
    from . import batch

    try:
        report = batch.verify_output(out)
    except batch.DamagedOutputError as err:
        _report_damage(err)
        return 2
    sys.stdout.write(report + "\n")
    return 0


def _verify_if_ours(path):
    """Verify ``path`` against its folder's manifest if it is a store one of our runs wrote."""
    from . import batch

    p = Path(path).expanduser()
    if not p.is_dir():
        return
    folder = p.resolve().parent
    try:
        prov = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(prov, dict) or prov.get("software") != "pyxem-epdf":
        return
    if "manifest" not in prov and prov.get("complete") is True:
        sys.stderr.write(f"pyxem-epdf: note: '{folder}' holds no manifest (written by an "
                         f"earlier version); '{p.name}' is not verified.\n")
        return
    batch.verify_output(folder, paths=[p.resolve().name])


class _InputError(ValueError):
    """The input file is missing or unreadable."""


def _load(path, navigation_shape=None):
    import hyperspy.api as hs

    p = Path(path)
    if not p.exists():
        raise _InputError(f"input '{path}' does not exist.")
    kwargs = {"lazy": True}
    if navigation_shape is not None:
        kwargs["navigation_shape"] = navigation_shape
    try:
        return hs.load(p, **kwargs)
    except Exception as err:  # any reader failure: one line naming the file
        text = str(err).strip().splitlines()
        raise _InputError(
            f"cannot read '{path}': {type(err).__name__}: {text[-1] if text else ''}"
        ) from None


def _process(args):
    from . import batch

    cfg = batch.load_config(args.config)
    shape = None
    if args.scan_shape:
        shape = tuple(args.scan_shape[::-1])  # HyperSpy's navigation_shape is (x, y)
    elif args.navigation_shape_xy:
        shape = tuple(args.navigation_shape_xy)
    batch.check_output(args.out, [args.scan], overwrite=args.overwrite)
    _verify_if_ours(args.scan)  # a deleted chunk would otherwise be read as zeros
    dp = _load(args.scan, shape)
    steps = batch.plan(dp, cfg)
    if args.dry_run:
        sys.stdout.write("dry run: nothing computed; the plan is\n")
        for i, step in enumerate(steps, 1):
            sys.stdout.write(f"  {i}. {step}\n")
        return None
    return batch.process(dp, cfg, args.out, source=args.scan, overwrite=args.overwrite,
                         show_progressbar=not args.no_progress)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
