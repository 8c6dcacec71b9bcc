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
