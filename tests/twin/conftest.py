"""A generated cohort (real simulated recordings), synthetic load-driven labels, and a tiny run.

The cohort generator writes each trial's whole recording; labels here are not FE solves but a
fixed function of the trial's generated phase loads, body mass and a hidden tissue factor, plus
noise (``synthetic_labels``), so that they depend partly on what the IMU sees. New runners come
from the same cohort spec with another seed; their recordings (CSV) are never seen by the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from footdt.cohort.manifest import Manifest, load_manifest
from footdt.labels.reduce import LabelRow
from tests.learn.conftest import QUICK_TARGETS, tiny_spec
from tests.learn.synthetic import write_store

REGION = {"calcaneus": "rearfoot", "talus": "rearfoot"}  # metatarsals: forefoot
BASE_MPA = {("initial_contact", "calcaneus"): 6.0, ("mid_stance", "metatarsal_2"): 8.0,
            ("push_off", "metatarsal_2"): 14.0}  # fmt: skip
STAT_FACTOR = {"mean": 1.0, "p95": 2.2, "p99": 3.0, "max": 4.0}
COLUMNS = ("foot_ax", "foot_ay", "foot_az", "tibia_ax", "tibia_ay", "tibia_az")


@dataclass(frozen=True)
class TwinCohort:
    root: Path
    train: Path  # cohort directory of the run's runners
    store: Path
    run: Path
    labels: dict[
        tuple[str, str], dict[str, float]
    ]  # new runners' (subject, trial) -> target -> MPa
    new: Manifest  # the new runners (never in the run)
    recordings: dict[tuple[str, str], Path]  # (new subject, trial) -> CSV


#: Typical regional pressure (MPa) of the generated cohorts: the labels' load reference.
P_REF = {("initial_contact", "rearfoot"): 0.08, ("mid_stance", "forefoot"): 0.16,
         ("push_off", "forefoot"): 0.057}  # fmt: skip


def _pressure(loads: list[dict], phase: str, region: str) -> float:
    ph = next(p for p in loads if p["name"] == phase)
    return float(next(q["value"] for q in ph["pressures"] if q["surface"] == region))


def synthetic_labels(gen: dict, seed: int) -> dict[tuple[str, str], dict[tuple[str, str, str], float]]:  # fmt: skip
    """{(subject, trial): {(phase, bone, stat): MPa}} for every generated trial: base stress x
    sqrt(body mass / 67.7) x (0.4 + 0.6 regional pressure / typical) x tissue stiffness^-0.3
    x (1 + 5 % noise)."""
    rng = np.random.default_rng(seed)
    out = {}
    for s in gen["subjects"]:
        scale = (s["body_mass_kg"] / 67.7) ** 0.5 * s["hidden"]["tissue_stiffness"] ** -0.3
        for tid, t in s["trials"].items():
            vals = {}
            for ph, bone in BASE_MPA:
                region = REGION.get(bone, "forefoot")
                load = 0.4 + 0.6 * _pressure(t["loads"], ph, region) / P_REF[(ph, region)]
                for stat, f in STAT_FACTOR.items():
                    vals[(ph, bone, stat)] = (
                        BASE_MPA[(ph, bone)] * f * scale * load * (1 + 0.05 * rng.normal())
                    )
            out[(s["id"], tid)] = vals
    return out


def _rows(labels: dict, subjects: set[str]) -> list[LabelRow]:
    return [
        LabelRow(subject=sid, trial=tid, phase=ph, bone=b, stat=st, value_mpa=float(v),
                 backend="synthetic", backend_version="0", spec_hash="s", mesh_hash="m",
                 model_hash="h", solve_id=f"{sid}-{tid}", wall_time_s=0.0, residual=None,
                 max_on_boundary=False, created_at="2025-01-01T00:00:00+00:00")
        for (sid, tid), vals in labels.items() if sid in subjects
        for (ph, b, st), v in vals.items()
    ]  # fmt: skip


def write_recording_csv(imu_npz: Path, out: Path, *, flip_y: bool = False, every: int = 1) -> Path:
    """The trial's whole recording as CSV: time_s, foot_ax .. tibia_az (m/s^2)."""
    with np.load(imu_npz) as z:
        data = np.asarray(z["recording"], dtype=float)[::every]
        rate = float(z["recording_rate_hz"]) / every
    if flip_y:  # the sensors' y axes point the other way: a left leg read in its own frame
        data[:, [1, 4]] *= -1.0
    t = np.arange(len(data)) / rate
    header = "time_s," + ",".join(COLUMNS)
    np.savetxt(
        out, np.column_stack([t, data]), delimiter=",", header=header, comments="", fmt="%.6f"
    )
    return out


def _generate(root: Path, name: str, n: int, trials: int, strides: int, seed: int) -> tuple[Path, dict]:  # fmt: skip
    from footdt.cohort.generate import generate
    from footdt.cohort.spec import CohortSpec
    from tests.cohort.conftest import write_template

    spec = CohortSpec(seed=seed, n_runners=n, trials=trials, strides_per_trial=strides,
                      template=write_template(root))  # fmt: skip
    generate(spec, root / name)
    gen = json.loads((root / name / "generation.json").read_text())
    return root / name, gen


def _by_target(labels: dict, peak: str) -> dict[tuple[str, str], dict[str, float]]:
    def key(name: str) -> tuple[str, str, str]:
        phase, bone, kind = name.split(".")
        return phase, bone, peak if kind == "peak" else kind

    return {k: {name: vals[key(name)] for name in QUICK_TARGETS} for k, vals in labels.items()}


def make_twin_cohort(root: Path, *, n_train: int, n_held: int, trials: int = 2, strides: int = 6,
                     seed: int = 5, epochs: int = 1, static: tuple[str, ...] = (),
                     readout: str = "none") -> TwinCohort:  # fmt: skip
    """Generate ``n_train`` runners (cohort ``seed``) and train a LOSO run on them; generate
    ``n_held`` new runners from the same cohort spec with another seed (the same population:
    same strike-class fractions and distributions) and write their recordings as CSV."""
    from footdt.learn.cv import RunOptions, run_loso
    from footdt.learn.dataset import load_dataset

    root.mkdir(parents=True, exist_ok=True)
    train, gen = _generate(root, "train", n_train, trials, strides, seed)
    store = write_store(
        root / "labels.db", _rows(synthetic_labels(gen, seed), {s["id"] for s in gen["subjects"]})
    )
    exp = tiny_spec(static_features=list(static), hyperparameters={"epochs": epochs}, readout=readout,
                    validation={"permutation_repeats": 0, "seeds": [0]})  # fmt: skip
    ds = load_dataset(exp, store, train)
    run_loso(exp, ds, root / "run", options=RunOptions(store=str(store), cohort=str(train)))
    new, gen_new = _generate(root, "new", n_held, trials, strides, seed + 1000)
    (root / "rec").mkdir()
    manifest = load_manifest(new)
    recs = {(s.id, t.id): write_recording_csv(new / t.imu, root / "rec" / f"{s.id}_{t.id}.csv")
            for s in manifest.subjects for t in s.trials}  # fmt: skip
    labels = _by_target(synthetic_labels(gen_new, seed + 1000), exp.peak_stat)
    return TwinCohort(root, train, store, root / "run", labels, manifest, recs)


@pytest.fixture(scope="session")
def twin_cohort(tmp_path_factory: pytest.TempPathFactory) -> TwinCohort:
    """A 1-epoch cnn1d LOSO run (body mass, contact and flight time and the IMU summary features
    as static inputs, a ridge read-out of them under the network, as the demo) on 5 runners x 2
    trials x 6 strides; 2 new runners' recordings."""
    from footdt.learn.runtime import setup_tensorflow

    setup_tensorflow(deterministic=True)
    return make_twin_cohort(tmp_path_factory.mktemp("twin"), n_train=5, n_held=2,
                            static=("body_mass", "contact_time", "flight_time", "imu_summary"),
                            readout="ridge")  # fmt: skip
