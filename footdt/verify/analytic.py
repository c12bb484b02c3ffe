"""Closed-form answers for the verification specs and how far a solve is from them.

Each check reads the geometry, material and load from the spec itself, so editing a
verification spec changes the expected answer with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from footdt.errors import FootdtError
from footdt.ir import AnalysisModel
from footdt.results import PhaseResult, SolveResult
from footdt.spec.geometry import Box, Tube
from footdt.spec.subject import SubjectSpec


@dataclass(frozen=True)
class VerificationResult:
    """One checked quantity. ``rel_error`` is |measured - expected| / |expected| unless the check
    measures an error norm directly (then expected is 0 and rel_error is that norm)."""

    case: str
    quantity: str
    expected: float
    measured: float
    rel_error: float


def _result(case: str, quantity: str, expected: float, measured: float) -> VerificationResult:
    return VerificationResult(
        case, quantity, expected, measured, abs(measured - expected) / abs(expected)
    )


def _material(spec: SubjectSpec) -> tuple[float, float]:
    mat = spec.materials[spec.sections[0].material]
    return mat.E, mat.nu


def _phase(result: SolveResult, spec: SubjectSpec) -> PhaseResult:
    return result.phases[spec.phases[0].name]


def bar(spec: SubjectSpec, model: AnalysisModel, result: SolveResult) -> list[VerificationResult]:
    """Uniaxial stress: von Mises = p in every element; end shortening = p L / E."""
    assert isinstance(spec.geometry, Box)
    p = spec.phases[0].pressures[0].value
    E, _ = _material(spec)
    ph = _phase(result, spec)
    vm = ph.von_mises
    worst = float(vm[np.argmax(np.abs(vm - p))])
    out = [_result("bar_compression", "worst element von Mises (MPa)", p, worst)]
    if ph.displacement is not None:
        L = spec.geometry.size[0]
        ux = ph.displacement[model.surface_nodes("xmax"), 0].mean()
        out.append(_result("bar_compression", "end displacement u_x (mm)", -p * L / E, float(ux)))
    return out


def cantilever(
    spec: SubjectSpec, model: AnalysisModel, result: SolveResult
) -> list[VerificationResult]:
    """Timoshenko tip deflection F L^3/(3EI) + F L/(k G A), k = 5/6 for a rectangle."""
    assert isinstance(spec.geometry, Box)
    L, b, h = spec.geometry.size
    E, nu = _material(spec)
    F = -spec.phases[0].forces[0].total[2]
    I_ = b * h**3 / 12.0
    G = E / (2 * (1 + nu))
    expected = F * L**3 / (3 * E * I_) + F * L / (5.0 / 6.0 * G * b * h)
    ph = _phase(result, spec)
    if ph.displacement is None:
        raise FootdtError(
            f"backend {result.backend} returned no displacements: cannot check the cantilever"
        )
    tip = -ph.displacement[model.surface_nodes("xmax"), 2].mean()
    return [_result("cantilever", "tip deflection (mm)", expected, float(tip))]


def lame(spec: SubjectSpec, model: AnalysisModel, result: SolveResult) -> list[VerificationResult]:
    """Plane-strain Lame: u_r(a) and the volume-weighted L2 error of von Mises over the wall."""
    g = spec.geometry
    assert isinstance(g, Tube)
    a, b_ = g.inner_radius, g.outer_radius
    E, nu = _material(spec)
    p = spec.phases[0].pressures[0].value
    A = p * a**2 / (b_**2 - a**2)
    B = A * b_**2
    ph = _phase(result, spec)
    out = []
    if ph.displacement is not None:
        nodes = model.surface_nodes("inner")
        xy = model.nodes[nodes, :2] - np.asarray(g.origin[:2])
        r = np.linalg.norm(xy, axis=1)
        ur = np.einsum("ij,ij->i", ph.displacement[nodes, :2], xy / r[:, None]).mean()
        expected = (1 + nu) / E * ((1 - 2 * nu) * A * a + B / a)
        out.append(_result("lame_cylinder", "u_r at r = a (mm)", expected, float(ur)))
    centroid = model.nodes[model.elements[:, :4]].mean(axis=1)
    r = np.linalg.norm(centroid[:, :2] - np.asarray(g.origin[:2]), axis=1)
    s_r, s_t, s_z = A - B / r**2, A + B / r**2, 2 * nu * A
    exact = np.sqrt(0.5 * ((s_r - s_t) ** 2 + (s_t - s_z) ** 2 + (s_z - s_r) ** 2))
    w = result.element_volume
    err = float(np.sqrt(np.sum(w * (ph.von_mises - exact) ** 2) / np.sum(w * exact**2)))
    out.append(
        VerificationResult("lame_cylinder", "von Mises field, relative L2 error", 0.0, err, err)
    )
    return out


CASES: dict[str, Callable[[SubjectSpec, AnalysisModel, SolveResult], list[VerificationResult]]] = {
    "bar_compression": bar,
    "cantilever": cantilever,
    "lame_cylinder": lame,
}


def verify(
    spec: SubjectSpec, model: AnalysisModel, result: SolveResult
) -> list[VerificationResult]:
    try:
        check = CASES[spec.id]
    except KeyError:
        raise FootdtError(
            f"no closed-form answer for spec id {spec.id!r}; known: {', '.join(CASES)}"
        ) from None
    return check(spec, model, result)
