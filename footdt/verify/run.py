"""Run a verification spec on a backend, optionally at another mesh size or element order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from footdt.backends import get_backend
from footdt.backends.base import SolveResult
from footdt.compile import compile_spec
from footdt.ir import AnalysisModel
from footdt.spec.loader import LoadedSpec, load_spec
from footdt.spec.subject import SubjectSpec
from footdt.verify.analytic import VerificationResult, verify

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs" / "verification"


@dataclass
class CaseRun:
    spec: SubjectSpec
    model: AnalysisModel
    result: SolveResult
    checks: list[VerificationResult]


def with_mesh(
    loaded: LoadedSpec, size: float | None = None, order: int | None = None
) -> LoadedSpec:
    """The same spec with another global element size (per-part sizes scale with it) or order."""
    spec = loaded.spec
    assert isinstance(spec, SubjectSpec)
    update: dict[str, object] = {}
    if size is not None:
        factor = size / spec.mesh.size
        update["size"] = size
        update["part_sizes"] = {k: v * factor for k, v in spec.mesh.part_sizes.items()}
    if order is not None:
        update["order"] = order
    mesh = spec.mesh.model_copy(update=update)
    return LoadedSpec(spec.model_copy(update={"mesh": mesh}), loaded.source)


def run_case(
    case: str | Path,
    backend: str,
    workdir: str | Path,
    size: float | None = None,
    order: int | None = None,
) -> CaseRun:
    path = Path(case) if Path(case).suffix else SPEC_DIR / f"{case}.yaml"
    loaded = with_mesh(load_spec(path), size, order)
    model = compile_spec(loaded)
    result = get_backend(backend).solve(model, workdir)
    assert isinstance(loaded.spec, SubjectSpec)
    return CaseRun(loaded.spec, model, result, verify(loaded.spec, model, result))
