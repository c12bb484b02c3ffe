"""The sole a trial's FE model loads: its plantar faces, their regions and their areas.

A synthetic trial's regional pressure is region force / region area, and the FE model applies it
uniformly on the same region's faces; so the areas must be those of the FE model the trial's
``spec.yaml`` will build (``domain.plantar_region`` splits its plantar surface,
``anatomy.landmarks.foot_surfaces``):

- ``personalised`` foot model (the default): the template mesh at the template spec's mesh
  options, its sole morphed to the runner's foot by the lattice ``footdt solve`` fits
  (``shape.personalise.fit_lattice`` with the first smoothing; ~0.15 s per runner once the
  template mesh is cached). Only where that morph folds elements (a rare, extreme foot) does
  ``personalise`` fall back to a smoother lattice, whose sole differs slightly;
- ``template`` foot model (the parametric template re-meshed per runner): its flat sole is the
  reference sole scaled by foot length and width, so the reference template mesh's faces are
  scaled the same way (a re-mesh differs from it only by discretisation, ~0.5 % per region).

A ``Sole`` holds, per plantar face of the four regions: its centroid along the foot (fraction of
foot length from the heel), its area projected on the ground (mm^2: the vertical resultant of a
pressure on it is pressure x this area) and its region. ``bins`` reduces it to ``n`` strips along
the foot with each region's area in each strip, which is all the pressure model needs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from footdt.domain import PLANTAR_REGIONS


@dataclass(frozen=True)
class Sole:
    """Plantar faces of the four regions: position along the foot (fraction of foot length from
    the heel), projected area (mm^2), region index (``PLANTAR_REGIONS``); foot length (mm)."""

    along: np.ndarray
    area_mm2: np.ndarray
    region: np.ndarray
    foot_length_mm: float
    source: str

    def region_areas_mm2(self) -> dict[str, float]:
        return {r: float(self.area_mm2[self.region == i].sum()) for i, r in enumerate(PLANTAR_REGIONS)}  # fmt: skip

    def bins(self, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """(centres (n,), area (n, 4) mm^2 of each region in each strip) over [0, 1] of foot length."""
        edges = np.linspace(0.0, 1.0, n + 1)
        k = np.clip(np.searchsorted(edges, self.along, side="right") - 1, 0, n - 1)
        area = np.zeros((n, len(PLANTAR_REGIONS)))
        np.add.at(area, (k, self.region), self.area_mm2)
        return 0.5 * (edges[1:] + edges[:-1]), area


def mesh_sole(mesh: Any, source: str, nodes: np.ndarray | None = None) -> Sole:
    """The sole of a foot mesh (its named region surfaces); ``nodes`` replaces the mesh's node
    coordinates (a morphed or scaled copy)."""
    from footdt.ir import TET_FACES

    nodes = mesh.nodes if nodes is None else nodes
    along, area, region = [], [], []
    tris = []
    for r in PLANTAR_REGIONS:
        f = mesh.surfaces[r]
        tris.append(np.take_along_axis(mesh.elements[f[:, 0], :4], np.asarray(TET_FACES)[f[:, 1]], axis=1))  # fmt: skip
    ends = _ends(mesh)
    heel, toe = float(nodes[ends, 0].min()), float(nodes[ends, 0].max())
    for i, tri in enumerate(tris):
        p = nodes[tri]
        cross = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
        along.append((p[:, :, 0].mean(axis=1) - heel) / (toe - heel))
        area.append(0.5 * np.abs(cross[:, 2]))
        region.append(np.full(len(tri), i))
    return Sole(np.concatenate(along), np.concatenate(area), np.concatenate(region),
                toe - heel, source)  # fmt: skip


def _ends(mesh: Any) -> np.ndarray:
    """Nodes within 5 mm of the heel's and the toes' ends, the plantar region nodes and these
    (where the foot's extent lies after a smooth morph)."""
    from footdt.ir import TET_FACES

    x = mesh.nodes[:, 0]
    ids = [np.flatnonzero((x < x.min() + 5.0) | (x > x.max() - 5.0))]
    for r in PLANTAR_REGIONS:
        f = mesh.surfaces[r]
        ids.append(np.take_along_axis(mesh.elements[f[:, 0], :4], np.asarray(TET_FACES)[f[:, 1]], axis=1).ravel())  # fmt: skip
    return np.unique(np.concatenate(ids))


@functools.lru_cache(maxsize=64)
def _sole(geometry_json: str, options_json: str) -> Sole:
    import json

    from footdt.spec.geometry import FootTemplate, Personalised
    from footdt.spec.subject import MeshOptions

    options = MeshOptions.model_validate_json(options_json)
    data = json.loads(geometry_json)
    if data["type"] == "personalised":
        import warnings

        from footdt.shape.personalise import (
            SMOOTHING_STEPS,
            _template,
            fit_lattice,
            load_model,
            target_shape,
        )

        geo = Personalised.model_validate(data)
        template, bias, _ = _template(options.model_dump_json())
        ssm, _ = load_model(geo.ssm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            target, _ = target_shape(geo, ssm, None, bias)
        lattice = fit_lattice(template, target, None, SMOOTHING_STEPS[0])
        ids = _ends(template)
        nodes = template.nodes.copy()
        nodes[ids] = lattice.apply(template.nodes[ids])
        return mesh_sole(template, f"personalised template mesh at {options.size:g} mm", nodes)
    from footdt.anatomy.template import REF_LENGTH, REF_WIDTH
    from footdt.mesh.store import cached_template_mesh

    geo_t = FootTemplate.model_validate(data)
    mesh = cached_template_mesh(options)
    scale = np.array([geo_t.foot_length / REF_LENGTH, geo_t.foot_width / REF_WIDTH, 1.0])
    return mesh_sole(mesh, f"reference template mesh at {options.size:g} mm, scaled", mesh.nodes * scale)  # fmt: skip


def fe_sole(geometry: Any, mesh_options: Any) -> Sole:
    """The sole of the FE foot that a subject spec with this geometry and these mesh options
    builds (see the module docstring); cached per process."""
    return _sole(geometry.model_dump_json(), mesh_options.model_dump_json())
