"""Pass 4: connectors between resolved nodes (landmarks or snapped points)."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from footdt.compile.resolve_sets import Sets
from footdt.ir import Connector
from footdt.mesh.gmsh_session import VolumeMesh
from footdt.spec.loader import SourceMap
from footdt.spec.subject import NodeRef, SubjectSpec


def build_connectors(
    spec: SubjectSpec, mesh: VolumeMesh, sets: Sets, source: SourceMap
) -> tuple[Connector, ...]:
    tree = cKDTree(mesh.nodes)
    out = []
    for i, con in enumerate(spec.connectors):
        ends = []
        for end in ("a", "b"):
            ref: NodeRef = getattr(con, end)
            loc = ("connectors", i, end)
            if ref.landmark is not None:
                if ref.landmark not in sets.landmarks:
                    raise source.error(
                        (*loc, "landmark"),
                        f"no landmark named {ref.landmark!r}; known: {', '.join(sorted(sets.landmarks)) or 'none'}",
                    )
                ends.append(sets.landmarks[ref.landmark])
            else:
                assert ref.point is not None
                dist, idx = tree.query(ref.point)
                if dist > 2.0 * spec.mesh.size:
                    raise source.error(
                        (*loc, "point"), f"point {ref.point} is {dist:.2f} mm from the mesh"
                    )
                ends.append(int(idx))
        if ends[0] == ends[1] or np.linalg.norm(mesh.nodes[ends[0]] - mesh.nodes[ends[1]]) < 1e-9:
            raise source.error(
                ("connectors", i),
                f"connector {con.name!r}: both ends resolve to node {ends[0]} at "
                f"{tuple(np.round(mesh.nodes[ends[0]], 3))}: a spring needs two distinct points",
            )
        out.append(Connector(con.name, ends[0], ends[1], con.law, con.stiffness))
    return tuple(out)
