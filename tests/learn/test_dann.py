"""Gradient reversal (Ganin et al. 2016): the schedule, the reversed gradient, both named modes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from footdt.errors import FootdtError
from footdt.learn.architectures import resolve_hyperparameters
from footdt.learn.dann import ganin_lambda, gradient_reversal_class, plan_domains
from footdt.learn.dataset import load_dataset
from footdt.learn.trainer import train_and_predict
from tests.learn.conftest import tiny_spec
from tests.learn.synthetic import Synthetic


def test_ganin_schedule() -> None:
    assert ganin_lambda(0.0) == 0.0
    assert ganin_lambda(0.5) == pytest.approx(2 / (1 + math.exp(-5)) - 1)
    assert ganin_lambda(1.0) == pytest.approx(0.9999092, rel=1e-6)
    assert all(ganin_lambda(a) < ganin_lambda(b) for a, b in [(0.1, 0.2), (0.2, 0.6)])


def test_gradient_reversal_is_identity_forward_and_minus_lambda_backward(tf_ready: object) -> None:
    import tensorflow as tf

    grl = gradient_reversal_class()()
    x = tf.constant([[1.0, -2.0, 3.0]])
    grl(x)
    grl.lam.assign(0.7)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = grl(x)
        loss = tf.reduce_sum(y * tf.constant([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), [[-0.7, -1.4, -2.1]], rtol=1e-6)


def test_domain_plans(tiny_cohort: Synthetic) -> None:
    ds = load_dataset(tiny_spec(), tiny_cohort.store, tiny_cohort.cohort)
    tr, te = ds.rows_of(["S01", "S02", "S03"]), ds.rows_of(["S04"])
    assert plan_domains("none", ds, tr, te) is None
    p = plan_domains("transductive", ds, tr, te)
    assert p is not None and p.names == ("source", "target") and list(p.target_rows) == list(te)
    p = plan_domains("inductive", ds, tr, te, "group")
    assert p is not None and p.names == ("non_rearfoot", "rearfoot") and len(p.target_rows) == 0
    assert list(p.source_domain) == [0, 0, 1, 1, 1, 1]  # S01 is the non-rearfoot striker
    with pytest.raises(FootdtError, match="needs >= 2 domains"):
        plan_domains("inductive", ds, ds.rows_of(["S02", "S03"]), te, "group")
    p = plan_domains("inductive", ds, tr, te, "subject")
    assert p is not None and p.n_domains == 3


@pytest.mark.parametrize("mode", ["transductive", "inductive"])
def test_dann_trains_and_never_reads_held_out_labels(
    mode: str, tiny_cohort: Synthetic, tf_ready: object
) -> None:
    spec = tiny_spec(architecture="lstm", domain_adaptation=mode, hyperparameters={"epochs": 2})
    ds = load_dataset(spec, tiny_cohort.store, tiny_cohort.cohort)
    tr, te = ds.rows_of(["S01", "S02", "S03"]), ds.rows_of(["S04"])
    hp = resolve_hyperparameters(spec.model.hyperparameters)
    out = train_and_predict(spec, ds, tr, te, hp, seed=0, score=False)
    assert out.domain is not None and out.domain.mode == mode
    assert out.history.domain_loss[0] > 0
    garbled = type(ds)(**{**ds.__dict__, "Y": np.where(ds.subject[:, None] == "S04", 1e6, ds.Y)})
    again = train_and_predict(spec, garbled, tr, te, hp, seed=0, score=False)
    np.testing.assert_array_equal(out.pred_mpa, again.pred_mpa)
