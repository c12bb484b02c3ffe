"""Save and load a ``VolumeMesh`` (nodes, elements, parts, named surfaces, landmarks) as one .npz,
and keep built template meshes in a user cache so that personalised feet morph the same mesh.

The cache directory is ``$FOOTDT_CACHE`` or ``~/.cache/footdt``; entries are keyed by the mesh
options, the template parameters and the footdt version, so a new release re-meshes once.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from footdt import __version__
from footdt.errors import MeshError
from footdt.fileio import atomic_write, cached_file, source_digest
from footdt.mesh.gmsh_session import VolumeMesh

MESH_FORMAT = "footdt-volume-mesh-1"


def cache_dir() -> Path:
    """The user cache directory (created on demand)."""
    root = os.environ.get("FOOTDT_CACHE")
    path = Path(root) if root else Path.home() / ".cache" / "footdt"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_mesh(mesh: VolumeMesh, path: str | Path) -> Path:
    """Write ``mesh`` to ``path`` (.npz) atomically."""
    arrays: dict[str, Any] = {"nodes": mesh.nodes, "elements": mesh.elements}
    arrays.update({f"part/{k}": v for k, v in mesh.parts.items()})
    arrays.update({f"surface/{k}": v for k, v in mesh.surfaces.items()})
    arrays.update({f"landmark/{k}": v for k, v in mesh.landmarks.items()})
    header = {"format": MESH_FORMAT, "cell_type": mesh.cell_type, "info": mesh.info}
    arrays["header"] = np.frombuffer(json.dumps(header, default=str).encode(), dtype=np.uint8)

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.savez(fh, **arrays)

    return atomic_write(path, write)


def load_mesh(path: str | Path) -> VolumeMesh:
    """Read a mesh written by ``save_mesh``; a foreign or damaged file is a ``MeshError``."""
    path = Path(path)
    try:
        with np.load(path) as data:
            header = json.loads(bytes(data["header"]).decode())
            if header.get("format") != MESH_FORMAT:
                raise ValueError(f"format {header.get('format')!r}")
            groups: dict[str, dict[str, np.ndarray]] = {"part": {}, "surface": {}, "landmark": {}}
            for key in data.files:
                kind, _, name = key.partition("/")
                if kind in groups:
                    groups[kind][name] = data[key]
            nodes, elements = data["nodes"], data["elements"]
    except (OSError, ValueError, KeyError) as exc:
        raise MeshError(
            f"{path}: not a readable footdt mesh ({exc}); delete it and re-mesh"
        ) from None
    return VolumeMesh(
        nodes=nodes,
        elements=elements,
        cell_type=str(header["cell_type"]),
        parts=groups["part"],
        surfaces=groups["surface"],
        landmarks=groups["landmark"],
        info=dict(header.get("info", {})),
    )


#: Modules whose code makes a template mesh: a cached mesh made by other code is not reused.
TEMPLATE_MESH_CODE = (
    "domain.py", "anatomy/template.py", "anatomy/template_data.py", "anatomy/landmarks.py",
    "mesh/foot.py", "mesh/foot_occ.py", "mesh/primitives.py", "mesh/gmsh_session.py",
    "mesh/topology.py", "mesh/quality.py",
)  # fmt: skip


def cached_template_mesh(options: Any, params: Any = None) -> VolumeMesh:
    """The template mesh for ``options`` (``MeshOptions``) and template ``params``
    (``FootTemplate``; default the reference foot), meshed once and then read from the cache."""
    import gmsh

    from footdt.mesh.foot import mesh_foot
    from footdt.spec.geometry import FootTemplate

    params = params or FootTemplate(type="foot_template")
    key = json.dumps(
        {"v": __version__, "gmsh": gmsh.__version__, "code": source_digest(*TEMPLATE_MESH_CODE),
         "options": options.model_dump(), "params": params.model_dump()},
        sort_keys=True,
    )  # fmt: skip
    path = cache_dir() / f"template-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    return cached_file(path, load_mesh, lambda: mesh_foot(params, options), save_mesh, MeshError)
