"""Pictures of shape models and personalisations (matplotlib, PNG). Units: mm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from footdt.shape.ssm import SSM


def _figure(*args: Any, **kwargs: Any) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    from footdt.fileio import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png"))
    plt.close(fig)
    return path


def plot_modes(ssm: SSM, path: str | Path, modes: int = 3, sds: float = 2.0) -> Path:
    """Variance explained per mode, and the first ``modes`` modes at -/+ ``sds`` SD (skin points
    seen from the side and from above)."""
    k = min(modes, ssm.n_modes)
    fig, ax = _figure(k + 1, 2, figsize=(10, 2.6 * (k + 1)), squeeze=False)
    ratio = 100 * ssm.explained_variance_ratio
    ax[0, 0].bar(np.arange(1, ssm.n_modes + 1), ratio, color="tab:blue")
    ax[0, 0].plot(np.arange(1, ssm.n_modes + 1), np.cumsum(ratio), "o-", color="tab:orange")
    ax[0, 0].set(xlabel="mode", ylabel="variance explained (%)", ylim=(0, 102),
                 title=f"{ssm.n_modes} modes, {np.sum(ratio):.2f} % of the training variance")  # fmt: skip
    ax[0, 1].axis("off")
    ax[0, 1].text(0.0, 0.5, "\n".join(f"mode {i + 1}: {r:6.2f} %  (SD {s / np.sqrt(ssm.n_skin):.2f} mm RMS per point)"
                                      for i, (r, s) in enumerate(zip(ratio, ssm.sd, strict=True))),
                  family="monospace", fontsize=8, va="center")  # fmt: skip
    for m in range(k):
        for col, (a, b, label) in enumerate(((0, 2, "z (mm)"), (0, 1, "y (mm)"))):
            axis = ax[m + 1, col]
            for sign, colour in ((-1, "tab:blue"), (1, "tab:red")):
                w = np.zeros(ssm.n_modes)
                w[m] = sign * sds
                p = ssm.reconstruct(w).skin
                axis.scatter(p[:, a], p[:, b], s=0.3, color=colour,
                             label=f"{'-' if sign < 0 else '+'}{sds:g} SD")  # fmt: skip
            axis.set(aspect="equal", xlabel="x (mm)", ylabel=label,
                     title=f"mode {m + 1}, {'side' if col == 0 else 'top'} view")  # fmt: skip
            axis.legend(loc="upper right", fontsize=7, markerscale=10)
    return _save(fig, Path(path))


def plot_fit(
    distances: np.ndarray,
    skin: np.ndarray,
    target: np.ndarray,
    path: str | Path,
    title: str = "",
) -> Path:
    """Histogram of the morphed skin's distances to the target, and both seen from above and from
    the side (target points grey, morphed skin coloured by distance)."""
    fig, ax = _figure(1, 3, figsize=(15, 4))
    d = np.asarray(distances, dtype=float)
    ax[0].hist(d, bins=40, color="tab:blue")
    for q, style in ((50, ":"), (95, "--")):
        ax[0].axvline(
            np.percentile(d, q), color="k", ls=style, label=f"p{q} {np.percentile(d, q):.2f} mm"
        )
    ax[0].set(xlabel="skin node -> target surface (mm)", ylabel="nodes", title=title or "fit error")
    ax[0].legend()
    for axis, (a, b, label) in zip(ax[1:], ((0, 1, "y (mm)"), (0, 2, "z (mm)")), strict=True):
        axis.scatter(target[:, a], target[:, b], s=0.3, color="0.75")
        sc = axis.scatter(skin[:, a], skin[:, b], s=0.6, c=d, cmap="viridis", vmin=0,
                          vmax=max(float(np.percentile(d, 99)), 1e-6))  # fmt: skip
        axis.set(aspect="equal", xlabel="x (mm)", ylabel=label)
    fig.colorbar(sc, ax=ax[2], label="distance (mm)")
    return _save(fig, Path(path))
