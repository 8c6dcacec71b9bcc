"""The batch command never loses data: not the input, not a user's files, not an earlier result.

Real files in ``tmp_path`` and real ``pyxem-epdf`` runs (in-process ``main``, and a
subprocess for the Ctrl-C case, which sends a real SIGINT).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import hyperspy.api as hs
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import batch, data
from pyxem_epdf.cli import main

CONFIG = """
[chain]
composition = "Zn(C3H3N2)1.75(C7H5N2)0.25"
s_range = [1.4, 2.3]
s_min = 0.2
r_max = 8.0
r_step = 0.05
fix_c = true
[integration]
npt = 24
[mapping]
r_range = [1.0, 6.0]
n_components = 2
"""


def tree_digest(path):
    """SHA-256 of every file under ``path`` (names included) and the sorted listing."""
    path = Path(path)
    return batch.sha256(path), sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 4 × 4 scan of 32 × 32 patterns (.zspy), its config, and one complete result."""
    folder = tmp_path_factory.mktemp("tiny")
    synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(32, 32), s_scale=0.16)
    scan = folder / "scan.zspy"
    synth.signal.save(scan)
    config = folder / "config.toml"
    config.write_text(CONFIG)
    result = folder / "result"
    assert main(["process", str(scan), "--config", str(config), "--out", str(result),
                 "--no-progress"]) == 0
    return scan, config, result


def run(scan, config, out, *extra):
    return main(["process", str(scan), "--config", str(config), "--out", str(out),
                 "--no-progress", *extra])


def test_complete_result_is_marked_and_nothing_left_beside_it(tiny):
    scan, _, result = tiny
    prov = json.loads((result / "provenance.json").read_text())
    assert prov["complete"] is True and prov["status"] == "complete"
    assert prov["input"]["sha256"] == batch.sha256(scan)
    assert prov["started"] <= prov["finished"]
    assert "partial_folder" not in prov
    siblings = sorted(p.name for p in result.parent.iterdir())
    assert siblings == ["config.toml", "result", "scan.zspy"]  # no .partial / .old left


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_input_inside_output_folder_is_refused(tiny, tmp_path, capsys, overwrite):
    """``process OUT/pdf_cube.zspy --out OUT`` would replace (or overwrite) its own input."""
    _, config, result = tiny
    before = tree_digest(result)
    assert run(result / "pdf_cube.zspy", config, result, *overwrite) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lies inside the output folder" in err
    assert tree_digest(result) == before
    assert isinstance(hs.load(result / "pdf_cube.zspy"), epdf.PDF1DPlus)


def test_python_api_protects_the_file_a_signal_was_loaded_from(tiny):
    """Without ``source``, the file HyperSpy read the (lazy) scan from is still protected."""
    scan, config, _ = tiny
    before = tree_digest(scan)
    dp = hs.load(scan, lazy=True)
    with pytest.raises(batch.OutputError, match="is inside the input"):
        batch.process(dp, batch.load_config(config), scan / "results", show_progressbar=False)
    assert tree_digest(scan) == before


def test_output_is_or_is_inside_the_input_store(tiny, capsys):
    scan, config, _ = tiny
    before = tree_digest(scan)
    assert run(scan, config, scan) == 2
    assert "is the input itself" in capsys.readouterr().err
    assert run(scan, config, scan / "results", "--overwrite") == 2
    assert "is inside the input" in capsys.readouterr().err
    assert tree_digest(scan) == before


def test_symlinks_are_resolved(tiny, tmp_path, capsys):
    scan, config, _ = tiny
    store_link = tmp_path / "link_to_scan.zspy"
    store_link.symlink_to(scan, target_is_directory=True)
    folder_link = tmp_path / "link_to_scan_folder"
    folder_link.symlink_to(scan.parent, target_is_directory=True)
    before = tree_digest(scan)
    assert run(scan, config, store_link / "out") == 2
    assert "is inside the input" in capsys.readouterr().err
    # the input, reached through a link, lies inside the output folder
    assert run(folder_link / "scan.zspy", config, scan.parent, "--overwrite") == 2
    assert "lies inside the output folder" in capsys.readouterr().err
    assert tree_digest(scan) == before


@pytest.mark.parametrize("name", ["report.html", "pdf_cube.zspy", "notes.txt"])
def test_users_files_are_never_replaced(tiny, tmp_path, capsys, name):
    scan, config, _ = tiny
    out = tmp_path / "mine"
    out.mkdir()
    (out / name).write_text("my own work")
    assert run(scan, config, out) == 2
    assert "is not empty (1 entry: " + name in capsys.readouterr().err
    # --overwrite replaces only an earlier pyxem-epdf result
    assert run(scan, config, out, "--overwrite") == 2
    assert "holds no pyxem-epdf result" in capsys.readouterr().err
    assert (out / name).read_text() == "my own work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_uncreatable_output_is_one_line(tiny, tmp_path, capsys):
    """A parent that is a file (as a read-only parent would) cannot hold the partial folder."""
    scan, config, _ = tiny
    blocker = tmp_path / "a_file"
    blocker.write_text("keep")
    assert run(scan, config, blocker / "out") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot create a folder next to" in err
    assert blocker.read_text() == "keep"


def test_output_that_is_a_file_is_refused(tiny, tmp_path, capsys):
    scan, config, _ = tiny
    out = tmp_path / "result.txt"
    out.write_text("keep")
    assert run(scan, config, out, "--overwrite") == 2
    assert "is not a folder" in capsys.readouterr().err and out.read_text() == "keep"


def test_empty_folder_and_overwrite_of_an_earlier_result(tiny, tmp_path):
    scan, config, _ = tiny
    out = tmp_path / "out"
    out.mkdir()  # an existing empty folder is fine
    assert run(scan, config, out) == 0
    first = json.loads((out / "provenance.json").read_text())
    time.sleep(1.1)  # provenance times are in whole seconds
    assert run(scan, config, out, "--overwrite") == 0
    second = json.loads((out / "provenance.json").read_text())
    assert second["complete"] and second["started"] > first["started"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no partial / old folder
    assert isinstance(hs.load(out / "pdf_cube.zspy"), epdf.PDF1DPlus)


def test_dry_run_checks_the_output_folder_too(tiny, tmp_path, capsys):
    scan, config, result = tiny
    assert run(scan, config, result, "--dry-run") == 2
    assert "is not empty" in capsys.readouterr().err
    assert run(scan, config, result, "--dry-run", "--overwrite") == 0
    assert "nothing computed" in capsys.readouterr().out


def test_failed_run_leaves_the_earlier_result_and_a_named_partial(tiny, tmp_path):
    """An error in the middle (here: the unmixing) keeps the earlier result as it was."""
    scan, config, result = tiny
    out = tmp_path / "out"
    assert run(scan, config, out) == 0
    before = tree_digest(out)
    dp = hs.load(scan, lazy=True)
    cfg = batch.load_config(config)
    cfg["mapping"]["method"] = "no_such_algorithm"  # passes plan only because we bypass it here
    with pytest.raises(ValueError, match="Unknown 'method'"):
        batch.process(dp, cfg, out, source=scan, overwrite=True, show_progressbar=False)
    assert tree_digest(out) == before
    partials = [p for p in tmp_path.iterdir() if p.name.startswith("out.partial-")]
    assert len(partials) == 1
    prov = json.loads((partials[0] / "provenance.json").read_text())
    assert prov["complete"] is False and prov["status"].startswith("failed")


def test_demo_output_folder_is_safe(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "report.html").write_text("mine")
    assert main(["demo", str(out), "--scan-shape", "3", "3", "--no-progress"]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert (out / "report.html").read_text() == "mine"
    fresh = tmp_path / "fresh"
    assert main(["demo", str(fresh), "--scan-shape", "3", "3", "--no-progress"]) == 0
    assert main(["demo", str(fresh), "--scan-shape", "3", "3", "--no-progress"]) == 2
    assert main(["demo", str(fresh), "--scan-shape", "3", "3", "--no-progress",
                 "--overwrite"]) == 0
    assert json.loads((fresh / "provenance.json").read_text())["complete"] is True
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "fresh"]


#: ``python -m pyxem_epdf`` as an interactive shell starts it: with Python's own
#: SIGINT handler. A process started with SIGINT ignored (a background job of a
#: script, ``nohup … &``) passes that on, and Python then installs no handler: the
#: test's Ctrl-C would never arrive (measured: pytest run as ``( … &)`` gave the
#: child SigIgn 0x1001007, HUP/INT/QUIT ignored, and the run finished with 0).
AS_FROM_A_TERMINAL = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                      "runpy.run_module('pyxem_epdf', run_name='__main__')")


def _signal_state(pid):
    """SigBlk/SigIgn/SigCgt of every thread of process ``pid`` (Linux), else ''."""
    out = []
    for task in sorted(Path(f"/proc/{pid}/task").glob("*")) if Path("/proc").is_dir() else []:
        try:
            status = (task / "status").read_text()
        except OSError:
            continue
        fields = [line for line in status.splitlines()
                  if line.startswith(("Name", "SigBlk", "SigIgn", "SigCgt"))]
        out.append(f"{task.name}: " + " ".join(f.replace("\t", "") for f in fields))
    return "\n".join(out)


def test_ctrl_c_during_a_rerun_keeps_the_earlier_result(tiny, tmp_path):
    """A real SIGINT to ``pyxem-epdf process --overwrite`` while it computes."""
    scan, config, result = tiny
    out = tmp_path / "out"
    assert run(scan, config, out) == 0
    before = tree_digest(out)
    env = {**os.environ, "PYTHONPATH": str(Path(epdf.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, "process", str(scan), "--config", str(config),
         "--out", str(out), "--overwrite", "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    partial = tmp_path / f"out.partial-{proc.pid}"
    deadline = time.monotonic() + 120
    # the partial folder's provenance.json is written right after the checks,
    # before the mask, the chain, the mapping and the writing (~3 s of work)
    while not (partial / "provenance.json").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.01)
    state = _signal_state(proc.pid)  # evidence for a failure: was SIGINT blocked/ignored?
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, stderr, state)
    assert "interrupted" in stderr and "Traceback" not in stderr
    assert f"the partial result is in {partial}" in stderr
    # the earlier result: untouched and readable
    assert tree_digest(out) == before
    assert json.loads((out / "provenance.json").read_text())["complete"] is True
    pdf = hs.load(out / "pdf_cube.zspy")
    assert isinstance(pdf, epdf.PDF1DPlus) and pdf.data.shape == (4, 4, 161)
    # the partial result: under its own name, marked incomplete; nothing else beside
    prov = json.loads((partial / "provenance.json").read_text())
    assert prov["complete"] is False and prov["status"] == "interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out", partial.name])
