"""Batch command: end to end on the embedded dataset, dry run, provenance, report, config errors."""

import base64
import io
import json
import re
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from pyxem_epdf import batch, data
from pyxem_epdf.cli import main

from .conftest import ComputeCounter

CONFIG = """
[chain]
composition = "Zn(C3H3N2)1.75(C7H5N2)0.25"
s_range = [1.6, 2.5]
b = 0.8
s_min = 0.18
r_max = 10.0
r_step = 0.02
fix_c = true
[integration]
npt = 64
s_max = 2.54
[navigation]
rebin = 2
[mapping]
r_range = [1.0, 8.0]
"""


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scan")
    synth = data.two_phase_composite(nav_shape=(16, 16), step=2.5, seed=1)
    path = folder / "scan.zspy"
    synth.signal.save(path, overwrite=True)
    config = folder / "config.toml"
    config.write_text(CONFIG)
    return path, config


@pytest.fixture(scope="module")
def processed(scan, tmp_path_factory):
    path, config = scan
    out = tmp_path_factory.mktemp("processed") / "out"
    assert main(["process", str(path), "--config", str(config), "--out", str(out),
                 "--no-progress"]) == 0
    return out


def test_process_end_to_end(scan, processed):
    path, _ = scan
    out = processed
    for name in ("pdf_cube.zspy", "loadings.zspy", "components.zspy", "loadings.csv",
                 "components.csv", "scree.png", "loading_maps.png", "component_pdfs.png",
                 "N_map.png", "intensity_fit.png", "provenance.json", "report.html"):
        assert (out / name).exists(), name
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["input"]["sha256"] == batch.sha256(path)
    assert prov["parameters"]["chain"]["b"] == 0.8
    assert prov["parameters"]["navigation"]["rebin"] == 2
    assert prov["versions"]["hyperspy"] != "not installed"
    assert prov["frames"] == 256 and prov["n_components"] == 2
    assert prov["complete"] is True and prov["status"] == "complete"
    assert prov["software"] == "pyxem-epdf" and prov["output"] == str(out.resolve())
    assert list(prov["stage_seconds"]) == ["check", "mask", "descan", "chain", "mapping", "write"]
    assert abs(sum(prov["stage_seconds"].values()) - prov["seconds"]) < 0.5
    assert prov["started"] <= prov["finished"]
    assert 9 < prov["dose"]["mean_e_per_A2"] < 11  # generated at 10 e⁻/Å²
    report = (out / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', report)
    assert len(images) == 5
    for encoded in images:
        img = mpimg.imread(io.BytesIO(base64.b64decode(encoded)), format="png")
        assert img.ndim == 3 and img.shape[0] > 100 and img.std() > 0  # a real figure
    assert "parameters.chain.b" in report
    assert f"finished {prov['finished']}" in report and "Dose and time" in report
    assert "e⁻/Å² per probe position" in report
    # phases named by their first peak, not "component 0"; bands and how they were made
    assert re.search(r"phase A \(r₁ = \d\.\d\d Å\)", report)
    assert "component 0" not in report and "closure 0" not in report
    assert "bootstrap resamples" in report and "standard error" in report
    assert re.search(r"\d\.\d+ ± \d\.\d+</td>", report)  # region peaks with their sd
    for stage, seconds in prov["stage_seconds"].items():
        assert f"<td class=l>{stage}</td><td>{seconds:.2f} s</td>" in report
    assert prov["input"]["sha256"] in report  # the full provenance, as written
    assert "http://" not in report and "https://" not in report  # self-contained
    assert not re.search(r"\d\.\d{8,}", report)  # no 17-digit numbers
    lines = (out / "components.csv").read_text().splitlines()
    assert lines[0] == "r_A,component_0,component_1" and len(lines) == 502
    # each component as a .gr file that the X-ray reader (diffpy) reads back
    import hyperspy.api as hs
    import numpy as np

    from pyxem_epdf import xray

    comps = hs.load(out / "components.zspy")
    for i in range(2):
        gr = xray.load_xray_pdf(out / f"component_{i}.gr")
        np.testing.assert_allclose(gr.data, comps.inav[i].data, rtol=1e-6, atol=1e-8)


def test_report_renders_in_headless_chromium(processed, tmp_path, chromium):
    """The report opens in headless Chromium with no console errors and shows its figures.

    Needs Chromium and the ``playwright`` package (both installed by ``.ci/run``;
    there ``EPDF_REQUIRE_BROWSER=1`` turns a missing browser into a failure).
    """
    import os

    sync_playwright, launch = chromium
    problems = []
    shot = Path(os.environ.get("EPDF_REPORT_SCREENSHOT", tmp_path / "report.png"))
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto((processed / "report.html").as_uri())
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        title = page.title()
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert problems == []
    assert len(sizes) == 5
    assert all(done and w > 100 and h > 100 for done, w, h in sizes), sizes
    assert title == "pyxem-epdf report"
    img = mpimg.imread(shot)
    assert img.shape[0] > 900 and img.std() > 0.05  # a full page with figures, not blank


def test_dry_run_computes_nothing(scan, tmp_path, capsys):
    path, config = scan
    out = tmp_path / "dry"
    with ComputeCounter() as counter:
        assert main(["process", str(path), "--config", str(config), "--out", str(out),
                     "--dry-run"]) == 0
    assert counter.runs == 0
    assert not out.exists()
    text = capsys.readouterr().out
    assert "nothing computed" in text and "binning 2 × 2 → (8, 8)" in text


@pytest.mark.parametrize(
    "config, match",
    [
        ({"chain": {"composition": "SiO2"}, "colour": {}}, "Unknown section \\[colour\\]"),
        ({"chain": {"composition": "SiO2", "damping": 0.8}}, "Unknown key 'chain.damping'"),
        ({"chain": {"composition": "SiO2", "b": -1.0}}, "'chain.b' must be a number in \\[0, 10\\]"),
        ({"chain": {"composition": "SiO2", "b": "high"}}, "'chain.b' must be a number in"),
        ({"chain": {"composition": "SiO2", "s_range": [2.5, 1.6]}}, "'chain.s_range' must be"),
        ({"chain": {"composition": "SiO2", "weights": "sqrt"}}, "'chain.weights' must be"),
        ({"chain": {}}, "'chain.composition' is required"),
        ({"chain": {"composition": "SiQ2"}}, "'chain.composition' must be a formula .*; got 'SiQ2': Unknown element 'Q'"),
        ({"chain": {"composition": "SiO2"}, "integration": {"subpixel": 40}},
         "'integration.subpixel' must be an integer in 1–16; got 40"),
        ({"chain": {"composition": "SiO2"}, "mapping": {"n_components": 1}},
         "'mapping.n_components' must be an integer 0 \\(automatic\\) or in 2–1000"),
        ({"chain": {"composition": "SiO2"}, "calibration": {"camera_length_m": 0.2}},
         "needs 's_per_pixel' or both"),
    ],
)
def test_config_errors(config, match):
    with pytest.raises(batch.ConfigError, match=match):
        batch.load_config(config)


@pytest.mark.parametrize(
    "section, key, value, match",
    [
        ("integration", "s_max", 9.0, "'integration.s_max' = 9 Å⁻¹ is beyond the detector corner"),
        ("chain", "s_range", [1.6, 2.6], "'chain.s_range' .* must lie below"),
        ("navigation", "rebin", 3, "'navigation.rebin' = 3 must divide"),
        ("mapping", "r_range", [1.0, 12.0], "'mapping.r_range'"),
    ],
)
def test_config_checked_against_the_data(scan, tmp_path, capsys, section, key, value, match):
    path, config = scan
    cfg = batch.tomllib.loads(CONFIG)
    cfg[section][key] = value
    with pytest.raises(batch.ConfigError, match=match):
        import hyperspy.api as hs

        batch.plan(hs.load(path, lazy=True), batch.load_config(cfg))
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.replace("npt = 64", "npt = 1"))
    assert main(["process", str(path), "--config", str(bad), "--out", str(tmp_path)]) == 2
    assert "'integration.npt' must be an integer 0 (one bin per pixel) or in 2–8192; got 1" in (
        capsys.readouterr().err)


def test_uncalibrated_scan_needs_calibration():
    synth = data.two_phase_composite(nav_shape=(2, 2), detector_shape=(32, 32))
    sig = synth.signal.deepcopy()
    for ax in sig.axes_manager.signal_axes:
        ax.units = "px"
    with pytest.raises(batch.ConfigError, match="add a \\[calibration\\] section"):
        batch.plan(sig, batch.load_config({"chain": {"composition": "SiO2"}}))
    cfg = batch.load_config({"chain": {"composition": "SiO2", "s_range": [0.3, 0.5],
                                       "s_min": 0.1},
                             "calibration": {"s_per_pixel": 0.04}})
    assert any("0.04 Å⁻¹/pixel" in line for line in batch.plan(sig, cfg))
