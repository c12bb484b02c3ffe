"""Training curves: a CSV per fold and seed, and TensorBoard scalars when tensorboard is there."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from footdt.learn.cv import write_tensorboard
from footdt.learn.trainer import History

HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None


def _curve() -> pd.DataFrame:
    from footdt.learn.cv import _curve_frame

    h = History(train_loss=[1.0, 0.5, 0.4], stop_loss=[1.1, 0.9, 0.95], domain_loss=[0, 0, 0])
    return _curve_frame(h)


def test_curve_frame_has_the_early_stopping_loss_per_epoch() -> None:
    c = _curve()
    assert list(c.columns) == ["epoch", "train_loss", "stop_loss"]
    assert c.epoch.tolist() == [1, 2, 3] and c.stop_loss.tolist() == [1.1, 0.9, 0.95]


@pytest.mark.skipif(HAS_TENSORBOARD, reason="tensorboard is installed")
def test_without_tensorboard_nothing_is_written(tmp_path: Path) -> None:
    assert write_tensorboard(tmp_path / "tb", _curve()) is False
    assert not (tmp_path / "tb").exists()


@pytest.mark.skipif(not HAS_TENSORBOARD, reason="tensorboard is not installed")
def test_tensorboard_scalars_are_the_curve(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    assert write_tensorboard(tmp_path / "tb", _curve()) is True
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    tags = acc.Tags()["tensors"] or acc.Tags()["scalars"]
    assert {"loss/train_loss", "loss/stop_loss"} <= set(tags)
