"""Table 1 (CSV and Markdown) with the baselines side by side, and a one-page HTML report.

The report names the domain-adaptation mode at the top and puts the comparison with the
baselines before anything else: a model that does not beat the body-mass-scaled training mean
has not shown that it uses the IMU (DESIGN.md "Learning, honestly").
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np

from footdt.learn.baselines import BASELINES

DA_TEXT = {
    "none": "none",
    "transductive": "TRANSDUCTIVE: the held-out subject's unlabelled IMU was used during training "
    "(its labels were not)",
    "inductive": "inductive: domains among the training subjects only",
}


def table1(metrics: Any, comparison: Any, targets: list[str]) -> Any:
    """One row per target: model RMSE/MAPE (mean and SD over subjects), r, baselines' RMSE,
    whether the model beats the body-mass baseline (with the paired Wilcoxon p), best predictor."""
    import pandas as pd

    rows = []
    for t in targets:
        row: dict[str, Any] = {"target": t}
        for pr in ("model", *BASELINES):
            m = metrics[(metrics.predictor == pr) & (metrics.target == t)]
            if not len(m):
                continue
            m = m.iloc[0]
            row[f"{pr}_rmse_mean"] = m.rmse_subject_mean
            row[f"{pr}_rmse_sd"] = m.rmse_subject_sd
            row[f"{pr}_mape_mean"] = m.mape_subject_mean
            row[f"{pr}_r"] = m.r
        row["n_subjects"] = int(
            metrics[(metrics.predictor == "model") & (metrics.target == t)].n_subjects.iloc[0]
        )
        c = comparison[(comparison.target == t) & (comparison.baseline == "body_mass")].iloc[0]
        row["beats_body_mass"] = bool(c.model_better)
        row["p_vs_body_mass"] = float(c.p_wilcoxon)
        row["p_holm_vs_body_mass"] = float(c.p_holm) if "p_holm" in c else float("nan")
        rmses = {pr: row.get(f"{pr}_rmse_mean", np.inf) for pr in ("model", *BASELINES)}
        row["best"] = min(rmses, key=lambda k: rmses[k])
        rows.append(row)
    return pd.DataFrame(rows)


def _pm(mean: float, sd: float) -> str:
    return f"{mean:.2f} ± {sd:.2f}" if np.isfinite(sd) else f"{mean:.2f}"


def _p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else ("<0.001" if p < 0.001 else f"{p:.3f}")


def table1_rows(t1: Any) -> tuple[list[str], list[list[str]]]:
    head = ["target", "model RMSE (MPa)", "model MAPE (%)", "model r", "mean RMSE",
            "body-mass RMSE", "ridge RMSE", "vs body mass: lower RMSE?",
            "p (Wilcoxon; Holm)", "best"]  # fmt: skip
    body = []
    for r in t1.itertuples():
        holm = getattr(r, "p_holm_vs_body_mass", float("nan"))
        body.append([
            r.target, _pm(r.model_rmse_mean, r.model_rmse_sd), f"{r.model_mape_mean:.1f}",
            f"{r.model_r:.2f}", _pm(r.mean_rmse_mean, r.mean_rmse_sd),
            _pm(r.body_mass_rmse_mean, r.body_mass_rmse_sd), _pm(r.ridge_rmse_mean, r.ridge_rmse_sd),
            beats_cell(bool(r.beats_body_mass), holm), f"{_p(r.p_vs_body_mass)}; {_p(holm)}", r.best,
        ])  # fmt: skip
    return head, body


def beats_cell(better: bool, p_holm: float, alpha: float = 0.05) -> str:
    """``yes, significant`` / ``yes, not significant`` / ``NO``: a lower mean RMSE alone is not
    a result unless its Holm-adjusted paired p is below ``alpha``."""
    if not better:
        return "NO"
    return "yes, significant" if np.isfinite(p_holm) and p_holm < alpha else "yes, not significant"


def table1_markdown(t1: Any, run: dict[str, Any]) -> str:
    head, body = table1_rows(t1)
    wins = int(t1.beats_body_mass.sum())
    holm = t1["p_holm_vs_body_mass"] if "p_holm_vs_body_mass" in t1 else np.full(len(t1), np.nan)
    sig = int((t1.beats_body_mass & (np.asarray(holm) < 0.05)).sum())
    lines = [
        f"Experiment `{run['experiment']}`: {run['architecture']}, domain adaptation "
        f"{run['domain_adaptation']}, {int(t1.n_subjects.max())} held-out subjects, "
        f"leave-one-subject-out{' (PARTIAL run)' if run.get('partial') else ''}.",
        f"RMSE: mean ± SD over subjects. The model has a lower RMSE than the body-mass baseline on "
        f"{wins} of {len(t1)} targets, significantly (paired Wilcoxon, Holm-adjusted p < 0.05 over "
        f"the {len(t1)} targets) on {sig} of them.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
        *("| " + " | ".join(r) + " |" for r in body),
    ]
    return "\n".join(lines) + "\n"


def img_html(path: Path, title: str, level: int = 3) -> str:
    """A heading and the PNG at ``path`` embedded as base64 (the page stays one file)."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    t = html.escape(title)
    return f'<h{level}>{t}</h{level}><img alt="{t}" src="data:image/png;base64,{data}">'


def table_html(head: list[str], body: list[list[str]]) -> str:
    """An HTML table; cells starting with ``NO`` are marked bad (red)."""
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join(
        "<tr>" + "".join(f'<td class="{"bad" if c.startswith("NO") else ""}">{html.escape(c)}</td>' for c in r) + "</tr>"
        for r in body
    )  # fmt: skip
    return f"<table><tr>{th}</tr>{trs}</table>"


STYLE = ("body{font-family:sans-serif;max-width:1400px;margin:auto}table{border-collapse:collapse;font-size:12px}"
         "td,th{border:1px solid #ccc;padding:2px 6px}.bad{color:#a00}.box{border:2px solid;padding:8px;margin:8px 0}"
         ".ok{border-color:#2a2}.box.bad{border-color:#a00}.da{font-size:18px}img{max-width:100%}")  # fmt: skip


def page_html(title: str, parts: list[str]) -> str:
    """One self-contained HTML page of ``parts`` (HTML fragments)."""
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>" \
           f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>"  # fmt: skip


def run_sections(
    run_dir: str | Path, level: int = 2, summary: dict[str, Any] | None = None
) -> list[str]:
    """The HTML fragments of a run's report: the domain-adaptation mode, the baseline verdict,
    Table 1, the figures (Bland-Altman among them) and the rearfoot vs non-rearfoot statistics.
    The run is evaluated first unless ``summary`` (``evaluate_run``'s, files written) is given.
    Headings start at ``<h{level}>``."""
    import pandas as pd

    from footdt.evaluate.figures import all_figures
    from footdt.evaluate.run import evaluate_run
    from footdt.learn.rundir import read_run

    d = Path(run_dir)
    if summary is None:
        summary = evaluate_run(d)
    data = read_run(d)
    ev = d / "evaluation"
    per_subject = pd.read_csv(ev / "subject_metrics.csv", dtype={"subject": str})
    t1 = pd.read_csv(ev / "table1.csv")
    importance = pd.read_csv(ev / "importance.csv") if (ev / "importance.csv").is_file() else None
    figs = all_figures(data.predictions, per_subject, ev / "figures", importance, data.attention)
    run = data.run
    k = summary["n_targets"]
    wins = summary["model_beats"]
    sig = summary.get("model_beats_significant")
    if sig is None and (ev / "summary.json").is_file():  # a caller's summary without the key
        import json

        sig = json.loads((ev / "summary.json").read_text()).get("model_beats_significant")

    def sig_text(base: str) -> str:
        return "" if not sig else f" ({sig.get(base, 0)} significantly)"

    verdict_ok = wins["body_mass"] > k / 2
    head, body = table1_rows(t1)
    groups = pd.read_csv(ev / "groups.csv")
    g_head = [
        "target",
        "quantity",
        "test",
        "p",
        "p (BH FDR)",
        "significant",
        "mean RFS",
        "mean NRFS",
    ]
    g_body = [[r.target, r.quantity, r.test, _p(r.p_value), _p(getattr(r, "p_adjusted", np.nan)),
               "yes" if r.significant else "no", f"{r.mean_a:.3g}", f"{r.mean_b:.3g}"]
              for r in groups.itertuples()]  # fmt: skip
    n_sig = int(groups.significant.sum()) if len(groups) else 0
    partial = (
        '<p class="bad">PARTIAL RUN: not every subject was held out.</p>'
        if run.get("partial")
        else ""
    )
    h = f"h{level}"
    return [
        f'<p class="da">Domain adaptation: <b>{html.escape(DA_TEXT[run["domain_adaptation"]])}</b></p>',
        partial,
        f'<div class="{"ok" if verdict_ok else "bad"} box"><{h}>Baselines first</{h}>'
        f"<p>The model has a lower mean per-subject RMSE than the <b>body-mass-scaled training mean</b> "
        f"on <b>{wins['body_mass']} of {k}</b> targets{sig_text('body_mass')}, the "
        f"ridge regression on simple IMU features on {wins['ridge']} of {k}{sig_text('ridge')}, and the "
        f"training mean on {wins['mean']} of {k}{sig_text('mean')}. "
        "Significantly: paired Wilcoxon signed-rank test on the per-subject RMSEs, "
        f"Holm-adjusted over the {k} targets, p &lt; 0.05; a lower RMSE with a larger p may be "
        "chance.</p>"
        + ("" if verdict_ok else "<p><b>On most targets the model does not beat body mass alone: it has "
           "not shown that it uses the IMU signal.</b></p>")
        + "</div>",
        f"<p>{summary['n_subjects']} held-out subjects, {summary['n_trials']} trials, leave-one-subject-out; "
        f"hyperparameters {'tuned by Optuna inside each training fold' if run['tuned'] else 'fixed by the spec'}; "
        f"seeds {run['seeds']}; labels from {html.escape(run['label_backend'])} (peak = {run['peak_stat']}); "
        f"inputs {', '.join(run['channels'])}{' + ' + ', '.join(run['static']) if run['static'] else ''}.</p>",
        f"<{h}>Table 1: accuracy per target (RMSE mean ± SD over subjects)</{h}>",
        table_html(head, body),
        *(img_html(p, name.replace("_", " "), level + 1) for name, p in figs.items()),
        f"<{h}>Rearfoot vs non-rearfoot strikers</{h}>",
        f"<p>{len(groups)} tests (true stress and the model's per-subject MAPE, per target): "
        "Shapiro-Wilk decides between Welch's t-test and the Wilcoxon rank-sum test; with this many "
        "tests some come out below 0.05 by chance, so significance is judged on p adjusted for the "
        f"false discovery rate (Benjamini-Hochberg, over all {len(groups)}): {n_sig} significant.</p>",
        table_html(g_head, g_body),
        f"<{h}>Versions</{h}><pre>" + html.escape("\n".join(f"{a}: {b}" for a, b in run["versions"].items())) + "</pre>",
    ]  # fmt: skip


def html_report(run_dir: str | Path, out: str | Path) -> Path:
    """Evaluate ``run_dir`` (if needed), draw the figures and write one self-contained HTML page."""
    from footdt.learn.rundir import read_run

    run = read_run(run_dir).run
    title = f"footdt run: {run['experiment']} ({run['architecture']})"
    parts = [f"<h1>{html.escape(title)}</h1>", *run_sections(run_dir)]
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(page_html(f"footdt {run['experiment']}", parts), encoding="utf-8")
    return p
