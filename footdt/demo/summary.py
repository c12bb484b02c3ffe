"""The demo's summary in the terminal: stage times, the model against the baselines, the new
runner's prediction beside its own FE labels, and where everything was written."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from footdt.domain import short_target


def _iv(lo: float | None, hi: float | None) -> str:
    return f"[{'-inf' if lo is None else f'{lo:.2f}'}, {'inf' if hi is None else f'{hi:.2f}'}]"


def stages_table(s: dict[str, Any]) -> Table:
    t = Table(title=f"footdt demo: {s['wall_time_s']:.0f} s in all", title_justify="left",
              box=box.SIMPLE)  # fmt: skip
    for col in ("stage", "status", "time (s)"):
        t.add_column(col, justify="right" if col == "time (s)" else "left")
    for r in s["stages"]:
        t.add_row(r["stage"], r["status"].replace("_", " "), f"{r['wall_time_s']:.1f}")
    return t


def learning_table(s: dict[str, Any]) -> Table:
    e, lr = s["evaluation"], s["learning"]
    t = Table(title=f"learning: {lr['architecture']} vs baselines, LOSO over {e['n_subjects']} "
                    f"runners ({e['n_trials']} trials), {e['n_targets']} targets", title_justify="left",
              box=box.SIMPLE)  # fmt: skip
    for col in ("predictor", "median per-target RMSE (MPa)", "model beats it on"):
        t.add_column(col, justify="left" if col == "predictor" else "right")
    for pr, rmse in e["median_target_rmse_mpa"].items():
        wins = "" if pr == "model" else f"{e['model_beats'][pr]} of {e['n_targets']}"
        t.add_row(pr, "-" if rmse is None else f"{rmse:.3f}", wins)
    return t


def prediction_table(s: dict[str, Any]) -> Table:
    pred, new = s["prediction"], s["new_runner"]
    fe = {r["target"]: r for r in (s.get("fe_check") or {}).get("targets", [])}
    pct = round(100 * pred["interval"]["level"])
    t = Table(title=f"new runner {new['id']} ({new['group']}, {new['body_mass_kg']:.1f} kg, not in "
                    f"training): {pred['n_strides']} strides; MPa", title_justify="left", box=box.SIMPLE)  # fmt: skip
    for col in ("target", "predicted", f"{pct} % interval", "FE", "inside"):
        t.add_column(col, justify="left" if col == "target" else "right", no_wrap=True)
    for r in pred["targets"]:
        f = fe.get(r["target"])
        t.add_row(short_target(r["target"]), f"{r['recording_mpa']:.2f}",
                  _iv(r["lower_mpa"], r["upper_mpa"]), "" if f is None else f"{f['fe_mpa']:.2f}",
                  "" if f is None else ("yes" if f["inside"] else "[red]no[/]"))  # fmt: skip
    return t


def damage_line(pred: dict[str, Any]) -> str:
    d = pred["damage"]
    bones = ", ".join(f"{x['bone']} {x['damage_index']:.3g}" for x in d)
    return (
        f"damage index over {pred['n_strides']} strides (sum of (sigma/sigma_ref)^"
        f"{d[0]['exponent']:g}; 1 = one typical cohort stride, a relative index): {bones}"
    )


def verdict_line(s: dict[str, Any]) -> str:
    """The demo's answer in one line: on how many targets the twin beats body mass (and ridge on
    IMU + body mass), and the median per-target RMSE of each."""
    e = s["evaluation"]
    n, beats, rmse = e["n_targets"], e["model_beats"], e["median_target_rmse_mpa"]
    line = (
        f"verdict: the twin beats body mass alone on {beats['body_mass']} of {n} targets"
        + (
            f" and ridge on IMU + body mass on {beats['ridge_mass']} of {n}"
            if "ridge_mass" in beats
            else ""
        )
        + f"; median target RMSE {rmse['model']:.3f} MPa (body mass {rmse['body_mass']:.3f}"
    )
    if rmse.get("ridge_mass") is not None:
        line += f", ridge IMU + mass {rmse['ridge_mass']:.3f}"
    return line + ")"  # fmt: skip


def print_summary(console: Console, s: dict[str, Any]) -> None:
    console.print(stages_table(s))
    c, fe = s["cohort"], s["fe"]
    console.print(
        f"cohort: {c['n_runners']} runners ({c['n_rearfoot']} rearfoot, {c['n_non_rearfoot']} "
        f"non-rearfoot) x {c['n_trials'] // max(c['n_runners'], 1)} trials; FE: "
        f"{fe['counts']['done'] + fe['counts']['up_to_date']} of {fe['n_trials']} trials solved, "
        f"{len(fe['failed'])} failed; {len(s['selected']['runners'])} runners learned from",
        highlight=False,
    )  # fmt: skip
    console.print(learning_table(s))
    console.print(f"[bold]{escape(s['evaluation'].get('verdict') or verdict_line(s))}[/]")
    e = s["evaluation"]
    if e["model_beats"]["body_mass"] <= e["n_targets"] / 2:
        console.print("[bold]The model does not beat body mass alone on most targets: it has not "
                      "shown that it uses the accelerometers[/] (see docs/learning.md).")  # fmt: skip
    console.print(prediction_table(s))
    pred = s["prediction"]
    console.print(f"{pred['ood']['n_flagged']} of {pred['n_strides']} strides outside the training "
                  f"strides (OOD); {damage_line(pred)}", highlight=False)  # fmt: skip
    chk = s.get("fe_check")
    if chk is not None:
        console.print(f"the new runner's own FE labels lie inside the {round(100 * chk['level'])} % "
                      f"intervals for {chk['n_inside']} of {chk['n_targets']} targets (one runner: "
                      "an illustration, not a coverage test)", highlight=False)  # fmt: skip
    console.print(
        f"report: {s['report']}\nsummary: {s['summary_file']}\npredict it yourself: "
        f"{s['prediction']['command']}",
        highlight=False, soft_wrap=True,
    )  # fmt: skip
