"""Evaluate a run directory: metrics per predictor and target, baseline comparison, group
statistics, permutation importance. Writes ``RUN/evaluation/`` and returns a JSON-ready summary.

Files: ``metrics.csv`` (pooled metrics and per-subject RMSE/MAPE mean and SD per predictor and
target), ``subject_metrics.csv``, ``table1.csv`` / ``table1.md`` (the paper's Table 1 with the
baselines side by side), ``groups.csv`` (RFS vs NRFS), ``importance.csv``, ``summary.json``.

A target counts as "model beats X" when the model's mean per-subject RMSE is below X's; the
two-sided Wilcoxon signed-rank p of the per-subject RMSE pairs is reported beside it, and its
Holm-adjusted value over the targets (one family per baseline: the claim "the model beats X on
target t" is made for every target at once). ``model_beats_significant`` counts the targets
where the model is better and the adjusted p is below 0.05.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from footdt.evaluate.metrics import metrics_table, subject_metrics
from footdt.evaluate.stats import ALPHA, adjust_p, group_comparisons, paired_wilcoxon
from footdt.learn.baselines import BASELINES
from footdt.learn.rundir import read_run, write_csv, write_json

MODEL = "model"


def _nan_none(v: Any) -> Any:
    return None if isinstance(v, float) and not np.isfinite(v) else v


def baseline_comparison(per_subject: Any, targets: list[str]) -> Any:
    """Per target and baseline: model and baseline mean per-subject RMSE, win flag, paired p."""
    import pandas as pd

    rows = []
    for target in targets:
        m = per_subject[(per_subject.predictor == MODEL) & (per_subject.target == target)]
        m = m.set_index("subject")["rmse"]
        for base in BASELINES:
            b = per_subject[(per_subject.predictor == base) & (per_subject.target == target)]
            b = b.set_index("subject")["rmse"].reindex(m.index)
            rows.append({"target": target, "baseline": base, "model_rmse": float(m.mean()),
                         "baseline_rmse": float(b.mean()), "model_better": bool(m.mean() < b.mean()),
                         "p_wilcoxon": paired_wilcoxon(m.to_numpy(), b.to_numpy())})  # fmt: skip
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["p_holm"] = np.nan
    for base in BASELINES:
        sel = df.baseline == base
        df.loc[sel, "p_holm"] = adjust_p(df.loc[sel, "p_wilcoxon"], "holm")
    df["significant"] = df.model_better & (df.p_holm < ALPHA)
    return df


def evaluate_run(run_dir: str | Path, *, write: bool = True) -> dict[str, Any]:
    """Evaluate ``run_dir`` (see the module docstring); return the summary dict (stable keys)."""
    from footdt.evaluate.report import table1
    from footdt.learn.interpret import importance_table

    data = read_run(run_dir)
    pred = data.predictions
    targets = list(dict.fromkeys(pred["target"]))
    metrics = metrics_table(pred)
    per_subject = subject_metrics(pred)
    comparison = baseline_comparison(per_subject, targets)
    groups = group_comparisons(per_subject, MODEL)
    importance = None
    if data.permutation is not None and len(data.permutation):
        importance = importance_table(data.permutation, pred[pred.predictor == MODEL])
    t1 = table1(metrics, comparison, targets)
    out = Path(run_dir) / "evaluation"
    run = data.run
    wins = {b: int(comparison[(comparison.baseline == b)].model_better.sum()) for b in BASELINES}
    summary: dict[str, Any] = {
        "run": str(run_dir),
        "experiment": run["experiment"],
        "architecture": run["architecture"],
        "domain_adaptation": run["domain_adaptation"],
        "tuned": run["tuned"],
        "n_subjects": int(pred["subject"].nunique()),
        "n_trials": int(pred.groupby(["subject", "trial"]).ngroups),
        "partial": bool(run.get("partial", False)),
        "n_targets": len(targets),
        "model_beats": wins,
        "model_beats_significant": {
            b: int(comparison[comparison.baseline == b].significant.sum()) for b in BASELINES
        },
        "p_correction": {"baselines": "holm", "groups": "fdr_bh"},
        "targets": [],
        "groups": [{k: _nan_none(v) for k, v in r.items()} for r in groups.to_dict("records")],
        "importance": [] if importance is None else [
            {"permuted": g, "importance_mean": float(d["importance"].mean())}
            for g, d in importance.groupby("permuted", sort=False)
        ],
    }  # fmt: skip
    for target in targets:
        entry: dict[str, Any] = {"target": target}
        for predictor in (MODEL, *BASELINES):
            row = metrics[(metrics.predictor == predictor) & (metrics.target == target)]
            if len(row):
                entry[predictor] = {k: _nan_none(float(v)) for k, v in row.iloc[0].items()
                                    if k not in ("predictor", "target")}  # fmt: skip
        for base in BASELINES:
            c = comparison[(comparison.target == target) & (comparison.baseline == base)].iloc[0]
            entry[f"beats_{base}"] = bool(c.model_better)
            entry[f"p_vs_{base}"] = _nan_none(float(c.p_wilcoxon))
            entry[f"p_holm_vs_{base}"] = _nan_none(float(c.p_holm))
        summary["targets"].append(entry)
    if write:
        write_csv(out / "metrics.csv", metrics)
        write_csv(out / "subject_metrics.csv", per_subject)
        write_csv(out / "baseline_comparison.csv", comparison)
        write_csv(out / "groups.csv", groups)
        write_csv(out / "table1.csv", t1)
        from footdt.evaluate.report import table1_markdown

        md = table1_markdown(t1, run)
        (out / "table1.md").write_text(md)
        if importance is not None:
            write_csv(out / "importance.csv", importance)
        write_json(out / "summary.json", summary)
    return summary
