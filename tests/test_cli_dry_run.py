"""``process --dry-run`` makes every check the real run makes, computing nothing.

Each bad configuration or input gets exit status 2, one line on stderr naming
the key (or the file) and the valid range, nothing written and no dask graph run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import batch, data
from pyxem_epdf.cli import main

from .conftest import ComputeCounter
from .test_cli_safety import CONFIG


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dry")
    synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(32, 32), s_scale=0.16)
    paths = {"scan": folder / "scan.zspy", "config": folder / "config.toml"}
    synth.signal.save(paths["scan"])
    paths["config"].write_text(CONFIG)
    small = data.two_phase_composite(nav_shape=(2, 1), detector_shape=(32, 32), s_scale=0.16)
    paths["small"] = folder / "small.zspy"
    small.signal.save(paths["small"])
    paths["line"] = folder / "line.zspy"
    synth.signal.inav[0].save(paths["line"])
    paths["pdf"] = folder / "pdf.hspy"
    epdf.data.example_pdf().save(paths["pdf"])
    for dtype in ("float16", "complex128"):
        sig = synth.signal.deepcopy()
        sig.change_dtype(dtype)
        paths[dtype] = folder / f"{dtype}.zspy"
        sig.save(paths[dtype])
    sig = synth.signal.deepcopy()
    for ax in sig.axes_manager.signal_axes:
        ax.units = "px"
    paths["pixels"] = folder / "pixels.zspy"
    sig.save(paths["pixels"])
    paths["garbage"] = folder / "garbage.hspy"
    paths["garbage"].write_bytes(b"not an HDF5 file")
    return paths


def dry_run(scan, config, out, capsys):
    with ComputeCounter() as counter:
        code = main(["process", str(scan), "--config", str(config), "--out", str(out),
                     "--dry-run"])
    captured = capsys.readouterr()
    assert counter.runs == 0, "the dry run computed something"
    assert not Path(out).exists()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "edit, match",
    [
        (("[mapping]", '[mapping]\nmethod = "foo"'),
         "'mapping.method' must be \"closure\" or \"ica\" .*; got 'foo'"),
        (("n_components = 2", "n_components = 500"),
         "'mapping.n_components' = 500 must be at most the number of .* positions, 16"),
        (("[chain]", "[chain]\ns_max = 9"),
         "'chain.s_max' = 9 Å⁻¹ must be at most the integration s_max 2.48"),
        (("s_range = [1.4, 2.3]", 's_range = ["a", "b"]'),
         "'chain.s_range' must be a pair \\[lo, hi\\] of numbers .*; got \\['a', 'b'\\]"),
        (("s_range = [1.4, 2.3]", "s_range = [1.4, 3.0]"),
         "'chain.s_range' = \\[1.4, 3.0\\] must lie below the integration s_max"),
        (("npt = 24", "npt = 24\ns_max = 2.48"), None),
        (("s_min = 0.2", "s_min = nan"), "'chain.s_min' must be a number in .*; got nan"),
        (("r_step = 0.05", "r_step = 1e-7"), "'chain.r_step' must be a number in "),
        (("[chain]", "[chain]\nweights = 'none'"), None),
        (("[chain]", "[chain]\nweights = 'sqrt'"), "'chain.weights' must be"),
        (("[chain]", "[chain]\nc_pool = 'affine'"), None),
        (("[chain]", "[chain]\nc_pool = 4"),
         "'chain.c_pool' must be \"scan\", \"affine\" or an odd integer >= 1"),
        (("[integration]", "[integration]\nbeam_stop_radius = 0.3"),
         "'integration.beam_stop_radius' = 0.3 must be at most chain.s_min = 0.2"),
        (("r_range = [1.0, 6.0]", "r_range = [1.0, 12.0]"),
         "'mapping.r_range' = \\[1.0, 12.0\\] must lie inside \\[0, chain.r_max = 8.0\\]"),
        (("[chain]", "[chain]\nb = true"), "'chain.b' must be a number .*; got True"),
        (("[mapping]", "[navigation]\nrebin = 3\n[mapping]"),
         "'navigation.rebin' = 3 must divide the 2-D scan shape \\(4, 4\\)"),
        (("[mapping]", "[navigation]\nrebin = 4\n[mapping]"),
         "1 × 1 probe positions after binning"),
        (("[chain]", "[chain]\ns_range = [1.4, 2.3]"), "not valid TOML"),
    ],
)
def test_dry_run_catches_each_bad_config(files, tmp_path, capsys, edit, match):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.replace(*edit, 1))
    code, out, err = dry_run(files["scan"], config, tmp_path / "out", capsys)
    if match is None:  # valid: the plan is printed
        assert code == 0 and "nothing computed" in out and err == ""
        return
    assert code == 2, out
    assert err.startswith("pyxem-epdf: error: ") and err.count("\n") == 1
    assert re.search(match, err), err


def test_weights_none_maps_to_none():
    cfg = batch.load_config({"chain": {"composition": "SiO2", "weights": "none"}})
    assert cfg["chain"]["weights"] is None
    ri = epdf.data.example_profile()
    # what the Python API accepts: the same value runs the chain
    pdf = ri.get_pdf("SiO2", (2.8, 4.0), b=0.2, s_min=0.2, weights=cfg["chain"]["weights"])
    assert np.all(np.isfinite(pdf.data))


@pytest.mark.parametrize(
    "name, match",
    [
        ("small", "2 × 1 probe positions after binning .* at least 2 along each axis"),
        ("line", "The input is a line scan \\(navigation shape \\(4,\\)\\)"),
        ("pdf", "The input holds a PDF1DPlus \\(G\\(r\\) data\\) with 1 signal dimension"),
        ("float16", "dtype float16 is not supported.*change_dtype\\('float32'\\)"),
        ("complex128", "dtype complex128 is not supported"),
        ("pixels", "not calibrated in s \\(units 'px'\\); add a \\[calibration\\] section"),
        ("garbage", "cannot read '.*garbage.hspy'"),
    ],
)
def test_dry_run_catches_each_bad_input(files, tmp_path, capsys, name, match):
    code, _, err = dry_run(files[name], files["config"], tmp_path / "out", capsys)
    assert code == 2
    assert err.count("\n") == 1 and re.search(match, err), err


def test_real_run_refuses_what_the_dry_run_refuses(files, tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.replace("n_components = 2", "n_components = 500"))
    out = tmp_path / "out"
    assert main(["process", str(files["scan"]), "--config", str(config), "--out", str(out),
                 "--no-progress"]) == 2
    assert "'mapping.n_components' = 500" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("out.partial-*"))


def test_missing_input_and_config_give_one_line_in_a_subprocess(files, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(epdf.__file__).parents[1])}
    cases = [
        ([str(tmp_path / "nope.zspy"), "--config", str(files["config"])],
         "input '" + str(tmp_path / "nope.zspy") + "' does not exist"),
        ([str(files["scan"]), "--config", str(tmp_path / "nope.toml")],
         "cannot read the configuration"),
    ]
    for args, message in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "pyxem_epdf", "process", *args, "--out",
             str(tmp_path / "out"), "--dry-run"],
            capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("pyxem-epdf: error: ") and message in proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"pyxem-epdf {epdf.__version__}"
    with pytest.raises(SystemExit):
        main(["process", "--help"])
    text = capsys.readouterr().out
    assert "pyxem_epdf.batch module docstring" in text
    for section, keys in batch.SCHEMA.items():  # every key listed with its valid range
        for key, (_, valid) in keys.items():
            assert f"[{section}] {key}: {valid}" in " ".join(text.split()), key
    assert "--scan-shape ROWS COLS" in text and "--navigation-shape" not in text


def test_results_too_large_for_memory_are_refused_before_anything_runs():
    """A huge (lazy, never computed) scan with a fine r grid: refused with the estimate."""
    import dask.array as da
    import hyperspy.api as hs

    memory = batch._machine_memory()
    if memory is None:
        pytest.skip("this platform does not report its memory")
    rows = int(np.ceil(np.sqrt(memory / (2001 * 8)))) + 1  # the PDF cube alone > all memory
    sig = hs.signals.Signal2D(da.zeros((rows, rows, 32, 32), chunks=(64, 64, 32, 32),
                                       dtype="uint16")).as_lazy()
    sig.set_signal_type("electron_diffraction")
    for ax in sig.axes_manager.signal_axes:
        ax.scale, ax.offset, ax.units = 0.16, -2.56, "Å^-1"
    cfg = batch.load_config({"chain": {"composition": "SiO2", "s_range": [1.4, 2.3],
                                       "r_max": 20.0, "r_step": 0.01}})
    with ComputeCounter() as counter:
        with pytest.raises(batch.ConfigError, match="The results need about .* GB .*"
                                                    "2001 r points .* raise chain.r_step"):
            batch.plan(sig, cfg)
    assert counter.runs == 0
