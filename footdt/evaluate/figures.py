"""Figures like the paper's, as PNG (matplotlib, Agg backend; no display needed).

- ``mape_violins``: per-subject MAPE (%) per target, model beside the body-mass baseline;
- ``correlation_grid``: predicted vs FE stress (MPa) per target, identity line, r;
- ``bland_altman_grid``: difference (pred - FE) vs mean per target with bias and bias +- 1.96 SD;
- ``group_boxplots``: FE stress per target for rearfoot vs non-rearfoot strikers (subject means);
- ``importance_bars``: permutation importance per input group;
- ``attention_curve``: mean attention weight over the 300 input samples (lstm_attention).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from footdt.domain import NON_REARFOOT, REARFOOT_STRIKE
from footdt.domain import short_target as _short
from footdt.evaluate.metrics import LOA_Z, pearson_r

COLORS = {"model": "#1f77b4", "body_mass": "#d62728", "mean": "#7f7f7f", "ridge": "#2ca02c",
          REARFOOT_STRIKE: "#1f77b4", NON_REARFOOT: "#ff7f0e"}  # fmt: skip


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _grid(n: int, width: float = 2.6) -> tuple[Any, Any]:
    plt = _plt()
    ncols = min(7, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, width * nrows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _save(fig: Any, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(p, dpi=90)
    _plt().close(fig)
    return p


def mape_violins(
    per_subject: Any, path: str | Path, predictors: tuple[str, ...] = ("model", "body_mass")
) -> Path:
    plt = _plt()
    targets = list(dict.fromkeys(per_subject["target"]))
    fig, ax = plt.subplots(figsize=(min(18.0, max(6.0, 0.3 * len(targets) * len(predictors))), 4.2))
    width = 0.8 / len(predictors)
    for k, pr in enumerate(predictors):
        data = [per_subject[(per_subject.predictor == pr) & (per_subject.target == t)]["mape"].dropna().to_numpy()
                for t in targets]  # fmt: skip
        pos = [i + (k - (len(predictors) - 1) / 2) * width for i in range(len(targets))]
        keep = [(p, d) for p, d in zip(pos, data, strict=True) if len(d) > 1]
        if keep:
            parts = ax.violinplot([d for _, d in keep], [p for p, _ in keep], widths=width * 0.95,
                                  showmedians=True)  # fmt: skip
            for body in parts["bodies"]:
                body.set_facecolor(COLORS.get(pr, "#999999"))
                body.set_alpha(0.6)
        ax.plot([], [], color=COLORS.get(pr, "#999999"), lw=6, alpha=0.6, label=pr)
    ax.set_xticks(range(len(targets)), [_short(t) for t in targets], rotation=90, fontsize=7)
    ax.set_ylabel("MAPE per subject (%)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def correlation_grid(pred: Any, path: str | Path, predictor: str = "model") -> Path:
    d = pred[pred.predictor == predictor]
    targets = list(dict.fromkeys(d["target"]))
    fig, axes = _grid(len(targets))
    for ax, t in zip(axes, targets, strict=False):
        x, y = d[d.target == t]["true_mpa"].to_numpy(), d[d.target == t]["pred_mpa"].to_numpy()
        ax.scatter(x, y, s=8, alpha=0.7, color=COLORS["model"])
        lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_title(f"{_short(t)}  r={pearson_r(x, y):.2f}", fontsize=8)
        ax.set_xlabel("FE (MPa)", fontsize=7)
        ax.set_ylabel("predicted (MPa)", fontsize=7)
        ax.tick_params(labelsize=6)
    return _save(fig, path)


def bland_altman_grid(pred: Any, path: str | Path, predictor: str = "model") -> Path:
    d = pred[pred.predictor == predictor]
    targets = list(dict.fromkeys(d["target"]))
    fig, axes = _grid(len(targets))
    for ax, t in zip(axes, targets, strict=False):
        x, y = d[d.target == t]["true_mpa"].to_numpy(), d[d.target == t]["pred_mpa"].to_numpy()
        mean, diff = (x + y) / 2, y - x
        bias = diff.mean()
        sd = diff.std(ddof=1) if len(diff) > 1 else 0.0
        ax.scatter(mean, diff, s=8, alpha=0.7, color=COLORS["model"])
        for v, style in ((bias, "-"), (bias + LOA_Z * sd, "--"), (bias - LOA_Z * sd, "--")):
            ax.axhline(v, color="k", ls=style, lw=0.8)
        ax.set_title(f"{_short(t)}  bias={bias:.2f}", fontsize=8)
        ax.set_xlabel("mean (MPa)", fontsize=7)
        ax.set_ylabel("pred - FE (MPa)", fontsize=7)
        ax.tick_params(labelsize=6)
    return _save(fig, path)


def group_boxplots(per_subject: Any, path: str | Path) -> Path:
    d = per_subject[per_subject.predictor == "model"]
    targets = list(dict.fromkeys(d["target"]))
    fig, axes = _grid(len(targets), width=2.2)
    for ax, t in zip(axes, targets, strict=False):
        groups = [(REARFOOT_STRIKE, "RFS"), (NON_REARFOOT, "NRFS")]
        data = [d[(d.target == t) & (d.group == g)]["true_mpa"].to_numpy() for g, _ in groups]
        box = ax.boxplot(data, patch_artist=True)
        ax.set_xticks([1, 2], [lbl for _, lbl in groups])
        for patch, (g, _) in zip(box["boxes"], groups, strict=True):
            patch.set_facecolor(COLORS[g])
            patch.set_alpha(0.6)
        ax.set_title(_short(t), fontsize=8)
        ax.set_ylabel("FE stress (MPa)", fontsize=7)
        ax.tick_params(labelsize=6)
    return _save(fig, path)


def importance_bars(importance: Any, path: str | Path) -> Path:
    plt = _plt()
    g = importance.groupby("permuted", sort=False)["importance"]
    mean, sd = g.mean(), g.std(ddof=1).fillna(0.0)
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.bar(mean.index, 100 * mean.to_numpy(), yerr=100 * sd.to_numpy(), color="#1f77b4", alpha=0.7)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_ylabel("RMSE increase when permuted (%)\nmean +- SD over targets")
    return _save(fig, path)


def attention_curve(attention: Any, path: str | Path, samples_per_phase: int = 100) -> Path:
    plt = _plt()
    w = attention.groupby("sample")["weight"].agg(["mean", "std"])
    x = w.index.to_numpy()
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    ax.plot(x, w["mean"], color="#1f77b4")
    ax.fill_between(x, w["mean"] - w["std"].fillna(0), w["mean"] + w["std"].fillna(0), alpha=0.25)
    for k in (1, 2):
        ax.axvline(k * samples_per_phase, color="k", ls=":", lw=0.8)
    ax.set_xlabel("sample (initial contact | mid-stance | push-off)")
    ax.set_ylabel("attention weight")
    return _save(fig, path)


def all_figures(pred: Any, per_subject: Any, out_dir: str | Path, importance: Any = None,
                attention: Any = None) -> dict[str, Path]:  # fmt: skip
    """Every figure of a run into ``out_dir``; returns {name: path}."""
    out = Path(out_dir)
    figs = {
        "mape_violins": mape_violins(per_subject, out / "mape_violins.png"),
        "correlation": correlation_grid(pred, out / "correlation.png"),
        "bland_altman": bland_altman_grid(pred, out / "bland_altman.png"),
        "groups": group_boxplots(per_subject, out / "groups.png"),
    }
    if importance is not None and len(importance):
        figs["importance"] = importance_bars(importance, out / "importance.png")
    if attention is not None and len(attention):
        figs["attention"] = attention_curve(attention, out / "attention.png")
    return figs
