"""Calibration of the synthetic gait against published ranges and real running (docs/cohort.md).

- ``PUBLISHED``: the ranges a cohort must meet, each with its source (tests/cohort/test_calibration.py).
- ``cohort_summary``: from a ``generation.json``: medians of the plate strides' GRF peaks,
  loading rate and Achilles peak, the stride-to-stride CVs, and the correlation of peak tibial
  acceleration with loading rate between runners (runner means) and within runners (strides).
- ``speed_response``: each runner of a cohort spec run at two speeds (its own strides, the same
  hidden factors): medians of contact time, step time, impact and active peaks, loading rate,
  peak tibial acceleration and Achilles peak, and their change from the first speed.
- Real data (not shipped; ``../shared/data``): ``rbds_steps`` (RBDS001 at 2.5 m/s from the text
  files, at 3.5 m/s from ``RBDS001runT35.c3d`` through ``read_c3d``: a small ezc3d reader kept
  here), ``alcantara_steps`` (Alcantara et al. 2022, level trials), ``step_table`` (per-step
  contact and step time, impact and active peaks, loading rate from a vertical GRF in BW).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from footdt.domain import REARFOOT_STRIKE, TIBIA_SENSOR
from footdt.gait.recording import G

#: Published ranges: (low, high, source). Central values of recreational runners at 2.5-4 m/s.
PUBLISHED: dict[str, tuple[float, float, str]] = {
    "active_peak_bw": (2.2, 2.9, "Cavanagh & Lafortune 1980 J Biomech 13:397; Munro et al. 1987 J Biomech 20:147 (2.5-2.8 BW at 3-5 m/s)"),
    "impact_peak_bw_rearfoot": (1.4, 2.1, "Cavanagh & Lafortune 1980; Lieberman et al. 2010 Nature 463:531 (rearfoot strikers, 1.5-2 BW)"),
    "loading_rate_bw_s_rearfoot": (50.0, 110.0, "Lieberman et al. 2010 (shod/barefoot RFS average loading rates ~ 50-100 BW/s); Milner et al. 2006 MSSE 38:323"),
    "achilles_peak_bw": (6.0, 10.0, "Scott & Winter 1990 MSSE 22:357 (6-8 BW); Komi 1990 J Biomech 23:23; rising with speed (Komi 1990, Lai et al. 2014)"),
    "pta_lr_between_r": (0.35, 0.7, "Hennig et al. 1993 (r = 0.6-0.87, group level); Zhang et al. 2016 MSSE 48:1813 / Tenforde et al. 2020 (between-runner r ~0.4-0.7)"),
    "pta_lr_within_r": (0.5, 0.9, "Van den Berghe et al. 2019 MSSE 51:2233 (within-runner stride-level r 0.5-0.9 for most runners)"),
}  # fmt: skip


def _cv(x: Any) -> float:
    v = np.asarray([a for a in x if a is not None], float)
    return float(np.std(v, ddof=1) / np.mean(v)) if len(v) > 2 else float("nan")


def _r(a: Any, b: Any) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return (
        float(np.corrcoef(a, b)[0, 1])
        if len(a) > 2 and a.std() > 0 and b.std() > 0
        else float("nan")
    )


#: The stride record PTA is taken from: the 1 kHz reference tibial accelerometer's peak
#: resultant (``imu.Recording.pta_ref_g``), as the published PTA studies record it; cohorts
#: generated before it was recorded fall back to the 100 Hz sensor's ``peak_tibia_g``.
PTA_KEY = "pta_ref_g"


def pta_loading_rate(subjects: list[dict[str, Any]]) -> dict[str, Any]:
    """Correlation of PTA (``PTA_KEY``) with loading rate over ``subjects`` (a
    ``generation.json``'s, or several cohorts' pooled): between rearfoot runners (runner means),
    between all runners, and within rearfoot runners (stride by stride; median over runners)."""
    within, means = [], []
    key = PTA_KEY
    for s in subjects:
        st = [x for t in s["trials"].values() for x in t["strides"]]
        if not all(PTA_KEY in x for x in st):
            key = "peak_tibia_g"
        pta = [x.get(PTA_KEY, x["peak_tibia_g"]) for x in st]
        lr = [x["loading_rate_bw_s"] for x in st]
        rfs = s["strike_class"] == REARFOOT_STRIKE
        if rfs:
            within.append(_r(pta, lr))
        means.append((float(np.mean(pta)), float(np.mean(lr)), rfs))
    m = np.array(means)
    rfs_means = m[m[:, 2] == 1.0]
    return {
        "pta": key, "n_rearfoot_runners": len(rfs_means),
        # between rearfoot runners, as the published samples and the within-runner r; across all
        # strike types the strike pattern's own PTA and loading-rate shift inflates r
        "between_r": _r(rfs_means[:, 0], rfs_means[:, 1]),
        "between_r_all_strikes": _r(m[:, 0], m[:, 1]),
        "within_r": {"median": float(np.nanmedian(within)), "n_runners": len(within)},
        "pta_rearfoot_g": float(np.median(rfs_means[:, 0])),
    }  # fmt: skip


def cohort_summary(gen: dict[str, Any]) -> dict[str, Any]:
    """Published-range statistics of a generated cohort (units in the keys)."""
    plate = [(s, t) for s in gen["subjects"] for t in s["trials"].values()]
    rfs = [t for s, t in plate if s["strike_class"] == REARFOOT_STRIKE]
    stride_keys = ("impact_peak_bw", "loading_rate_bw_s", "active_peak_bw", "peak_tibia_g", PTA_KEY)  # fmt: skip
    cv: dict[str, list[float]] = {k: [] for k in ("contact_s", "step_s", *stride_keys)}
    for s in gen["subjects"]:
        for t in s["trials"].values():
            for k in ("contact_s", "step_s"):
                cv[k].append(_cv([x[k] for x in t["stride_states"]]))
            for k in stride_keys:
                vals = [x.get(k) for x in t["strides"]]
                if all(v is not None for v in vals):
                    cv[k].append(_cv(vals))
    pta = pta_loading_rate(gen["subjects"])

    def frac(v: list[float], key: str) -> float:
        lo, hi, _ = PUBLISHED[key]
        a = np.asarray([x for x in v if x is not None], float)
        return float(np.mean((a >= lo) & (a <= hi)))

    active = [t["grf_peak_bw"] for _, t in plate]
    impact = [t["impact_peak_bw"] for t in rfs]
    lr_rfs = [t["loading_rate_bw_s"] for t in rfs]
    ach = [t["achilles_peak_bw"] for _, t in plate]
    return {
        "n_runners": len(gen["subjects"]), "n_trials": len(plate), "n_rearfoot_trials": len(rfs),
        "active_peak_bw": {"median": float(np.median(active)), "in_range": frac(active, "active_peak_bw")},
        "impact_peak_bw_rearfoot": {"median": float(np.median([x for x in impact if x is not None])),
                                    "in_range": frac(impact, "impact_peak_bw_rearfoot"),
                                    "with_impact": float(np.mean([x is not None for x in impact]))},
        "loading_rate_bw_s_rearfoot": {"median": float(np.median(lr_rfs)), "in_range": frac(lr_rfs, "loading_rate_bw_s_rearfoot")},
        "achilles_peak_bw": {"median": float(np.median(ach)), "in_range": frac(ach, "achilles_peak_bw")},
        "stride_cv": {k: float(np.nanmedian(v)) if v else float("nan") for k, v in cv.items()},
        "pta": pta["pta"], "pta_rearfoot_g": pta["pta_rearfoot_g"],
        "pta_lr_between_r": pta["between_r"],
        "pta_lr_between_r_all_strikes": pta["between_r_all_strikes"],
        "pta_lr_within_r": pta["within_r"],
    }  # fmt: skip


def achilles_peak_bw(p: Any, model: Any) -> float:
    """Peak Achilles force (BW) of a stance (same mechanics as ``gait.loads``)."""
    from footdt.cohort.stance import ankle_deg, ankle_lever_mm, ap_grf_bw, vertical_grf_bw
    from footdt.gait.achilles import achilles_force_n, plantarflexion_moment_nm

    s = np.linspace(0.0, 1.0, 301)
    bw = p.body_weight_n
    r = ankle_lever_mm(s, p, model.geometry.ankle_mm)
    m = plantarflexion_moment_nm(ap_grf_bw(s, p) * bw, vertical_grf_bw(s, p) * bw, r[:, 0], r[:, 1])
    return float(achilles_force_n(model, m, ankle_deg(s, p)).max() / bw)


def speed_response(spec: Any, speeds: tuple[float, float] = (2.5, 3.5), n_strides: int = 30) -> dict[str, Any]:  # fmt: skip
    """Every runner of ``spec`` at each speed (same runner, same hidden factors, own strides):
    per speed the medians over runners of each runner's median, and the median change."""
    from footdt.cohort.generate import grf_stats, stance_params, stride_peaks_g
    from footdt.cohort.imu import SensorModel, simulate
    from footdt.cohort.runners import draw_runner, strike_classes
    from footdt.cohort.state import stride_states
    from footdt.gait.achilles import FootShankGeometry, GeometricAchillesModel, RunnerAchilles

    sensor = SensorModel(**spec.sensors.model_dump(exclude={"misplacement_deg", "misplacement_mm"}))
    classes = strike_classes(spec)
    per: dict[float, list[dict[str, Any]]] = {v: [] for v in speeds}
    for i in range(spec.n_runners):
        runner = draw_runner(spec, i, classes[i])
        h = runner.hidden
        model = RunnerAchilles(GeometricAchillesModel(FootShankGeometry.for_subject(runner.foot_length_mm, runner.height_m)),
                               h["achilles_moment_arm"], h["cocontraction"])  # fmt: skip
        for v in speeds:
            rng = np.random.default_rng([spec.seed, i, int(v * 100)])
            stances = [
                stance_params(runner, st)
                for st in stride_states(runner.gait, v, n_strides + 2, rng)
            ]
            sim = simulate(stances, runner.mounts, sensor, rng, tibia_roll_deg=h["tibia_roll_deg"],
                           tissue=(h["tissue_coupling_hz"], h["tissue_damping"]),
                           coupling=(h["impact_coupling_foot"], h["impact_coupling_tibia"]))  # fmt: skip
            rec = stances[1:-1]
            g = [grf_stats(p) for p in rec]
            pta = stride_peaks_g(sim.time, sim.data, sim.ic_s)[TIBIA_SENSOR]  # 100 Hz sensor
            row = {
                "strike": runner.strike_class,
                "contact_s": float(np.median([p.state.contact_s for p in rec])),
                "step_s": float(np.median([p.state.step_s for p in rec])),
                "active_peak_bw": float(np.median([x["active_peak_bw"] for x in g])),
                "loading_rate_bw_s": float(np.median([x["loading_rate_bw_s"] for x in g])),
                "impact_peak_bw": float(np.median([x["impact_peak_bw"] or np.nan for x in g])),
                "peak_tibia_g": float(np.median(pta)),
                "pta_ref_g": float(np.median(sim.pta_ref_g)),
                "achilles_peak_bw": float(np.median([achilles_peak_bw(p, model) for p in rec[:5]])),
                "cv_contact_s": _cv([p.state.contact_s for p in rec]),
                "cv_step_s": _cv([p.state.step_s for p in rec]),
                "cv_active_peak_bw": _cv([x["active_peak_bw"] for x in g]),
                "cv_loading_rate_bw_s": _cv([x["loading_rate_bw_s"] for x in g]),
                "cv_impact_peak_bw": _cv([x["impact_peak_bw"] for x in g])
                if all(x["impact_peak_bw"] for x in g)
                else float("nan"),
                "cv_peak_tibia_g": _cv(pta),
                "cv_pta_ref_g": _cv(sim.pta_ref_g),
            }
            per[v].append(row)
    keys = [k for k in per[speeds[0]][0] if k != "strike"]
    out: dict[str, Any] = {"speeds_m_s": list(speeds), "n_runners": spec.n_runners}
    for v in speeds:
        out[f"{v:g}"] = {k: float(np.nanmedian([r[k] for r in per[v]])) for k in keys}
        out[f"{v:g}_rearfoot"] = {k: float(np.nanmedian([r[k] for r in per[v] if r["strike"] == REARFOOT_STRIKE])) for k in keys}  # fmt: skip
    a, b = per[speeds[0]], per[speeds[1]]
    out["change"] = {k: float(np.nanmedian([y[k] / x[k] - 1.0 for x, y in zip(a, b, strict=True)])) for k in keys if not k.startswith("cv_")}  # fmt: skip
    out["achilles_rises_fraction"] = float(np.mean([y["achilles_peak_bw"] > x["achilles_peak_bw"] for x, y in zip(a, b, strict=True)]))  # fmt: skip
    return out


# --- real data -------------------------------------------------------------------------------


def read_c3d(path: str | Path) -> dict[str, Any]:
    """Markers (name -> (T, 3) m, footdt world: x forward, y left, z up, as ``gait.rbds`` reads
    the RBDS text files: lab X forward, Y up, Z right) at ``marker_rate_hz``, and the vertical
    ground reaction force (N, up) of force platform 1 at ``analog_rate_hz`` (analog volts x the
    FORCE_PLATFORM calibration matrix; the plate's z reaction points down)."""
    import ezc3d

    c = ezc3d.c3d(str(path))
    p = c["parameters"]
    labels = list(p["POINT"]["LABELS"]["value"])
    pts = c["data"]["points"][:3] / 1000.0
    markers = {
        n: np.stack([pts[0, i], -pts[2, i], pts[1, i]], axis=1) for i, n in enumerate(labels)
    }
    cal = np.asarray(p["FORCE_PLATFORM"]["CAL_MATRIX"]["value"], float).reshape(6, 6, -1)[:, :, 0]
    a_labels = list(p["ANALOG"]["LABELS"]["value"])
    fz = -cal[2, 2] * c["data"]["analogs"][0][a_labels.index("F1Z")]
    return {"markers": markers, "marker_rate_hz": float(p["POINT"]["RATE"]["value"][0]),
            "fz_n": fz, "analog_rate_hz": float(p["ANALOG"]["RATE"]["value"][0])}  # fmt: skip


def step_table(fz_bw: np.ndarray, rate_hz: float, threshold_bw: float = 0.035) -> dict[str, np.ndarray]:  # fmt: skip
    """Per complete step of a vertical GRF (BW; one plate under both feet): contact and step
    time (s), impact peak (a local maximum in the first 35 % of contact at least 0.1 BW below the
    active peak; NaN without), active peak (BW), loading rate 20-80 % of the first peak (BW/s)."""
    on = np.r_[False, fz_bw > threshold_bw, False]
    starts, stops = np.flatnonzero(~on[:-1] & on[1:]), np.flatnonzero(on[:-1] & ~on[1:])
    rows = []
    for k, (a, b) in enumerate(zip(starts, stops, strict=True)):
        if a == 0 or b >= len(fz_bw) or (b - a) / rate_hz < 0.12:
            continue
        seg = fz_bw[a:b]
        n = len(seg)
        loc = [j for j in range(1, int(0.35 * n)) if seg[j - 1] < seg[j] >= seg[j + 1] and seg[j] < seg.max() - 0.1]  # fmt: skip
        first = seg[loc[0]] if loc else seg.max()
        j20, j80 = np.argmax(seg >= 0.2 * first), np.argmax(seg >= 0.8 * first)
        nxt = starts[k + 1] if k + 1 < len(starts) else None
        rows.append((n / rate_hz, (nxt - a) / rate_hz if nxt is not None else np.nan,
                     seg[loc[0]] if loc else np.nan, seg.max(),
                     0.6 * first / ((j80 - j20) / rate_hz) if j80 > j20 else np.nan))  # fmt: skip
    arr = np.array(rows, float).reshape(-1, 5)
    keys = ("contact_s", "step_s", "impact_peak_bw", "active_peak_bw", "loading_rate_bw_s")
    return {k: arr[:, i] for i, k in enumerate(keys)}


def _summary(t: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {"n_steps": len(t["contact_s"])}
    for k, v in t.items():
        v = v[np.isfinite(v)]
        out[k] = float(np.median(v)) if len(v) else None
        out[f"cv_{k}"] = _cv(v) if len(v) > 2 else None
    return out


def rbds_steps(data_dir: str | Path) -> dict[str, Any]:
    """RBDS001 at 2.5 (text files) and 3.5 m/s (C3D): step statistics, CVs, the virtual tibia's
    peak |a| per right-leg contact (15 Hz marker sensors), and the change between speeds."""
    import pandas as pd
    from scipy.signal import butter, filtfilt

    d = Path(data_dir)
    out: dict[str, Any] = {}
    fz25 = pd.read_csv(d / "RBDS001runT25forces.txt", sep="\t")["Fy"].to_numpy(float)
    c3d = read_c3d(d / "RBDS001runT35.c3d")
    for key, fz, rate in (("2.5", fz25, 300.0), ("3.5", c3d["fz_n"], c3d["analog_rate_hz"])):
        b, a = butter(2, 50.0 / (rate / 2.0))
        f = filtfilt(b, a, fz)
        bw = float(np.mean(f))  # treadmill: the mean vertical force over the trial is body weight
        st = _summary(step_table(f / bw, rate))
        st["body_weight_n"] = bw
        out[key] = st
    try:
        pta = _rbds_pta(d, c3d)
        for key, v in pta.items():
            out[key]["peak_tibia_g"] = float(np.median(v))
            out[key]["cv_peak_tibia_g"] = _cv(v)
    except Exception as exc:  # the virtual sensors need the static trial and every marker
        out["pta_error"] = str(exc)
    out["change"] = {k: out["3.5"][k] / out["2.5"][k] - 1.0 for k in out["2.5"]
                     if not k.startswith(("cv_", "n_", "body")) and out["2.5"][k] and out["3.5"].get(k)}  # fmt: skip
    return out


def _rbds_pta(d: Path, c3d: dict[str, Any]) -> dict[str, np.ndarray]:
    """Peak |a| (g) of RBDS001's right virtual tibia sensor around each right-heel contact."""
    from footdt.gait.rbds import _markers, rbds_contacts, rbds_recording
    from footdt.gait.virtual import segment_axes, virtual_accelerometer

    out = {}
    rec = rbds_recording(d, "right", target_rate_hz=None)
    ics = rbds_contacts(d)["right"][:, 0]
    out["2.5"] = _peaks(rec.time, rec.resultant(TIBIA_SENSOR) / G, ics)
    static = _markers(d / "RBDS001static.txt")

    def st(name: str) -> np.ndarray:
        return static[f"R.{name}"].mean(axis=0)

    ankle, knee = 0.5 * (st("Ankle") + st("Ankle.Medial")), 0.5 * (st("Knee") + st("Knee.Medial"))
    axes = segment_axes(np.array([1.0, 0.0, 0.0]), knee - ankle)
    cluster = [f"R.Shank.{a}.{b}" for a in ("Top", "Bottom") for b in ("Lateral", "Medial")]
    ref = np.stack([static[m].mean(axis=0) for m in cluster])
    traj = np.stack([c3d["markers"][m] for m in cluster], axis=1)
    rate = c3d["marker_rate_hz"]
    acc = virtual_accelerometer(
        traj, ref, ankle + 0.08 * axes[:, 2], axes, rate, 15.0, tuple(cluster)
    )
    t = np.arange(len(acc)) / rate
    from footdt.gait.validate import contacts_from_force

    fz, fr = c3d["fz_n"], c3d["analog_rate_hz"]
    contacts = contacts_from_force(fz, fr, 20.0)
    heel = c3d["markers"]["R.Heel.Bottom"][:, 2], c3d["markers"]["L.Heel.Bottom"][:, 2]
    mid = np.clip(np.rint(contacts.mean(axis=1) * rate).astype(int), 0, len(t) - 1)
    right = contacts[heel[0][mid] < heel[1][mid], 0]
    out["3.5"] = _peaks(t, np.linalg.norm(acc, axis=1) / G, right)
    return out


def _peaks(t: np.ndarray, mag: np.ndarray, ics: np.ndarray) -> np.ndarray:
    return np.array([mag[(t >= c - 0.02) & (t <= c + 0.15)].max() for c in ics if c - 0.02 >= t[0] and c + 0.15 <= t[-1]])  # fmt: skip


def alcantara_steps(data_dir: str | Path) -> dict[str, Any]:
    """Alcantara et al. 2022, level trials (one rearfoot-striking runner, GRF in BW, 500 Hz):
    per speed the step statistics (medians over steps) and the median within-trial CVs."""
    import pandas as pd

    d = Path(data_dir)
    grf = np.loadtxt(d / "GRF_one_sub.csv", delimiter=",")
    info = pd.read_csv(d / "Sub_Info_one_sub.csv")
    by_speed: dict[float, list[dict[str, np.ndarray]]] = {}
    for i, g in enumerate(grf):
        if info["Slope"].iloc[i] == 0 and info["RFS"].iloc[i] >= 50:
            by_speed.setdefault(float(info["Speed"].iloc[i]), []).append(step_table(g, 500.0, 0.05))
    out: dict[str, Any] = {}
    for v, tabs in sorted(by_speed.items()):
        pooled = {k: np.concatenate([t[k] for t in tabs]) for k in tabs[0]}
        s = _summary(pooled)
        for k in tabs[0]:
            s[f"cv_{k}"] = float(np.nanmedian([_cv(t[k][np.isfinite(t[k])]) for t in tabs]))
        s["n_trials"] = len(tabs)
        out[f"{v:g}"] = s
    return out
