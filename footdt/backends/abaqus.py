"""Abaqus backend: a flat deck, an extraction script and a run script; runs when `abaqus` is on PATH.

Without an Abaqus installation the same files are written by ``footdt compile --backend abaqus``;
run them where Abaqus is licensed and bring the JSON back with ``footdt labels import``, which
calls ``read_abaqus_json``. Units: mm, N, MPa (stress), mm^3 (volume).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import Field

from footdt.backends.base import ALL_CAPABILITIES, Job, ProgramBackend, RunRecord
from footdt.backends.inp.deck import ALL_SOLIDS, Deck, DeckConnector, DeckStep, build_deck
from footdt.backends.inp.writer import DeckWriter, fmt
from footdt.errors import FootdtError, SolveError
from footdt.fileio import atomic_write
from footdt.ir import AnalysisModel
from footdt.mechanics import von_mises
from footdt.results import PhaseResult, SolveResult, make_result
from footdt.spec.profile import SolverProfile

JOB = "footdt"
#: What the extraction writes and ``footdt labels import`` reads (the README's name too).
RESULTS = f"{JOB}_results.json"
RUN_SCRIPT = "run_abaqus.sh"
EXTRACT_SCRIPT = Path(__file__).with_name("abaqus_extract.py")
#: Files of an Abaqus deck folder that only make sense next to the Abaqus deck.
ABAQUS_ONLY_FILES = (RUN_SCRIPT, EXTRACT_SCRIPT.name)
FORMAT, FORMAT_VERSION = "footdt-abaqus-results", 1
INSTALL_HINT = (
    "put `abaqus` on PATH or set `executable` in a solver profile; without Abaqus, write the deck "
    "with `footdt compile --backend abaqus --out DIR`, run DIR/run_abaqus.sh where Abaqus is "
    "licensed and import the JSON with `footdt labels import`"
)


#: Time period (s) of every *STATIC step: a step has ended when its last frame reaches it.
STEP_TIME = 1.0


class AbaqusDeckWriter(DeckWriter):
    """The Abaqus dialect: CONN3D2 connector elements (AXIAL for linear and tension-only, SLIPRING
    for slip rings), ``*DSLOAD, OP=NEW``, field output S at the centroid and EVOL of the solid
    elements (``ELSET=FOOTDT_ALL_SOLIDS``: connector elements have neither), U and RF for the
    extraction script. Each step runs over a time period of ``STEP_TIME``; the extraction reads
    its last frame, and ``read_abaqus_json`` refuses a frame that did not reach it (a run stopped
    mid-step). Abaqus's AXIAL connector acts along the line between its nodes in the *current*
    geometry (also with NLGEOM=NO), the other backends along the original one: see
    docs/backends.md."""

    dialect = "abaqus"

    def section_data(self) -> list[str]:
        return [","]

    def connector(self, deck: Deck, index: int, c: DeckConnector) -> list[str]:
        """CONN3D2 elements.

        linear -> AXIAL with *CONNECTOR ELASTICITY (k in N/mm on the change of length).
        tension_only -> AXIAL with NONLINEAR elasticity (force, elongation) pairs: zero force for
        any shortening, k per mm of lengthening, linearly extrapolated (EXTRAPOLATION=LINEAR).
        Chosen over T3D2 + *NO COMPRESSION because the stiffness is given directly in N/mm (no
        invented area and modulus), it uses the same element as the other laws, and the step stays
        a general (iterated) static step.
        slip_ring -> SLIPRING; its component 1 elasticity relates the belt force to the belt strain,
        so the stiffness is written as k * L0 (N per unit strain). Material flow (dof 10) is fixed
        at belt ends (nodes used by one slip-ring connector) in every step, free where two meet.
        """
        beh = f"{c.elset}_B"
        kind = "SLIPRING" if c.law == "slip_ring" else "AXIAL"
        lines = [
            f"*ELEMENT, TYPE=CONN3D2, ELSET={c.elset}",
            f"{c.label}, {c.node_a}, {c.node_b}",
            f"*CONNECTOR SECTION, ELSET={c.elset}, BEHAVIOR={beh}",
            f"{kind},",
        ]
        if c.law == "tension_only":
            L = c.length
            return [
                *lines,
                f"*CONNECTOR BEHAVIOR, NAME={beh}, EXTRAPOLATION=LINEAR",
                "*CONNECTOR ELASTICITY, NONLINEAR, COMPONENT=1",
                f"0., {fmt(-L)}",
                "0., 0.",
                f"{fmt(c.stiffness * L)}, {fmt(L)}",
            ]
        k = c.stiffness * c.length if c.law == "slip_ring" else c.stiffness
        return [
            *lines,
            f"*CONNECTOR BEHAVIOR, NAME={beh}",
            "*CONNECTOR ELASTICITY, COMPONENT=1",
            f"{fmt(k)},",
        ]

    def step_card(self, deck: Deck, step: DeckStep, active: Sequence[bool] | None) -> list[str]:
        lines = []
        if deck.nonlinear:
            lines.append(
                "** tension-only connectors: nonlinear elasticity, small displacements "
                "(NLGEOM=NO), iterated in a general step"
            )
        return [
            *lines,
            f"*STEP, NAME={step.name}, NLGEOM=NO, INC=1000",
            "*STATIC",
            f"{fmt(STEP_TIME)}, {fmt(STEP_TIME)}, 1e-05, {fmt(STEP_TIME)}",
        ]

    def pressure(self, step: DeckStep) -> list[str]:
        return ["*DSLOAD, OP=NEW", *[f"{s}, P, {fmt(p)}" for s, p in step.pressures]]

    def output(self, deck: Deck) -> list[str]:
        return [  # S and EVOL on the solid elements only: connectors have neither
            "*OUTPUT, FIELD",
            f"*ELEMENT OUTPUT, ELSET={ALL_SOLIDS}, POSITION=CENTROIDAL",
            "S,",
            f"*ELEMENT OUTPUT, ELSET={ALL_SOLIDS}",
            "EVOL,",
            "*NODE OUTPUT",
            "U, RF",
        ]


class AbaqusOptions(SolverProfile):
    """Options of the abaqus backend (``backend = "abaqus"`` in a profile): ``executable`` and
    ``threads`` (cpus=); Abaqus/Standard chooses its own linear solver."""

    backend: Literal["abaqus"] = "abaqus"
    linear_solver: Literal["default"] = Field("default", description="Abaqus/Standard's own.")


@dataclass(frozen=True, kw_only=True)
class AbaqusJob(Job):
    """``footdt.inp``, ``abaqus_extract.py`` and ``run_abaqus.sh`` (``files``); the run writes
    ``results`` (``footdt_results.json``)."""

    @property
    def results(self) -> Path:
        return self.workdir / RESULTS


@dataclass(frozen=True, kw_only=True)
class AbaqusRun(RunRecord):
    """The Abaqus run: the program run and its log (``footdt.runlog``)."""

    executable: str
    log: Path


def write_deck(deck: Deck) -> str:
    """The Abaqus deck of ``deck``."""
    return AbaqusDeckWriter().write(deck)


class AbaqusBackend(ProgramBackend[AbaqusOptions, AbaqusJob, AbaqusRun]):
    name: ClassVar[str] = "abaqus"
    options_type: ClassVar[type[SolverProfile]] = AbaqusOptions
    capabilities: ClassVar[frozenset[str]] = ALL_CAPABILITIES  # the deck can say everything
    install_hint: ClassVar[str] = INSTALL_HINT
    default_executable: ClassVar[str] = "abaqus"
    writes_inputs: ClassVar[bool] = True
    deck_writer: ClassVar[type[DeckWriter]] = AbaqusDeckWriter
    inputs: ClassVar[tuple[str, ...]] = (f"{JOB}.inp", *ABAQUS_ONLY_FILES)

    def version(self, options: AbaqusOptions | None = None) -> str:
        exe = self.require(options)
        out = subprocess.run(
            [exe, "information=release"], capture_output=True, text=True, timeout=120
        )
        m = re.search(r"Abaqus\s+(\S+)", out.stdout + out.stderr)
        return m.group(1) if m else "unknown"

    def prepare(self, model: AnalysisModel, workdir: Path, options: AbaqusOptions) -> AbaqusJob:
        """Write ``footdt.inp``, ``abaqus_extract.py`` and ``run_abaqus.sh`` into ``workdir``
        (what ``footdt compile --backend abaqus`` writes; run the script where Abaqus is)."""
        workdir.mkdir(parents=True, exist_ok=True)
        inp = workdir / f"{JOB}.inp"
        deck = build_deck(model)
        atomic_write(inp, lambda tmp: tmp.write_text(write_deck(deck)))
        script = workdir / EXTRACT_SCRIPT.name
        atomic_write(script, lambda tmp: shutil.copyfile(EXTRACT_SCRIPT, tmp))
        run = workdir / RUN_SCRIPT
        text = (
            "#!/bin/sh\n"
            f"# footdt: solve {inp.name} with Abaqus, then write {RESULTS} for\n"
            f"#   footdt labels import {RESULTS} --model MODEL_DIR\n"
            "# Units: mm, N, MPa. Each step is one phase (an independent load case).\n"
            "# ask_delete=OFF: the files of an earlier run of this job are replaced, not asked about.\n"
            "set -e\n"
            'cd "$(dirname "$0")"\n'
            f'grep -q "^\\*\\* footdt .* abaqus dialect" {inp.name} || {{ echo "{inp.name} is not '
            f"the Abaqus deck footdt wrote here (compiled for another backend?); run footdt "
            f'compile --backend abaqus again" >&2; exit 2; }}\n'
            f"rm -f {RESULTS}\n"
            f"abaqus {' '.join(abaqus_command(JOB, inp.name))}\n"
            f"abaqus python {' '.join(extract_args(model))}\n"
        )
        atomic_write(run, lambda tmp: tmp.write_text(text))
        run.chmod(0o755)
        files = {"inp": inp, "extract": script, "run": run}
        return AbaqusJob(model=model, workdir=workdir, options=options, files=files)

    def run(self, job: AbaqusJob) -> AbaqusRun:
        """Solve and extract with the options' program; an earlier results file is removed
        first (never read)."""
        exe = self.require(job.options)
        start = time.perf_counter()
        job.results.unlink(missing_ok=True)
        log = job.workdir / f"{JOB}.runlog"
        commands = [
            [exe, *abaqus_command(JOB, f"{JOB}.inp", max(job.options.threads, 1))],
            [exe, "python", *extract_args(job.model)],
        ]
        with log.open("w") as fh:
            for cmd in commands:
                proc = subprocess.run(cmd, cwd=job.workdir, stdout=fh, stderr=subprocess.STDOUT)
                if proc.returncode != 0:
                    raise SolveError(
                        f"`{' '.join(cmd[1:])}` failed (exit code {proc.returncode}); see {log} and "
                        f"{job.workdir / (JOB + '.msg')}"
                    )
        return AbaqusRun(wall_time=time.perf_counter() - start, executable=exe, log=log)

    def extract(self, job: AbaqusJob, run: AbaqusRun) -> SolveResult:
        return read_abaqus_json(job.results, job.model)


def abaqus_command(job: str, inp: str, cpus: int | None = None) -> list[str]:
    """Arguments of ``abaqus`` that solve ``inp`` as ``job`` in the foreground. ``ask_delete=OFF``:
    without it, Abaqus stops to ask whether to delete the files of an earlier run of the job (the
    .odb of the previous solve in the same folder), which a batch run cannot answer."""
    cpu = [] if cpus is None else [f"cpus={cpus}"]
    return [f"job={job}", f"input={inp}", *cpu, "ask_delete=OFF", "interactive"]


def extract_args(model: AnalysisModel) -> list[str]:
    """Arguments of ``abaqus python`` that extract the model's parts (only those) to ``RESULTS``."""
    return [EXTRACT_SCRIPT.name, f"{JOB}.odb", RESULTS, model.content_hash(), ",".join(model.parts)]


def _load(path: Path) -> dict[str, Any]:
    hint = f"write it with `sh run_abaqus.sh` in the deck folder (it writes {RESULTS})"
    if not path.is_file():
        raise FootdtError(f"{path}: no such Abaqus results file; {hint}")
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise FootdtError(f"{path}: not valid JSON ({exc}); {hint}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FootdtError(
            f"{path}: not a footdt Abaqus results file (no format {FORMAT!r}); {hint}"
        )
    if data.get("format_version") != FORMAT_VERSION:
        raise FootdtError(
            f"{path}: results format version {data.get('format_version')} is not {FORMAT_VERSION}; "
            "re-extract with the abaqus_extract.py of this footdt version"
        )
    return data


def read_abaqus_json(path: str | Path, model: AnalysisModel) -> SolveResult:
    """Read the JSON of ``abaqus_extract.py`` for ``model`` (element order, units as the IR)."""
    p = Path(path)
    data = _load(p)
    stored = data.get("model_hash")
    if stored and stored != model.content_hash():
        raise FootdtError(
            f"{p}: results belong to model {stored}, not to this model ({model.content_hash()}); "
            "import them with the model directory the deck was compiled from"
        )
    try:
        steps = {str(s["name"]).upper(): s for s in data["steps"]}
        deck = build_deck(model)
        phases: dict[str, PhaseResult] = {}
        volume: np.ndarray | None = None
        for phase, dstep in zip(model.phases, deck.steps, strict=True):
            step = steps.pop(phase.name.upper(), None)
            if step is None:
                raise FootdtError(f"{p}: no step for phase {phase.name!r}; was the deck changed?")
            where = f"{p}: step {phase.name!r}"
            _check_step_end(step, where)
            stress, mises, vol = _elements(model, step["parts"], where)
            volume = vol if volume is None else volume
            u, rf = _nodes(model, step["nodes"], where)
            nodes, dofs = dstep.constrained[:, 0], dstep.constrained[:, 1]
            reaction = np.zeros(3)
            np.add.at(reaction, dofs, rf[nodes, dofs])
            phases[phase.name] = PhaseResult(phase.name, mises, stress, u, None, reaction)
        if steps:
            raise FootdtError(f"{p}: steps {', '.join(steps)} match no phase of the model")
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise FootdtError(
            f"{p}: malformed results file ({type(exc).__name__}: {exc}); re-extract it"
        ) from exc
    assert volume is not None
    return make_result(model, "abaqus", str(data.get("abaqus_version", "unknown")), volume, phases,
                       {"source": str(p), "odb": data.get("odb")})  # fmt: skip


def _check_step_end(step: dict[str, Any], where: str) -> None:
    """The step's last frame must be its end (frame value = the deck's step time): Abaqus keeps
    the frames of a step it could not finish, and the last of them is a partial load."""
    period = step.get("time_period")
    if period is not None and abs(float(period) - STEP_TIME) > 1e-9:
        raise FootdtError(
            f"{where}: time period {period} is not the deck's {STEP_TIME}; was the deck changed?"
        )
    value = float(step["frame_value"])
    if abs(value - STEP_TIME) > 1e-6 * STEP_TIME:
        raise FootdtError(
            f"{where}: the last frame is at step time {value:g} of {STEP_TIME:g}: the analysis "
            "stopped before the end of the step (see footdt.msg and footdt.sta); fix the cause "
            "and run the job again"
        )


def _elements(model: AnalysisModel, parts: dict[str, Any], where: str) -> tuple[np.ndarray, ...]:
    M = model.n_elements
    stress, mises, vol = np.full((M, 6), np.nan), np.full(M, np.nan), np.full(M, np.nan)
    by_upper = {k.upper(): v for k, v in parts.items()}
    for part, idx in model.parts.items():
        got = by_upper.get(part.upper())
        if got is None:
            raise FootdtError(f"{where}: no results for part {part!r}")
        labels = np.asarray(got["labels"], dtype=np.int64)
        if not np.array_equal(np.sort(labels), np.sort(np.asarray(idx, dtype=np.int64)) + 1):
            raise FootdtError(f"{where}: element labels of part {part!r} do not match the model")
        stress[labels - 1] = np.asarray(got["stress"], dtype=np.float64).reshape(len(labels), 6)
        mises[labels - 1] = np.asarray(got["mises"], dtype=np.float64)
        vol[labels - 1] = np.asarray(got["evol"], dtype=np.float64)
    if np.isnan(stress).any() or np.isnan(vol).any():
        raise FootdtError(f"{where}: some elements have no stress or volume")
    check = von_mises(stress)
    if np.any(np.abs(check - mises) > 1e-4 * max(float(np.abs(mises).max()), 1e-12) + 1e-6):
        raise FootdtError(
            f"{where}: von Mises values do not match the stress tensors (corrupted file?)"
        )
    return stress, mises, vol


def _nodes(
    model: AnalysisModel, nodes: dict[str, Any], where: str
) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(nodes["labels"], dtype=np.int64)
    if not np.array_equal(np.sort(labels), np.arange(1, model.n_nodes + 1)):
        raise FootdtError(f"{where}: node labels do not match the model's {model.n_nodes} nodes")
    u, rf = np.zeros((model.n_nodes, 3)), np.zeros((model.n_nodes, 3))
    u[labels - 1] = np.asarray(nodes["u"], dtype=np.float64).reshape(-1, 3)
    rf[labels - 1] = np.asarray(nodes["rf"], dtype=np.float64).reshape(-1, 3)
    return u, rf
