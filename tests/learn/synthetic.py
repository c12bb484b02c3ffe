"""A small synthetic cohort and label store for learning tests (test helper, not package code).

IMU windows (n_strides, 300, 6) in m/s^2 have an impact peak (rearfoot strikers), a mid-stance
hump and a push-off peak whose sizes scale with a per-trial "intensity" = speed / 3.3 m/s times a
per-subject stiffness factor (independent of body mass). Labels (MPa) are
``base(phase, bone, stat) * ((1 - imu_weight) * mass / 67.7 + imu_weight * intensity) * (1 + noise*N)``,
so they depend partly on the IMU signal, partly on body mass, plus noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from footdt.cohort.manifest import Manifest, Subject, Trial, save_manifest
from footdt.domain import PAPER_TARGETS, STATS
from footdt.labels.reduce import LabelRow

G = 9.81
BASE_MPA = {
    ("initial_contact", "calcaneus"): 6.0, ("initial_contact", "talus"): 5.0,
    ("mid_stance", "calcaneus"): 4.0, ("mid_stance", "talus"): 6.0,
    **{("mid_stance", f"metatarsal_{i}"): v for i, v in zip(range(1, 6), (5, 8, 7, 7, 8), strict=True)},
    **{("push_off", f"metatarsal_{i}"): v for i, v in zip(range(1, 6), (10, 14, 13, 13, 13), strict=True)},
}  # fmt: skip
STAT_FACTOR = {"mean": 1.0, "p95": 2.2, "p99": 3.0, "max": 4.0}


@dataclass(frozen=True)
class Synthetic:
    cohort: Path
    store: Path
    manifest: Manifest
    rows: list[LabelRow]
    intensity: dict[tuple[str, str], float]  # (subject, trial) -> mean stride intensity


def _bump(t: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def stride_window(rng: np.random.Generator, intensity: float, rearfoot: bool) -> np.ndarray:
    """One (300, 6) window in m/s^2: foot_ax, foot_ay, foot_az, tibia_ax, tibia_ay, tibia_az."""
    t = np.arange(300.0)
    impact = _bump(t, 15, 5) if rearfoot else 0.3 * _bump(t, 40, 12)
    az = G * (
        (3 + 4 * intensity) * impact
        + 1.5 * np.sin(np.pi * t / 300)
        + 2 * intensity * _bump(t, 250, 15)
    )
    ax = G * (-1.0 * intensity * _bump(t, 20, 8) + 2.0 * intensity * _bump(t, 260, 12))
    ay = G * 0.3 * np.sin(2 * np.pi * t / 150 + rng.uniform(0, 1))
    foot = np.stack([ax, ay, az], axis=1)
    tibia = 0.6 * np.roll(foot, 3, axis=0)
    w = np.concatenate([foot, tibia], axis=1)
    return (w + rng.normal(0, 0.3, w.shape)).astype(np.float32)


def write_store(path: Path, rows: list[LabelRow]) -> Path:
    from footdt.labels.store import LabelStore

    with LabelStore(path) as store:
        store.put(rows)
    return path


def make_rows(subject: str, trial: str, value: float, mass_term: float, rng: np.random.Generator,
              noise: float, imu_weight: float) -> list[LabelRow]:  # fmt: skip
    rows = []
    for (phase, bone), base in BASE_MPA.items():
        factor = (1 - imu_weight) * mass_term + imu_weight * value
        for stat in STATS:
            v = base * STAT_FACTOR[stat] * factor * (1 + noise * rng.normal())
            rows.append(LabelRow(
                subject=subject, trial=trial, phase=phase, bone=bone, stat=stat, value_mpa=float(v),
                backend="synthetic", backend_version="0", spec_hash="s", mesh_hash="m",
                model_hash="h", solve_id=f"{subject}-{trial}", wall_time_s=0.0, residual=None,
                max_on_boundary=False, created_at="2025-01-01T00:00:00+00:00",
            ))  # fmt: skip
    return rows


def make_cohort(
    root: Path,
    n_subjects: int = 8,
    n_trials: int = 3,
    n_strides: int = 3,
    *,
    seed: int = 0,
    imu_weight: float = 0.6,
    noise: float = 0.03,
    write: bool = True,
) -> Synthetic:
    """Cohort directory ``root/cohort`` (manifest + NPZ windows) and label store ``root/labels.db``."""
    rng = np.random.default_rng(seed)
    cohort = root / "cohort"
    (cohort / "imu").mkdir(parents=True, exist_ok=True)
    spec = cohort / "subject.yaml"
    spec.write_text("# placeholder subject spec for learning tests\n")
    n_nrfs = max(1, round(0.24 * n_subjects)) if n_subjects >= 2 else 0
    subjects, rows, intensity = [], [], {}
    for i in range(n_subjects):
        sid = f"S{i + 1:02d}"
        mass = float(np.clip(rng.normal(67.7, 9.6), 48, 95))
        rearfoot = i >= n_nrfs
        stiffness = rng.normal()
        base_speed = rng.uniform(2.8, 3.8)
        trials = []
        for j in range(n_trials):
            tid = f"T{j + 1}"
            speed = float(base_speed + rng.normal(0, 0.15))
            inten = (speed / 3.3) * (1 + 0.25 * stiffness) * (1 + 0.05 * rng.normal(size=n_strides))
            inten = np.clip(inten, 0.3, None)
            w = np.stack([stride_window(rng, float(k), rearfoot) for k in inten])
            rel = f"imu/{sid}_{tid}.npz"
            ic = 0.5 + 0.72 * np.arange(n_strides) + rng.normal(0, 0.005, n_strides)
            to = ic + 0.26 / inten**0.3  # faster (more intense) strides touch down shorter
            np.savez(cohort / rel, windows=w, ic_s=ic, to_s=to)
            trials.append(Trial(id=tid, imu=rel, spec="subject.yaml", speed_m_s=speed))
            intensity[(sid, tid)] = float(inten.mean())
            rows += make_rows(sid, tid, float(inten.mean()), mass / 67.7, rng, noise, imu_weight)
        subjects.append(Subject(id=sid, group="rearfoot" if rearfoot else "non_rearfoot",
                                body_mass_kg=mass, height_m=float(rng.normal(1.76, 0.06)),
                                foot_length_mm=265.0, trials=trials))  # fmt: skip
    manifest = Manifest(seed=seed, description="synthetic learning-test cohort", subjects=subjects)
    save_manifest(manifest, cohort)
    store = root / "labels.db"
    if write:
        write_store(store, rows)
    return Synthetic(cohort, store, manifest, rows, intensity)


def paper_target_stats() -> set[tuple[str, str]]:
    return {(p, b) for p, b, _ in PAPER_TARGETS}
