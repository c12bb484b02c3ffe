"""Small continuum-mechanics helpers shared by backends, labels and tests (numpy only)."""

from __future__ import annotations

import numpy as np

#: Order of the 6 stress components everywhere in footdt (Abaqus order).
STRESS_COMPONENTS = ("xx", "yy", "zz", "xy", "xz", "yz")


def von_mises(stress: np.ndarray) -> np.ndarray:
    """Von Mises equivalent stress of (..., 6) Cauchy stresses in ``STRESS_COMPONENTS`` order."""
    s = np.asarray(stress, dtype=np.float64)
    sxx, syy, szz, sxy, sxz, syz = (s[..., i] for i in range(6))
    return np.sqrt(
        0.5 * ((sxx - syy) ** 2 + (syy - szz) ** 2 + (szz - sxx) ** 2)
        + 3.0 * (sxy**2 + sxz**2 + syz**2)
    )


def tet_volumes(nodes: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Signed volumes of straight-sided tetrahedra (corner nodes are the first four of each row)."""
    p = nodes[elements[:, :4]]
    a, b, c = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]
    return np.einsum("ij,ij->i", a, np.cross(b, c)) / 6.0


def isotropic_stiffness(E: float, nu: float) -> np.ndarray:
    """6x6 isotropic elasticity matrix in ``STRESS_COMPONENTS`` order with engineering shear strains."""
    lam = E * nu / ((1 + nu) * (1 - 2 * nu))
    mu = E / (2 * (1 + nu))
    D = np.zeros((6, 6))
    D[:3, :3] = lam
    D[np.arange(3), np.arange(3)] += 2 * mu
    D[np.arange(3, 6), np.arange(3, 6)] = mu
    return D
