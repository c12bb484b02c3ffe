"""The named steps of a per-trial pipeline, each keyed by a content hash of its inputs.

A step ``needs`` named values made by earlier steps (``spec`` is given: the hash of the validated
subject spec) and returns the values it ``makes``. Its key is a hash of the step's name and
version, the values it needs and its environment (backend name and version, solver profile,
footdt version). A step is up to date when its record in the run state is *done* under the
same key and its outputs are still there; then its recorded outputs feed the next step's key.
So an edited spec re-runs everything after it, a new backend version re-runs the solve and the
labels, and a step that re-runs but makes the same outputs leaves the later steps up to date.

Today's list is ``compile -> solve -> labels``. A personalisation step (SSM + FFD) slots in front
of ``compile`` by making e.g. ``geometry`` and adding it to ``CompileStep.needs``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from footdt import __version__
from footdt.errors import FootdtError, ModelDirError
from footdt.fileio import json_digest

if TYPE_CHECKING:
    from footdt.ir import AnalysisModel
    from footdt.labels.store import LabelStore
    from footdt.results import SolveResult
    from footdt.spec.loader import LoadedSpec
    from footdt.spec.profile import SolverProfile

#: Profile fields that cannot change a result (threads are set per worker by the runner).
_PROFILE_IGNORED = frozenset({"name", "threads", "executable"})


@dataclass(frozen=True)
class TrialTask:
    """Everything a worker needs to run one trial (picklable; paths absolute)."""

    subject: str
    trial: str
    spec_path: str
    trial_dir: str  # the trial's model directory: model.json, arrays.npz, results.<backend>.npz
    log_path: str
    backend: str
    profile: SolverProfile
    steps: tuple[Step, ...]
    store_url: str | None = None  # labels (and run state) go here
    state_dir: str | None = None  # run state here instead (runs that write no labels)
    vtu: bool = False
    capture_fds: bool = False  # redirect file descriptors 1 and 2 to the log (one task per process)
    threads: int = 0  # linear-solver threads; 0 = the profile's (Dask: chosen on the worker)


@dataclass
class StepContext:
    """A trial's task plus lazily loaded objects shared by its steps (spec, model, result)."""

    task: TrialTask
    log: Callable[[str], None] = print
    store: LabelStore | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def trial_dir(self) -> Path:
        return Path(self.task.trial_dir)

    @property
    def backend_version(self) -> str:
        return backend_version(self.task.backend, self.task.profile.executable)

    def loaded_spec(self) -> LoadedSpec:
        if "spec" not in self.cache:
            from footdt.spec.loader import load_spec

            self.cache["spec"] = load_spec(self.task.spec_path)
        return self.cache["spec"]

    def model(self) -> AnalysisModel:
        if "model" not in self.cache:
            from footdt.ir import load_model

            self.cache["model"] = load_model(self.trial_dir)
        return self.cache["model"]

    def result(self) -> SolveResult:
        if "result" not in self.cache:
            from footdt.results import load_result

            self.cache["result"] = load_result(self.trial_dir, self.task.backend)
        return self.cache["result"]

    def label_store(self) -> LabelStore:
        if self.store is None:
            if self.task.store_url is None:
                raise FootdtError("this run has no label store; pass --store")
            from footdt.labels.store import LabelStore

            self.store = LabelStore(self.task.store_url)
        return self.store


@cache
def backend_version(name: str, executable: str | None = None) -> str:
    """The backend's version, once per process (it may start a program)."""
    from footdt.backends import get_backend

    be = get_backend(name)
    return be.version(None if executable is None else be.options(executable=executable))


def profile_fingerprint(profile: SolverProfile) -> dict[str, Any]:
    return {k: v for k, v in profile.model_dump(mode="json").items() if k not in _PROFILE_IGNORED}


def digest(data: Any) -> str:
    return json_digest(data)


class Step:
    """One named, content-keyed step. Subclasses set the class variables and implement ``run``."""

    name: ClassVar[str]
    version: ClassVar[int] = 1  # bump when the code changes what the step makes
    needs: ClassVar[tuple[str, ...]] = ()
    makes: ClassVar[tuple[str, ...]] = ()

    def environment(self, ctx: StepContext) -> dict[str, Any]:
        """Inputs of the key besides the needed values (versions, settings)."""
        return {}

    def inputs(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        missing = [n for n in self.needs if n not in values]
        if missing:
            raise FootdtError(f"step {self.name!r} needs {missing}, which no earlier step makes")
        return {"step": self.name, "step_version": self.version,
                **{n: values[n] for n in self.needs}, **self.environment(ctx)}  # fmt: skip

    def verify(self, ctx: StepContext, outputs: Mapping[str, Any], thorough: bool) -> bool:
        """Are the recorded outputs still there (``thorough``: and unchanged)?"""
        return True

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class CompileStep(Step):
    """Spec -> mesh -> ``AnalysisModel``, saved as the trial's model directory."""

    name = "compile"
    needs = ("spec",)
    makes = ("model", "mesh", "dir")

    def environment(self, ctx: StepContext) -> dict[str, Any]:
        return {"footdt": __version__}

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        from footdt.compile import compile_spec
        from footdt.ir import save_model

        model = compile_spec(ctx.loaded_spec())
        save_model(model, ctx.trial_dir)
        ctx.cache["model"] = model
        ctx.log(f"compiled {model.n_nodes} nodes, {model.n_elements} elements -> {ctx.trial_dir}")
        return {"model": model.content_hash(), "mesh": model.mesh_hash(), "dir": str(ctx.trial_dir)}

    def verify(self, ctx: StepContext, outputs: Mapping[str, Any], thorough: bool) -> bool:
        if not thorough:
            return all((ctx.trial_dir / f).is_file() for f in ("model.json", "arrays.npz"))
        try:
            return ctx.model().content_hash() == outputs.get("model")
        except ModelDirError:
            ctx.cache.pop("model", None)
            return False


class SolveStep(Step):
    """Solve every phase with the run's backend; ``results.<backend>.npz`` (+ VTU) next to the model."""

    name = "solve"
    needs = ("model",)
    makes = ("result",)

    def environment(self, ctx: StepContext) -> dict[str, Any]:
        return {"backend": ctx.task.backend, "backend_version": ctx.backend_version,
                "profile": profile_fingerprint(ctx.task.profile)}  # fmt: skip

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        from footdt.backends import get_backend
        from footdt.labels.reduce import result_solve_id
        from footdt.results import save_result, write_paraview

        model = ctx.model()
        profile = ctx.task.profile
        if ctx.task.threads:
            profile = profile.model_copy(update={"threads": ctx.task.threads})
        result = get_backend(ctx.task.backend).solve(
            model, ctx.trial_dir / ctx.task.backend, profile
        )
        save_result(result, ctx.trial_dir)
        if ctx.task.vtu:
            write_paraview(model, result, ctx.trial_dir)
        ctx.cache["result"] = result
        res = result.max_residual
        ctx.log(f"solved with {result.backend} {result.backend_version} in "
                f"{result.wall_time:.2f} s (threads {profile.threads}, max residual {res})")  # fmt: skip
        return {"result": result_solve_id(result)}

    def verify(self, ctx: StepContext, outputs: Mapping[str, Any], thorough: bool) -> bool:
        from footdt.results import results_path

        if not results_path(ctx.trial_dir, ctx.task.backend).is_file():
            return False
        if not thorough:
            return True
        from footdt.labels.reduce import result_solve_id

        try:
            return result_solve_id(ctx.result()) == outputs.get("result")
        except (FootdtError, OSError, ValueError, KeyError):
            ctx.cache.pop("result", None)
            return False


class LabelsStep(Step):
    """Reduce the result to label rows and put them, with the solve record, in one transaction."""

    name = "labels"
    needs = ("result",)
    makes = ("labels",)

    def run(self, ctx: StepContext, values: Mapping[str, Any]) -> dict[str, Any]:
        from footdt.labels.reduce import reduce_result
        from footdt.labels.schema import SolveRecord

        result, model = ctx.result(), ctx.model()
        rows = reduce_result(result, model)
        if not rows:
            raise FootdtError("the solve produced no label rows; check the spec's outputs")
        ctx.label_store().put(rows, solve=SolveRecord.from_result(result, rows[0].solve_id))
        ctx.log(f"stored {len(rows)} labels (solve {rows[0].solve_id})")
        return {"labels": rows[0].solve_id, "rows": len(rows)}

    def verify(self, ctx: StepContext, outputs: Mapping[str, Any], thorough: bool) -> bool:
        solve = ctx.label_store().solve(str(outputs.get("labels")))
        return solve is not None and (solve.subject, solve.trial) == (
            ctx.task.subject,
            ctx.task.trial,
        )


def solve_steps() -> tuple[Step, ...]:
    """The per-trial pipeline of ``footdt run --backend sfepy|calculix``."""
    return (CompileStep(), SolveStep(), LabelsStep())


def describe_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Why a step's key changed, e.g. ``spec changed`` or ``backend_version 1.0 -> 1.1``."""
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if a == b:
            continue
        if isinstance(a, str | int | float) and isinstance(b, str | int | float) and k not in (
            "spec", "model", "mesh", "result",
        ):  # fmt: skip
            out.append(f"{k} {a} -> {b}")
        else:
            out.append(f"{k} changed")
    return ", ".join(out) or "inputs changed"
