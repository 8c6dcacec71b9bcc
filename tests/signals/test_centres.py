"""ring_center and find_centers: per-pattern centres with a rod beam stop, any navigation,
lazy (from a file) = eager."""

import hyperspy.api as hs
import numpy as np
import pytest

from pyxem_epdf import data
from pyxem_epdf.signals import calibration as scal
from pyxem_epdf.signals.scan import ring_center


@pytest.fixture(scope="module")
def scan():
    """6 x 6 composite at 40 e/Å², rod beam stop, drift; the truth and the stop mask."""
    synth = data.composite(nav_shape=(6, 6), beam_stop=(6, 3, 90.0), descan=(4.0, -3.0),
                           dose=40.0, seed=3)
    p = synth.parameters
    truth = np.array(p.center[::-1]) + p.beam_shifts
    mask, _ = scal.find_beam_stop(synth.signal)
    return synth.signal, truth, mask


def _rms(got, truth):
    return float(np.sqrt(((got - truth) ** 2).sum(-1).mean()))


@pytest.mark.parametrize("index", [(), (2,), (2, 3)])
def test_ring_center_any_navigation_in_pyxem_convention(scan, index):
    dp, truth, mask = scan
    # 0-D: one pattern; 1-D: one scan row; 2-D: the scan
    sub = dp.inav[index[::-1]] if len(index) == 2 else (dp.inav[:, index[0]] if index else dp)
    t = truth[index] if len(index) == 2 else (truth[index[0]] if index else truth)
    shift = ring_center(sub, (3, 40), mask=mask)
    assert type(shift).__name__ == "BeamShift"
    centre = np.array([64.0, 64.0]) - shift.data        # shift = n/2 − centre
    assert centre.shape == t.shape
    assert _rms(centre.reshape(-1, 2), t.reshape(-1, 2)) < 0.35   # 0.155 px rms expected
    md = shift.metadata.ePDF.descan
    assert md.r_range_px == [3.0, 40.0] and len(md.std_px_median) == 2
    assert 0.05 < md.std_px_median[0] < 0.3


def test_find_centers_refine_beats_the_grid_and_lazy_file_equals_eager(scan, tmp_path):
    dp, truth, mask = scan
    refined = scal.find_centers(dp, (3, 40), mask=mask)
    grid = scal.find_centers(dp, (3, 40), mask=mask, refine=False)
    assert refined.metadata.ePDF.centers.refine and not grid.metadata.ePDF.centers.refine
    assert "Fisher" in refined.metadata.ePDF.centers.method
    e_ref, e_grid = _rms(refined.data, truth), _rms(grid.data, truth)
    assert e_ref < 0.25 and e_grid > 1.4 * e_ref          # measured 0.16 vs 0.34 px
    path = tmp_path / "scan.hspy"
    dp.save(path)
    lazy = scal.find_centers(hs.load(path, lazy=True), (3, 40), mask=mask)
    assert lazy._lazy
    lazy.compute(show_progressbar=False)
    np.testing.assert_allclose(lazy.data, refined.data, atol=1e-10)
    # ring_center on the lazy file: the same centres, computed block by block
    shift = ring_center(hs.load(path, lazy=True), (3, 40), mask=mask, show_progressbar=False)
    np.testing.assert_allclose(64.0 - shift.data, refined.data, atol=0.02)
