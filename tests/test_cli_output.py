"""What the commands print: one kind of progress bar (dask's) on stderr, nothing else on
stdout than the written files and the time the provenance records."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyxem_epdf as epdf

from .test_cli_dry_run import files  # noqa: F401  (module fixture: tiny scan + config)


def test_progress_on_stderr_and_one_timing_source(files, tmp_path):  # noqa: F811
    env = {**os.environ, "PYTHONPATH": str(Path(epdf.__file__).parents[1])}
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "pyxem_epdf", "process", str(files["scan"]), "--config",
         str(files["config"]), "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(line.startswith("wrote ") for line in lines[:-1]), lines
    prov = json.loads((out / "provenance.json").read_text())
    stages = ", ".join(f"{k} {v:.1f} s" for k, v in prov["stage_seconds"].items())
    assert lines[-1] == f"16 patterns processed in {prov['seconds']:.1f} s ({stages})"
    # dask's bar, on stderr only; no tqdm bar (HyperSpy's) anywhere
    assert re.search(r"\[#+\] \| 100% Completed", proc.stderr), proc.stderr
    assert "it/s" not in proc.stderr + proc.stdout
    assert "Completed" not in proc.stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f"processed in {prov['seconds']:.1f} s" in report


def test_descan_and_binning_route(files, tmp_path, capsys):  # noqa: F811
    from pyxem_epdf.cli import main

    config = tmp_path / "config.toml"
    config.write_text(files["config"].read_text().replace(
        "[integration]", "[navigation]\nrebin = 2\n[integration]\ndescan = true"))
    out = tmp_path / "out"
    assert main(["process", str(files["scan"]), "--config", str(config), "--out", str(out),
                 "--no-progress"]) == 0
    prov = json.loads((out / "provenance.json").read_text())
    assert list(prov["stage_seconds"]) == ["check", "mask", "descan", "chain", "mapping",
                                           "write"]
    assert "descan correction: yes" in prov["plan"] and prov["frames"] == 16
    import hyperspy.api as hs

    assert hs.load(out / "pdf_cube.zspy").data.shape[:2] == (2, 2)
