"""Benchmark: the whole documented route, stage by stage, ours vs a plain script vs pyxem.

The route (``docs/tutorial.rst``) on the embedded synthetic composite with a
descan drift::

    res = epdf.signals.descan(dp); plane = res[1]
    ri = epdf.azimuthal_profile(dp, npt=..., s_max=2.52, beam_shift=plane)
    pdf = ri.get_pdf(composition, (1.6, 2.5), b=0.8, s_min=0.18, r_max=20, r_step=0.01)
    dec = pdf.decompose((1, 8))
    unmix = dec.unmix(2, "closure")

Three implementations of every stage run in the same process on the same data:

* **ours** — the package's public API, exactly as above (its own threading:
  numba threads in the integration, HyperSpy/NumPy BLAS in the decomposition);
* **plain** — a NumPy / scikit-learn script of the same steps written in this
  file (:func:`plain_descan` … :func:`plain_unmix`): centre of mass of the
  thresholded central disc and a least-squares plane; a Python loop of
  ``np.bincount`` per pattern with that pattern's centre; ``lstsq`` of
  N⟨f²⟩ + C on the high-s window with the package's scattering factors
  (:mod:`pyxem_epdf.physics.scattering`), φ, the Mu polynomial, damping, the
  low-s line and one sine matrix product; SVD with a one-SVD noise floor
  (neighbour differences) as rank estimate; fractions by sum-to-one NNLS on
  two end-members (and FastICA, the paper's unmixing, for reference). It runs under ``threadpoolctl`` with
  ``--blas-threads`` BLAS threads (default 1: it never oversubscribes a shared
  machine; the header prints one SVD at 1 and at all cores' threads, which
  shows what oversubscription costs at the current load);
* **pyxem** — where pyxem/HyperSpy has the stage: ``get_direct_beam_position
  (method="center_of_mass")`` + ``get_linear_plane``; ``center_direct_beam
  (shifts=...)`` + ``get_azimuthal_integral1d(mean=True)`` (per-pattern
  centres) or ``get_azimuthal_integral1d`` alone (fixed centre);
  ``ReducedIntensityGenerator1D`` → ``fit_thermal_multiple_scattering_correction``
  → ``PDFGenerator1D`` (HyperSpy multifit per pattern: timed on a
  ``--pyxem-nav`` subset and scaled linearly, marked ``*``); HyperSpy
  ``decomposition(algorithm="SVD")`` + ``estimate_elbow_position`` and
  ``blind_source_separation(2)`` (FastICA).

Every time is the best of ``--repeat`` runs. The start-up row runs in fresh
interpreters. Results are compared, not only timed: descan error against the
true centres, correlation of every route's fraction map with the true phase
fraction and with ours.

Usage::

    python benchmarks/bench_route.py                       # 48×48×128² and 64×64×256²
    python benchmarks/bench_route.py --sizes 48:128        # one size
    python benchmarks/bench_route.py --busy                # with a busy-loop process on a core
    python benchmarks/bench_route.py --sizes 48:128 --cluster   # + LocalCluster vs threads
    python benchmarks/bench_route.py --large --workdir /tmp     # + 256×256×256² lazy .zspy
    python benchmarks/bench_route.py --sizes --no-startup --large --cluster  # only the large run

``--large`` writes the 256×256 scan (8.6 GB of uint16 frames; zarr's default
compression makes the file smaller) to ``--workdir`` if there is 3× that room
(checked with ``shutil.disk_usage``; otherwise it says so and skips), then runs
raw scan → fraction maps and component PDFs lazily in a child process and prints
its wall time and peak resident memory (targets of issue 13: < 90 s, < 3 GB), and
per stage (load, descan, lazy graph, compute, decomposition, unmixing) the wall
time, this process's CPU time and its peak RSS (``/proc/self/clear_refs`` before
each stage, ``VmHWM`` after). On a shared machine the CPU times are the numbers
to compare. With ``--cluster`` the same route runs on a 2-process LocalCluster
(workers' CPU time and peak RSS too) and is compared with the threaded result.
"""

import argparse
import contextlib
import gc
import io
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

#: The chain parameters of the route (explicit, so the call is the same before and
#: after get_pdf gets defaults).
CHAIN = {"s_range": (1.6, 2.5), "b": 0.8, "s_min": 0.18, "r_max": 20.0, "r_step": 0.01}
R_RANGE = (1.0, 8.0)
S_MAX = 2.52  # Å⁻¹, integration range (bins of one 128²-pixel width)
N_PHASES = 2
DESCAN = (2.0, 1.0)  # total drift (x, y) across the scan, in 128²-detector pixels


# ----------------------------------------------------------------------------- data
def make_scan(nav, det, lazy=False, seed=0):
    """The embedded composite: nav×nav scan, det×det detector, same s range at any det."""
    import pyxem_epdf as epdf

    scale = det / 128
    return epdf.data.two_phase_composite(
        nav_shape=(nav, nav), detector_shape=(det, det), s_scale=0.04 / scale,
        descan=(DESCAN[0] * scale, DESCAN[1] * scale), lazy=lazy, seed=seed)


def npt_for(det):
    return int(round(S_MAX / (0.04 * 128 / det)))


# ------------------------------------------------------------------- plain script
# Everything from here to "ours" is the plain NumPy / scikit-learn version of the
# route: no pyxem, no HyperSpy, no dask, no numba; only the scattering factors
# come from the package.
def plain_descan(frames, threshold=0.1):
    """Centres (row, col) in pixels of every frame and their least-squares plane.

    Centre of mass of the pixels above ``threshold`` × the frame maximum inside
    a central window (the direct-beam disc), then a plane in the scan position.
    """
    ny, nx, h, w = frames.shape
    half = max(8, h // 16) + int(np.ceil(max(DESCAN) * h / 128))
    r0, c0 = h // 2 - half, w // 2 - half
    win = frames[:, :, r0:r0 + 2 * half, c0:c0 + 2 * half].astype(np.float32)
    win = win.reshape(ny * nx, 2 * half, 2 * half)
    peak = win.max(axis=(1, 2), keepdims=True)
    wts = np.where(win > threshold * peak, win, 0.0)
    total = wts.sum(axis=(1, 2))
    idx = np.arange(2 * half, dtype=np.float32)
    rows = (wts.sum(axis=2) @ idx) / total + r0
    cols = (wts.sum(axis=1) @ idx) / total + c0
    v, u = np.mgrid[0:ny, 0:nx]
    design = np.column_stack([u.ravel(), v.ravel(), np.ones(u.size)])
    coef, *_ = np.linalg.lstsq(design, np.column_stack([rows, cols]), rcond=None)
    plane = (design @ coef).reshape(ny, nx, 2)
    return np.stack([rows, cols], -1).reshape(ny, nx, 2), plane


def plain_integrate(frames, centres, npt, s_max, s_scale):
    """Azimuthal mean per pattern: a Python loop of np.bincount with each pattern's centre.

    ``centres`` (ny, nx, 2) in pixels, or ``None`` for the detector centre
    (one index array for all patterns).
    """
    ny, nx, h, w = frames.shape
    rr, cc = np.mgrid[0:h, 0:w]
    flat = frames.reshape(ny * nx, h * w)
    out = np.empty((ny * nx, npt))
    bin_px = s_max / npt / s_scale  # bin width in pixels

    def index(r0, c0):
        k = (np.hypot(rr - r0, cc - c0) / bin_px).astype(np.intp).ravel()
        return np.minimum(k, npt)  # bin npt collects everything beyond s_max

    fixed = index((h - 1) / 2, (w - 1) / 2) if centres is None else None
    if fixed is not None:
        n_fixed = np.bincount(fixed, minlength=npt + 1)[:npt]
    cen = None if centres is None else centres.reshape(-1, 2)
    for p in range(ny * nx):
        k = fixed if cen is None else index(cen[p, 0], cen[p, 1])
        n = n_fixed if cen is None else np.bincount(k, minlength=npt + 1)[:npt]
        out[p] = np.bincount(k, weights=flat[p], minlength=npt + 1)[:npt] / np.maximum(n, 1)
    s = (np.arange(npt) + 0.5) * (s_max / npt)
    return out.reshape(ny, nx, npt), s


def plain_chain(intensity, s, composition, s_range, b, s_min, r_max, r_step):
    """I(s) → G(r) for every pattern: lstsq fit, φ, Mu polynomial, damping, low-s, sine."""
    from pyxem_epdf.physics.scattering import composition_arrays, scattering_factors

    elements, x = composition_arrays(composition)
    f = scattering_factors(elements, s)  # (n_el, n_s) in Å
    f2, fsq = x @ f**2, (x @ f) ** 2
    y = intensity.reshape(-1, s.size)
    win = (s >= s_range[0]) & (s <= s_range[1])
    (n, c), *_ = np.linalg.lstsq(np.column_stack([f2[win], np.ones(win.sum())]),
                                 y[:, win].T, rcond=None)
    phi = s * (y - n[:, None] * f2 - c[:, None]) / (n[:, None] * fsq)
    s_max = s[-1]
    poly = s * (s - s_max)
    basis = np.column_stack([poly, poly * s, poly * s * s])
    pwin = s >= 0.1 * s_max  # the package's default polynomial window before extrapolate_low_s
    coef, *_ = np.linalg.lstsq(basis[pwin], phi[:, pwin].T, rcond=None)
    phi = (phi - (basis @ coef).T) * np.exp(-b * s * s)
    j = np.searchsorted(s, s_min)  # s[j-1] < s_min <= s[j]
    t = (s_min - s[j - 1]) / (s[j] - s[j - 1])
    at_min = (1 - t) * phi[:, j - 1] + t * phi[:, j]
    phi[:, :j] = at_min[:, None] * s[:j] / s_min
    r = np.arange(0.0, r_max + r_step / 2, r_step)
    ds = np.gradient(s)
    g = phi @ (8 * np.pi * ds[:, None] * np.sin(2 * np.pi * s[:, None] * r[None, :]))
    return g.reshape(intensity.shape[:-1] + (r.size,)), r, n.reshape(intensity.shape[:-1])


def plain_decompose(g, r, r_range):
    """SVD of the centred r-window; rank = singular values above a one-SVD noise floor.

    The noise floor is the spectrum of neighbour differences (x[i, j+1] − x[i, j]) / √2,
    which cancel the smooth phase maps but keep the noise with its correlation
    along r (a column-shuffled null would destroy that correlation and count
    noise as signal).
    """
    ny, nx = g.shape[:2]
    keep = (r >= r_range[0]) & (r <= r_range[1])
    x = g.reshape(-1, g.shape[-1])[:, keep]
    xc = x - x.mean(axis=0)
    u, sv, vt = np.linalg.svd(xc, full_matrices=False)
    d = np.diff(g[..., keep], axis=1).reshape(-1, keep.sum()) / np.sqrt(2)
    null = np.linalg.svd(d - d.mean(axis=0), compute_uv=False) * np.sqrt(x.shape[0] / d.shape[0])
    m = min(sv.size, null.size)
    above = sv[:m] > null[:m]
    rank = int(np.argmin(above)) if not above.all() else m
    return x, u * sv, sv, rank


def plain_unmix(x, scores, k, g_full, quantile=0.02):
    """Fractions ≥ 0 summing to 1 by NNLS on k end-members (means of extreme pixels)."""
    from scipy.optimize import nnls

    if k != 2:
        raise ValueError("the plain script's end-member pick handles k = 2")
    order = np.argsort(scores[:, 0])
    m = max(1, int(quantile * order.size))
    ends = np.stack([x[order[:m]].mean(axis=0), x[order[-m:]].mean(axis=0)])
    heavy = 10.0 * np.abs(x).max()  # weight of the sum-to-one row
    a = np.vstack([ends.T, np.full((1, k), heavy)])
    fr = np.empty((x.shape[0], k))
    rhs = np.empty(a.shape[0])
    rhs[-1] = heavy
    for p in range(x.shape[0]):
        rhs[:-1] = x[p]
        fr[p] = nnls(a, rhs)[0]
    comps, *_ = np.linalg.lstsq(fr, g_full.reshape(x.shape[0], -1), rcond=None)
    return fr, comps


def plain_fastica(scores, k, seed=0):
    """The paper's unmixing: FastICA on the leading k PCA scores (maps per pixel)."""
    from sklearn.decomposition import FastICA

    return FastICA(k, random_state=seed, whiten="unit-variance", max_iter=400).fit_transform(
        scores[:, :k])


def plain_route(frames, s_scale, npt, composition):
    centres, plane = plain_descan(frames)
    intensity, s = plain_integrate(frames, plane, npt, S_MAX, s_scale)
    g, r, _ = plain_chain(intensity, s, composition, **CHAIN)
    x, scores, _, _ = plain_decompose(g, r, R_RANGE)
    return plain_unmix(x, scores, N_PHASES, g)


# ---------------------------------------------------------------------------- ours
def ours_route(dp, npt, composition):
    import pyxem_epdf as epdf

    res = epdf.signals.descan(dp)  # its signals are built only if read
    ri = epdf.azimuthal_profile(dp, npt=npt, s_max=S_MAX, beam_shift=res)
    pdf = ri.get_pdf(composition, CHAIN["s_range"], b=CHAIN["b"], s_min=CHAIN["s_min"],
                     r_max=CHAIN["r_max"], r_step=CHAIN["r_step"])
    if pdf._lazy:
        epdf.compute_all(pdf, show_progressbar=False)
    return pdf.decompose(R_RANGE).unmix(N_PHASES, "closure")


# --------------------------------------------------------------------------- pyxem
def pyxem_descan(dp):
    shifts = dp.get_direct_beam_position(method="center_of_mass", threshold=20.0)
    return shifts.get_linear_plane()


def pyxem_integrate(dp, npt, shifts=None):
    if shifts is not None:
        dp = dp.center_direct_beam(shifts=shifts, inplace=False, show_progressbar=False)
    return dp.get_azimuthal_integral1d(npt=npt, radial_range=(0.0, S_MAX), mean=True,
                                       show_progressbar=False)


def pyxem_chain(profile, composition):
    from pyxem.generators import PDFGenerator1D, ReducedIntensityGenerator1D

    sig = profile.deepcopy()
    sig.set_signal_type("electron_diffraction")
    gen = ReducedIntensityGenerator1D(sig)
    gen.set_s_cutoff(*CHAIN["s_range"])
    quiet = logging.getLogger("hyperspy")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # HyperSpy's "slow as_signal" notes on every call
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gen.fit_atomic_scattering(list(composition), list(composition.values()),
                                      scattering_factor="lobato", plot_fit=False,
                                      show_progressbar=False)
            ri = gen.get_reduced_intensity()
            ri.fit_thermal_multiple_scattering_correction()
            ri.damp_exponential(b=CHAIN["b"], inplace=True)
            ri.damp_extrapolate_to_zero(s_min=CHAIN["s_min"])
            return PDFGenerator1D(ri).get_pdf(s_min=0.0, s_max=None, r_max=CHAIN["r_max"],
                                              r_increment=CHAIN["r_step"])
    finally:
        quiet.setLevel(level)


def hyperspy_decompose(pdf):
    import hyperspy.api as hs

    cropped = hs.signals.Signal1D(np.asarray(pdf.isig[R_RANGE[0]:R_RANGE[1]].data))
    cropped.decomposition(algorithm="SVD", print_info=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elbow = cropped.estimate_elbow_position()
    return cropped, int(elbow)


def hyperspy_bss(cropped):
    sig = cropped.deepcopy()
    sig.blind_source_separation(N_PHASES, algorithm="sklearn_fastica", print_info=False,
                                random_state=0, whiten=False)
    return np.asarray(sig.get_bss_loadings().data).reshape(N_PHASES, -1).T


# ------------------------------------------------------------------------- helpers
def best_of(fn, repeat, budget=30.0):
    """Best wall time of up to ``repeat`` runs (fewer once ``budget`` seconds are spent).

    Every run starts from the same heap: the previous run's result is dropped and
    ``gc.collect()`` runs (untimed) first, for every contender. HyperSpy signals
    hold reference cycles (even a bare ``Signal1D``), so without this each
    discarded result of ours -- 37 MB of G at 48×48 -- stays allocated until the
    cyclic collector runs, while the plain script's arrays are freed at once; the
    next call then faults in fresh (transparent huge) pages and the kernel's
    compaction shows up as 30-40 ms of *system* time in a 13 ms chain (measured:
    get_pdf 12-13 ms vs 45-90 ms in blocks, sys time 0 vs 30-40 ms; with
    ``gc.collect()`` between calls 15-19 ms every time; benchmarks/README.md,
    "the bimodal chain row").
    """
    best, out, spent = np.inf, None, 0.0
    for _ in range(repeat):
        out = None
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
        best, spent = min(best, dt), spent + dt
        if spent > budget:
            break
    return best, out


def blas_check(threads, shape=(2304, 701), repeat=3):
    """SVD time of a random (2304, 701) matrix with 1 and with ``threads`` BLAS threads."""
    from threadpoolctl import threadpool_limits

    x = np.random.default_rng(0).normal(size=shape)
    out = {}
    for n in sorted({1, threads}):
        with threadpool_limits(limits=n, user_api="blas"):
            out[n] = best_of(lambda: np.linalg.svd(x, full_matrices=False), repeat)[0]
    return out


def best_corr(maps, truth):
    """Largest |corr| of any of the maps (n_pix, k) with the truth (n_pix,).

    Pixels a map (or the truth, when it is one of our maps) leaves NaN
    (patterns the decomposition excluded as invalid) are left out; :func:`n_nan` counts them.
    """
    truth = np.asarray(truth, dtype=float).ravel()
    maps = np.asarray(maps, dtype=float).reshape(truth.size, -1)
    ok = np.isfinite(maps).all(axis=1) & np.isfinite(truth)
    return max(abs(np.corrcoef(maps[ok, i], truth[ok])[0, 1]) for i in range(maps.shape[1]))


def n_nan(maps, n_pix):
    """Pixels with a NaN in any of the maps (n_pix, k)."""
    maps = np.asarray(maps, dtype=float).reshape(n_pix, -1)
    return int((~np.isfinite(maps).all(axis=1)).sum())


def thread_report():
    from threadpoolctl import threadpool_info

    blas = sorted({(i["internal_api"], i["num_threads"]) for i in threadpool_info()
                   if i["user_api"] == "blas"})
    try:
        import numba

        nb = numba.get_num_threads()
    except ImportError:  # pragma: no cover
        nb = None
    return f"cores {len(os.sched_getaffinity(0))}, BLAS {blas}, numba threads {nb}"


def startup_rows(repeat):
    """Fresh-interpreter start-up: HyperSpy alone, + pyxem_epdf, + first signals; pyxem; plain."""
    prof = ("import numpy as np; p = hs.signals.Signal1D(np.ones((2, 50))); "
            "a = p.axes_manager.signal_axes[0]; a.scale, a.units = 0.05, 'Å^-1'")
    dp = ("d = ps.ElectronDiffraction2D(np.random.default_rng(0)"
          ".poisson(0.1, (4, 4, 128, 128)).astype('uint16')); "
          "[setattr(a, k, v) for a in d.axes_manager.signal_axes "
          "for k, v in (('scale', 0.04), ('offset', -2.54), ('units', 'k_A^-1'))]")
    hs_ = "import numpy as np; import hyperspy.api as hs"
    cases = [
        ("import hyperspy.api", hs_, ""),
        ("+ import pyxem_epdf", f"{hs_}; import pyxem_epdf as epdf", ""),
        ("+ import pyxem_epdf.signals", f"{hs_}; import pyxem_epdf.signals", ""),
        ("+ from_profile (first signal)", f"{hs_}; import pyxem_epdf as epdf; {prof}",
         "epdf.from_profile(p)"),
        ("+ azimuthal_profile (pyxem loaded)",
         f"{hs_}; import pyxem_epdf as epdf; import pyxem.signals as ps; {dp}",
         "epdf.azimuthal_profile(d, npt=60)"),
        ("pyxem: import + first signal", f"{hs_}; import pyxem.signals as ps", dp),
        ("plain: numpy, scipy, sklearn",
         "import numpy, scipy.optimize, sklearn.decomposition", ""),
    ]
    rows = []
    for name, setup, action in cases:
        code = ("import time, warnings; warnings.filterwarnings('ignore'); t0 = time.perf_counter(); "
                f"{setup}; t1 = time.perf_counter(); {action or 'pass'}; t2 = time.perf_counter(); "
                "print(t1 - t0, t2 - t1)")
        best = (np.inf, np.inf)
        for _ in range(repeat):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True)
            a, b = map(float, out.stdout.split()[-2:])
            best = min(best, (a, b), key=sum)
        rows.append((name, *best))
    return rows


def busy_loop():
    """A CPU-bound child process (one core busy) for --busy; returns its Popen."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


# --------------------------------------------------------------------------- stages
def run_size(nav, det, args):
    import hyperspy.api as hs
    from threadpoolctl import threadpool_limits

    import pyxem_epdf as epdf

    hs.preferences.General.show_progressbar = False
    rep = args.repeat
    t0 = time.perf_counter()
    synth = make_scan(nav, det)
    dp = synth.signal
    frames = np.asarray(dp.data)
    s_scale = 0.04 * 128 / det
    npt = npt_for(det)
    comp = epdf.data.average_composition(synth)
    truth = synth.fractions[..., 0].ravel()
    true_centre = (np.array([(det - 1) / 2, (det - 1) / 2])
                   + synth.parameters.beam_shifts[..., ::-1])  # (row, col)
    n = nav * nav
    print(f"\n== {nav}×{nav} scan, {det}×{det} detector ({n} patterns, {frames.nbytes / 1e9:.2f} GB "
          f"uint16), npt={npt}, s_max={S_MAX} Å⁻¹, r 0–{CHAIN['r_max']:g} Å step {CHAIN['r_step']} Å"
          f" (data made in {time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f})")
    t, acc = {}, {}

    def plain(fn):
        def run():
            with threadpool_limits(limits=args.blas_threads, user_api="blas"):
                return fn()
        return run

    # descan
    t["descan", "ours"], res = best_of(lambda: epdf.signals.descan(dp), rep)
    plane = res[1]
    t["descan", "plain"], (_, p_plane) = best_of(plain(lambda: plain_descan(frames)), rep)
    t["descan", "pyxem"], x_plane = best_of(lambda: pyxem_descan(dp), rep)
    ours_centre = det / 2 - np.asarray(plane.data)[..., ::-1]  # pyxem convention → (row, col)
    acc["descan"] = (np.sqrt(np.mean((ours_centre - true_centre) ** 2)),
                     np.sqrt(np.mean((p_plane - true_centre) ** 2)))

    # integration, per-pattern centres and fixed centre
    t["integration, per-pattern centres", "ours"], ri = best_of(
        lambda: epdf.azimuthal_profile(dp, npt=npt, s_max=S_MAX, beam_shift=plane), rep)
    t["integration, per-pattern centres", "plain"], (p_int, p_s) = best_of(
        plain(lambda: plain_integrate(frames, p_plane, npt, S_MAX, s_scale)), rep)
    t["integration, per-pattern centres", "pyxem"], _ = best_of(
        lambda: pyxem_integrate(dp, npt, x_plane), 1)
    t["integration, fixed centre", "ours"], _ = best_of(
        lambda: epdf.azimuthal_profile(dp, npt=npt, s_max=S_MAX), rep)
    t["integration, fixed centre", "plain"], _ = best_of(
        plain(lambda: plain_integrate(frames, None, npt, S_MAX, s_scale)), rep)
    t["integration, fixed centre", "pyxem"], _ = best_of(lambda: pyxem_integrate(dp, npt), 1)
    acc["integration"] = float(np.sqrt(np.mean((np.asarray(ri.data) - p_int) ** 2))
                               / np.sqrt(np.mean(p_int**2)))

    # chain
    t["chain (get_pdf)", "ours"], pdf = best_of(
        lambda: ri.get_pdf(comp, CHAIN["s_range"], b=CHAIN["b"], s_min=CHAIN["s_min"],
                           r_max=CHAIN["r_max"], r_step=CHAIN["r_step"]), rep)
    ri_s = np.asarray(ri.axes_manager.signal_axes[0].axis)
    t["chain (get_pdf)", "plain"], (p_g, p_r, _) = best_of(
        plain(lambda: plain_chain(np.asarray(ri.data), ri_s, comp, **CHAIN)), rep)
    sub = min(args.pyxem_nav, nav)
    t_px, _ = best_of(lambda: pyxem_chain(ri.inav[:sub, :sub], comp), 1)
    t["chain (get_pdf)", "pyxem"] = t_px * n / (sub * sub)
    # the same steps as the plain script (its per-pattern N and C); the default
    # pools C/N over the scan (fit.C_POOL), which the plain script does not
    free = ri.get_pdf(comp, CHAIN["s_range"], b=CHAIN["b"], s_min=CHAIN["s_min"],
                      r_max=CHAIN["r_max"], r_step=CHAIN["r_step"], c_pool=1)
    acc["chain"] = float(np.abs(np.asarray(free.data) - p_g).max() / np.abs(p_g).max())
    acc["chain_pooled"] = float(np.abs(np.asarray(pdf.data) - p_g).max() / np.abs(p_g).max())

    # rank estimate + decomposition, unmixing
    t["rank estimate + decomposition", "ours"], dec = best_of(lambda: pdf.decompose(R_RANGE), rep)
    t["rank estimate + decomposition", "plain"], (p_x, p_scores, _, p_rank) = best_of(
        plain(lambda: plain_decompose(p_g, p_r, R_RANGE)), rep)
    t["rank estimate + decomposition", "pyxem"], (h_crop, h_elbow) = best_of(
        lambda: hyperspy_decompose(pdf), rep)
    t["closure unmixing", "ours"], unmix = best_of(lambda: dec.unmix(N_PHASES, "closure"), rep)
    t["closure unmixing", "plain"], (p_fr, _) = best_of(
        plain(lambda: plain_unmix(p_x, p_scores, N_PHASES, p_g)), rep)
    t["closure unmixing", "pyxem"], h_maps = best_of(lambda: hyperspy_bss(h_crop), rep)
    t_ica, p_ica = best_of(plain(lambda: plain_fastica(p_scores, N_PHASES)), rep)
    ours_fr = np.asarray(unmix.loadings.data).reshape(N_PHASES, -1).T

    # whole route
    # whole route, ours and plain interleaved (the load of a shared machine drifts)
    whole = {"ours": np.inf, "plain": np.inf}
    for _ in range(rep):
        for key, fn in (("ours", lambda: ours_route(dp, npt, comp)),
                        ("plain", plain(lambda: plain_route(frames, s_scale, npt, comp)))):
            whole[key] = min(whole[key], best_of(fn, 1)[0])
    t["whole route", "ours"], t["whole route", "plain"] = whole["ours"], whole["plain"]
    # the BLAS-heavy stages once more with the plain script's BLAS threads: threads vs arithmetic
    one = plain  # the same threadpoolctl wrapper, args.blas_threads BLAS threads
    t["rank estimate + decomposition", "ours1"], _ = best_of(one(lambda: pdf.decompose(R_RANGE)),
                                                              rep)
    t["closure unmixing", "ours1"], _ = best_of(one(lambda: dec.unmix(N_PHASES, "closure")), rep)
    t["whole route", "ours1"], _ = best_of(one(lambda: ours_route(dp, npt, comp)), rep)
    route = ("descan", "integration, per-pattern centres", "chain (get_pdf)",
             "rank estimate + decomposition", "closure unmixing")
    for key in ("ours", "plain", "pyxem"):
        t["sum of the route's stages", key] = sum(t[k, key] for k in route)
    t["whole route", "pyxem"] = t["sum of the route's stages", "pyxem"]

    stages = ["descan", "integration, per-pattern centres", "integration, fixed centre",
              "chain (get_pdf)", "rank estimate + decomposition", "closure unmixing",
              "sum of the route's stages", "whole route"]
    bl = args.blas_threads
    print(f"  {'stage':34s} {'ours':>8s} {'plain':>8s} {'pyxem':>9s}  {'ours/plain':>10s} "
          f"{'ours/pyxem':>10s}   {f'ours, BLAS {bl}':>13s} {'/plain':>7s}")
    for st in stages:
        o, p, x = t[st, "ours"], t[st, "plain"], t[st, "pyxem"]
        star = "*" if st in ("chain (get_pdf)", "whole route", "sum of the route's stages") else " "
        o1 = t.get((st, "ours1"))
        extra = "" if o1 is None else f"   {o1:12.3f}s {o1 / p:6.2f}×"
        print(f"  {st:34s} {o:7.3f}s {p:7.3f}s {x:8.2f}s{star} {o / p:9.2f}× {o / x:9.3f}×{extra}")
    print(f"  (load average at the end {os.getloadavg()[0]:.1f})")
    print(f"  * pyxem's chain timed on {sub}×{sub} patterns and scaled to {n}; its whole route "
          "is the sum of its stages. pyxem's per-pattern-centre integration is center_direct_beam"
          " + get_azimuthal_integral1d; its unmixing is FastICA, not closure.")
    print(f"  plain FastICA on the PCA scores (the paper's unmixing): {t_ica:.3f} s")
    print(f"  descan rms error of the plane vs the true centres: ours {acc['descan'][0]:.3f} px, "
          f"plain {acc['descan'][1]:.3f} px")
    print(f"  I(s): rms(ours − plain) / rms(plain) = {acc['integration']:.3f} (ours weights each"
          " pixel by its exact footprint in every bin, plain bins pixel centres)")
    print(f"  G(r) from the same I(s): max |ours − plain| / max |plain| = {acc['chain']:.3f} "
          f"with c_pool=1 (the plain script's per-pattern C), {acc['chain_pooled']:.3f} with "
          "the default C/N pooled over the scan")
    ours_rank = getattr(getattr(dec, "evidence", None), "n_components", "?")
    print(f"  rank: ours {ours_rank} significant (+ mean → {getattr(dec, 'n_components', '?')}), "
          f"plain {p_rank} (neighbour-difference floor), HyperSpy elbow {h_elbow}")
    print("  fraction map vs truth, |corr|: "
          f"ours {best_corr(ours_fr, truth):.3f}, plain NNLS {best_corr(p_fr, truth):.3f}, "
          f"plain FastICA {best_corr(p_ica, truth):.3f}, HyperSpy BSS {best_corr(h_maps, truth):.3f}"
          f"; plain NNLS vs ours {best_corr(p_fr, ours_fr[:, 0]):.3f}")
    return t


# -------------------------------------------------------------------- large + cluster
def write_large(path, nav, det):
    synth = make_scan(nav, det, lazy=True)
    t0 = time.perf_counter()
    synth.signal.save(path, overwrite=True)
    print(f"  wrote {path}: {nav}×{nav}×{det}² uint16 in {time.perf_counter() - t0:.0f} s")
    return synth


def lazy_route(path, npt, composition, cluster):
    """Raw .zspy scan → fraction maps and component PDFs; returns arrays and timings.

    The calls are those of :func:`ours_route`, timed stage by stage: the
    descan reads every frame once (the centres are computed: they are small),
    the integration and chain are built lazily and computed in one dask pass
    (a second read of every frame), the decomposition and unmixing run on the
    PDF cube in memory. ``cpu`` is this process's user + system CPU time per
    stage (with a LocalCluster the work runs in the workers: their CPU time is
    in ``workers_cpu``).
    """
    import dask
    import hyperspy.api as hs

    import pyxem_epdf as epdf

    client = None
    if cluster:
        from dask.distributed import Client, LocalCluster

        client = Client(LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None))
    stages, cpu = {}, {}

    def cpu_now():
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime

    peaks = {}

    def timed(name, fn):
        reset_peak_rss()
        t, c = time.perf_counter(), cpu_now()
        out = fn()
        stages[name], cpu[name] = time.perf_counter() - t, cpu_now() - c
        peaks[name] = peak_rss_gb()
        return out

    def workers_cpu():
        if client is None:
            return []
        return list(client.run(lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])).values())

    w0 = workers_cpu()
    t0 = time.perf_counter()
    ctx = dask.config.set(scheduler="threads") if client is None else contextlib.nullcontext()
    with ctx:
        dp = timed("load (lazy)", lambda: hs.load(path, lazy=True))
        plane = timed("descan (1st read of the frames)", lambda: epdf.signals.descan(dp)[1])

        def build():
            ri = epdf.azimuthal_profile(dp, npt=npt, s_max=S_MAX, beam_shift=plane)
            return ri.get_pdf(composition, CHAIN["s_range"], b=CHAIN["b"],
                              s_min=CHAIN["s_min"], r_max=CHAIN["r_max"],
                              r_step=CHAIN["r_step"])

        pdf = timed("integration + chain, lazy graph", build)
        timed("integration + chain, compute (2nd read)",
              lambda: epdf.compute_all(pdf, show_progressbar=False))
        dec = timed("rank estimate + decomposition", lambda: pdf.decompose(R_RANGE))
        unmix = timed("closure unmixing", lambda: dec.unmix(N_PHASES, "closure"))
    dt = time.perf_counter() - t0
    w1 = workers_cpu()
    workers = {}
    if client is not None:
        workers = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2)
        client.close()
    # clear_refs resets the kernel's high-water mark that ru_maxrss also reads:
    # the whole run's peak is the largest of the stages' peaks
    peak = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
                *peaks.values()])
    return {"time": dt, "peak_gb": peak, "workers_gb": list(workers.values()),
            "stages": stages, "cpu": cpu, "peaks": peaks,
            "workers_cpu": [b - a for a, b in zip(w0, w1, strict=True)],
            "fractions": np.asarray(unmix.loadings.data).tolist(),
            "components": np.asarray(unmix.components.data).tolist()}


def reset_peak_rss():
    """Reset this process's peak resident memory (Linux: ``clear_refs`` 5); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_gb():
    """Peak resident memory since the last :func:`reset_peak_rss` (VmHWM), in GB."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return float("nan")


def print_stages(res):
    """Per-stage wall and CPU time (and peak RSS) of a :func:`lazy_route` result."""
    for name, wall in res["stages"].items():
        c = res["cpu"][name]
        print(f"    {name:42s} {wall:7.2f} s wall, {c:7.2f} s CPU ({c / max(wall, 1e-9):.2f} "
              f"cores), peak RSS {res['peaks'][name]:.2f} GB")
    total_cpu = sum(res["cpu"].values())
    extra = ""
    if res["workers_cpu"]:
        extra = ", workers " + " + ".join(f"{w:.1f}" for w in res["workers_cpu"]) + " s"
    print(f"    {'total':42s} {res['time']:7.2f} s wall, {total_cpu:7.2f} s CPU{extra}")


def child(args):
    """Entry of the child process (``_child`` sub-command): one lazy route, JSON out."""
    import hyperspy.api as hs

    warnings.filterwarnings("ignore")
    hs.preferences.General.show_progressbar = False
    comp = json.loads(args.composition)
    out = lazy_route(args.path, args.npt, comp, args.cluster)
    print("RESULT " + json.dumps(out))


def run_child(path, npt, comp, cluster):
    cmd = [sys.executable, os.path.abspath(__file__), "_child", path, "--npt", str(npt),
           "--composition", json.dumps(comp)] + (["--cluster"] if cluster else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[7:])


def lazy_runs(path, nav, det, comp, truth, cluster):
    npt = npt_for(det)
    thr = run_child(path, npt, comp, cluster=False)
    f = np.asarray(thr["fractions"], dtype=float)
    print(f"  threads: raw scan → fraction maps and component PDFs in {thr['time']:.1f} s "
          f"({nav * nav / thr['time']:.0f} patterns/s), peak RSS {thr['peak_gb']:.2f} GB; "
          f"fraction map vs truth |corr| {best_corr(f.reshape(N_PHASES, -1).T, truth):.3f} "
          f"({n_nan(f.reshape(N_PHASES, -1).T, truth.size)} NaN pixels: patterns excluded as "
          "invalid)")
    print_stages(thr)
    if cluster:
        clu = run_child(path, npt, comp, cluster=True)
        df = np.nanmax(np.abs(np.asarray(clu["fractions"], dtype=float) - f))
        dc = np.nanmax(np.abs(np.asarray(clu["components"], dtype=float)
                              - np.asarray(thr["components"], dtype=float)))
        same = all(np.array_equal(np.asarray(clu[k], dtype=float),
                                  np.asarray(thr[k], dtype=float), equal_nan=True)
                   for k in ("fractions", "components"))
        print(f"  LocalCluster (2 processes × 1 thread): {clu['time']:.1f} s, peak RSS client "
              f"{clu['peak_gb']:.2f} GB, workers "
              + ", ".join(f"{w:.2f}" for w in clu["workers_gb"]) + " GB")
        print_stages(clu)
        print(f"  LocalCluster vs threads: bit-identical {same}; max |Δ fraction| {df:.2e}, "
              f"max |Δ component G| {dc:.2e}")


def large(args, det=256):
    import pyxem_epdf as epdf

    nav = args.large_nav
    size = nav * nav * det * det * 2
    free = shutil.disk_usage(args.workdir).free
    if free < 3 * size:
        print(f"\n== --large skipped: {free / 1e9:.1f} GB free in {args.workdir}, "
              f"need 3 × {size / 1e9:.1f} GB = {3 * size / 1e9:.1f} GB")
        return
    path = os.path.join(args.workdir, f"bench_route_{nav}x{nav}x{det}x{det}.zspy")
    print(f"\n== {nav}×{nav} scan, {det}×{det} detector, lazy from {path} "
          f"({free / 1e9:.0f} GB free, {size / 1e9:.1f} GB uncompressed)")
    if os.path.exists(path):
        synth = make_scan(nav, det, lazy=True)  # the truth only; the file is reused
    else:
        synth = write_large(path, nav, det)
    comp = epdf.data.average_composition(synth)
    print(f"  load average before the run {os.getloadavg()[0]:.1f} on "
          f"{len(os.sched_getaffinity(0))} cores")
    try:
        lazy_runs(path, nav, det, comp, synth.fractions[..., 0].ravel(), args.cluster)
        print(f"  load average after the run {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep:
            shutil.rmtree(path, ignore_errors=True)
    print("  targets of issue 13 at 256×256: < 90 s, peak RSS < 3 GB")


def cluster_small(nav, det):
    import pyxem_epdf as epdf

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scan.zspy")
        synth = make_scan(nav, det, lazy=True)
        synth.signal.save(path, overwrite=True)
        print(f"\n== lazy from .zspy, {nav}×{nav}×{det}², threads vs LocalCluster")
        lazy_runs(path, nav, det, epdf.data.average_composition(synth),
                  synth.fractions[..., 0].ravel(), cluster=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd")
    c = sub.add_parser("_child", help=argparse.SUPPRESS)
    c.add_argument("path")
    c.add_argument("--npt", type=int, required=True)
    c.add_argument("--composition", required=True)
    c.add_argument("--cluster", action="store_true")
    parser.add_argument("--sizes", nargs="*", default=["48:128", "64:256"],
                        help="scan:detector pairs (square), e.g. 48:128; none with "
                             "'--sizes' alone (e.g. only --large)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--pyxem-nav", type=int, default=16,
                        help="side of the subset pyxem's chain is timed on")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads of the plain script (threadpoolctl); 1 by default: "
                             "on a shared machine OpenBLAS threads that busy-wait for a "
                             "taken core make every product several times slower")
    parser.add_argument("--busy", action="store_true",
                        help="keep one core busy with a busy-loop process during the run")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up rows")
    parser.add_argument("--cluster", action="store_true",
                        help="LocalCluster vs threads, whole route, lazy from .zspy")
    parser.add_argument("--large", action="store_true",
                        help="256×256×256² lazy scan from .zspy (8.6 GB)")
    parser.add_argument("--large-nav", type=int, default=256,
                        help="scan side of --large (256: 8.6 GB of frames)")
    parser.add_argument("--workdir", default=tempfile.gettempdir(),
                        help="where --large writes its .zspy (reused if present)")
    parser.add_argument("--keep", action="store_true", help="keep the --large .zspy afterwards")
    args = parser.parse_args()
    if args.cmd == "_child":
        return child(args)
    warnings.filterwarnings("ignore")
    busy = busy_loop() if args.busy else None
    try:
        print(f"bench_route: {thread_report()}; plain script BLAS threads {args.blas_threads}; "
              f"load average {os.getloadavg()[0]:.1f}; "
              f"best of {args.repeat}" + ("; one core busy (busy-loop process)" if busy else ""))
        cores = len(os.sched_getaffinity(0))
        check = blas_check(cores)
        print("BLAS check, SVD of a 2304×701 matrix: " + ", ".join(
            f"{k} thread{'s' * (k > 1)} {v:.3f} s" for k, v in check.items())
            + f"; load average {os.getloadavg()[0]:.1f} on {cores} cores")
        if not args.no_startup:
            print("\n== start-up (fresh interpreters)")
            rows = startup_rows(args.repeat)
            base = rows[0][1] + rows[0][2]
            for name, imp, first in rows:
                extra = f"   {imp + first - base:+6.2f} s over HyperSpy" if name.startswith("+") else ""
                print(f"  {name:36s} import {imp:6.2f} s + first call {first:6.2f} s = "
                      f"{imp + first:6.2f} s{extra}")
        for spec in args.sizes:
            nav, det = map(int, spec.split(":"))
            run_size(nav, det, args)
        if args.cluster and not args.large:
            nav, det = map(int, (args.sizes or ["48:128"])[0].split(":"))
            cluster_small(nav, det)
        if args.large:
            large(args)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()


if __name__ == "__main__":
    main()
