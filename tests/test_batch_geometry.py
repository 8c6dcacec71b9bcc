"""Batch command with a [geometry] section: distortion fit, beam stop and detector gaps from the data."""

import json

import hyperspy.api as hs
import numpy as np
import pytest

from pyxem_epdf import batch, data
from pyxem_epdf.cli import main

from .conftest import ComputeCounter

RATIO, ANGLE = 1.02, 30.0


def _config(synth, **geometry):
    return {"chain": {"composition": data.average_composition(synth), "fix_c": True,
                      "r_max": 8.0, "r_step": 0.05},
            "integration": {"npt": 32, "s_max": 2.4},
            "mapping": {"n_components": 2},
            "geometry": geometry}


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    """4 × 4 scan, 64² detector, 2 % ellipticity at 30°, rod beam stop, saved and read back.

    The dose is raised to 2000 e⁻/Å² so that 16 patterns hold enough counts for
    the fit (at the paper's 10 e⁻/Å² a 4 × 4 scan has ~2 counts per pixel summed).
    """
    synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(64, 64), s_scale=0.08,
                                     dose=2000.0, distortion=(RATIO, ANGLE),
                                     beam_stop=(5.0, 3.0, 90.0))
    path = tmp_path_factory.mktemp("geom") / "scan.zspy"
    synth.signal.save(path)
    return synth, path


@pytest.fixture(scope="module")
def processed(scan, tmp_path_factory):
    synth, path = scan
    cfg = _config(synth, distortion="fit", beam_stop="auto")
    cfg["chain"]["s_min"] = 0.45  # above the beam stop (its rings hold no pixel)
    out = tmp_path_factory.mktemp("geom_out") / "out"
    # the integration says which rings the beam stop covers entirely
    with pytest.warns(UserWarning, match="hold no valid pixel"):
        batch.process(hs.load(path, lazy=True), batch.load_config(cfg), out, source=path,
                      show_progressbar=False)
    return json.loads((out / "provenance.json").read_text()), out


def test_fitted_distortion_in_provenance(processed):
    prov, _ = processed
    fit = prov["geometry"]["distortion"]
    assert abs(fit["axis_ratio"] / RATIO - 1) < 0.005
    assert abs(fit["angle_deg"] - ANGLE) < 5
    assert 0 < fit["axis_ratio_std"] < 0.005 and fit["angle_std_deg"] > 0
    assert fit["s_range"] == [batch.GEOMETRY_S_MIN, pytest.approx(0.95 * 2.52, abs=1e-6)]
    assert "geometry" in prov["stage_seconds"]
    assert any(line.startswith("geometry") for line in prov["plan"])


def test_distortion_applied_in_integration(processed):
    prov, out = processed
    pdf = hs.load(out / "pdf_cube.zspy")
    # square pixels, positive steps: the calibrated-axes matrix is the pixel-frame one
    a = np.array(pdf.metadata.get_item("ePDF.integration.distortion"))
    np.testing.assert_allclose(a, prov["geometry"]["distortion"]["matrix"], atol=1e-12)


def test_centres_from_the_rings_replace_descan(processed, scan):
    """With a found beam stop, geometry.center = "auto" is "rings": the centre track feeds the
    integration (no descan stage), recorded in provenance and in the PDF cube's metadata."""
    synth, _ = scan
    prov, out = processed
    cen = prov["geometry"]["center"]
    assert cen["method"] == "rings" and cen["navigation_binning"] == 2  # 4 × 4 scan → 2 × 2 blocks
    truth = np.array(synth.parameters.center[::-1], float)  # (x, y) px, no drift
    np.testing.assert_allclose(cen["sum_center_px"], truth, atol=0.1)
    assert "descan" not in prov["stage_seconds"]
    assert any("descan correction: no (geometry.center = 'rings')" in line
               for line in prov["plan"])
    pdf = hs.load(out / "pdf_cube.zspy")
    centres = np.asarray(pdf.metadata.ePDF.geometry.centers_px)
    assert centres.shape == (4, 4, 2) and np.abs(centres - truth).max() < 0.2
    assert pdf.metadata.ePDF.geometry.center.method == "rings"
    history = [h for h in pdf.metadata.ePDF.history.as_dictionary().values()
               if h["method"] == "azimuthal_profile"]
    assert history and history[0]["parameters"]["beam_shift"] == "per-pattern"


def test_geometry_figure_and_report_section(processed):
    prov, out = processed
    assert (out / "geometry.png").stat().st_size > 10_000
    assert any(e.endswith("geometry.png") for e in prov["manifest"]["files"])
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "<h2>Geometry</h2>" in text and 'alt="geometry"' in text
    assert "pattern centres</td><td class=l>rings; scan-sum centre" in text


def test_center_method_resolution_and_band():
    base = {"chain": {"composition": "SiO2"}}
    resolved = {
        (): "descan", (("beam_stop", "auto"),): "rings", (("center", "sum"),): "sum",
        (("center", "none"),): "none", (("beam_stop", "auto"), ("center", "descan")): "descan",
    }
    for geometry, method in resolved.items():
        cfg = batch.load_config({**base, "geometry": dict(geometry)})
        assert batch._center_method(cfg) == method, geometry
    cfg = batch.load_config({**base, "integration": {"descan": False}})
    assert batch._center_method(cfg) == "none"
    # the ring band is accepted for ring centres alone
    cfg = batch.load_config({**base, "geometry": {"center": "rings", "s_range": [0.3, 2.0]}})
    assert cfg["geometry"]["s_range"] == [0.3, 2.0]
    with pytest.raises(batch.ConfigError, match="'geometry.center' must be \"auto\" or "):
        batch.load_config({**base, "geometry": {"center": "ring"}})


def test_beam_stop_pixels_in_mask(processed, scan):
    synth, _ = scan
    prov, _ = processed
    truth = int(synth.parameters.beam_stop_mask.sum())
    stop = prov["geometry"]["beam_stop"]
    assert stop["pixels"] >= truth
    assert prov["mask"]["total"] >= truth
    assert prov["mask"]["total"] == prov["geometry"]["masked_pixels"]
    assert prov["mask"]["geometry_beam_stop"] == stop["new_pixels"] > 0


def test_given_distortion_and_detector_gaps(tmp_path):
    synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(256, 256),
                                     s_scale=0.02)
    path = tmp_path / "scan.zspy"
    synth.signal.save(path)
    cfg = _config(synth, distortion=[1.01, 45.0], detector="medipix")
    cfg["integration"] = {"npt": 32, "s_max": 2.4}
    out = tmp_path / "out"
    batch.process(hs.load(path, lazy=True), batch.load_config(cfg), out, source=path,
                  show_progressbar=False)
    prov = json.loads((out / "provenance.json").read_text())
    geo = prov["geometry"]
    assert geo["distortion"]["method"] == "given" and geo["distortion"]["axis_ratio"] == 1.01
    assert geo["detector"] == {"name": "medipix", "gap_pixels": 0, "new_pixels": 0}
    # a detector layout that does not fit the scan's detector is refused before any output
    cfg["geometry"] = {"detector": "merlin_quad"}
    with pytest.raises(batch.ConfigError, match="'geometry.detector' = 'merlin_quad'.*515"):
        batch.process(hs.load(path, lazy=True), batch.load_config(cfg), tmp_path / "o2",
                      show_progressbar=False)
    assert not (tmp_path / "o2").exists()


@pytest.mark.parametrize("geometry, match", [
    ({"distortion": "fitt"}, "'geometry.distortion' must be \"fit\", \"standard\" or .*got 'fitt'"),
    ({"distortion": [0.9, 30.0]}, "'geometry.distortion' must be .*1 <= axis_ratio <= 2"),
    ({"beam_stop": True}, "'geometry.beam_stop' must be \"auto\".*got True"),
    ({"detector": "merlin_octo"}, "'geometry.detector' must be a detector name: .*merlin_quad"),
    ({"distortion": "fit", "s_range": [2.0, 1.0]},
     "'geometry.s_range' must be a pair .*got \\[2.0, 1.0\\]"),
    ({"s_range": [0.3, 2.0]}, "'geometry.s_range' = \\[0.3, 2.0\\] .* needs geometry.distortion"),
    ({"centre": 1}, "Unknown key 'geometry.centre'"),
])
def test_bad_values_name_the_key(geometry, match):
    raw = {"chain": {"composition": "SiO2"}, "geometry": geometry}
    with pytest.raises(batch.ConfigError, match=match):
        batch.load_config(raw)


def test_dry_run_lists_the_step_computing_nothing(scan, tmp_path, capsys):
    synth, path = scan
    config = tmp_path / "config.toml"
    config.write_text(
        '[chain]\ncomposition = "Zn(C3H3N2)2"\n'
        "r_max = 8.0\nr_step = 0.05\n[integration]\nnpt = 32\n"
        '[geometry]\ndistortion = "fit"\ns_range = [0.4, 2.2]\nbeam_stop = "auto"\n')
    with ComputeCounter() as counter:
        code = main(["process", str(path), "--config", str(config), "--out",
                     str(tmp_path / "out"), "--dry-run"])
    assert code == 0 and counter.runs == 0
    text = capsys.readouterr().out
    assert ("geometry (one scan sum with the mask): beam stop found on the scan sum; "
            "elliptical distortion fitted on the scan sum over s 0.4–2.2 Å⁻¹; pattern centres "
            "from the rings of every pattern over s 0.4–2.2 Å⁻¹") in text
    assert "descan correction: no (geometry.center = 'rings')" in text
    # checked without data: a band beyond the detector corner
    cfg = batch.load_config({"chain": {"composition": "SiO2"},
                             "geometry": {"distortion": "fit", "s_range": [0.3, 4.0]}})
    with pytest.raises(batch.ConfigError, match="'geometry.s_range' = \\[0.3, 4.0\\] reaches"):
        batch.plan(hs.load(path, lazy=True), cfg)
    # the same check for the ring centres alone (the run would fit rings there too)
    cfg = batch.load_config({"chain": {"composition": "SiO2"},
                             "geometry": {"center": "rings", "s_range": [0.3, 4.0]}})
    with pytest.raises(batch.ConfigError, match="'geometry.s_range' = \\[0.3, 4.0\\] reaches"):
        batch.plan(hs.load(path, lazy=True), cfg)
    assert not (tmp_path / "out").exists()


def test_standard_keys_are_validated(tmp_path):
    base = {"chain": {"composition": "SiO2"}}
    missing = tmp_path / "nope.hspy"
    with pytest.raises(batch.ConfigError, match="'calibration.standard' must be an existing .*nope.hspy.*no such"):
        batch.load_config({**base, "calibration": {"standard": str(missing)}})
    au = tmp_path / "au.hspy"
    data.gold_standard(detector_shape=(64, 64), s_scale=0.08).signal.save(au)
    with pytest.raises(batch.ConfigError, match="must not be combined with \\['s_per_pixel'\\]"):
        batch.load_config({**base, "calibration": {"standard": str(au), "s_per_pixel": 0.04}})
    with pytest.raises(batch.ConfigError, match="'calibration.lattice_parameter_A' needs 'calibration.standard'"):
        batch.load_config({**base, "calibration": {"lattice_parameter_A": 4.05}})
    with pytest.raises(batch.ConfigError, match="\"standard\" needs 'calibration.standard'"):
        batch.load_config({**base, "geometry": {"distortion": "standard"}})
    # a relative path is relative to the configuration file
    (tmp_path / "c.toml").write_text('[calibration]\nstandard = "au.hspy"\n'
                                     '[chain]\ncomposition = "SiO2"\n', encoding="utf-8")
    cfg = batch.load_config(tmp_path / "c.toml")
    assert cfg["calibration"]["standard"] == str(au.resolve())
    # the standard must share the scan's detector; checked by the dry run (plan)
    scan = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(32, 32), s_scale=0.16)
    with pytest.raises(batch.ConfigError, match="has a \\(64, 64\\) detector; it must be the "
                                                "scan's, \\(32, 32\\)"):
        batch.plan(scan.signal, cfg)


def test_distortion_refitted_on_the_drift_corrected_sum(tmp_path):
    # 4 px of drift along x smears the plain scan sum's rings (its fitted angle is
    # ~7° off on this composite); with ring centres the batch refits the ellipse
    # on the sum with every pattern about its own centre
    synth = data.composite(distortion=(RATIO, ANGLE), beam_stop=(6, 3, 90.0),
                           descan=(4.0, 0.0), seed=0)
    cfg = _config(synth, distortion="fit", beam_stop="auto")
    cfg["integration"] = {"npt": 60}
    cfg["chain"].update(s_min=0.45, weights="none")  # 10 e/Å²: empty high-s bins
    with pytest.warns(UserWarning, match="hold no valid pixel"):
        batch.process(synth.signal, batch.load_config(cfg), tmp_path / "out",
                      show_progressbar=False)
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    fit = prov["geometry"]["distortion"]
    assert prov["geometry"]["center"]["method"] == "rings"
    assert max(prov["geometry"]["center"]["track_range_px"]) > batch.DRIFT_REFIT_PX
    assert "drift-corrected" in fit["method"]
    plain = fit["plain_sum"]
    assert abs(fit["angle_deg"] - ANGLE) < abs(plain["angle_deg"] - ANGLE)
    assert abs(fit["angle_deg"] - ANGLE) < 3 * fit["angle_std_deg"] + 1.0
    assert abs(fit["axis_ratio"] - RATIO) < 3 * fit["axis_ratio_std"] + 0.001
