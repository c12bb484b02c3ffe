"""A trained cross-validation run (``footdt train``) applied to a new runner's recording.

1. ``load_twin`` reads the run directory: ``run.json`` (format ``footdt-run``, version
   ``RUN_VERSION``; another version is refused), the experiment (targets, channels, samples per
   phase, static inputs), every fold's scalers (``scalers/fold_NN.npz``) and networks
   (``models/fold_NN_<subject>_seedS.keras``), and the held-out residuals of
   ``predictions.csv`` (intervals, ``footdt.twin.intervals``). From the training cohort (the
   run's, or ``cohort=``) it takes the sampling rate of the training recordings, the runners'
   leg, and the reference of training strides for the OOD flags (``footdt.twin.ood``).
2. ``read_for_twin`` reads the recording as ``footdt gait`` does and checks it against the run:
   the sampling rate (a different rate is refused unless ``resample=True`` asks for it) and the
   leg (``resolve_side``).
3. ``predict_recording`` detects strides (``gait.checks.analyse``, strict), windows the unflagged
   ones as the cohort generator and ``footdt gait windows`` do (fixed phase fractions,
   ``samples_per_phase`` per phase), standardises with each fold's scalers and runs every fold x
   seed network. The mean over seeds is a fold's prediction (as in ``predictions.csv``), the mean
   over folds the point prediction (MPa). The **recording-level** prediction is made the way the
   run was evaluated: on the mean window (``samples: trial_mean``) or as the mean of the stride
   predictions (``samples: stride``); its interval is the calibrated one. Per-stride intervals
   use the same trial-level residuals around each stride's prediction (see docs/predict.md).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from footdt.domain import SENSORS, TIBIA_SENSOR
from footdt.errors import FootdtError
from footdt.gait.events import GaitEvents, Stride
from footdt.gait.recording import GaitDataError, Issue, Recording
from footdt.gait.timing import TIMING_FEATURES, stride_timing
from footdt.learn.dataset import (
    IMU_STATIC_PREFIX,
    TargetRef,
    imu_static_name,
    measured_static,
    resolve_targets,
)
from footdt.learn.folds import FoldScalers
from footdt.twin.damage import DEFAULT_EXPONENT, BoneDamage, damage_by_bone, reference_stress
from footdt.twin.intervals import (
    DEFAULT_LEVEL,
    FLOOR_MPA,
    Calibration,
    Method,
    calibration_from_predictions,
)
from footdt.twin.ood import OodReference, fit_reference, training_strides
from footdt.twin.static import StaticReference, check_static, static_reference

RATE_TOLERANCE = 0.02
Progress = Callable[[int, int, str], None]


class TwinError(FootdtError):
    """A run cannot be applied to a recording (incompatible run, rate, leg, inputs)."""


@dataclass(frozen=True)
class FoldModels:
    index: int
    held_out: str
    scalers: FoldScalers
    models: list[Network]


@dataclass(frozen=True)
class Network:
    """One trained network of a run: its weights, run through ``model``, a Keras model of its
    architecture shared by every network of the run trained with the same hyperparameters (one
    model built and one inference function traced per architecture, not per network)."""

    model: Any
    weights: list[np.ndarray]
    path: Path

    def predict(self, data: Any) -> np.ndarray:
        from footdt.learn.trainer import predict

        self.model.set_weights(self.weights)
        return predict(self.model, data)


@dataclass(frozen=True)
class Twin:
    """Everything needed to predict: the run's folds, calibration and training reference."""

    path: Path
    run: dict[str, Any]
    targets: tuple[TargetRef, ...]
    channels: tuple[str, ...]
    static_names: tuple[str, ...]
    samples: str  # trial_mean | stride
    samples_per_phase: int
    folds: list[FoldModels]
    calibration: Calibration
    sigma_ref: dict[str, float]
    cohort: Path
    train_rate_hz: float
    train_sides: frozenset[str]
    ood: OodReference
    ood_uses_stance: bool
    static_ref: StaticReference | None = None

    @property
    def sensors(self) -> tuple[str, ...]:
        return tuple(s for s in SENSORS if any(c.startswith(f"{s}_") for c in self.channels))

    @property
    def per_kg(self) -> bool:
        """The networks learned stress per kg of body mass (the mass scales their output)."""
        return any(f.scalers.y_per_kg for f in self.folds)

    @property
    def user_static(self) -> tuple[str, ...]:
        """Static inputs the user gives (``--static``): the run's, less the stride timing that
        is measured from the recording, plus body mass when the networks learned per kg."""
        names = [n for n in self.static_names if not measured_static(n)]
        if self.per_kg and "body_mass" not in names:
            names.append("body_mass")
        return tuple(names)


def check_run_version(run_dir: Path) -> dict[str, Any]:
    """``run.json`` of a footdt run this version can read; otherwise a one-line TwinError."""
    import footdt
    from footdt.learn.rundir import RUN_FORMAT, RUN_VERSION, read_run

    meta = run_dir / "run.json"
    if not meta.is_file():
        read_run(run_dir)  # raises its "not a footdt run directory" error
    run: dict[str, Any] = json.loads(meta.read_text())
    if run.get("format") == RUN_FORMAT and run.get("version") != RUN_VERSION:
        by = run.get("versions", {}).get("footdt", "unknown")
        raise TwinError(
            f"{meta}: run format version {run.get('version')!r} (written by footdt {by}); this "
            f"footdt {footdt.__version__} reads run version {RUN_VERSION}: retrain with "
            f"`footdt train`, or predict with footdt {by}"
        )
    return run


def _scalers(path: Path) -> FoldScalers:
    if not path.is_file():
        raise TwinError(f"{path} is missing; the run is incomplete (re-run footdt train)")
    with np.load(path) as z:
        return FoldScalers.from_arrays(z)


def _load_network(path: Path, run: dict[str, Any], shared: dict[str, Any], key: str) -> Network:
    """The network saved at ``path``: the first of its architecture ``key`` is loaded whole (and
    its model kept in ``shared``), every later one only its weights into that model (Keras
    addresses saved weights by layer position, not by the layers' generated names)."""
    import keras

    if not path.is_file():
        raise TwinError(
            f"{path} is missing: predicting needs every fold's networks (train without "
            "disabling model saving)"
        )
    try:
        if key in shared:
            shared[key].load_weights(path)
        else:
            shared[key] = keras.models.load_model(path, compile=False)
        return Network(shared[key], shared[key].get_weights(), path)
    except Exception as exc:  # Keras raises many types for a file it cannot read
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TwinError(
            f"{path}: cannot load the network ({first}); the run was written with keras "
            f"{run.get('versions', {}).get('keras', '?')}, this is keras {keras.__version__}: "
            "retrain or install that version"
        ) from None


def _cohort_dir(run: dict[str, Any], cohort: str | Path | None) -> Path:
    c = Path(cohort) if cohort is not None else Path(run.get("cohort") or "")
    if not str(c) or not (c / "manifest.json").is_file():
        raise TwinError(
            f"the run's training cohort {str(c) or '(none recorded)'!r} has no manifest.json here; "
            "predicting needs it (training sampling rate, the runners' leg, the OOD reference): "
            "pass --cohort DIR"
        )
    return c


def training_rate(cohort: Path, subjects: Sequence[str]) -> float:
    """The sampling rate (Hz) of the run's training recordings, from the cohort's IMU files
    (``recording_rate_hz`` of the generator, or ``meta.rate_hz`` of ``footdt gait windows``)."""
    from footdt.cohort.manifest import load_manifest

    manifest = load_manifest(cohort)
    rates: Counter[float] = Counter()
    for s in manifest.subjects:
        if s.id not in subjects:
            continue
        for t in s.trials:
            with np.load(cohort / t.imu) as z:
                if "recording_rate_hz" in z.files:
                    rates[float(z["recording_rate_hz"])] += 1
                elif "meta" in z.files and "rate_hz" in json.loads(str(z["meta"])):
                    rates[float(json.loads(str(z["meta"]))["rate_hz"])] += 1
                else:
                    raise TwinError(
                        f"{cohort / t.imu}: no recording_rate_hz (or meta rate_hz): the sampling "
                        "rate of the training recordings is unknown, so a recording's rate cannot "
                        "be checked; make the cohort with footdt cohort generate / gait windows"
                    )
    if len(rates) > 1:
        raise TwinError(
            f"{cohort}: the run's training recordings mix sampling rates {sorted(rates)} Hz; "
            "one rate per run is supported"
        )
    return next(iter(rates))


def load_twin(
    run_dir: str | Path, *, cohort: str | Path | None = None, progress: Progress | None = None
) -> Twin:
    """Load a finished run for prediction (see module docstring); ``progress(done, total,
    what)`` is called as networks load."""
    from footdt.cohort.manifest import load_manifest
    from footdt.learn.rundir import read_run
    from footdt.learn.runtime import setup_tensorflow

    d = Path(run_dir)
    check_run_version(d)
    data = read_run(d)
    run, folds = data.run, data.folds
    exp = json.loads((d / "experiment.json").read_text())
    targets = tuple(resolve_targets(run["targets"], run["peak_stat"]))
    subjects = list(dict.fromkeys(s for f in folds for s in (*f["train_subjects"], f["held_out"])))
    c = _cohort_dir(run, cohort)
    spp = int(exp["inputs"]["samples_per_phase"])
    strides = training_strides(c, subjects, run["channels"], spp)
    n_expected = strides.n_trials if run["samples"] == "trial_mean" else len(strides.features)
    if n_expected != run["n_samples"]:
        raise TwinError(
            f"{c}: the run's {len(subjects)} subjects have {n_expected} samples here, but the run "
            f"was trained on {run['n_samples']}: not the cohort the run was trained on (--cohort)"
        )
    manifest = load_manifest(c)
    sides = frozenset(s.side for s in manifest.subjects if s.id in subjects)
    setup_tensorflow(deterministic=bool(run.get("deterministic", True)))
    total = len(folds) * len(run["seeds"])
    members: list[FoldModels] = []
    shared: dict[str, Any] = {}  # one Keras model per architecture (a tuned run's folds differ)
    for f in folds:
        nets = []
        key = json.dumps(f.get("hyperparameters"), sort_keys=True)
        for seed in run["seeds"]:
            name = f"fold_{f['fold']:02d}_{f['held_out']}_seed{seed}.keras"
            nets.append(_load_network(d / "models" / name, run, shared, key))
            if progress is not None:
                progress(len(members) * len(run["seeds"]) + len(nets), total, name)
        scalers = _scalers(d / "scalers" / f"fold_{f['fold']:02d}.npz")
        members.append(FoldModels(int(f["fold"]), f["held_out"], scalers, nets))
    return Twin(
        path=d, run=run, targets=targets, channels=tuple(run["channels"]),
        static_names=tuple(run["static"]), samples=run["samples"], samples_per_phase=spp,
        folds=members, calibration=calibration_from_predictions(data.predictions, run["targets"]),
        sigma_ref=reference_stress(data.predictions, targets), cohort=c,
        train_rate_hz=training_rate(c, subjects), train_sides=sides,
        ood=fit_reference(strides.features, [str(s) for s in strides.subjects], strides.names),
        ood_uses_stance=strides.with_stance,
        static_ref=static_reference(c, subjects, [n for n in run["static"] if not measured_static(n)]),
    )  # fmt: skip


SIDE_LIMIT_DEG = 5.0


def tibia_tilt_deg(rec: Recording, events: GaitEvents) -> float | None:
    """Frontal-plane tilt (deg) of the tibia's mid-stance (35-55 % of stance) specific force,
    atan2(y, z) in the recording's frame: medial (> 0) for a right leg read unmirrored."""
    if TIBIA_SENSOR not in rec.acc:
        return None
    idx = np.concatenate([
        np.arange(rec.index_at(s.ic_s + 0.35 * s.stance_s), rec.index_at(s.ic_s + 0.55 * s.stance_s) + 1)
        for s in events.strides
    ])  # fmt: skip
    m = rec.acc[TIBIA_SENSOR][idx].mean(axis=0)
    return float(np.degrees(np.arctan2(m[1], m[2])))


def _mirrored(rec: Recording) -> Recording:
    """A right-frame-as-read recording declared left: y -> -y (as ``gait.io`` does for left)."""
    acc = {k: a * np.array([1.0, -1.0, 1.0]) for k, a in rec.acc.items()}
    return replace(rec, acc=acc, side="left", mirrored=True)


def resolve_side(
    rec: Recording, declared: str | None, twin: Twin, *, allow_mirrored: bool = False
) -> tuple[Recording, GaitEvents, list[Issue], str]:
    """Detect strides, settle the leg and check it against the run's; returns (recording in
    the right-foot frame, flagged events, issues, how the side was established).

    ``rec`` was read with ``side=declared`` (or ``right``, unmirrored, when not declared). The
    tibia tilts medially at mid-stance (``gait.checks.check_side``), so its sign tells the leg,
    given correctly declared axes: a declared leg contradicted by a lateral tilt beyond 5 deg is
    refused; without ``declared`` the tilt decides (refused if within +-5 deg or no tibia).
    """
    from footdt.gait.checks import analyse

    events, issues = analyse(rec, strict=True)
    tilt = tibia_tilt_deg(rec, events)
    src = rec.source
    if declared is None:
        if tilt is None:
            raise TwinError(f"{src}: without a tibia sensor the leg cannot be told from the data; "
                            "pass --side right or --side left")  # fmt: skip
        if abs(tilt) < SIDE_LIMIT_DEG:
            raise TwinError(f"{src}: the tibia's mid-stance tilt ({tilt:+.1f} deg) is too small to "
                            "tell the leg; pass --side right or --side left")  # fmt: skip
        how = f"inferred from the tibia's mid-stance tilt ({tilt:+.0f} deg as recorded)"
        if tilt < 0:
            rec = _mirrored(rec)
            events, issues = analyse(rec, strict=True)
    else:
        if tilt is not None and tilt < -SIDE_LIMIT_DEG:
            other = "left" if declared == "right" else "right"
            raise TwinError(
                f"{src}: declared --side {declared}, but the tibia (column "
                f"{rec.column(TIBIA_SENSOR, 1)!r}) tilts {-tilt:.0f} deg laterally at mid-stance, as a "
                f"{other} leg does: pass --side {other} (or fix the y axis sign in --sensors)"
            )
        how = "declared" + ("" if tilt is None else f" (tibia tilt {tilt:+.0f} deg agrees)")
    issues = [i for i in issues if i.code != "side_mismatch"]
    if rec.side not in twin.train_sides and not allow_mirrored:
        trained = " and ".join(sorted(twin.train_sides))
        raise TwinError(
            f"{src}: a {rec.side}-leg recording ({how}), but the run was trained on {trained}-leg "
            f"recordings only: record the {trained} leg, or pass --allow-mirrored to predict the "
            f"{rec.side} leg mirrored into the right-foot frame"
        )
    return rec, events, issues, how


def read_for_twin(
    twin: Twin, path: str | Path, sensors: Sequence[str] = (), *, resample: bool = False,
    side: str | None = None, **read_kwargs: Any,
) -> tuple[Recording, float | None]:  # fmt: skip
    """Read a recording (``gait.io.read_recording``; ``sensors`` default to the columns
    ``foot_ax..tibia_az``) and check its rate against the run's. Returns (recording, the rate it
    was resampled from or None)."""
    from footdt.gait.io import read_recording
    from footdt.gait.io import resample as resample_to

    decl = list(sensors) or [f"{s}={s}_ax,{s}_ay,{s}_az" for s in twin.sensors]
    rec = read_recording(path, decl, side=side or "right", **read_kwargs)
    missing = [s for s in twin.sensors if s not in rec.acc]
    if missing:
        raise TwinError(
            f"{path}: the run needs sensor(s) {', '.join(missing)} (channels "
            f"{', '.join(twin.channels)}): declare e.g. --sensors {missing[0]}=colx,coly,colz"
        )
    train = twin.train_rate_hz
    if abs(rec.rate_hz / train - 1.0) <= RATE_TOLERANCE:
        return rec, None
    if not resample:
        raise TwinError(
            f"{path}: sampled at {rec.rate_hz:g} Hz, but the run was trained on {train:g} Hz "
            f"recordings (impact peaks and filtering change with the rate): pass --resample to "
            f"resample to {train:g} Hz (anti-aliased), or record at {train:g} Hz"
        )
    return resample_to(rec, train), rec.rate_hz


def stride_windows(
    rec: Recording, events: GaitEvents, channels: Sequence[str], samples_per_phase: int
) -> tuple[np.ndarray, list[Stride]]:
    """(n, 3 * samples_per_phase, len(channels)) windows (m/s^2) of the unflagged strides,
    cut by ``gait.phases.stride_window`` exactly as for the training cohort, and the strides."""
    from footdt.domain import CHANNELS
    from footdt.gait.phases import DEFAULT_BOUNDS, stride_window

    use = [s for s in events.strides if not s.flags]
    if not use:
        flags = sorted({f for s in events.strides for f in s.flags})
        raise GaitDataError(f"{rec.source}: no usable strides: all {len(events.strides)} detected "
                            f"strides are flagged ({', '.join(flags)})")  # fmt: skip
    acc = dict(rec.acc)
    for s in SENSORS:  # a sensor the run does not use may be absent: stand in, then drop it
        acc.setdefault(s, next(iter(rec.acc.values())))
    full = replace(rec, acc=acc)
    w = np.stack([stride_window(full, s, DEFAULT_BOUNDS, samples_per_phase) for s in use])
    return w[:, :, [CHANNELS.index(c) for c in channels]], use


@dataclass(frozen=True)
class Prediction:
    """Per-stride and recording-level predictions (MPa), intervals, OOD flags and damage."""

    source: str
    strides: tuple[Stride, ...]
    targets: tuple[TargetRef, ...]
    pred_mpa: np.ndarray  # (n, K) mean over folds and seeds
    lower_mpa: np.ndarray  # (n, K)
    upper_mpa: np.ndarray  # (n, K)
    fold_pred_mpa: np.ndarray  # (n_folds, n, K)
    recording_fold_mpa: np.ndarray  # (n_folds, K) each fold's recording-level prediction
    recording_mpa: np.ndarray  # (K,)
    recording_lower_mpa: np.ndarray  # (K,)
    recording_upper_mpa: np.ndarray  # (K,)
    ood_distance: np.ndarray  # (n,)
    ood: np.ndarray  # (n,) bool
    damage: list[BoneDamage]
    level: float
    method: str
    meta: dict[str, Any] = field(default_factory=dict)
    #: the static inputs against the training runners' (``StaticReference.describe``); when
    #: flagged, every stride's ``ood`` is True as well
    static_ood: dict[str, Any] = field(default_factory=dict)
    #: targets whose network output was below 0 MPa on some stride (set to 0: von Mises >= 0)
    clipped_targets: tuple[str, ...] = ()


def static_inputs(twin: Twin, static: Mapping[str, float] | None) -> dict[str, float]:
    """The user's static inputs (``Twin.user_static``), checked: unknown or missing names,
    timing inputs (measured from the recording), and values that are not finite or outside their
    physical range (``footdt.twin.static``) are errors."""
    given = dict(static or {})
    measured = sorted(n for n in given if measured_static(n))
    if measured:
        raise TwinError(f"static input(s) {', '.join(measured)} are measured from the recording's "
                        "gait events and accelerations: do not pass them")  # fmt: skip
    check_static(given)
    unknown = sorted(set(given) - set(twin.user_static))
    if unknown:
        raise TwinError(f"static input(s) {', '.join(unknown)} are not inputs of this run "
                        f"(it uses {', '.join(twin.user_static) or 'none'})")  # fmt: skip
    missing = [n for n in twin.user_static if n not in given]
    if missing:
        from footdt.learn.dataset import STATIC_UNITS

        hint = " ".join(f"--static {n}=<{STATIC_UNITS[n]}>" for n in missing)
        why = (
            " (its networks learned stress per kg of body mass)"
            if missing == ["body_mass"] and twin.per_kg
            else ""
        )
        raise TwinError(f"the run uses static input(s) {', '.join(missing)}{why}: pass {hint}")
    return {n: float(given[n]) for n in twin.user_static}


def static_rows(
    twin: Twin, given: Mapping[str, float], strides: Sequence[Stride], windows: np.ndarray
) -> np.ndarray:
    """(n_strides, S) static inputs in the run's order: the user's values, each stride's
    timing from its gait events (``footdt.gait.timing``) and IMU summary features of its
    ``windows`` (``footdt.learn.features``), as the training data had them."""
    from footdt.learn.features import imu_features

    ic = np.array([s.ic_s for s in strides])
    to = np.array([s.to_s for s in strides])
    measured = stride_timing(ic, to) if any(n in TIMING_FEATURES for n in twin.static_names) else {}
    if any(n.startswith(IMU_STATIC_PREFIX) for n in twin.static_names):
        stance = np.array([s.stance_s for s in strides]) if twin.ood_uses_stance else None
        feats, names = imu_features(windows, twin.channels, stance, twin.samples_per_phase)
        measured.update({imu_static_name(n): feats[:, i] for i, n in enumerate(names)})
    missing = [n for n in twin.static_names if n not in measured and n not in given]
    if missing:
        raise TwinError(f"static input(s) {', '.join(missing)} cannot be measured from this "
                        "recording (the run was trained with them)")  # fmt: skip
    cols = [
        measured[n] if n in measured else np.full(len(strides), given[n]) for n in twin.static_names
    ]
    return np.stack(cols, axis=1) if cols else np.zeros((len(strides), 0))


def predict_recording(
    twin: Twin, rec: Recording, events: GaitEvents, *, static: Mapping[str, float] | None = None,
    level: float = DEFAULT_LEVEL, method: Method = "cv+", exponent: float = DEFAULT_EXPONENT,
    meta: Mapping[str, Any] | None = None,
) -> Prediction:  # fmt: skip
    """Predict every unflagged stride of ``rec`` (events from ``resolve_side``)."""
    from footdt.learn.trainer import scale_inputs
    from footdt.twin.ood import stride_features

    given = static_inputs(twin, static)
    x, used = stride_windows(rec, events, twin.channels, twin.samples_per_phase)
    n = len(x)
    x_all = x if twin.samples == "stride" else np.concatenate([x, x.mean(axis=0, keepdims=True)])
    s_rows = static_rows(twin, given, used, x)
    s_all = s_rows if twin.samples == "stride" else np.concatenate([s_rows, s_rows.mean(axis=0, keepdims=True)])  # fmt: skip
    mass = np.full(len(x_all), given.get("body_mass", np.nan))
    fold_pred = np.empty((len(twin.folds), len(x_all), len(twin.targets)))
    for j, f in enumerate(twin.folds):
        arr = scale_inputs(f.scalers, x_all.astype(np.float32), s_all)
        fold_pred[j] = np.mean([f.scalers.to_mpa(m.predict(arr), mass) for m in f.models], axis=0)
    stride_fold = fold_pred[:, :n]
    rec_fold = stride_fold.mean(axis=1) if twin.samples == "stride" else fold_pred[:, n]
    ids = [f.index for f in twin.folds]
    lo, hi = np.empty((n, len(twin.targets))), np.empty((n, len(twin.targets)))
    rlo, rhi = np.empty(len(twin.targets)), np.empty(len(twin.targets))
    for k, t in enumerate(twin.targets):
        lo[:, k], hi[:, k] = twin.calibration.interval(
            t.name, stride_fold[:, :, k].T, ids, level, method
        )
        a, b = twin.calibration.interval(t.name, rec_fold[None, :, k], ids, level, method)
        rlo[k], rhi[k] = a[0], b[0]
    stance = np.array([s.stance_s for s in used]) if twin.ood_uses_stance else None
    feats, names = stride_features(x, twin.channels, stance, twin.samples_per_phase)
    if tuple(names) != twin.ood.names:
        raise TwinError(f"stride features {names} differ from the training reference's")
    dist = twin.ood.distance(feats)
    pred = stride_fold.mean(axis=0)
    rec_pred = rec_fold.mean(axis=0)
    # von Mises stress is not negative: a network output below 0 is reported as 0 and named
    # (interval bounds are floored at 0 by Calibration.interval)
    clipped = tuple(t.name for k, t in enumerate(twin.targets)
                    if (pred[:, k] < 0).any() or rec_pred[k] < 0)  # fmt: skip
    pred, rec_pred = np.maximum(pred, FLOOR_MPA), np.maximum(rec_pred, FLOOR_MPA)
    sref = twin.static_ref
    static_ood = (
        sref.describe(np.array([[given[n] for n in sref.names]]))
        if sref is not None and sref.names
        else {}
    )
    ood = (dist > twin.ood.threshold) | bool(static_ood.get("flagged", False))
    return Prediction(
        source=rec.source, strides=tuple(used), targets=twin.targets, pred_mpa=pred, lower_mpa=lo,
        upper_mpa=hi, fold_pred_mpa=stride_fold, recording_fold_mpa=rec_fold,
        recording_mpa=rec_pred,
        recording_lower_mpa=rlo, recording_upper_mpa=rhi, ood_distance=dist,
        ood=ood, damage=damage_by_bone(pred, twin.targets, twin.sigma_ref, exponent),
        level=level, method=method, meta=dict(meta or {}), static_ood=static_ood,
        clipped_targets=clipped,
    )  # fmt: skip
