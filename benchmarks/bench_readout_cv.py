"""How the ridge read-out's penalty is chosen: k subject-grouped inner folds vs leave-one-runner-out.

The read-out alone (ridge on the demo experiment's static inputs, per kg of body mass: the
`ridge_mass`-like model an untrained network returns), leave-one-subject-out over subsets of a
solved cohort, scored like the evaluation (mean per-subject RMSE per target) against the body-mass
baseline. Used to choose leave-one-runner-out for the read-out and the ridge baselines, and the
demo's cohort size (30 or 40 runners x 2 trials).

    .venv/bin/python benchmarks/bench_readout_cv.py build/s50 --cohort build/s50/cohort_to

Writes benchmarks/results/readout_cv.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import write

SUBSETS = [(30, 0, ("T1", "T2")), (30, 10, ("T1", "T2")), (30, 20, ("T1", "T2")),
           (40, 0, ("T1", "T2")), (40, 10, ("T1", "T2")), (50, 0, ("T1", "T2", "T3"))]  # fmt: skip
INNER: tuple[int | None, ...] = (3, 5, None)


def _rmse(preds: dict[str, np.ndarray], ds: object) -> dict[str, np.ndarray]:
    """Mean per-subject RMSE per target (MPa) of each predictor, as ``footdt evaluate`` computes
    it (``footdt.evaluate.metrics.metrics_table``)."""
    import pandas as pd

    from footdt.evaluate.metrics import metrics_table
    from footdt.learn.rundir import long_predictions

    rows = np.arange(ds.n)  # type: ignore[attr-defined]
    frame = pd.concat([long_predictions(ds, rows, p, k, 0) for k, p in preds.items()])  # type: ignore[arg-type]
    table = metrics_table(frame).set_index(["predictor", "target"])["rmse_subject_mean"]
    return {k: table[k].loc[list(ds.targets)].to_numpy() for k in preds}  # type: ignore[attr-defined]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--cohort", type=Path, required=True)
    ap.add_argument("--experiment", type=Path, default=Path("specs/experiments/demo.yaml"))
    a = ap.parse_args()
    from footdt.learn.baselines import BodyMassBaseline, RidgeBaseline
    from footdt.learn.dataset import load_dataset
    from footdt.learn.folds import loso_folds
    from footdt.spec.loader import load_spec

    spec = load_spec(a.experiment).spec.model_copy(update={"label_backend": None})  # the store's
    full = load_dataset(spec, a.dir / "labels.db", a.cohort)
    alphas = spec.validation.ridge_alphas
    rows = []
    for n, off, trials in SUBSETS:
        sub = full.subset(full.rows_of(full.subjects[off : off + n]))
        ds = sub.subset(np.flatnonzero(np.isin(sub.trial, trials)))
        preds = {k: np.zeros_like(ds.Y) for k in ("body_mass", *map(str, INNER))}
        for fold in loso_folds(ds):
            tr, te = fold.train_rows, fold.test_rows
            bm = BodyMassBaseline.fit(ds.Y, ds.body_mass_kg, tr)
            preds["body_mass"][te] = bm.predict(ds.body_mass_kg[te])
            for k in INNER:
                # as fit_readout: per-kg targets, penalty by inner CV of the per-kg error
                r = RidgeBaseline.fit(ds.static, ds.Y / ds.body_mass_kg[:, None], ds.subject, tr,
                                      alphas=alphas, inner_folds=k, seed=0)  # fmt: skip
                per_kg = r.predict(ds.static[te])
                preds[str(k)][te] = per_kg * ds.body_mass_kg[te, None]
        rm = _rmse(preds, ds)
        row = {"runners": n, "offset": off, "trials": list(trials),
               "body_mass_median_rmse": round(float(np.median(rm["body_mass"])), 4)}  # fmt: skip
        for k in INNER:
            name = "leave_one_runner_out" if k is None else f"{k}_folds"
            row[name] = {"median_rmse": round(float(np.median(rm[str(k)])), 4),
                         "beats_body_mass": int((rm[str(k)] < rm["body_mass"]).sum())}  # fmt: skip
        print(row, flush=True)
        rows.append(row)
    print(
        f"written {write('readout_cv', {'dir': str(a.dir), 'cohort': str(a.cohort), 'rows': rows})}"
    )


if __name__ == "__main__":
    main()
