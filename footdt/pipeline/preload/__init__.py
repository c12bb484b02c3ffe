"""What the worker pool's fork server imports once, so that every worker starts with its backend's
solver stack already imported instead of importing it per worker. (A worker then keeps, across
its trials, the last mesh topology and PARDISO factorisation it made:
``footdt.fem.assembly.TOPOLOGIES``, ``linsolve.KEPT_FACTOR``.)

The stack depends on the run's backend (``STACKS``): a native worker gets footdt's FE kernel and
PARDISO but neither SfePy nor gmsh (~100 MB of resident memory per worker, counted again in each
worker's peak; gmsh is still imported on demand if a trial's compile step meshes); a CalculiX
worker gets no SfePy; SfePy and any other backend get everything. The fork server imports one
module of this package, ``module_for(backend)`` (e.g. ``footdt.pipeline.preload.native``), which
calls ``preload`` with its stack.

Importing runs no solver and starts no thread pool; it is silent (SfePy prints while importing).
The SfePy stack also builds SfePy's discretisation of one tetrahedron, which fills SfePy's lazy
caches.
"""

from __future__ import annotations

import contextlib
import importlib
import io

#: Every backend's worker runs these steps: compile, the run state, results and labels.
COMMON = ("footdt.pipeline.trial", "footdt.compile", "footdt.results", "footdt.labels.store")
_KERNEL = ("footdt.backends.native", "footdt.fem.assembly", "footdt.fem.statics")

#: Modules per stack; ``pardiso``: also load MKL's PARDISO; ``sfepy``: also warm SfePy up.
STACKS: dict[str, tuple[str, ...]] = {
    "native": COMMON + _KERNEL,
    "calculix": (*COMMON, "footdt.backends.calculix", "gmsh"),
    "full": (*COMMON, "footdt.backends.sfepy", *_KERNEL, "gmsh"),
}
_PARDISO = frozenset({"native", "full"})
#: Backends with a stack of their own; every other backend (sfepy, abaqus, ...) gets ``full``.
_OWN = frozenset({"native", "calculix"})


def stack_for(backend: str | None) -> str:
    return backend if backend in _OWN else "full"


def module_for(backend: str | None) -> str:
    """The module the fork server imports for a run of ``backend`` (None: everything)."""
    return f"{__name__}.{stack_for(backend)}"


def preload(stack: str) -> None:
    for name in STACKS[stack]:
        with contextlib.suppress(ImportError), contextlib.redirect_stdout(io.StringIO()):
            importlib.import_module(name)
    if stack in _PARDISO:
        with contextlib.suppress(ImportError):
            from footdt.backends.linsolve import pardiso_available

            pardiso_available()  # imports pypardiso with MKL's path set (no search of sys.prefix)
    if stack == "full":
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
