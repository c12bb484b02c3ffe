"""``footdt validate`` for one file: tell what kind of file it is, then check it as that kind.

A file with ``kind:`` is checked as that kind. Without one, a file with ``backend`` (or whose keys
are mostly a solver profile's, misspellings included) is a solver profile, one with cohort keys a
cohort spec, and anything else a subject spec. A cohort's ``template`` must exist and be a valid
subject spec. Every problem is a ``FootdtError`` whose message is one line per error, each at most
300 characters, starting with ``file:line``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from footdt.errors import FootdtError, SpecError, excerpt

#: Where a cohort's template is looked for when the cohort spec names none (as generate does).
DEFAULT_TEMPLATE = Path("specs/subjects/template.yaml")


def validate_file(path: str | Path, *, deep: bool = False) -> dict[str, Any]:
    """``{"file", "ok": True, "kind", "id"}`` for a valid file; raises ``FootdtError`` otherwise.

    ``deep`` also meshes and compiles subject specs (``footdt validate --compile``)."""
    from footdt.spec.loader import guess_kind, read_data, validate_data

    p = Path(path)
    data, source = read_data(p)
    kind = guess_kind(data, p)
    if kind == "solver_profile":
        from footdt.spec.profile import load_profile

        profile = load_profile(p)
        return {"file": str(p), "ok": True, "kind": "solver_profile", "id": profile.name}
    if kind == "cohort":
        from footdt.cohort.spec import load_cohort_spec

        cohort = load_cohort_spec(p)
        _check_template(cohort.template, source)
        return {"file": str(p), "ok": True, "kind": "cohort", "id": cohort.id}
    spec = validate_data(data, source)
    if deep and spec.kind == "subject":
        from footdt.compile import compile_spec
        from footdt.spec.loader import LoadedSpec

        compile_spec(LoadedSpec(spec=spec, source=source))
    elif spec.kind == "subject":
        from footdt.mesh.estimate import check_spec_estimate

        _check_held(spec, source)
        check_spec_estimate(spec, source)
    return {"file": str(p), "ok": True, "kind": spec.kind, "id": spec.id}


def _check_held(spec: Any, source: Any) -> None:
    """Every phase needs a boundary condition (without one the model can move as a rigid body
    and no solve can succeed) and a load (without one every stress is 0). The spec model itself
    allows both, so that a cohort template can leave loads to ``footdt cohort generate``;
    ``--compile`` runs the full rigid-body check."""
    for i, phase in enumerate(spec.phases):
        bcs = [*spec.boundary_conditions, *phase.boundary_conditions]
        if not bcs:
            raise source.error(
                ("phases", i),
                f"phase '{phase.name}' has no boundary condition, so the model can move as a "
                "rigid body: fix a surface (boundary_conditions, here or at the top level)",
            )
        loaded = (
            any(p.value for p in phase.pressures)
            or any(any(f.total) for f in phase.forces)
            or any(bc.value for bc in bcs)
        )
        if not loaded:
            raise source.error(
                ("phases", i),
                f"phase '{phase.name}' has no load, so every stress would be 0: add a pressure, a "
                "force or a non-zero boundary value (a cohort template may leave them to `footdt "
                "cohort generate`)",
            )


def _check_template(template: Path | None, source: Any) -> None:
    """The cohort's template must be a file holding a valid subject spec."""
    path = template if template is not None else DEFAULT_TEMPLATE
    named = f"template {excerpt(str(path), 80)}"
    try:
        exists = path.is_file()
    except (OSError, ValueError):  # a name too long for this file system, say
        exists = False
    if not exists:
        raise source.error(
            ("template",),
            f"{named} does not exist"
            + ("" if template is not None else " (the default, relative to the working directory)")
            + ": give the path of a subject spec, relative to this file",
        )
    from footdt.spec.loader import load_spec

    try:
        loaded = load_spec(path)
    except FootdtError as exc:
        first = str(exc).splitlines()[0]
        raise source.error(("template",), f"{named} is not a valid subject spec: {first}") from None
    if loaded.spec.kind != "subject":
        raise SpecError(str(source.error(("template",), f"{named} is not a subject spec")))
