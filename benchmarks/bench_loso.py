"""Full leave-one-subject-out of one architecture on 50 synthetic runners x 3 trials, and the time
to predict one stride.

Targets: the whole LOSO (50 folds, the paper's 28 targets, baselines, permutation predictions,
models saved) in <= 10 min on a 2-core machine; one stride predicted in <= 5 ms. Hyperparameters
are fixed (paper.yaml's, no search space): nested tuning costs about inner_trials x inner_folds
trainings per fold on top (see docs/learning.md). Runs in a fresh process (peak memory is its own).
Writes benchmarks/results/loso.json. Usage:

    .venv/bin/python benchmarks/bench_loso.py [--arch lstm] [--subjects 50] [--epochs 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import run_isolated, write

LOSO = """
import tempfile, time
from pathlib import Path
import numpy as np
from tests.learn.synthetic import make_cohort
from footdt.spec.loader import load_spec
from footdt.learn.dataset import load_dataset
from footdt.learn.cv import run_loso
from footdt.evaluate.run import evaluate_run
tmp = Path(tempfile.mkdtemp(prefix='bench_loso_'))
t0 = time.perf_counter()
syn = make_cohort(tmp, n_subjects={subjects}, n_trials=3, n_strides=5, seed=0)
base = load_spec('specs/experiments/paper.yaml').spec
model = base.model.model_copy(update={{'architecture': '{arch}', 'search_space': {{}},
                                      'hyperparameters': {{**base.model.hyperparameters, 'epochs': {epochs}}}}})
spec = base.model_copy(update={{'model': model}})
ds = load_dataset(spec, syn.store, syn.cohort)
t1 = time.perf_counter()
run = run_loso(spec, ds, tmp / 'run')
t2 = time.perf_counter()
summary = evaluate_run(tmp / 'run')
t3 = time.perf_counter()
import keras
from footdt.learn.trainer import inference_fn
m = keras.models.load_model(sorted((tmp / 'run' / 'models').glob('*.keras'))[0])
fn = inference_fn(m)
x = np.zeros((1, 300, 6), np.float32)
fn(x)
times = []
for _ in range(300):
    s = time.perf_counter(); np.asarray(fn(x)); times.append(time.perf_counter() - s)
RESULT = dict(architecture='{arch}', subjects={subjects}, trials_per_subject=3, strides_per_trial=5,
              samples=ds.n, targets=len(ds.targets), epochs={epochs}, parameters=int(m.count_params()),
              data_s=round(t1 - t0, 1), loso_s=round(t2 - t1, 1), per_fold_s=round((t2 - t1) / {subjects}, 2),
              evaluate_s=round(t3 - t2, 1),
              predict_stride_ms_median=round(1000 * float(np.median(times)), 3),
              predict_stride_ms_p95=round(1000 * float(np.percentile(times, 95)), 3),
              model_beats=summary['model_beats'], n_targets=summary['n_targets'])
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--arch", default="lstm")
    ap.add_argument("--subjects", type=int, default=50)
    ap.add_argument("--epochs", type=int, default=60)
    args = ap.parse_args()
    r = run_isolated(
        LOSO.format(arch=args.arch, subjects=args.subjects, epochs=args.epochs), timeout=3600
    )
    if "error" not in r:
        r["loso_target_s"], r["predict_target_ms"] = 600, 5.0
        r["loso_within_target"] = r["loso_s"] <= 600
        r["predict_within_target"] = r["predict_stride_ms_median"] <= 5.0
    for k, v in r.items():
        print(f"{k:26s} {v}")
    print(f"wrote {write('loso', {'rows': [r]})}")


if __name__ == "__main__":
    main()
