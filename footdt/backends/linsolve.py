"""Sparse linear solvers for symmetric positive definite FE systems, factorised once, solved often.

``factorize(K, method, ...)`` returns an object whose ``solve(b)`` handles any number of
right-hand sides with the same matrix (one factorisation or AMG hierarchy per matrix). Methods:

- ``pardiso``: MKL PARDISO via pypardiso, symmetric positive definite mode (mtype 2) on the upper
  triangle, METIS ordering (PARDISO's default). Versus pypardiso's default unsymmetric mode
  (mtype 11) on a 158,775-DOF box: 311 vs 605 GFlop, 136M vs 266M factor entries, 1.4 vs 2.5 GB.
- ``amg``: pyamg smoothed aggregation as a preconditioner for CG. With ``near_nullspace_coords``
  (one xyz row per node, 3 DOFs per node in node-major order) the matrix is blocked 3x3 (BSR) and
  the six rigid-body modes are the near-nullspace; strength threshold ``AMG_THETA``.
- ``superlu``: SciPy's SuperLU; refused above ``superlu_max_dofs`` (SuperLU took 346 s and 8.5 GB
  at 153k DOF on a 2-core machine).
- ``default``: ``pardiso`` when pypardiso and MKL load, else ``amg``.

Threads: ``threads > 0`` sets MKL's thread-local thread count around every PARDISO call (via
``MKL_Set_Num_Threads_Local``, the C entry point; the lower-case one is Fortran, by reference) and
restores it afterwards; 0 keeps MKL's default (all cores, or ``MKL_NUM_THREADS``). pyamg and
SuperLU are single-threaded; AMG runs with BLAS limited to one thread (see ``_blas_single_thread``).

Solvers never judge their own answers: callers check ``relative_residual`` on every solution.
Imports of pypardiso, pyamg and scipy.sparse.linalg are lazy.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import hashlib
import importlib.util
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp

from footdt.errors import BackendUnavailable, SolveError

METHODS = ("pardiso", "amg", "superlu", "default")
#: Largest system SuperLU may factorise (DOF); beyond this it is slow and memory-hungry.
SUPERLU_MAX_DOFS = 60_000
#: Symmetric strength threshold for AMG: 0.04 gave 24 CG iterations on the 158k-DOF bone/soft-tissue
#: box benchmark, 0.08 gave 61 (REFERENCE.md: 0.12 -> 126, default 0 -> twice as many).
AMG_THETA = 0.04
#: CG stops at this fraction of the requested relative tolerance (the caller checks the true residual).
CG_SAFETY = 0.1


class Factorization(Protocol):
    method: str
    info: dict[str, Any]

    def solve(self, b: np.ndarray) -> np.ndarray: ...


def relative_residual(K: sp.sparray | sp.spmatrix, x: np.ndarray, b: np.ndarray) -> float:
    """||K x - b|| / ||b|| (absolute ||K x|| when b is zero)."""
    r = float(np.linalg.norm(K @ x - b))
    nb = float(np.linalg.norm(b))
    return r / nb if nb > 0 else r


@functools.cache
def _mkl_rt_path() -> str | None:
    """MKL's runtime library next to this Python (pip's mkl wheel), found without a deep search."""
    for pattern in ("lib/libmkl_rt.so*", "lib/libmkl_rt*.dylib", "Library/bin/mkl_rt*.dll"):
        hits = sorted(Path(sys.prefix).glob(pattern), key=lambda p: len(str(p)))
        if hits:
            return str(hits[0])
    return None


def _new_pardiso(mtype: int) -> Any:
    """A PyPardisoSolver; points pypardiso at MKL directly (its own fallback is a recursive glob of
    sys.prefix that costs ~1 s per solver)."""
    from pypardiso import PyPardisoSolver

    path = os.environ.get("PYPARDISO_MKL_RT") or _mkl_rt_path()
    if path is None:
        return PyPardisoSolver(mtype=mtype)
    saved = os.environ.get("PYPARDISO_MKL_RT")
    os.environ["PYPARDISO_MKL_RT"] = path
    try:
        return PyPardisoSolver(mtype=mtype)
    finally:
        if saved is None:
            del os.environ["PYPARDISO_MKL_RT"]


@functools.cache
def pardiso_available() -> bool:
    """True when pypardiso is installed and can load MKL's runtime library (checked once)."""
    if importlib.util.find_spec("pypardiso") is None:
        return False
    try:
        _new_pardiso(2)
    except (ImportError, OSError):
        return False
    return True


def resolve_method(method: str) -> str:
    """The concrete method for ``method`` ('default' -> pardiso if usable, else amg)."""
    if method not in METHODS:
        raise SolveError(f"unknown linear solver {method!r}; choose one of: {', '.join(METHODS)}")
    if method == "default":
        method = "pardiso" if pardiso_available() else "amg"
    if method == "pardiso" and not pardiso_available():
        raise BackendUnavailable(
            "linear solver 'pardiso' needs pypardiso with MKL (pip install pypardiso); "
            "or set linear_solver = 'amg' in the solver profile"
        )
    if method == "amg" and importlib.util.find_spec("pyamg") is None:
        raise BackendUnavailable("linear solver 'amg' needs pyamg (pip install pyamg)")
    return method


def factorize(
    K: sp.sparray | sp.spmatrix,
    method: str = "default",
    threads: int = 0,
    rtol: float = 1e-8,
    max_iterations: int = 2000,
    near_nullspace_coords: np.ndarray | None = None,
    superlu_max_dofs: int = SUPERLU_MAX_DOFS,
) -> Factorization:
    """Prepare ``K`` (symmetric positive definite, n x n) for repeated solves with ``method``."""
    n = K.shape[0]
    concrete = resolve_method(method)
    if concrete == "pardiso":
        return PardisoSPD(K, threads)
    if concrete == "amg":
        return AmgCG(K, rtol, max_iterations, near_nullspace_coords)
    if n > superlu_max_dofs:
        raise SolveError(
            f"linear solver 'superlu' refuses {n} DOF (limit {superlu_max_dofs}: it needs minutes and "
            "many GB here); set linear_solver = 'pardiso' or 'amg' in the solver profile"
        )
    return SuperLU(K)


@contextlib.contextmanager
def _mkl_threads(lib: Any, threads: int) -> Any:
    if threads <= 0:
        yield
        return
    previous = lib.MKL_Set_Num_Threads_Local(ctypes.c_int(threads))
    try:
        yield
    finally:
        lib.MKL_Set_Num_Threads_Local(ctypes.c_int(previous))


class _KeptAnalysis:
    """The last PARDISO solver of this process whose symbolic analysis (METIS ordering, symbolic
    factorisation) is kept after its numeric factor was freed, keyed by its sparsity pattern.

    A morphed cohort shares one mesh topology, so every subject's stiffness matrix has the same
    pattern: its next factorisation skips the analysis (PARDISO phase 22 instead of 12). One entry
    only, so a process holds at most one analysis (a few % of the factor's memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[str, Any] | None = None

    def take(self, key: str) -> Any | None:
        """The kept solver for pattern ``key`` (removed from the cache), or None."""
        with self._lock:
            entry, self._entry = self._entry, None
        if entry is None:
            return None
        if entry[0] == key:
            return entry[1]
        _free(entry[1], everything=True)
        return None

    def keep(self, key: str, solver: Any) -> None:
        _free(solver, everything=False)  # the numeric factor, the analysis stays
        with self._lock:
            old, self._entry = self._entry, (key, solver)
        if old is not None:
            _free(old[1], everything=True)

    def clear(self) -> None:
        with self._lock:
            old, self._entry = self._entry, None
        if old is not None:
            _free(old[1], everything=True)


def _free(solver: Any, everything: bool) -> None:
    # PARDISO's factors live in MKL memory that Python's garbage collector cannot see.
    with contextlib.suppress(Exception):  # interpreter shutdown, a failed factorisation
        solver.free_memory(everything=everything)


KEPT_ANALYSIS = _KeptAnalysis()


def pattern_key(A: sp.csr_matrix) -> str:
    """Digest of a CSR matrix's shape and sparsity pattern (not its values)."""
    h = hashlib.sha1(np.asarray(A.shape, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(A.indptr, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(A.indices, dtype=np.int32).tobytes())
    return h.hexdigest()


class PardisoSPD:
    """MKL PARDISO, real symmetric positive definite (mtype 2), upper triangle in CSR.

    With ``reuse_analysis`` (default) the symbolic analysis of the last matrix with the same
    sparsity pattern in this process is reused (``KEPT_ANALYSIS``): only the numeric factorisation
    runs. ``info["analysis_reused"]`` says which happened."""

    method = "pardiso"

    def __init__(
        self, K: sp.sparray | sp.spmatrix, threads: int = 0, reuse_analysis: bool = True
    ) -> None:
        from pypardiso.pardiso_wrapper import PyPardisoError

        self._error = PyPardisoError
        start = time.perf_counter()
        # PARDISO's symmetric modes read the upper triangle including every diagonal entry.
        self._A = sp.csr_matrix(sp.triu(K, format="csr"), dtype=np.float64)
        self._A.sort_indices()
        # 0 = every core this process may use: set it explicitly, so an earlier BLAS limit
        # (threadpoolctl around AMG, a parent's MKL setting) cannot leave PARDISO on one thread
        threads = threads if threads > 0 else len(os.sched_getaffinity(0))
        self._threads = threads
        # an analysis made with 2 threads crashed MKL's numeric factorisation on 1 thread: the
        # thread count is part of the key
        self._key = f"{threads}:{pattern_key(self._A)}" if reuse_analysis else None
        kept = KEPT_ANALYSIS.take(self._key) if self._key else None
        self._solver = kept if kept is not None else _new_pardiso(2)
        with _mkl_threads(self._solver.libmkl, threads):
            try:
                # phase 12: analysis + numeric factorisation; 22: numeric only (analysis kept)
                self._solver.set_phase(22 if kept is not None else 12)
                self._solver._call_pardiso(self._A, np.zeros((self._A.shape[0], 1)))
            except PyPardisoError as exc:
                _free(self._solver, everything=True)
                self._solver = None  # nothing left to free or keep (``__del__``)
                raise SolveError(
                    f"PARDISO could not factorise the {K.shape[0]}-DOF stiffness matrix ({exc}); the "
                    "model is probably not fully constrained (check fixed DOFs and floating parts)"
                ) from None
        self.info: dict[str, Any] = {
            "method": self.method,
            "mtype": 2,
            "threads": threads,
            "analysis_reused": kept is not None,
            "factor_time": time.perf_counter() - start,
            "iterations": [],
            "solve_time": [],
        }

    def solve(self, b: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        rhs = np.asarray(b, dtype=np.float64)
        if rhs.ndim == 2:
            rhs = np.asfortranarray(rhs)  # PARDISO reads several right-hand sides column-major
        with _mkl_threads(self._solver.libmkl, self._threads):
            try:
                self._solver.set_phase(33)  # forward/backward substitution with this factor
                x = self._solver._call_pardiso(self._A, rhs)
            except self._error as exc:
                raise SolveError(f"PARDISO solve failed ({exc})") from None
        self.info["solve_time"].append(time.perf_counter() - start)
        return np.asarray(x)

    def __del__(self) -> None:
        solver = getattr(self, "_solver", None)
        if solver is None:
            return
        key = getattr(self, "_key", None)
        if key:
            with contextlib.suppress(Exception):  # interpreter shutdown
                KEPT_ANALYSIS.keep(key, solver)
                return
        _free(solver, everything=True)


def _blas_single_thread() -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to one thread (threadpoolctl, if installed) for AMG-CG's memory-bound kernels:
    on 2 cores, idle OpenBLAS threads spinning between tiny BLAS calls doubled the CPU time."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def rigid_body_modes(coords: np.ndarray) -> np.ndarray:
    """(3N, 6) translations and rotations of N nodes (node-major DOFs), centred for conditioning."""
    x = np.asarray(coords, dtype=np.float64) - np.mean(coords, axis=0)
    n = len(x)
    B = np.zeros((n, 3, 6))
    B[:, 0, 0] = B[:, 1, 1] = B[:, 2, 2] = 1.0
    B[:, 0, 3], B[:, 1, 3] = -x[:, 1], x[:, 0]  # rotation about z
    B[:, 1, 4], B[:, 2, 4] = -x[:, 2], x[:, 1]  # about x
    B[:, 0, 5], B[:, 2, 5] = x[:, 2], -x[:, 0]  # about y
    return B.reshape(3 * n, 6)


class AmgCG:
    """Smoothed-aggregation AMG (pyamg) preconditioning SciPy's CG."""

    method = "amg"

    def __init__(
        self,
        K: sp.sparray | sp.spmatrix,
        rtol: float,
        max_iterations: int,
        near_nullspace_coords: np.ndarray | None = None,
    ) -> None:
        import pyamg

        start = time.perf_counter()
        self._K = sp.csr_matrix(K, dtype=np.float64)
        self._rtol, self._maxiter = rtol, max_iterations
        strength = ("symmetric", {"theta": AMG_THETA})
        blocked = near_nullspace_coords is not None and 3 * len(near_nullspace_coords) == K.shape[0]
        with _blas_single_thread():
            if blocked:
                A = sp.bsr_matrix(self._K, blocksize=(3, 3))
                B = rigid_body_modes(np.asarray(near_nullspace_coords))
                self._ml = pyamg.smoothed_aggregation_solver(
                    A, B=B, strength=strength, max_coarse=300
                )
            else:
                self._ml = pyamg.smoothed_aggregation_solver(
                    self._K, strength=strength, max_coarse=300
                )
        self._M = self._ml.aspreconditioner(cycle="V")
        self.info: dict[str, Any] = {
            "method": self.method,
            "near_nullspace": "rigid_body_modes" if blocked else "constant",
            "theta": AMG_THETA,
            "levels": len(self._ml.levels),
            "operator_complexity": float(self._ml.operator_complexity()),
            "setup_time": time.perf_counter() - start,
            "iterations": [],
            "solve_time": [],
        }

    def solve(self, b: np.ndarray) -> np.ndarray:
        from scipy.sparse.linalg import cg

        start = time.perf_counter()
        b = np.asarray(b, dtype=np.float64)
        if not np.any(b):
            self.info["iterations"].append(0)
            self.info["solve_time"].append(0.0)
            return np.zeros_like(b)
        count = [0]

        def tick(_: np.ndarray) -> None:
            count[0] += 1

        with _blas_single_thread():
            x, status = cg(
                self._K,
                b,
                rtol=self._rtol * CG_SAFETY,
                maxiter=self._maxiter,
                M=self._M,
                callback=tick,
            )
        self.info["iterations"].append(count[0])
        self.info["solve_time"].append(time.perf_counter() - start)
        if status != 0:
            res = relative_residual(self._K, x, b)
            raise SolveError(
                f"AMG-preconditioned CG stopped after {count[0]} iterations at relative residual "
                f"{res:.2e} (> {self._rtol * CG_SAFETY:.0e}); raise max_iterations or use pardiso"
            )
        return np.asarray(x)


class SuperLU:
    """SciPy's SuperLU (small systems only)."""

    method = "superlu"

    def __init__(self, K: sp.sparray | sp.spmatrix) -> None:
        from scipy.sparse.linalg import splu

        start = time.perf_counter()
        try:
            self._lu = splu(sp.csc_matrix(K, dtype=np.float64))
        except RuntimeError as exc:  # "Factor is exactly singular"
            raise SolveError(
                f"SuperLU could not factorise the stiffness matrix ({exc}); the model is probably not "
                "fully constrained (check fixed DOFs and floating parts)"
            ) from None
        self.info: dict[str, Any] = {
            "method": self.method,
            "factor_time": time.perf_counter() - start,
            "iterations": [],
            "solve_time": [],
        }

    def solve(self, b: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        x = np.asarray(self._lu.solve(np.asarray(b, dtype=np.float64)))
        self.info["solve_time"].append(time.perf_counter() - start)
        return x
