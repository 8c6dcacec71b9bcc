"""A published single-pattern result reproduced from its own parameters (issue 17, item 4).

ePDFpy (GWlab-SKKU, GPL-3.0) ships the output of its Ta2O5 test pattern: the azimuthal
average, the parameters (fixed N, Kirkland factors, damping) and its G(r). Our chain with
those parameters and ePDFpy's own definitions must give the same G(r):

- C from the one sample at ``fit_at_q`` (ePDFpy: C = I(s_fit) − N⟨f²⟩(s_fit)): a fixed-N fit
  whose only non-zero weight is that sample;
- φ = 0 outside ePDFpy's pixel range and a rectangle sum (not our line from φ(s_0) to 0 below
  the first sample): φ on the grid from s = 0 with zeros outside the range, which makes our
  trapezoid weights Δs at every non-zero sample.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from hyperspy.signals import Signal1D

import pyxem_epdf as epdf

HERE = Path(__file__).parent / "data" / "epdfpy_ta2o5"


@pytest.fixture(scope="module")
def published():
    preset = json.loads((HERE / "Test data_Ta.preset.json").read_text())
    q_table = np.genfromtxt(HERE / "Test data_Ta.q.csv", delimiter=",", skip_header=1)
    gr = np.loadtxt(HERE / "Test data_Ta.r.csv", delimiter=",", skiprows=1)
    return preset, q_table, gr


def _profile(preset, q_table):
    ds = preset["ds"]
    n = preset["pixel_end_n"] + 2  # one zero sample after the range: rectangle = trapezoid
    s = np.arange(q_table.shape[0]) * ds
    np.testing.assert_allclose(s, q_table[:, 0] / (2 * np.pi), rtol=1e-12)
    sig = Signal1D(q_table[:n, 1].copy(),
                   axes=[{"name": "s", "units": "Å^-1", "offset": 0.0, "scale": ds, "size": n}])
    return epdf.signals.from_profile(sig, bin_position="center"), s[:n]


def _composition(preset):
    symbols = {73: "Ta", 8: "O"}
    nums, ratio = preset["element_nums"], preset["element_ratio"]
    total = sum(x for z, x in zip(nums, ratio, strict=True) if z)
    return {symbols[z]: x / total for z, x in zip(nums, ratio, strict=True) if z}


def _phi(preset, q_table, *, single_sample_c=True):
    ri, s = _profile(preset, q_table)
    ds = preset["ds"]
    s_fit = preset["fit_at_q"] / (2 * np.pi)
    j = int(np.argmin(np.abs(s - s_fit)))
    assert abs(s[j] - s_fit) < 1e-9
    window = (s[j] - ds / 2, s[j] + 1.5 * ds)  # samples j, j + 1 (the fit needs two)
    weights = np.zeros(s.size)
    weights[j] = 1.0  # ePDFpy's C: the single sample at fit_at_q
    phi = ri.fit_scattering(_composition(preset), window, table=preset["scattering_factor"].lower(),
                            N=preset["N"], weights=weights if single_sample_c else None)
    phi = phi.damp_exponential(preset["damping"])
    outside = (np.arange(s.size) < preset["pixel_start_n"]) | (np.arange(s.size) > preset["pixel_end_n"])
    phi.data[outside] = 0.0  # ePDFpy's φ is defined on its pixel range only
    return phi


def test_epdfpy_ta2o5_g_reproduced_from_its_own_parameters(published):
    preset, q_table, gr = published
    phi = _phi(preset, q_table)
    assert phi.metadata.ePDF.fit.N_fixed is True
    rng = slice(preset["pixel_start_n"], preset["pixel_end_n"] + 1)
    # φ and the damped φ equal ePDFpy's columns (Kirkland factors, N, C, damping all agree)
    np.testing.assert_allclose(phi.data[rng], q_table[rng, 4], rtol=1e-9, atol=1e-12)
    pdf = phi.to_pdf(r_min=preset["dr"], r_max=preset["rmax"], r_step=preset["dr"])
    r = pdf.axes_manager.signal_axes[0].axis
    np.testing.assert_allclose(r, gr[:, 0], atol=1e-9)
    corr = np.corrcoef(pdf.data, gr[:, 1])[0, 1]
    assert corr >= 0.999
    np.testing.assert_allclose(pdf.data, gr[:, 1], rtol=0, atol=1e-9 * np.abs(gr[:, 1]).max())


def test_epdfpy_c_window_and_low_s_definitions_matter(published):
    preset, q_table, gr = published
    # C as our mean over the two-sample window instead of ePDFpy's single sample: still ≥ 0.999
    pdf2 = _phi(preset, q_table, single_sample_c=False).to_pdf(
        r_min=preset["dr"], r_max=preset["rmax"], r_step=preset["dr"])
    corr2 = np.corrcoef(pdf2.data, gr[:, 1])[0, 1]
    assert 0.999 <= corr2 < 0.99999
    # our own low-s definition (φ linear from φ(s_0) to 0 below the first sample) is not ePDFpy's:
    # transforming the cropped φ differs clearly, so the comparison above can fail
    phi = _phi(preset, q_table)
    cropped = phi.isig[preset["pixel_start_n"]:preset["pixel_end_n"] + 1]
    pdf3 = cropped.to_pdf(r_min=preset["dr"], r_max=preset["rmax"], r_step=preset["dr"])
    assert np.corrcoef(pdf3.data, gr[:, 1])[0, 1] < 0.99
