"""The demo's own figure: the new runner's recording-level predictions with their intervals beside
its own FE labels, one row per target (PNG, matplotlib Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from footdt.domain import MEAN, short_target


def twin_figure(prediction: dict[str, Any], check: dict[str, Any] | None, out: Path) -> Path:
    """Per target: the predicted stress (MPa, dot) and its interval (bar), the FE label (cross)
    when the new runner's FE solve exists; mean and peak targets side by side."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fe = {r["target"]: r for r in (check or {}).get("targets", [])}
    groups = [[t for t in prediction["targets"] if t["stat"] == MEAN],
              [t for t in prediction["targets"] if t["stat"] != MEAN]]  # fmt: skip
    groups = [g for g in groups if g]
    rows = max(len(g) for g in groups)
    fig, axes = plt.subplots(1, len(groups), figsize=(5.2 * len(groups), 0.28 * rows + 1.4),
                             squeeze=False, layout="constrained")  # fmt: skip
    for ax, group in zip(axes[0], groups, strict=True):
        for y, t in enumerate(reversed(group)):
            lo = -math.inf if t["lower_mpa"] is None else t["lower_mpa"]
            hi = math.inf if t["upper_mpa"] is None else t["upper_mpa"]
            if math.isfinite(lo) and math.isfinite(hi):
                ax.plot([lo, hi], [y, y], color="tab:blue", lw=3, alpha=0.35, solid_capstyle="butt")
            ax.plot(t["recording_mpa"], y, "o", color="tab:blue", ms=4)
            f = fe.get(t["target"])
            if f is not None:
                ax.plot(f["fe_mpa"], y, "x", color="tab:red" if not f["inside"] else "k", ms=6)
        ax.set_yticks(range(len(group)), [short_target(t["target"]) for t in reversed(group)],
                      fontsize=7)  # fmt: skip
        ax.set_xlabel("von Mises stress (MPa)", fontsize=8)
        ax.set_title(f"{group[0]['stat']} stress", fontsize=9)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", alpha=0.3)
    pct = round(100 * prediction["interval"]["level"])
    label = (f"runner never seen in training: prediction (dot) with {pct} % "
             f"{prediction['interval']['method']} interval (bar)")  # fmt: skip
    fig.suptitle(label + (", its own FE label (x)" if fe else ""), fontsize=9)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
