"""footdt: an open, reproducible digital twin for bone stress in runners.

Importing this package is cheap: heavy dependencies (sfepy, gmsh, tensorflow, opensim, gias3)
are imported inside the functions that use them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
