"""The example scripts run and write what they promise."""

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_compare_unmixing(tmp_path, capsys):
    module = runpy.run_path(str(EXAMPLES / "compare_unmixing.py"))
    module["main"](str(tmp_path / "cmp.png"))
    out = capsys.readouterr().out
    assert "closure  map 0" in out and "ica      map 1" in out
    assert (tmp_path / "cmp.png").stat().st_size > 10_000
