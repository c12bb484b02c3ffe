"""Mesh-convergence study: solve one spec at several element sizes and tabulate per-bone stress.

The volume-weighted mean should settle as the mesh is refined; p99 settles more slowly and the raw
max does not (stress is singular at loads and constraints), which is why labels keep all three.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from footdt.domain import BONES, MEAN, P99, SOFT_TISSUE

STATS = (MEAN, P99)


@dataclass
class ConvergenceStudy:
    sizes: list[float]
    rows: list[dict[str, Any]] = field(default_factory=list)
    meshes: list[dict[str, Any]] = field(default_factory=list)
    csv_path: Path | None = None
    png_path: Path | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sizes_mm": self.sizes,
            "meshes": self.meshes,
            "rows": self.rows,
            "csv": str(self.csv_path),
            "png": str(self.png_path),
        }

    def value(self, size: float, phase: str, bone: str, stat: str) -> float:
        for r in self.rows:
            if (r["size_mm"], r["phase"], r["bone"], r["stat"]) == (size, phase, bone, stat):
                return float(r["value_mpa"])
        raise KeyError((size, phase, bone, stat))

    def table(self) -> Any:
        from rich.table import Table

        t = Table(title="mesh convergence: von Mises (MPa) per bone")
        t.add_column("phase")
        t.add_column("bone")
        t.add_column("stat")
        for s, m in zip(self.sizes, self.meshes, strict=True):
            t.add_column(f"{s:g} mm\n{m['nodes']} nodes", justify="right")
        t.add_column("change, last step", justify="right")
        keys = sorted(
            {(r["phase"], r["bone"], r["stat"]) for r in self.rows},
            key=lambda k: (k[0], _bone_order(k[1]), k[2]),
        )
        for phase, bone, stat in keys:
            vals = [self.value(s, phase, bone, stat) for s in self.sizes]
            change = abs(vals[-1] - vals[-2]) / abs(vals[-1]) if len(vals) > 1 and vals[-1] else 0.0
            t.add_row(phase, bone, stat, *(f"{v:.3g}" for v in vals), f"{100 * change:.1f} %")
        return t


def _bone_order(bone: str) -> int:
    return BONES.index(bone) if bone in BONES else len(BONES)


def convergence_study(
    loaded: Any, sizes: list[float], backend: str, out: Path, progress: Any = None
) -> ConvergenceStudy:
    import pandas as pd

    from footdt.backends import get_backend
    from footdt.compile import compile_spec
    from footdt.labels.reduce import reduce_result

    sizes = sorted(sizes, reverse=True)
    study = ConvergenceStudy(sizes)
    out.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        msg = f"size {size:g} mm: meshing and solving with {backend}"
        ctx = progress.status(msg) if progress is not None else _Null()
        with ctx:
            model = compile_spec(loaded.with_mesh(size))
            result = get_backend(backend).solve(model, out / f"{size:g}mm")
        study.meshes.append(
            {
                "size_mm": size,
                "nodes": model.n_nodes,
                "elements": model.n_elements,
                "solve_s": round(result.wall_time, 2),
            }
        )
        for row in reduce_result(result, model):
            if row.stat in STATS:
                study.rows.append(
                    {
                        "size_mm": size,
                        "nodes": model.n_nodes,
                        "phase": row.phase,
                        "bone": row.bone,
                        "stat": row.stat,
                        "value_mpa": row.value_mpa,
                    }
                )
    df = pd.DataFrame(study.rows)
    study.csv_path = out / "convergence.csv"
    df.to_csv(study.csv_path, index=False)
    study.png_path = _plot(df, out / "convergence.png")
    return study


def _plot(df: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = list(dict.fromkeys(df["phase"]))
    fig, axes = plt.subplots(len(STATS), len(phases), figsize=(4.5 * len(phases), 7), squeeze=False)
    for j, phase in enumerate(phases):
        for i, stat in enumerate(STATS):
            ax = axes[i][j]
            sub = df[(df["phase"] == phase) & (df["stat"] == stat)]
            for bone, g in sub.groupby("bone"):
                if bone == SOFT_TISSUE:
                    continue
                ax.plot(g["size_mm"], g["value_mpa"], marker="o", lw=1, label=bone)
            ax.invert_xaxis()
            ax.set_title(f"{phase} · {stat}")
            ax.set_xlabel("element size (mm)")
            ax.set_ylabel("von Mises (MPa)")
    axes[0][-1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None
