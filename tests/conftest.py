"""Shared fixtures: analytic I(s) signals with known N, C and G(r); headless Chromium."""

import os
import shutil

import hyperspy.api as hs
import matplotlib
import numpy as np
import pytest
from dask.callbacks import Callback

matplotlib.use("Agg")

#: Ground truth of the analytic test signal (SiO2-like peaks).
PEAKS = {"centers": [1.61, 2.63, 4.2], "amplitudes": [0.8, 1.2, 2.0], "sigmas": [0.08, 0.12, 0.2]}
COMPOSITION = {"Si": 1 / 3, "O": 2 / 3}
S_STEP = 0.01
S_AXIS = S_STEP / 2 + S_STEP * np.arange(300)  # bin centres, 0.005 … 2.995 Å⁻¹


def analytic_intensity(nav_shape, seed=0, s=S_AXIS, structure=True):
    """I(s) = N⟨f²⟩ + C + N⟨f⟩² φ(s)/s with random N, C maps; returns (I, N, C).

    ``structure=False`` leaves out the φ term (I = N⟨f²⟩ + C exactly).
    """
    from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity
    from pyxem_epdf.physics.scattering import mean_scattering

    rng = np.random.default_rng(seed)
    N = rng.uniform(50, 150, nav_shape)
    C = rng.uniform(0.0, 0.2, nav_shape)
    f2, fsq = mean_scattering(COMPOSITION, s)
    phi = gaussian_peaks_reduced_intensity(s, **PEAKS) if structure else 0.0 * s
    intensity = N[..., None] * (f2 + fsq * phi / s) + C[..., None]
    return intensity, N, C


@pytest.fixture
def ri_signal():
    """Factory: ``ri_signal(nav_shape=(2, 3), lazy=False)`` → ReducedIntensity1DPlus."""

    def make(nav_shape=(2, 3), lazy=False, seed=0, structure=True):
        import pyxem_epdf as epdf

        intensity, _, _ = analytic_intensity(nav_shape, seed, structure=structure)
        sig = hs.signals.Signal1D(intensity)
        ax = sig.axes_manager.signal_axes[0]
        ax.offset, ax.scale, ax.units, ax.name = S_AXIS[0], S_STEP, "Å^-1", "s"
        for i, nav in enumerate(sig.axes_manager.navigation_axes):
            nav.name, nav.units, nav.scale, nav.offset = "xy"[i], "nm", 5.0, 10.0
        sig.metadata.General.title = "test"
        ri = epdf.from_profile(sig)
        return ri.as_lazy() if lazy else ri

    return make


class ComputeCounter(Callback):
    """Counts dask graph executions (``with ComputeCounter() as c: ...; c.runs``)."""

    def __init__(self):
        super().__init__()
        self.runs = 0

    def _start(self, dsk):
        self.runs += 1


#: Chromium flags for this closed network: no background connections, no first-run work.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def chromium():
    """``(sync_playwright, launch)`` for a browser test, ``launch(pw, *extra_args)``.

    Skips without Chromium or ``playwright`` (``PYXEM_EPDF_CHROMIUM`` overrides the
    binary search); ``EPDF_REQUIRE_BROWSER=1`` (set by ``.ci/run`` once Chromium is
    installed) turns the skip into a failure.
    """
    path = os.environ.get("PYXEM_EPDF_CHROMIUM") or next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if path is None or sync_playwright is None:
        if os.environ.get("EPDF_REQUIRE_BROWSER") == "1":
            pytest.fail("EPDF_REQUIRE_BROWSER=1 but Chromium or playwright is missing")
        pytest.skip("needs Chromium and playwright (see .ci/run)")

    def launch(pw, *extra_args):
        return pw.chromium.launch(executable_path=path, headless=True,
                                  args=CHROMIUM_ARGS + list(extra_args))

    return sync_playwright, launch
