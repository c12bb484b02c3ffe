"""PCA statistical shape model (SSM) of the foot: skin points plus bone landmarks. Units: mm.

A shape is one vector (3P + 3L,): the P corresponded skin points (x, y, z each) then the L
landmarks (``footdt.shape.population``). The principal components come from
``gias3.learning.PCA`` (``inc_svd_decompose``: scikit-learn's IncrementalPCA, which is an exact
PCA here because the whole training set fits in one batch; gias3's ``svd_decompose`` would form
a (3P + 3L)^2 matrix). Weights are in SD units: shape = mean + sum_i w_i sd_i mode_i.

Files are one .npz: the arrays plus a JSON header (format tag ``footdt-ssm``, version, skin
point count, landmark names, metadata: seed, population size, source, footdt version).
``builtin_ssm()`` builds the model from ``draw_population`` once and keeps it in the user cache
(``$FOOTDT_CACHE`` or ``~/.cache/footdt``) keyed by a hash of the generator code and arguments.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from footdt import __version__
from footdt.errors import FootdtError
from footdt.shape.population import FootShape

FORMAT = "footdt-ssm"
FORMAT_VERSION = 1


class ShapeError(FootdtError):
    """A shape model, measurement request or scan cannot be used (one line: what and what to do).

    ``field`` names the spec field at fault when there is one (e.g. a measurement's name)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(eq=False)
class SSM:
    """Mean (D,), orthonormal modes (k, D), mode SDs (k,) mm, training scores (n, k) in SD units."""

    mean: np.ndarray
    modes: np.ndarray
    sd: np.ndarray
    total_variance: float  # sum of the training set's variances over all D coordinates (mm^2)
    triangles: np.ndarray  # (T, 3) skin triangles
    n_skin: int
    landmark_names: tuple[str, ...]
    scores: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def n_modes(self) -> int:
        return len(self.sd)

    @property
    def variances(self) -> np.ndarray:
        """Variance of each mode (mm^2)."""
        return self.sd**2

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """Fraction of the training set's total variance explained by each mode."""
        return self.variances / self.total_variance

    def vector(self, weights: np.ndarray) -> np.ndarray:
        """Shape vector (D,) for weights in SD units (fewer than ``n_modes``: the rest are 0)."""
        w = np.zeros(self.n_modes)
        given = np.asarray(weights, dtype=float).ravel()
        if len(given) > self.n_modes:
            raise ShapeError(f"{len(given)} weights given but the SSM has {self.n_modes} modes")
        w[: len(given)] = given
        return self.mean + (w * self.sd) @ self.modes

    def shape(self, vector: np.ndarray) -> FootShape:
        """A shape vector (D,) as a ``FootShape``."""
        pts = np.asarray(vector, dtype=float).reshape(-1, 3)
        return FootShape(
            pts[: self.n_skin], self.triangles, pts[self.n_skin :], self.landmark_names
        )

    def reconstruct(self, weights: np.ndarray) -> FootShape:
        """The shape for weights in SD units."""
        return self.shape(self.vector(weights))

    def project(self, shape: FootShape | np.ndarray) -> np.ndarray:
        """Weights (k,) in SD units of the closest model shape (least squares over all coordinates)."""
        x = shape.vector() if isinstance(shape, FootShape) else np.asarray(shape, dtype=float)
        if x.shape != self.mean.shape:
            raise ShapeError(
                f"shape has {x.size} coordinates but the SSM expects {self.mean.size} "
                f"({self.n_skin} skin points + {len(self.landmark_names)} landmarks)"
            )
        return np.asarray(self.modes @ (x - self.mean) / self.sd)

    def save(self, path: str | Path) -> Path:
        """Write the model to one .npz file (atomically)."""
        from footdt.fileio import atomic_write

        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "n_skin": self.n_skin,
            "landmark_names": list(self.landmark_names),
            "total_variance": self.total_variance,
            "metadata": self.metadata,
        }
        arrays = {
            "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8),
            "mean": self.mean,
            "modes": self.modes,
            "sd": self.sd,
            "triangles": self.triangles,
            "scores": self.scores,
        }

        def write(tmp: Path) -> None:
            with tmp.open("wb") as fh:
                np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]

        return atomic_write(path, write)


def load_ssm(path: str | Path) -> SSM:
    """Read a model written by ``SSM.save``; a missing, foreign or damaged file is a ``ShapeError``."""
    p = Path(path)
    if not p.is_file():
        raise ShapeError(f"{p}: SSM file not found")
    try:
        with np.load(p, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode())
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ShapeError(f"{p}: not a footdt SSM file (no '{FORMAT}' header)")
            if header.get("version") != FORMAT_VERSION:
                raise ShapeError(
                    f"{p}: SSM file format version {header.get('version')} but this footdt reads "
                    f"version {FORMAT_VERSION}: rebuild the model with footdt.shape.ssm.build_ssm"
                )
            arrays = {
                k: np.asarray(data[k]) for k in ("mean", "modes", "sd", "triangles", "scores")
            }
    except ShapeError:
        raise
    except Exception as exc:  # zip, npy, JSON and key errors all mean a damaged file
        raise ShapeError(
            f"{p}: damaged or not an SSM file ({type(exc).__name__}: {exc}); delete it and rebuild"
        ) from None
    model = SSM(
        mean=arrays["mean"].astype(float),
        modes=arrays["modes"].astype(float),
        sd=arrays["sd"].astype(float),
        total_variance=float(header["total_variance"]),
        triangles=arrays["triangles"].astype(np.int64),
        n_skin=int(header["n_skin"]),
        landmark_names=tuple(header["landmark_names"]),
        scores=arrays["scores"].astype(float),
        metadata=dict(header.get("metadata", {})),
    )
    _check(model, p)
    return model


def _check(m: SSM, where: Path) -> None:
    d = 3 * (m.n_skin + len(m.landmark_names))
    k = len(m.sd)
    ok = (
        m.mean.shape == (d,)
        and m.modes.shape == (k, d)
        and m.scores.ndim == 2
        and m.scores.shape[1] == k
        and m.triangles.ndim == 2
        and m.triangles.shape[1] == 3
        and int(m.triangles.max(initial=0)) < m.n_skin
        and bool(np.all(m.sd > 0))
        and bool(np.all(np.isfinite(m.modes)))
    )
    if not ok:
        raise ShapeError(f"{where}: inconsistent SSM arrays (damaged file?); delete it and rebuild")


def build_ssm(
    shapes: list[FootShape],
    n_modes: int | None = None,
    variance: float = 0.999,
    metadata: dict[str, Any] | None = None,
) -> SSM:
    """PCA of corresponded shapes; keep ``n_modes`` modes or as many as explain ``variance``."""
    from gias3.learning.PCA import PCA

    if len(shapes) < 3:
        raise ShapeError(f"an SSM needs at least 3 shapes, got {len(shapes)}")
    first = shapes[0]
    for i, s in enumerate(shapes):
        if s.skin.shape != first.skin.shape or not np.array_equal(s.triangles, first.triangles):
            raise ShapeError(f"shape {i} is not corresponded with shape 0 (other points/triangles)")
        if s.landmark_names != first.landmark_names:
            raise ShapeError(f"shape {i} has other landmarks than shape 0")
    x = np.stack([s.vector() for s in shapes])
    pca = PCA()
    pca.setData(x.T)
    pca.inc_svd_decompose(min(len(shapes) - 1, x.shape[1]))
    var = np.asarray(pca.PC.weights, dtype=float)
    modes = np.asarray(pca.PC.modes, dtype=float).T
    total = float(np.var(x, axis=0, ddof=1).sum())
    if n_modes is None:
        if not 0.0 < variance <= 1.0:
            raise ShapeError(f"variance fraction must be in (0, 1], got {variance}")
        n_modes = int(np.searchsorted(np.cumsum(var) / total, variance - 1e-12) + 1)
    n_modes = int(min(max(n_modes, 1), int(np.sum(var > 1e-12 * var[0]))))
    modes = modes[:n_modes]
    modes *= np.sign(modes[np.arange(n_modes), np.argmax(np.abs(modes), axis=1)])[:, None]
    sd = np.sqrt(var[:n_modes])
    mean = np.asarray(pca.PC.mean, dtype=float)
    scores = (x - mean) @ modes.T / sd
    meta = {"population_size": len(shapes), "footdt_version": __version__, **(metadata or {})}
    return SSM(
        mean, modes, sd, total, first.triangles, len(first.skin), first.landmark_names, scores, meta
    )


def _generator_key(n: int, seed: int, variance: float) -> str:
    from footdt.fileio import json_digest, source_digest

    code = source_digest("shape/population.py", "shape/ssm.py", "anatomy/template.py",
                         "anatomy/template_data.py", "cohort/spec.py")  # fmt: skip
    return json_digest([FORMAT_VERSION, __version__, n, seed, variance, code])


@functools.lru_cache(maxsize=4)
def builtin_ssm(n: int = 200, seed: int = 0, variance: float = 0.999) -> SSM:
    """The SSM of ``draw_population(n, seed)``, built on first use and then read from the cache
    (once per process: the same object again after that, with its ``cache`` of derived data)."""
    from footdt.fileio import cached_file
    from footdt.mesh.store import cache_dir
    from footdt.shape.population import draw_population

    path = cache_dir() / f"ssm-{_generator_key(n, seed, variance)}.npz"
    meta = {"seed": seed, "source": "footdt.shape.population.draw_population"}
    model = cached_file(
        path, load_ssm,
        lambda: build_ssm(draw_population(n, seed), variance=variance, metadata=meta),
        lambda m, p: m.save(p), ShapeError,
    )  # fmt: skip
    return model
