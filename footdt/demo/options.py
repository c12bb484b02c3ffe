"""What ``footdt demo`` runs: sizes, paths and the specs it starts from, checked before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from footdt.errors import FootdtError

SPECS = Path(__file__).resolve().parents[2] / "specs"
#: LOSO with inner folds, conformal intervals and the OOD reference need a few runners.
MIN_RUNNERS = 4
#: Runners of the default demo: the IMU's gain over body mass shows on more targets the more runners
#: there are (the ridge read-out alone beat body mass on 13-19 of 28 targets across 30-runner
#: subsets of a 50-runner cohort, 19-22 with 40, 25 with 50: benchmarks/bench_readout_cv.py,
#: docs/learning.md); 40 runners x 2 trials fit the 15-minute budget with folds trained in parallel.
DEFAULT_RUNNERS = 40


class DemoError(FootdtError):
    """The demo cannot run as asked (bad option, too few solved runners, a moved output)."""


@dataclass(frozen=True)
class DemoOptions:
    """``footdt demo`` options; ``None`` means "as the cohort or experiment spec says"."""

    out: Path = Path("build/demo")
    runners: int = DEFAULT_RUNNERS
    size: float = 5.0  # mm, element size of every foot model
    trials: int | None = None
    strides: int | None = None
    epochs: int | None = None
    seed: int | None = None
    foot_model: str | None = None  # personalised | template
    workers: int = 0  # 0: every available core
    verify: bool = True
    cohort_spec: Path = field(default=SPECS / "cohorts" / "demo.yaml")
    experiment: Path = field(default=SPECS / "experiments" / "demo.yaml")

    def check(self) -> None:
        """One-line ``DemoError`` for values the demo cannot run with."""
        if self.runners < MIN_RUNNERS:
            raise DemoError(
                f"--runners {self.runners}: the demo needs at least {MIN_RUNNERS} runners "
                "(leave-one-subject-out with inner folds, calibrated intervals)"
            )
        from footdt.cohort.spec import check_size

        check_size(self.size, DemoError)
        for name, value, low in (("--trials", self.trials, 1), ("--strides", self.strides, 3),
                                 ("--epochs", self.epochs, 1), ("--seed", self.seed, 0),
                                 ("--workers", self.workers, 0)):  # fmt: skip
            if value is not None and value < low:
                raise DemoError(f"{name} {value}: must be at least {low}")
        if self.foot_model not in (None, "personalised", "template"):
            raise DemoError(f"--foot-model {self.foot_model!r}: use personalised or template")
        for what, path in (("cohort spec", self.cohort_spec), ("experiment", self.experiment)):
            if not path.is_file():
                raise DemoError(f"{path}: the demo's {what} is missing (a broken checkout?)")
        if self.out.exists() and not self.out.is_dir():
            raise DemoError(f"--out {self.out}: exists and is not a directory")

    def n_workers(self) -> int:
        from footdt.pipeline.plan import available_cores

        return self.workers or available_cores()

    def as_dict(self) -> dict[str, object]:
        return {"out": str(self.out), "runners": self.runners, "size_mm": self.size,
                "trials": self.trials, "strides": self.strides, "epochs": self.epochs,
                "seed": self.seed, "foot_model": self.foot_model, "workers": self.n_workers(),
                "verify": self.verify, "cohort_spec": str(self.cohort_spec),
                "experiment": str(self.experiment)}  # fmt: skip
