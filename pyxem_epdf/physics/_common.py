"""Small shared helpers of the numerical core (validation, window indices)."""

import numpy as np


def as_axis(s, name="s"):
    """Return the axis values as a 1-D float array, checking they increase."""
    s = np.asarray(s, dtype=float)
    if s.ndim != 1 or s.size < 2:
        raise ValueError(f"'{name}' must be a 1-D axis with at least 2 values.")
    if not np.all(np.isfinite(s)) or np.any(np.diff(s) <= 0):
        raise ValueError(f"'{name}' must be finite and strictly increasing.")
    return s


def pattern_stack(frames, name="frames"):
    """``frames`` as a NumPy array (a dask array stays lazy) of real patterns, nav + (ny, nx).

    Parameters
    ----------
    frames : array_like or dask.array.Array
        One pattern (ny, nx) or a stack of them.
    name : str
        Parameter name for the error message.

    Returns
    -------
    frames : numpy.ndarray or dask.array.Array
    is_dask : bool

    Raises
    ------
    ValueError
        Fewer than 2 dimensions, or not a real (unsigned/int/float) dtype.

    Examples
    --------
    >>> pattern_stack([[1, 2], [3, 4]])[0].shape
    (2, 2)
    """
    is_dask = hasattr(frames, "dask")
    if not is_dask:
        frames = np.asarray(frames)
    if frames.ndim < 2 or frames.dtype.kind not in "uif":
        raise ValueError(f"'{name}' must be real patterns of shape nav + (ny, nx); "
                         f"got shape {frames.shape} and dtype {frames.dtype}.")
    return frames, is_dask


def window_slice(s, lo, hi, name="s_range", min_points=3):
    """Index slice of the axis values ``s`` inside the closed window [lo, hi].

    Samples are bin centres, so the data cover half a spacing beyond the
    first and last value; a window reaching into that margin is accepted.
    Raises a ``ValueError`` naming ``name`` when the window is not ordered,
    lies outside the data or holds fewer than ``min_points`` samples.
    """
    try:
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise ValueError(f"'{name}' must be two numbers (lo, hi); got {(lo, hi)!r}.") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"'{name}' must satisfy lo < hi; got ({lo}, {hi}).")
    half = 0.5 * float(s[1] - s[0]) if s.size > 1 else 0.0
    first, last = s[0] - half, s[-1] + 0.5 * float(s[-1] - s[-2]) if s.size > 1 else s[-1]
    if lo < first - 1e-9 * abs(first or 1) or hi > last + 1e-9 * abs(last or 1):
        raise ValueError(
            f"'{name}' = ({lo:g}, {hi:g}) lies outside the data, which covers "
            f"{first:g} to {last:g}."
        )
    i0 = int(np.searchsorted(s, lo, side="left"))
    i1 = int(np.searchsorted(s, hi, side="right"))
    if i1 - i0 < min_points:
        raise ValueError(
            f"'{name}' = ({lo:g}, {hi:g}) contains {i1 - i0} samples; at least "
            f"{min_points} are needed."
        )
    return slice(i0, i1)


def safe_divide(num, den):
    """num / den where den != 0 and finite, else 0 (NumPy or dask)."""
    ok = (den != 0) & np.isfinite(den)
    return np.where(ok, num / np.where(ok, den, 1), 0)


def as_array(x):
    """``x`` unchanged if it is a dask array, else as a float NumPy array."""
    return x if hasattr(x, "dask") else np.asarray(x, dtype=float)


def last_axis(x, axis):
    """Move ``axis`` of an N-D array to the end (1-D and scalars unchanged)."""
    x = as_array(x)
    return np.moveaxis(x, axis, -1) if x.ndim > 1 else x


def expand_nav(x):
    """Append a trailing length-1 axis to a navigation-shaped array."""
    x = as_array(x)
    return x[..., None] if x.ndim > 0 else x


def float_dtype(dtype):
    """The name of a result precision, ``"float32"`` or ``"float64"``.

    Raises a ``ValueError`` naming ``'dtype'`` for anything else.
    """
    try:
        name = str(np.dtype(dtype))
    except TypeError:
        name = None
    if name not in ("float32", "float64"):
        raise ValueError(f"'dtype' must be 'float32' or 'float64'; got {dtype!r}.")
    return name


def count_up_to(s, s_max):
    """How many samples of the increasing axis ``s`` lie at or below ``s_max``
    (with a relative tolerance of 1e-12, so that s_max = s[-1] keeps every sample)."""
    return int(np.searchsorted(s, s_max * (1 + 1e-12), side="right"))


def outer_edge(s):
    """Outer edge of the last s bin: the last sample plus half a spacing (Å⁻¹).

    Samples are bin centres (pyxem's and our integration's convention), so a
    profile integrated to s_max = 2.5 Å⁻¹ in 70 bins has its last sample at
    2.482 Å⁻¹ and its outer edge at 2.5 Å⁻¹.

    Examples
    --------
    >>> outer_edge(np.array([0.25, 0.75, 1.25]))
    1.5
    """
    s = np.asarray(s, dtype=float)
    return float(s[-1] + 0.5 * (s[-1] - s[-2])) if s.size > 1 else float(s[-1])


def as_float(value, name, *, units="", allow_none=False):
    """``value`` as a finite float, or a ``TypeError``/``ValueError`` naming ``name``.

    Examples
    --------
    >>> as_float(0.8, "b")
    0.8
    >>> as_float("strong", "b", units="Å²")
    Traceback (most recent call last):
    ...
    TypeError: 'b' must be a number in Å²; got 'strong' (str).
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        if not (isinstance(value, np.ndarray) and value.ndim == 0
                and np.issubdtype(value.dtype, np.number)):
            unit = f" in {units}" if units else ""
            raise TypeError(
                f"'{name}' must be a number{unit}; got {value!r} ({type(value).__name__})."
            )
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"'{name}' must be finite; got {value!r}.")
    return value


def as_pair(value, name, *, units="Å⁻¹"):
    """``value`` as an ordered pair of finite floats ``(lo, hi)``, lo < hi.

    Examples
    --------
    >>> as_pair([1.6, 2.5], "s_range")
    (1.6, 2.5)
    >>> as_pair(1.6, "s_range")
    Traceback (most recent call last):
    ...
    TypeError: 's_range' must be a pair (lo, hi) of numbers in Å⁻¹; got 1.6 (float).
    """
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise TypeError(
            f"'{name}' must be a pair (lo, hi) of numbers in {units}; got {value!r} "
            f"({type(value).__name__})."
        ) from None
    lo, hi = as_float(lo, f"{name}[0]", units=units), as_float(hi, f"{name}[1]", units=units)
    if not lo < hi:
        raise ValueError(f"'{name}' must satisfy lo < hi; got ({lo:g}, {hi:g}) {units}.")
    return lo, hi


def check_s_max(s, s_max, *, edge=None, name="s_max"):
    """Validate an upper end ``s_max`` (Å⁻¹) against the axis ``s`` and return it.

    One meaning of s_max everywhere: the polynomial zero and the end of the
    data used may lie anywhere in (s[0], outer edge], the outer edge being
    the integration's last bin edge (``edge``, e.g.
    ``metadata.ePDF.integration.edges[-1]``) or, by default, the last sample
    plus half a spacing (:func:`outer_edge`). So ``azimuthal_profile(dp,
    s_max=2.5)`` followed by ``polynomial_correct(s_max=2.5)`` works.

    Examples
    --------
    >>> s = np.linspace(0.0125, 2.4875, 100)      # 100 bins of 0.025 up to 2.5
    >>> check_s_max(s, 2.5)
    2.5
    >>> check_s_max(s, 2.6)
    Traceback (most recent call last):
    ...
    ValueError: 's_max' must lie in (0.0125, 2.5] Å⁻¹ (the data up to its outer bin edge); got 2.6.
    """
    s = np.asarray(s, dtype=float)
    value = as_float(s_max, name, units="Å⁻¹")
    top = outer_edge(s) if edge is None else max(float(edge), float(s[-1]))
    if not s[0] < value <= top * (1 + 1e-9):
        raise ValueError(
            f"'{name}' must lie in ({s[0]:g}, {top:g}] Å⁻¹ (the data up to its outer bin "
            f"edge); got {value:g}."
        )
    return value


def usable_cores(limit=8):
    """Number of cores this process may run on (its CPU affinity), at most ``limit``.

    ``os.cpu_count()`` counts the machine's cores even when the process is
    pinned to fewer (a batch slot, ``taskset``), which oversubscribes them.

    Examples
    --------
    >>> 1 <= usable_cores() <= 8
    True
    """
    import os

    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    return max(1, min(n, int(limit)))
