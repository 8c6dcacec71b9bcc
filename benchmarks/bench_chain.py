"""Benchmark: the 1D chain fit → φ → polynomial → damping → G(r), ours vs pyxem's.

Both routes run in the same process on the same I(s) profiles (a 64×64 scan of
noisy synthetic profiles by default) and the script prints time per pattern
and the ratio. pyxem's route is the one its documentation shows:
``ReducedIntensityGenerator1D.fit_atomic_scattering`` (HyperSpy multifit per
pattern) + ``get_reduced_intensity`` +
``ReducedIntensity1D.fit_thermal_multiple_scattering_correction`` (multifit) +
``damp_exponential`` + ``PDFGenerator1D.get_pdf``.

Usage::

    python benchmarks/bench_chain.py              # 64×64 scan, pyxem on a 16×16 subset
    python benchmarks/bench_chain.py --nav 32 32 --pyxem-nav 8 8

pyxem's multifit is timed on a subset (``--pyxem-nav``) and reported per
pattern, because its cost is linear in the number of patterns.
"""

import argparse
import contextlib
import io
import time
import warnings

import hyperspy.api as hs
import numpy as np

import pyxem_epdf as epdf
from pyxem_epdf.physics.models import gaussian_peaks_reduced_intensity
from pyxem_epdf.physics.scattering import mean_scattering

COMPOSITION = {"Si": 1 / 3, "O": 2 / 3}
PARAMS = {"s_range": (1.6, 2.5), "b": 0.8, "s_min": 0.18, "r_max": 20.0, "r_step": 0.01}


def make_profiles(nav_shape, n_s=250, s_scale=0.011, seed=0):
    """Noisy mean-count profiles I(s) (Poisson, ~0.05 counts/pixel at high s)."""
    rng = np.random.default_rng(seed)
    s = s_scale * np.arange(n_s)
    s_safe = np.where(s > 0, s, s_scale / 2)
    f2, fsq = mean_scattering(COMPOSITION, s)
    phi = gaussian_peaks_reduced_intensity(s_safe, [1.61, 2.63, 4.2], [0.8, 1.2, 2.0], [0.08, 0.12, 0.2])
    N = rng.uniform(0.5, 1.5, nav_shape)[..., None]
    mean = N * (f2 + fsq * phi / s_safe)
    npix = np.maximum(2 * np.pi * np.arange(n_s), 1)  # detector pixels per ring
    data = rng.poisson(mean * npix) / npix
    sig = hs.signals.Signal1D(data.astype("float64"))
    ax = sig.axes_manager.signal_axes[0]
    ax.scale, ax.units, ax.name = s_scale, "Å^-1", "s"
    return sig


def ours(profile, lazy, dtype="float64"):
    ri = epdf.from_profile(profile.as_lazy() if lazy else profile, bin_position="center")
    pdf = (
        ri.fit_scattering(COMPOSITION, s_range=PARAMS["s_range"])
        .polynomial_correct()
        .damp_exponential(b=PARAMS["b"])
        .extrapolate_low_s(s_min=PARAMS["s_min"])
        .to_pdf(r_max=PARAMS["r_max"], r_step=PARAMS["r_step"], dtype=dtype)
    )
    if lazy:
        pdf.compute(show_progressbar=False)
    return pdf


def core(profile):
    """The same chain with the pure array functions only (no signal overhead)."""
    from pyxem_epdf.physics import corrections, fit, scattering, transform

    data = np.asarray(profile.data)
    ax = profile.axes_manager.signal_axes[0]
    s = ax.offset + ax.scale * np.arange(data.shape[-1]) + ax.scale / 2
    f2, fsq = scattering.mean_scattering(COMPOSITION, s)
    res = fit.fit_scattering_background(data, s, f2, PARAMS["s_range"])
    phi = fit.reduced_intensity(data, s, res.N, res.C, f2, fsq)
    coef = corrections.fit_polynomial_correction(phi, s, s_max=s[-1], s_range=(0.1 * s[-1], s[-1]))
    phi = phi - corrections.polynomial_baseline(coef, s, s[-1])
    phi = phi * corrections.exponential_damping(s, PARAMS["b"])
    phi = corrections.extrapolate_low_s(phi, s, PARAMS["s_min"])
    r = transform.r_grid(PARAMS["r_max"], PARAMS["r_step"])
    return transform.sine_transform(phi, s, r)


def pyxem_route(profile):
    from pyxem.generators import PDFGenerator1D, ReducedIntensityGenerator1D

    sig = profile.deepcopy()
    sig.set_signal_type("electron_diffraction")
    gen = ReducedIntensityGenerator1D(sig)
    gen.set_s_cutoff(*PARAMS["s_range"])
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gen.fit_atomic_scattering(
            list(COMPOSITION), list(COMPOSITION.values()), scattering_factor="lobato",
            plot_fit=False, show_progressbar=False,
        )
        ri = gen.get_reduced_intensity()
        ri.fit_thermal_multiple_scattering_correction()
        ri.damp_exponential(b=PARAMS["b"], inplace=True)
        ri.damp_extrapolate_to_zero(s_min=PARAMS["s_min"])
        return PDFGenerator1D(ri).get_pdf(
            s_min=0.0, s_max=None, r_max=PARAMS["r_max"], r_increment=PARAMS["r_step"]
        )


def timed(fn, *args, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(64, 64))
    parser.add_argument("--pyxem-nav", type=int, nargs=2, default=(16, 16))
    args = parser.parse_args()
    hs.preferences.General.show_progressbar = False

    big = make_profiles(tuple(args.nav))
    small = make_profiles(tuple(args.pyxem_nav), seed=1)
    n_big, n_small = int(np.prod(args.nav)), int(np.prod(args.pyxem_nav))

    t_core = timed(core, big)
    t_eager = timed(ours, big, False)
    t_eager32 = timed(ours, big, False, "float32")
    t_lazy = timed(ours, big, True)
    t_ours_small = timed(ours, small, False)
    t_pyxem = timed(pyxem_route, small, repeat=1)

    per = {
        f"array core only ({n_big} patterns)": t_core / n_big,
        f"ours eager ({n_big} patterns)": t_eager / n_big,
        f"ours eager, float32 G(r) ({n_big})": t_eager32 / n_big,
        f"ours lazy  ({n_big} patterns)": t_lazy / n_big,
        f"ours eager ({n_small} patterns)": t_ours_small / n_small,
        f"pyxem route ({n_small} patterns)": t_pyxem / n_small,
    }
    print(f"1D chain fit -> G(r), {big.data.shape[-1]} s-bins, r 0-{PARAMS['r_max']} Å step {PARAMS['r_step']} Å")
    for name, t in per.items():
        print(f"  {name:32s} {t * 1e6:10.1f} µs/pattern")
    print(f"  ratio pyxem / ours (eager, same {n_small} patterns): {t_pyxem / t_ours_small:8.0f}x")
    print(f"  ratio pyxem / ours (eager, per pattern at {n_big}):  {(t_pyxem / n_small) / (t_eager / n_big):8.0f}x")
    print(f"  ratio pyxem / ours (eager, float32 G(r), at {n_big}):  "
          f"{(t_pyxem / n_small) / (t_eager32 / n_big):8.0f}x")
    print(f"  signal/metadata overhead of ours (eager - core, {n_big} patterns): "
          f"{t_eager - t_core:.2f} s per chain")


if __name__ == "__main__":
    main()
