"""One training loop for every architecture, with or without domain adaptation.

Inputs and targets arrive standardised (``folds.FoldScalers``). The loss is the mean squared
error over all targets; with a ``DomainPlan`` it adds ``da_weight`` x the class-balanced
cross-entropy of the domain classifier, whose gradient the GRL reverses, with ``lambda``
following Ganin's schedule over the training steps. ``on_epoch(epoch, train_loss, val_loss)`` is
called after every epoch (Optuna's pruning hook raises from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from footdt.errors import FootdtError
from footdt.learn.dann import DomainPlan, attach_domain_head, ganin_lambda
from footdt.learn.dataset import Dataset
from footdt.learn.folds import FoldScalers

if TYPE_CHECKING:
    from footdt.spec.experiment import ExperimentSpec


class TrainingDiverged(FootdtError):
    """The loss became NaN/inf (learning rate too high, or bad inputs)."""


@dataclass(frozen=True)
class Arrays:
    """Standardised network inputs and (optionally) targets of some rows."""

    x: np.ndarray  # (n, T, C) float32
    s: np.ndarray | None  # (n, S) float32 or None
    y: np.ndarray | None = None  # (n, K) float32

    def inputs(self, rows: np.ndarray | slice = slice(None)) -> Any:
        return self.x[rows] if self.s is None else (self.x[rows], self.s[rows])

    def __len__(self) -> int:
        return len(self.x)


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    domain_loss: list[float] = field(default_factory=list)
    stop_loss: list[float] = field(default_factory=list)  # early-stopping runners' loss per epoch
    best_epoch: int | None = None  # 1-based epoch whose weights were kept (early stopping)
    shrinkage: list[float] | None = None  # per target, the share of the network's departure kept


def _specs(model: Any) -> Any:
    """Input signature of ``model`` with a free batch dimension (one trace for every batch size)."""
    import tensorflow as tf

    specs = [tf.TensorSpec((None, *t.shape[1:]), tf.float32) for t in model.inputs]
    return specs[0] if len(specs) == 1 else tuple(specs)


def inference_fn(model: Any) -> Callable[[Any], Any]:
    """A compiled ``model(inputs, training=False)`` (cached on the model; traced once)."""
    fn = getattr(model, "_footdt_infer", None)
    if fn is None:
        import tensorflow as tf

        fn = tf.function(
            lambda inputs: model(inputs, training=False), input_signature=[_specs(model)]
        )
        model._footdt_infer = fn
    return fn  # type: ignore[no-any-return,unused-ignore]


def predict(model: Any, data: Arrays, batch: int = 512) -> np.ndarray:
    """Model outputs (n, K) (standardised) in inference mode."""
    fn = inference_fn(model)
    out = [np.asarray(fn(data.inputs(slice(i, i + batch)))) for i in range(0, len(data), batch)]
    return np.concatenate(out, axis=0)


def _optimizer(hp: dict[str, Any]) -> Any:
    import keras

    if hp["weight_decay"] > 0:
        return keras.optimizers.AdamW(hp["learning_rate"], weight_decay=hp["weight_decay"])
    return keras.optimizers.Adam(hp["learning_rate"])


def fit(
    model: Any,
    train: Arrays,
    hp: dict[str, Any],
    *,
    seed: int,
    domain: DomainPlan | None = None,
    target: Arrays | None = None,
    val: Arrays | None = None,
    on_epoch: Callable[[int, float, float | None], None] | None = None,
    stop: Arrays | None = None,
    patience: int | None = None,
) -> History:
    """Train ``model`` in place for up to ``hp['epochs']`` epochs; ``target`` holds the domain
    plan's target rows (transductive), IMU only. With ``stop`` (labelled rows of runners kept out
    of ``train``) and ``patience``, training stops after ``patience`` epochs without a lower loss
    on ``stop`` and the best epoch's weights are restored."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    opt = _optimizer(hp)
    mse = tf.keras.losses.MeanSquaredError()
    n, bs = len(train), min(hp["batch_size"], len(train))
    steps_per_epoch = -(-n // bs)
    total = max(1, hp["epochs"] * steps_per_epoch)
    hist = History()
    in_spec, y_spec = _specs(model), tf.TensorSpec((None, model.output_shape[-1]), tf.float32)

    if domain is None:
        variables = model.trainable_variables
        opt.build(variables)  # slots exist before tracing: one trace instead of two

        @tf.function(input_signature=[in_spec, y_spec])
        def step(inputs: Any, y: Any) -> Any:
            with tf.GradientTape() as tape:
                loss = mse(y, model(inputs, training=True))
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            return loss, tf.constant(0.0)

    else:
        dmodel, grl = attach_domain_head(model, domain.n_domains)
        variables = list(
            {id(v): v for v in (*model.trainable_variables, *dmodel.trainable_variables)}.values()
        )
        opt.build(variables)
        ce = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        da_w = float(hp["da_weight"])
        counts = np.bincount(domain.source_domain, minlength=domain.n_domains).astype(float)
        if target is not None and len(target):
            counts[-1] += len(target)

        d_specs = [tf.TensorSpec((None, *model.inputs[0].shape[1:]), tf.float32),
                   tf.TensorSpec((None,), tf.int64), tf.TensorSpec((None,), tf.float32)]  # fmt: skip

        @tf.function(input_signature=[in_spec, y_spec, *d_specs])
        def dstep(inputs: Any, y: Any, dx: Any, d: Any, dw: Any) -> Any:
            with tf.GradientTape() as tape:
                reg = mse(y, model(inputs, training=True))
                dloss = ce(d, dmodel(dx, training=True), sample_weight=dw)
                loss = reg + da_w * dloss
            opt.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
            return reg, dloss

    step_no = 0
    for epoch in range(hp["epochs"]):
        order = rng.permutation(n)
        losses, dlosses = [], []
        for b in range(steps_per_epoch):
            rows = order[b * bs : (b + 1) * bs]
            y = train.y[rows] if train.y is not None else None
            if domain is None:
                loss, dl = step(train.inputs(rows), y)
            else:
                grl.lam.assign(ganin_lambda(step_no / total))
                dx, d = train.x[rows], domain.source_domain[rows]
                if target is not None and len(target):
                    t = rng.integers(0, len(target), len(rows))
                    dx = np.concatenate([dx, target.x[t]])
                    d = np.concatenate([d, np.full(len(t), domain.n_domains - 1)])
                dw = (1.0 / counts[d]).astype(np.float32)
                loss, dl = dstep(train.inputs(rows), y, dx, d.astype(np.int64), dw / dw.mean())
            losses.append(float(loss))
            dlosses.append(float(dl))
            step_no += 1
        train_loss = float(np.mean(losses))
        if not np.isfinite(train_loss):
            raise TrainingDiverged(
                f"training loss became {train_loss} in epoch {epoch + 1}; lower learning_rate "
                f"(now {hp['learning_rate']:g})"
            )
        hist.train_loss.append(train_loss)
        hist.domain_loss.append(float(np.mean(dlosses)))
        val_loss = None
        if val is not None and val.y is not None:
            val_loss = float(np.mean((predict(model, val) - val.y) ** 2))
            hist.val_loss.append(val_loss)
        if on_epoch is not None:
            on_epoch(epoch, train_loss, val_loss)
        if stop is not None and stop.y is not None and patience:
            hist.stop_loss.append(float(np.mean((predict(model, stop) - stop.y) ** 2)))
            best = int(np.argmin(hist.stop_loss))
            if best == epoch:
                best_weights = model.get_weights()
            elif epoch - best >= patience:
                break
    if hist.stop_loss:
        hist.best_epoch = int(np.argmin(hist.stop_loss)) + 1
        model.set_weights(best_weights)
    return hist


@dataclass
class Outcome:
    """A trained network and its predictions for the evaluation rows (MPa)."""

    model: Any
    scalers: FoldScalers
    pred_mpa: np.ndarray  # (n_eval, K)
    val_loss: float | None  # MSE of standardised targets on the evaluation rows (if scored)
    history: History
    domain: DomainPlan | None
    stop_subjects: tuple[str, ...] = ()  # training runners kept out to decide early stopping
    readout: Readout | None = None  # the fixed linear read-out the network adds to


@dataclass(frozen=True)
class Readout:
    """A linear read-out of the standardised static inputs onto the standardised targets
    (``model.readout: ridge``): ``z = s @ weight + bias``, fitted on ``rows``."""

    weight: np.ndarray  # (S, K)
    bias: np.ndarray  # (K,)
    alpha: np.ndarray  # (K,) ridge penalty per target
    rows: np.ndarray  # dataset rows it was fitted on

    def __call__(self, s: np.ndarray) -> np.ndarray:
        return np.asarray(s, dtype=np.float64) @ self.weight + self.bias


def fit_readout(
    data: Arrays, subject: np.ndarray, rows: np.ndarray, *, alphas: Any, seed: int,
) -> Readout:  # fmt: skip
    """Ridge from ``data.s`` to ``data.y`` (scikit-learn, the ``ridge`` baseline's fit: penalty
    per target by leave-one-runner-out inner CV), folded into one weight matrix and bias."""
    from footdt.learn.baselines import RidgeBaseline

    n = len(data)
    if data.s is None or data.y is None:
        raise ValueError("a read-out needs static inputs and targets")
    rb = RidgeBaseline.fit(data.s, data.y, np.asarray(subject), np.arange(n), alphas=alphas,
                           inner_folds=None, seed=seed)  # fmt: skip
    scaler, ridge = rb.model[0], rb.model[-1]
    coef = np.asarray(ridge.coef_, dtype=np.float64).reshape(data.y.shape[1], -1).T  # (S, K)
    w = coef / scaler.scale_[:, None]
    b = np.asarray(ridge.intercept_, dtype=np.float64) - scaler.mean_ @ w
    return Readout(w, b, rb.alpha, np.asarray(rows))


def shrink_to_baseline(model: Any, stop: Arrays, readout: Readout | None = None) -> list[float]:
    """Scale each target's output towards 0 (the baseline the targets are scaled around: body
    mass with per-kg targets) by ``lam`` in [0, 1], the least-squares factor on the early-stopping
    runners: ``lam = clip(<z, y> / <z, z>, 0, 1)`` with ``z`` the network's output there. A target
    on which the network's departures from the baseline do not carry over to runners it was not
    fitted on is pulled back to the baseline. Folded into the output layer's weights, so saved
    networks predict with it. With a ``readout`` the baseline is the read-out: only the
    network's residual on it is shrunk."""
    z = predict(model, stop).astype(np.float64)
    y = np.asarray(stop.y, dtype=np.float64)
    if readout is not None:
        if stop.s is None:
            raise ValueError("a read-out needs the static inputs of the early-stopping runners")
        base = readout(stop.s)
        z, y = z - base, y - base
    zz = (z * z).sum(axis=0)
    lam = np.clip(np.where(zz > 1e-12, (z * y).sum(axis=0) / np.maximum(zz, 1e-12), 0.0), 0.0, 1.0)
    layer = model.get_layer("y")
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel * lam[None, :].astype(kernel.dtype), bias * lam.astype(bias.dtype)])
    return [round(float(v), 4) for v in lam]


def scale_inputs(scalers: FoldScalers, X: np.ndarray, S: np.ndarray) -> Arrays:
    """Standardised network inputs from raw windows (n, T, C) in m/s^2 and static inputs (n, S)."""
    s = scalers.static.transform(S) if S.shape[1] else None
    return Arrays(scalers.x.transform(X), s)


def fold_arrays(ds: Dataset, rows: np.ndarray, scalers: FoldScalers, *, labels: bool) -> Arrays:
    """Standardised inputs (and, if ``labels``, targets) of ``rows`` with a fold's scalers."""
    a = scale_inputs(scalers, ds.X[rows], ds.static[rows])
    y = scalers.targets_z(ds.Y[rows], ds.body_mass_kg[rows]) if labels else None
    return Arrays(a.x, a.s, y)


def train_and_predict(
    spec: ExperimentSpec,
    ds: Dataset,
    train_rows: np.ndarray,
    eval_rows: np.ndarray,
    hp: dict[str, Any],
    *,
    seed: int,
    score: bool = True,
    on_epoch: Callable[[int, float, float | None], None] | None = None,
) -> Outcome:
    """Fit scalers on ``train_rows`` only, train the spec's network, predict ``eval_rows``.

    ``score=False`` (the outer held-out subject) never touches the evaluation rows' labels.
    In transductive mode the evaluation rows' IMU is the unlabelled target domain. With early
    stopping (``validation.early_stopping_patience``), a share of the training runners, drawn
    with ``seed``, is kept out of the gradient steps and decides when to stop.
    """
    from footdt.learn import folds
    from footdt.learn.architectures import build_network
    from footdt.learn.dann import plan_domains
    from footdt.learn.runtime import seed_everything

    per_kg = spec.model.target_scaling == "per_body_mass"
    scalers = folds.fit_fold_scalers(ds, train_rows, per_kg=per_kg)
    val_spec = spec.validation
    split = (
        folds.early_stopping_split(ds.subject[train_rows].tolist(),
                                   val_spec.early_stopping_fraction, seed)
        if val_spec.early_stopping_patience else None
    )  # fmt: skip
    stop = None
    if split is not None:
        stop_rows = train_rows[np.isin(ds.subject[train_rows], split[1])]
        train_rows = train_rows[np.isin(ds.subject[train_rows], split[0])]
        stop = fold_arrays(ds, stop_rows, scalers, labels=True)
    train = fold_arrays(ds, train_rows, scalers, labels=True)
    evaluation = fold_arrays(ds, eval_rows, scalers, labels=score)
    plan = plan_domains(
        spec.model.domain_adaptation, ds, train_rows, eval_rows, spec.model.domain_key
    )
    target = (
        Arrays(evaluation.x, None) if plan is not None and plan.mode == "transductive" else None
    )
    readout = (
        fit_readout(train, ds.subject[train_rows], train_rows, alphas=val_spec.ridge_alphas,
                    seed=seed)
        if spec.model.readout == "ridge" else None
    )  # fmt: skip
    seed_everything(seed)
    model = build_network(
        spec.model.architecture,
        n_steps=ds.X.shape[1],
        n_channels=ds.X.shape[2],
        n_targets=ds.Y.shape[1],
        n_static=ds.static.shape[1],
        hp=hp,
        readout=None if readout is None else (readout.weight, readout.bias),
    )
    hist = fit(
        model, train, hp, seed=seed, domain=plan, target=target,
        val=evaluation if score else None, on_epoch=on_epoch, stop=stop,
        patience=val_spec.early_stopping_patience,
    )  # fmt: skip
    if stop is not None and stop.y is not None:
        hist.shrinkage = shrink_to_baseline(model, stop, readout)
    pred_z = predict(model, evaluation)
    val_loss = float(np.mean((pred_z - evaluation.y) ** 2)) if evaluation.y is not None else None
    pred = scalers.to_mpa(pred_z, ds.body_mass_kg[eval_rows])
    stopped_on = tuple(split[1]) if split is not None else ()
    return Outcome(model, scalers, pred, val_loss, hist, plan, stopped_on, readout)
