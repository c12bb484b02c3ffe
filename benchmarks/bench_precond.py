"""Why CG with a model's own single-precision PARDISO factor takes 11-16 iterations, and what the
alternatives cost (issue 15). The foot template at each ``--sizes`` mm: its constrained matrix A
and the three phases' right-hand sides B are captured from the native backend (the exact system
``KeptFactorPCG`` gets), then, in one fresh process per size, one after the other:

- ``factor``: the single-precision factorisation of D^-1/2 A D^-1/2 (D = diag A) the native
  backend makes, with PARDISO's iparm afterwards (iparm[6]: refinement steps it performed);
- ``reference``: CG to 1e-13 (it stalls at the true residual's floor, 1-3e-10);
- ``cg stop X restart above Y`` (twice each, interleaved): the native backend's CG
  (``KeptFactorPCG._pcg``) stopping when the recurrence residual is below X, restarting columns
  whose true residual is then above Y (``KEPT_CG_SAFETY``, ``KEPT_RESTART_SAFETY`` x rtol 1e-8;
  before this benchmark both were 1e-10, now 1e-9): iterations per phase, time in PARDISO solves
  and in products with A, true residuals and the error of the element von Mises stresses against
  the reference, relative to the largest stress;
- ``ir to 1e-9``: mixed-precision iterative refinement x += M^-1 (b - A x) (M: the single factor)
  instead of CG, and the iterations at which it passed 1e-6 ... 1e-10;
- ``cg ..., pardiso refinement k``: CG whose preconditioner is PARDISO's solve with iparm[7] = k
  refinement steps (against PARDISO's own single-precision copy of the scaled matrix);
- ``solve_s``: one preconditioner application to the three right-hand sides with iparm[24] =
  0, 1, 2 on 2 or 1 threads (median of 3; two rounds in opposite orders), three single solves;
  then CG with iparm[24] = 1, 2 and 0 again;
- with ``--factor-variants``: the factorisation again with iparm[23] = 1 (two-level) and 10,
  iparm[1] = 3 (parallel METIS) and on 1 thread, each twice, interleaved (wall and CPU seconds);
- with ``--double``: a double-precision factor as the preconditioner;
- with ``--call-only`` (nothing else): six solves with the factor called directly on the
  matrix's zero-based indices (``linsolve.PARDISO_ZERO_BASED``) and six through pypardiso (1-based
  copies per call), each factorised anew, two rounds.

    .venv/bin/python benchmarks/bench_precond.py --sizes 4,3,2.5 [--factor-variants] [--double]

Writes ``benchmarks/results/precond.json`` (``--name``). The machine may be shared: every size
records the load average at its start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _harness import run_isolated, write

REPO = Path(__file__).resolve().parents[1]

CHILD = """
import os, time, statistics
import numpy as np
from footdt.ir import load_model
from footdt.backends import get_backend, linsolve
from footdt.spec.profile import options_for
from footdt.mechanics import von_mises

model = load_model({model!r})
be = get_backend('native')
from pathlib import Path
job = be.prepare(model, Path({work!r}), options_for('native'))
disc = job.disc


class Captured(Exception):
    pass


cap = {{}}


def grab(A, *args, **kwargs):
    cap['A'] = A

    class Grab:
        method, solves_blocks, info = 'capture', True, {{}}

        def solve(self, b):
            cap['B'] = np.array(b, dtype=float)
            raise Captured

    return Grab()


real_factorize_kept = linsolve.factorize_kept
linsolve.factorize_kept = grab
try:
    be.run(job)
except Captured:
    pass
linsolve.factorize_kept = real_factorize_kept
A, B = cap['A'], cap['B']
nb = np.linalg.norm(B, axis=0)


class Timed:
    # A with its products timed
    def __init__(self, A):
        self.A, self.shape, self.seconds, self.calls = A, A.shape, 0.0, 0

    def __matmul__(self, x):
        t = time.perf_counter()
        y = self.A @ x
        self.seconds += time.perf_counter() - t
        self.calls += 1
        return y


def vm(X):
    return np.array([von_mises(s) for s in disc.stresses([X[:, j] for j in range(X.shape[1])])])


def factor(precision='single', **iparm):
    real = linsolve._single_precision_iparm

    def patched(p):
        real(p)
        for i, v in iparm.items():
            p[int(i)] = v

    linsolve._single_precision_iparm = patched
    try:
        fac = linsolve.PardisoSPD(A, 0, reuse_analysis=False, precision=precision)
    finally:
        linsolve._single_precision_iparm = real
    return fac


def cg(fac, stop, ref=None, restart=None):
    TA = Timed(A)
    pcg = linsolve.KeptFactorPCG.__new__(linsolve.KeptFactorPCG)
    pcg._A, pcg._rtol, pcg._pre, pcg._own, pcg._cap = TA, 1e-8, fac, True, 40
    pcg.info = {{'iterations': [], 'solve_time': [], 'preconditioner': {{}}}}
    saved = linsolve.KEPT_CG_SAFETY, linsolve.KEPT_RESTART_SAFETY
    pcg._rtol = max(1e-8, stop)
    linsolve.KEPT_CG_SAFETY = stop / pcg._rtol
    linsolve.KEPT_RESTART_SAFETY = (restart or stop) / pcg._rtol
    n0 = len(fac.info['solve_time'])
    t = time.perf_counter()
    try:
        X, its, why = pcg._pcg(B)
    finally:
        linsolve.KEPT_CG_SAFETY, linsolve.KEPT_RESTART_SAFETY = saved
    wall = time.perf_counter() - t
    out = dict(iterations=its, wall_s=round(wall, 3),
               precond_s=round(sum(fac.info['solve_time'][n0:]), 3),
               precond_calls=len(fac.info['solve_time']) - n0,
               matvec_s=round(TA.seconds, 3), matvec_calls=TA.calls,
               true_residual=[float(f'{{r:.2e}}') for r in np.linalg.norm(B - A @ X, axis=0) / nb],
               stopped=why)
    if ref is not None:
        out['vm_error'] = float(f"{{np.max(np.abs(vm(X) - ref)) / np.max(np.abs(ref)):.2e}}")
    return X, out


def ir(fac, target, ref):
    X = np.zeros_like(B)
    R = B.copy()
    its, n0 = 0, len(fac.info['solve_time'])
    reached = {{}}
    t = time.perf_counter()
    while its < 60:
        rel = np.linalg.norm(R, axis=0) / nb
        for level in (1e-6, 1e-8, 1e-9, 1e-10):
            if np.all(rel <= level):
                reached.setdefault(f'{{level:.0e}}', its)
        go = rel > target
        if not go.any():
            break
        X[:, go] += fac.solve(np.asfortranarray(R[:, go]))
        R = B - A @ X
        its += 1
    wall = time.perf_counter() - t
    true = np.linalg.norm(B - A @ X, axis=0) / nb
    return dict(iterations=its, iterations_to_reach=reached, wall_s=round(wall, 3),
                precond_s=round(sum(fac.info['solve_time'][n0:]), 3),
                true_residual=[float(f'{{r:.2e}}') for r in true],
                vm_error=float(f"{{np.max(np.abs(vm(X) - ref)) / np.max(np.abs(ref)):.2e}}"))


def solve_times(fac, iparm24, threads, rhs):
    saved = (int(fac._solver.iparm[24]), fac._threads)
    fac._solver.iparm[24], fac._threads = iparm24, threads
    times = []
    try:
        for _ in range(3):
            t = time.perf_counter()
            if rhs == 'block':
                fac.solve(np.asfortranarray(B))
            else:
                for j in range(B.shape[1]):
                    fac.solve(B[:, j].copy())
            times.append(time.perf_counter() - t)
    finally:
        fac._solver.iparm[24], fac._threads = saved
    return round(statistics.median(times), 3)


out = dict(size={size!r}, nodes=model.n_nodes, dof=A.shape[0], nnz_upper=int(A.upper.nnz),
           threads=len(os.sched_getaffinity(0)), load_average_start=os.getloadavg())
if {call_only!r}:
    # PARDISO called directly on the zero-based indices vs through pypardiso, interleaved
    calls = out['call'] = {{}}
    xs = {{}}
    for rnd in range(2):
        for zb in (True, False):
            linsolve.PARDISO_ZERO_BASED = zb
            f = linsolve.PardisoSPD(A, 0, reuse_analysis=False, precision='single')
            ts = []
            for _ in range(6):
                t = time.perf_counter()
                xs[zb] = f.solve(np.asfortranarray(B))
                ts.append(round(time.perf_counter() - t, 3))
            calls.setdefault('zero-based, direct' if zb else 'pypardiso', []).append(
                dict(factor_s=round(f.info['factor_time'], 2), solve_s=ts,
                     load_average=os.getloadavg()[0]))
            del f
    linsolve.PARDISO_ZERO_BASED = True
    out['call_max_difference'] = float(np.max(np.abs(xs[True] - xs[False])))
    import json, resource
    out['peak_rss_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))  # what the harness prints after the code, which this skips
    raise SystemExit(0)
fac = factor()
out['factor'] = dict(fac.info, iparm={{i: int(fac._solver.iparm[i]) for i in (6, 7, 23, 24, 27)}})
out['factor'].pop('solve_time'); out['factor'].pop('iterations')

Xref, refrun = cg(fac, 1e-13)
out['reference'] = refrun
ref = vm(Xref)
rows = out['variants'] = {{}}
for rnd in ('', ' again'):
    for stop, restart in ((1e-10, 1e-10), (1e-10, 1e-9), (1e-9, 1e-9), (1e-8, 1e-8)):
        rows[f'cg stop {{stop:.0e}} restart above {{restart:.0e}}{{rnd}}'] = cg(fac, stop, ref, restart)[1]
out['iparm6_after_solve'] = int(fac._solver.iparm[6])
rows['ir to 1e-9'] = ir(fac, 1e-9, ref)
for k in (1, 2):
    fac._solver.iparm[7] = k
    rows[f'cg stop 1e-10, pardiso refinement {{k}}'] = r = cg(fac, 1e-10, ref, 1e-10)[1]
    r['iparm6'] = int(fac._solver.iparm[6])
fac._solver.iparm[7] = 0
configs = [(p, t) for p in (0, 1, 2) for t in (2, 1)]
out['solve_s'] = {{}}
for rnd in (configs, configs[::-1]):  # both orders: the first calls of a size may be slower
    for p, t in rnd:
        out['solve_s'].setdefault(f'iparm24={{p}} threads={{t}} block', []).append(
            solve_times(fac, p, t, 'block'))
out['solve_s']['iparm24=0 threads=2 three single'] = solve_times(fac, 0, 2, 'single')
for p in (1, 2):
    fac._solver.iparm[24] = p
    rows[f'cg stop 1e-9 restart above 1e-9, iparm24={{p}}'] = cg(fac, 1e-9, ref, 1e-9)[1]
    rows[f'cg stop 1e-10 restart above 1e-10, iparm24={{p}}'] = cg(fac, 1e-10, ref, 1e-10)[1]
fac._solver.iparm[24] = 0
rows['cg stop 1e-10 restart above 1e-10, iparm24=0 (last)'] = cg(fac, 1e-10, ref, 1e-10)[1]
del fac
if {factor_variants!r}:
    fv = out['factor_variants'] = {{}}
    variants = [('default', {{}}, 0), ('iparm23=1 two-level', {{23: 1}}, 0),
                ('iparm23=10 improved two-level', {{23: 10}}, 0), ('iparm1=3 parallel METIS', {{1: 3}}, 0),
                ('1 thread', {{}}, 1)]
    for rnd in range(2):
        for name, ip, thr in variants:
            real = linsolve._single_precision_iparm
            def patched(p, ip=ip):
                real(p)
                for i, v in ip.items():
                    p[i] = v
            linsolve._single_precision_iparm = patched
            try:
                c = time.process_time()
                f = linsolve.PardisoSPD(A, thr, reuse_analysis=False, precision='single')
                c = time.process_time() - c
                _, r = cg(f, 1e-9)
                fv.setdefault(name, []).append(dict(factor_s=round(f.info['factor_time'], 2),
                    factor_cpu_s=round(c, 2),
                    gflop=f.info['factor_gflop'], entries=f.info['factor_entries'],
                    memory_mb=f.info['factor_memory_mb'], cg_iterations=r['iterations'],
                    cg_s=r['wall_s'], load_average=os.getloadavg()[0]))
                del f
            except Exception as exc:
                fv.setdefault(name, []).append(dict(error=str(exc)[:200]))
            finally:
                linsolve._single_precision_iparm = real
if {double!r}:
    d = factor('double')
    dinfo = dict(factor_s=round(d.info['factor_time'], 2), memory_mb=d.info['factor_memory_mb'])
    _, r = cg(d, 1e-9, ref)
    rows['double factor, cg stop 1e-9'] = dict(r, **dinfo)
    del d
out['load_average_end'] = os.getloadavg()
RESULT = out
"""


def fill(code: str, **values: Any) -> str:
    for name, value in values.items():
        code = code.replace("{" + name + "!r}", repr(value))
    return code.replace("{{", "{").replace("}}", "}")


def template(root: Path, size: float) -> Path:
    from footdt.compile import compile_spec
    from footdt.ir import save_model
    from footdt.spec import load_spec

    path = root / f"template-{size:g}"
    if not (path / "model.json").is_file():
        save_model(
            compile_spec(load_spec(REPO / "specs/subjects/template.yaml").with_mesh(size)), path
        )
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="4,3,2.5")
    ap.add_argument("--root", default="build/bench/precond")
    ap.add_argument("--factor-variants", action="store_true")
    ap.add_argument("--double", action="store_true", help="also a double-precision factor")
    ap.add_argument("--call-only", action="store_true",
                    help="only: PARDISO called directly (zero-based) vs through pypardiso")  # fmt: skip
    ap.add_argument("--name", default="precond")
    args = ap.parse_args()
    root = (REPO / args.root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for size in (float(s) for s in args.sizes.split(",")):
        model = template(root, size)
        code = fill(CHILD, model=str(model), work=str(root / "work"), size=size,
                    factor_variants=args.factor_variants, double=args.double,
                    call_only=args.call_only)  # fmt: skip
        r = sizes[f"{size:g} mm"] = run_isolated(code, timeout=3600)
        print(json.dumps(r), flush=True)
    path = write(args.name, {"model": "specs/subjects/template.yaml, 3 phases", "sizes": sizes,
                             "load_average_at_end": [round(x, 2) for x in os.getloadavg()]})  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
