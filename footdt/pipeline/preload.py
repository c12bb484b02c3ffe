"""Imported once by the worker pool's fork server, so that every worker starts with the solver
stack already imported (SfePy, footdt's own FE kernel, PARDISO, gmsh, SQLAlchemy) instead of
importing it per worker. (A worker then keeps, across its trials, the last mesh topology and
PARDISO factorisation it made: ``footdt.fem.assembly.TOPOLOGIES``, ``linsolve.KEPT_FACTOR``.)

Importing runs no solver and starts no thread pool; it is silent (SfePy prints while importing).
It also builds SfePy's discretisation of one tetrahedron, which fills SfePy's lazy caches.
"""

from __future__ import annotations

import contextlib
import importlib
import io

MODULES = (
    "footdt.pipeline.trial",
    "footdt.compile",
    "footdt.results",
    "footdt.labels.store",
    "footdt.backends.sfepy",
    "footdt.backends.native",
    "footdt.fem.assembly",
    "footdt.fem.statics",
    "gmsh",
)


def preload() -> None:
    for name in MODULES:
        with contextlib.suppress(ImportError), contextlib.redirect_stdout(io.StringIO()):
            importlib.import_module(name)
    with contextlib.suppress(ImportError):
        from footdt.backends.linsolve import pardiso_available

        pardiso_available()  # imports pypardiso with MKL's path set (no search of sys.prefix)
    with contextlib.suppress(ImportError):
        from footdt.backends.sfepy import _quiet_sfepy

        with _quiet_sfepy():  # imports sfepy.discrete.fem and sfepy.terms
            pass
        _warm_up()


def _warm_up() -> None:
    import numpy as np

    from footdt.backends.sfepy import SfepyFE
    from footdt.ir import AnalysisModel, Material

    tet = AnalysisModel(
        subject="warm_up", trial="1", cell_type="tetra",
        nodes=np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]]),
        elements=np.array([[0, 1, 2, 3]]), parts={"body": np.array([0])},
        materials={"m": Material("m", 1.0, 0.3)}, sections={"body": "m"},
    )  # fmt: skip
    with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
        SfepyFE(tet)


preload()
