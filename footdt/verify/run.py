"""Run a verification spec on a backend, optionally at another mesh size or element order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from footdt.backends import get_backend
from footdt.compile import compile_spec
from footdt.ir import AnalysisModel
from footdt.results import SolveResult
from footdt.spec.loader import load_spec
from footdt.spec.subject import SubjectSpec
from footdt.verify.analytic import VerificationResult, verify

SPEC_DIR = Path(__file__).resolve().parents[2] / "specs" / "verification"


@dataclass
class CaseRun:
    spec: SubjectSpec
    model: AnalysisModel
    result: SolveResult
    checks: list[VerificationResult]


def run_case(
    case: str | Path,
    backend: str,
    workdir: str | Path,
    size: float | None = None,
    order: int | None = None,
) -> CaseRun:
    path = Path(case) if Path(case).suffix else SPEC_DIR / f"{case}.yaml"
    loaded = load_spec(path).with_mesh(size, order)
    model = compile_spec(loaded)
    result = get_backend(backend).solve(model, workdir)
    assert isinstance(loaded.spec, SubjectSpec)
    return CaseRun(loaded.spec, model, result, verify(loaded.spec, model, result))
