"""Regions of a scan: boolean masks from masks, mask signals or HyperSpy ROIs.

Used by :meth:`ReducedIntensity1DPlus.sum_regions` (the paper's region-summed
route, Fig. 2): every region becomes a boolean mask over the navigation array
(shape ``axes_manager._navigation_shape_in_array``), evaluated from the
calibrated navigation coordinates, so any mask, ROI or thresholded loading map
is handled the same way.
"""

import numpy as np
from hyperspy.roi import CircleROI, RectangularROI, SpanROI
from hyperspy.signal import BaseSignal


def nav_coordinates(signal):
    """Calibrated coordinates of every probe position, one array per nav axis.

    Returns arrays in array order (rows first), each of the navigation shape.
    """
    axes = signal.axes_manager.navigation_axes[::-1]  # array order
    grids = np.meshgrid(*[np.asarray(a.axis) for a in axes], indexing="ij")
    return grids


def region_mask(signal, region):
    """Boolean navigation mask of one region.

    Parameters
    ----------
    signal : BaseSignal
        The scan (any navigation dimension ≥ 1).
    region : array_like of bool, BaseSignal, RectangularROI, CircleROI or SpanROI
        A mask of the navigation shape (array order), a signal holding one,
        or a ROI in calibrated navigation units.

    Returns
    -------
    numpy.ndarray of bool
        Shape ``axes_manager._navigation_shape_in_array``.
    """
    nav_shape = tuple(signal.axes_manager._navigation_shape_in_array)
    if not nav_shape:
        raise ValueError("The signal has no navigation axes: there is no region to select.")
    if isinstance(region, (RectangularROI, CircleROI, SpanROI)):
        mask = _roi_mask(signal, region)
    else:
        data = region.data if isinstance(region, BaseSignal) else region
        if hasattr(data, "compute"):
            data = data.compute()
        mask = np.asarray(data)
        if mask.dtype != bool:
            raise ValueError(
                f"A region mask must be boolean; got dtype {mask.dtype}. Threshold "
                "a loading map first, e.g. `loading > 0.5`."
            )
        if mask.shape != nav_shape:
            raise ValueError(
                f"A region mask must have the navigation shape {nav_shape}; got {mask.shape}."
            )
    if not mask.any():
        raise ValueError(f"Region {region!r} selects no probe position (outside the scan?).")
    return mask


def _roi_mask(signal, roi):
    coords = nav_coordinates(signal)
    ndim = len(coords)
    if isinstance(roi, SpanROI):
        if ndim != 1:
            raise ValueError(f"A SpanROI needs a 1-D scan; this scan is {ndim}-D.")
        (x,) = coords
        return (x >= roi.left) & (x < roi.right)
    if ndim != 2:
        raise ValueError(f"A {type(roi).__name__} needs a 2-D scan; this scan is {ndim}-D.")
    y, x = coords
    if isinstance(roi, RectangularROI):
        return (x >= roi.left) & (x < roi.right) & (y >= roi.top) & (y < roi.bottom)
    d2 = (x - roi.cx) ** 2 + (y - roi.cy) ** 2
    inner = roi.r_inner if roi.r_inner else 0.0
    return (d2 <= roi.r**2) & (d2 >= inner**2)
