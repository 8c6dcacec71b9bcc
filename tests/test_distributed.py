"""The lazy pipeline runs unchanged on a dask.distributed cluster (2 worker processes)."""

import distributed
import numpy as np
import pytest

import pyxem_epdf as epdf
from pyxem_epdf import data


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
def test_local_cluster_equals_threaded(route):
    synth = data.two_phase_composite(nav_shape=(6, 6), lazy=True, chunks=(3, 3), seed=7)
    composition = data.average_composition(synth)
    threaded = pipeline(synth.signal, composition, route)
    threaded.compute(show_progressbar=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        on_cluster = pipeline(synth.signal, composition, route)
        assert on_cluster._lazy
        on_cluster.compute(show_progressbar=False)
    np.testing.assert_allclose(on_cluster.data, threaded.data, rtol=1e-12, atol=1e-12)
