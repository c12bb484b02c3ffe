"""Reference tetrahedra: shape-function gradients and quadrature (numpy only).

Node order is the IR's (Abaqus/CalculiX/meshio): corners 0-3, then for ``tetra10`` the mid-side
nodes of edges 01, 12, 20, 03, 13, 23. Reference coordinates (r, s, t) with corners at the origin
and the unit points; barycentric L0 = 1 - r - s - t, L1 = r, L2 = s, L3 = t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Edges (corner pairs) of the mid-side nodes 4..9 of a quadratic tetrahedron.
TET10_EDGES = ((0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (2, 3))
#: d L_i / d(r, s, t)
_DL = np.array([[-1.0, -1.0, -1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Reference:
    """Gradients ``dN`` (Q, n, 3) of the n shape functions at Q points with weights ``w`` (Q,)."""

    name: str
    n_nodes: int
    points: np.ndarray  # (Q, 3)
    weights: np.ndarray  # (Q,), summing to 1/6 (the reference volume)
    dN: np.ndarray  # (Q, n, 3)

    @property
    def affine(self) -> bool:
        return self.n_nodes == 4


def _bary(points: np.ndarray) -> np.ndarray:
    p = np.atleast_2d(points)
    return np.column_stack([1.0 - p.sum(axis=1), p])


def tet10_gradients(points: np.ndarray) -> np.ndarray:
    """(Q, 10, 3) reference gradients of the quadratic shape functions at ``points``."""
    L = _bary(points)
    out = np.empty((len(L), 10, 3))
    for i in range(4):  # L_i (2 L_i - 1)
        out[:, i] = (4.0 * L[:, i] - 1.0)[:, None] * _DL[i]
    for k, (i, j) in enumerate(TET10_EDGES):  # 4 L_i L_j
        out[:, 4 + k] = 4.0 * (L[:, j, None] * _DL[i] + L[:, i, None] * _DL[j])
    return out


def tet10_values(points: np.ndarray) -> np.ndarray:
    L = _bary(points)
    out = np.empty((len(L), 10))
    out[:, :4] = L * (2.0 * L - 1.0)
    for k, (i, j) in enumerate(TET10_EDGES):
        out[:, 4 + k] = 4.0 * L[:, i] * L[:, j]
    return out


_A, _B = 0.5854101966249685, 0.1381966011250105  # the 4-point rule, exact for degree 2
_GAUSS4 = np.array([[_B, _B, _B], [_A, _B, _B], [_B, _A, _B], [_B, _B, _A]])

TETRA = Reference("tetra", 4, np.array([[0.25, 0.25, 0.25]]), np.array([1.0 / 6.0]),
                  _DL[None, :, :].copy())  # fmt: skip
TETRA10 = Reference("tetra10", 10, _GAUSS4, np.full(4, 1.0 / 24.0), tet10_gradients(_GAUSS4))

#: Quadrature on the reference triangle (degree 4, 6 points; weights sum to 1/2), for pressure
#: on the curved faces a quadratic element may have.
_T6 = np.array([[0.445948490915965, 0.445948490915965], [0.108103018168070, 0.445948490915965],
                [0.445948490915965, 0.108103018168070], [0.091576213509771, 0.091576213509771],
                [0.816847572980459, 0.091576213509771], [0.091576213509771, 0.816847572980459]])  # fmt: skip
_T6W = np.array([0.223381589678011] * 3 + [0.109951743655322] * 3) / 2.0


def triangle_rule() -> tuple[np.ndarray, np.ndarray]:
    return _T6.copy(), _T6W.copy()


def tri6_values(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values (Q, 6) and gradients (Q, 6, 2) of the quadratic triangle (corners 0-2, then the
    mid-sides of edges 01, 12, 20) at reference points (Q, 2)."""
    r, s = points[:, 0], points[:, 1]
    L = np.column_stack([1.0 - r - s, r, s])
    dL = np.array([[-1.0, -1.0], [1.0, 0.0], [0.0, 1.0]])
    N = np.empty((len(r), 6))
    dN = np.empty((len(r), 6, 2))
    for i in range(3):
        N[:, i] = L[:, i] * (2.0 * L[:, i] - 1.0)
        dN[:, i] = (4.0 * L[:, i] - 1.0)[:, None] * dL[i]
    for k, (i, j) in enumerate(((0, 1), (1, 2), (2, 0))):
        N[:, 3 + k] = 4.0 * L[:, i] * L[:, j]
        dN[:, 3 + k] = 4.0 * (L[:, j, None] * dL[i] + L[:, i, None] * dL[j])
    return N, dN


def reference(cell_type: str) -> Reference:
    if cell_type == "tetra":
        return TETRA
    if cell_type == "tetra10":
        return TETRA10
    raise ValueError(f"no reference element for cell type {cell_type!r}")
