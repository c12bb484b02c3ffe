"""JSON Schema of the spec language, for editor completion (``footdt schema``)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from footdt.spec.experiment import ExperimentSpec
from footdt.spec.subject import SubjectSpec


def spec_json_schema() -> dict[str, Any]:
    schema = TypeAdapter(SubjectSpec | ExperimentSpec).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "footdt spec"
    schema["description"] = (
        "A footdt subject or experiment spec (YAML or TOML). Units: mm, N, MPa, s unless a field says otherwise."
    )
    return schema
