"""Orthographic pictures of a meshed foot: bones coloured by part inside the skin outline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from footdt.domain import SOFT_TISSUE
from footdt.ir import TET_FACES
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.mesh.topology import boundary_faces

#: (title, horizontal axis, vertical axis, depth axis, depth sign: +1 = larger depth is nearer)
VIEWS = (
    ("top (looking down)", 0, 1, 2, 1.0),
    ("medial side", 0, 2, 1, 1.0),
    ("front (looking back)", 1, 2, 0, 1.0),
)


def _triangles(mesh: VolumeMesh, elements: np.ndarray) -> np.ndarray:
    sub = mesh.elements[elements, :4]
    faces = boundary_faces(sub)
    tri = np.take_along_axis(sub[faces[:, 0]], np.asarray(TET_FACES)[faces[:, 1]], axis=1)
    return mesh.nodes[tri]  # (K, 3, 3)


def plot_foot(mesh: VolumeMesh, path: str | Path, title: str = "") -> Path:
    """Save a PNG with three orthographic views (top, medial, front) of bones and skin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PolyCollection

    bones = [p for p in mesh.parts if p != SOFT_TISSUE]
    cmap = plt.get_cmap("tab20")
    layers = [(_triangles(mesh, mesh.parts[b]), cmap(i % 20)) for i, b in enumerate(bones)]
    skin = _triangles(mesh, np.arange(len(mesh.elements)))
    lo, hi = mesh.nodes.min(axis=0), mesh.nodes.max(axis=0)
    fig = plt.figure(figsize=(13, 9))
    grid = fig.add_gridspec(
        2,
        2,
        width_ratios=[hi[0] - lo[0], hi[1] - lo[1]],
        height_ratios=[hi[1] - lo[1], hi[2] - lo[2]],
    )
    axes = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])]
    for ax, (name, h, v, d, sign) in zip(axes, VIEWS, strict=True):
        polys, colours, depth = [], [], []
        for tris, colour in layers:
            polys.append(tris[:, :, [h, v]])
            colours += [colour] * len(tris)
            depth.append(sign * tris[:, :, d].mean(axis=1))
        order = np.argsort(np.concatenate(depth))
        ax.add_collection(
            PolyCollection(
                list(skin[:, :, [h, v]]), facecolors=(0.8, 0.6, 0.5, 0.05), edgecolors="none"
            )
        )
        ax.add_collection(
            PolyCollection(
                list(np.concatenate(polys)[order]),
                facecolors=np.asarray(colours)[order],
                edgecolors="none",
            )
        )
        ax.set_xlim(lo[h] - 5, hi[h] + 5)
        ax.set_ylim(lo[v] - 5, hi[v] + 5)
        ax.set_aspect("equal")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(f"{'xyz'[h]} (mm)")
        ax.set_ylabel(f"{'xyz'[v]} (mm)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i % 20)) for i in range(len(bones))]
    fig.legend(handles, bones, loc="center left", fontsize=8, ncol=2, bbox_to_anchor=(0.7, 0.72))
    if title:
        fig.suptitle(title)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return out
