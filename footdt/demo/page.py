"""The demo's HTML report: one self-contained page from the stages' summaries. Order: what ran,
the cohort, the FE models (stress pictures), the labels, the learned model against the
baselines (``footdt.evaluate.report.run_sections``: Table 1, Bland-Altman, RFS vs NRFS), the
twin on a new runner, and the closed-form checks."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from footdt.evaluate.report import img_html, page_html, run_sections, table_html


def _f(x: float | None, fmt: str = ".2f") -> str:
    return "∞" if x is None else format(x, fmt)


def _ms(v: list[float], fmt: str = ".1f") -> str:
    return f"{v[0]:{fmt}} ± {v[1]:{fmt}}"


def cohort_section(s: dict[str, Any], figure: Path | None) -> list[str]:
    c, sel = s["cohort"], s["selected"]
    head = ["runners", "rearfoot / non-rearfoot", "trials", "body mass (kg)", "height (m)",
            "foot length (mm)", "runners with FE labels"]  # fmt: skip
    body = [[str(c["n_runners"]), f"{c['n_rearfoot']} / {c['n_non_rearfoot']}", str(c["n_trials"]),
             _ms(c["body_mass_kg"]), _ms(c["height_m"], ".2f"), _ms(c["foot_length_mm"]),
             f"{len(sel['runners'])} ({sel['n_trials']} trials)"]]  # fmt: skip
    parts = ["<h2>1. The synthetic cohort</h2>",
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
    parts = ["<h2>2. Finite-element models (SfePy)</h2>",
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
    return ["<h2>3. Labels: the paper's 28 targets</h2>",
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
                     f"{t['recording_mpa']:.2f} [{_f(t['lower_mpa'])}, {_f(t['upper_mpa'])}]",
                     "" if f is None else f"{f['fe_mpa']:.2f}",
                     "" if f is None else ("yes" if f["inside"] else "NO"),
                     f"{100 * t['ood_fraction']:.0f} %", f"{t['damage_index']:.3g}"])  # fmt: skip
    i = pred["interval"]
    truth = ("" if check is None else
             f" Its own FE solve puts the label inside the {pct} % interval for "
             f"<b>{check['n_inside']} of {check['n_targets']}</b> targets (one runner: an "
             "illustration, not a coverage test; tests/twin/test_coverage.py measures coverage).")  # fmt: skip
    return [
        "<h2>5. The twin on a new runner</h2>",
        f"<p>Runner {html.escape(new['id'])} ({new['group'].replace('_', '-')} striker, "
        f"{new['body_mass_kg']:.1f} kg) was drawn from the same cohort spec with another seed: the "
        f"run never saw it. Its recording ({html.escape(new['recording']['csv'])}, "
        f"{new['recording']['duration_s']:.1f} s at {new['recording']['rate_hz']:g} Hz) went through "
        f"<code>{html.escape(pred['command'])}</code>: {pred['n_strides']} strides, intervals "
        f"{i['method']} calibrated on {i['n_calibration_trials']} held-out trials of "
        f"{i['n_calibration_subjects']} runners, {pred['ood']['n_flagged']} strides flagged as outside "
        f"the training strides.{truth}</p>",
        table_html(head, body),
        *([] if figure is None else [img_html(figure, "recording-level predictions and intervals", 3)]),
        "<p>Damage index = Σ over strides of (σ / σ<sub>ref</sub>)<sup>b</sup>, b = "
        f"{pred['damage'][0]['exponent']:g}, σ<sub>ref</sub> the cohort's median labelled stress of the "
        "bone: a relative index in typical-cohort strides, not a fracture risk (docs/predict.md).</p>",
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
        "<h2>6. Closed-form checks of the solvers</h2>",
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
        f"<p>{summary['cohort']['n_runners']} synthetic runners → FE models at {o['size_mm']:g} mm "
        f"(SfePy) → per-bone von Mises labels → {html.escape(lr['architecture'])} network and three "
        "baselines, leave-one-subject-out → <code>footdt predict</code> on a new runner. Synthetic "
        "data throughout: these numbers check the method, they do not replicate the paper "
        "(docs/reproduce.md).</p>",
        *cohort_section(summary, cohort_figure),
        *fe_section(summary["fe"], summary["pictures"], o["size_mm"], summary.get("foot_model", "")),
        *labels_section(summary["labels"], summary["peak_stat"]),
        f"<h2>4. Learning: {html.escape(lr['architecture'])} against the baselines</h2>",
        *run_sections(run_dir, level=3, summary=eval_summary),
        *twin_section(summary["new_runner"], summary["prediction"], summary.get("fe_check"),
                      twin_figure),
    ]  # fmt: skip
    if summary.get("verification"):
        parts += verification_section(summary["verification"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page_html("footdt demo", parts), encoding="utf-8")
    return out
