"""Where the label variance of a solved synthetic cohort comes from (the issue-6 investigation).

    .venv/bin/python benchmarks/study_cohort_variance.py                    # build/study30
    .venv/bin/python benchmarks/study_cohort_variance.py --work build/study30 \
        --experiment specs/experiments/study30.yaml --out benchmarks/results/study30/variance.json

For every target of the experiment, the out-of-sample R^2 (leave-one-subject-out, ridge on
standardised inputs, penalty chosen by an inner leave-one-subject-out inside the training
subjects) of the labels from these input sets, all per trial:

- ``mass``: body mass (kg) alone (linear with intercept);
- ``group_mass``: strike group (rearfoot or not) and body mass;
- ``imu``: the ridge baseline's IMU features (footdt.learn.features, trial means);
- ``imu_mass``: both;
- ``loads``: the trial's FE loads the generator wrote into its spec (regional pressures, MPa,
  and the Achilles force, N, per phase): what the sensors would have to recover;
- ``hidden``: what the sensors cannot see: soft-tissue and fascia stiffness multipliers, foot
  width and arch ratios, foot length (mm);
- ``loads_hidden``: loads + hidden (a linear surrogate of everything the FE model depends on);
- ``imu_mass_hidden``: the sensors and body mass plus the hidden factors (an oracle).

Also: the share of each target's variance that lies between runners (1 - pooled within-runner
variance / total variance), and how well ``imu`` and ``imu_mass`` recover each load variable.
R^2 = 1 - SSE / SS_total with SS_total about the mean of all trials; it is negative when a
predictor is worse than that mean. Only trials with labels in the store are used (``--partial``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ALPHAS = [10.0**e for e in range(-3, 4)]
HIDDEN = ("tissue_stiffness", "fascia_stiffness", "width_ratio", "arch_ratio")


def _fit_predict(Xtr: np.ndarray, Ytr: np.ndarray, Xte: np.ndarray, alpha: float) -> np.ndarray:
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd[sd == 0] = 1.0
    A, B = (Xtr - mu) / sd, (Xte - mu) / sd
    ym = Ytr.mean(0)
    coef = np.linalg.solve(A.T @ A + alpha * np.eye(A.shape[1]), A.T @ (Ytr - ym))
    return B @ coef + ym


def loso_predict(X: np.ndarray, Y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """LOSO predictions of every column of Y, the penalty chosen per column by inner LOSO."""
    pred = np.empty_like(Y)
    for g in np.unique(groups):
        te, tr = groups == g, groups != g
        inner = np.zeros((len(ALPHAS), Y.shape[1]))
        for h in np.unique(groups[tr]):
            itr, ite = tr & (groups != h), groups == h
            for a, alpha in enumerate(ALPHAS):
                p = _fit_predict(X[itr], Y[itr], X[ite], alpha)
                inner[a] += ((p - Y[ite]) ** 2).sum(0)
        best = inner.argmin(0)
        for a in np.unique(best):
            cols = best == a
            pred[np.ix_(te, cols)] = _fit_predict(X[tr], Y[tr][:, cols], X[te], ALPHAS[a])
    return pred


def r2(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    return 1.0 - ((P - Y) ** 2).sum(0) / ((Y - Y.mean(0)) ** 2).sum(0)


def between_share(Y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    within = sum(((Y[groups == g] - Y[groups == g].mean(0)) ** 2).sum(0) for g in np.unique(groups))
    return 1.0 - within / ((Y - Y.mean(0)) ** 2).sum(0)


def load_vector(trial: dict[str, Any]) -> tuple[list[float], list[str]]:
    vals, names = [], []
    for ph in trial["loads"]:
        for p in ph["pressures"]:
            vals.append(p["value"])
            names.append(f"{ph['name']}.{p['surface']}_mpa")
        for f in ph["forces"]:
            vals += [f["total"][0], f["total"][2]]
            names += [f"{ph['name']}.achilles_x_n", f"{ph['name']}.achilles_z_n"]
    return vals, names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--work", type=Path, default=REPO / "build" / "study30")
    ap.add_argument("--experiment", type=Path, default=REPO / "specs/experiments/study30.yaml")
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks/results/study30/variance.json")
    ap.add_argument("--partial", action="store_true", help="Use only the runners already solved.")
    args = ap.parse_args(argv)

    from footdt.cohort.manifest import load_manifest
    from footdt.labels.store import LabelStore
    from footdt.learn.dataset import assemble, resolve_targets
    from footdt.spec.experiment import ExperimentSpec
    from footdt.spec.loader import load_spec

    spec = load_spec(args.experiment).spec
    assert isinstance(spec, ExperimentSpec), f"{args.experiment}: not an experiment spec"
    cohort, store = args.work / "cohort_used", args.work / "labels.db"
    if args.partial or not cohort.is_dir():
        cohort = args.work / "cohort"
    manifest = load_manifest(cohort)
    targets = resolve_targets(spec.targets, spec.peak_stat)
    with LabelStore(store, create=False) as ls:
        rows = ls.query(phase=sorted({t.phase for t in targets}), backend="sfepy")
    if args.partial:
        done = {(r.subject, r.trial) for r in rows}
        subs = [s for s in manifest.subjects if all((s.id, t.id) in done for t in s.trials)]
        manifest = manifest.model_copy(update={"subjects": subs})
    ds = assemble(spec, manifest, cohort, rows)
    gen = {s["id"]: s for s in json.loads((cohort / "generation.json").read_text())["subjects"]}

    loads, hidden = [], []
    load_names: list[str] = []
    for sid, tid in zip(ds.subject, ds.trial, strict=True):
        g = gen[str(sid)]
        vals, load_names = load_vector(g["trials"][str(tid)])
        loads.append(vals)
        hidden.append([g["hidden"][h] for h in HIDDEN] + [g["foot_length_mm"]])
    L, H = np.asarray(loads), np.asarray(hidden)
    keep = L.std(0) > 0
    L, load_names = L[:, keep], [n for n, k in zip(load_names, keep, strict=True) if k]
    M = ds.body_mass_kg[:, None]
    sets = {
        "mass": M, "group_mass": np.hstack([(ds.group == "rearfoot")[:, None].astype(float), M]),
        "imu": ds.features, "imu_mass": np.hstack([ds.features, M]),
        "loads": L, "hidden": H, "loads_hidden": np.hstack([L, H]),
        "imu_mass_hidden": np.hstack([ds.features, M, H]),
    }  # fmt: skip
    groups = ds.subject
    out: dict[str, Any] = {
        "n_trials": ds.n, "n_runners": len(ds.subjects), "targets": list(ds.targets),
        "feature_names": list(ds.feature_names), "load_names": load_names,
        "hidden_names": [*HIDDEN, "foot_length_mm"],
        "between_runner_share": dict(zip(ds.targets, between_share(ds.Y, groups).round(3).tolist(), strict=True)),
        "r2_loso": {}, "loads_from_imu_r2": {},
    }  # fmt: skip
    for name, X in sets.items():
        print(f"{name} ...", file=sys.stderr, flush=True)
        out["r2_loso"][name] = dict(
            zip(ds.targets, r2(ds.Y, loso_predict(X, ds.Y, groups)).round(3).tolist(), strict=True)
        )
    for name in ("mass", "imu", "imu_mass"):
        out["loads_from_imu_r2"][name] = dict(
            zip(
                load_names,
                r2(L, loso_predict(sets[name], L, groups)).round(3).tolist(),
                strict=True,
            )
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    cols = list(sets)
    print("target".ljust(34) + " between " + " ".join(c[:9].rjust(9) for c in cols))
    for k, t in enumerate(ds.targets):
        vals = [out["r2_loso"][c][t] for c in cols]
        print(t.ljust(34) + f" {out['between_runner_share'][t]:7.2f} " + " ".join(f"{v:9.2f}" for v in vals))  # fmt: skip
        del k
    print("median".ljust(34) + " " * 9 + " ".join(f"{np.median(list(out['r2_loso'][c].values())):9.2f}" for c in cols))  # fmt: skip
    print("\nloads recovered (LOSO R^2):")
    for ln in load_names:
        print(ln.ljust(34) + " ".join(f"{out['loads_from_imu_r2'][c][ln]:9.2f}" for c in ("mass", "imu", "imu_mass")))  # fmt: skip
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
