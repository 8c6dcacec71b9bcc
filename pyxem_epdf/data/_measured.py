"""Measured example data shipped with the package (see the README beside each file)."""

from importlib import resources

import numpy as np

#: Calibration of the a-SiO2 profile, Å⁻¹ per detector pixel.
SIO2_S_SCALE = 0.00167
#: Known a-SiO2 pair distances in Å (Si–O, O–O, Si–Si).
SIO2_PEAKS = {"Si-O": 1.61, "O-O": 2.63, "Si-Si": 3.1}
#: Processing parameters that give a clean PDF of the a-SiO2 profile.
#: (The last ~0.2 Å⁻¹ of the profile are detector-edge artefacts, hence s_max = 4.0.)
SIO2_CHAIN = {"s_range": (2.8, 4.0), "s_max": 4.0, "b": 0.2, "s_min": 0.2}


def example_profile():
    """Measured I(s) of an 18 nm amorphous SiO2 film (eRDF Analyser reference).

    2538 samples, s = 0–4.24 Å⁻¹ in steps of 0.00167 Å⁻¹; the beam-stop region
    s < 0.177 Å⁻¹ is zero. Source: Shanmugam et al., SoftwareX 6, 185 (2017),
    via the ePDFpy repository (GPL-3.0); see ``a-SiO2_18nm_profile.README.md``.

    Returns
    -------
    ReducedIntensity1DPlus
        Stage "intensity", no navigation axes, s in Å⁻¹.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> ri = epdf.data.example_profile()
    >>> ri.data.shape, round(float(ri.axes_manager.signal_axes[0].scale), 5)
    ((2538,), 0.00167)
    """
    import hyperspy.api as hs

    from ..signals import from_profile

    path = resources.files("pyxem_epdf.data").joinpath("a-SiO2_18nm_profile.txt")
    with resources.as_file(path) as p:
        intensity = np.loadtxt(p)
    sig = hs.signals.Signal1D(intensity)
    axis = sig.axes_manager.signal_axes[0]
    axis.scale, axis.units, axis.name = SIO2_S_SCALE, "Å^-1", "s"
    sig.metadata.General.title = "a-SiO2 18 nm film"
    sig.metadata.set_item("Sample.description", "amorphous SiO2 film, 18 nm")
    return from_profile(sig, bin_position="center")


def example_pdf():
    """G(r) of the a-SiO2 example, processed with :data:`SIO2_CHAIN`.

    Returns
    -------
    PDF1DPlus
        r = 0–10 Å in 0.01 Å steps.

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> epdf.data.example_pdf().axes_manager.signal_axes[0].size
    1001
    """
    p = SIO2_CHAIN
    return (
        example_profile()
        .fit_scattering("SiO2", s_range=p["s_range"])
        .polynomial_correct(s_max=p["s_max"])
        .damp_exponential(b=p["b"])
        .extrapolate_low_s(s_min=p["s_min"])
        .to_pdf(r_max=10.0, r_step=0.01)
    )


def zif4_files():
    """Paths of the shipped ZIF-4 reference files (X-ray PDF and F(Q), CIF models).

    See ``pyxem_epdf/data/zif4/README.md`` for sources (Gaillac et al. 2017,
    Lewis et al. 2009, Gaillac et al. 2020; CC BY 4.0).

    Returns
    -------
    dict of pathlib.Path
        ``"xray_dofr"`` (D(r), r in Å), ``"xray_fq"`` (F(Q), Q = 2πs in Å⁻¹),
        ``"crystal_cif"`` and ``"glass_cif"`` (P1 models).

    Examples
    --------
    >>> import pyxem_epdf as epdf
    >>> files = epdf.data.zif4_files()
    >>> sorted(files), files["glass_cif"].exists()
    (['crystal_cif', 'glass_cif', 'xray_dofr', 'xray_fq'], True)
    """
    from pathlib import Path

    root = Path(str(resources.files("pyxem_epdf.data").joinpath("zif4")))
    return {
        "xray_dofr": root / "ZIF4glassa_403.dofr",
        "xray_fq": root / "ZIF4glassa_403.int01",
        "crystal_cif": root / "ZIF-4_Lewis2009_P1.cif",
        "glass_cif": root / "ZIF4_15glass01.cif",
    }
