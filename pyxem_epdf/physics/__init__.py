"""Pure numerical core of the ePDF chain (NumPy/SciPy/dask only, no HyperSpy).

Every function takes arrays (NumPy or dask) and the signal-axis *values*,
works along ``axis=-1`` over any number of leading (navigation) dimensions,
never modifies its inputs and returns new arrays: NumPy in gives NumPy out,
dask in gives dask out.
"""
