"""CalculiX backend: write the deck (CalculiX dialect), run ``ccx``, read the ``.dat`` file.

The ``.dat`` file holds, per step, ``*NODE PRINT`` U and RF for every node and ``*EL PRINT`` S
(at integration points: 1 for C3D4, 4 for C3D10, averaged here to one value per element, which for
the 4-point rule equals the centroidal value of the linear C3D10 stress field) and EVOL per part.
ccx prints stress components as sxx, syy, szz, sxy, sxz, syz, footdt's order. Units: mm, N, MPa.

Linear solvers: SPOOLES (direct, default) or ITERATIVE CHOLESKY (profile ``iterative_cholesky``),
whose conjugate gradients stop at a relative tolerance of 1e-4 hard-coded in ccx (src/preiter.c):
stresses are then only good to about 1e-3 (measured 1.0e-3 on the bar model). ccx reports no
residual, so ``PhaseResult.residual`` stays None; ``info['linear_solver']`` names the solver used.

Connectors are exact small-displacement springs k n n^T (see ``CalculixDeckWriter``), so
every step is linear. Tension-only connectors are resolved by an active-set loop: the first run has
every connector active; a connector whose elongation n . (u_b - u_a) is negative is switched off in
that phase (a stretched one switched back on) and the phases whose set changed are solved again, in
one ccx run (job ``footdt_as<k>``) per round, up to ``profile.max_active_set_iterations`` solves.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from footdt.backends.base import Job, ProgramBackend, RunRecord
from footdt.backends.ccx_dat import DatBlock, parse_dat
from footdt.backends.inp.deck import ALL_NODES, Deck, DeckConnector, DeckStep, build_deck
from footdt.backends.inp.writer import DeckWriter, fmt
from footdt.errors import SolveError, UnsupportedFeature
from footdt.ir import AnalysisModel
from footdt.mechanics import von_mises
from footdt.results import PhaseResult, SolveResult
from footdt.spec.profile import SolverProfile

JOB = "footdt"
INSTALL_HINT = (
    "apt-get install calculix-ccx (Debian/Ubuntu) or set `executable` in a solver profile"
)
#: A tension-only connector's state changes only when |elongation| exceeds this fraction of the
#: largest nodal displacement: ccx prints 7 significant digits, so smaller values are noise.
ACTIVE_SET_TOL = 1e-6


#: ccx *STATIC SOLVER= value of each linear_solver of ``CalculixOptions``.
CCX_SOLVERS = {
    "default": "SPOOLES",
    "spooles": "SPOOLES",
    "iterative_cholesky": "ITERATIVE CHOLESKY",
}
#: Direction cosines at or below this size are left out of a connector's *EQUATION.
_COEF_EPS = 1e-12


class CalculixDeckWriter(DeckWriter):
    """The CalculiX dialect. Each connector is the exact small-displacement axial spring k n n^T
    (n from the original geometry): an auxiliary node p whose dof 1 an *EQUATION ties to the
    elongation n . (u_b - u_a), and a SPRING2 element (stiffness k) from p dof 1 to a ground node
    q dof 1. q dof 1 is fixed in a step where the connector is active and free where it is not (a
    tension-only connector switched off by the active-set loop of ``CalculixBackend``); no
    SPRINGA, no NLGEOM, no CONN3D2, ENCASTRE or MISES ever. Pressures are removed with
    ``*DLOAD, OP=NEW`` (ccx reads *DLOAD and *DSLOAD into one table and OP=NEW on the first card
    of a step clears it) and written with ``*DSLOAD surface, P, value``; ``*EL PRINT`` S and EVOL
    per part and ``*NODE PRINT`` U and RF go to the .dat file. ``solver``: the *STATIC SOLVER=
    value (``CCX_SOLVERS``)."""

    dialect = "calculix"
    per_step_connectors = True

    def connectors_note(self, deck: Deck) -> list[str]:
        if not deck.nonlinear:
            return []
        return [
            "** tension-only connectors: each step below has every connector active; footdt's",
            "** active-set loop (footdt solve) reruns the steps whose connectors are compressed",
            "** with those switched off (ground node dof 1 freed), until no connector changes",
        ]

    def connector(self, deck: Deck, index: int, c: DeckConnector) -> list[str]:
        """The exact linear axial spring k n n^T (n = unit vector a -> b, original geometry).

        Auxiliary nodes p and q (labels ``ccx_aux_nodes``, at the connector's midpoint): an
        *EQUATION makes u_p1 = n . (u_b - u_a), the elongation (p dof 1 is its dependent dof and
        appears nowhere else); a SPRING2 element of stiffness k joins p dof 1 to q dof 1, so with
        q dof 1 fixed the energy is k e^2 / 2. Dofs 2 and 3 of p and q are fixed in every step.
        """
        if c.law == "slip_ring":
            raise UnsupportedFeature(
                f"connector {c.name!r} is a slip ring: CalculiX has no slip-ring element; use --backend abaqus"
            )
        p, q = ccx_aux_nodes(deck, index)
        xa, xb = deck.nodes[c.node_a - 1], deck.nodes[c.node_b - 1]
        n = (xb - xa) / np.linalg.norm(xb - xa)
        mid = ", ".join(fmt(v) for v in 0.5 * (xa + xb))
        terms = [(p, 1, 1.0)]
        terms += [(c.node_b, d + 1, -float(n[d])) for d in range(3) if abs(n[d]) > _COEF_EPS]
        terms += [(c.node_a, d + 1, float(n[d])) for d in range(3) if abs(n[d]) > _COEF_EPS]
        eq = [", ".join(f"{node}, {dof}, {fmt(v)}" for node, dof, v in terms[i : i + 4])
              for i in range(0, len(terms), 4)]  # fmt: skip
        return [
            "*NODE",
            f"{p}, {mid}",
            f"{q}, {mid}",
            f"*ELEMENT, TYPE=SPRING2, ELSET={c.elset}",
            f"{c.label}, {p}, {q}",
            f"*SPRING, ELSET={c.elset}",
            "1, 1",
            fmt(c.stiffness),
            "*EQUATION",
            str(len(terms)),
            *eq,
        ]

    def ties(self, deck: Deck) -> list[str]:
        """No *TIE: ccx 2.20's *TIE did not carry a uniform stress across a 2:3 non-matching C3D4
        interface (15 % error in sigma_zz, exact for 2:2 and 2:4), so the CalculiX dialect refuses
        ties rather than write an unverified one."""
        if deck.ties:
            raise UnsupportedFeature(
                f"tie {deck.ties[0].name!r}: footdt does not write *TIE for CalculiX (not verified on "
                "non-matching meshes); use --backend abaqus or a conforming mesh"
            )
        return []

    @staticmethod
    def _flags(deck: Deck, active: Sequence[bool] | None) -> list[bool]:
        flags = [True] * len(deck.connectors) if active is None else list(active)
        if len(flags) != len(deck.connectors):
            raise ValueError(f"{len(flags)} active flags for {len(deck.connectors)} connectors")
        return flags

    def step_card(self, deck: Deck, step: DeckStep, active: Sequence[bool] | None) -> list[str]:
        flags = self._flags(deck, active)
        off = [c.name for c, on in zip(deck.connectors, flags, strict=True) if not on]
        lines = [f"** connectors switched off in this step: {', '.join(off)}"] if off else []
        return [*lines, "*STEP", "*STATIC" + (f", SOLVER={self.solver}" if self.solver else "")]

    def connector_boundary(self, deck: Deck, active: Sequence[bool] | None) -> list[str]:
        lines = []
        for i, on in enumerate(self._flags(deck, active)):
            p, q = ccx_aux_nodes(deck, i)
            lines += [f"{p}, 2, 3, 0.", f"{q}, {1 if on else 2}, 3, 0."]
        return lines

    def pressure(self, step: DeckStep) -> list[str]:
        data = [f"{s}, P, {fmt(p)}" for s, p in step.pressures]
        return ["*DLOAD, OP=NEW"] + (["*DSLOAD", *data] if data else [])

    def output(self, deck: Deck) -> list[str]:
        lines = [f"*NODE PRINT, NSET={ALL_NODES}", "U, RF"]
        for part in deck.elsets:
            lines += [f"*EL PRINT, ELSET={part}", "S, EVOL"]
        return lines


def ccx_aux_nodes(deck: Deck, index: int) -> tuple[int, int]:
    """Labels of the auxiliary nodes (p: elongation, q: ground) of connector ``index`` (0-based),
    numbered after the model's nodes."""
    first = len(deck.nodes) + 2 * index + 1
    return first, first + 1


class CalculixOptions(SolverProfile):
    """Options of the calculix backend (``backend = "calculix"`` in a profile): ``executable``,
    ``threads``, ``max_active_set_iterations`` and the linear solver (``rtol`` and
    ``max_iterations`` are ccx's own and not settable)."""

    backend: Literal["calculix"] = "calculix"
    linear_solver: Literal["default", "spooles", "iterative_cholesky"] = Field(
        "default", description="spooles (direct, default) | iterative_cholesky"
    )


@dataclass(frozen=True, kw_only=True)
class CalculixJob(Job):
    """``footdt.inp`` written from ``deck`` (``files["inp"]``); ccx writes ``dat`` and ``log``."""

    deck: Deck

    @property
    def dat(self) -> Path:
        return self.workdir / f"{JOB}.dat"

    @property
    def log(self) -> Path:
        return self.workdir / f"{JOB}.log"


@dataclass(frozen=True, kw_only=True)
class CalculixRun(RunRecord):
    """Per phase its result and element volumes (mm^3) after the active-set rounds; the number
    of ccx runs, the active connectors and the solves of each phase."""

    results: dict[str, tuple[PhaseResult, np.ndarray]]
    ccx_runs: int
    active_set: dict[str, list[str]]
    active_set_solves: dict[str, int]


def write_deck(
    deck: Deck, options: SolverProfile, active: list[tuple[bool, ...]] | None = None
) -> str:
    """The CalculiX deck of ``deck`` with the options' linear solver (and, after the first
    active-set round, the phases' connector states ``active``)."""
    return CalculixDeckWriter(CCX_SOLVERS[options.linear_solver]).write(deck, active)


class CalculixBackend(ProgramBackend[CalculixOptions, CalculixJob, CalculixRun]):
    name: ClassVar[str] = "calculix"
    options_type: ClassVar[type[SolverProfile]] = CalculixOptions
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
    writes_inputs: ClassVar[bool] = True
    deck_writer: ClassVar[type[DeckWriter]] = CalculixDeckWriter
    inputs: ClassVar[tuple[str, ...]] = (f"{JOB}.inp",)

    def version(self, options: CalculixOptions | None = None) -> str:
        exe = self.require(options)
        out = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=60)
        m = re.search(r"Version\s+(\S+)", out.stdout + out.stderr)
        return m.group(1) if m else "unknown"

    # ------------------------------------------------------------------ prepare
    def prepare(self, model: AnalysisModel, workdir: Path, options: CalculixOptions) -> CalculixJob:
        """Write ``footdt.inp`` (run it with ``ccx -i footdt`` in ``workdir``): the first
        active-set round, every connector active."""
        workdir.mkdir(parents=True, exist_ok=True)
        inp = workdir / f"{JOB}.inp"
        deck = build_deck(model)
        inp.write_text(write_deck(deck, options))
        return CalculixJob(model=model, workdir=workdir, options=options, files={"inp": inp},
                           deck=deck)  # fmt: skip

    # ------------------------------------------------------------------ run
    def _run_job(self, job: CalculixJob, name: str) -> Path:
        """Run ``ccx -i name`` in the work directory; return the .dat file (SolveError on failure)."""
        exe = self.require(job.options)
        threads = job.options.threads or os.cpu_count() or 1
        env = dict(os.environ)
        env.update({"OMP_NUM_THREADS": str(threads), "CCX_NPROC_EQUATION_SOLVER": str(threads)})
        log, dat = job.workdir / f"{name}.log", job.workdir / f"{name}.dat"
        dat.unlink(missing_ok=True)
        with log.open("w") as fh:
            proc = subprocess.run(
                [exe, "-i", name], cwd=job.workdir, stdout=fh, stderr=subprocess.STDOUT, env=env
            )
        text = log.read_text(errors="replace")
        if proc.returncode != 0 or "*ERROR" in text:
            raise SolveError(
                f"ccx failed (exit code {proc.returncode}): {_error_lines(text)}; log: {log}"
            )
        if not dat.is_file():
            raise SolveError(f"ccx wrote no results file {dat}; log: {log}")
        return dat

    def run(self, job: CalculixJob) -> CalculixRun:
        """Run the prepared deck, then the active-set rounds of tension-only connectors. The
        results of an earlier run in the work directory are removed first (never read)."""
        start = time.perf_counter()
        for suffix in (".dat", ".frd", ".sta", ".cvg", ".log", ".12d"):
            (job.workdir / f"{JOB}{suffix}").unlink(missing_ok=True)
        for old in job.workdir.glob(f"{JOB}_as*.*"):  # decks and results of earlier rounds
            old.unlink()
        model, deck = job.model, job.deck
        conns = deck.connectors
        active = {st.name: (True,) * len(conns) for st in deck.steps}
        pending, solves = list(deck.steps), dict.fromkeys(active, 0)
        done: dict[str, tuple[PhaseResult, np.ndarray]] = {}
        runs, name = 0, JOB
        while pending:
            dat = self._run_job(job, name)
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
                elif solves[step.name] >= job.options.max_active_set_iterations:
                    raise SolveError(
                        f"phase {step.name!r}: tension-only connectors found no stable active set "
                        f"in {solves[step.name]} solves; raise max_active_set_iterations in the "
                        "solver profile"
                    )
                else:
                    active[step.name] = new
                    still.append(step)
            pending, name = still, f"{JOB}_as{runs + 1}"
            if pending:
                text = write_deck(dc_replace(deck, steps=tuple(pending)), job.options,
                                  [active[s.name] for s in pending])  # fmt: skip
                (job.workdir / f"{name}.inp").write_text(text)
        return CalculixRun(
            wall_time=time.perf_counter() - start,
            results=done,
            ccx_runs=runs,
            active_set={k: [c.name for c, on in zip(conns, v, strict=True) if on]
                        for k, v in active.items()},
            active_set_solves=solves,
        )  # fmt: skip

    # ------------------------------------------------------------------ extract
    def extract(self, job: CalculixJob, run: CalculixRun) -> SolveResult:
        steps = job.deck.steps
        phases = {st.name: run.results[st.name][0] for st in steps}
        info: dict[str, Any] = {
            "linear_solver": CCX_SOLVERS[job.options.linear_solver],
            "workdir": str(job.workdir),
            "dat": str(job.dat),
            "log": str(job.log),
            "ccx_runs": run.ccx_runs,
            "active_set": run.active_set,
            "active_set_solves": run.active_set_solves,
        }
        return self.make_result(job, run.results[steps[0].name][1], phases, info)


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
