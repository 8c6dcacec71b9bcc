"""The sine transform from φ(s) to the reduced PDF G(r), as one matrix product.

.. math::

    G(r) = 8π \\int_0^{∞} φ(s) \\sin(2π s r)\\, ds

(the paper's eq. 2, with s = 2 sin(θ)/λ). The integral over the sampled s-grid
is the trapezoidal rule, written as a matrix ``M[j, k] = 8π w_j sin(2π s_j r_k)``
so that ``G = φ @ M`` transforms every probe position in one product (dask
splits it by navigation blocks). If the grid does not start at s = 0 (a
profile exported from the beam-stop edge), φ is taken linear from φ(s_0) down
to φ(0) = 0 on [0, s_0] and integrated on the grid's own spacing, exactly as
if the profile had been zero-padded from s = 0 and extrapolated from its first
sample (:func:`pyxem_epdf.physics.corrections.extrapolate_low_s`): the same
G(r) whatever the axis start.
"""

import numpy as np

from ._common import as_axis, as_float, float_dtype, last_axis


def r_grid(r_max, r_step, r_min=0.0):
    """The explicit r grid r_min, r_min + r_step, …, ≤ r_max (Å).

    Raises
    ------
    ValueError
        If the grid would be empty (r_step ≤ 0, r_max ≤ r_min, r_min < 0 or
        non-finite values).

    Examples
    --------
    >>> r_grid(1.0, 0.25).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    r_min = as_float(r_min, "r_min", units="Å")
    r_max = as_float(r_max, "r_max", units="Å")
    r_step = as_float(r_step, "r_step", units="Å")
    if r_step <= 0:
        raise ValueError(f"'r_step' must be > 0 Å; got {r_step:g}: the r grid would be empty.")
    if r_min < 0:
        raise ValueError(f"'r_min' must be >= 0 Å; got {r_min:g}.")
    if r_max <= r_min:
        raise ValueError(
            f"'r_max' ({r_max:g} Å) must exceed 'r_min' ({r_min:g} Å): the r grid would be empty."
        )
    n = int(np.floor((r_max - r_min) / r_step * (1 + 1e-12))) + 1
    return r_min + r_step * np.arange(n)


def trapezoid_weights(s):
    """Trapezoid-rule weights on the grid s (the samples only, no [0, s_0] part).

    Examples
    --------
    >>> trapezoid_weights([0.0, 1.0, 2.0]).tolist()
    [0.5, 1.0, 0.5]
    >>> trapezoid_weights([1.0, 2.0]).tolist()
    [0.5, 0.5]
    """
    s = as_axis(s)
    w = np.zeros_like(s)
    ds = np.diff(s)
    w[:-1] += ds / 2
    w[1:] += ds / 2
    return w


def low_s_nodes(s):
    """Nodes and trapezoid weights of the line φ(s) = φ(s_0) s/s_0 on [0, s_0].

    The nodes continue the grid's first spacing downwards, s_0 − Δs,
    s_0 − 2Δs, … > 0, and end at 0 (as zero-padded data would); the first
    sample itself is included with its half-interval weight. Empty for a
    grid starting at 0.

    Returns
    -------
    nodes, weights : numpy.ndarray
        s values in Å⁻¹ (increasing, ending at s_0) and weights in Å⁻¹; the
        integral of φ·g over [0, s_0] is ``φ(s_0) Σ weights · nodes/s_0 · g(nodes)``.

    Examples
    --------
    >>> nodes, w = low_s_nodes([0.3, 0.4, 0.5])
    >>> np.round(nodes, 6).tolist(), np.round(w, 6).tolist()
    ([0.0, 0.1, 0.2, 0.3], [0.05, 0.1, 0.1, 0.05])
    >>> low_s_nodes([0.0, 0.1])[0].size
    0
    """
    s = as_axis(s)
    s0, ds = float(s[0]), float(s[1] - s[0])
    if s0 <= 0:
        return np.zeros(0), np.zeros(0)
    k = int(np.floor(s0 / ds * (1 + 1e-9)))
    inner = s0 - ds * np.arange(k, 0, -1)
    inner = inner[inner > 1e-9 * ds]
    nodes = np.concatenate([[0.0], inner, [s0]])
    return nodes, trapezoid_weights(nodes)


def sine_transform_matrix(s, r):
    """Matrix M (n_s × n_r) with G = φ @ M.

    Parameters
    ----------
    s : array_like
        s in Å⁻¹ (≥ 0, increasing).
    r : array_like
        r in Å.

    Returns
    -------
    numpy.ndarray
        ``8π w_j sin(2π s_j r_k)``, in Å⁻¹ (so G is in Å⁻² for φ in Å⁻¹); for
        a grid starting above 0 the first row also holds the line from φ(s_0)
        to 0 on [0, s_0] (:func:`low_s_nodes`).

    Examples
    --------
    >>> s, r = np.linspace(0, 2, 5), r_grid(3.0, 0.5)
    >>> m = sine_transform_matrix(s, r)
    >>> m.shape, round(float(m[1, 1]), 6)   # 8π · 0.5 · sin(2π · 0.5 · 0.5)
    ((5, 7), 12.566371)
    >>> phi = np.array([[0.0, 1.0, 0.5, -0.2, 0.0], [0.0, 0.3, 0.1, 0.2, 0.0]])
    >>> bool(np.allclose(phi @ m, sine_transform(phi, s, r)))   # one product for all spectra
    True
    """
    s = as_axis(s)
    if s[0] < 0:
        raise ValueError(f"'s' must be >= 0 Å⁻¹; the axis starts at {s[0]:g}.")
    r = np.asarray(r, dtype=float)
    m = 8 * np.pi * trapezoid_weights(s)[:, None] * np.sin(2 * np.pi * np.outer(s, r))
    nodes, w = low_s_nodes(s)
    if nodes.size:  # φ linear from φ(s_0) to 0 on [0, s_0]: all of it is ∝ φ(s_0)
        m[0] += 8 * np.pi * (w * nodes / s[0]) @ np.sin(2 * np.pi * np.outer(nodes, r))
    return m


def sine_transform(phi, s, r, *, axis=-1, dtype=None):
    """G(r) = 8π ∫ φ(s) sin(2π s r) ds for every spectrum, as one product.

    Parameters
    ----------
    phi : numpy.ndarray or dask.array.Array
        φ(s) in Å⁻¹, s along ``axis``.
    s : array_like
        s in Å⁻¹.
    r : array_like
        r grid in Å (e.g. from :func:`r_grid`).
    axis : int
        The s axis of ``phi``; r takes its place in the output.
    dtype : {None, "float64", "float32"}
        Precision of the product and of G(r); ``None`` follows ``phi``
        (float64 for float64 data). float32 halves the memory of a G(r) cube
        and the time of the product; its relative rounding (~1e-6 of the
        largest |G|) is far below counting noise.

    Returns
    -------
    array
        G(r) in Å⁻².

    Examples
    --------
    A single peak a/(2π) sin(2π s r₀) exp(−2π²σ²s²) transforms to a Gaussian
    of area a at r₀:

    >>> s = np.linspace(0, 10, 2001)
    >>> phi = np.sin(2 * np.pi * s * 2.0) * np.exp(-2 * np.pi**2 * 0.1**2 * s**2) / (2 * np.pi)
    >>> round(float(sine_transform(phi, s, [2.0])[0]), 4)  # 1/(0.1 sqrt(2π))
    3.9894
    """
    m = _cached_matrix(np.asarray(s, dtype=float), np.asarray(r, dtype=float))
    x = last_axis(phi, axis)
    if dtype is not None:
        dtype = float_dtype(dtype)
        m = m.astype(dtype, copy=False)
        x = x.astype(dtype, copy=False)
    if isinstance(x, np.ndarray) and x.ndim > 2:  # one 2-D BLAS product, not a stack of them
        out = (x.reshape(-1, x.shape[-1]) @ m).reshape(x.shape[:-1] + (m.shape[1],))
    else:
        out = x @ m
    return np.moveaxis(out, -1, axis) if np.ndim(out) > 1 else out


_MATRICES: dict = {}


def _cached_matrix(s, r):
    """:func:`sine_transform_matrix` for (s, r), kept (read-only) for the last four grids
    whose matrix is under 32 MB, so repeated transforms on one grid build it once."""
    key = (s.tobytes(), r.tobytes())
    m = _MATRICES.get(key)
    if m is None:
        m = sine_transform_matrix(s, r)
        m.flags.writeable = False
        if m.nbytes < 32e6:
            if len(_MATRICES) >= 4:
                _MATRICES.pop(next(iter(_MATRICES)))
            _MATRICES[key] = m
    return m
