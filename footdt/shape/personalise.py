"""A personalised foot model: shape model -> target shape -> FFD morph of the template volume mesh.

1. The shape model (``ssm:`` file or the built-in one) gives the runner's foot: from skin
   measurements (``footdt.shape.measurements``) or from a scan (``footdt.shape.scan``).
2. The reference template's corresponded shape (skin points + bone landmarks, the same points the
   model is built on) and the target shape are point-to-point correspondences; one B-spline FFD
   lattice over the whole template mesh is fitted to them (``fit_ffd``) and, for a scan, refined
   so that the template skin lands on the scan surface itself (``fit_ffd_to_surface`` seeded by
   the correspondences). Bones follow the skin and the landmarks.
3. Every node of the cached template mesh moves through the lattice (``morph_mesh``): same
   topology, parts, named surfaces; landmarks move with it. ``morph_report`` / ``check_morph``
   measure and gate the result; with ``remesh`` every part is re-tetrahedralised inside the
   morphed surfaces instead (``footdt.shape.remesh``: new interior nodes and elements).

``personalise`` returns the mesh and a report (``Personalisation``) that also goes into
``mesh.info["personalisation"]``, from where compile copies it into the model's provenance and the
backends into every solve record of the label store.
"""

from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from footdt.errors import MeshError
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.shape.distance import DistanceStats, TriangleSurface
from footdt.shape.measure import Skin, measure
from footdt.shape.population import LANDMARKS, FootShape, ShapeParams, foot_shape
from footdt.shape.ssm import SSM, ShapeError, builtin_ssm, load_ssm

#: Control points per axis (x, y, z) of the morphing lattice, its degree and bending penalties, and
#: the weight of each bone landmark relative to one skin point. Chosen on the built-in model
#: (benchmarks/bench_morph.py): a coarser or stiffer lattice cannot lift the navicular with the
#: arch while keeping the medial skin in place (landmark misfit 1.9 mm at (10, 6, 6), 1e-5, 1).
#: The sharpest fit comes first; where it folds elements (a low arch pressing the midfoot bones
#: towards a skin that keeps its place: inverted tissue under the arch for a 281 x 113 x 33 mm
#: foot), the next, smoother one is tried, and the report says which was used.
LATTICE = (12, 7, 7)
DEGREE = 3
SMOOTHING_STEPS = (1e-7, 1e-6, 1e-5)
SMOOTHING = SMOOTHING_STEPS[0]
LANDMARK_WEIGHT = 100.0
PAD = 10.0  # mm around the template mesh


@functools.cache
def reference_shape() -> FootShape:
    """The reference template's corresponded shape: what the template mesh is a mesh of."""
    return foot_shape(ShapeParams())


def check_compatible(ssm: SSM, where: str = "shape model") -> None:
    """The model must be built on footdt's corresponded skin and landmarks (``footdt shape build``)."""
    ref = reference_shape()
    if ssm.n_skin != len(ref.skin) or ssm.landmark_names != LANDMARKS:
        raise ShapeError(
            f"{where}: built on {ssm.n_skin} skin points and landmarks {list(ssm.landmark_names)}, "
            f"but footdt morphs its template with {len(ref.skin)} points and {list(LANDMARKS)}: "
            "build the model with `footdt shape build`"
        )


def load_model(path: Path | None) -> tuple[SSM, str]:
    """The shape model a spec names (or the built-in one) and a label for provenance."""
    if path is None:
        model = builtin_ssm()
        return (
            model,
            f"builtin (seed {model.metadata.get('seed')}, n {model.metadata.get('population_size')})",
        )
    model = load_ssm(path)
    check_compatible(model, str(path))
    return model, str(path)


@dataclass
class Personalisation:
    """What a personalisation did and how well (mm unless named otherwise)."""

    source: str  # "measurements" | "scan"
    ssm: str
    weights: list[float]
    requested: dict[str, float]
    measured: dict[str, float]  # on the morphed mesh's skin
    skin: DistanceStats  # morphed skin nodes -> target surface
    template_skin: DistanceStats  # the template mesh's own skin -> its shape (discretisation)
    min_dihedral_deg: float
    worst_part: str
    volume_change_pct: dict[str, float]
    remeshed: bool
    smoothing: float  # the FFD bending penalty used (the first of SMOOTHING_STEPS that passed)
    seconds: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    scan: dict[str, Any] = field(default_factory=dict)
    distances: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)  # per skin node
    skin_points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)), repr=False)
    target: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)  # points, tris

    def errors(self) -> dict[str, float]:
        return {k: self.measured[k] - v for k, v in self.requested.items() if k in self.measured}

    def as_dict(self) -> dict[str, Any]:
        err = self.errors()
        out: dict[str, Any] = {
            "source": self.source,
            "ssm": self.ssm,
            "pc_weights": [round(w, 6) for w in self.weights],
            "requested_mm": self.requested,
            "measured_mm": {k: round(v, 4) for k, v in self.measured.items()},
            "measurement_error_mm": {k: round(v, 4) for k, v in err.items()},
            "skin_error_mean_mm": round(self.skin.mean, 4),
            "skin_error_p95_mm": round(self.skin.p95, 4),
            "skin_error_max_mm": round(self.skin.max, 4),
            "template_skin_p95_mm": round(self.template_skin.p95, 4),
            "worst_min_dihedral_deg": round(self.min_dihedral_deg, 3),
            "worst_part": self.worst_part,
            "volume_change_pct": {k: round(v, 3) for k, v in self.volume_change_pct.items()},
            "remeshed": self.remeshed,
            "ffd_smoothing": self.smoothing,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "warnings": self.warnings,
        }
        for k in ("foot_length", "foot_width"):
            if k in err:
                out[f"{k}_error_mm"] = round(err[k], 4)
        if self.scan:
            out["scan"] = self.scan
        return out


def mesh_bias(template: VolumeMesh) -> dict[str, float]:
    """What the template mesh measures minus what its shape measures (mm): the facets of a mesh
    cut inside a curved skin, so at 5 mm the mesh is ~0.8 mm shorter and ~0.4 mm narrower."""
    from footdt.shape.morph import skin_surface

    nodes, tri = skin_surface(template)
    ref = reference_shape()
    marks = dict(zip(LANDMARKS, ref.landmarks, strict=True))
    on_mesh = measure(Skin(template.nodes[nodes], tri, marks))
    on_shape = measure(Skin(ref.skin, ref.triangles, marks))
    return {k: on_mesh[k] - on_shape[k] for k in on_mesh}


def target_shape(
    geometry: Any, ssm: SSM, base: Path | None, bias: dict[str, float] | None = None
) -> tuple[FootShape, dict[str, Any]]:
    """The runner's shape from the spec's measurements or scan, and what the fit reports.
    Requested measurements are asked of the shape less the mesh's ``bias`` (``mesh_bias``), so
    that the morphed mesh, not only its shape, meets them."""
    if geometry.measurements is not None:
        from footdt.shape.measurements import fit_measurements

        fit = fit_measurements(ssm, dict(geometry.measurements), offset=bias)
        return ssm.reconstruct(fit.weights), {
            "source": "measurements", "weights": fit.weights, "requested": fit.requested,
            "warnings": fit.warnings, "z_scores": fit.z_scores,
        }  # fmt: skip
    from footdt.shape.scan import fit_scan, read_scan

    path = geometry.scan if geometry.scan.is_absolute() or base is None else base / geometry.scan
    scan = read_scan(path, geometry.scale, geometry.side)
    found = fit_scan(ssm, scan)
    return ssm.reconstruct(found.weights), {
        "source": "scan", "weights": found.weights, "requested": {}, "warnings": found.warnings,
        "scan_surface": found.surface, "scan": {"file": str(path), **found.summary()},
    }  # fmt: skip


def _skin(mesh: VolumeMesh, lattice: Any) -> Skin:
    from footdt.shape.morph import skin_surface

    nodes, tri = skin_surface(mesh)
    ref = reference_shape()
    marks = dict(zip(LANDMARKS, lattice.apply(ref.landmarks), strict=True))
    return Skin(mesh.nodes[nodes], tri, marks)


def fit_lattice(
    template: VolumeMesh,
    target: FootShape,
    surface: TriangleSurface | None = None,
    smoothing: float = SMOOTHING,
) -> Any:
    """The FFD lattice that morphs ``template`` (a mesh of ``reference_shape()``) onto
    ``target``: point-to-point correspondences (skin + landmarks), then, if ``surface`` is
    given, refined onto it."""
    from footdt.shape.ffd import fit_ffd, fit_ffd_to_surface
    from footdt.shape.morph import skin_surface

    ref = reference_shape()
    src = np.vstack([ref.skin, ref.landmarks])
    dst = np.vstack([target.skin, target.landmarks])
    lo = np.minimum(template.nodes.min(axis=0), src.min(axis=0)) - PAD
    hi = np.maximum(template.nodes.max(axis=0), src.max(axis=0)) + PAD
    weights = np.ones(len(src))
    weights[len(ref.skin) :] = LANDMARK_WEIGHT
    if surface is None:
        return fit_ffd(
            src, dst, LATTICE, degree=DEGREE, smoothing=smoothing, box=(lo, hi), weights=weights
        )
    nodes, tri = skin_surface(template)
    return fit_ffd_to_surface(
        template.nodes[nodes], surface, LATTICE, degree=DEGREE, box=(lo, hi),
        correspondences=(src, dst), correspondence_weight=0.1, source_triangles=tri,
        smoothing=smoothing,
    ).lattice  # fmt: skip


def morph_template(
    template: VolumeMesh,
    target: FootShape,
    surface: TriangleSurface | None = None,
    smoothing: float = SMOOTHING,
) -> tuple[VolumeMesh, Any]:
    """Morph ``template`` (a mesh of ``reference_shape()``) onto ``target`` (``fit_lattice``)."""
    from footdt.shape.morph import morph_mesh

    lattice = fit_lattice(template, target, surface, smoothing)
    return morph_mesh(template, lattice), lattice


def personalise(
    geometry: Any, options: Any, base: Path | None = None, *, remesh: bool | None = None
) -> tuple[VolumeMesh, Personalisation]:
    """The personalised mesh of a ``Personalised`` geometry at ``options`` (``MeshOptions``)."""
    from footdt.shape.morph import check_morph, morph_report

    t0 = time.perf_counter()
    ssm_path = None
    if geometry.ssm is not None:
        ssm_path = (
            geometry.ssm if geometry.ssm.is_absolute() or base is None else base / geometry.ssm
        )
    ssm, ssm_label = load_model(ssm_path)
    t1 = time.perf_counter()
    template, bias, template_skin = _template(options.model_dump_json())
    t2 = time.perf_counter()
    target, fit = target_shape(geometry, ssm, base, bias)
    surface = fit.get("scan_surface")
    goal = surface if surface is not None else TriangleSurface(target.skin, target.triangles)
    remesh = geometry.remesh if remesh is None else remesh
    steps = SMOOTHING_STEPS[:1] if remesh else SMOOTHING_STEPS  # a remesh repairs what folds
    for k, smoothing in enumerate(steps):
        morphed, lattice = morph_template(template, target, surface, smoothing)
        report = morph_report(template, morphed, goal)
        if remesh:
            break
        try:
            check_morph(report)
            break
        except MeshError:
            if k == len(steps) - 1:
                raise
    t3 = time.perf_counter()
    if remesh:
        from footdt.shape.remesh import remesh_morphed

        morphed = remesh_morphed(morphed, options)
    skin = _skin(morphed, lattice)  # a remesh keeps every surface node where the morph put it
    quality = report.quality
    if remesh:
        from footdt.mesh.quality import quality_report

        quality = quality_report(morphed)
    morphed.quality = quality
    worst = min(quality.parts.items(), key=lambda kv: kv[1].min_dihedral_deg)
    result = Personalisation(
        source=fit["source"], ssm=ssm_label, weights=[float(w) for w in fit["weights"]],
        requested=dict(fit["requested"]), measured=measure(skin), skin=report.skin,
        template_skin=template_skin, min_dihedral_deg=float(worst[1].min_dihedral_deg),
        worst_part=worst[0], volume_change_pct=dict(report.volume_change_pct), remeshed=bool(remesh),
        smoothing=smoothing, seconds={"shape_model": t1 - t0, "template_mesh": t2 - t1, "fit_morph_check": t3 - t2,
                 "total": time.perf_counter() - t0},
        warnings=list(fit["warnings"]), scan=dict(fit.get("scan", {})),
        distances=report.skin_distances, skin_points=skin.points,
        target=(goal.vertices, goal.triangles),
    )  # fmt: skip
    morphed.personalisation = result
    morphed.info["personalisation"] = result.as_dict()
    morphed.info["generator"] = "footdt personalised template (SSM + FFD)"
    morphed.info["ssm_sha256"] = _model_digest(ssm)
    return morphed, result


@functools.lru_cache(maxsize=2)
def _template(options_json: str) -> tuple[VolumeMesh, dict[str, float], DistanceStats]:
    """The template mesh for these mesh options (``MeshOptions`` as JSON), its measurement bias
    and its own skin's distance to its shape; once per process."""
    from footdt.mesh.store import cached_template_mesh
    from footdt.shape.morph import skin_surface
    from footdt.spec.subject import MeshOptions

    template = cached_template_mesh(MeshOptions.model_validate_json(options_json))
    nodes, _ = skin_surface(template)
    ref = reference_shape()
    own = TriangleSurface(ref.skin, ref.triangles).query(template.nodes[nodes]).stats()
    return template, mesh_bias(template), own


def _model_digest(ssm: SSM) -> str:
    h = hashlib.sha256()
    for a in (ssm.mean, ssm.modes, ssm.sd):
        h.update(np.ascontiguousarray(a, dtype=float).tobytes())
    return h.hexdigest()[:16]
