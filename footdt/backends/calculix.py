"""CalculiX backend: write the deck (CalculiX dialect), run ``ccx``, read the ``.dat`` file.

The ``.dat`` file holds, per step, ``*NODE PRINT`` U and RF for every node and ``*EL PRINT`` S
(at integration points: 1 for C3D4, 4 for C3D10, averaged here to one value per element, which for
the 4-point rule equals the centroidal value of the linear C3D10 stress field) and EVOL per part.
ccx prints stress components as sxx, syy, szz, sxy, sxz, syz, footdt's order. Units: mm, N, MPa.

Linear solvers: SPOOLES (direct, default) or ITERATIVE CHOLESKY (profile ``iterative_cholesky``),
whose conjugate gradients stop at a relative tolerance of 1e-4 hard-coded in ccx (src/preiter.c):
stresses are then only good to about 1e-3 (measured 1.0e-3 on the bar model). ccx reports no
residual, so ``PhaseResult.residual`` stays None; ``info['linear_solver']`` names the solver used.

Connectors are exact small-displacement springs k n n^T (see ``footdt.backends.inp.writer``), so
every step is linear. Tension-only connectors are resolved by an active-set loop: the first run has
every connector active; a connector whose elongation n . (u_b - u_a) is negative is switched off in
that phase (a stretched one switched back on) and the phases whose set changed are solved again, in
one ccx run (job ``footdt_as<k>``) per round, up to ``profile.max_active_set_iterations`` solves.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from footdt.backends.base import (
    PhaseResult,
    Prepared,
    ProgramBackend,
    SolveResult,
)
from footdt.backends.ccx_dat import DatBlock, parse_dat
from footdt.backends.inp.deck import ALL_NODES, Deck, DeckStep, build_deck
from footdt.backends.inp.writer import CCX_SOLVERS, DeckWriter
from footdt.errors import BackendUnavailable, FootdtError, SolveError
from footdt.ir import AnalysisModel
from footdt.mechanics import von_mises
from footdt.spec.profile import SolverProfile

JOB = "footdt"
INSTALL_HINT = (
    "apt-get install calculix-ccx (Debian/Ubuntu) or set `executable` in a solver profile"
)
#: A tension-only connector's state changes only when |elongation| exceeds this fraction of the
#: largest nodal displacement: ccx prints 7 significant digits, so smaller values are noise.
ACTIVE_SET_TOL = 1e-6


class CalculixBackend(ProgramBackend):
    name: ClassVar[str] = "calculix"
    capabilities: ClassVar[frozenset[str]] = frozenset(
        {
            "element.tetra",
            "element.tetra10",
            "connector.linear",
            "connector.tension_only",
            "load.pressure",
            "load.nodal_force",
            "bc.prescribed_displacement",
        }
    )
    install_hint: ClassVar[str] = INSTALL_HINT
    default_executable: ClassVar[str] = "ccx"

    def version(self) -> str:
        exe = self._find()
        if exe is None:
            raise BackendUnavailable(f"ccx not found: {INSTALL_HINT}")
        out = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=60)
        m = re.search(r"Version\s+(\S+)", out.stdout + out.stderr)
        return m.group(1) if m else "unknown"

    # ------------------------------------------------------------------ prepare
    def write_inputs(
        self,
        model: AnalysisModel,
        out_dir: Path,
        linear_solver: str = "default",
        deck: Deck | None = None,
    ) -> dict[str, Path]:
        """Write ``footdt.inp`` (run it with ``ccx -i footdt`` in ``out_dir``)."""
        if linear_solver not in CCX_SOLVERS:
            raise FootdtError(
                f"linear_solver {linear_solver!r} is not a CalculiX solver; use one of "
                f"{', '.join(sorted(CCX_SOLVERS))}"
            )
        out_dir.mkdir(parents=True, exist_ok=True)
        inp = out_dir / f"{JOB}.inp"
        deck = deck if deck is not None else build_deck(model)
        inp.write_text(DeckWriter("calculix", CCX_SOLVERS[linear_solver]).write(deck))
        return {"inp": inp}

    def prepare(self, model: AnalysisModel, workdir: Path, profile: SolverProfile) -> Prepared:
        self._executable = profile.executable or self._executable
        workdir.mkdir(parents=True, exist_ok=True)
        for suffix in (".dat", ".frd", ".sta", ".cvg", ".log", ".12d"):  # never read stale results
            (workdir / f"{JOB}{suffix}").unlink(missing_ok=True)
        deck = build_deck(model)
        files = self.write_inputs(model, workdir, profile.linear_solver, deck)
        files.update(dat=workdir / f"{JOB}.dat", log=workdir / f"{JOB}.log")
        for old in workdir.glob(f"{JOB}_as*.*"):  # decks and results of earlier active-set rounds
            old.unlink()
        return Prepared(model, workdir, profile, files, {"deck": deck})

    # ------------------------------------------------------------------ run
    def _run_job(self, prepared: Prepared, job: str) -> Path:
        """Run ``ccx -i job`` in the work directory; return the .dat file (SolveError on failure)."""
        exe = self._find()
        if exe is None:
            raise BackendUnavailable(f"{self.program} not found: {INSTALL_HINT}")
        threads = prepared.profile.threads or os.cpu_count() or 1
        env = dict(os.environ)
        env.update({"OMP_NUM_THREADS": str(threads), "CCX_NPROC_EQUATION_SOLVER": str(threads)})
        log, dat = prepared.workdir / f"{job}.log", prepared.workdir / f"{job}.dat"
        dat.unlink(missing_ok=True)
        with log.open("w") as fh:
            proc = subprocess.run(
                [exe, "-i", job], cwd=prepared.workdir, stdout=fh, stderr=subprocess.STDOUT, env=env
            )
        text = log.read_text(errors="replace")
        if proc.returncode != 0 or "*ERROR" in text:
            raise SolveError(
                f"ccx failed (exit code {proc.returncode}): {_error_lines(text)}; log: {log}"
            )
        if not dat.is_file():
            raise SolveError(f"ccx wrote no results file {dat}; log: {log}")
        return dat

    def run(self, prepared: Prepared) -> None:
        """Run the prepared deck, then the active-set rounds of tension-only connectors."""
        model, deck = prepared.model, prepared.state["deck"]
        conns = deck.connectors
        active = {st.name: (True,) * len(conns) for st in deck.steps}
        pending, solves = list(deck.steps), dict.fromkeys(active, 0)
        done: dict[str, tuple[PhaseResult, np.ndarray]] = {}
        runs, job = 0, JOB
        while pending:
            dat = self._run_job(prepared, job)
            runs += 1
            blocks = parse_dat(dat.read_text(errors="replace"))
            got = _results(model, deck, pending, blocks, dat, active)
            still: list[DeckStep] = []
            for step in pending:
                solves[step.name] += 1
                res, vol = got[step.name]
                assert res.displacement is not None
                new = _next_active(model, deck, res.displacement, active[step.name])
                if new == active[step.name]:
                    done[step.name] = (res, vol)
                elif solves[step.name] >= prepared.profile.max_active_set_iterations:
                    raise SolveError(
                        f"phase {step.name!r}: tension-only connectors found no stable active set "
                        f"in {solves[step.name]} solves; raise max_active_set_iterations in the "
                        "solver profile"
                    )
                else:
                    active[step.name] = new
                    still.append(step)
            pending, job = still, f"{JOB}_as{runs + 1}"
            if pending:
                text = DeckWriter("calculix", CCX_SOLVERS[prepared.profile.linear_solver]).write(
                    dc_replace(deck, steps=tuple(pending)), [active[s.name] for s in pending]
                )
                (prepared.workdir / f"{job}.inp").write_text(text)
        prepared.state.update(
            results=done,
            ccx_runs=runs,
            active_set={k: [c.name for c, on in zip(conns, v, strict=True) if on]
                        for k, v in active.items()},
            active_set_solves=solves,
        )  # fmt: skip

    # ------------------------------------------------------------------ extract
    def extract(self, prepared: Prepared) -> SolveResult:
        model, deck = prepared.model, prepared.state["deck"]
        dat = prepared.files["dat"]
        done: dict[str, tuple[PhaseResult, np.ndarray]] | None = prepared.state.get("results")
        if done is None:  # results of the prepared deck alone (run() not called or it failed)
            if not dat.is_file():
                raise SolveError(f"no CalculiX results file {dat}: run the solve first")
            blocks = parse_dat(dat.read_text(errors="replace"))
            done = _results(model, deck, list(deck.steps), blocks, dat)
        phases = {st.name: done[st.name][0] for st in deck.steps}
        info: dict[str, Any] = {
            "linear_solver": CCX_SOLVERS[prepared.profile.linear_solver],
            "workdir": str(prepared.workdir),
            "dat": str(dat),
            "log": str(prepared.files["log"]),
            "ccx_runs": prepared.state.get("ccx_runs", 1),
        }
        if "active_set" in prepared.state:
            info["active_set"] = prepared.state["active_set"]
            info["active_set_solves"] = prepared.state["active_set_solves"]
        return self.make_result(model, done[deck.steps[0].name][1], phases, info)


def _results(
    model: AnalysisModel,
    deck: Deck,
    steps: list[DeckStep],
    blocks: list[DatBlock],
    dat: Path,
    active: dict[str, tuple[bool, ...]] | None = None,
) -> dict[str, tuple[PhaseResult, np.ndarray]]:
    """Per phase: its PhaseResult and element volumes (mm^3) from the blocks of a run whose
    steps were ``steps`` (step i + 1 ends at time i + 1) with connectors ``active`` (default all)."""
    out: dict[str, tuple[PhaseResult, np.ndarray]] = {}
    for i, step in enumerate(steps):
        on = (True,) * len(deck.connectors) if active is None else active[step.name]
        found = [b for b in blocks if abs(b.time - (i + 1)) < 1e-6]
        where = f"{dat}: phase {step.name!r} (step {i + 1})"
        stress, vol = _element_results(model, found, where)
        u = _nodal(model, found, "displacements", where)
        rf = _nodal(model, found, "forces", where)
        reaction = _reaction(model, step, rf, _spring_forces(deck, u, on))
        out[step.name] = (PhaseResult(step.name, von_mises(stress), stress, u, None, reaction), vol)
    return out


def _next_active(
    model: AnalysisModel, deck: Deck, u: np.ndarray, active: tuple[bool, ...]
) -> tuple[bool, ...]:
    """Connector states after a solve: linear ones stay on; a tension-only one is on when
    stretched and off when compressed (kept as it was within ``ACTIVE_SET_TOL`` of zero)."""
    tol = ACTIVE_SET_TOL * max(float(np.max(np.abs(u))), 1e-300)
    new = []
    for c, on in zip(deck.connectors, active, strict=True):
        if c.law != "tension_only":
            new.append(True)
            continue
        xa, xb = model.nodes[c.node_a - 1], model.nodes[c.node_b - 1]
        e = float((xb - xa) @ (u[c.node_b - 1] - u[c.node_a - 1])) / c.length
        new.append(on if abs(e) <= tol else e > 0)
    return tuple(new)


def _error_lines(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    idx = [i for i, ln in enumerate(lines) if "*ERROR" in ln]
    if idx:
        picked = [ln for i in idx[:3] for ln in lines[i : i + 3]]
        return " | ".join(dict.fromkeys(picked))
    return " | ".join(lines[-4:]) if lines else "no output"


def _last(blocks: list[DatBlock], kind: str) -> dict[str, DatBlock]:
    out: dict[str, DatBlock] = {}
    for b in blocks:
        if b.kind == kind:
            out[b.set] = b  # a later block (final increment) replaces an earlier one
    return out


def _element_results(
    model: AnalysisModel, blocks: list[DatBlock], where: str
) -> tuple[np.ndarray, np.ndarray]:
    M = model.n_elements
    stress_sum, ips, vol = np.zeros((M, 6)), np.zeros(M), np.full(M, np.nan)
    stresses, volumes = _last(blocks, "stresses"), _last(blocks, "volume")
    for part in model.parts:
        s, v = stresses.get(part.upper()), volumes.get(part.upper())
        if s is None or v is None or not s.rows or not v.rows:
            raise SolveError(
                f"{where}: no stress or volume output for part {part!r} (run incomplete?)"
            )
        rows = np.asarray(s.rows)
        if rows.shape[1] != 8:
            raise SolveError(
                f"{where}: unexpected stress table with {rows.shape[1]} columns for {part!r}"
            )
        idx = rows[:, 0].astype(np.int64) - 1
        if idx.min() < 0 or idx.max() >= M:
            raise SolveError(f"{where}: stress output names elements outside the model")
        np.add.at(stress_sum, idx, rows[:, 2:8])
        np.add.at(ips, idx, 1.0)
        vrows = np.asarray(v.rows)
        vol[vrows[:, 0].astype(np.int64) - 1] = vrows[:, 1]
    expected = 1 if model.cell_type == "tetra" else 4
    if np.any(ips != expected) or np.any(np.isnan(vol)):
        bad = int(np.argmax((ips != expected) | np.isnan(vol)))
        raise SolveError(
            f"{where}: element {bad} has {int(ips[bad])} stress points, expected {expected}"
        )
    return stress_sum / expected, vol


def _nodal(model: AnalysisModel, blocks: list[DatBlock], kind: str, where: str) -> np.ndarray:
    block = _last(blocks, kind).get(ALL_NODES)
    if block is None or len(block.rows) != model.n_nodes:
        raise SolveError(f"{where}: missing or incomplete nodal {kind} output")
    rows = np.asarray(block.rows)
    out = np.full((model.n_nodes, 3), np.nan)
    out[rows[:, 0].astype(np.int64) - 1] = rows[:, 1:4]
    if np.any(np.isnan(out)):
        raise SolveError(f"{where}: nodal {kind} output misses some nodes")
    return out


def _spring_forces(deck: Deck, u: np.ndarray, active: tuple[bool, ...]) -> np.ndarray:
    """(N, 3) N: the active connectors' spring stiffness times ``u`` (k n n^T (u_a - u_b) at a,
    the opposite at b), i.e. the nodal forces the structure exerts on the springs."""
    out = np.zeros_like(u)
    for c, on in zip(deck.connectors, active, strict=True):
        if on:
            a, b = c.node_a - 1, c.node_b - 1
            n = (deck.nodes[b] - deck.nodes[a]) / c.length
            f = c.stiffness * float(n @ (u[b] - u[a])) * n  # tension positive along n
            out[a] -= f
            out[b] += f
    return out


def _reaction(
    model: AnalysisModel, step: DeckStep, rf: np.ndarray, springs: np.ndarray
) -> np.ndarray:
    """Sum (N) of support reactions over the prescribed (node, dof) pairs of a step.

    ccx's RF is the external force (reaction + concentrated + distributed load) at a node, so the
    step's own loads at prescribed dofs are subtracted: concentrated forces exactly, pressures by
    their consistent nodal forces on the undeformed faces (corners of C3D4, mid-sides of C3D10).
    RF sums element forces only: a connector acts through its *EQUATION, so its spring forces
    ``springs`` (N, 3) at prescribed dofs are added.
    """
    applied = step.applied.copy() - springs
    for surface, p in step.pressures:
        tri = model.surface_faces(surface)
        x = model.nodes[tri]
        force = (
            p * 0.5 * np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0])
        )  # inward, magnitude p * area
        if model.cell_type == "tetra":
            carriers = tri
        else:
            from footdt.ir import TET10_FACE_MIDSIDES

            faces = model.surfaces[surface]
            local = np.asarray(TET10_FACE_MIDSIDES)[faces[:, 1]]
            carriers = np.take_along_axis(model.elements[faces[:, 0]], local, axis=1)
        for j in range(3):
            np.add.at(applied, carriers[:, j], force / 3.0)
    nodes, dofs = step.constrained[:, 0], step.constrained[:, 1]
    out = np.zeros(3)
    np.add.at(out, dofs, rf[nodes, dofs] - applied[nodes, dofs])
    return out
