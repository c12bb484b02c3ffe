"""The twin stages: ``footdt predict`` on the new runner's recording (the same calls the command
makes: load the run, read and check the recording, detect strides, predict with intervals, OOD
flags and the damage index), then the new runner's own FE labels as the truth to compare with."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from footdt.demo.ui import DemoUi
from footdt.twin.intervals import Method

LEVEL = 0.9
METHOD: Method = "cv+"


def predict_command(run: Path, csv: Path, static: dict[str, float], out: Path) -> str:
    """The ``footdt predict`` command line that makes the same prediction."""
    args = ["footdt", "predict", str(run), str(csv), "--side", "right",
            *(a for k, v in static.items() for a in ("--static", f"{k}={v:g}")),
            "--level", f"{LEVEL:g}", "--method", METHOD, "--out", str(out), "--plot"]  # fmt: skip
    return shlex.join(args)


def predict_new_runner(
    run: Path, csv: Path, static_all: dict[str, float], out: Path, ui: DemoUi
) -> dict[str, Any]:
    """Predict every stride of ``csv``; write ``out`` (CSV), its PNG and ``.json`` (the
    ``footdt predict --json`` payload); return that payload plus the command line."""
    from footdt.demo.learn import quiet_tensorflow

    quiet_tensorflow()
    from footdt.learn.rundir import write_csv
    from footdt.twin.output import plot_prediction, prediction_frame, summary_payload
    from footdt.twin.predict import load_twin, predict_recording, read_for_twin, resolve_side

    with ui.bar("loading the run's networks") as update:
        twin = load_twin(run, progress=lambda i, n, _w: update(i, total=n))
    static = {k: float(static_all[k]) for k in twin.user_static}
    rec, resampled = read_for_twin(twin, csv, side="right")
    rec, events, issues, how = resolve_side(rec, "right", twin)
    meta = {"side": rec.side, "side_source": how, "mirrored": rec.mirrored, "rate_hz": rec.rate_hz,
            "resampled_from_hz": resampled, "n_detected": len(events.strides),
            "issues": [i.as_dict() for i in issues]}  # fmt: skip
    with ui.spinner(f"predicting {len(events.strides)} strides"):
        p = predict_recording(twin, rec, events, static=static, level=LEVEL, method=METHOD,
                              meta=meta)  # fmt: skip
    png = out.with_suffix(".png")
    plot_prediction(p, png)
    write_csv(out, prediction_frame(p))
    payload = {**summary_payload(twin, p), "out": str(out), "plot": str(png),
               "command": predict_command(run, csv, static, out)}  # fmt: skip
    out.with_suffix(".json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    return payload


def compare_with_fe(prediction: dict[str, Any], labels: dict[str, float]) -> dict[str, Any]:
    """Recording-level prediction and interval vs the FE label of each target (MPa)."""
    rows, covered = [], 0
    for t in prediction["targets"]:
        if t["target"] not in labels:
            continue
        y = labels[t["target"]]
        lo = -float("inf") if t["lower_mpa"] is None else t["lower_mpa"]
        hi = float("inf") if t["upper_mpa"] is None else t["upper_mpa"]
        inside = lo <= y <= hi
        covered += inside
        rows.append({"target": t["target"], "fe_mpa": y, "pred_mpa": t["recording_mpa"],
                     "lower_mpa": t["lower_mpa"], "upper_mpa": t["upper_mpa"],
                     "error_mpa": t["recording_mpa"] - y, "inside": inside})  # fmt: skip
    return {"n_targets": len(rows), "n_inside": covered, "level": prediction["interval"]["level"],
            "targets": rows}  # fmt: skip
