"""TensorFlow set-up (CPU, threads, determinism), seeding, and the versions recorded with a run."""

from __future__ import annotations

import os
import platform
from typing import Any

_CONFIGURED: dict[str, bool] = {}


def setup_tensorflow(*, deterministic: bool = True, threads: int | None = None) -> Any:
    """Import TensorFlow quietly, on the CPU, with fixed thread pools; return the module.

    Thread pools can only be set before TensorFlow's runtime starts, so the first call wins;
    later calls only switch op determinism on (it cannot be switched off again in a process).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    import tensorflow as tf

    if not _CONFIGURED.get("threads"):
        n = threads or os.cpu_count() or 1
        try:
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # runtime already initialised by someone else: keep its pools
            pass
        _CONFIGURED["threads"] = True
    if deterministic and not _CONFIGURED.get("deterministic"):
        tf.config.experimental.enable_op_determinism()
        _CONFIGURED["deterministic"] = True
    return tf


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``)."""
    import keras

    keras.utils.set_random_seed(int(seed))


def versions() -> dict[str, str]:
    """Versions of everything that can change a result (recorded in ``run.json``)."""
    import numpy as np
    import scipy

    import footdt

    out = {
        "footdt": footdt.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    for name in ("tensorflow", "keras", "optuna", "pandas", "matplotlib"):
        try:
            module = __import__(name)
            out[name] = str(getattr(module, "__version__", "unknown"))
        except ImportError:
            out[name] = "not installed"
    return out
