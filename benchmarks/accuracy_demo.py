"""Accuracy of the chain on the embedded synthetic composite (demo settings).

Prints, for each phase region (true fraction > 0.95): the spread of fitted N
over true N, the rms deviation of the region-mean G(r) from the truth
band-limited to the same s window (in % of its maximum, r > 1 Å), the largest
|G| below 1 Å relative to that maximum, and first-shell positions found vs
true. Run with ``python benchmarks/accuracy_demo.py [--nav R C] [--seed S]``.
"""

import argparse
import warnings

import numpy as np

import pyxem_epdf as epdf
from pyxem_epdf import data
from pyxem_epdf.cli import DEMO_PARAMETERS as P
from pyxem_epdf.physics import corrections, peaks, transform


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nav", type=int, nargs=2, default=(20, 20))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noiseless", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message=".*has moved to")
    synth = data.two_phase_composite(
        nav_shape=tuple(args.nav), seed=args.seed, noise=not args.noiseless
    )
    profile = synth.signal.get_azimuthal_integral1d(npt=P["npt"], mean=True,
                                                    show_progressbar=False)
    comp = {el: synth.element_fractions[..., i] for i, el in enumerate(synth.elements)}
    phi = (
        epdf.from_profile(profile)
        .fit_scattering(comp, s_range=P["s_range"], weights=P["weights"])
        .polynomial_correct(s_max=P["s_max"])
        .damp_exponential(b=P["b"])
        .extrapolate_low_s(s_min=P["s_min"])
    )
    pdf = phi.to_pdf(r_max=P["r_max"], r_step=P["r_step"])
    s = phi.axes_manager.signal_axes[0].axis
    r = pdf.axes_manager.signal_axes[0].axis
    ratio = phi.metadata.ePDF.fit.N.data / synth.N_true
    print(f"scan {args.nav}, noise={not args.noiseless}: fitted N / true N = "
          f"{np.median(ratio):.3f} median, {ratio.std():.3f} sd")
    for k, phase in enumerate(synth.phases):
        mask = synth.fractions[..., k] > 0.95
        g = pdf.data[mask].mean(axis=0)
        truth_phi = phase.reduced_intensity(s) * corrections.exponential_damping(s, P["b"])
        truth = transform.sine_transform(
            corrections.extrapolate_low_s(truth_phi, s, P["s_min"]), s, r
        )
        top = truth.max()
        sel = r > 1.0
        rms = np.sqrt(np.mean((g - truth)[sel] ** 2)) / top
        low = np.abs(g[~sel]).max() / top
        found = peaks.find_peaks(g, r, r_range=(1.1, 3.2), n_peaks=2)[0]
        true = peaks.find_peaks(truth, r, r_range=(1.1, 3.2), n_peaks=2)[0]
        print(f"{phase.name:>10} ({mask.sum()} px): rms(r>1 Å) {100 * rms:.1f} % of max, "
              f"max|G(r<1 Å)| {low:.2f} of max, shells {np.round(found, 3)} Å "
              f"vs truth {np.round(true, 3)} Å")


if __name__ == "__main__":
    main()
