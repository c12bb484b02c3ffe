"""Pictures of a stress field (matplotlib, off-screen): the surface of each part coloured by the
von Mises stress of the element under it. Soft tissue is drawn as a faint outline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from footdt.domain import SOFT_TISSUE
from footdt.errors import FootdtError
from footdt.ir import TET_FACES, AnalysisModel
from footdt.mesh.topology import boundary_faces
from footdt.results import SolveResult

VIEWS = (("lateral", 0, -90), ("medial", 0, 90), ("dorsal", 90, -90), ("oblique", 25, -60))


def image_formats() -> dict[str, str]:
    """File suffixes matplotlib can draw to (without the dot) -> description."""
    from matplotlib.backend_bases import FigureCanvasBase

    return dict(FigureCanvasBase.get_supported_filetypes())


def check_image_path(out: str | Path) -> Path:
    """``out`` if its suffix is an image format; else a one-line ``FootdtError`` that says where
    ParaView's files come from."""
    path = Path(out)
    suffix = path.suffix.lower().lstrip(".")
    formats = image_formats()
    if suffix not in formats:
        shown = ", ".join(f".{f}" for f in ("png", "pdf", "svg", "jpg") if f in formats)
        raise FootdtError(
            f"{path}: footdt view draws a picture ({shown}, ...), not a "
            f"{'.' + suffix if suffix else 'file without a suffix'}; for ParaView open the "
            "BACKEND.pvd (one .vtu per phase) that footdt solve wrote next to the results"
        )
    return path


def _part_boundary(model: AnalysisModel, elems: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundary triangles (node ids) of a set of elements and the element each belongs to."""
    faces = boundary_faces(model.elements[elems])
    tri = np.take_along_axis(
        model.elements[elems][faces[:, 0], :4], np.asarray(TET_FACES)[faces[:, 1]], axis=1
    )
    return tri, elems[faces[:, 0]]


def render_stress(
    model: AnalysisModel,
    result: SolveResult,
    phase: str,
    out: str | Path,
    parts: list[str] | None = None,
    clip_percentile: float = 99.0,
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    out = check_image_path(out)
    if phase not in result.phases:
        raise FootdtError(f"no phase {phase!r} in the results; phases: {', '.join(result.phases)}")
    vm = result.phases[phase].von_mises
    shown = parts or [p for p in model.parts if p != SOFT_TISSUE] or list(model.parts)
    unknown = sorted(set(shown) - set(model.parts))
    if unknown:
        raise FootdtError(f"no part(s) {unknown}; parts: {', '.join(model.parts)}")
    tris, owners = zip(*(_part_boundary(model, model.parts[p]) for p in shown), strict=True)
    tri, owner = np.vstack(tris), np.concatenate(owners)
    values = vm[owner]
    vmax = float(
        np.percentile(vm[np.concatenate([model.parts[p] for p in shown])], clip_percentile)
    )
    norm = matplotlib.colors.Normalize(vmin=0.0, vmax=max(vmax, 1e-12))
    cmap = matplotlib.colormaps["turbo"]
    ghost = None
    if SOFT_TISSUE in model.parts and SOFT_TISSUE not in shown:
        ghost = _part_boundary(model, model.parts[SOFT_TISSUE])[0]

    fig = plt.figure(figsize=(12, 9), dpi=110)
    lo, hi = model.nodes.min(axis=0), model.nodes.max(axis=0)
    for k, (title, elev, azim) in enumerate(VIEWS):
        ax = fig.add_subplot(2, 2, k + 1, projection="3d")
        if ghost is not None:
            ax.add_collection3d(
                Poly3DCollection(
                    model.nodes[ghost], facecolors=(0.6, 0.6, 0.6, 0.04), edgecolors="none"
                )
            )
        coll = Poly3DCollection(model.nodes[tri], facecolors=cmap(norm(values)), edgecolors="none")
        ax.add_collection3d(coll)
        ax.set_xlim(lo[0], hi[0]), ax.set_ylim(lo[1], hi[1]), ax.set_zlim(lo[2], hi[2])
        ax.set_box_aspect(hi - lo)
        ax.view_init(elev=elev, azim=azim)
        ax.set_title(title)
        ax.set_axis_off()
    sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    fig.colorbar(
        sm, ax=fig.axes, shrink=0.6, label=f"von Mises (MPa), clipped at p{clip_percentile:g}"
    )
    fig.suptitle(f"{model.subject} · {phase} · {result.backend} {result.backend_version}")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
