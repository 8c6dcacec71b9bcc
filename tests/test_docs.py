"""The documentation builds without warnings (-W), with the gallery examples executed.

The tutorial is a gallery example (``examples/gallery/plot_tutorial.py``), so
the build runs it and its page shows the figures of its code. The math is
rendered by a copy of MathJax served from the build itself: no page loads a
script from the internet, and in headless Chromium with every non-local
request refused the method page's formulas are typeset.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REMOTE = re.compile(r"^(https?:)?//", re.I)


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("docs")
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
    return tmp_path / "html"


def test_docs_and_gallery_build_without_warnings(html):
    assert (html / "generated" / "pyxem_epdf.mapping.html").exists()
    # every gallery example ran and produced its figures
    examples = sorted(p.stem for p in (ROOT / "examples" / "gallery").glob("plot_*.py"))
    assert len(examples) >= 8
    for name in examples:
        page = (html / "auto_examples" / f"{name}.html").read_text(encoding="utf-8")
        assert f"sphx_glr_{name}_001.png" in page, name
        assert "Traceback" not in page, name
        assert (html / "_images" / f"sphx_glr_{name}_001.png").stat().st_size > 5_000


def test_the_tutorial_is_executed_and_shows_its_figures(html):
    index = (html / "index.html").read_text(encoding="utf-8")
    assert 'href="auto_examples/plot_tutorial.html"' in index  # in the main table of contents
    page = (html / "auto_examples" / "plot_tutorial.html").read_text(encoding="utf-8")
    figures = sorted(set(re.findall(r"sphx_glr_plot_tutorial_(\d{3})\.png", page)))
    assert len(figures) >= 6, figures
    for number in figures:
        assert (html / "_images" / f"sphx_glr_plot_tutorial_{number}.png").stat().st_size > 5_000
    # printed output of the run is on the page
    assert "one pass == step by step: True" in page
    assert "Traceback" not in page


def _remote_references(page):
    """URLs outside the build that a browser would load to show ``page``."""
    loads = re.findall(r'<(?:script|img|iframe)\b[^>]*\bsrc="([^"]*)"', page, flags=re.I)
    for tag in re.findall(r"<link\b[^>]*>", page, flags=re.I):
        if re.search(r'rel="(?:stylesheet|preload|modulepreload|icon)"', tag):
            loads += re.findall(r'href="([^"]*)"', tag)
    return [u for u in loads if REMOTE.match(u)]


def test_math_is_served_locally(html):
    page = (html / "method.html").read_text(encoding="utf-8")
    assert page.count('class="math') >= 3  # the formulas are there for MathJax to typeset
    scripts = re.findall(r'<script[^>]*\bsrc="([^"]*)"', page)
    mathjax = [s for s in scripts if "mathjax" in s.lower()]
    assert mathjax == ["_static/mathjax/tex-chtml.js"], scripts
    assert (html / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    assert list((html / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))
    for name in ("method.html", "index.html", "auto_examples/plot_tutorial.html"):
        assert _remote_references((html / name).read_text(encoding="utf-8")) == [], name


def test_math_renders_offline_in_headless_chromium(html, chromium):
    """MathJax typesets the method page with every non-file request refused.

    Needs Chromium and ``playwright`` (installed by ``.ci/run``, where
    ``EPDF_REQUIRE_BROWSER=1`` turns a missing browser into a failure).
    """
    sync_playwright, launch = chromium
    refused, errors = [], []

    def route(r):
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    with sync_playwright() as pw:
        browser = launch(pw, "--allow-file-access-from-files")
        page = browser.new_page()
        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((html / "method.html").as_uri())
        try:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                timeout=20_000)
        except Exception as err:  # playwright's TimeoutError
            browser.close()
            pytest.fail(f"MathJax did not start (refused requests: {refused}): {err}")
        page.evaluate("() => MathJax.startup.promise")
        typeset = page.eval_on_selector_all("mjx-container", "els => els.length")
        raw = page.evaluate(
            "() => [...document.querySelectorAll('.math')].filter("
            "e => !e.querySelector('mjx-container')).length")
        browser.close()
    assert errors == []
    assert refused == []  # nothing tried to reach the network
    assert typeset >= 3 and raw == 0, (typeset, raw)
