"""Quantum Detectors .mib input (read by rosettasciio) through calibration and integration."""

import hyperspy.api as hs
import numpy as np

import pyxem_epdf as epdf
from pyxem_epdf import data


def mib_header(index, size):
    """A single-chip Merlin frame header (384 bytes), as the detector writes it."""
    fields = ["MQ1", f"{index:06d}", "00384", "01", f"{size:04d}", f"{size:04d}", "U16",
              "   1x1", "01", "2024-01-01 00:00:00.000000", "0.001000", "0", "0", "0",
              *(["0.000000E+0"] * 10), "3RX", "175", "511", *(["125"] * 7),
              "MQ1A", "2024-01-01T00:00:00.000000000Z", "1000000ns", "12", ""]
    head = ",".join(fields).encode()
    return head + b"\x00" * (384 - len(head))


def write_mib(path, frames):
    """Frames (n, ny, nx) as a .mib; rosettasciio flips rows on reading, so flip here."""
    with open(path, "wb") as fh:
        for i, frame in enumerate(frames):
            fh.write(mib_header(i + 1, frame.shape[-1]))
            fh.write(np.ascontiguousarray(frame[::-1]).astype(">u2").tobytes())


def test_mib_scan_through_calibration_and_integration(tmp_path):
    synth = data.two_phase_composite(nav_shape=(3, 4), seed=8)
    frames = np.asarray(synth.signal.data).reshape((-1,) + synth.parameters.detector_shape)
    path = tmp_path / "scan.mib"
    write_mib(path, frames)
    dp = hs.load(path, navigation_shape=(4, 3), lazy=True)
    assert dp._lazy and dp.data.shape == (3, 4, 128, 128)
    np.testing.assert_array_equal(dp.data.compute(), synth.signal.data)
    dp = epdf.signals.calibrate_s(dp, s_per_pixel=synth.parameters.s_scale)
    ours = epdf.azimuthal_profile(dp, npt=60, s_max=2.4)
    ref = epdf.azimuthal_profile(synth.signal, npt=60, s_max=2.4)
    assert ours._lazy
    ours.compute(show_progressbar=False)
    np.testing.assert_allclose(ours.data, ref.data, rtol=1e-12)
