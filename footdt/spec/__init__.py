"""The spec language: pydantic models of subject and experiment specs, loading, schema."""

from footdt.spec.experiment import ExperimentSpec
from footdt.spec.loader import LoadedSpec, SourceMap, load_spec, spec_hash
from footdt.spec.profile import SolverProfile, default_profile, load_profile
from footdt.spec.subject import SubjectSpec

__all__ = [
    "ExperimentSpec",
    "LoadedSpec",
    "SolverProfile",
    "SourceMap",
    "SubjectSpec",
    "default_profile",
    "load_profile",
    "load_spec",
    "spec_hash",
]
