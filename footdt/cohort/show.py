"""What a cohort directory holds: a table (JSON-ready) and a figure.

``cohort_summary`` reads ``manifest.json`` and each trial's IMU window file (shape only) and
returns stable keys: ``cohort, seed, description, n_subjects, n_rearfoot, n_non_rearfoot,
n_trials, subjects``; each subject ``id, group, body_mass_kg, height_m, foot_length_mm, trials``;
each trial ``id, speed_m_s, imu, spec, pressure, windows_shape``.

``cohort_figure`` draws body mass, height and foot length histograms by strike group, the
vertical GRF of each trial's plate stance (BW vs % stance, from ``grf.csv`` next to the pressure
file, when present) and the mean foot and tibia |a| window of each trial (g), by group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from footdt.cohort.manifest import Manifest, Trial, load_manifest
from footdt.domain import FOOT_SENSOR, NON_REARFOOT, REARFOOT_STRIKE, TIBIA_SENSOR
from footdt.gait.recording import G

GROUP_COLOURS = {REARFOOT_STRIKE: "tab:blue", NON_REARFOOT: "tab:orange"}


def window_shape(cohort_dir: Path, trial: Trial) -> list[int]:
    """Shape of a trial's ``windows`` array, read from the NPZ member header only."""
    import zipfile

    with zipfile.ZipFile(cohort_dir / trial.imu) as z, z.open("windows.npy") as fh:
        major, _ = np.lib.format.read_magic(fh)
        read = (
            np.lib.format.read_array_header_1_0
            if major == 1
            else np.lib.format.read_array_header_2_0
        )
        shape, _, _ = read(fh)
    return [int(n) for n in shape]


def cohort_summary(cohort_dir: str | Path, manifest: Manifest | None = None) -> dict[str, Any]:
    d = Path(cohort_dir)
    m = manifest or load_manifest(d)
    subjects = []
    for s in m.subjects:
        trials = [{"id": t.id, "speed_m_s": t.speed_m_s, "imu": t.imu, "spec": t.spec,
                   "pressure": t.pressure, "windows_shape": window_shape(d, t)} for t in s.trials]  # fmt: skip
        subjects.append({"id": s.id, "group": s.group, "body_mass_kg": s.body_mass_kg,
                         "height_m": s.height_m, "foot_length_mm": s.foot_length_mm,
                         "trials": trials})  # fmt: skip
    groups = [s.group for s in m.subjects]
    return {
        "cohort": str(d), "seed": m.seed, "description": m.description,
        "n_subjects": len(m.subjects), "n_rearfoot": groups.count(REARFOOT_STRIKE),
        "n_non_rearfoot": groups.count(NON_REARFOOT),
        "n_trials": sum(len(s.trials) for s in m.subjects), "subjects": subjects,
    }  # fmt: skip


def stance_grf_bw(path: Path, body_mass_kg: float, n: int = 101) -> np.ndarray | None:
    """Vertical GRF (BW) of the first stance in a ``grf.csv``, at ``n`` points of stance."""
    import pandas as pd

    if not path.is_file():
        return None
    df = pd.read_csv(path, comment="#")
    fz, t = df["fz_n"].to_numpy(float), df["time_s"].to_numpy(float)
    on = np.flatnonzero(fz > 20.0)
    if len(on) < 5:
        return None
    a, b = on[0], on[-1]
    return np.interp(np.linspace(t[a], t[b], n), t[a : b + 1], fz[a : b + 1]) / (body_mass_kg * G)


def mean_resultant_g(cohort_dir: Path, trial: Trial) -> tuple[np.ndarray, np.ndarray]:
    """(foot, tibia) |a| (g) of the trial's mean window (300 samples)."""
    with np.load(cohort_dir / trial.imu) as z:
        w = np.asarray(z["windows"], float).mean(axis=0)
    return np.linalg.norm(w[:, :3], axis=1) / G, np.linalg.norm(w[:, 3:], axis=1) / G


def cohort_figure(
    cohort_dir: str | Path, out: str | Path, manifest: Manifest | None = None
) -> Path:
    """Six panels (see the module docstring), saved as ``out`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = Path(cohort_dir)
    m = manifest or load_manifest(d)
    fig, ax = plt.subplots(2, 3, figsize=(14, 7.5))
    for k, (key, label) in enumerate((("body_mass_kg", "body mass (kg)"), ("height_m", "height (m)"),
                                      ("foot_length_mm", "foot length (mm)"))):  # fmt: skip
        vals = {g: [getattr(s, key) for s in m.subjects if s.group == g and getattr(s, key)] for g in GROUP_COLOURS}  # fmt: skip
        allv = [v for vs in vals.values() for v in vs]
        bins = np.linspace(min(allv), max(allv), 12) if allv else 10
        ax[0, k].hist(list(vals.values()), bins=bins, stacked=True, label=list(vals),
                      color=list(GROUP_COLOURS.values()))  # fmt: skip
        ax[0, k].set_xlabel(label)
        ax[0, k].set_ylabel("runners")
    ax[0, 0].legend()
    pct = np.linspace(0, 100, 101)
    for s in m.subjects:
        c = GROUP_COLOURS[s.group]
        for t in s.trials:
            if t.pressure is not None:
                grf = stance_grf_bw((d / t.pressure).parent / "grf.csv", s.body_mass_kg)
                if grf is not None:
                    ax[1, 0].plot(pct, grf, color=c, alpha=0.35, lw=0.8)
            foot, tibia = mean_resultant_g(d, t)
            ax[1, 1].plot(tibia, color=c, alpha=0.35, lw=0.8)
            ax[1, 2].plot(foot, color=c, alpha=0.35, lw=0.8)
    ax[1, 0].set(xlabel="% stance", ylabel="vertical GRF (BW)", title="plate stance")
    for a, name in ((ax[1, 1], TIBIA_SENSOR), (ax[1, 2], FOOT_SENSOR)):
        a.set(xlabel="window sample (100 per phase)", ylabel=f"{name} |a| (g)",
              title=f"mean {name} window per trial")  # fmt: skip
        for x in (100, 200):
            a.axvline(x, color="0.6", lw=0.8)
    fig.suptitle(f"{d.name}: {len(m.subjects)} runners (blue rearfoot, orange non-rearfoot)")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
