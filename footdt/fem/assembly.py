"""Vectorised assembly of linear elasticity in 3x3 node blocks (numpy only).

``Topology`` is everything that depends on the mesh's connectivity alone: the node pairs that
share an element or a connector (the blocks of the stiffness matrix), where each element's pair
blocks go, and the upper-triangular CSR pattern (DOF 3 i + c) with the map from block entries to
CSR entries. It is built once per topology (``topology``: cached in the process), so a morphed
runner, which keeps the template's elements, only recomputes the numbers.

``Discretisation`` of one model: element gradients at the quadrature points, the stiffness in
node blocks (connector springs are added by ``statics`` per active set), unit pressure loads
per surface, and element stresses for a displacement field.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from footdt.errors import ModelError, UnsupportedFeature
from footdt.fem.elements import Reference, reference, tri6_values, triangle_rule

if TYPE_CHECKING:
    from footdt.ir import AnalysisModel

#: Elements per chunk of the vectorised kernels (bounds temporary memory to ~100 MB).
CHUNK = 32_768
#: Block entry (i, j) -> (j, i): a pair block stored for (q, p) instead of (p, q) is transposed.
_TRANSPOSE = np.array([0, 3, 6, 1, 4, 7, 2, 5, 8])
_IDENTITY = np.arange(9)


def _face6() -> np.ndarray:
    """Local nodes of each face S1..S4 of a quadratic tetrahedron in quadratic-triangle order:
    the IR's corners (``TET_FACES``), then the mid-sides of edges c0c1, c1c2, c2c0 (the IR's
    ``TET10_FACE_MIDSIDES`` lists the same mid-sides, not in this order)."""
    from footdt.fem.elements import TET10_EDGES
    from footdt.ir import TET_FACES

    mid = {frozenset(e): 4 + k for k, e in enumerate(TET10_EDGES)}
    return np.array(
        [[*f, *(mid[frozenset((f[i], f[(i + 1) % 3]))] for i in range(3))] for f in TET_FACES]
    )


FACE6 = _face6()


@dataclass(frozen=True, eq=False)
class Topology:
    """Connectivity-only structure of the stiffness matrix of one mesh (+ connector pairs)."""

    key: str
    n_nodes: int
    pair_a: np.ndarray  # (P,) local node a of each element pair block (a <= b)
    pair_b: np.ndarray  # (P,)
    block_p: np.ndarray  # (B,) node p of each block, p <= q, sorted by (p, q)
    block_q: np.ndarray  # (B,)
    elem_block: np.ndarray  # (M, P) int32 block of each element pair
    elem_flip: np.ndarray  # (M, P) bool: the pair's nodes are in (q, p) order
    conn_block: np.ndarray  # (C,) int64 block of each connector (node_a, node_b)
    conn_flip: np.ndarray  # (C,) bool
    indptr: np.ndarray  # upper CSR (3N x 3N), int32
    indices: np.ndarray  # int32
    gather: np.ndarray  # (nnz,) int64: CSR entry k = block data (flat, 9 per block)[gather[k]]
    diag: np.ndarray  # (3N,) int64: position of each diagonal entry in the CSR data
    rows: np.ndarray  # (nnz,) int32: row of each CSR entry

    @property
    def n_dof(self) -> int:
        return 3 * self.n_nodes

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def nbytes(self) -> int:
        return sum(int(getattr(self, f).nbytes) for f in (
            "pair_a", "pair_b", "block_p", "block_q", "elem_block", "elem_flip", "conn_block",
            "conn_flip", "indptr", "indices", "gather", "diag", "rows"))  # fmt: skip

    def upper(self, block_data: np.ndarray) -> sp.csr_matrix:
        """The upper-triangular CSR matrix of block data (B, 3, 3)."""
        data = np.ascontiguousarray(block_data).reshape(-1)[self.gather]
        A = sp.csr_matrix((data, self.indices, self.indptr), shape=(self.n_dof, self.n_dof))
        A.has_sorted_indices = True
        return A


def topology_key(elements: np.ndarray, n_nodes: int, pairs: np.ndarray) -> str:
    h = hashlib.sha1(f"{n_nodes}:{elements.shape}:{pairs.shape}".encode())
    h.update(np.ascontiguousarray(elements, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(pairs, dtype=np.int64).tobytes())
    return h.hexdigest()


def build_topology(
    elements: np.ndarray, n_nodes: int, pairs: np.ndarray, key: str = ""
) -> Topology:
    """The block pattern of elements (M, n) plus extra node pairs (C, 2) (connectors)."""
    M, n = elements.shape
    la, lb = np.triu_indices(n)
    T = np.asarray(elements, dtype=np.int64)
    p, q = T[:, la], T[:, lb]
    flip = p > q
    lo, hi = np.minimum(p, q), np.maximum(p, q)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    cflip = pairs[:, 0] > pairs[:, 1]
    clo, chi = pairs.min(axis=1), pairs.max(axis=1)
    keys = np.concatenate([(lo * n_nodes + hi).ravel(), clo * n_nodes + chi])
    uniq, inverse = np.unique(keys, return_inverse=True)
    elem_block = inverse[: M * len(la)].reshape(M, len(la)).astype(np.int32)
    conn_block = inverse[M * len(la) :].astype(np.int64)
    bp, bq = uniq // n_nodes, uniq % n_nodes
    if not np.array_equal(np.unique(T), np.arange(n_nodes)):
        raise ModelError("some nodes belong to no element; remove them")
    # DOF-level upper triangle: block (p, q) entry (i, j) -> (3p + i, 3q + j), kept when p < q or i <= j
    ii, jj = np.divmod(np.arange(9), 3)
    keep = (bp[:, None] < bq[:, None]) | (ii <= jj)[None, :]
    b_idx, c_idx = np.nonzero(keep)
    row = 3 * bp[b_idx] + ii[c_idx]
    col = 3 * bq[b_idx] + jj[c_idx]
    n3 = 3 * n_nodes
    order = np.argsort(row * n3 + col, kind="stable")
    row, col = row[order], col[order]
    gather = (9 * b_idx + c_idx)[order]
    indptr = np.zeros(n3 + 1, dtype=np.int64)
    np.cumsum(np.bincount(row, minlength=n3), out=indptr[1:])
    diag = np.flatnonzero(row == col)
    if len(diag) != n3:  # pragma: no cover - every node is in an element
        raise ModelError("the stiffness pattern misses diagonal entries")
    return Topology(
        key=key, n_nodes=n_nodes, pair_a=la, pair_b=lb, block_p=bp, block_q=bq,
        elem_block=elem_block, elem_flip=flip, conn_block=conn_block, conn_flip=cflip,
        indptr=indptr.astype(np.int32), indices=col.astype(np.int32), gather=gather,
        diag=diag, rows=row.astype(np.int32),
    )  # fmt: skip


class _TopologyCache:
    """The last two topologies built in this process (a worker solves one cohort's topology)."""

    def __init__(self, size: int = 2) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[str, Topology] = OrderedDict()
        self.size = size

    def get(self, elements: np.ndarray, n_nodes: int, pairs: np.ndarray) -> Topology:
        key = topology_key(elements, n_nodes, pairs)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        topo = build_topology(elements, n_nodes, pairs, key)
        with self._lock:
            self._items[key] = topo
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return topo

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


TOPOLOGIES = _TopologyCache()


def lame(E: np.ndarray, nu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lam = E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))
    return lam, E / (2.0 * (1.0 + nu))


class Discretisation:
    """Stiffness (node blocks), unit pressure loads and stresses of one ``AnalysisModel``."""

    def __init__(self, model: AnalysisModel, backend: str = "native") -> None:
        if model.cell_type not in ("tetra", "tetra10"):
            raise UnsupportedFeature(
                f"backend '{backend}' cannot express element.{model.cell_type}"
            )
        part_of = model.element_part()
        if np.any(part_of < 0):
            raise ModelError(
                f"{int(np.sum(part_of < 0))} elements belong to no part; assign every element"
            )
        self.model = model
        self.ref: Reference = reference(model.cell_type)
        pairs = np.array([[c.node_a, c.node_b] for c in model.connectors], dtype=np.int64)
        self.topology = TOPOLOGIES.get(model.elements, model.n_nodes, pairs.reshape(-1, 2))
        parts = list(model.parts)
        E = np.array([model.materials[model.sections[p]].E for p in parts])[part_of]
        nu = np.array([model.materials[model.sections[p]].nu for p in parts])[part_of]
        self.lam, self.mu = lame(E, nu)
        self.volumes = np.empty(model.n_elements)
        self._kept: dict[int | None, tuple[np.ndarray, np.ndarray]] = {}
        self.blocks = self._stiffness()
        self.unit_pressure = {s: self.pressure_load(s)
                              for s in sorted({p.surface for ph in model.phases for p in ph.pressures})}  # fmt: skip

    # ------------------------------------------------------------------ kernels
    def _gradients(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Physical gradients G (C, Q, n, 3) and weights w = w_q det J (C, Q) of elements ``sl``
        (kept for linear tetrahedra, whose gradients are one (n, 3) array per element)."""
        cached = self._kept.get(sl.start)
        if cached is not None:
            return cached
        X = self.model.nodes[self.model.elements[sl]]  # (C, n, 3)
        dN = self.ref.dN  # (Q, n, 3)
        J = np.einsum("mai,qak->mqik", X, dN)  # dx_i / dr_k
        det = np.linalg.det(J)
        if np.any(det <= 0):
            bad = int(np.flatnonzero((det <= 0).any(axis=1))[0]) + (sl.start or 0)
            raise ModelError(
                f"{int(np.sum((det <= 0).any(axis=1)))} elements have non-positive volume "
                f"(first: {bad}); remesh or fix the element node order"
            )
        G = np.einsum("qak,mqki->mqai", dN, np.linalg.inv(J))
        w = det * self.ref.weights
        if self.ref.affine:
            self._kept[sl.start] = (G, w)
        return G, w

    def _chunks(self) -> list[slice]:
        M = self.model.n_elements
        return [slice(s, min(s + CHUNK, M)) for s in range(0, M, CHUNK)]

    def _stiffness(self) -> np.ndarray:
        """(B, 3, 3) blocks of the stiffness matrix (elements only; no connectors)."""
        topo = self.topology
        nb = len(topo.block_p)
        out = np.zeros(9 * nb)
        pa, pb = topo.pair_a, topo.pair_b
        for sl in self._chunks():
            G, w = self._gradients(sl)
            self.volumes[sl] = w.sum(axis=1)
            ga, gb = G[:, :, pa], G[:, :, pb]  # (C, Q, P, 3)
            if G.shape[1] == 1:
                outer = w[:, 0, None, None, None] * (ga[:, 0, :, :, None] * gb[:, 0, :, None, :])
            else:
                outer = np.einsum("mqpi,mqpj->mpij", ga * w[:, :, None, None], gb, optimize=True)
            tr = np.trace(outer, axis1=2, axis2=3)
            lam, mu = self.lam[sl, None, None, None], self.mu[sl, None, None, None]
            blk = lam * outer + mu * outer.transpose(0, 1, 3, 2)
            blk[:, :, [0, 1, 2], [0, 1, 2]] += self.mu[sl, None, None] * tr[:, :, None]
            idx = topo.elem_block[sl, :, None].astype(np.int64) * 9 + np.where(
                topo.elem_flip[sl, :, None], _TRANSPOSE, _IDENTITY
            )
            out += np.bincount(idx.ravel(), weights=blk.reshape(-1), minlength=9 * nb)
        return out.reshape(nb, 3, 3)

    def pressure_load(self, surface: str) -> np.ndarray:
        """Nodal forces (N, IR DOF order) of a 1 MPa pressure pushing into the body on ``surface``."""
        from footdt.ir import TET_FACES

        m = self.model
        pairs = np.asarray(m.surfaces[surface]).reshape(-1, 2)
        if len(pairs) == 0:
            raise ModelError(f"surface '{surface}' is empty but carries a pressure")
        local = np.asarray(TET_FACES)[pairs[:, 1]]
        f = np.zeros((m.n_nodes, 3))
        if m.cell_type == "tetra":
            tri = np.take_along_axis(m.elements[pairs[:, 0]], local, axis=1)
            x = m.nodes[tri]
            # the right-hand normal of the IR face order points into the element: P pushes that way
            fa = np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]) / 6.0
            for k in range(3):
                np.add.at(f, tri[:, k], fa)
            return f.ravel()
        tri = np.take_along_axis(m.elements[pairs[:, 0]], FACE6[pairs[:, 1]], axis=1)  # (K, 6)
        x = m.nodes[tri]
        pts, wts = triangle_rule()
        N, dN = tri6_values(pts)
        dr = np.einsum("kai,qa->kqi", x, dN[:, :, 0])
        ds = np.einsum("kai,qa->kqi", x, dN[:, :, 1])
        nq = np.cross(dr, ds)  # (K, Q, 3): area element x inward normal
        fa = np.einsum("q,qa,kqi->kai", wts, N, nq)
        np.add.at(f, tri.ravel(), fa.reshape(-1, 3))
        return f.ravel()

    def stress(self, u: np.ndarray) -> np.ndarray:
        """(M, 6) volume-average Cauchy stress (MPa; xx yy zz xy xz yz) for IR-ordered DOFs ``u``."""
        return self.stresses([u])[0]

    def stresses(self, fields: list[np.ndarray]) -> list[np.ndarray]:
        """``stress`` of several displacement fields, each element's gradients computed once."""
        Us = [np.asarray(u, dtype=np.float64).reshape(-1, 3) for u in fields]
        outs = [np.empty((self.model.n_elements, 6)) for _ in Us]
        comps = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
        for sl in self._chunks():
            G, w = self._gradients(sl)
            wn = w / w.sum(axis=1, keepdims=True)
            lam, mu = self.lam[sl, None], self.mu[sl, None]
            for U, out in zip(Us, outs, strict=True):
                H = np.einsum("mai,mqaj->mqij", U[self.model.elements[sl]], G)  # du_i / dx_j
                tr = np.trace(H, axis1=2, axis2=3)
                for c, (i, j) in enumerate(comps):
                    s = mu * (H[:, :, i, j] + H[:, :, j, i])
                    if i == j:
                        s = s + lam * tr
                    out[sl, c] = np.einsum("mq,mq->m", wn, s)
        return outs
