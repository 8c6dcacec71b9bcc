"""structure.model_pdfs on files and tuples: clusters get their own density, bad files a clear error."""

import numpy as np
import pytest

from pyxem_epdf import data, structure

A_NI = 3.524
FCC = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])


@pytest.fixture
def ni_ball():
    k = np.arange(-4, 5)
    cells = np.stack(np.meshgrid(k, k, k, indexing="ij"), -1).reshape(-1, 1, 3)
    xyz = ((cells + FCC[None]) * A_NI).reshape(-1, 3)
    return xyz[np.linalg.norm(xyz - 0.01, axis=1) < 10.0]


def _write_xyz(path, xyz, elements, counted=True):
    rows = [f"{e} {x:.6f} {y:.6f} {z:.6f}" for e, (x, y, z) in zip(elements, xyz, strict=True)]
    head = [str(len(rows)), "Ni cluster"] if counted else []
    path.write_text("\n".join(head + rows) + "\n", encoding="utf-8")


@pytest.mark.parametrize("counted", [True, False])
def test_xyz_file_and_tuple_give_the_same_cluster_pdf(tmp_path, ni_ball, counted):
    els = ["Ni"] * len(ni_ball)
    path = tmp_path / "cluster.xyz"
    _write_xyz(path, ni_ball, els, counted)
    from_file, partials = structure.model_pdfs(path, r_max=8.0)
    from_tuple, _ = structure.model_pdfs((ni_ball, els), r_max=8.0)
    np.testing.assert_allclose(from_file.data, from_tuple.data, atol=1e-9)
    model = from_file.metadata.ePDF.model
    assert model.periodic is False
    assert model.density == pytest.approx(4 / A_NI**3, rel=0.02)  # not 200 atoms/Å³
    assert -20 < from_file.data.min() and from_file.data.max() < 60
    np.testing.assert_allclose(partials.data.sum(0), from_file.data)


def test_crystal_cif_stays_periodic():
    total, _ = structure.model_pdfs(data.zif4_files()["glass_cif"], r_max=6.0)
    model = total.metadata.ePDF.model
    assert model.periodic is True
    assert model.density == pytest.approx(272 / (15.42 * 15.40 * 18.44), rel=0.05)


def test_missing_and_corrupt_files(tmp_path):
    missing = tmp_path / "nowhere" / "cluster.xyz"
    with pytest.raises(FileNotFoundError, match="cluster.xyz"):
        structure.model_pdfs(missing)
    with pytest.raises(FileNotFoundError, match="model.cif"):
        structure.model_pdfs(str(tmp_path / "model.cif"))
    empty = tmp_path / "empty.cif"
    empty.write_text("data_empty\n_cell_length_a 5\n_cell_length_b 5\n_cell_length_c 5\n"
                     "_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n")
    with pytest.raises(ValueError, match="empty.cif"):
        structure.model_pdfs(empty)
    junk = tmp_path / "junk.cif"
    junk.write_text("garbage here\nnot a cif\n")
    with pytest.raises(ValueError, match="junk.cif"):
        structure.model_pdfs(junk)
    bad = tmp_path / "bad.xyz"
    bad.write_text("3\ncomment\nNi 0 0 0\nNi 2.5 zero 0\nNi 0 2.5 0\n")
    with pytest.raises(ValueError, match="bad.xyz, line 4"):
        structure.model_pdfs(bad)
    short = tmp_path / "short.xyz"
    short.write_text("3\ncomment\nNi 0 0 0\nNi 2.5 0 0\n")
    with pytest.raises(ValueError, match="announces 3 atoms"):
        structure.model_pdfs(short)


def test_tuple_errors(ni_ball):
    with pytest.raises(ValueError, match="shape \\(n, 3\\)"):
        structure.model_pdfs((ni_ball[:, :2], ["Ni"] * len(ni_ball)))
    with pytest.raises(ValueError, match="elements"):
        structure.model_pdfs((ni_ball, ["Ni"]))
    with pytest.raises(TypeError, match="'structure'"):
        structure.model_pdfs(42)
