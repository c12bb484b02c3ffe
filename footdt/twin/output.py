"""What a prediction writes: the per-stride CSV frame, the summary (``footdt predict --json``) and
the PNG plot. Shared by ``footdt predict`` and ``footdt demo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from footdt.twin.predict import Prediction, Twin

CSV_COLUMNS = ("stride", "t_start_s", "target", "bone", "phase", "stat", "pred_mpa", "lower_mpa",
               "upper_mpa", "ood")  # fmt: skip


def prediction_frame(p: Prediction) -> pd.DataFrame:
    """One row per stride x target: ``CSV_COLUMNS`` (stride = detected stride index, t_start_s
    its initial contact in s, stat the label statistic, MPa, ood True/False)."""
    import numpy as np
    import pandas as pd

    n, k = p.pred_mpa.shape
    return pd.DataFrame({
        "stride": np.repeat([s.index for s in p.strides], k),
        "t_start_s": np.repeat([s.ic_s for s in p.strides], k),
        "target": np.tile([t.name for t in p.targets], n),
        "bone": np.tile([t.bone for t in p.targets], n),
        "phase": np.tile([t.phase for t in p.targets], n),
        "stat": np.tile([t.stat for t in p.targets], n),
        "pred_mpa": p.pred_mpa.reshape(-1),
        "lower_mpa": p.lower_mpa.reshape(-1),
        "upper_mpa": p.upper_mpa.reshape(-1),
        "ood": np.repeat(p.ood, k),
    })  # fmt: skip


def _num(x: float) -> float | None:
    import math

    return None if not math.isfinite(x) else float(x)


def summary_payload(twin: Twin, p: Prediction) -> dict[str, Any]:
    """The ``--json`` object (stable keys; infinite interval bounds are null)."""
    import numpy as np

    damage = {d.bone: d for d in p.damage}
    targets = []
    for k, t in enumerate(p.targets):
        targets.append({
            "target": t.name, "phase": t.phase, "bone": t.bone, "stat": t.stat,
            "median_stride_mpa": float(np.median(p.pred_mpa[:, k])),
            "recording_mpa": float(p.recording_mpa[k]),
            "lower_mpa": _num(p.recording_lower_mpa[k]), "upper_mpa": _num(p.recording_upper_mpa[k]),
            "ood_fraction": float(p.ood.mean()), "damage_index": damage[t.bone].index,
        })  # fmt: skip
    cal = twin.calibration
    return {
        "run": str(twin.path), "experiment": twin.run.get("experiment"),
        "architecture": twin.run.get("architecture"), "samples": twin.samples,
        "domain_adaptation": twin.run.get("domain_adaptation"), "partial_run": bool(twin.run.get("partial")),
        "n_folds": len(twin.folds), "n_networks": sum(len(f.models) for f in twin.folds),
        "recording": p.source, **p.meta, "n_strides": len(p.strides),
        "interval": {"level": p.level, "method": p.method,
                     "n_calibration_trials": min(cal.n(t) for t in cal.targets),
                     "n_calibration_subjects": cal.n_subjects},
        "ood": {"n_flagged": int(p.ood.sum()), "fraction": float(p.ood.mean()),
                "threshold": twin.ood.threshold, "quantile": twin.ood.quantile,
                "reference_strides": twin.ood.n_rows, "reference_subjects": twin.ood.n_subjects,
                "static": p.static_ood or None},
        "clipped_targets": list(p.clipped_targets),
        "targets": targets, "damage": [d.as_dict() for d in p.damage],
    }  # fmt: skip


def plot_prediction(p: Prediction, path: Path) -> None:
    """PNG: per target the stride predictions with their interval band (MPa), OOD strides
    marked, and the cumulative damage index per bone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from footdt.fileio import atomic_write

    k = len(p.targets)
    cols = min(4, k + 1)
    rows = -(-(k + 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    x = np.arange(1, len(p.strides) + 1)
    for j, t in enumerate(p.targets):
        ax = axes.flat[j]
        lo, hi = p.lower_mpa[:, j], p.upper_mpa[:, j]
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(x[ok], lo[ok], hi[ok], color="tab:blue", alpha=0.2, lw=0)
        ax.plot(x, p.pred_mpa[:, j], "o-", ms=3, lw=1, color="tab:blue")
        ax.plot(x[p.ood], p.pred_mpa[p.ood, j], "x", color="tab:red", ms=6)
        ax.set_title(t.name, fontsize=8)
        ax.set_ylabel("von Mises (MPa)", fontsize=7)
        ax.tick_params(labelsize=7)
    ax = axes.flat[k]
    for d in p.damage:
        ax.plot(x, d.cumulative, lw=1.2, label=d.bone)
    ax.set_title(f"cumulative damage index (b = {p.damage[0].exponent:g})", fontsize=8)
    ax.set_xlabel("stride", fontsize=7)
    ax.set_ylabel("typical-cohort strides", fontsize=7)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6)
    for extra in list(axes.flat)[k + 1 :]:
        extra.axis("off")
    fig.suptitle(f"{p.source}: {int(100 * p.level)} % intervals ({p.method}); x = OOD stride",
                 fontsize=9)  # fmt: skip
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 1.0 - 0.45 / fig.get_figheight()))  # room for the title
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
