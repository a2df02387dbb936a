"""Example simtom generators, found through the ``simtom.generators`` entry-point group."""
