"""The OpenSim right-foot bone surfaces in the footdt foot frame: calibration and comparison only.

Data: ``../shared/data/opensim_foot_geometry`` (opensim-org/opensim-models Geometry, CC BY 3.0,
Delp et al. 1990), never copied into the project and never used by the package at run time —
only by tests, docs and ``python -m footdt.anatomy.opensim_reference`` (prints the comparison
table of docs/anatomy.md).

Frames. The tarsal and metatarsal surfaces are in the OpenSim calcaneus (calcn) frame: metres,
x anterior, y up, z lateral (right foot). The talus surface is in the talus frame, the phalanges in
the toes frame and tibia/fibula in the tibia frame; at the default pose (all joint angles zero)
these frames are parallel to calcn, offset by the gait2392 joint locations below. The footdt foot
frame is mm with x anterior, y medial (left) and z up, so ``(x, y, z)_footdt = 1000 * (x, -z, y)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from footdt.domain import (
    BONES,
    CALCANEUS,
    CUBOID,
    CUNEIFORM_INTERMEDIATE,
    CUNEIFORM_LATERAL,
    CUNEIFORM_MEDIAL,
    FIBULA,
    LEG_BONES,
    METATARSALS,
    NAVICULAR,
    PHALANGES,
    SOFT_TISSUE,
    TALUS,
    TIBIA,
)

#: Origins of the OpenSim body frames in the calcn frame (m), from the gait2392 joints:
#: subtalar (talus -> calcn at -0.04877 -0.04195 0.00792), mtp (calcn -> toes at
#: 0.1788 -0.002 0.00108) and ankle (tibia -> talus at 0 -0.43 0).
FRAME_ORIGINS: dict[str, tuple[float, float, float]] = {
    "calcn": (0.0, 0.0, 0.0),
    "talus": (0.04877, 0.04195, -0.00792),
    "toes": (0.1788, -0.002, 0.00108),
    "tibia": (0.04877, 0.04195 + 0.43, -0.00792),
}
_PHALANGES = tuple(
    f"{kind}_phalanx{i}_rvs.vtp"
    for i in range(1, 6)
    for kind in ("prox", "mid", "distal")
    if not (i == 1 and kind == "mid")
)
#: footdt bone -> (file, frame) pairs.
OPENSIM_FILES: dict[str, tuple[tuple[str, str], ...]] = {
    CALCANEUS: (("calcaneous_rv.vtp", "calcn"),),
    TALUS: (("talus_rv.vtp", "talus"),),
    NAVICULAR: (("navicular_rv.vtp", "calcn"),),
    CUBOID: (("cuboid_rv.vtp", "calcn"),),
    CUNEIFORM_MEDIAL: (("first_cuneiform_rv.vtp", "calcn"),),
    CUNEIFORM_INTERMEDIATE: (("second_cuneiform_rv.vtp", "calcn"),),
    CUNEIFORM_LATERAL: (("third_cuneiform_rv.vtp", "calcn"),),
    **{m: ((f"metatarsal{i}_rv.vtp", "calcn"),) for i, m in enumerate(METATARSALS, start=1)},
    PHALANGES: tuple((f, "toes") for f in _PHALANGES),
    TIBIA: (("tibia_r.vtp", "tibia"),),
    FIBULA: (("fibula_r.vtp", "tibia"),),
}
Surface = tuple[np.ndarray, np.ndarray]  # points (N, 3) mm, triangles (M, 3)


def default_data_dir() -> Path:
    """``$FOOTDT_SHARED_DATA/opensim_foot_geometry`` or ``<repo>/../shared/data/...``."""
    env = os.environ.get("FOOTDT_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    return base / "opensim_foot_geometry"


def to_foot_frame(points_m: np.ndarray, frame: str = "calcn") -> np.ndarray:
    """OpenSim body-frame points (m) -> footdt foot-frame orientation (mm, calcn origin)."""
    p = (np.asarray(points_m, dtype=float) + FRAME_ORIGINS[frame]) * 1000.0
    return np.column_stack([p[:, 0], -p[:, 2], p[:, 1]])


def opensim_bones(data_dir: Path | None = None) -> dict[str, list[Surface]]:
    """Every bone's surfaces in the foot frame (mm, origin at the OpenSim calcn origin)."""
    from footdt.anatomy.user_surfaces import read_vtp

    root = data_dir or default_data_dir()
    out: dict[str, list[Surface]] = {}
    for bone, files in OPENSIM_FILES.items():
        out[bone] = []
        for name, frame in files:
            pts, tris = read_vtp(root / name)
            out[bone].append(
                (to_foot_frame(pts, frame), tris)
            )  # a proper rotation: keeps orientation
    return out


def surface_metrics(surfaces: list[Surface]) -> dict[str, Any]:
    """Volume (mm^3), volume centroid, principal axis, length along it and max diameter (mm)."""
    vol, mom, pts, area_pts, areas = 0.0, np.zeros(3), [], [], []
    for p, t in surfaces:
        a, b, c = p[t[:, 0]], p[t[:, 1]], p[t[:, 2]]
        v = np.einsum("ij,ij->i", a, np.cross(b, c)) / 6.0
        vol += float(v.sum())
        mom += ((a + b + c) / 4.0 * v[:, None]).sum(axis=0)
        pts.append(p[np.unique(t)])
        area_pts.append((a + b + c) / 3.0)
        areas.append(0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1))
    centroid = mom / vol
    tc, w = np.vstack(area_pts) - centroid, np.concatenate(areas)
    axes = np.linalg.eigh((tc * w[:, None]).T @ tc)[1][:, ::-1]
    proj = (np.vstack(pts) - centroid) @ axes
    extent = proj.max(axis=0) - proj.min(axis=0)
    axis = axes[:, 0] if axes[0, 0] >= 0 else -axes[:, 0]
    return {
        "volume": vol,
        "centroid": centroid,
        "axis": axis,
        "length": float(extent[0]),
        "diameter": float(extent[1]),
    }


def mesh_bone_surfaces(mesh: Any) -> dict[str, list[Surface]]:
    """Boundary triangles of every bone part of a ``VolumeMesh`` (outward, mm)."""
    from footdt.ir import TET_FACES
    from footdt.mesh.faces import boundary_faces

    out: dict[str, list[Surface]] = {}
    for bone, ids in mesh.parts.items():
        if bone == SOFT_TISSUE:
            continue
        el = mesh.elements[ids, :4]
        f = boundary_faces(el)
        tri = np.take_along_axis(el[f[:, 0]], np.asarray(TET_FACES)[f[:, 1]], axis=1)[:, [0, 2, 1]]
        out[bone] = [(mesh.nodes, tri)]
    return out


def distal(surfaces: list[Surface], height: float = 40.0) -> list[Surface]:
    """Triangles of a leg bone within ``height`` mm of its distal end (open; for positions only)."""
    zmin = min(float(p[np.unique(t)][:, 2].min()) for p, t in surfaces)
    return [(p, t[p[t].mean(axis=1)[:, 2] < zmin + height]) for p, t in surfaces]


def kabsch(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation R and translation t minimising |R @ source + t - target| (rows are points)."""
    cs, ct = source.mean(axis=0), target.mean(axis=0)
    u, _, vt = np.linalg.svd((source - cs).T @ (target - ct))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rot, ct - rot @ cs


def compare(
    template: dict[str, list[Surface]], opensim: dict[str, list[Surface]]
) -> dict[str, Any]:
    """Per-bone comparison at a common scale, after a rigid best fit of the foot-bone centroids.

    The scale is the ratio of skeleton lengths (heel of the calcaneus to the most anterior toe
    point); leg bones are compared by the centroid and width of their distal 40 mm only.
    """

    def skeleton_length(bones: dict[str, list[Surface]]) -> float:
        back = min(float(p[np.unique(t)][:, 0].min()) for p, t in bones[CALCANEUS])
        front = max(float(p[np.unique(t)][:, 0].max()) for p, t in bones[PHALANGES])
        return front - back

    scale = skeleton_length(template) / skeleton_length(opensim)
    osim = {b: [(p * scale, t) for p, t in s] for b, s in opensim.items()}
    foot = [b for b in BONES if b not in LEG_BONES and b in template and b in osim]
    tm = {b: surface_metrics(template[b]) for b in foot}
    om = {b: surface_metrics(osim[b]) for b in foot}
    rot, shift = kabsch(
        np.array([om[b]["centroid"] for b in foot]), np.array([tm[b]["centroid"] for b in foot])
    )
    rows = []
    for b in foot:
        c = rot @ om[b]["centroid"] + shift
        rows.append(
            {
                "bone": b,
                "template": tm[b],
                "opensim": om[b],
                "opensim_centroid_aligned": c,
                "centroid_distance": float(np.linalg.norm(c - tm[b]["centroid"])),
            }
        )
    for b in LEG_BONES:
        if b in template and b in osim:
            t_pts = np.vstack([p[np.unique(t)] for p, t in distal(template[b])])
            o_pts = np.vstack(
                [p[np.unique(t)] for p, t in distal([(p @ rot.T + shift, t) for p, t in osim[b]])]
            )
            rows.append(
                {
                    "bone": b,
                    "distal_centroid_template": t_pts.mean(axis=0),
                    "distal_centroid_opensim": o_pts.mean(axis=0),
                    "distal_width_template": float(np.ptp(t_pts[:, 1])),
                    "distal_width_opensim": float(np.ptp(o_pts[:, 1])),
                    "centroid_distance": float(
                        np.linalg.norm(t_pts.mean(axis=0) - o_pts.mean(axis=0))
                    ),
                }
            )
    angles = np.degrees(
        [
            np.arctan2(rot[2, 1], rot[2, 2]),
            -np.arcsin(np.clip(rot[2, 0], -1, 1)),
            np.arctan2(rot[1, 0], rot[0, 0]),
        ]
    )
    return {
        "scale": scale,
        "rotation_deg": angles,
        "rows": rows,
        "skeleton_length_opensim": skeleton_length(opensim),
        "skeleton_length_template": skeleton_length(template),
    }


def comparison_markdown(result: dict[str, Any]) -> str:
    """The comparison as a markdown table (lengths mm, volumes cm^3)."""
    rows: list[dict[str, Any]] = result["rows"]
    lines = [
        "| bone | length T / O (mm) | max diameter T / O (mm) | volume T / O (cm³) | centroid T (mm) | centroid O, aligned (mm) | distance (mm) |",
        "|---|---|---|---|---|---|---|",
    ]
    fmt = lambda c: "(" + ", ".join(f"{v:.0f}" for v in c) + ")"  # noqa: E731
    for r in rows:
        if "template" in r:
            t, o = r["template"], r["opensim"]
            lines.append(
                f"| {r['bone']} | {t['length']:.0f} / {o['length']:.0f} | {t['diameter']:.0f} / {o['diameter']:.0f} | "
                f"{t['volume'] / 1000:.1f} / {o['volume'] / 1000:.1f} | {fmt(t['centroid'])} | "
                f"{fmt(r['opensim_centroid_aligned'])} | {r['centroid_distance']:.1f} |"
            )
        else:
            lines.append(
                f"| {r['bone']} (distal 40 mm) | - | width {r['distal_width_template']:.0f} / {r['distal_width_opensim']:.0f} | - | "
                f"{fmt(r['distal_centroid_template'])} | {fmt(r['distal_centroid_opensim'])} | {r['centroid_distance']:.1f} |"
            )
    return "\n".join(lines)


def main(size: float = 3.0) -> str:  # pragma: no cover - documentation helper
    """Mesh the default template and print the comparison with the OpenSim bones."""
    from footdt.mesh.foot import mesh_foot
    from footdt.spec.geometry import FootTemplate
    from footdt.spec.subject import MeshOptions

    mesh = mesh_foot(FootTemplate(type="foot_template"), MeshOptions(size=size))
    result = compare(mesh_bone_surfaces(mesh), opensim_bones())
    rot = ", ".join(f"{a:.1f}" for a in result["rotation_deg"])
    text = (
        f"Skeleton length (calcaneus back to toe tip): template {result['skeleton_length_template']:.1f} mm, "
        f"OpenSim {result['skeleton_length_opensim']:.1f} mm; OpenSim scaled by {result['scale']:.3f}. "
        f"Rigid fit of OpenSim to template centroids: rotation about x, y, z = ({rot}) degrees. "
        f"Template meshed at {size:g} mm.\n\n" + comparison_markdown(result)
    )
    print(text)
    return text


if __name__ == "__main__":  # pragma: no cover
    main()
