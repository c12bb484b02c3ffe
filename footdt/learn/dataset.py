"""The learning data set: a cohort's IMU windows joined with stress labels by subject and trial.

A sample is either a trial (the mean window over its strides, the default) or a stride (carrying
its trial's labels). ``X`` is (n, 300, channels) in m/s^2, ``Y`` (n, targets) in MPa, ``static``
(n, side inputs) in the units of ``STATIC_UNITS``. Nothing here is fitted: standardisation and
splits live in ``footdt.learn.folds`` and are fitted per fold on training rows only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from footdt.cohort.manifest import WINDOW_CHANNELS, Manifest, Subject, Trial, load_manifest
from footdt.domain import CHANNEL_AXES, PEAK, SENSORS, parse_target
from footdt.errors import FootdtError
from footdt.learn.features import imu_features

if TYPE_CHECKING:
    from footdt.spec.experiment import ExperimentSpec

from footdt.gait.timing import TIMING_FEATURES, TIMING_UNITS, timing_matrix

#: Static side inputs and their units: the runner's (manifest) and the recording's stride timing
#: (``footdt.gait.timing``, from the window file's IC/TO times, as ``footdt predict`` computes it).
IMU_SUMMARY = "imu_summary"  # the static-input group of the IMU summary features
IMU_STATIC_PREFIX = "imu."
STATIC_UNITS = {"body_mass": "kg", "height": "m", "foot_length": "mm", "speed": "m/s",
                **TIMING_UNITS}  # fmt: skip


class DatasetError(FootdtError):
    """Labels and IMU windows cannot be joined (missing, mismatched or malformed data)."""


class LabelLike(Protocol):
    """What ``assemble`` reads of a label row (``footdt.labels.LabelRow`` fits)."""

    @property
    def subject(self) -> str: ...
    @property
    def trial(self) -> str: ...
    @property
    def phase(self) -> str: ...
    @property
    def bone(self) -> str: ...
    @property
    def stat(self) -> str: ...
    @property
    def value_mpa(self) -> float: ...
    @property
    def backend(self) -> str: ...


@dataclass(frozen=True)
class TargetRef:
    """A target name and the stored label it reads (``peak`` resolved to the spec's statistic)."""

    name: str
    phase: str
    bone: str
    stat: str


def resolve_targets(targets: Sequence[str], peak_stat: str) -> list[TargetRef]:
    out = []
    for name in targets:
        phase, bone, kind = parse_target(name)
        out.append(TargetRef(name, phase, bone, peak_stat if kind == PEAK else kind))
    return out


@dataclass(frozen=True)
class Dataset:
    """Samples in cohort order. Per-sample arrays have length ``n``; names are tuples."""

    X: np.ndarray  # (n, T, C) float32, m/s^2
    Y: np.ndarray  # (n, K) float64, MPa
    static: np.ndarray  # (n, S) float64
    features: np.ndarray  # (n, F) float64, see features.py for units
    timing: np.ndarray  # (n, len(TIMING_FEATURES)) float64, footdt.gait.timing
    subject: np.ndarray  # (n,) str
    trial: np.ndarray  # (n,) str
    stride: np.ndarray  # (n,) int, -1 for a trial-mean sample
    group: np.ndarray  # (n,) str: rearfoot | non_rearfoot
    body_mass_kg: np.ndarray  # (n,) float64
    targets: tuple[str, ...]
    channels: tuple[str, ...]
    static_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    label_backend: str

    @property
    def n(self) -> int:
        return len(self.Y)

    @property
    def ridge_features(self) -> np.ndarray:
        """(n, F + timing) inputs of the ridge baselines: IMU features and stride timing."""
        return np.concatenate([self.features, self.timing], axis=1)

    @property
    def ridge_feature_names(self) -> tuple[str, ...]:
        return (*self.feature_names, *TIMING_FEATURES)

    @property
    def subjects(self) -> list[str]:
        """Distinct subject ids in cohort order."""
        return list(dict.fromkeys(self.subject.tolist()))

    def rows_of(self, subjects: Iterable[str]) -> np.ndarray:
        """Indices of the samples of ``subjects`` (ascending)."""
        return np.flatnonzero(np.isin(self.subject, list(subjects)))

    def subset(self, rows: np.ndarray) -> Dataset:
        fields = (
            "X",
            "Y",
            "static",
            "features",
            "timing",
            "subject",
            "trial",
            "stride",
            "group",
            "body_mass_kg",
        )
        return replace(self, **{f: getattr(self, f)[rows] for f in fields})

    def content_hash(self) -> str:
        """Hash of inputs, labels and ids (recorded with a run to detect changed data)."""
        h = hashlib.sha256()
        for a in (self.X, self.Y, self.static):
            h.update(np.ascontiguousarray(a).tobytes())
        for a in (self.subject, self.trial, self.stride):
            h.update("|".join(map(str, a.tolist())).encode())
        h.update("|".join(self.targets + self.channels + self.static_names).encode())
        return h.hexdigest()[:16]


def channel_indices(spec: ExperimentSpec) -> tuple[list[int], tuple[str, ...]]:
    names = tuple(
        f"{s}_{c}" for s in SENSORS if s in spec.inputs.sensors
        for c in CHANNEL_AXES if c in spec.inputs.channels
    )  # fmt: skip
    return [WINDOW_CHANNELS.index(n) for n in names], names


def read_windows(
    cohort_dir: Path, subject: Subject, trial: Trial, n_samples: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """The (n_strides, n_samples, 6) windows of one trial (m/s^2), checked, and the stance times
    (n_strides,) in s when the file has ``stance_time_s`` (cohort generator) or ``stance_s``
    (``gait.phases.Windows``), else None. ``channels`` and ``samples_per_phase``, when the file
    records them, must match the manifest's channel order and the spec."""
    w, stance, _ = read_window_file(cohort_dir, subject, trial, n_samples)
    return w, stance


def read_window_file(
    cohort_dir: Path, subject: Subject, trial: Trial, n_samples: int
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``read_windows`` plus the (n_strides, len(TIMING_FEATURES)) stride timing, when the file
    holds the strides' ``ic_s`` and ``to_s`` (else None)."""
    path = cohort_dir / trial.imu
    where = f"subject {subject.id} trial {trial.id}"
    try:
        with np.load(path) as npz:
            if "windows" not in npz.files:
                raise DatasetError(f"{where}: {path} has no 'windows' array (has {npz.files})")
            w = np.asarray(npz["windows"], dtype=np.float32)
            key = next((k for k in ("stance_time_s", "stance_s") if k in npz.files), None)
            stance = None if key is None else np.asarray(npz[key], float)
            channels = tuple(str(c) for c in npz["channels"]) if "channels" in npz.files else None
            spp = int(npz["samples_per_phase"]) if "samples_per_phase" in npz.files else None
            events = (
                (np.asarray(npz["ic_s"], float), np.asarray(npz["to_s"], float))
                if {"ic_s", "to_s"} <= set(npz.files)
                else None
            )
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{where}: cannot read IMU windows {path}: {exc}") from None
    if channels is not None and channels != WINDOW_CHANNELS:
        raise DatasetError(
            f"{where}: {path} has channels {list(channels)}; expected {list(WINDOW_CHANNELS)}"
        )
    if spp is not None and 3 * spp != n_samples:
        raise DatasetError(
            f"{where}: {path} has {spp} samples per phase; the experiment asks for {n_samples // 3}"
        )
    want = (n_samples, len(WINDOW_CHANNELS))
    if w.ndim != 3 or w.shape[1:] != want or w.shape[0] < 1:
        raise DatasetError(
            f"{where}: IMU windows in {path} have shape {w.shape}; expected (n_strides, {want[0]}, "
            f"{want[1]}) = 3 phases x samples_per_phase, channels {', '.join(WINDOW_CHANNELS)}"
        )
    if not np.isfinite(w).all():
        bad = sorted({int(i) for i in np.argwhere(~np.isfinite(w))[:, 0]})
        raise DatasetError(f"{where}: IMU windows in {path} hold NaN/inf in stride(s) {bad[:10]}")
    if stance is not None and (stance.shape != (len(w),) or not (stance > 0).all()):
        raise DatasetError(
            f"{where}: stance times in {path} must be {len(w)} positive values in s, got {stance}"
        )
    timing = None
    if events is not None:
        ic, to = events
        if ic.shape != (len(w),) or to.shape != ic.shape or not (to > ic).all():
            raise DatasetError(
                f"{where}: ic_s/to_s in {path} must be {len(w)} stride times with to_s > ic_s"
            )
        try:
            timing = timing_matrix(ic, to, TIMING_FEATURES)
        except ValueError as exc:
            raise DatasetError(f"{where}: {path}: {exc}") from None
    return w, stance, timing


def imu_static_name(feature: str) -> str:
    """The static-input name of an IMU summary feature (``imu.<feature>``)."""
    return f"{IMU_STATIC_PREFIX}{feature}"


def measured_static(name: str) -> bool:
    """A static input measured from the recording (stride timing, IMU summary features), not
    given by the user."""
    return name in TIMING_FEATURES or name.startswith(IMU_STATIC_PREFIX)


def expand_static(static_features: Sequence[str], feature_names: Sequence[str]) -> tuple[str, ...]:
    """The static inputs in order, with ``imu_summary`` replaced by one ``imu.<feature>`` input
    per IMU summary feature (``footdt.learn.features``)."""
    out: list[str] = []
    for name in static_features:
        out += [imu_static_name(f) for f in feature_names] if name == IMU_SUMMARY else [name]
    return tuple(out)


def _static_value(name: str, subject: Subject, trial: Trial) -> float:
    """A manifest static input (timing inputs come from the window file, not from here)."""
    value = {
        "body_mass": subject.body_mass_kg,
        "height": subject.height_m,
        "foot_length": subject.foot_length_mm,
        "speed": trial.speed_m_s,
    }[name]
    if value is None:
        raise DatasetError(
            f"subject {subject.id} trial {trial.id}: static feature {name!r} is not in the manifest; "
            "add it or remove it from inputs.static_features"
        )
    return float(value)


def label_table(
    rows: Iterable[LabelLike], targets: Sequence[TargetRef], backend: str | None
) -> tuple[dict[tuple[str, str], np.ndarray], str]:
    """{(subject, trial): label vector (MPa)} for ``targets`` from label rows of one backend."""
    wanted = {(t.phase, t.bone, t.stat): k for k, t in enumerate(targets)}
    rows = [r for r in rows if (r.phase, r.bone, r.stat) in wanted]
    backends = sorted({r.backend for r in rows})
    if backend is None:
        if len(backends) > 1:
            raise DatasetError(
                f"the label store holds labels of several backends {backends}; "
                "choose one with label_backend in the experiment spec"
            )
        backend = backends[0] if backends else "none"
    table: dict[tuple[str, str], np.ndarray] = {}
    for r in rows:
        if r.backend != backend:
            continue
        vec = table.setdefault((r.subject, r.trial), np.full(len(targets), np.nan))
        vec[wanted[(r.phase, r.bone, r.stat)]] = float(r.value_mpa)
        if not np.isfinite(r.value_mpa):
            raise DatasetError(
                f"subject {r.subject} trial {r.trial}: label {r.phase}.{r.bone}.{r.stat} "
                f"({backend}) is {r.value_mpa}; re-solve this trial"
            )
    return table, backend


def _check_subjects(
    manifest: Manifest, table: dict[tuple[str, str], np.ndarray], backend: str
) -> None:
    cohort = {s.id for s in manifest.subjects}
    store = {s for s, _ in table}
    if not store:
        raise DatasetError(
            f"the label store holds no labels of the targets for backend {backend!r}"
        )
    missing = sorted(cohort - store)
    if missing:
        raise DatasetError(
            f"subject(s) {', '.join(missing[:10])} of the cohort have no labels in the store "
            f"(backend {backend}); solve them or remove them from the cohort"
        )
    extra = sorted(store - cohort)
    if extra:
        raise DatasetError(
            f"subject(s) {', '.join(extra[:10])} have labels in the store but are not in the cohort; "
            "use the cohort the labels were solved for"
        )


def _check_targets(
    targets: Sequence[TargetRef], table: dict[tuple[str, str], np.ndarray], backend: str
) -> None:
    have: np.ndarray = np.any([np.isfinite(v) for v in table.values()], axis=0)
    absent = [t for k, t in enumerate(targets) if not have[k]]
    if absent:
        names = ", ".join(f"{t.name} (stored as {t.phase}/{t.bone}/{t.stat})" for t in absent[:5])
        raise DatasetError(
            f"target(s) {names} are not in the label store for any subject (backend {backend}); "
            "solve with outputs for these bones/statistics or remove them from targets"
        )


def assemble(
    spec: ExperimentSpec, manifest: Manifest, cohort_dir: str | Path, rows: Iterable[LabelLike]
) -> Dataset:
    """Join the cohort's IMU windows with label ``rows`` (objects with LabelRow's fields)."""
    cohort_dir = Path(cohort_dir)
    targets = resolve_targets(spec.targets, spec.peak_stat)
    table, backend = label_table(rows, targets, spec.label_backend)
    _check_subjects(manifest, table, backend)
    ch_idx, ch_names = channel_indices(spec)
    n_samples = 3 * spec.inputs.samples_per_phase
    per_stride = spec.inputs.samples == "stride"
    _check_targets(targets, table, backend)
    cols: dict[str, list] = {
        k: [] for k in ("X", "Y", "S", "F", "T", "sub", "tri", "str", "grp", "mass")
    }
    feat_names: list[str] | None = None
    for subject in manifest.subjects:
        for trial in subject.trials:
            y = table.get((subject.id, trial.id))
            if y is None:
                raise DatasetError(
                    f"subject {subject.id} trial {trial.id}: no labels in the store (backend "
                    f"{backend}); solve this trial or remove it from the cohort"
                )
            if np.isnan(y).any():
                lost = [t.name for t, v in zip(targets, y, strict=True) if np.isnan(v)]
                raise DatasetError(
                    f"subject {subject.id} trial {trial.id}: target(s) {', '.join(lost[:5])} missing "
                    f"from the store (backend {backend}, peak_stat {spec.peak_stat})"
                )
            w, stance, timing = read_window_file(cohort_dir, subject, trial, n_samples)
            if timing is None:
                raise DatasetError(
                    f"subject {subject.id} trial {trial.id}: {trial.imu} has no ic_s/to_s stride "
                    "times (needed for the timing inputs); write it with `footdt gait windows` "
                    "or `footdt cohort generate`"
                )
            w = w[:, :, ch_idx]
            feats, names = imu_features(w, ch_names, stance, spec.inputs.samples_per_phase)
            if feat_names is None:
                feat_names = names
            elif names != feat_names:
                raise DatasetError(
                    f"subject {subject.id} trial {trial.id}: IMU features {names} differ from "
                    f"earlier trials' {feat_names} (stance_time_s must be in every file or none)"
                )
            tcol = {n: timing[:, i] for i, n in enumerate(TIMING_FEATURES)}
            tcol.update({imu_static_name(n): feats[:, i] for i, n in enumerate(names)})
            s_names = expand_static(spec.inputs.static_features, names)
            s_rows = np.stack(
                [tcol[n] if n in tcol else np.full(len(w), _static_value(n, subject, trial))
                 for n in s_names], axis=1,
            ) if s_names else np.zeros((len(w), 0))  # fmt: skip
            samples = (
                [(w[i], feats[i], timing[i], s_rows[i], i) for i in range(len(w))]
                if per_stride
                else [(w.mean(axis=0), feats.mean(axis=0), timing.mean(axis=0),
                       s_rows.mean(axis=0), -1)]
            )  # fmt: skip
            for x, f, tm, s, k in samples:
                cols["X"].append(x)
                cols["F"].append(f)
                cols["T"].append(tm)
                cols["str"].append(k)
                cols["Y"].append(y)
                cols["S"].append(s)
                cols["sub"].append(subject.id)
                cols["tri"].append(trial.id)
                cols["grp"].append(subject.group)
                cols["mass"].append(subject.body_mass_kg)
    static_names = expand_static(spec.inputs.static_features, feat_names or [])
    n_static = len(static_names)
    return Dataset(
        X=np.asarray(cols["X"], dtype=np.float32),
        Y=np.asarray(cols["Y"], dtype=np.float64),
        static=np.asarray(cols["S"], dtype=np.float64).reshape(len(cols["Y"]), n_static),
        features=np.asarray(cols["F"], dtype=np.float64),
        timing=np.asarray(cols["T"], dtype=np.float64).reshape(
            len(cols["Y"]), len(TIMING_FEATURES)
        ),
        subject=np.asarray(cols["sub"], dtype=str),
        trial=np.asarray(cols["tri"], dtype=str),
        stride=np.asarray(cols["str"], dtype=int),
        group=np.asarray(cols["grp"], dtype=str),
        body_mass_kg=np.asarray(cols["mass"], dtype=np.float64),
        targets=tuple(t.name for t in targets),
        channels=ch_names,
        static_names=static_names,
        feature_names=tuple(feat_names or ()),
        label_backend=backend,
    )


def load_dataset(spec: ExperimentSpec, store: str | Path, cohort: str | Path) -> Dataset:
    """Read the cohort manifest and the label store and assemble the data set."""
    from footdt.labels.store import LabelStore

    manifest = load_manifest(cohort)
    targets = resolve_targets(spec.targets, spec.peak_stat)
    with LabelStore(store, create=False) as ls:
        rows = ls.query(
            phase=sorted({t.phase for t in targets}),
            bone=sorted({t.bone for t in targets}),
            stat=sorted({t.stat for t in targets}),
            backend=spec.label_backend,
        )
    return assemble(spec, manifest, cohort, rows)
