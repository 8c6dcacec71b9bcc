"""README.md runs as written: every Python block, in order, in one namespace, unedited.

Then the bash blocks after the first two run in the same folder (the batch
commands process the scan the first Python block saved). The first two bash
blocks are checked verbatim: the install + demo command (the demo itself runs
in ``tests/test_demo.py``) and the test command (this suite, run by ``.ci/run``).
"""

import json
import linecache
import os
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
INSTALL = ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[tests]" '
           "&& pyxem-epdf demo demo-output")
TEST_COMMAND = "python -m pytest"


def _blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.M | re.S)


def test_the_first_two_commands_are_the_install_and_the_test_command():
    bash = [b.strip() for b in _blocks("bash")]
    assert bash[:2] == [INSTALL, TEST_COMMAND]


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert TEST_COMMAND in [line.strip() for line in script]


def test_readme_has_the_python_blocks_this_test_runs():
    blocks = _blocks("python")
    assert len(blocks) >= 3
    # the route of the README (issue 12): own integration with descan, chain defaults
    first = blocks[0]
    for call in ("epdf.signals.descan(dp)", "epdf.azimuthal_profile(dp, beam_shift=shifts)",
                 "ri.get_pdf(composition)", "pdf.decompose()", "dec.unmix()"):
        assert call in first, call


@pytest.mark.slow
def test_the_readme_runs_top_to_bottom_as_written(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    for i, block in enumerate(_blocks("python")):
        name = f"README.md python block {i + 1}"
        # tracebacks then show the README line that failed
        linecache.cache[name] = (len(block), None, block.splitlines(True), name)
        code = compile(block, name, "exec")
        try:
            exec(code, namespace)
        finally:
            plt.close("all")
    # what the Python blocks promise
    assert (tmp_path / "scan.zspy").exists()
    assert os.path.getsize(tmp_path / "region_peaks.csv") > 0
    phases, names = namespace["phases"], namespace["names"]
    assert len(names) == len(phases.components.data) == len(phases.loadings.data)
    # the "repeat scan" is a second noise realisation of the same area: never "changed"
    assert namespace["check"].verdict in ("unchanged", "inconclusive")
    # the shell blocks after install and test commands, in the same folder
    env = dict(os.environ, MPLBACKEND="Agg",
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    for i, block in enumerate(_blocks("bash")[2:]):
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=600,
                                stdin=subprocess.DEVNULL)
        assert result.returncode == 0, f"bash block {i + 3}:\n{result.stderr[-3000:]}"
    provenance = json.loads((tmp_path / "results" / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["parameters"]["integration"]["descan"] is True  # the README's config
    assert (tmp_path / "results" / "report.html").stat().st_size > 10_000
