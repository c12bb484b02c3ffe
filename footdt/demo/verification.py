"""Stage 1: the open backends (SfePy, and footdt's own ``native`` path the demo's FE uses) against
closed-form answers (specs/verification) and, when ``ccx`` is installed, SfePy against CalculiX
on the same meshes. About ten seconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from footdt.demo.options import SPECS
from footdt.demo.ui import DemoUi
from footdt.domain import MAX, MEAN, P95, P99

CASES = ("bar_compression", "cantilever", "lame_cylinder", "two_material_block")
RTOL = {MEAN: 0.005, P95: 0.02, P99: 0.02, MAX: 0.05}


def backends_to_check() -> tuple[list[str], str | None]:
    """(open backends available here, why CalculiX is skipped or None)."""
    from footdt.backends import get_backend

    ccx = get_backend("calculix").availability()
    return (["sfepy", "native", "calculix"], None) if ccx else (["sfepy", "native"], ccx.reason)


def run_verification(out: Path, backends: list[str], ui: DemoUi) -> dict[str, Any]:
    """Solve every verification case on ``backends``; checks, solves and the cross-check."""
    from footdt.backends import get_backend
    from footdt.compile import compile_spec
    from footdt.ir import save_model
    from footdt.labels import LabelStore, store_result
    from footdt.labels.compare import compare
    from footdt.spec.loader import load_spec
    from footdt.verify import CASES as ANALYTIC
    from footdt.verify import verify

    store_url = str(out / "labels.db")
    (out / "labels.db").unlink(missing_ok=True)
    checks: list[dict[str, Any]] = []
    solves: list[dict[str, Any]] = []
    skipped: list[str] = []
    with ui.bar("verification cases", total=len(CASES)) as update:
        for i, case in enumerate(CASES):
            update(i, detail=case)
            loaded = load_spec(SPECS / "verification" / f"{case}.yaml")
            model = compile_spec(loaded)
            save_model(model, out / case)
            for name in backends:
                reasons = get_backend(name).unsupported(model)
                if reasons:
                    skipped.append(f"{case} on {name}: {reasons[0]}")
                    continue
                result = get_backend(name).solve(model, out / case / name)
                store_result(store_url, result, model)
                solves.append({"case": case, "backend": name, "nodes": model.n_nodes,
                               "wall_time_s": round(result.wall_time, 3)})  # fmt: skip
                if case in ANALYTIC:
                    for check in verify(loaded.spec, model, result):  # type: ignore[arg-type]
                        checks.append({**check.__dict__, "backend": name})
        update(len(CASES))
    comparison: dict[str, Any] | None = None
    if "calculix" in backends:
        with LabelStore(store_url) as store:
            c = compare(store, "sfepy", "calculix", subject=CASES, rtol=RTOL)
        worst = max(c.rows, key=lambda r: r.rel_diff) if c.rows else None
        comparison = {"ok": c.ok, "n_labels": len(c.rows),
                      "worst_rel_diff": None if worst is None else worst.rel_diff,
                      "worst_label": None if worst is None else ".".join(worst.key)}  # fmt: skip
    return {"backends": backends, "checks": checks, "solves": solves, "skipped": skipped,
            "max_rel_error": max((c["rel_error"] for c in checks), default=None),
            "comparison": comparison}  # fmt: skip
