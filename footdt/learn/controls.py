"""Negative controls for the learning study: does a network's gain over body mass come from the
runner's own accelerometers?

``swap_runner_imu`` gives every runner the wearable data of another runner (a random derangement
of the runners, seeded): IMU windows, IMU features, stride timing and the static inputs measured
from the recording (timing, IMU summary features) move with the wearable, while labels, body
mass and the other static inputs stay with the runner.
A learner trained and scored on the swapped data set under the same leave-one-subject-out folds
must lose whatever it gained from the IMU; if it keeps the gain, the gain was not the IMU's.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from footdt.learn.dataset import Dataset, measured_static


def derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A permutation of ``range(n)`` with no fixed point (n >= 2)."""
    if n < 2:
        raise ValueError("swapping needs at least two runners")
    while True:
        p = rng.permutation(n)
        if (p != np.arange(n)).all():
            return p


def swap_runner_imu(ds: Dataset, seed: int = 0) -> tuple[Dataset, dict[str, str]]:
    """The data set with each runner's wearable data taken from another runner, and the map
    runner -> whose wearable it got. Sample ``k`` of a runner gets sample ``k`` (cycled) of the
    donor runner."""
    subjects = ds.subjects
    donors = derangement(len(subjects), np.random.default_rng(seed))
    rows = {s: ds.rows_of([s]) for s in subjects}
    src = np.empty(ds.n, dtype=int)
    for s, d in zip(subjects, donors, strict=True):
        mine, theirs = rows[s], rows[subjects[d]]
        src[mine] = theirs[np.arange(len(mine)) % len(theirs)]
    static = ds.static.copy()
    for j, name in enumerate(ds.static_names):
        if measured_static(name):  # stride timing and IMU summary features
            static[:, j] = ds.static[src, j]
    swapped = replace(ds, X=ds.X[src], features=ds.features[src], timing=ds.timing[src],
                      static=static)  # fmt: skip
    return swapped, {s: subjects[d] for s, d in zip(subjects, donors, strict=True)}
