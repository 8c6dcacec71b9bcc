"""fit_scattering's default c_pool: one C/N per integrated scan; real signals, lazy == eager."""

import warnings

import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf.physics import fit

COMP = "ZnC4H6N2"


@pytest.fixture(scope="module")
def scan():
    synth = epdf.data.two_phase_composite(nav_shape=(6, 5), detector_shape=(64, 64),
                                          s_scale=0.09, dose=10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ri = epdf.azimuthal_profile(synth.signal, subpixel=1)
    return synth, ri


def _fit(ri, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few counts in the window
        return ri.fit_scattering(COMP, (1.6, 2.5), **kw)


def _history(sig):
    return [v for v in sig.metadata.ePDF.history.as_dictionary().values()
            if v["method"] == "fit_scattering"][-1]["parameters"]


def test_default_pools_an_integrated_scan(scan):
    _, ri = scan
    phi = _fit(ri)
    md = phi.metadata.ePDF.fit
    assert _history(phi)["c_pool"] == fit.C_POOL == "scan"
    assert np.all(md.pooled.data)
    kappa = np.asarray(md.C_over_N.data)
    np.testing.assert_allclose(kappa, kappa.flat[0])
    np.testing.assert_allclose(md.C.data, kappa * md.N.data, rtol=1e-12, atol=1e-15)
    free = _fit(ri, c_pool=1)
    assert _history(free)["c_pool"] == 1 and not np.any(free.metadata.ePDF.fit.pooled.data)
    # the pooled N spreads less around the scan's thickness trend than the free one
    assert np.std(np.log(md.N.data)) <= np.std(np.log(free.metadata.ePDF.fit.N.data))


def test_lazy_equals_eager(scan):
    _, ri = scan
    eager = _fit(ri)
    lazy = _fit(ri.as_lazy())
    assert lazy._lazy
    lazy.compute()
    np.testing.assert_allclose(lazy.data, eager.data, rtol=1e-10, atol=1e-12)
    for key in ("N", "C", "N_std", "C_over_N"):
        np.testing.assert_allclose(np.asarray(lazy.metadata.ePDF.fit[key].data),
                                   np.asarray(eager.metadata.ePDF.fit[key].data), rtol=1e-10)


def test_get_pdf_uses_the_same_fit(scan):
    _, ri = scan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pdf = ri.get_pdf(COMP, (1.6, 2.5))
    np.testing.assert_allclose(pdf.metadata.ePDF.fit.N.data, _fit(ri).metadata.ePDF.fit.N.data)
    assert _history(pdf)["c_pool"] == "scan"


def test_profiles_from_elsewhere_and_regions_fit_alone(scan):
    _, ri = scan
    profile = epdf.data.example_profile()  # a measured profile: no integration metadata
    assert _history(profile.fit_scattering("SiO2", (1.6, 2.5)))["c_pool"] == 1
    regions = ri.sum_regions([np.ones((6, 5), bool), np.eye(6, 5, dtype=bool)])
    assert _history(_fit(regions))["c_pool"] == 1


def test_bad_c_pool(scan):
    _, ri = scan
    with pytest.raises(ValueError, match="'c_pool' must be 'scan', 'affine' or an odd integer"):
        ri.fit_scattering(COMP, (1.6, 2.5), c_pool=2)


def test_affine_pool_recovers_a_dark_offset(scan):
    # a uniform dark offset (half the median intensity on the window) added to every
    # profile: C = a + κN with a scan-wide a absorbs it exactly, and records a in metadata.ePDF.fit.C_offset; lazy == eager
    synth, ri = scan
    s = ri.axes_manager.signal_axes[0].axis
    win = (s >= 1.6) & (s <= 2.5)
    offset = 0.5 * float(np.median(np.asarray(ri.data)[..., win]))
    shifted = ri._deepcopy_with_new_data(ri.data + offset)
    shifted.metadata.set_item("ePDF.integration", ri.metadata.ePDF.integration)
    ref = _fit(ri, c_pool="affine").metadata.ePDF.fit
    out = _fit(shifted, c_pool="affine")
    md = out.metadata.ePDF.fit
    assert _history(out)["c_pool"] == "affine"
    # the same N as without the offset, to the noise (the offset is absorbed by a)
    np.testing.assert_allclose(md.N.data, ref.N.data, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(md.C_offset.data) - np.asarray(ref.C_offset.data),
                               offset, rtol=1e-6)
    lazy = _fit(shifted.as_lazy(), c_pool="affine")
    lazy.compute()
    np.testing.assert_allclose(lazy.data, out.data, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(lazy.metadata.ePDF.fit.C_offset.data),
                               np.asarray(md.C_offset.data), rtol=1e-10)


@pytest.mark.parametrize("c_pool", [None, 1, "scan"])
def test_get_pdf_passes_c_pool_and_records_it(scan, c_pool):
    _, ri = scan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pdf = ri.get_pdf(COMP, (1.6, 2.5), c_pool=c_pool, r_max=8.0)
        steps = (_fit(ri, c_pool=c_pool).polynomial_correct().damp_exponential(
            pdf.metadata.ePDF.damping.b).extrapolate_low_s(pdf.metadata.ePDF.s_min)
            .to_pdf(r_max=8.0))
    used = fit.C_POOL if c_pool is None else c_pool
    assert pdf.metadata.ePDF.fit.c_pool == used
    assert pdf.metadata.ePDF.fit.C_over_N.metadata.General.title == "C/N (pooled)"
    np.testing.assert_allclose(pdf.data, steps.data, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(pdf.metadata.ePDF.fit.N.data, steps.metadata.ePDF.fit.N.data)
