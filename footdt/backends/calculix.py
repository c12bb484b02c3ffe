"""CalculiX backend: write the deck (CalculiX dialect), run ``ccx``, read the ``.dat`` file.

The ``.dat`` file holds, per step, ``*NODE PRINT`` U and RF for every node and ``*EL PRINT`` S
(at integration points: 1 for C3D4, 4 for C3D10, averaged here to one value per element, which for
the 4-point rule equals the centroidal value of the linear C3D10 stress field) and EVOL per part.
ccx prints stress components as sxx, syy, szz, sxy, sxz, syz, footdt's order. Units: mm, N, MPa.

Linear solvers: SPOOLES (direct, default) or ITERATIVE CHOLESKY (profile ``iterative_cholesky``),
whose conjugate gradients stop at a relative tolerance of 1e-4 hard-coded in ccx (src/preiter.c):
stresses are then only good to about 1e-3 (measured 1.0e-3 on the bar model). ccx reports no
residual, so ``PhaseResult.residual`` stays None; ``info['linear_solver']`` names the solver used.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np

from footdt.backends.base import Availability, Backend, PhaseResult, Prepared, SolveResult
from footdt.backends.inp.deck import ALL_NODES, Deck, DeckStep, build_deck
from footdt.backends.inp.writer import CCX_SOLVERS, DeckWriter
from footdt.errors import BackendUnavailable, FootdtError, SolveError
from footdt.ir import AnalysisModel
from footdt.mechanics import von_mises
from footdt.spec.profile import SolverProfile, default_profile

JOB = "footdt"
INSTALL_HINT = (
    "apt-get install calculix-ccx (Debian/Ubuntu) or set `executable` in a solver profile"
)
_HEADER = re.compile(
    r"^\s*([a-z][a-z ]*?)\s*\(([^)]*)\)\s*for set\s+(\S+)\s+and time\s+(\S+)", re.I
)
# Fortran reals, also with a 3-digit exponent printed without 'E' (1.000000-100) and glued together.
_REAL = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+)(?:[EeDd][-+]?\d+|[-+]\d{3})?|[-+]?\d+")


@dataclass
class DatBlock:
    """One table of a ccx .dat file: ``kind`` (displacements, forces, stresses, volume...), set, time."""

    kind: str
    set: str
    time: float
    rows: list[list[float]] = field(default_factory=list)


def _real(token: str) -> float:
    t = token.upper().replace("D", "E")
    m = re.match(r"^([-+]?(?:\d+\.\d*|\.\d+))([-+]\d{3})$", t)
    return float(f"{m.group(1)}E{m.group(2)}") if m else float(t)


def parse_dat(text: str) -> list[DatBlock]:
    """All result tables of a ccx .dat text, in file order (rows as floats, labels included)."""
    blocks: list[DatBlock] = []
    current: DatBlock | None = None
    for line in text.splitlines():
        head = _HEADER.match(line)
        if head:
            current = DatBlock(
                head.group(1).strip().lower(), head.group(3).upper(), _real(head.group(4))
            )
            blocks.append(current)
        elif current is not None and line.strip():
            tokens = _REAL.findall(line)
            if not tokens or not re.match(r"^\s*\d", line):
                current = None  # a text line ends the table
                continue
            current.rows.append([_real(t) for t in tokens])
    return blocks


class CalculixBackend(Backend):
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

    def __init__(self) -> None:
        self._executable: str | None = None

    def _find(self) -> str | None:
        exe = self._executable or "ccx"
        return shutil.which(exe)

    def availability(self) -> Availability:
        if self._find():
            return Availability(True)
        what = self._executable or "ccx"
        return Availability(False, f"{what} not found: {INSTALL_HINT}")

    def version(self) -> str:
        exe = self._find()
        if exe is None:
            raise BackendUnavailable(f"ccx not found: {INSTALL_HINT}")
        out = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=60)
        m = re.search(r"Version\s+(\S+)", out.stdout + out.stderr)
        return m.group(1) if m else "unknown"

    def solve(
        self, model: AnalysisModel, workdir: str | Path, profile: SolverProfile | None = None
    ) -> SolveResult:
        profile = profile or default_profile(self.name)
        self._executable = profile.executable
        return super().solve(model, workdir, profile)

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
        return Prepared(model, workdir, profile, files, {"deck": deck})

    # ------------------------------------------------------------------ run
    def run(self, prepared: Prepared) -> None:
        exe = self._find()
        if exe is None:
            raise BackendUnavailable(f"{self._executable or 'ccx'} not found: {INSTALL_HINT}")
        threads = prepared.profile.threads or os.cpu_count() or 1
        env = dict(os.environ)
        env.update({"OMP_NUM_THREADS": str(threads), "CCX_NPROC_EQUATION_SOLVER": str(threads)})
        log = prepared.files["log"]
        with log.open("w") as fh:
            proc = subprocess.run(
                [exe, "-i", JOB], cwd=prepared.workdir, stdout=fh, stderr=subprocess.STDOUT, env=env
            )
        text = log.read_text(errors="replace")
        if proc.returncode != 0 or "*ERROR" in text:
            raise SolveError(
                f"ccx failed (exit code {proc.returncode}): {_error_lines(text)}; log: {log}"
            )
        if not prepared.files["dat"].is_file():
            raise SolveError(f"ccx wrote no results file {prepared.files['dat']}; log: {log}")

    # ------------------------------------------------------------------ extract
    def extract(self, prepared: Prepared) -> SolveResult:
        model, deck = prepared.model, prepared.state["deck"]
        dat = prepared.files["dat"]
        if not dat.is_file():
            raise SolveError(f"no CalculiX results file {dat}: run the solve first")
        blocks = parse_dat(dat.read_text(errors="replace"))
        phases: dict[str, PhaseResult] = {}
        volume: np.ndarray | None = None
        for i, step in enumerate(deck.steps):
            found = [b for b in blocks if abs(b.time - (i + 1)) < 1e-6]
            where = f"{dat}: phase {step.name!r} (step {i + 1})"
            stress, vol = _element_results(model, found, where)
            volume = vol if volume is None else volume
            u = _nodal(model, found, "displacements", where)
            rf = _nodal(model, found, "forces", where)
            reaction = _reaction(model, deck, step, rf)
            phases[step.name] = PhaseResult(step.name, von_mises(stress), stress, u, None, reaction)
        assert volume is not None
        return SolveResult(
            subject=model.subject,
            trial=model.trial,
            backend=self.name,
            backend_version=self.version(),
            model_hash=model.content_hash(),
            spec_hash=str(model.provenance.get("spec_hash", "unknown")),
            mesh_hash=model.mesh_hash(),
            element_volume=volume,
            phases=phases,
            info={
                "linear_solver": CCX_SOLVERS[prepared.profile.linear_solver],
                "workdir": str(prepared.workdir),
                "dat": str(dat),
                "log": str(prepared.files["log"]),
                "nonlinear": deck.nonlinear,
            },
        )


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


def _reaction(model: AnalysisModel, deck: Deck, step: DeckStep, rf: np.ndarray) -> np.ndarray:
    """Sum (N) of support reactions over the prescribed (node, dof) pairs of a step.

    ccx's RF is the external force (reaction + concentrated + distributed load) at a node, so the
    step's own loads at prescribed dofs are subtracted: concentrated forces exactly, pressures by
    their consistent nodal forces on the undeformed faces (corners of C3D4, mid-sides of C3D10).
    """
    applied = step.applied.copy()
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
