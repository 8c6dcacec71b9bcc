"""The documentation builds without warnings (-W), with the gallery examples executed."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_docs_and_gallery_build_without_warnings(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs",
                    ignore=shutil.ignore_patterns("_build", "generated", "auto_examples"))
    shutil.copytree(ROOT / "examples" / "gallery", tmp_path / "examples" / "gallery")
    env = dict(os.environ, EPDF_GALLERY="1", MPLBACKEND="Agg")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         str(tmp_path / "docs"), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=900, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    html = tmp_path / "html"
    assert (html / "tutorial.html").exists()
    assert (html / "generated" / "pyxem_epdf.mapping.html").exists()
    # every gallery example ran and produced its figures
    examples = sorted(p.stem for p in (ROOT / "examples" / "gallery").glob("plot_*.py"))
    assert len(examples) >= 7
    for name in examples:
        page = (html / "auto_examples" / f"{name}.html").read_text(encoding="utf-8")
        assert f"sphx_glr_{name}_001.png" in page, name
        assert "Traceback" not in page, name
        assert (html / "_images" / f"sphx_glr_{name}_001.png").stat().st_size > 5_000
