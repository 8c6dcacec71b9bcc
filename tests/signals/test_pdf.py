"""PDF1DPlus: first-peak normalisation and sub-grid peak positions."""

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf.physics.models import gaussian_peaks_pdf
from pyxem_epdf.signals import LazyPDF1DPlus, PDF1DPlus

CENTERS = np.array([1.537, 2.618, 3.9])


def make_pdf(nav_shape=(2, 3), lazy=False, r_step=0.05):
    """Gaussian-peak G(r) whose peak heights scale with a random factor per pixel."""
    r = np.arange(0, 8, r_step)
    rng = np.random.default_rng(1)
    scale = rng.uniform(0.5, 2.0, nav_shape)
    g = gaussian_peaks_pdf(r, CENTERS, [1.0, 1.5, 1.0], [0.08, 0.1, 0.2])
    data = scale[..., None] * g
    sig = PDF1DPlus(data)
    ax = sig.axes_manager.signal_axes[0]
    ax.name, ax.units, ax.scale, ax.offset = "r", "Å", r_step, 0.0
    for i, nav in enumerate(sig.axes_manager.navigation_axes):
        nav.name, nav.units, nav.scale = "xy"[i], "nm", 2.0
    return sig.as_lazy() if lazy else sig


@pytest.mark.parametrize("nav_shape", [(), (4,), (2, 3)])
def test_normalize_first_peak_removes_scale(nav_shape):
    pdf = make_pdf(nav_shape)
    norm = pdf.normalize_first_peak(r_range=(1.0, 2.0))
    first = norm.isig[1.3:1.8].data.max(axis=-1)
    # the sub-grid (parabolic) height of the 0.05 Å-sampled peak is ≥ the grid max
    assert np.all((first > 0.98) & (first <= 1.0 + 1e-9))
    # all pixels identical after normalisation
    flat = norm.data.reshape(-1, norm.data.shape[-1])
    np.testing.assert_allclose(flat, flat[:1].repeat(len(flat), 0), atol=1e-12)
    assert norm.metadata.ePDF.normalization.kind == "first_peak"
    assert pdf.data.max() != pytest.approx(1.0)  # input untouched


def test_normalize_vacuum_gives_zero():
    pdf = make_pdf((3,))
    pdf.data[1] = 0.0
    norm = pdf.normalize_first_peak()
    assert np.all(norm.data[1] == 0) and np.all(np.isfinite(norm.data))


@pytest.mark.parametrize("r_step", [0.01, 0.05])
def test_find_peaks_subgrid(r_step):
    pdf = make_pdf((2, 2), r_step=r_step)
    pos, height = pdf.find_peaks(3, r_range=(1.0, 5.0))
    assert pos.data.shape == (2, 2, 3)
    np.testing.assert_allclose(pos.data, np.broadcast_to(CENTERS, (2, 2, 3)), atol=0.01)
    assert pos.axes_manager.navigation_axes[0].units == "nm"
    assert np.all(height.data > 0)


def test_find_peaks_fewer_than_requested_gives_nan():
    pos, _ = make_pdf(()).find_peaks(5, r_range=(1.0, 3.0))
    assert np.isfinite(pos.data[:2]).all() and np.isnan(pos.data[2:]).all()


def test_lazy_equals_eager():
    eager, lazy = make_pdf((3, 4)), make_pdf((3, 4), lazy=True)
    lazy.data = da.from_array(np.asarray(eager.data), chunks=(2, 2, -1))
    n_lazy = lazy.normalize_first_peak()
    pos_lazy, h_lazy = lazy.find_peaks(3)
    assert isinstance(n_lazy, LazyPDF1DPlus) and isinstance(pos_lazy.data, da.Array)
    n_lazy.compute()
    np.testing.assert_allclose(n_lazy.data, eager.normalize_first_peak().data, rtol=1e-12)
    pos, h = eager.find_peaks(3)
    np.testing.assert_allclose(pos_lazy.data.compute(), pos.data, rtol=1e-12)
    np.testing.assert_allclose(h_lazy.data.compute(), h.data, rtol=1e-12)


def test_inplace():
    pdf = make_pdf((2,))
    assert pdf.normalize_first_peak(inplace=True) is None
    first = pdf.isig[1.3:1.8].data.max(axis=-1)
    assert np.all((first > 0.98) & (first <= 1.0 + 1e-9))


def test_errors():
    pdf = make_pdf((2,))
    with pytest.raises(ValueError, match="'n_peaks' must be >= 1"):
        pdf.find_peaks(0)
    with pytest.raises(ValueError, match="r_range"):
        pdf.find_peaks(2, r_range=(9.0, 12.0))
    bad = hs.signals.Signal1D(np.ones(10))
    bad.set_signal_type("epdf_pdf")
    bad.axes_manager.signal_axes[0].units = "nm^-1"
    with pytest.raises(ValueError, match="r in Å"):
        bad.find_peaks(1)


def _blas_threads():
    from threadpoolctl import threadpool_info

    return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


@pytest.mark.parametrize("route", ["compute", "compute_all"])
def test_lazy_compute_runs_blas_on_one_thread_per_task(route):
    """Inside dask's tasks BLAS has one thread (no oversubscription); restored after."""
    before = _blas_threads()
    seen = []

    def record(block):
        seen.append(_blas_threads())
        return block

    pdf = epdf.data.example_pdf().as_lazy()
    pdf.data = da.map_blocks(record, pdf.data, meta=np.array((), dtype=pdf.data.dtype))
    if route == "compute":
        pdf.compute(show_progressbar=False)
    else:
        epdf.compute_all(pdf, show_progressbar=False)
    assert seen and all(s == {1} for s in seen)
    assert _blas_threads() == before
