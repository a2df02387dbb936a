"""simtom's compute core: Numba kernels over numpy arrays (no web, no DataFrame imports)."""
