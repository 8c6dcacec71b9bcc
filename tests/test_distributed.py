"""The lazy pipeline runs unchanged on a dask.distributed cluster (2 worker processes)."""

import dask
import distributed
import hyperspy.api as hs
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data


@pytest.fixture(scope="module")
def cluster():
    """One 2-process cluster for the module (starting one takes seconds)."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c:
        yield c


def pipeline(dp, composition, route):
    ri = epdf.azimuthal_profile(dp, npt=60, s_max=2.4)
    if route == "get_pdf":  # the one-pass chain: closures over the chain matrix go to the workers
        return ri.get_pdf(composition, (1.6, 2.35), b=0.8, s_min=0.18, weights="variance",
                          r_max=10, r_step=0.02)
    return (
        ri.fit_scattering(composition, (1.6, 2.35), weights="variance")
        .polynomial_correct()
        .damp_exponential(0.8)
        .extrapolate_low_s(0.18)
        .to_pdf(r_max=10, r_step=0.02)
    )


@pytest.mark.parametrize("route", ["steps", "get_pdf"])
def test_local_cluster_equals_threaded(route, cluster):
    synth = data.two_phase_composite(nav_shape=(6, 6), lazy=True, chunks=(3, 3), seed=7)
    composition = data.average_composition(synth)
    threaded = pipeline(synth.signal, composition, route)
    threaded.compute(show_progressbar=False)
    with distributed.Client(cluster):
        on_cluster = pipeline(synth.signal, composition, route)
        assert on_cluster._lazy
        on_cluster.compute(show_progressbar=False)
    np.testing.assert_allclose(on_cluster.data, threaded.data, rtol=1e-12, atol=1e-12)


def whole_route(path, composition):
    """The documented route from a lazy .zspy file: raw scan → fractions and component PDFs."""
    dp = hs.load(path, lazy=True)
    plane = epdf.signals.descan(dp, show_progressbar=False).plane
    ri = epdf.azimuthal_profile(dp, npt=30, s_max=2.4, beam_shift=plane)
    pdf = ri.get_pdf(composition, (1.6, 2.35), b=0.8, s_min=0.18, r_max=10.0, r_step=0.02)
    assert pdf._lazy and pdf.metadata.ePDF.fit.N._lazy  # nothing computed yet
    epdf.compute_all(pdf, show_progressbar=False)
    dec = pdf.decompose((1.0, 8.0))
    unmix = dec.unmix(2, "closure")
    return (np.asarray(plane.data), np.asarray(pdf.data),
            np.asarray(pdf.metadata.ePDF.fit.N.data), np.asarray(unmix.loadings.data),
            np.asarray(unmix.components.data))


def test_whole_route_local_cluster_equals_threaded(cluster, tmp_path):
    """descan → azimuthal_profile(beam_shift) → get_pdf → decompose → unmix, from a file:
    the cluster (every lazy stage on 2 worker processes) gives the threaded result."""
    synth = data.two_phase_composite(nav_shape=(12, 12), detector_shape=(64, 64),
                                     s_scale=0.08, descan=(1.0, 0.5), lazy=True,
                                     chunks=(4, 4), seed=3)
    composition = data.average_composition(synth)
    path = str(tmp_path / "scan.zspy")
    synth.signal.save(path, overwrite=True)
    with dask.config.set(scheduler="threads"):
        threaded = whole_route(path, composition)
    with distributed.Client(cluster) as client:
        on_cluster = whole_route(path, composition)
        # the workers did the work: each has run tasks of this route
        assert all(n > 0 for n in client.run(
            lambda dask_worker: len(dask_worker.state.log)).values())
    names = ("descan plane", "G(r)", "N map", "fraction maps", "component PDFs")
    for name, a, b in zip(names, on_cluster, threaded, strict=True):
        assert a.shape == b.shape, name
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)
    fractions = threaded[3].reshape(2, -1)
    ok = np.isfinite(fractions).all(axis=0)
    assert ok.sum() >= 0.9 * ok.size  # a real unmixing, not all patterns excluded
    np.testing.assert_allclose(fractions[:, ok].sum(axis=0), 1.0, atol=1e-9)  # closure
    assert fractions[:, ok].std(axis=1).min() > 0.05  # maps, not constants (accuracy: elsewhere)
