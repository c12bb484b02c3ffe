"""Interpretation: per-sensor permutation importance and attention weights.

Permutation importance is computed on held-out predictions. One permutation of all samples is
drawn per repeat before cross-validation; as every sample is held out exactly once, this permutes
the pooled held-out set. In each fold the held-out samples' foot inputs (its channels and the
static inputs derived from it), then the tibia's, then the other static inputs if any, are
replaced by those of their permutation partners and predicted by that fold's model. Importance of a group = RMSE(permuted) / RMSE(intact) - 1 per target, averaged
over repeats: ~0 means the model does not use the group. Evaluation computes it from
``permutation.csv`` (``footdt.evaluate``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from footdt.domain import SENSORS
from footdt.learn.dataset import imu_static_name


def permutation_plan(n: int, repeats: int, seed: int) -> np.ndarray:
    """(repeats, n) permutations of the sample indices."""
    rng = np.random.default_rng(seed)
    return (
        np.stack([rng.permutation(n) for _ in range(repeats)]) if repeats else np.zeros((0, n), int)
    )


@dataclass(frozen=True)
class InputGroup:
    """The window channels and static columns one permutation moves together."""

    channels: list[int]
    static: list[int]


def input_groups(channels: Sequence[str], static_names: Sequence[str]) -> dict[str, InputGroup]:
    """{'foot': ..., 'tibia': ..., 'static': ...} (non-empty only). A sensor's group holds its
    window channels and the static inputs derived from it (``imu.<sensor>_...``), so permuting
    a sensor takes everything it measured; 'static' holds the other static inputs."""
    own = {s: [j for j, n in enumerate(static_names) if n.startswith(imu_static_name(f"{s}_"))]
           for s in SENSORS}  # fmt: skip
    out = {s: InputGroup([i for i, c in enumerate(channels) if c.startswith(f"{s}_")], own[s])
           for s in SENSORS}  # fmt: skip
    taken = {j for g in out.values() for j in g.static}
    out["static"] = InputGroup([], [j for j in range(len(static_names)) if j not in taken])
    return {k: g for k, g in out.items() if g.channels or g.static}


def permuted_inputs(
    X: np.ndarray, S: np.ndarray, rows: np.ndarray, partner: np.ndarray, group: InputGroup
) -> tuple[np.ndarray, np.ndarray]:
    """Raw inputs of ``rows`` with ``group``'s channels and static columns taken from
    ``partner`` rows."""
    x, s = X[rows].copy(), S[rows].copy()
    x[:, :, group.channels] = X[partner][:, :, group.channels]
    s[:, group.static] = S[partner][:, group.static]
    return x, s


def attention_weights(model: Any, inputs: Any, n_steps: int) -> np.ndarray:
    """Attention over the input time axis (n, n_steps): pooled weights spread back evenly."""
    from footdt.learn.architectures import attention_model

    sub = attention_model(model)
    w = np.asarray(sub(inputs, training=False))[:, :, 0]  # (n, pooled)
    pool = max(1, n_steps // w.shape[1])
    full = np.repeat(w / pool, pool, axis=1)
    if full.shape[1] < n_steps:  # pooling dropped a remainder: give it no weight
        full = np.pad(full, ((0, 0), (0, n_steps - full.shape[1])))
    return full[:, :n_steps]


def importance_table(perm: Any, base: Any) -> Any:
    """Importance per group and target from the permutation and intact model predictions.

    ``perm``: DataFrame (subject, trial, target, permuted, repeat, true_mpa, pred_mpa);
    ``base``: DataFrame (subject, trial, target, true_mpa, pred_mpa) of the intact model.
    Returns a DataFrame (permuted, target, rmse_intact, rmse_permuted, importance).
    """
    import pandas as pd

    def rmse(df: Any) -> float:
        return float(np.sqrt(np.mean((df["pred_mpa"] - df["true_mpa"]) ** 2)))

    intact = {t: rmse(d) for t, d in base.groupby("target")}
    rows = []
    for (group, target), d in perm.groupby(["permuted", "target"]):
        per_rep = [rmse(r) for _, r in d.groupby("repeat")]
        rp = float(np.mean(per_rep))
        ri = intact[target]
        rows.append({"permuted": group, "target": target, "rmse_intact": ri, "rmse_permuted": rp,
                     "importance": rp / ri - 1.0 if ri > 0 else float("nan")})  # fmt: skip
    return pd.DataFrame(
        rows, columns=["permuted", "target", "rmse_intact", "rmse_permuted", "importance"]
    )
