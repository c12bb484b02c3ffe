"""How a synthetic cohort compares with real running data (for docs/cohort.md and the benchmark).

Real data (not shipped; ``../shared/data``): RBDS001 treadmill running at 2.5 m/s (virtual
foot and tibia accelerometers from marker clusters, ``footdt.gait.rbds``), Alcantara et al. 2022
(one runner's normal GRF in BW at 500 Hz, 31 trials; only level trials are used here) and Dorn
et al. 2012 (vertical GRF curves, N, at 3.56 m/s). Statistics (units in the key names):

- ``p99_g``: 99th percentile of |a| over whole recordings, per sensor; for the synthetic cohort
  also after the same 15 Hz zero-phase low-pass as the marker-derived RBDS sensors
  (``p99_lp15_g``), the fair comparison;
- ``stride_profile_g``: median |a| over the stride (IC to next IC, 101 points), per sensor;
- ``ac_half_stride``: autocorrelation of the stride signal at half a stride (how different the
  two halves of a stride look; the detector needs it well below 0.8 of the full-stride value);
- GRF: stance time (s), active and impact peaks (BW), mean loading rate 20-80 % of the first peak
  (BW/s), and the median vertical GRF curve over stance (101 points, BW).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from footdt.cohort.manifest import load_manifest
from footdt.domain import (
    FOOT_SENSOR,
    NON_REARFOOT,
    REARFOOT_STRIKE,
    SENSORS,
    STRIKE_GROUPS,
    TIBIA_SENSOR,
)
from footdt.gait.recording import G

N = 101


def _profile(t: np.ndarray, y: np.ndarray, ics: np.ndarray) -> np.ndarray:
    return np.array([np.interp(np.linspace(a, b, N), t, y) for a, b in itertools.pairwise(ics)])


def ac_half_stride(s: np.ndarray, rate_hz: float, stride_s: float) -> float:
    """Autocorrelation of ``s`` (80 ms mean, as the detector) at T/2 divided by that at T."""
    w = max(1, round(0.08 * rate_hz))
    x = np.convolve(s - s.mean(), np.ones(w) / w, mode="same")
    f = np.fft.rfft(x, 2 * len(x))
    ac = np.fft.irfft(f * np.conj(f))[: len(x)]
    k = round(stride_s * rate_hz)
    return float(ac[k // 2 - 3 : k // 2 + 4].max() / ac[k - 3 : k + 4].max())


def synthetic_stats(cohort_dir: str | Path) -> dict[str, Any]:
    """Accelerometer and GRF statistics of a generated cohort (uses its ``generation.json``)."""
    import json

    from footdt.cohort.show import stance_grf_bw
    from footdt.gait.virtual import lowpass

    d = Path(cohort_dir)
    gen = json.loads((d / "generation.json").read_text())
    by_id = {s["id"]: s for s in gen["subjects"]}
    acc: dict[str, dict[str, list[Any]]] = {
        g: {k: [] for k in ("p99_foot", "p99_tibia", "lp_foot", "lp_tibia", "prof_foot", "prof_tibia",
                            "lpprof_foot", "lpprof_tibia", "ac", "grf")}
        for g in STRIKE_GROUPS
    }  # fmt: skip
    for s in load_manifest(d).subjects:
        for t in s.trials:
            a = acc[s.group]
            with np.load(d / t.imu) as z:
                rec, rate, ics = (
                    z["recording"].astype(float),
                    float(z["recording_rate_hz"]),
                    z["true_ic_s"],
                )
            time = np.arange(len(rec)) / rate
            for k, sensor in ((0, FOOT_SENSOR), (3, TIBIA_SENSOR)):
                mag = np.linalg.norm(rec[:, k : k + 3], axis=1) / G
                a[f"p99_{sensor}"].append(np.percentile(mag, 99))
                lp = np.linalg.norm(lowpass(rec[:, k : k + 3], rate, 15.0), axis=1) / G
                a[f"lp_{sensor}"].append(np.percentile(lp, 99))
                a[f"prof_{sensor}"].extend(_profile(time, mag, ics))
                a[f"lpprof_{sensor}"].extend(_profile(time, lp, ics))
            sig = (
                0.5 * (np.linalg.norm(rec[:, :3], axis=1) + np.linalg.norm(rec[:, 3:], axis=1)) / G
            )
            a["ac"].append(ac_half_stride(sig, rate, by_id[s.id]["trials"][t.id]["stride_s"]))
            if t.pressure is not None:
                grf = stance_grf_bw((d / t.pressure).parent / "grf.csv", s.body_mass_kg)
                if grf is not None:
                    a["grf"].append(grf)
    out: dict[str, Any] = {}
    for g, a in acc.items():
        trials = [t for s in gen["subjects"] if s["group"] == g for t in s["trials"].values()]
        if not trials:
            continue
        out[g] = {
            "n_trials": len(trials),
            "p99_g": {FOOT_SENSOR: float(np.median(a["p99_foot"])), TIBIA_SENSOR: float(np.median(a["p99_tibia"]))},
            "p99_lp15_g": {FOOT_SENSOR: float(np.median(a["lp_foot"])), TIBIA_SENSOR: float(np.median(a["lp_tibia"]))},
            "peak_g": {k: float(np.median([t["peak_g"][k] for t in trials])) for k in SENSORS},
            "stride_profile_g": {k: np.median(a[f"prof_{k}"], axis=0).tolist() for k in SENSORS},
            "stride_profile_lp15_g": {k: np.median(a[f"lpprof_{k}"], axis=0).tolist() for k in SENSORS},
            "ac_half_stride": float(np.median(a["ac"])),
            "stance_s": float(np.median([t["stance_s"] for t in trials])),
            "active_peak_bw": float(np.median([t["grf_peak_bw"] for t in trials])),
            "impact_peak_bw": _median([t["impact_peak_bw"] for t in trials]),
            "loading_rate_bw_s": float(np.median([t["loading_rate_bw_s"] for t in trials])),
            "grf_curve_bw": np.median(a["grf"], axis=0).tolist() if a["grf"] else None,
        }  # fmt: skip
    return out


def _median(values: list[float | None]) -> float | None:
    v = [x for x in values if x is not None]
    return float(np.median(v)) if v else None


def rbds_stats(data_dir: str | Path) -> dict[str, Any]:
    """RBDS001 (2.5 m/s, shod, treadmill), both legs: p99 |a|, stride profiles, stance, ac."""
    from footdt.gait.events import stride_signal
    from footdt.gait.rbds import rbds_contacts, rbds_recording

    contacts = rbds_contacts(data_dir)
    out: dict[str, Any] = {
        "p99_g": {},
        "stride_profile_g": {},
        "stance_s": {},
        "ac_half_stride": {},
    }
    profiles: dict[str, list[np.ndarray]] = {FOOT_SENSOR: [], TIBIA_SENSOR: []}
    for side in ("right", "left"):
        rec = rbds_recording(data_dir, side)
        c = contacts[side]
        for sensor in SENSORS:
            out["p99_g"][f"{sensor}_{side}"] = float(np.percentile(rec.resultant(sensor), 99) / G)
            profiles[sensor].extend(_profile(rec.time, rec.resultant(sensor) / G, c[:, 0]))
        out["stance_s"][side] = float(np.median(c[:, 1] - c[:, 0]))
        out["ac_half_stride"][side] = ac_half_stride(stride_signal(rec), rec.rate_hz, float(np.median(np.diff(c[:, 0]))))  # fmt: skip
    out["stride_profile_g"] = {k: np.median(v, axis=0).tolist() for k, v in profiles.items()}
    out["duty_factor"] = float(np.median((contacts["right"][:-1, 1] - contacts["right"][:-1, 0]) / np.diff(contacts["right"][:, 0])))  # fmt: skip
    return out


def alcantara_stats(data_dir: str | Path, threshold_bw: float = 0.05) -> dict[str, Any]:
    """Level trials of Alcantara et al. 2022 (one runner, GRF in BW at 500 Hz) by strike."""
    import pandas as pd

    d = Path(data_dir)
    grf = np.loadtxt(d / "GRF_one_sub.csv", delimiter=",")
    info = pd.read_csv(d / "Sub_Info_one_sub.csv")
    rows: dict[str, list[dict[str, Any]]] = {REARFOOT_STRIKE: [], NON_REARFOOT: []}
    for i, g in enumerate(grf):
        if info["Slope"].iloc[i] != 0:
            continue
        group = REARFOOT_STRIKE if info["RFS"].iloc[i] >= 50 else NON_REARFOOT
        on = np.r_[False, g > threshold_bw, False]
        starts, stops = np.flatnonzero(~on[:-1] & on[1:]), np.flatnonzero(on[:-1] & ~on[1:])
        for a, b in zip(starts, stops, strict=True):
            seg = g[a:b]
            if not 0.15 < len(seg) / 500 < 0.4 or a == 0 or b >= len(g):
                continue
            n = len(seg)
            loc = [j for j in range(1, int(0.3 * n)) if seg[j - 1] < seg[j] >= seg[j + 1]]
            first = seg[loc[0]] if loc else seg.max()
            j20, j80 = np.argmax(seg >= 0.2 * first), np.argmax(seg >= 0.8 * first)
            rows[group].append({
                "speed_m_s": float(info["Speed"].iloc[i]), "stance_s": n / 500.0,
                "active_peak_bw": float(seg.max()), "impact_peak_bw": float(first) if loc else None,
                "loading_rate_bw_s": 0.6 * first / ((j80 - j20) / 500.0) if j80 > j20 else None,
                "curve": np.interp(np.linspace(0, n - 1, N), np.arange(n), seg),
            })  # fmt: skip
    out: dict[str, Any] = {}
    for g, r in rows.items():
        if r:
            out[g] = {
                "n_stances": len(r), "speeds_m_s": sorted({x["speed_m_s"] for x in r}),
                **{k: _median([x[k] for x in r]) for k in ("stance_s", "active_peak_bw", "impact_peak_bw", "loading_rate_bw_s")},
                "grf_curve_bw": np.median([x["curve"] for x in r], axis=0).tolist(),
            }  # fmt: skip
    return out


def dorn_curves(data_dir: str | Path) -> dict[str, list[float]]:
    """Dorn et al. 2012 vertical GRF at 3.56 m/s (N, 100 points of stance), both rows."""
    import pandas as pd

    df = pd.read_csv(Path(data_dir) / "data.csv")
    rows = df[(df["X"] == 3.56) & (df["_IND"] == 1)].iloc[:, 2:].to_numpy(float)
    return {f"row{i}": r.tolist() for i, r in enumerate(rows)}


def overlay_figure(syn: dict[str, Any], rbds: dict[str, Any] | None, alc: dict[str, Any] | None,
                   dorn: dict[str, list[float]] | None, out: str | Path) -> Path:  # fmt: skip
    """GRF curves, p99 |a| and stride |a| profiles: synthetic vs real (whatever is given)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.linspace(0, 100, N)
    col = {REARFOOT_STRIKE: "tab:blue", NON_REARFOOT: "tab:orange"}
    fig, ax = plt.subplots(2, 3, figsize=(15, 8))
    for g, st in syn.items():
        if st["grf_curve_bw"] is not None:
            c = np.asarray(st["grf_curve_bw"])
            ax[0, 0].plot(x, c, color=col[g], lw=2, label=f"synthetic {g} (median)")
            ax[0, 1].plot(x, c / c.max(), color=col[g], lw=2, label=f"synthetic {g}")
    for g, st in (alc or {}).items():
        c = np.asarray(st["grf_curve_bw"])
        ax[0, 0].plot(x, c, color=col[g], ls="--", label=f"Alcantara level {g} ({', '.join(map(str, st['speeds_m_s']))} m/s)")  # fmt: skip
        ax[0, 1].plot(x, c / c.max(), color=col[g], ls="--")
    for k, row in (dorn or {}).items():
        ax[0, 1].plot(np.linspace(0, 100, len(row)), np.asarray(row) / max(row), color="0.4", ls=":",
                      label="Dorn 2012, 3.56 m/s" if k == "row0" else None)  # fmt: skip
    ax[0, 0].set(xlabel="% stance", ylabel="vertical GRF (BW)", title="vertical GRF")
    ax[0, 1].set(xlabel="% stance", ylabel="GRF / its peak", title="GRF shape")
    ax[0, 0].legend(fontsize=7)
    ax[0, 1].legend(fontsize=7)
    labels, vals, colours = [], [], []
    for sensor in SENSORS:
        if rbds:
            for side in ("right", "left"):
                labels.append(f"RBDS {sensor} {side}")
                vals.append(rbds["p99_g"][f"{sensor}_{side}"])
                colours.append("0.5")
        for g, st in syn.items():
            labels += [f"syn {sensor} {g} 15 Hz", f"syn {sensor} {g} raw"]
            vals += [st["p99_lp15_g"][sensor], st["p99_g"][sensor]]
            colours += [col[g], col[g]]
    ax[0, 2].bar(range(len(vals)), vals, color=colours)
    ax[0, 2].set_xticks(range(len(vals)), labels, fontsize=7, rotation=90)
    ax[0, 2].set(ylabel="p99 |a| (g)", title="|a| 99th percentile over recordings")
    xs = np.linspace(0, 100, N)
    for a, sensor in ((ax[1, 0], FOOT_SENSOR), (ax[1, 1], TIBIA_SENSOR)):
        if rbds:
            a.plot(xs, rbds["stride_profile_g"][sensor], color="0.3", lw=2, label="RBDS001 (markers, 15 Hz)")  # fmt: skip
        for g, st in syn.items():
            a.plot(xs, st["stride_profile_lp15_g"][sensor], color=col[g], lw=2, label=f"synthetic {g}, 15 Hz LP")  # fmt: skip
            a.plot(xs, st["stride_profile_g"][sensor], color=col[g], lw=0.8, ls="--", label=f"synthetic {g}, raw")  # fmt: skip
        a.set(
            xlabel="% stride (IC to IC)",
            ylabel=f"{sensor} |a| (g)",
            title=f"{sensor}: median stride",
        )
        a.legend(fontsize=7)
    rows = [("stance (s)", "stance_s"), ("active peak (BW)", "active_peak_bw"),
            ("impact peak (BW)", "impact_peak_bw"), ("loading rate (BW/s)", "loading_rate_bw_s")]  # fmt: skip
    lines = ["              synthetic RFS / NRFS   Alcantara RFS / NRFS"]
    for name, key in rows:
        sv = " / ".join(
            "-" if syn.get(g, {}).get(key) is None else f"{syn[g][key]:.2f}" for g in col
        )
        real = alc or {}
        av = " / ".join(
            "-" if real.get(g, {}).get(key) is None else f"{real[g][key]:.2f}" for g in col
        )
        lines.append(f"{name:20s} {sv:>16s}   {av:>16s}")
    if rbds:
        lines.append(
            f"RBDS001 stance (s): {rbds['stance_s']['right']:.3f} / {rbds['stance_s']['left']:.3f} (R/L)"
        )
    ax[1, 2].axis("off")
    ax[1, 2].text(0.0, 0.95, "\n".join(lines), family="monospace", fontsize=8, va="top")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
