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

Factor once per cohort (``factorize_kept``): the first PARDISO factorisation of a matrix pattern
in a process is kept (``KEPT_FACTOR``, one entry); a later matrix with the same pattern (the next
morphed runner, another active set of its connectors) is solved by conjugate gradients
preconditioned with it (``KeptFactorPCG``), several right-hand sides at once. Past an iteration
bound the new matrix is factorised itself, replaces the kept factor, and its record says so.
A matrix may be given as ``UpperSymmetric`` (its upper triangle only), which PARDISO takes as is.

Threads: ``threads > 0`` sets MKL's thread-local thread count around every PARDISO call (via
``MKL_Set_Num_Threads_Local``, the C entry point; the lower-case one is Fortran, by reference) and
restores it afterwards; 0 keeps MKL's default (all cores, or ``MKL_NUM_THREADS``). pyamg and
SuperLU are single-threaded; AMG runs with BLAS limited to one thread (see ``_blas_single_thread``).

Solvers never judge their own answers: callers check ``relative_residual`` on every solution.
Imports of pypardiso, pyamg and scipy.sparse.linalg are lazy.
"""

from __future__ import annotations

import atexit
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


class UpperSymmetric:
    """A symmetric matrix stored as its upper triangle (CSR, sorted indices): ``A @ x`` without
    forming the lower half, and the form PARDISO's symmetric modes read."""

    def __init__(self, upper: sp.csr_matrix) -> None:
        self.upper = upper
        self.shape = upper.shape
        self._diag = upper.diagonal()

    def diagonal(self) -> np.ndarray:
        return self._diag

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        d = self._diag if x.ndim == 1 else self._diag[:, None]
        return np.asarray(self.upper @ x + self.upper.T @ x - d * x)

    def full(self) -> sp.csr_matrix:
        U = self.upper
        return sp.csr_matrix(U + U.T - sp.diags(self._diag))


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


def _pardiso_error() -> type[Exception]:
    """pypardiso's error class, imported the way ``_new_pardiso`` imports pypardiso."""
    _new_pardiso(2)
    from pypardiso.pardiso_wrapper import PyPardisoError

    return PyPardisoError


def _new_pardiso(mtype: int) -> Any:
    """A PyPardisoSolver; points pypardiso at MKL directly (its own fallback is a recursive glob of
    sys.prefix that costs 1-5 s per solver, and ``import pypardiso`` makes one such solver)."""
    path = os.environ.get("PYPARDISO_MKL_RT") or _mkl_rt_path()
    if path is None:
        from pypardiso import PyPardisoSolver

        return PyPardisoSolver(mtype=mtype)
    saved = os.environ.get("PYPARDISO_MKL_RT")
    os.environ["PYPARDISO_MKL_RT"] = path
    try:
        from pypardiso import PyPardisoSolver  # its import makes a solver: with the path set

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


#: Single-precision PARDISO reads the matrix's own zero-based index arrays (iparm[34] = 1), called
#: directly (``PardisoSPD._call``), instead of through pypardiso, which makes 1-based copies of
#: both on every call (4.2 M entries at 2.5 mm), paid by every CG iteration: the same solutions,
#: a 2.5 mm solve 3-22 % faster under load (``bench_precond.py --call-only``). False: through
#: pypardiso, as before.
PARDISO_ZERO_BASED = True


def _single_precision_iparm(iparm: np.ndarray) -> None:
    """PARDISO's defaults for a symmetric positive definite matrix, set explicitly (iparm[0] = 1),
    plus single precision (iparm[27] = 1) and zero-based indices (``PARDISO_ZERO_BASED``)."""
    iparm[:] = 0
    iparm[0] = 1  # the values below, not the defaults
    iparm[1] = 2  # METIS nested dissection
    iparm[9] = 8  # pivot perturbation 1e-8 (unused for SPD)
    iparm[17] = -1  # report the factor's nonzeros
    iparm[18] = -1  # report the factorisation's MFlop
    iparm[27] = 1  # single precision
    iparm[34] = 1 if PARDISO_ZERO_BASED else 0  # zero-based ia, ja


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
    runs. ``info["analysis_reused"]`` says which happened.

    ``precision="single"`` factorises the symmetrically scaled matrix D^-1/2 K D^-1/2 (D = diag K,
    which takes the 6000:1 bone/tissue contrast out of the pivots) in single precision: half the
    memory and flop time of the double factor, but its solves are approximate (relative residual
    ~1e-2 to 1 on the foot), so it is only a preconditioner (``KeptFactorPCG``); unscaled, a single
    precision factorisation of the foot failed (REFERENCE.md)."""

    method = "pardiso"
    solves_blocks = True

    def __init__(
        self,
        K: sp.sparray | sp.spmatrix | UpperSymmetric,
        threads: int = 0,
        reuse_analysis: bool = True,
        precision: str = "double",
    ) -> None:
        PyPardisoError = _pardiso_error()
        if precision not in ("double", "single"):
            raise ValueError(f"precision must be 'double' or 'single', not {precision!r}")
        self._error = PyPardisoError
        self.precision = precision
        start = time.perf_counter()
        # PARDISO's symmetric modes read the upper triangle including every diagonal entry.
        if isinstance(K, UpperSymmetric):
            A = K.upper
        else:
            A = sp.csr_matrix(sp.triu(K, format="csr"), dtype=np.float64)
        A.sort_indices()
        self._scale: np.ndarray | None = None
        if precision == "single":
            diag = A.diagonal()
            if np.any(diag <= 0):
                raise SolveError("the stiffness matrix has a non-positive diagonal entry")
            self._scale = 1.0 / np.sqrt(diag)
            rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
            data = (A.data * self._scale[rows] * self._scale[A.indices]).astype(np.float32)
            A = sp.csr_matrix((data, A.indices, A.indptr), shape=A.shape)
            A.has_sorted_indices = True
        self._A = A
        self._dtype = np.float32 if precision == "single" else np.float64
        # 0 = every core this process may use: set it explicitly, so an earlier BLAS limit
        # (threadpoolctl around AMG, a parent's MKL setting) cannot leave PARDISO on one thread
        threads = threads if threads > 0 else len(os.sched_getaffinity(0))
        self._threads = threads
        # an analysis made with 2 threads crashed MKL's numeric factorisation on 1 thread: the
        # thread count is part of the key
        tag = "" if precision == "double" else "single:"
        self._key = f"{threads}:{tag}{pattern_key(self._A)}" if reuse_analysis else None
        kept = KEPT_ANALYSIS.take(self._key) if self._key else None
        self._solver = kept if kept is not None else _new_pardiso(2)
        if kept is None and precision == "single":
            _single_precision_iparm(self._solver.iparm)
        self._zero_based = int(self._solver.iparm[34]) == 1
        if self._zero_based:  # PARDISO reads the matrix's own index arrays (no copies per call)
            self._ia = np.ascontiguousarray(self._A.indptr, dtype=np.int32)
            self._ja = np.ascontiguousarray(self._A.indices, dtype=np.int32)
        with _mkl_threads(self._solver.libmkl, threads):
            try:
                # phase 12: analysis + numeric factorisation; 22: numeric only (analysis kept)
                self._call(22 if kept is not None else 12,
                           np.zeros((self._A.shape[0], 1), self._dtype))  # fmt: skip
            except PyPardisoError as exc:
                _free(self._solver, everything=True)
                self._solver = None  # nothing left to free or keep (``__del__``)
                raise SolveError(
                    f"PARDISO could not factorise the {K.shape[0]}-DOF stiffness matrix ({exc}); the "
                    "model is probably not fully constrained (check fixed DOFs and floating parts)"
                ) from None
        iparm = self._solver.iparm
        self.info: dict[str, Any] = {
            "method": self.method,
            "mtype": 2,
            "precision": precision,
            "threads": threads,
            "analysis_reused": kept is not None,
            "factor_time": time.perf_counter() - start,
            "factor_entries": int(iparm[17]),  # nonzeros of the Cholesky factor
            "factor_gflop": round(int(iparm[18]) / 1000.0, 1),  # MFlop of the factorisation
            "factor_memory_mb": round(int(iparm[16]) / 1024.0, 1),  # factor + solve (KB)
            "iterations": [],
            "solve_time": [],
        }

    def solve(self, b: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        rhs = np.asarray(b, dtype=np.float64)
        if self._scale is not None:
            rhs = rhs * (self._scale if rhs.ndim == 1 else self._scale[:, None])
        rhs = rhs.astype(self._dtype, copy=False)
        if rhs.ndim == 2:
            rhs = np.asfortranarray(rhs)  # PARDISO reads several right-hand sides column-major
        with _mkl_threads(self._solver.libmkl, self._threads):
            try:
                x = self._call(33, rhs)  # forward/backward substitution with this factor
            except self._error as exc:
                raise SolveError(f"PARDISO solve failed ({exc})") from None
        x = np.ascontiguousarray(x, dtype=np.float64)
        if self._scale is not None:
            x = x * (self._scale if x.ndim == 1 else self._scale[:, None])
        self.info["solve_time"].append(time.perf_counter() - start)
        return x

    def _call(self, phase: int, rhs: np.ndarray) -> np.ndarray:
        """PARDISO ``phase`` with right-hand side(s) ``rhs`` (Fortran order); the solution."""
        s = self._solver
        if not self._zero_based:
            s.set_phase(phase)
            return np.asarray(s._call_pardiso(self._A, rhs))
        x = np.zeros_like(rhs)
        error = ctypes.c_int32(0)
        i32 = ctypes.POINTER(ctypes.c_int32)
        s._mkl_pardiso(
            s.pt.ctypes.data_as(ctypes.POINTER(s._pt_type[0])),
            ctypes.byref(ctypes.c_int32(1)),  # maxfct
            ctypes.byref(ctypes.c_int32(1)),  # mnum
            ctypes.byref(ctypes.c_int32(s.mtype)),
            ctypes.byref(ctypes.c_int32(phase)),
            ctypes.byref(ctypes.c_int32(self._A.shape[0])),
            self._A.data.ctypes.data_as(ctypes.c_void_p),
            self._ia.ctypes.data_as(i32),
            self._ja.ctypes.data_as(i32),
            s.perm.ctypes.data_as(i32),
            ctypes.byref(ctypes.c_int32(1 if rhs.ndim == 1 else rhs.shape[1])),
            s.iparm.ctypes.data_as(i32),
            ctypes.byref(ctypes.c_int32(int(s.msglvl))),
            rhs.ctypes.data_as(ctypes.c_void_p),
            x.ctypes.data_as(ctypes.c_void_p),
            ctypes.byref(error),
        )
        if error.value != 0:
            raise self._error(error.value)
        return x

    def __del__(self) -> None:
        solver = getattr(self, "_solver", None)
        if solver is None:
            return
        key = getattr(self, "_key", None)
        try:
            if key:
                KEPT_ANALYSIS.keep(key, solver)
                return
        except Exception:  # interpreter shutdown (module globals already gone)
            pass
        try:  # noqa: SIM105 - contextlib may already be gone at interpreter shutdown
            _free(solver, everything=True)
        except Exception:
            pass


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


# ---------------------------------------------------------------------------- factor once per cohort
#: Precision of the kept factorisation: single (scaled; half the memory and time of double, and
#: conjugate gradients in double precision make every answer meet ``rtol`` anyway) or double.
KEPT_PRECISION = "single"
#: CG runs until every recurrence residual is below ``rtol * KEPT_CG_SAFETY`` (then the true
#: residual is checked): on the foot template at 2.5 mm the true residuals are then 2-5e-10 and
#: the element stresses equal those of CG to 1e-13 to 1e-10 of the peak stress
#: (benchmarks/bench_precond.py). Stopping at rtol * 0.01 took 16 iterations instead of 11.
KEPT_CG_SAFETY = 0.1
#: A column whose true residual is then still above ``rtol * KEPT_RESTART_SAFETY`` restarts (at
#: most twice). No lower: the true residual of a solution of the foot cannot get much below
#: 1-3e-10 (rounding in A x with its 6,300:1 stiffness contrast), and restarting towards 1e-10
#: paid 2 restarts (4 of 16 iterations at 2.5 mm) that bought nothing.
KEPT_RESTART_SAFETY = 0.1
#: Iterations after which CG with another matrix's factorisation is judged by its rate.
PROBE_ITERATIONS = 2
#: Iterations CG may take with the runner's own (single-precision) factor: 7-11 are usual.
OWN_MAX_ITERATIONS = 100
#: CG iterations against another matrix's kept factorisation are worth at most this many (the
#: profile's ``max_iterations`` lowers it); the bound actually used is also capped by what a
#: factorisation costs: ``own iterations + factor time / time per iteration``.
KEPT_MAX_ITERATIONS = 40


class _KeptFactor:
    """The PARDISO factorisation this process keeps to precondition later matrices with the same
    sparsity pattern: one entry (a worker solves one cohort topology at a time), with a label
    (subject, mesh hash) saying whose matrix it is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[str, PardisoSPD, dict[str, Any]] | None = None

    def get(self, key: str) -> tuple[PardisoSPD, dict[str, Any]] | None:
        with self._lock:
            if self._entry is not None and self._entry[0] == key:
                return self._entry[1], self._entry[2]
        return None

    def keep(self, key: str, fac: PardisoSPD, label: dict[str, Any]) -> None:
        self.clear()
        with self._lock:
            self._entry = (key, fac, label)

    def clear(self) -> None:
        """Free the kept factor now (its symbolic analysis stays in ``KEPT_ANALYSIS``)."""
        with self._lock:
            entry, self._entry = self._entry, None
        del entry  # the factor's ``__del__`` frees it now, not at the next collection

    def label(self) -> dict[str, Any] | None:
        with self._lock:
            return dict(self._entry[2]) if self._entry is not None else None


KEPT_FACTOR = _KeptFactor()
atexit.register(KEPT_FACTOR.clear)  # free MKL memory while the modules it needs still exist


def factorize_kept(
    A: UpperSymmetric,
    threads: int = 0,
    rtol: float = 1e-8,
    max_iterations: int = KEPT_MAX_ITERATIONS,
    label: dict[str, Any] | None = None,
    precision: str | None = None,
) -> KeptFactorPCG:
    """``A`` (SPD, upper triangle) ready for block solves by conjugate gradients preconditioned
    with the factorisation this process keeps for its sparsity pattern: another matrix's (the
    template, the previous runner) while CG converges fast enough, else ``A``'s own, made now and
    kept for the next matrix. ``label`` names ``A``'s model in the records."""
    threads = threads if threads > 0 else len(os.sched_getaffinity(0))
    precision = precision or KEPT_PRECISION
    key = f"{threads}:{precision}:{pattern_key(A.upper)}"
    return KeptFactorPCG(A, key, threads, rtol, max_iterations, dict(label or {}), precision)


class KeptFactorPCG:
    """Conjugate gradients on ``A`` preconditioned by a kept PARDISO factorisation.

    Every right-hand side runs its own CG; the preconditioner is applied to all of them in one
    PARDISO call per iteration. A column stops when its recurrence residual is below
    ``rtol * KEPT_CG_SAFETY``; then every true residual ``||b - A x|| / ||b||`` is checked (CG
    restarts from it when it is above ``rtol * KEPT_RESTART_SAFETY``, twice at most) and must be
    below ``rtol``.

    With another matrix's factor, CG is judged after ``PROBE_ITERATIONS``: when its rate predicts
    more iterations than a factorisation of ``A`` is worth, or it passes that bound later, the kept
    factor is freed, ``A`` is factorised (symbolic analysis reused), kept instead, and CG restarts
    with it. ``info`` records whose factor preconditioned, the iterations, and ``refactorised``
    with the reason."""

    method = "pcg_kept_factor"
    solves_blocks = True

    def __init__(
        self,
        A: UpperSymmetric,
        key: str,
        threads: int,
        rtol: float,
        max_iterations: int,
        label: dict[str, Any],
        precision: str = "single",
    ) -> None:
        self._A, self._key, self._threads, self._rtol = A, key, threads, rtol
        self._cap = max(PROBE_ITERATIONS, min(max_iterations, KEPT_MAX_ITERATIONS))
        self._label, self._precision = label, precision
        self.info: dict[str, Any] = {
            "method": self.method,
            "precision": precision,
            "threads": threads,
            "iterations": [],
            "solve_time": [],
            "refactorised": False,
        }
        kept = KEPT_FACTOR.get(key)
        if kept is None:
            self._factorise(None)
        else:
            self._pre, ref = kept
            self._own = False
            self.info.update(kept_factor="reused", preconditioner={**ref, "own": False})

    def _factorise(self, reason: str | None) -> None:
        self._pre = None  # type: ignore[assignment]
        KEPT_FACTOR.clear()  # one factor in memory at a time: free the kept one first
        fac = PardisoSPD(self._A, self._threads, precision=self._precision)
        KEPT_FACTOR.keep(self._key, fac, self._label)
        self._pre, self._own = fac, True
        keys = (
            "factor_time",
            "analysis_reused",
            "factor_entries",
            "factor_gflop",
            "factor_memory_mb",
        )
        self.info.update({k: fac.info[k] for k in keys})
        self.info.update(
            kept_factor="made" if reason is None else "replaced",
            preconditioner={**self._label, "own": True},
        )
        if reason is not None:
            self.info.update(refactorised=True, refactor_reason=reason)

    def solve(self, b: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        B = np.asarray(b, dtype=np.float64)
        one = B.ndim == 1
        B = B[:, None] if one else B
        X, its, why = self._pcg(B)
        if why and not self._own:  # too slow with another matrix's factor: factorise this one
            self.info["iterations_with_kept_factor"] = its
            self._factorise(why)
            X, its, why = self._pcg(B)
        self.info["iterations"].extend(its)
        if why:
            raise SolveError(why)
        self.info["solve_time"].append(time.perf_counter() - start)
        return X[:, 0] if one else X

    def _bound(self, seconds_per_iteration: float) -> int:
        if self._own:
            return OWN_MAX_ITERATIONS
        factor_s = float(self._pre.info.get("factor_time", 0.0))
        worth = 10 + factor_s / max(seconds_per_iteration, 1e-9)
        return int(min(self._cap, worth))

    def _pcg(self, B: np.ndarray) -> tuple[np.ndarray, list[int], str]:
        """Solutions, iterations per column, and why CG gave up ('' when it did not)."""
        A, target = self._A, self._rtol * KEPT_CG_SAFETY
        n, k = B.shape
        nb = np.linalg.norm(B, axis=0)
        nb[nb == 0] = 1.0
        X = np.zeros((n, k))
        R = B.copy()
        its = [0] * k
        whose = (
            "its own" if self._own else f"the kept factorisation of {self.info['preconditioner']}"
        )
        active = np.flatnonzero(np.linalg.norm(R, axis=0) / nb > target)
        start, total = time.perf_counter(), 0
        bound = OWN_MAX_ITERATIONS if self._own else self._cap
        for _restart in range(3):
            if not active.size:
                break
            cols = active
            Z = self._pre.solve(np.asfortranarray(R[:, cols]))
            P, rz = Z, np.einsum("ij,ij->j", R[:, cols], Z)
            rel0 = np.linalg.norm(R[:, cols], axis=0) / nb[cols]
            first = total
            while cols.size:
                Q = A @ P
                with np.errstate(divide="ignore", invalid="ignore"):
                    alpha = rz / np.einsum("ij,ij->j", P, Q)
                if not np.all(np.isfinite(alpha)):
                    return X, its, f"CG preconditioned with {whose} broke down (p^T A p = 0)"
                X[:, cols] += alpha * P
                R[:, cols] -= alpha * Q
                total += 1
                for j in cols:
                    its[j] += 1
                rel = np.linalg.norm(R[:, cols], axis=0) / nb[cols]
                go = rel > target
                if total - first == PROBE_ITERATIONS:
                    bound = self._bound((time.perf_counter() - start) / total)
                    if not self._own and go.any():
                        rate = (rel[go] / rel0[go]) ** (1.0 / PROBE_ITERATIONS)
                        need = total + np.log(target / rel[go]) / np.log(
                            np.minimum(rate, 1 - 1e-12)
                        )
                        if np.any(rate >= 1.0) or float(np.max(need)) > bound:
                            return (
                                X,
                                its,
                                (
                                    f"CG preconditioned with {whose} would need more than {bound} "
                                    f"iterations (residual {float(np.max(rel)):.1e} after {total})"
                                ),
                            )
                if not go.any():
                    break
                if total >= bound:
                    return (
                        X,
                        its,
                        (
                            f"CG preconditioned with {whose} did not reach {target:.0e} in {total} "
                            f"iterations (residual {float(np.max(rel)):.1e})"
                        ),
                    )
                cols, P, Q, rz, rel0 = cols[go], P[:, go], Q[:, go], rz[go], rel0[go]
                Z = self._pre.solve(np.asfortranarray(R[:, cols]))
                rz_new = np.einsum("ij,ij->j", R[:, cols], Z)
                P = Z + (rz_new / rz) * P
                rz = rz_new
            # the recurrence residual drifts from the true one: check it, restart what is above
            R = B - A @ X
            true = np.linalg.norm(R, axis=0) / nb
            active = np.flatnonzero(true > self._rtol * KEPT_RESTART_SAFETY)
        true = np.linalg.norm(B - A @ X, axis=0) / nb
        if not np.all(true <= self._rtol):  # NaN too
            return (
                X,
                its,
                (
                    f"CG preconditioned with {whose} stalled at relative residual "
                    f"{float(np.max(true)):.1e} (> {self._rtol:.0e}) after {total} iterations"
                ),
            )
        return X, its, ""
