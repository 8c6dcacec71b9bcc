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
    ({"distortion": "fitt"}, "'geometry.distortion' must be \"fit\" or .*got 'fitt'"),
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
            "elliptical distortion fitted on the scan sum over s 0.4–2.2 Å⁻¹") in text
    # checked without data: a band beyond the detector corner
    cfg = batch.load_config({"chain": {"composition": "SiO2"},
                             "geometry": {"distortion": "fit", "s_range": [0.3, 4.0]}})
    with pytest.raises(batch.ConfigError, match="'geometry.s_range' = \\[0.3, 4.0\\] reaches"):
        batch.plan(hs.load(path, lazy=True), cfg)
    assert not (tmp_path / "out").exists()
