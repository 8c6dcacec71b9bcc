"""Command-line entry point ``pyxem-epdf`` (also ``python -m pyxem_epdf``).

``pyxem-epdf demo OUT`` generates the embedded synthetic two-phase composite
scan, runs the ePDF chain on every probe position and writes the PDF cube,
the N map and a summary figure to ``OUT``.

``pyxem-epdf process SCAN --config config.toml --out DIR [--dry-run]`` runs
the configured chain on a scan file (see :mod:`pyxem_epdf.batch`) and writes
the results, provenance and an HTML report.
"""

import argparse
import json
import logging
import sys
import time
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


def run_demo(out_dir, *, nav_shape=(20, 20), lazy=True, show_progressbar=True, seed=0):
    """Run the demo chain and write its outputs.

    Parameters
    ----------
    out_dir : str or pathlib.Path
        Folder to write into (created if missing).
    nav_shape : tuple of int
        Scan size (rows, columns) of the synthetic composite.
    lazy : bool
        Run lazily (dask) and compute once at the end.
    show_progressbar : bool
        Show progress bars for the long steps.
    seed : int
        Seed of the synthetic dataset.

    Returns
    -------
    dict
        Paths of the written files and summary numbers.

    Examples
    --------
    A 2 × 2 scan (too small for the decomposition and the HTML report, which
    need at least 9 probe positions):

    >>> import tempfile
    >>> import hyperspy.api as hs
    >>> summary = run_demo(tempfile.mkdtemp(), nav_shape=(2, 2), lazy=False,
    ...                    show_progressbar=False)
    >>> sorted(summary["files"]), summary["patterns"]
    (['N_map', 'figure', 'pdf_cube'], 4)
    >>> pdf = hs.load(summary["files"]["pdf_cube"])
    >>> type(pdf).__name__, pdf.data.shape
    ('PDF1DPlus', (2, 2, 2001))
    """
    import numpy as np

    from . import data
    from .signals import from_profile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    p = DEMO_PARAMETERS
    t0 = time.perf_counter()
    synth = data.two_phase_composite(nav_shape=nav_shape, lazy=lazy, seed=seed)
    dp = synth.signal
    profile = dp.get_azimuthal_integral1d(
        npt=p["npt"], mean=True, show_progressbar=show_progressbar
    )
    if profile._lazy:
        # The integration is the expensive step: compute it once (chunk by
        # chunk) rather than once per output map.
        profile.compute(show_progressbar=show_progressbar)
    ri = from_profile(profile)
    # Per-pixel composition (here the generator's truth; in practice EDS maps).
    composition = {
        el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)
    }
    pdf = ri.get_pdf(composition, p["s_range"], b=p["b"], s_min=p["s_min"], s_max=p["s_max"],
                     r_max=p["r_max"], r_step=p["r_step"], weights=p["weights"])
    n_map = pdf.metadata.ePDF.fit.N
    elapsed = time.perf_counter() - t0

    pdf_path = out / "pdf_cube.hspy"
    n_path = out / "N_map.hspy"
    pdf.save(pdf_path, overwrite=True)
    n_map.save(n_path, overwrite=True)

    fig_path = out / "summary.png"
    from .signals import _base

    s = _base.s_axis_values(ri)  # Å⁻¹, the units of metadata.ePDF.s_max
    _summary_figure(synth, pdf, n_map, s[s <= pdf.metadata.ePDF.s_max], fig_path, p)
    n_patterns = int(np.prod(nav_shape))
    files = {"pdf_cube": str(pdf_path), "N_map": str(n_path), "figure": str(fig_path)}
    if len(nav_shape) == 2 and n_patterns >= 9:
        # the batch route on the same scan: decomposition, unmixing and the HTML report
        from . import batch

        cfg = batch.load_config({
            "chain": {"composition": data.average_composition(synth), "s_range": list(p["s_range"]),
                      "weights": "variance", "fix_c": True, "s_max": p["s_max"], "b": p["b"],
                      "s_min": p["s_min"], "r_max": 10.0, "r_step": 0.02},
            "integration": {"npt": 64, "s_max": p["s_max"] + 0.04},
            "mapping": {"r_range": [1.0, 8.0], "n_components": 2},
        })
        report = batch.process(synth.signal, cfg, out / "report", show_progressbar=show_progressbar)
        files["report"] = report["files"]["report"]
    summary = {
        "files": files,
        "nav_shape": list(nav_shape),
        "patterns": n_patterns,
        "seconds": round(elapsed, 3),
        "parameters": {k: list(v) if isinstance(v, tuple) else v for k, v in p.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _summary_figure(synth, pdf, n_map, s, path, p):
    """Fitted N / true N, phase map, region-mean G(r) against the truth."""
    import numpy as np
    from matplotlib.figure import Figure

    from .physics import corrections, transform

    fig = Figure(figsize=(13, 3.8), layout="tight")
    axes = fig.subplots(1, 3)
    im = axes[0].imshow(np.asarray(n_map.data) / synth.N_true, cmap="viridis")
    axes[0].set_title("fitted N / true N")
    fig.colorbar(im, ax=axes[0], fraction=0.046)
    frac = np.asarray(synth.fractions[..., 0])
    axes[1].imshow(frac, cmap="coolwarm", vmin=0, vmax=1)
    axes[1].set_title(f"true fraction of {synth.phases[0].name}")
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
        Exit status: 0 on success, 2 for a configuration error.

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
      1. scan (4, 4) × detector (64, 64), 0.00 GB, lazy=True
      2. calibration: 0.08 Å⁻¹/pixel, full rings to 2.52 Å⁻¹
    ...
      5. navigation binning 2 × 2 → (2, 2)
    ...
    0
    >>> (folder / "out").exists()
    False
    """
    parser = argparse.ArgumentParser(
        prog="pyxem-epdf", description="STEM electron PDF analysis (pyxem-epdf)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="run the ePDF chain on the embedded synthetic composite"
    )
    demo.add_argument("out", help="output folder")
    demo.add_argument("--nav", type=int, nargs=2, default=(20, 20), metavar=("ROWS", "COLS"),
                      help="scan size of the synthetic dataset (default 20 20)")
    demo.add_argument("--eager", action="store_true", help="run eagerly instead of lazily")
    demo.add_argument("--no-progress", action="store_true", help="hide progress bars")
    demo.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    proc = sub.add_parser("process", help="run the configured chain on a scan file")
    proc.add_argument("scan", help="scan file (.hspy, .zspy, .mib, … as hs.load reads)")
    proc.add_argument("--config", required=True, help="TOML configuration")
    proc.add_argument("--out", required=True, help="output folder")
    proc.add_argument("--dry-run", action="store_true",
                      help="validate the configuration against the data and print the plan")
    proc.add_argument("--navigation-shape", type=int, nargs=2, metavar=("X", "Y"),
                      help="scan shape for files without it (e.g. .mib)")
    proc.add_argument("--no-progress", action="store_true", help="hide progress bars")
    args = parser.parse_args(argv)
    # pyxem 0.21 triggers a HyperSpy deprecation notice about its own internals
    # on import; it is not actionable for a user of this command.
    warnings.filterwarnings("ignore", message=".*has moved to `hyperspy.misc.dask_utils`")
    # rosettasciio's .zspy writer uses a zarr store that zarr 2.18 announces as deprecated
    warnings.filterwarnings("ignore", message="The NestedDirectoryStore is deprecated")
    if args.command == "process":
        return _process(args)
    if args.command == "demo":
        if min(args.nav) < 1:
            parser.error("--nav ROWS COLS must be positive integers")
        summary = run_demo(
            args.out,
            nav_shape=tuple(args.nav),
            lazy=not args.eager,
            show_progressbar=not args.no_progress,
            seed=args.seed,
        )
        for name, path in summary["files"].items():
            sys.stdout.write(f"wrote {name}: {path}\n")
        sys.stdout.write(
            f"{summary['patterns']} patterns processed in {summary['seconds']} s\n"
        )
    return 0


def _process(args):
    import hyperspy.api as hs

    from . import batch

    try:
        cfg = batch.load_config(args.config)
    except (batch.ConfigError, OSError) as err:
        sys.stderr.write(f"pyxem-epdf: configuration error: {err}\n")
        return 2
    kwargs = {"lazy": True}
    if args.navigation_shape:
        kwargs["navigation_shape"] = tuple(args.navigation_shape)
    dp = hs.load(args.scan, **kwargs)
    try:
        steps = batch.plan(dp, cfg)
    except batch.ConfigError as err:
        sys.stderr.write(f"pyxem-epdf: configuration error: {err}\n")
        return 2
    if args.dry_run:
        sys.stdout.write("dry run: nothing computed; the plan is\n")
        for i, step in enumerate(steps, 1):
            sys.stdout.write(f"  {i}. {step}\n")
        return 0
    summary = batch.process(dp, cfg, args.out, source=args.scan,
                            show_progressbar=not args.no_progress)
    for name, path in summary["files"].items():
        sys.stdout.write(f"wrote {name}: {path}\n")
    sys.stdout.write(f"{summary['frames']} patterns processed in {summary['seconds']} s\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
