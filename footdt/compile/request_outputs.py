"""Pass 7: ties between named surfaces and the output request (which parts, which statistics)."""

from __future__ import annotations

from footdt.compile.resolve_sets import Sets
from footdt.ir import OutputRequest, Tie
from footdt.spec.loader import SourceMap
from footdt.spec.subject import SubjectSpec


def request_ties(spec: SubjectSpec, sets: Sets, source: SourceMap) -> tuple[Tie, ...]:
    """Ties name surfaces; a conforming mesh (the default) needs none."""
    out = []
    for i, tie in enumerate(spec.ties):
        for end in ("slave", "master"):
            name = getattr(tie, end)
            if name not in sets.surfaces:
                raise source.error(("ties", i, end), f"no surface named {name!r}")
        out.append(Tie(tie.name, tie.slave, tie.master, tie.tolerance))
    return tuple(out)


def request_outputs(spec: SubjectSpec, parts: list[str], source: SourceMap) -> OutputRequest:
    wanted = spec.outputs.parts if spec.outputs.parts is not None else parts
    for i, p in enumerate(wanted):
        if p not in parts:
            raise source.error(("outputs", "parts", i), f"no part named {p!r}; parts: {parts}")
    return OutputRequest(tuple(wanted), tuple(spec.outputs.statistics))
