"""Our own outputs are verified: a .zspy with deleted chunk files must not pass as zeros.

Real ``batch.process`` runs on a tiny scan (4 × 4 positions, 32 × 32 patterns),
real files damaged in ``tmp_path``, the real ``pyxem-epdf`` entry point.
"""

import hashlib
import json
import shutil
from pathlib import Path

import hyperspy.api as hs
import numpy as np
import pytest

from pyxem_epdf import batch, data
from pyxem_epdf.cli import main


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    """One complete result folder (never damaged: tests copy it)."""
    synth = data.two_phase_composite(nav_shape=(4, 4), detector_shape=(32, 32), s_scale=0.16)
    cfg = batch.load_config({
        "chain": {"composition": data.average_composition(synth), "s_range": [1.4, 2.3],
                  "s_min": 0.2, "r_max": 8.0, "r_step": 0.05, "fix_c": True},
        "integration": {"npt": 24},
        "mapping": {"r_range": [1.0, 6.0], "n_components": 2},
    })
    out = tmp_path_factory.mktemp("run") / "result"
    batch.process(synth.signal, cfg, out, show_progressbar=False)
    return out


@pytest.fixture
def copy(result, tmp_path):
    target = tmp_path / "result"
    shutil.copytree(result, target)
    return target


def cube_chunks(folder):
    """The chunk files of the G(r) array of pdf_cube.zspy (not the metadata arrays)."""
    (array,) = [p.parent for p in (folder / "pdf_cube.zspy").glob("Experiments/*/data/.zarray")]
    return sorted(p for p in array.rglob("*") if p.is_file() and not p.name.startswith("."))


def test_manifest_lists_every_written_file_with_size_and_digest(result):
    manifest = json.loads((result / "provenance.json").read_text())["manifest"]
    assert manifest["algorithm"] == "sha256"
    on_disk = sorted(p.relative_to(result).as_posix() for p in result.rglob("*")
                     if p.is_file() and p.name != "provenance.json")
    assert sorted(manifest["files"]) == on_disk
    assert len(on_disk) > 100  # each file inside the .zspy stores, not one entry per store
    for rel in on_disk:
        content = (result / rel).read_bytes()
        assert manifest["files"][rel] == {"bytes": len(content),
                                          "sha256": hashlib.sha256(content).hexdigest()}
    for name in ("report.html", "pdf_cube.zspy/.zgroup", "loadings.csv", "component_0.gr"):
        assert name in manifest["files"]


def test_intact_folder_verifies(result, capsys):
    report = batch.verify_output(result)
    n = len(json.loads((result / "provenance.json").read_text())["manifest"]["files"])
    assert report.startswith(f"'{result}' is intact: {n} files")
    assert main(["verify", str(result)]) == 0
    assert "is intact" in capsys.readouterr().out


def test_deleted_chunk_loads_as_zeros_but_is_named_by_verify(copy, capsys):
    (chunk,) = cube_chunks(copy)  # the tiny cube is one chunk
    assert np.abs(hs.load(copy / "pdf_cube.zspy").data).max() > 0
    chunk.unlink()
    # the failure this guards against: zarr fills the missing chunk silently
    assert np.all(hs.load(copy / "pdf_cube.zspy").data == 0)
    rel = chunk.relative_to(copy).as_posix()
    with pytest.raises(ValueError, match=r"damaged \(1 problem\)") as info:
        batch.verify_output(copy)
    assert f"{rel} is missing: the chunk would load as zeros" in str(info.value)
    assert info.value.problems == [
        f"{rel} is missing: the chunk would load as zeros (fill value 0.0) without an error"]
    capsys.readouterr()
    assert main(["verify", str(copy)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"pyxem-epdf: error: {copy}: {info.value.problems[0]}"]


def test_every_problem_is_one_line(copy, capsys):
    (chunk,) = cube_chunks(copy)
    chunk.write_bytes(chunk.read_bytes()[::-1])  # same size, other bytes
    (copy / "loadings.csv").write_text("edited\n")
    (copy / "scree.png").unlink()
    (copy / "notes.txt").write_text("added later: not checked")
    with pytest.raises(ValueError, match=r"damaged \(3 problems\)") as info:
        batch.verify_output(copy)
    problems = info.value.problems
    names = ["loadings.csv", chunk.relative_to(copy).as_posix(), "scree.png"]
    assert len(problems) == 3
    assert all(p.startswith(name + " ") for p, name in zip(problems, names, strict=True))
    assert "has changed: 7 bytes, the manifest records" in problems[0]
    assert "the chunk's data differ from what was written (SHA-256 mismatch" in problems[1]
    assert problems[2] == "scree.png is missing"
    assert main(["verify", str(copy)]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 3


def test_paths_limit_the_check(copy):
    (copy / "scree.png").unlink()
    report = batch.verify_output(copy, paths=["pdf_cube.zspy"])
    assert "of pdf_cube.zspy" in report
    with pytest.raises(ValueError, match="scree.png is missing"):
        batch.verify_output(copy)
    with pytest.raises(ValueError, match="other.zspy is not in the manifest"):
        batch.verify_output(copy, paths=["other.zspy"])


@pytest.mark.parametrize("damage, message", [
    ("no_folder", "does not exist"),
    ("no_provenance", "provenance.json is missing"),
    ("incomplete", r"the run did not complete \(status: running\)"),
    ("no_manifest", "has no manifest"),
])
def test_unverifiable_folders_are_refused(copy, capsys, damage, message):
    prov_path = copy / "provenance.json"
    prov = json.loads(prov_path.read_text())
    target = copy
    if damage == "no_folder":
        target = copy.parent / "elsewhere"
    elif damage == "no_provenance":
        prov_path.unlink()
    elif damage == "incomplete":
        prov.update(complete=False, status="running")
        prov_path.write_text(json.dumps(prov))
    else:
        del prov["manifest"]
        prov_path.write_text(json.dumps(prov))
    with pytest.raises(ValueError, match=message):
        batch.verify_output(target)
    assert main(["verify", str(target)]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1


CONFIG = """
[chain]
composition = "SiO2"
"""


def test_process_verifies_an_input_store_of_ours(copy, tmp_path, capsys):
    """A damaged store of our own is refused before it is read (not processed as zeros)."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    (chunk,) = cube_chunks(copy)
    chunk.unlink()
    out = tmp_path / "again"
    assert main(["process", str(copy / "pdf_cube.zspy"), "--config", str(config),
                 "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"pyxem-epdf: error: input '{copy / 'pdf_cube.zspy'}' is damaged")
    assert f"{chunk.relative_to(copy).as_posix()} is missing" in err[0]
    assert not out.exists()


def test_process_checks_an_intact_store_of_ours_then_reads_it(result, tmp_path, capsys):
    """Intact: verification passes and the usual input check runs (a G(r) cube is no scan)."""
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    assert main(["process", str(result / "pdf_cube.zspy"), "--config", str(config),
                 "--out", str(tmp_path / "again"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "holds a PDF1DPlus" in err and "damaged" not in err
    assert Path(result / "pdf_cube.zspy").is_dir()


def test_demo_result_verifies_with_its_extra_figure(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", str(out), "--scan-shape", "2", "2", "--eager", "--no-progress"]) == 0
    files = json.loads((out / "provenance.json").read_text())["manifest"]["files"]
    assert "truth.png" in files and "report.html" in files
    capsys.readouterr()
    assert main(["verify", str(out)]) == 0
    (out / "truth.png").unlink()
    assert main(["verify", str(out)]) == 2
    assert capsys.readouterr().err == f"pyxem-epdf: error: {out}: truth.png is missing\n"
