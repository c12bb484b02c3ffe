"""Corresponded shapes for ``footdt shape build``: from foot scans or from a cohort. Units: mm.

* **Scans** (a directory of STL/PLY/OBJ/OFF/VTP files, one foot each): each scan is read and
  checked (``footdt.shape.scan.read_scan``), the built-in model is fitted to it (pose + weights,
  ``fit_scan``), and that fitted shape is then deformed onto the scan surface itself by a two-sided
  FFD fit (``fit_ffd_to_surface``): its skin points land on the scan, its bone landmarks move with
  the lattice. The result has footdt's point correspondence, so the new model can morph the
  template, but its shapes are the scans', not the built-in model's.
* **A cohort** (a directory with ``manifest.json``, ``footdt cohort generate``): each runner's
  foot length, width and arch height (from the geometry of its first trial's subject spec) give
  the parametric template variant's shape (``footdt.shape.population.foot_shape``): a
  template-generated population.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from footdt.shape.population import FootShape, ShapeParams, foot_shape
from footdt.shape.ssm import ShapeError

SCAN_SUFFIXES = (".stl", ".ply", ".obj", ".off", ".vtp")
Progress = Callable[[int, int, str], None]


def corresponded_scan(path: Path, scale: float = 1.0, side: str = "right") -> FootShape:
    """A scan as a shape with footdt's correspondence (see module doc)."""
    from footdt.shape.ffd import fit_ffd_to_surface
    from footdt.shape.personalise import DEGREE, LATTICE, PAD, SMOOTHING
    from footdt.shape.scan import fit_scan, read_scan
    from footdt.shape.ssm import builtin_ssm

    ssm = builtin_ssm()
    scan = read_scan(path, scale, side)
    fit = fit_scan(ssm, scan)
    start = ssm.reconstruct(fit.weights)
    pts = np.vstack([start.skin, start.landmarks])
    box = (pts.min(axis=0) - PAD, pts.max(axis=0) + PAD)
    lattice = fit_ffd_to_surface(
        start.skin, fit.surface, LATTICE, degree=DEGREE, box=box,
        source_triangles=start.triangles, smoothing=SMOOTHING,
    ).lattice  # fmt: skip
    return FootShape(
        lattice.apply(start.skin), start.triangles, lattice.apply(start.landmarks),
        start.landmark_names, {"scan": str(path)},
    )  # fmt: skip


def scan_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in SCAN_SUFFIXES)
    if len(files) < 3:
        raise ShapeError(
            f"{directory}: {len(files)} scan file(s) ({', '.join(SCAN_SUFFIXES)}); a shape model "
            "needs at least 3 feet"
        )
    return files


def cohort_shapes(directory: Path, progress: Progress | None = None) -> list[FootShape]:
    """The template variants of a generated cohort's runners."""
    from footdt.cohort.manifest import load_manifest
    from footdt.spec.loader import load_spec

    manifest = load_manifest(directory)
    out = []
    for i, s in enumerate(manifest.subjects):
        path = directory / s.trials[0].spec
        geometry = getattr(load_spec(path).spec, "geometry", None)
        dims = dict(getattr(geometry, "measurements", None) or {})
        if not dims and geometry is not None and hasattr(geometry, "foot_length"):
            dims = {k: getattr(geometry, k) for k in ("foot_length", "foot_width", "arch_height")}
        missing = {"foot_length", "foot_width", "arch_height"} - set(dims)
        if missing:
            raise ShapeError(
                f"{path}: subject {s.id} has no {', '.join(sorted(missing))} in its geometry; a "
                "cohort shape model needs each runner's foot length, width and arch height"
            )
        out.append(
            foot_shape(ShapeParams(dims["foot_length"], dims["foot_width"], dims["arch_height"]))
        )
        if progress is not None:
            progress(i + 1, len(manifest.subjects), s.id)
    return out


def source_shapes(
    source: Path, scale: float = 1.0, side: str = "right", progress: Progress | None = None
) -> tuple[list[FootShape], str]:
    """Corresponded shapes from a scan directory or a cohort directory, and what it was."""
    if not source.is_dir():
        raise ShapeError(f"{source}: not a directory (give a folder of scans or a cohort folder)")
    if (source / "manifest.json").is_file():
        return cohort_shapes(source, progress), f"cohort {source}"
    files = scan_files(source)
    shapes = []
    for i, f in enumerate(files):
        try:
            shapes.append(corresponded_scan(f, scale, side))
        except ShapeError as exc:
            raise ShapeError(f"{f.name}: {exc}") from None
        if progress is not None:
            progress(i + 1, len(files), f.name)
    return shapes, f"{len(files)} scans in {source}"
