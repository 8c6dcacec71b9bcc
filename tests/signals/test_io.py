"""Saved results load back as our classes with their metadata (.hspy, .zspy)."""

import hyperspy.api as hs
import numpy as np
import pytest

from pyxem_epdf.signals import (
    LazyPDF1DPlus,
    LazyReducedIntensity1DPlus,
    PDF1DPlus,
    ReducedIntensity1DPlus,
)

from ..conftest import COMPOSITION


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_round_trip(ri_signal, tmp_path, ext):
    phi = ri_signal((2, 3)).fit_scattering(COMPOSITION, (1.6, 2.5)).damp_exponential(0.5)
    pdf = phi.to_pdf(r_max=5, r_step=0.05)
    for sig, eager_cls, lazy_cls in (
        (phi, ReducedIntensity1DPlus, LazyReducedIntensity1DPlus),
        (pdf, PDF1DPlus, LazyPDF1DPlus),
    ):
        path = tmp_path / f"{eager_cls.__name__}.{ext}"
        sig.save(path)
        back = hs.load(path)
        assert type(back) is eager_cls
        np.testing.assert_allclose(back.data, sig.data)
        assert back.metadata.ePDF.fit.s_range == [1.6, 2.5]
        np.testing.assert_allclose(back.metadata.ePDF.fit.N.data, sig.metadata.ePDF.fit.N.data)
        assert back.metadata.ePDF.history.step_01.method == "fit_scattering"
        assert back.axes_manager.signal_axes[0].units == sig.axes_manager.signal_axes[0].units
        lazy = hs.load(path, lazy=True)
        assert type(lazy) is lazy_cls


def test_lazy_result_saved(ri_signal, tmp_path):
    pdf = (
        ri_signal((2, 3), lazy=True)
        .fit_scattering(COMPOSITION, (1.6, 2.5))
        .to_pdf(r_max=5, r_step=0.05)
    )
    path = tmp_path / "lazy.zspy"
    pdf.save(path)
    back = hs.load(path)
    np.testing.assert_allclose(back.data, pdf.data.compute())
    assert type(back) is PDF1DPlus
