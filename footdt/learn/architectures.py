"""The paper's six architectures as small Keras models (a few thousand to tens of thousands of
weights, sized for ~150 samples): ``tcn``, ``cnn1d``, ``lstm``, ``cnn_lstm``, ``lstm_mlp``,
``lstm_attention``.

Every network takes ``imu`` (batch, 300, channels), standardised, plus ``static`` (batch, S) when
side inputs are used; an average-pooling front end (``pool``) shortens the sequence (300 -> 100
by default) so recurrent layers stay fast on a CPU. The IMU branch ends in a layer named
``embedding`` (where ``dann`` attaches its domain classifier); the regression head outputs ``y``
(batch, targets), standardised. ``lstm_attention`` names its weights ``attention_weights``.
Only built-in Keras layers are used, so saved ``.keras`` files load without custom objects.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from footdt.errors import FootdtError

ARCHITECTURES = ("tcn", "cnn1d", "lstm", "cnn_lstm", "lstm_mlp", "lstm_attention")

#: Hyperparameters every architecture understands (those it does not use are ignored).
DEFAULTS: dict[str, Any] = {
    "epochs": 60,  # passes over the training rows
    "batch_size": 16,
    "learning_rate": 3e-3,  # Adam (AdamW when weight_decay > 0)
    "weight_decay": 0.0,
    "pool": 3,  # average-pooling factor on the time axis before the IMU branch
    "units": 32,  # LSTM units
    "filters": 16,  # convolution filters (cnn1d doubles them in later layers)
    "kernel_size": 5,
    "levels": 4,  # TCN residual blocks, dilations 1, 2, 4, ...
    "dense_units": 32,  # regression head (and lstm_mlp's MLP)
    "attention_units": 16,
    "dropout": 0.1,
    "da_weight": 0.3,  # domain-classifier loss weight (domain adaptation only)
}
_INTS = {"epochs", "batch_size", "pool", "units", "filters", "kernel_size", "levels", "dense_units",
         "attention_units"}  # fmt: skip


class HyperparameterError(FootdtError):
    """A hyperparameter name or value is not valid."""


def resolve_hyperparameters(given: dict[str, Any]) -> dict[str, Any]:
    """Defaults overridden by ``given``; unknown names and out-of-range values are errors."""
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise HyperparameterError(
            f"unknown hyperparameter(s) {unknown}; known: {', '.join(sorted(DEFAULTS))}"
        )
    hp = {**DEFAULTS, **given}
    for name in _INTS:
        if hp[name] != int(hp[name]) or int(hp[name]) < 1:
            raise HyperparameterError(
                f"hyperparameter {name} must be a positive integer, got {hp[name]}"
            )
        hp[name] = int(hp[name])
    if not 0 <= float(hp["dropout"]) < 1:
        raise HyperparameterError(f"dropout must be in [0, 1), got {hp['dropout']}")
    for name in ("learning_rate", "da_weight", "weight_decay"):
        if float(hp[name]) < 0 or (name == "learning_rate" and float(hp[name]) == 0):
            raise HyperparameterError(f"{name} must be positive, got {hp[name]}")
        hp[name] = float(hp[name])
    return hp


def _imu_branch(architecture: str, x: Any, hp: dict[str, Any]) -> Any:
    from keras import layers as L

    f, k, u = hp["filters"], hp["kernel_size"], hp["units"]
    if architecture == "tcn":
        for level in range(hp["levels"]):
            d = 2**level
            y = L.Conv1D(f, k, padding="causal", dilation_rate=d, activation="relu")(x)
            y = L.Dropout(hp["dropout"])(y)
            y = L.Conv1D(f, k, padding="causal", dilation_rate=d, activation="relu")(y)
            skip = x if x.shape[-1] == f else L.Conv1D(f, 1)(x)
            x = L.Activation("relu")(L.Add()([y, skip]))
        return L.GlobalAveragePooling1D()(x)
    if architecture == "cnn1d":
        x = L.Conv1D(f, k, padding="same", activation="relu")(x)
        x = L.MaxPooling1D(2)(x)
        x = L.Conv1D(2 * f, k, padding="same", activation="relu")(x)
        x = L.MaxPooling1D(2)(x)
        x = L.Conv1D(2 * f, 3, padding="same", activation="relu")(x)
        return L.GlobalAveragePooling1D()(x)
    if architecture in ("lstm", "lstm_mlp"):
        return L.LSTM(u)(x)
    if architecture == "cnn_lstm":
        x = L.Conv1D(f, k, padding="same", activation="relu")(x)
        x = L.MaxPooling1D(2)(x)
        return L.LSTM(u)(x)
    if architecture == "lstm_attention":
        seq = L.LSTM(u, return_sequences=True)(x)
        score = L.Dense(hp["attention_units"], activation="tanh")(seq)
        score = L.Dense(1)(score)
        weights = L.Softmax(axis=1, name="attention_weights")(score)  # (batch, time, 1)
        context = L.Dot(axes=1)([weights, seq])  # (batch, 1, units)
        return L.Flatten()(context)
    raise HyperparameterError(f"unknown architecture {architecture!r}; use one of {ARCHITECTURES}")


def build_network(
    architecture: str,
    *,
    n_steps: int,
    n_channels: int,
    n_targets: int,
    n_static: int = 0,
    hp: dict[str, Any] | None = None,
    readout: tuple[np.ndarray, np.ndarray] | None = None,
) -> Any:
    """A compiled-free ``keras.Model``: inputs ``imu`` (+ ``static``), output ``y`` (standardised).

    With ``readout`` = (W (S, K), b (K,)), a frozen linear layer ``readout`` of the static inputs
    is added to ``y``: the network learns the residual of that read-out (``model.readout``)."""
    import keras
    from keras import layers as L

    hp = resolve_hyperparameters(hp or {})
    imu = keras.Input((n_steps, n_channels), name="imu")
    x = L.AveragePooling1D(hp["pool"], name="pool")(imu) if hp["pool"] > 1 else imu
    emb = L.Identity(name="embedding")(_imu_branch(architecture, x, hp))
    h = L.Dropout(hp["dropout"])(emb)
    inputs = [imu]
    if n_static:
        static = keras.Input((n_static,), name="static")
        inputs.append(static)
        s = static
        if architecture == "lstm_mlp":
            s = L.Dense(hp["dense_units"] // 2 or 1, activation="relu")(s)
        h = L.Concatenate()([h, s])
    h = L.Dense(hp["dense_units"], activation="relu")(h)
    if architecture == "lstm_mlp":
        h = L.Dropout(hp["dropout"])(h)
        h = L.Dense(hp["dense_units"], activation="relu")(h)
    # zero-initialised output: an untrained network predicts the scaled targets' training mean
    # (with per-body-mass targets, exactly the body-mass baseline); it departs from it only as
    # far as the training runners' IMU and inputs justify
    y = L.Dense(n_targets, name="y", kernel_initializer="zeros")(h)
    if readout is not None:
        if not n_static:
            raise HyperparameterError("a read-out needs static inputs (inputs.static_features)")
        w, b = readout
        if w.shape != (n_static, n_targets) or b.shape != (n_targets,):
            raise HyperparameterError(
                f"read-out of shape {w.shape}, {b.shape} for {n_static} static inputs and "
                f"{n_targets} targets"
            )
        lin = L.Dense(n_targets, name="readout", trainable=False)
        r = lin(static)
        lin.set_weights([w.astype("float32"), b.astype("float32")])
        y = L.Add(name="output")([r, y])
    return keras.Model(inputs if n_static else imu, y, name=architecture)


def attention_model(model: Any) -> Any:
    """Sub-model from ``model``'s inputs to its attention weights (batch, pooled time, 1)."""
    import keras

    try:
        layer = model.get_layer("attention_weights")
    except ValueError:
        raise HyperparameterError(
            f"model {model.name!r} has no attention layer (only lstm_attention has one)"
        ) from None
    inputs = model.inputs if len(model.inputs) > 1 else model.inputs[0]
    return keras.Model(inputs, layer.output)
