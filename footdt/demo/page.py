"""The demo's HTML report: one self-contained page from the stages' summaries. It opens with the
verdict (does the network beat body mass alone? from ``summary["evaluation"]``: ``model_beats``
and ``median_target_rmse_mpa``) and a table of contents; then what ran, the cohort, the FE
models (stress pictures), the labels, the learned model against the baselines
(``footdt.evaluate.report.run_sections``: Table 1, Bland-Altman, RFS vs NRFS), the twin on a new
runner (intervals floored at 0 MPa, the damage index explained beside its numbers), and the
closed-form checks."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from footdt.evaluate.report import img_html, page_html, run_sections, table_html


def _f(x: float | None, fmt: str = ".2f") -> str:
    return "∞" if x is None else format(x, fmt)


def _lo(x: float | None) -> str:
    """A lower interval bound: von Mises stress is never negative, so an unbounded one is 0."""
    return format(0.0 if x is None else max(x, 0.0), ".2f")


#: Section anchors and titles, in page order (the table of contents).
SECTIONS = (("cohort", "1. The synthetic cohort"), ("fe", "2. Finite-element models"),
            ("labels", "3. Labels: the paper's 28 targets"), ("learning", "4. Learning"),
            ("twin", "5. The twin on a new runner"), ("checks", "6. Closed-form checks of the solvers"))  # fmt: skip


def _h2(key: str, title: str | None = None) -> str:
    return f'<h2 id="{key}">{html.escape(title or dict(SECTIONS)[key])}</h2>'


def verdict_section(
    summary: dict[str, Any], eval_summary: dict[str, Any], run_dir: Path
) -> list[str]:
    """The answer first: does the network beat body mass alone, how often significantly, the
    median per-target RMSE of each predictor, and how the new runner's truth fell."""
    import json

    e = summary.get("evaluation") or eval_summary
    k = int(e["n_targets"])
    wins = e["model_beats"]
    sig = e.get("model_beats_significant") or eval_summary.get("model_beats_significant")
    if sig is None and (run_dir / "evaluation" / "summary.json").is_file():
        sig = json.loads((run_dir / "evaluation" / "summary.json").read_text()).get(
            "model_beats_significant"
        )
    arch = html.escape(summary.get("learning", {}).get("architecture", "the"))
    ok = wins["body_mass"] > k / 2
    n_sig = "" if not sig else f", significantly on <b>{sig['body_mass']}</b>"
    lines = [
        f"<p><b>The {arch} network {'beats' if ok else 'does NOT beat'} body mass alone.</b> Its "
        f"mean per-subject RMSE is lower than that of the body-mass-scaled training mean on "
        f"<b>{wins['body_mass']} of {k}</b> targets{n_sig} (paired Wilcoxon, Holm-adjusted over the "
        f"{k} targets, p &lt; 0.05); it beats the ridge regression on IMU features on "
        f"{wins['ridge']} and the training mean on {wins['mean']}.</p>"
    ]
    rmse = e.get("median_target_rmse_mpa") or {}
    names = {"model": f"{arch} network", "body_mass": "body-mass-scaled mean",
             "ridge": "ridge on IMU features", "mean": "training mean"}  # fmt: skip
    if rmse:
        cells = ", ".join(
            f"{names.get(p, p)} {v:.2f} MPa" for p, v in rmse.items() if v is not None
        )
        lines.append(f"<p>Median over the targets of the mean per-subject RMSE: {cells}.</p>")
    check = summary.get("fe_check")
    if check:
        lines.append(f"<p>On a new runner the FE label fell inside the {round(100 * check['level'])} % "
                     f"interval for {check['n_inside']} of {check['n_targets']} targets "
                     "(<a href='#twin'>section 5</a>).</p>")  # fmt: skip
    lines.append("<p>Synthetic data throughout: this checks the method; it does not replicate the "
                 "paper (docs/reproduce.md).</p>")  # fmt: skip
    toc = "".join(f'<li><a href="#{key}">{html.escape(t)}</a></li>' for key, t in SECTIONS
                  if key != "checks" or summary.get("verification"))  # fmt: skip
    return [f'<div id="verdict" class="{"ok" if ok else "bad"} box"><h2>Verdict</h2>{"".join(lines)}</div>',
            f"<nav><b>Contents</b><ol>{toc}</ol></nav>"]  # fmt: skip


def _ms(v: list[float], fmt: str = ".1f") -> str:
    return f"{v[0]:{fmt}} ± {v[1]:{fmt}}"


def cohort_section(s: dict[str, Any], figure: Path | None) -> list[str]:
    c, sel = s["cohort"], s["selected"]
    head = ["runners", "rearfoot / non-rearfoot", "trials", "body mass (kg)", "height (m)",
            "foot length (mm)", "runners with FE labels"]  # fmt: skip
    body = [[str(c["n_runners"]), f"{c['n_rearfoot']} / {c['n_non_rearfoot']}", str(c["n_trials"]),
             _ms(c["body_mass_kg"]), _ms(c["height_m"], ".2f"), _ms(c["foot_length_mm"]),
             f"{len(sel['runners'])} ({sel['n_trials']} trials)"]]  # fmt: skip
    parts = [_h2("cohort"),
             "<p>Runners drawn from the paper's cohort statistics (docs/cohort.md): anthropometry, "
             "strike pattern, gait, plantar pressure, Achilles force and two accelerometers "
             "(foot dorsum and distal tibia, 100 Hz). Mean ± SD.</p>", table_html(head, body)]  # fmt: skip
    if figure is not None:
        parts.append(img_html(figure, "cohort: anthropometry, plate GRF, mean IMU windows"))
    return parts


FOOT_MODEL = {"personalised": "the template's volume mesh morphed to the runner's measurements "
                               "(shape model + free-form deformation)",
              "template": "the parametric template re-meshed for the runner"}  # fmt: skip


def fe_section(fe: dict[str, Any], pictures: list[dict[str, Any]], size: float,
               foot_model: str = "personalised") -> list[str]:  # fmt: skip
    c = fe["counts"]
    parts = [_h2("fe"),
             f"<p>Every trial's subject spec (the runner's foot: {FOOT_MODEL.get(foot_model, foot_model)}; "
             f"hidden tissue and fascia stiffness; the trial's regional plantar pressures and Achilles "
             f"force per phase) with {size:g} mm elements, solved for the three stance phases: {fe['n_trials']} trials, "
             f"{c['done'] + c['up_to_date']} solved, {c['failed']} failed.</p>"]  # fmt: skip
    if fe["failed"]:
        parts.append("<p>Failed trials are left out of learning:</p>")
        parts.append(table_html(["subject", "trial", "step", "reason"],
                                [[f["subject"], f["trial"], str(f["step"]), f["reason"]] for f in fe["failed"]]))  # fmt: skip
    for p in pictures:
        parts.append(img_html(Path(p["png"]), f"{p['subject']} ({p['group'].replace('_', '-')} striker), "
                              f"{p['phase'].replace('_', ' ')}: von Mises stress of the bones", 3))  # fmt: skip
    return parts


def labels_section(labels: list[dict[str, Any]], peak_stat: str) -> list[str]:
    head = ["target", "trials", "median (MPa)", "min", "max"]
    body = [[r["target"], str(r["n"]), f"{r['median_mpa']:.2f}", f"{r['min_mpa']:.2f}",
             f"{r['max_mpa']:.2f}"] for r in labels]  # fmt: skip
    return [_h2("labels"),
            f"<p>Volume-weighted mean von Mises stress per bone and phase, and the peak as the "
            f"volume-weighted {peak_stat} (the element maximum is not mesh-converged).</p>",
            table_html(head, body)]  # fmt: skip


def twin_section(
    new: dict[str, Any], pred: dict[str, Any], check: dict[str, Any] | None,
    figure: Path | None = None,
) -> list[str]:  # fmt: skip
    fe = {r["target"]: r for r in (check or {}).get("targets", [])}
    pct = round(100 * pred["interval"]["level"])
    head = ["target", "median stride (MPa)", f"recording [{pct} % interval]", "FE label",
            "inside", "OOD strides", "damage index"]  # fmt: skip
    body = []
    for t in pred["targets"]:
        f = fe.get(t["target"])
        body.append([t["target"], f"{t['median_stride_mpa']:.2f}",
                     f"{t['recording_mpa']:.2f} [{_lo(t['lower_mpa'])}, {_f(t['upper_mpa'])}]",
                     "" if f is None else f"{f['fe_mpa']:.2f}",
                     "" if f is None else ("yes" if f["inside"] else "NO"),
                     f"{100 * t['ood_fraction']:.0f} %", f"{t['damage_index']:.3g}"])  # fmt: skip
    i = pred["interval"]
    truth = ("" if check is None else
             f" Its own FE solve puts the label inside the {pct} % interval for "
             f"<b>{check['n_inside']} of {check['n_targets']}</b> targets (one runner: an "
             "illustration, not a coverage test; tests/twin/test_coverage.py measures coverage).")  # fmt: skip
    b = pred["damage"][0]["exponent"]
    worst = max(pred["targets"], key=lambda t: t["damage_index"], default=None)
    n = max(int(pred["n_strides"]), 1)
    example = ""
    if worst is not None and worst["damage_index"] > 0:
        ratio = (worst["damage_index"] / n) ** (1.0 / b)
        example = (f" Here {html.escape(worst['target'].split('.')[1])} reads "
                   f"{worst['damage_index']:.3g} over {n} strides: as if every stride were "
                   f"{ratio:.2f} x σ<sub>ref</sub>, since {ratio:.2f}<sup>{b:g}</sup> x {n} = "
                   f"{ratio**b * n:.3g}.")  # fmt: skip
    damage = ("<p><b>Damage index</b> (last column) = Σ over the strides of (σ / σ<sub>ref</sub>)<sup>b</sup>, "
              f"b = {b:g} (an S-N exponent of bone), σ<sub>ref</sub> the cohort's median labelled stress of "
              f"the bone: the number of typical-cohort strides that would do the same damage. With b = {b:g} "
              f"it grows steeply: a stride at 1.66 x σ<sub>ref</sub> counts as 1.66<sup>{b:g}</sup> = "
              f"{1.66**b:.3g} typical strides.{example} A relative index, not a fracture risk "
              "(docs/predict.md).</p>")  # fmt: skip
    return [
        _h2("twin"),
        f"<p>Runner {html.escape(new['id'])} ({new['group'].replace('_', '-')} striker, "
        f"{new['body_mass_kg']:.1f} kg) was drawn from the same cohort spec with another seed: the "
        f"run never saw it. Its recording ({html.escape(new['recording']['csv'])}, "
        f"{new['recording']['duration_s']:.1f} s at {new['recording']['rate_hz']:g} Hz) went through "
        f"<code>{html.escape(pred['command'])}</code>: {pred['n_strides']} strides, intervals "
        f"{i['method']} calibrated on {i['n_calibration_trials']} held-out trials of "
        f"{i['n_calibration_subjects']} runners, {pred['ood']['n_flagged']} strides flagged as outside "
        f"the training strides.{truth}</p>",
        table_html(head, body),
        f"<p>Intervals: von Mises stress is never negative, so no bound is below 0 MPa; ∞ marks an "
        f"upper bound the {i['n_calibration_trials']} calibration trials cannot support at {pct} %.</p>",
        damage,
        *([] if figure is None else [img_html(figure, "recording-level predictions and intervals", 3)]),
        img_html(Path(pred["plot"]), "per-stride predictions with intervals, cumulative damage", 3),
    ]  # fmt: skip


def verification_section(v: dict[str, Any]) -> list[str]:
    body = [[c["case"], c["backend"], c["quantity"], f"{c['expected']:.6g}", f"{c['measured']:.6g}",
             f"{100 * c['rel_error']:.3f} %"] for c in v["checks"]]  # fmt: skip
    comp = v.get("comparison")
    line = ("" if comp is None else
            f"<p>SfePy vs CalculiX on the same meshes: {comp['n_labels']} labels, largest relative "
            f"difference {_f(comp['worst_rel_diff'], '.2e')} ({'within' if comp['ok'] else 'OUTSIDE'} "
            "tolerance).</p>")  # fmt: skip
    return [
        _h2("checks"),
        table_html(["case", "backend", "quantity", "expected", "footdt", "error"], body),
        line,
    ]


def write_report(summary: dict[str, Any], run_dir: Path, eval_summary: dict[str, Any],
                 cohort_figure: Path | None, out: Path, twin_figure: Path | None = None) -> Path:  # fmt: skip
    """The demo report at ``out`` (HTML, images embedded)."""
    o = summary["options"]
    lr = summary["learning"]
    parts = [
        "<h1>footdt demo: a digital twin of bone stress in runners, end to end</h1>",
        *verdict_section(summary, eval_summary, Path(run_dir)),
        f"<p>{summary['cohort']['n_runners']} synthetic runners → FE models at {o['size_mm']:g} mm "
        f"({html.escape(summary['fe']['backend'])}) → per-bone von Mises labels → "
        f"{html.escape(lr['architecture'])} network and four baselines, leave-one-subject-out → "
        "<code>footdt predict</code> on a new runner. Synthetic "
        "data throughout: these numbers check the method, they do not replicate the paper "
        "(docs/reproduce.md).</p>",
        *cohort_section(summary, cohort_figure),
        *fe_section(summary["fe"], summary["pictures"], o["size_mm"], summary.get("foot_model", "")),
        *labels_section(summary["labels"], summary["peak_stat"]),
        _h2("learning", f"4. Learning: {lr['architecture']} against the baselines"),
        *run_sections(run_dir, level=3, summary=eval_summary),
        *twin_section(summary["new_runner"], summary["prediction"], summary.get("fe_check"),
                      twin_figure),
    ]  # fmt: skip
    if summary.get("verification"):
        parts += verification_section(summary["verification"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page_html("footdt demo", parts), encoding="utf-8")
    return out
