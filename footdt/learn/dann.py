"""Domain adaptation with a gradient reversal layer (Ganin et al. 2016, JMLR 17:59).

A domain classifier reads the IMU ``embedding`` through a gradient reversal layer (GRL): forward
it is the identity, backward it multiplies the gradient by ``-lambda``, so the feature extractor
learns features the classifier cannot tell apart. ``lambda`` follows Ganin's schedule
``lambda_p = 2 / (1 + exp(-10 p)) - 1`` with ``p`` the training progress in [0, 1].

Two named modes (every run and report names the mode):

- ``transductive``: source = the training subjects (labelled), target = the held-out subject's
  unlabelled IMU. Its labels are never read, but its IMU shapes the features.
- ``inductive``: domains among the training subjects only (strike group or subject id); nothing
  of the held-out subject is used.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from footdt.errors import FootdtError
from footdt.learn.dataset import Dataset

MODES = ("none", "transductive", "inductive")


def ganin_lambda(p: float) -> float:
    """GRL coefficient at training progress ``p`` in [0, 1]: 0 at the start, -> 1 at the end."""
    return 2.0 / (1.0 + math.exp(-10.0 * float(p))) - 1.0


@functools.cache
def gradient_reversal_class() -> type:
    """The Keras GRL layer class (defined on first use, so Keras loads lazily)."""
    import keras
    import tensorflow as tf

    class GradientReversal(keras.layers.Layer):
        """Identity forward; gradient times ``-lambda`` backward (``lam`` is a variable)."""

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.lam = self.add_weight(shape=(), initializer="zeros", trainable=False, name="lam")

        def call(self, x: Any) -> Any:
            lam = tf.convert_to_tensor(self.lam)

            @tf.custom_gradient
            def _reverse(t: Any) -> Any:
                def grad(dy: Any) -> Any:
                    return -tf.cast(lam, dy.dtype) * dy

                return tf.identity(t), grad

            return _reverse(x)

    return GradientReversal


@dataclass(frozen=True)
class DomainPlan:
    """Domain labels for one training run.

    ``source_domain`` has one integer per training row; ``target_rows`` (transductive only) are
    dataset rows whose IMU (never labels) joins the domain batches as domain ``n_domains - 1``.
    """

    mode: str
    names: tuple[str, ...]
    source_domain: np.ndarray
    target_rows: np.ndarray

    @property
    def n_domains(self) -> int:
        return len(self.names)


def plan_domains(
    mode: str, ds: Dataset, train_rows: np.ndarray, target_rows: np.ndarray, key: str = "group"
) -> DomainPlan | None:
    """The domain plan of ``mode`` for training rows (and, transductive, the target rows)."""
    if mode == "none":
        return None
    if mode == "transductive":
        return DomainPlan(
            mode, ("source", "target"), np.zeros(len(train_rows), int), np.asarray(target_rows)
        )
    if mode == "inductive":
        values = (ds.group if key == "group" else ds.subject)[train_rows]
        names = tuple(sorted(set(values.tolist())))
        if len(names) < 2:
            raise FootdtError(
                f"inductive domain adaptation by {key} needs >= 2 domains among the training "
                f"subjects, found {list(names)}; use domain_key: subject or domain_adaptation: none"
            )
        index = {n: i for i, n in enumerate(names)}
        return DomainPlan(mode, names, np.array([index[v] for v in values]), np.zeros(0, int))
    raise FootdtError(f"unknown domain adaptation mode {mode!r}; use one of {MODES}")


def attach_domain_head(predictor: Any, n_domains: int, hidden: int = 16) -> tuple[Any, Any]:
    """(domain model: imu -> domain logits through the GRL, the GRL layer) sharing ``predictor``'s
    feature extractor."""
    import keras
    from keras import layers as L

    grl = gradient_reversal_class()(name="gradient_reversal")
    h = grl(predictor.get_layer("embedding").output)
    h = L.Dense(hidden, activation="relu", name="domain_hidden")(h)
    logits = L.Dense(n_domains, name="domain_logits")(h)
    return keras.Model(predictor.inputs[0], logits, name="domain_classifier"), grl
